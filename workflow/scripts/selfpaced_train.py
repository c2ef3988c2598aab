"""Every seed and method of each training size n of this job (NA, CA, SPA at every tau, RND, RandAugment), one n at
a time, each as one batched model, on the config's device (auto: CUDA when present)."""

import pandas as pd

from dltheory.io import write_table
from dltheory.provenance import provenance_record
from dltheory.runtime import resolve_device, start_job
from dltheory.selfpaced.train import run_training

log = start_job(snakemake.log[0], snakemake.threads)
p = snakemake.params
device = str(resolve_device(p.device))
sizes = [int(n) for n in snakemake.wildcards.sizes.split("_")]
tables = []
for n in sizes:
    table = run_training(p.settings, p.seed, n, device)
    final = table[(table.part == "final") & (table.metric == "test_accuracy")]
    log.info("n = %d: mean test accuracy by method and augmentation:\n%s", n,
             final.groupby(["method", "augmentation"]).value.mean())
    tables.append(table)
write_table(pd.concat(tables, ignore_index=True), snakemake.output[0],
            provenance_record({"seed": p.seed, "sizes": sizes, "selfpaced": p.settings}))
