"""Fisher spectra over width of one normalization variant, and its GD grid (dltheory.geometry.batchnorm)."""

from dltheory.geometry.batchnorm import run_variant
from dltheory.io import write_table
from dltheory.provenance import provenance_record
from dltheory.runtime import start_job

log = start_job(snakemake.log[0], snakemake.threads)
p = snakemake.params
variant = snakemake.wildcards.variant
table = run_variant(p.settings, variant, p.seed)
log.info("%s: %d rows", variant, len(table))
write_table(table, snakemake.output[0], provenance_record({"seed": p.seed, "batchnorm": p.settings}))
