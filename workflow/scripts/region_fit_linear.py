"""Fit one linear estimator to every sample size and replicate of every region cell."""

from dltheory.io import read_arrays, write_table
from dltheory.nonsmooth.region_experiment import linear_runs
from dltheory.provenance import provenance_record
from dltheory.runtime import linear_solver_device, start_job

log = start_job(snakemake.log[0], snakemake.threads)
p = snakemake.params
cells = {name: read_arrays(path, required=("train_x", "train_y", "test_x", "test_f"))
         for name, path in zip(p.cells, snakemake.input, strict=True)}
method = snakemake.wildcards.method
device = linear_solver_device(p.linear_device)
table = linear_runs(p.cells, cells, method, p.estimator_params, p.sizes, p.seed, device=device)
write_table(table, snakemake.output[0], provenance_record(dict(p.items())))
log.info("%s on %d cells (%s): %d rows", method, len(cells), device or "numpy", len(table))
