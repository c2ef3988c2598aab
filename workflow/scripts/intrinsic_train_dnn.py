"""Train one network of one setting on every sample size and replicate, as one batched model."""

from dltheory.intrinsic.experiment import run_dnn
from dltheory.io import read_arrays, write_table
from dltheory.nonsmooth.dnn import DNNSettings
from dltheory.provenance import provenance_record
from dltheory.runtime import resolve_device, start_job

log = start_job(snakemake.log[0], snakemake.threads)
p = snakemake.params
data = read_arrays(snakemake.input[0], required=("train_x", "train_y", "test_x", "test_f"))
network = snakemake.wildcards.network


def log_progress(step, val, active):
    log.info("step %d: mean best validation MSE %.5f, %d models still training", step, val, active)


table = run_dnn(p.setting, data, network, DNNSettings.from_config(p.dnn), p.sizes, p.seed,
                resolve_device(p.device), log_progress, output_scale=p.output_init_scale)
write_table(table, snakemake.output[0], provenance_record(dict(p.items())))
log.info("%s on %s: %d rows", network, p.setting["name"], len(table))
