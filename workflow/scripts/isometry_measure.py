"""Conditional Fisher spectra over depth, or the online-SGD grid over (eta, depth) (dltheory.geometry.isometry)."""

from dltheory.geometry.isometry_measure import run_isometry_sgd, run_isometry_spectra
from dltheory.io import write_table
from dltheory.provenance import provenance_record
from dltheory.runtime import start_job

log = start_job(snakemake.log[0], snakemake.threads)
p = snakemake.params
part = snakemake.wildcards.part
run = run_isometry_spectra if part == "spectra" else run_isometry_sgd
table = run(p.settings, p.seed).assign(part=part)
log.info("%s: %d rows", part, len(table))
write_table(table, snakemake.output[0], provenance_record({"seed": p.seed, "isometry": p.settings}))
