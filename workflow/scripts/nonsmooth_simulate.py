"""Draw the training samples and test points of one target."""

from dltheory.io import write_arrays
from dltheory.nonsmooth.experiment import simulate_target_data
from dltheory.nonsmooth.targets import target_from_config
from dltheory.runtime import start_job

log = start_job(snakemake.log[0])
p = snakemake.params
target = target_from_config(p.target)
data = simulate_target_data(target, max(p.sizes), p.replicates, p.noise_sd, p.n_test, p.seed)
write_arrays(snakemake.output[0], **data)
log.info("simulated %s: %s", target.name, {k: v.shape for k, v in data.items()})
