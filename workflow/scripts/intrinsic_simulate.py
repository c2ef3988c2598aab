"""Draw the training samples and test points of one Nakada-Imaizumi setting (sphere or union of balls), and record
the did-it-learn references on them (the constant predictor and ridge, every size and replicate)."""

import json

import numpy as np

from dltheory.intrinsic.experiment import run_references, simulate_setting
from dltheory.io import write_arrays, write_table
from dltheory.provenance import provenance_record
from dltheory.runtime import start_job

log = start_job(snakemake.log[0])
p = snakemake.params
data = simulate_setting(p.setting, max(p.sizes), p.replicates, p.noise_variance, p.n_test, p.seed)
provenance = provenance_record(dict(p.items()))
write_arrays(snakemake.output.data, provenance=np.array(json.dumps(provenance, sort_keys=True)), **data)
references = run_references(p.setting, data, p.sizes, p.seed)
write_table(references, snakemake.output.references, provenance)
log.info("simulated %s: %s; references: %d rows", p.setting["name"], {k: v.shape for k, v in data.items()},
         len(references))
