"""Scoring the causal benchmarks (issue 5): the subsample plan, skips with reasons, metrics, claims."""

import numpy as np
import pandas as pd
import pytest

from dltheory.causal.analysis import accuracy_summary, causal_claims, small_data_gaps, speedup
from dltheory.causal.evaluation import (
    Subsample,
    baseline_scorer,
    cgnn_settings,
    decision_credit,
    direction_metrics,
    long_scores,
    method_plan,
    score_batched,
    score_each,
    score_plan,
)
from dltheory.causal.pairs import Pair, synthetic_pairs

SECTION = {
    "test_pairs": 8, "test_points": 120, "sizes": [25, 100, 500], "subsamples": 2,
    "methods": {"reci": {}, "anm": {"max_size": 25, "max_pairs": 3, "subsamples": 1}},
}


def test_every_method_scores_the_same_subsamples_and_small_pairs_are_used_whole():
    reci = method_plan("ce_gauss", "reci", SECTION, seed=3)
    anm = method_plan("ce_gauss", "anm", SECTION, seed=3)
    assert len(reci) == 8 * 3 * 2 and len(anm) == 3 * 1 * 1
    by_key = {(t.pair.name, t.size, t.replicate): t.pair for t in reci}
    for task in anm:
        np.testing.assert_array_equal(task.pair.x, by_key[(task.pair.name, task.size, task.replicate)].x)
    # 120-point pairs at sizes 100 and 500: subsampled to 100, whole at 500
    assert {t.pair.n for t in reci if t.size == 100} == {100} and {t.pair.n for t in reci if t.size == 500} == {120}
    # two replicates at one size are different draws
    first = [t.pair.x for t in reci if t.size == 25 and t.pair.name == "ce_gauss/0"]
    assert not np.array_equal(first[0], first[1])
    # half the test pairs are flipped, so answering "x -> y" always scores 0.5
    assert sum(t.pair.label for t in reci) == 0


def _task(name, x, y, label=1, size=25):
    return Subsample(Pair(name, np.asarray(x, float), np.asarray(y, float), label), size, 0)


def test_an_unusable_pair_is_recorded_with_its_reason_and_scored_by_no_method():
    rng = np.random.default_rng(0)
    good = _task("good", rng.normal(size=40), rng.normal(size=40))
    constant = _task("flat", np.ones(40), rng.normal(size=40))
    with_nan = _task("holes", np.r_[rng.normal(size=39), np.nan], rng.normal(size=40))
    short = _task("short", rng.normal(size=5), rng.normal(size=5))
    plan = [good, constant, with_nan, short]
    calls = []
    each = score_each(plan, lambda x, y: calls.append(len(x)) or 0.3)
    assert calls == [40]
    reasons = each.set_index("pair")["skipped"]
    assert reasons["good"] == ""
    assert "flat" in reasons["flat"] and "constant" in reasons["flat"]
    assert "holes" in reasons["holes"] and "finite" in reasons["holes"]
    assert "short" in reasons["short"] and "10" in reasons["short"]
    assert each.set_index("pair").loc[["flat", "holes", "short"], "score"].isna().all()
    batched = score_batched(plan, lambda tasks: np.full(len(tasks), 0.1))
    assert batched.set_index("pair")["skipped"].equals(reasons)
    # the skipped rows leave the metrics alone: one scored pair, right
    metrics = direction_metrics(each)
    assert metrics["pairs"] == 1 and metrics["accuracy"] == 1.0


def test_batched_scoring_groups_by_size_and_shares_the_batch_time():
    rng = np.random.default_rng(1)
    plan = [_task(f"p{i}", rng.normal(size=n), rng.normal(size=n)) for i, n in enumerate([30, 30, 50])]
    batches = []
    table = score_batched(plan, lambda tasks: batches.append([t.pair.n for t in tasks]) or np.arange(len(tasks)))
    assert sorted(batches) == [[30, 30], [50]]
    assert table.groupby("n_points")["seconds"].nunique().max() == 1  # one share per batch
    long = long_scores(table, "bench", "m")
    assert set(long.metric) == {"score", "seconds"} and len(long) == 6 and set(long.benchmark) == {"bench"}


def test_decisions_metrics_and_weighted_accuracy():
    np.testing.assert_array_equal(decision_credit(np.array([0.2, -0.1, 0.0, np.nan]), np.array([1, 1, -1, 1])),
                                  [1.0, 0.0, 0.5, 0.0])
    scores = pd.DataFrame({"score": [0.9, 0.5, -0.4, -0.8], "label": [1, -1, -1, 1], "weight": [1.0, 3.0, 1.0, 1.0],
                           "skipped": ""})
    metrics = direction_metrics(scores)
    assert metrics["accuracy"] == 0.5
    assert metrics["weighted_accuracy"] == pytest.approx(2.0 / 6.0)  # right: weights 1 and 1 of 6
    assert metrics["auc"] == pytest.approx(0.5)  # positives {0.9, -0.8} against negatives {0.5, -0.4}: 2 of 4


def test_method_settings_are_checked_naming_the_bad_one():
    assert baseline_scorer("reci", {"degree": 2}).keywords == {"degree": 2}
    with pytest.raises(ValueError, match="anm has no setting 'kernel'"):
        baseline_scorer("anm", {"kernel": "rbf"})
    with pytest.raises(ValueError, match="unknown baseline 'lingam'"):
        baseline_scorer("lingam", {})
    assert cgnn_settings({"runs": 2}).runs == 2
    with pytest.raises(ValueError, match="CGNN.epochs: no such setting"):
        cgnn_settings({"epochs": 3})
    with pytest.raises(ValueError, match="meta_cgnn needs a meta-trained model"):
        score_plan("meta_cgnn", [], {}, seed=0)


def test_baselines_score_clean_additive_noise_pairs_mostly_right():
    pairs = synthetic_pairs("ce_gauss", 20, 300, seed=11)
    plan = [Subsample(p, 300, 0) for p in pairs]
    metrics = direction_metrics(score_plan("reci", plan, {}, seed=0))
    assert metrics["pairs"] == 20 and metrics["accuracy"] >= 0.6


def _long(rows):
    table = pd.DataFrame(rows)
    table["metric"], table["skipped"], table["weight"] = "score", "", 1.0
    return table.rename(columns={"score": "value"})


def test_claims_compare_only_baselines_that_scored_every_pair_and_time_ratio():
    rows = []
    for size in (25, 100):
        for i in range(10):
            label = 1 if i % 2 else -1
            rows.append({"benchmark": "b", "method": "meta_cgnn", "pair": i, "size": size, "replicate": 0,
                         "label": label, "score": label * (1 if i < 8 else -1)})  # 8 of 10 right
            rows.append({"benchmark": "b", "method": "reci", "pair": i, "size": size, "replicate": 0,
                         "label": label, "score": label * (1 if i < 7 else -1)})  # 7 of 10 right
            if i < 2:  # CGNN on the first two pairs only, both right: not compared
                rows.append({"benchmark": "b", "method": "cgnn", "pair": i, "size": size, "replicate": 0,
                             "label": label, "score": float(label)})
    summary = accuracy_summary(_long(rows))
    gaps = small_data_gaps(summary)
    assert list(gaps.best_baseline) == ["reci", "reci"] and gaps.gap.round(6).tolist() == [0.1, 0.1]
    timing = pd.DataFrame({"method": ["meta_cgnn", "cgnn"] * 2, "pair": ["a", "a", "b", "b"],
                           "seconds": [0.01, 5.0, 0.02, 3.0], "n_points": 100, "score": 0.0, "label": 1})
    assert speedup(timing) == pytest.approx(np.median([500.0, 150.0]))
    claims = causal_claims(summary, timing, {"accuracy_tolerance": 0.05, "accuracy_band": 0.1, "speedup": 100})
    assert [c.holds for c in claims] == [True, True, True]
    assert claims[1].measured == pytest.approx(0.0)
