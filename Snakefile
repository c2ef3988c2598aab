# dltheory: figures of deep-learning theory results, regenerated from synthetic data.
# Default: `snakemake --cores all` (every figure, small scale, CPU). Paper scale: --configfile config/paper.yaml.

import os
from pathlib import Path

from snakemake.utils import min_version

from dltheory.config import check_config_file

min_version("9.0")

# Where this file lives: the repository, wherever the run's outputs go (--directory) or when used as a module.
REPO = Path(workflow.current_basedir)
# `snakemake --sdm conda` installs this package from here (envs/dltheory.yaml: `-e ${DLTHEORY_ROOT}`). Set for the
# conda and pip that Snakemake starts, never read from the user's environment (so no `envvars:` to assert).
os.environ.update(DLTHEORY_ROOT=str(REPO))

# The config, key by key: the repository's defaults, then the working directory's config/config.yaml if it has its
# own, then --configfile and --config. A file that is not YAML, empty or not a mapping stops here, naming the file.


configfile: check_config_file(REPO / "config/config.yaml")


if Path("config/config.yaml").exists() and not Path("config/config.yaml").samefile(REPO / "config/config.yaml"):

    configfile: check_config_file(Path("config/config.yaml").absolute())


report: "report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/nonsmooth.smk"
include: "workflow/rules/region.smk"
include: "workflow/rules/intrinsic.smk"
include: "workflow/rules/gan.smk"
include: "workflow/rules/causal.smk"
include: "workflow/rules/geometry.smk"
include: "workflow/rules/embedding.smk"
include: "workflow/rules/overparam.smk"
include: "workflow/rules/resinit.smk"
include: "workflow/rules/selfpaced.smk"
include: "workflow/rules/report.smk"


localrules:
    all,


rule all:
    default_target: True
    input:
        get_final_output(),
