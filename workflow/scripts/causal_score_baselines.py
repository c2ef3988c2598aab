"""Score one benchmark's subsamples with the classical baselines that score it (ANM, IGCI, RECI); one tidy table.
They run on the CPU, one pair at a time, and the job never imports torch (its start-up would cost seconds)."""

import pandas as pd

from dltheory.causal.evaluation import long_scores, method_plan, score_plan
from dltheory.io import write_table
from dltheory.provenance import provenance_record
from dltheory.runtime import start_job
from dltheory.seeds import derive_seed

log = start_job(snakemake.log[0], snakemake.threads)
p = snakemake.params
benchmark = snakemake.wildcards.benchmark
tables = []
for method in p.methods:
    plan = method_plan(benchmark, method, p.plan, p.seed)
    scores = score_plan(method, plan, p.plan["methods"][method]["settings"],
                        derive_seed(p.seed, "causal", "score", benchmark, method))
    for reason in scores.loc[scores["skipped"] != "", "skipped"].unique():
        log.warning("%s skipped: %s", method, reason)
    log.info("%s on %s: %d of %d subsamples scored, %.4f s per pair on average", method, benchmark,
             int((scores["skipped"] == "").sum()), len(plan), scores["seconds"].mean())
    table = long_scores(scores, benchmark, method)
    table["pool"] = "none"  # not trained on a pool
    tables.append(table)
write_table(pd.concat(tables, ignore_index=True), snakemake.output[0],
            provenance_record({"seed": p.seed, "causal_plan": p.plan}))
