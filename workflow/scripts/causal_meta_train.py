"""Train the pool's methods and score its test benchmarks (issue 21), one job per meta-training pool.

Pool 'all' (the families of meta_cgnn.families): Meta-CGNN without the direction term (headline), with it (the
extension) and the supervised classifier, scored on every benchmark but the known-answer one (its families:
in-distribution; other synthetic families: held-out mechanisms; Tübingen: real data). Pool 'no_<family>': the same
methods trained without that family (the extension only with extension_held_out), scored on that family's test pairs
only. Pool 'sanity': Meta-CGNN alone, trained and scored on the known-answer pairs. Meta-CGNN keeps the checkpoint
of highest accuracy on validation pairs (fresh draws of the pool's families, a seed no test pair uses). Each row
records what it tests (column ``evaluation``).
"""

import time

import pandas as pd

from dltheory.causal.evaluation import long_scores, method_plan, score_plan
from dltheory.causal.meta import meta_train, meta_training_pool, save_meta_model, settings_from_mapping
from dltheory.causal.pairs import synthetic_pairs
from dltheory.causal.supervised import RccClassifier, rcc_settings
from dltheory.io import write_table
from dltheory.provenance import provenance_record
from dltheory.runtime import resolve_device, start_job
from dltheory.seeds import derive_seed

log = start_job(snakemake.log[0], snakemake.threads)
p = snakemake.params
section, pool_name = p.section, snakemake.wildcards.pool
meta = section["meta_cgnn"]
device = str(resolve_device(p.device))
families = p.families
start = time.perf_counter()
# The pool's seed is named differently from every test set's (evaluation.test_seed) and the validation pairs'.
# A held-out pool is the 'all' pool without the held-out family's datasets (the same datasets of the others).
sanity = pool_name == "sanity"
pool_pairs = meta["sanity"]["pool_pairs"] if sanity else meta["pool_pairs"]
pool = meta_training_pool(families, pool_pairs, meta["pool_points"], derive_seed(p.seed, "causal", "pool"))
validation_spec = {"pairs": 40, "size": 100, "every": 250, **meta.get("validation", {})}
validation = [(pair.x, pair.y, pair.label) for family in families
              for pair in synthetic_pairs(family, validation_spec["pairs"], validation_spec["size"],
                                          derive_seed(p.seed, "causal", "validation", family))]
log.info("pool %s (%s): %d datasets of %d points, %d validation pairs (%.1f s)", pool_name, ",".join(families),
         len(pool), pool.shape[1], len(validation), time.perf_counter() - start)

held_out = pool_name.startswith("no_")
methods = [m for m in p.methods if not (held_out and m == "meta_cgnn_contrast" and not meta.get("extension_held_out"))]
if sanity:  # the known-answer case tests Meta-CGNN's machinery: the headline method only
    methods = ["meta_cgnn"]
models, histories = {}, []
for method in methods:
    start = time.perf_counter()
    if method == "rcc":
        models[method] = RccClassifier(rcc_settings(meta.get("rcc", {})), derive_seed(p.seed, "causal", "rcc")).fit(
            pool, derive_seed(p.seed, "causal", "rcc_fit"))
        log.info("rcc trained on %d pairs x 2 orientations in %.1f s", len(pool), time.perf_counter() - start)
        continue
    if sanity:
        overrides = meta["sanity"].get("model", {})
    else:
        overrides = {} if method == "meta_cgnn" else meta.get("extension", {})
    values = {**meta["model"], **overrides}
    settings = settings_from_mapping(values)
    model, history = meta_train(pool, settings, derive_seed(p.seed, "causal", "meta_train", method), device,
                                validation=validation, validate_every=validation_spec["every"])
    history.insert(0, "method", method)
    history["seconds_total"] = time.perf_counter() - start
    histories.append(history)
    chosen = history[history["chosen"]]
    log.info("%s: %d steps in %.1f s; last loss %.4f; chosen step %s (validation accuracy %s)", method,
             settings.meta_steps, time.perf_counter() - start, history["loss"].iloc[-1],
             chosen["step"].tolist(), chosen["validation_accuracy"].tolist())
    models[method] = model
    if method == "meta_cgnn":
        save_meta_model(model.cpu(), snakemake.output.model)
        model.to(device)

tables = []
for benchmark, evaluation in p.evaluations.items():
    for method in methods:
        plan = method_plan(benchmark, method, section, p.seed)
        if sanity and meta["sanity"].get("max_size"):
            plan = [task for task in plan if task.size <= meta["sanity"]["max_size"]]
        start = time.perf_counter()
        scores = score_plan(method, plan, {}, derive_seed(p.seed, "causal", "score", benchmark, method), device,
                            models[method])
        log.info("%s on %s: %d of %d subsamples scored in %.1f s", method, benchmark,
                 int((scores["skipped"] == "").sum()), len(plan), time.perf_counter() - start)
        table = long_scores(scores, benchmark, method)
        table["pool"] = pool_name
        table["evaluation"] = evaluation
        tables.append(table)
write_table(pd.concat(tables, ignore_index=True), snakemake.output.scores,
            provenance_record({"seed": p.seed, "causal": section, "pool": pool_name}))
history = pd.concat(histories, ignore_index=True)
history["pool"] = pool_name
write_table(history, snakemake.output.history, provenance_record({"seed": p.seed, "causal": section}))
