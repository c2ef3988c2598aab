"""Train the DNNs of every sample size and replicate of one target, as one batched model."""

import sys

from dltheory.io import read_arrays, write_table
from dltheory.nonsmooth.dnn import DNNSettings
from dltheory.nonsmooth.experiment import run_dnn
from dltheory.nonsmooth.targets import target_from_config
from dltheory.provenance import provenance_record
from dltheory.runtime import resolve_device, start_job

log = start_job(snakemake.log[0], snakemake.threads)
p = snakemake.params
data = read_arrays(snakemake.input[0], required=("train_x", "train_y", "test_x", "test_f"))
target = target_from_config(p.target)
device = resolve_device(p.device)
progress = None
if sys.__stdout__.isatty():
    from tqdm import tqdm

    bar = tqdm(total=p.dnn["max_steps"], desc=f"dnn {target.name}", file=sys.__stdout__)

    def progress(step, val, active):
        bar.n = step
        bar.set_postfix(val_mse=f"{val:.4f}", active=active)


def log_progress(step, val, active):
    log.info("step %d: mean best validation MSE %.5f, %d models still training", step, val, active)
    if progress:
        progress(step, val, active)


table = run_dnn(target, data, DNNSettings.from_config(p.dnn), p.sizes, p.seed, device, log_progress, p.family)
write_table(table, snakemake.output[0], provenance_record(dict(p.items())))
log.info("dnn on %s (%s): %d rows", target.name, device, len(table))
