"""Draw the training samples and test points of one target (non-smooth family, and the region map's cells)."""

import json

import numpy as np

from dltheory.io import write_arrays
from dltheory.nonsmooth.experiment import simulate_target_data
from dltheory.nonsmooth.targets import target_from_config
from dltheory.provenance import provenance_record
from dltheory.runtime import start_job

log = start_job(snakemake.log[0])
p = snakemake.params
target = target_from_config(p.target)
data = simulate_target_data(target, max(p.sizes), p.replicates, p.noise_sd, p.n_test, p.seed, p.family)
provenance = np.array(json.dumps(provenance_record(dict(p.items())), sort_keys=True))
write_arrays(snakemake.output[0], provenance=provenance, **data)
log.info("simulated %s: %s", target.name, {k: v.shape for k, v in data.items()})
