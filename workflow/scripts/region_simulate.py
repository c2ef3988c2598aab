"""Draw every region cell's training samples and test points, and record the did-it-learn references."""

import json

import numpy as np
import pandas as pd

from dltheory.io import write_arrays, write_table
from dltheory.nonsmooth.region_experiment import reference_runs, simulate_cells
from dltheory.provenance import provenance_record
from dltheory.runtime import start_job

log = start_job(snakemake.log[0])
p = snakemake.params
cells = simulate_cells(p.cells, p.sizes, p.replicates, p.noise_sd, p.n_test, p.seed)
provenance = provenance_record(dict(p.items()))
for name, path in zip(p.cells, snakemake.output.data, strict=True):
    write_arrays(path, provenance=np.array(json.dumps(provenance, sort_keys=True)), **cells[name])
references = pd.concat([reference_runs(spec, cells[name], p.sizes, p.seed) for name, spec in p.cells.items()],
                       ignore_index=True)
write_table(references, snakemake.output.references, provenance)
log.info("simulated %d cells; %d reference rows", len(cells), len(references))
