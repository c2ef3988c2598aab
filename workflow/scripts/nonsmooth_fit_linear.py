"""Fit one linear estimator (or k-NN) to every sample size and replicate of one target."""

from dltheory.io import read_arrays, write_table
from dltheory.nonsmooth.experiment import run_linear_estimator
from dltheory.nonsmooth.targets import target_from_config
from dltheory.provenance import provenance_record
from dltheory.runtime import linear_solver_device, start_job

log = start_job(snakemake.log[0], snakemake.threads)
p = snakemake.params
data = read_arrays(snakemake.input[0], required=("train_x", "train_y", "test_x", "test_f"))
target = target_from_config(p.target)
method = snakemake.wildcards.method
device = linear_solver_device(p.linear_device)
table = run_linear_estimator(target, data, method, p.estimator_params, p.sizes, p.seed, p.family, device=device)
write_table(table, snakemake.output[0], provenance_record(dict(p.items())))
log.info("%s on %s (%s): %d rows", method, target.name, device or "numpy", len(table))
