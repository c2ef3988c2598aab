# dltheory: figures of deep-learning theory results, regenerated from synthetic data.
# Default: `snakemake --cores all` (every figure, small scale, CPU). Paper scale: --configfile config/paper.yaml.

from snakemake.utils import min_version

min_version("9.0")


configfile: "config/config.yaml"


report: "report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/nonsmooth.smk"
include: "workflow/rules/region.smk"
include: "workflow/rules/intrinsic.smk"
include: "workflow/rules/gan.smk"
include: "workflow/rules/causal.smk"
include: "workflow/rules/geometry.smk"
include: "workflow/rules/report.smk"


localrules:
    all,


rule all:
    input:
        get_final_output(),
    default_target: True
