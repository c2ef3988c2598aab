"""Score one benchmark's subsamples with one network method (Meta-CGNN or CGNN); scores and seconds, tidy."""

from dltheory.causal.evaluation import long_scores, method_plan, score_plan
from dltheory.causal.meta import load_meta_model
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
model = load_meta_model(snakemake.input.model, device) if method == "meta_cgnn" else None
scores = score_plan(method, plan, p.plan["methods"][method]["settings"],
                    derive_seed(p.seed, "causal", "score", benchmark, method), device, model)
for reason in scores.loc[scores["skipped"] != "", "skipped"].unique():
    log.warning("skipped: %s", reason)
log.info("%s on %s: %d of %d subsamples scored, %.4f s per pair on average", method, benchmark,
         int((scores["skipped"] == "").sum()), len(plan), scores["seconds"].mean())
write_table(long_scores(scores, benchmark, method), snakemake.output[0],
            provenance_record({"seed": p.seed, "causal_plan": p.plan}))
