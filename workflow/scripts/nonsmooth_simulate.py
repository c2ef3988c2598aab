"""Draw the training samples and test points of one target (non-smooth family, and the region map's cells), and,
where the rule asks for a second output, fit the did-it-learn references (constant and ridge) on them."""

import json

import numpy as np

from dltheory.io import write_arrays, write_table
from dltheory.nonsmooth.experiment import reference_runs, simulate_target_data
from dltheory.nonsmooth.targets import target_from_config
from dltheory.provenance import provenance_record
from dltheory.runtime import start_job

log = start_job(snakemake.log[0])
p = snakemake.params
target = target_from_config(p.target)
data = simulate_target_data(target, max(p.sizes), p.replicates, p.noise_sd, p.n_test, p.seed, p.family, p.sizes)
record = provenance_record(dict(p.items()))
write_arrays(snakemake.output[0], provenance=np.array(json.dumps(record, sort_keys=True)), **data)
log.info("simulated %s: %s", target.name, {k: v.shape for k, v in data.items()})
if len(snakemake.output) > 1:
    references = reference_runs(target, data, p.sizes, p.seed, p.family)
    write_table(references, snakemake.output[1], record)
    log.info("references on %s: %d rows", target.name, len(references))
