"""Fisher spectra over width and the T-M diagram, or the GD grid over (eta, M) (dltheory.geometry.batchnorm)."""

from dltheory.geometry.batchnorm_measure import run_gd, run_spectra
from dltheory.io import write_table
from dltheory.provenance import provenance_record
from dltheory.runtime import start_job

log = start_job(snakemake.log[0], snakemake.threads)
p = snakemake.params
part = snakemake.wildcards.part
run = run_spectra if part == "spectra" else run_gd
table = run(p.settings, p.seed).assign(part=part)
log.info("%s: %d rows", part, len(table))
write_table(table, snakemake.output[0], provenance_record({"seed": p.seed, "batchnorm": p.settings}))
