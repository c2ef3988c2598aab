"""Train the DNNs of every region cell, sample size and replicate: one batched model per sample size."""

import sys

from dltheory.io import read_arrays, write_table
from dltheory.nonsmooth.dnn import DNNSettings
from dltheory.nonsmooth.region_experiment import dnn_runs
from dltheory.provenance import provenance_record
from dltheory.runtime import resolve_device, start_job

log = start_job(snakemake.log[0], snakemake.threads)
p = snakemake.params
cells = {name: read_arrays(path, required=("train_x", "train_y", "test_x", "test_f"))
         for name, path in zip(p.cells, snakemake.input, strict=True)}
device = resolve_device(p.device)
bar = None
if sys.__stdout__.isatty():
    from tqdm import tqdm

    bar = tqdm(total=p.dnn["max_steps"], desc="region dnn", file=sys.__stdout__)


def log_progress(n, step, val, active):
    log.info("n=%d step %d: mean best validation MSE %.5f, %d models still training", n, step, val, active)
    if bar is not None:
        bar.n = step
        bar.set_postfix(n=n, val_mse=f"{val:.4f}", active=active)


table = dnn_runs(p.cells, cells, DNNSettings.from_config(p.dnn), p.sizes, p.seed, device, log_progress)
write_table(table, snakemake.output[0], provenance_record(dict(p.items())))
log.info("dnn on %d cells (%s): %d rows", len(cells), device, len(table))
