"""Fisher and input-metric spectra, linear against softmax output (dltheory.geometry.spectra)."""

from dltheory.geometry.spectra_measure import run_spectra
from dltheory.io import write_table
from dltheory.provenance import provenance_record
from dltheory.runtime import start_job

log = start_job(snakemake.log[0], snakemake.threads)
p = snakemake.params
table = run_spectra(p.settings, p.seed)
log.info("%d eigenvalues", len(table))
write_table(table, snakemake.output[0], provenance_record({"seed": p.seed, "spectra": p.settings}))
