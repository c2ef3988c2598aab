"""Signal statistics at initialisation against depth, and the trainability sweep over init scale x depth."""

import pandas as pd

from dltheory.io import write_table
from dltheory.provenance import provenance_record
from dltheory.resinit.statistics import run_statistics
from dltheory.resinit.training import run_sweep
from dltheory.runtime import resolve_device, start_job

log = start_job(snakemake.log[0], snakemake.threads)
p = snakemake.params
device = resolve_device(p.device)
statistics = run_statistics(p.settings, p.seed, device)
log.info("statistics: %d rows", len(statistics))
sweep = run_sweep(p.settings, p.seed, device)
accuracy = sweep[sweep.metric == "test_accuracy"]
log.info("median test accuracy:\n%s", accuracy.pivot_table(index=["depth", "variant"], columns="scale",
                                                            values="value", aggfunc="median"))
write_table(pd.concat([statistics, sweep], ignore_index=True), snakemake.output[0],
            provenance_record({"seed": p.seed, "resinit": p.settings}))
