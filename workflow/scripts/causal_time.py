"""Time Meta-CGNN and CGNN at CGNN's default settings deciding the same pairs, one pair at a time."""

from dltheory.causal.evaluation import cgnn_settings, method_plan, time_one_pair_at_a_time
from dltheory.causal.meta import load_meta_model
from dltheory.io import write_table
from dltheory.provenance import provenance_record
from dltheory.runtime import resolve_device, start_job
from dltheory.seeds import derive_seed

log = start_job(snakemake.log[0], snakemake.threads)
p = snakemake.params
timing = p.section["timing"]
device = str(resolve_device(p.device))
# The timing pairs: the first of the benchmark's test pairs, one subsample at the timing size.
section = {**p.section, "sizes": [timing["size"]], "subsamples": 1,
           "methods": {"timed": {"max_pairs": timing["pairs"]}}}
plan = method_plan(timing["benchmark"], "timed", section, p.seed)
cgnn = cgnn_settings(timing["cgnn_settings"])
log.info("timing %d pairs of %s at n = %d; CGNN %s", len(plan), timing["benchmark"], timing["size"], cgnn)
table = time_one_pair_at_a_time(plan, load_meta_model(snakemake.input.model, device), cgnn,
                                derive_seed(p.seed, "causal", "time"), device)
table["device"] = device
for method, seconds in table.groupby("method")["seconds"].median().items():
    log.info("%s: median %.4f s per pair", method, seconds)
write_table(table, snakemake.output[0], provenance_record({"seed": p.seed, "causal_timing": p.section}))
