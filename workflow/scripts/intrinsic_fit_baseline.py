"""Fit k-NN or Nadaraya-Watson (CV-tuned) to every sample size and replicate of one setting."""

from dltheory.intrinsic.experiment import run_baseline
from dltheory.io import read_arrays, write_table
from dltheory.provenance import provenance_record
from dltheory.runtime import start_job

log = start_job(snakemake.log[0], snakemake.threads)
p = snakemake.params
data = read_arrays(snakemake.input[0], required=("train_x", "train_y", "test_x", "test_f"))
method = snakemake.wildcards.method
table = run_baseline(p.setting, data, method, p.baseline_params, p.sizes, p.seed)
write_table(table, snakemake.output[0], provenance_record(dict(p.items())))
log.info("%s on %s: %d rows", method, p.setting["name"], len(table))
