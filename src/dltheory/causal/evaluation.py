"""Scoring cause-effect benchmarks (issue 5): which subsamples are scored, how each method scores them, and the
accuracy, weighted accuracy and AUC of the scores.

Every method sees the same subsamples: a subsample's points depend only on (seed, benchmark, pair, size,
replicate), never on the method. A pair that no method can be run on (constant, non-finite, fewer than
``pairs.MIN_POINTS`` points) is recorded with its reason and scored by none; nothing is guessed for it.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from dltheory.causal.baselines import BASELINES
from dltheory.causal.pairs import (
    GENERATORS,
    InvalidPair,
    Pair,
    load_pairs_csv,
    load_tuebingen,
    orient_at_random,
    subsample,
    synthetic_pairs,
    validate_pair,
)
from dltheory.causal.settings import CgnnSettings, check_baseline_settings
from dltheory.seeds import derive_seed, rng_for
from dltheory.settings import from_config
from dltheory.stats import wilson_interval

REAL_BENCHMARKS = ("tuebingen",)  # the built-in real benchmarks; a user's own (causal.user_benchmarks) are real too
SCORE_COLUMNS = ["pair", "size", "n_points", "replicate", "label", "weight", "score", "seconds", "skipped"]


@dataclass(frozen=True)
class Subsample:
    """One scoring task: ``pair`` restricted to min(size, its points), the ``replicate``-th draw at that size."""

    pair: Pair
    size: int
    replicate: int


def is_real(benchmark: str) -> bool:
    """Real data (Tübingen, a user's CSV of pairs): every benchmark that is not a synthetic generator's."""
    return benchmark not in GENERATORS


def benchmark_pairs(
    benchmark: str, count: int, points: int, seed: int, pairs_csv: str | None = None
) -> tuple[Pair, ...]:
    """The test pairs of a benchmark, with balanced labels: a user benchmark's pairs (``pairs_csv``, a CSV in
    Tübingen's layout) or Tübingen's 99, each oriented at random (``count`` and ``points`` unused), or ``count``
    fresh synthetic pairs of ``points`` points, half of them flipped."""
    if pairs_csv is not None:  # parsed once per file version (load_pairs_csv caches)
        return tuple(orient_at_random(load_pairs_csv(pairs_csv, benchmark), seed))
    return _builtin_pairs(benchmark, count, points, seed)


# Cached: the baselines' job plans each of its methods from the same pairs (which are read-only).
@functools.lru_cache(maxsize=8)
def _builtin_pairs(benchmark: str, count: int, points: int, seed: int) -> tuple[Pair, ...]:
    if benchmark == "tuebingen":
        return tuple(orient_at_random(load_tuebingen(), seed))
    return tuple(synthetic_pairs(benchmark, count, points, seed))


def subsample_plan(
    pairs: Sequence[Pair], sizes: Sequence[int], replicates: int, seed: int, benchmark: str
) -> list[Subsample]:
    """Every (pair, size, replicate) to score, the subsample's points drawn by a generator named by all three (and
    the benchmark), so every method scores the same points. A pair smaller than ``size`` is used whole."""
    plan = []
    for pair in pairs:
        for size in sizes:
            for replicate in range(replicates):
                rng = rng_for(seed, "causal", "subsample", benchmark, pair.name, size, replicate)
                plan.append(Subsample(subsample(pair, size, rng), int(size), replicate))
    return plan


def _row(task: Subsample, score: float, seconds: float, skipped: str = "") -> dict:
    return {
        "pair": task.pair.name,
        "size": task.size,
        "n_points": task.pair.n,
        "replicate": task.replicate,
        "label": task.pair.label,
        "weight": task.pair.weight,
        "score": score,
        "seconds": seconds,
        "skipped": skipped,
    }


def _split_valid(plan: Sequence[Subsample]) -> tuple[list[Subsample], list[dict]]:
    """The tasks a method can score, and a skip row (with the reason) for each one it cannot."""
    valid, skipped = [], []
    for task in plan:
        try:
            validate_pair(task.pair.x, task.pair.y, task.pair.name)
        except InvalidPair as error:
            skipped.append(_row(task, float("nan"), float("nan"), str(error)))
        else:
            valid.append(task)
    return valid, skipped


def score_each(plan: Sequence[Subsample], score: Callable[[np.ndarray, np.ndarray], float]) -> pd.DataFrame:
    """Score every task with ``score(x, y)``, one pair at a time; ``seconds`` is each call's wall time."""
    valid, rows = _split_valid(plan)
    for task in valid:
        start = time.perf_counter()
        value = float(score(task.pair.x, task.pair.y))
        rows.append(_row(task, value, time.perf_counter() - start))
    return pd.DataFrame(rows, columns=SCORE_COLUMNS)


def score_batched(
    plan: Sequence[Subsample], score_batch: Callable[[list[Subsample]], np.ndarray]
) -> pd.DataFrame:
    """Score the tasks in batches of one size (``score_batch(tasks)`` returns one score per task); ``seconds`` is
    the batch's wall time divided by its number of pairs."""
    valid, rows = _split_valid(plan)
    by_points: dict[int, list[Subsample]] = {}
    for task in valid:
        by_points.setdefault(task.pair.n, []).append(task)
    for _, tasks in sorted(by_points.items()):
        start = time.perf_counter()
        scores = np.asarray(score_batch(tasks), dtype=np.float64)
        seconds = (time.perf_counter() - start) / len(tasks)
        rows.extend(_row(task, float(value), seconds) for task, value in zip(tasks, scores, strict=True))
    return pd.DataFrame(rows, columns=SCORE_COLUMNS)


# --- metrics --------------------------------------------------------------------------------------------------


def decision_credit(scores: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """1 where the score's sign is the label, 0 where it is the other sign, ½ for a score of exactly 0 (a method
    that cannot tell is worth a coin flip, not a right answer). NaN scores (diverged fits) get 0."""
    scores = np.asarray(scores, dtype=np.float64)
    credit = (np.sign(scores) == np.asarray(labels)).astype(np.float64)
    credit[scores == 0.0] = 0.5
    return credit


def direction_metrics(scores: pd.DataFrame) -> dict[str, float]:
    """Accuracy, weighted accuracy (Σ w·credit / Σ w: Tübingen's standard metric), ROC AUC and AUPR (average
    precision of the label x → y: the CGNN paper's metric) of one set of scored pairs (columns score, label,
    weight); AUC and AUPR are NaN when only one label is present. Skipped rows are left out. ``pairs``: how many
    were scored; ``effective_pairs``: Kish's (Σw)²/Σw², the pair count a weighted accuracy's interval rests on."""
    # Here, not at the top: only the analysis computes metrics; the scoring jobs import this module without them
    # and scikit-learn costs ~1 s to import.
    from sklearn.metrics import average_precision_score, roc_auc_score

    scored = scores[scores["skipped"].fillna("") == ""]
    if scored.empty:
        return {"accuracy": np.nan, "weighted_accuracy": np.nan, "auc": np.nan, "aupr": np.nan, "pairs": 0,
                "effective_pairs": 0.0}
    credit = decision_credit(scored["score"].to_numpy(), scored["label"].to_numpy())
    weights = scored["weight"].to_numpy(dtype=np.float64)
    finite = np.isfinite(scored["score"].to_numpy())
    labels = scored["label"].to_numpy()[finite]
    values = scored["score"].to_numpy()[finite]
    two = len(set(labels)) == 2
    return {
        "accuracy": float(credit.mean()),
        "weighted_accuracy": float((credit * weights).sum() / weights.sum()),
        "auc": float(roc_auc_score(labels, values)) if two else np.nan,
        "aupr": float(average_precision_score(labels == 1, values)) if two else np.nan,
        "pairs": int(len(scored)),
        "effective_pairs": float(weights.sum() ** 2 / (weights**2).sum()),
    }


def metrics_by_replicate(table: pd.DataFrame) -> pd.DataFrame:
    """``direction_metrics`` per (benchmark, method, size, replicate) of a table of scores, in long format
    (metric, value)."""
    keys = ["benchmark", "method", "size", "replicate"]
    rows = []
    for key, group in table[table["metric"] == "score"].groupby(keys):
        scores = group.rename(columns={"value": "score"})
        for metric, value in direction_metrics(scores).items():
            rows.append({**dict(zip(keys, key, strict=True)), "metric": metric, "value": value})
    return pd.DataFrame(rows)


ACCURACIES = ("accuracy", "weighted_accuracy")


def summarize_over_replicates(by_replicate: pd.DataFrame, confidence: float = 0.95) -> pd.DataFrame:
    """Per (benchmark, method, size, metric): the mean over the subsample replicates and, for the two accuracies,
    a Wilson interval over the pairs (column ``pairs``: the pairs scored; Kish's effective count for the weighted
    accuracy): accuracy over P pairs is a binomial proportion. Subsamples of the same pairs are not independent
    trials, so the interval counts pairs, not pairs × subsamples. Other metrics get no interval (low/high NaN)."""
    keys = ["benchmark", "method", "size"]
    summary = (by_replicate.groupby([*keys, "metric"])["value"].agg(mean="mean", replicates="count")
               .reset_index())
    counts = by_replicate[by_replicate["metric"].isin(["pairs", "effective_pairs"])].pivot_table(
        index=keys, columns="metric", values="value", aggfunc="mean").reset_index()
    summary = summary.merge(counts, on=keys, how="left")
    summary["interval_pairs"] = np.where(summary["metric"] == "weighted_accuracy", summary["effective_pairs"],
                                         summary["pairs"])
    bounds = [wilson_interval(m, n, confidence) if metric in ACCURACIES else (np.nan, np.nan)
              for m, n, metric in zip(summary["mean"], summary["interval_pairs"], summary["metric"], strict=True)]
    summary["low"] = [b[0] for b in bounds]
    summary["high"] = [b[1] for b in bounds]
    return summary.drop(columns=["effective_pairs"])


# --- methods ----------------------------------------------------------------------------------------------------


def baseline_scorer(name: str, settings: dict) -> Callable[[np.ndarray, np.ndarray], float]:
    """The baseline ``name`` (``baselines.BASELINES``) with its configured keyword arguments bound; an unknown
    name or argument is an error naming it."""
    check_baseline_settings(name, settings)
    return functools.partial(BASELINES[name], **settings)


def cgnn_settings(settings: dict) -> CgnnSettings:
    """``CgnnSettings`` with the configured fields replaced; an unknown field is an error naming it."""
    return from_config(CgnnSettings, settings, "CGNN")


def method_plan(
    benchmark: str, method: str, section: dict, seed: int
) -> list[Subsample]:
    """The subsamples ``method`` scores on ``benchmark`` under a config's causal section: the benchmark's test pairs
    (``max_pairs`` of them when the method sets it), at the family's sizes up to the method's ``max_size``, with the
    method's ``subsamples`` (default: the family's). Replicate r is the same subsample for every method. A user
    benchmark's CSV is ``section["user_benchmarks"][benchmark]["pairs"]``."""
    options = section["methods"][method]
    user = section.get("user_benchmarks", {}).get(benchmark)
    pairs = benchmark_pairs(benchmark, section["test_pairs"], section["test_points"], test_seed(seed, benchmark),
                            user["pairs"] if user else None)
    pairs = pairs[: options.get("max_pairs") or len(pairs)]  # absent or None: every pair
    max_size = options.get("max_size")
    sizes = [size for size in section["sizes"] if max_size is None or size <= max_size]
    return subsample_plan(pairs, sizes, options.get("subsamples") or section["subsamples"], seed, benchmark)


def test_seed(seed: int, benchmark: str) -> int:
    """The seed of a benchmark's test pairs (their draws, or Tübingen's orientation); meta-training uses others."""
    return derive_seed(seed, "causal", "test", benchmark)


def score_plan(
    method: str,
    plan: Sequence[Subsample],
    settings: dict,
    seed: int,
    device: str = "cpu",
    meta_model=None,
) -> pd.DataFrame:
    """Scores of every subsample of ``plan`` by ``method`` (columns ``SCORE_COLUMNS``). Meta-CGNN (either variant,
    ``meta_model`` its trained model), the supervised classifier (``meta_model`` its ``RccClassifier``) and CGNN
    score each size's pairs as one batch; the baselines one pair at a time (and never import torch)."""
    if method in ("meta_cgnn", "meta_cgnn_contrast"):
        from dltheory.causal.meta import meta_scores

        if meta_model is None:
            raise ValueError(f"{method} needs a meta-trained model")
        return score_batched(
            plan, lambda tasks: meta_scores(meta_model, [(t.pair.x, t.pair.y) for t in tasks], seed, device)
        )
    if method == "rcc":
        if meta_model is None:
            raise ValueError("rcc needs a trained classifier")
        return score_batched(plan, lambda tasks: meta_model.scores([(t.pair.x, t.pair.y) for t in tasks]))
    if method == "cgnn":
        from dltheory.causal.cgnn import cgnn_scores

        fixed = cgnn_settings(settings)
        return score_batched(
            plan,
            lambda tasks: cgnn_scores(
                [(t.pair.x, t.pair.y) for t in tasks],
                fixed,
                seed,
                device,
                pair_keys=[(t.pair.name, t.size, t.replicate) for t in tasks],
            ),
        )
    return score_each(plan, baseline_scorer(method, settings))


def long_scores(scores: pd.DataFrame, benchmark: str, method: str) -> pd.DataFrame:
    """A scores table in the family's tidy format: one row per (pair, size, replicate, metric ∈ {score, seconds})."""
    identity = [c for c in SCORE_COLUMNS if c not in ("score", "seconds")]
    long = scores.melt(id_vars=identity, value_vars=["score", "seconds"], var_name="metric", value_name="value")
    long.insert(0, "method", method)
    long.insert(0, "benchmark", benchmark)
    return long


def time_one_pair_at_a_time(
    plan: Sequence[Subsample], meta_model, cgnn: CgnnSettings, seed: int, device: str = "cpu"
) -> pd.DataFrame:
    """Seconds Meta-CGNN (``meta_model``: a trained ``MetaCgnn``) and CGNN take to decide each pair of ``plan``
    alone (batches of one): rows (method, pair, n_points, seconds, score, label)."""
    from dltheory.causal.cgnn import cgnn_scores, use_fused_mmd
    from dltheory.causal.meta import meta_scores

    use_fused_mmd(cgnn.fused_mmd, device)  # where CGNN's MMD is fused, compile it now: no pair's time includes that
    deciders = {
        "meta_cgnn": lambda pair, key: meta_scores(meta_model, pair, seed, device),
        "cgnn": lambda pair, key: cgnn_scores(pair, cgnn, seed, device, pair_keys=[key]),
    }
    rows = []
    for task in plan:
        for method, decide in deciders.items():
            start = time.perf_counter()
            score = float(decide([(task.pair.x, task.pair.y)], task.pair.name)[0])
            rows.append({"method": method, "pair": task.pair.name, "n_points": task.pair.n,
                         "seconds": time.perf_counter() - start, "score": score, "label": task.pair.label})
    return pd.DataFrame(rows)
