"""Random ReLU features on digits: ridgeless and ridge fits over N/n, clean and noisy labels (no torch)."""

from dltheory.io import write_table
from dltheory.overparam.random_features import run_random_features_sweep
from dltheory.provenance import provenance_record
from dltheory.runtime import start_job

log = start_job(snakemake.log[0], snakemake.threads)
p = snakemake.params
table = run_random_features_sweep(p.settings, p.seed)
log.info("%d rows of random-features fits", len(table))
write_table(table, snakemake.output[0], provenance_record({"seed": p.seed, "overparam": p.settings}))
