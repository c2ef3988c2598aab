"""Score one benchmark's subsamples with CGNN (a network trained per pair; a GPU on the cluster); tidy scores."""

from dltheory.causal.evaluation import long_scores, method_plan, score_plan
from dltheory.io import write_table
from dltheory.provenance import provenance_record
from dltheory.runtime import resolve_device, start_job
from dltheory.seeds import derive_seed

log = start_job(snakemake.log[0], snakemake.threads)
p = snakemake.params
benchmark, method = snakemake.wildcards.benchmark, snakemake.wildcards.method
device = str(resolve_device(p.device))
plan = method_plan(benchmark, method, p.plan, p.seed)
log.info("%s on %s: %d subsamples", method, benchmark, len(plan))
scores = score_plan(method, plan, p.plan["methods"][method]["settings"],
                    derive_seed(p.seed, "causal", "score", benchmark, method), device)
for reason in scores.loc[scores["skipped"] != "", "skipped"].unique():
    log.warning("skipped: %s", reason)
log.info("%s on %s: %d of %d subsamples scored, %.4f s per pair on average", method, benchmark,
         int((scores["skipped"] == "").sum()), len(plan), scores["seconds"].mean())
table = long_scores(scores, benchmark, method)
table["pool"] = "none"  # not trained on a pool
write_table(table, snakemake.output[0],
            provenance_record({"seed": p.seed, "causal_plan": p.plan}))
