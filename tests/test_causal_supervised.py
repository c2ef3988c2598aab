"""The supervised direction classifier (issue 21): RCC-style embeddings and a random forest on the pool."""

import numpy as np
import pytest

from dltheory.causal.evaluation import Subsample, direction_metrics, score_plan
from dltheory.causal.meta import meta_training_pool
from dltheory.causal.pairs import synthetic_pairs
from dltheory.causal.settings import RccSettings
from dltheory.causal.supervised import RccClassifier, rcc_settings


def test_embedding_is_invariant_to_the_order_and_scale_of_the_points():
    classifier = RccClassifier(RccSettings(features=5), seed=0)
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal(50), rng.standard_normal(50)
    order = rng.permutation(50)
    np.testing.assert_allclose(classifier.embed(x, y), classifier.embed(x[order], y[order]))
    np.testing.assert_allclose(classifier.embed(x, y), classifier.embed(3.0 * x + 1.0, 0.5 * y))
    assert classifier.embed(x, y).shape == (3 * 3 * 5,)  # joint, x, y; 3 bandwidths of 5 features


def test_classifier_trained_on_a_pool_decides_fresh_pairs_of_its_families():
    settings = RccSettings(features=20, trees=50, train_sizes=(100, 200))
    pool = meta_training_pool(("ce_gauss",), 150, 200, seed=1)
    classifier = RccClassifier(settings, seed=2).fit(pool, seed=3)
    plan = [Subsample(pair, 200, 0) for pair in synthetic_pairs("ce_gauss", 40, 200, seed=77)]
    metrics = direction_metrics(score_plan("rcc", plan, {}, seed=0, meta_model=classifier))
    assert metrics["pairs"] == 40 and metrics["accuracy"] >= 0.7
    # Deterministic from its seeds.
    again = RccClassifier(settings, seed=2).fit(pool, seed=3)
    np.testing.assert_array_equal(classifier.scores([(p.pair.x, p.pair.y) for p in plan[:5]]),
                                  again.scores([(p.pair.x, p.pair.y) for p in plan[:5]]))


def test_unknown_settings_are_errors_naming_them():
    with pytest.raises(ValueError, match="RCC.depth"):
        rcc_settings({"depth": 3})


def test_pools_and_their_errors():
    import yaml

    from dltheory.config import family_settings

    section = yaml.safe_load(open("config/smoke.yaml"))["causal"]
    settings = family_settings("causal", section)
    # config/smoke.yaml: pool 'all' on CE-Multi and CE-Net, CE-Multi held out in turn, heavy_tailed outside the
    # mix, the known-answer pairs with their own pool
    assert settings.pools() == ["all", "no_ce_multi", "sanity"]
    assert settings.meta_cgnn.pool_families("no_ce_multi") == ("ce_net",)
    assert settings.pool_benchmarks("all") == {"ce_multi": "in-distribution", "heavy_tailed": "held-out",
                                               "tuebingen": "real"}
    assert settings.pool_benchmarks("no_ce_multi") == {"ce_multi": "held-out"}
    assert settings.pool_benchmarks("sanity") == {"sharp_anm": "sanity"}
    assert settings.scored_by("cgnn") == ["ce_multi", "tuebingen"]
    assert settings.scored_by("reci") == ["ce_multi", "heavy_tailed", "sharp_anm", "tuebingen"]
    assert settings.trained() == ["meta_cgnn", "meta_cgnn_contrast", "rcc"]
    assert settings.baselines() == ["cgnn", "anm", "igci", "reci"]
    with pytest.raises(ValueError, match="unknown meta-training pool 'no_ce_gauss'"):
        settings.pool_benchmarks("no_ce_gauss")
    bad = {**section, "meta_cgnn": {**section["meta_cgnn"], "held_out": ["ce_gauss"]}}
    with pytest.raises(ValueError, match="held_out: 'ce_gauss' is not among meta_cgnn.families"):
        family_settings("causal", bad)
    bad = {**section, "meta_cgnn": {**section["meta_cgnn"], "families": ["ce_multi", "sharp_anm"]}}
    with pytest.raises(ValueError, match="families: 'sharp_anm' is not a synthetic family"):
        family_settings("causal", bad)
    bad = {**section, "methods": {**section["methods"], "anm": {"benchmarks": ["ce_gauss"]}}}
    with pytest.raises(ValueError, match="methods.anm.benchmarks: 'ce_gauss' is not among the benchmarks"):
        family_settings("causal", bad)
    bad = {**section, "meta_cgnn": {**section["meta_cgnn"], "sanity": {"model": {"steps": 3}}}}
    with pytest.raises(ValueError, match="sanity.model"):
        family_settings("causal", bad)
    bad = {**section, "meta_cgnn": {**section["meta_cgnn"], "extension": {"contrast_weight": 0.0}}}
    with pytest.raises(ValueError, match="extension.contrast_weight must be > 0"):
        family_settings("causal", bad)
    bad = {**section, "meta_cgnn": {**section["meta_cgnn"], "rcc": {"depth": 2}}}
    with pytest.raises(ValueError, match="depth"):
        family_settings("causal", bad)
