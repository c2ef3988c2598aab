"""Draw the training samples and test points of one Nakada-Imaizumi setting (sphere or union of balls)."""

import json

import numpy as np

from dltheory.intrinsic.experiment import simulate_setting
from dltheory.io import write_arrays
from dltheory.provenance import provenance_record
from dltheory.runtime import start_job

log = start_job(snakemake.log[0])
p = snakemake.params
data = simulate_setting(p.setting, max(p.sizes), p.replicates, p.noise_variance, p.n_test, p.seed)
provenance = np.array(json.dumps(provenance_record(dict(p.items())), sort_keys=True))
write_arrays(snakemake.output[0], provenance=provenance, **data)
log.info("simulated %s: %s", p.setting["name"], {k: v.shape for k, v in data.items()})
