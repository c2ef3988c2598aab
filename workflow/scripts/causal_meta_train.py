"""Meta-train Meta-CGNN on fresh cause-first pairs of the synthetic benchmarks; save the model and its curve."""

import time

from dltheory.causal.meta import meta_train, meta_training_pool, save_meta_model, settings_from_mapping
from dltheory.io import write_table
from dltheory.provenance import provenance_record
from dltheory.runtime import resolve_device, start_job
from dltheory.seeds import derive_seed

SYNTHETIC = ("ce_multi", "ce_net", "ce_gauss")

log = start_job(snakemake.log[0], snakemake.threads)
p = snakemake.params
meta = p.meta  # causal.meta_cgnn: the pool and the model
settings = settings_from_mapping(meta["model"])
start = time.perf_counter()
# The pool's seed is named differently from every test set's (evaluation.test_seed): the test pairs are held out.
pool = meta_training_pool(SYNTHETIC, meta["pool_pairs"], meta["pool_points"], derive_seed(p.seed, "causal", "pool"))
log.info("meta-training pool: %d datasets of %d points (%.1f s)", len(pool), pool.shape[1], time.perf_counter() - start)
start = time.perf_counter()
model, history = meta_train(pool, settings, derive_seed(p.seed, "causal", "meta_train"), str(resolve_device(p.device)))
seconds = time.perf_counter() - start
history["seconds_total"] = seconds
log.info("meta-trained %d steps in %.1f s; last loss %.4f", settings.meta_steps, seconds, history["loss"].iloc[-1])
save_meta_model(model.cpu(), snakemake.output.model)
write_table(history, snakemake.output.history, provenance_record({"seed": p.seed, "meta_cgnn": p.meta}))
