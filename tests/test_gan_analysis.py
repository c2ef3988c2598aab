"""GAN analysis (issue 4): converged fractions, stable learning-rate ranges, step-size decay and the four claims."""

import numpy as np
import pandas as pd
import pytest

from dltheory.gan.analysis import (
    converged_fractions,
    gan_claims,
    stability_map,
    stable_learning_rates,
    step_size_decay,
)

RATES = (0.01, 0.1, 1.0)


def _runs(pattern: dict[tuple[str, str], list[int]]) -> pd.DataFrame:
    """Runs table: for each (variant, activation), how many of 2 seeds converge at each rate of RATES."""
    rows = []
    for (variant, activation), counts in pattern.items():
        for rate, count in zip(RATES, counts, strict=True):
            for seed in range(2):
                rows.append({"dataset": "ring", "variant": variant, "activation": activation, "learning_rate": rate,
                             "seed": seed, "diverged": False, "max_step_size": 0.0, "max_wasserstein1": 0.0,
                             "converged": seed < count})
    return pd.DataFrame(rows)


PATTERN = {
    ("sn_wasserstein", "relu"): [0, 0, 0], ("sn_wasserstein", "elu"): [1, 0, 0],
    ("sn_gp", "relu"): [1, 1, 0], ("sn_gp", "elu"): [2, 1, 0],
    ("smoothed", "relu"): [1, 2, 0], ("smoothed", "elu"): [2, 2, 1],
    ("non_saturating", "relu"): [0, 0, 0], ("non_saturating", "elu"): [1, 0, 0],
}


def _step_sizes(decays: dict[str, float], diverged: tuple[str, ...] = ()) -> pd.DataFrame:
    """Step-size metrics at lr 0.1 on the ring: step size 1 early, ``decays[variant]`` late."""
    rows = []
    for variant, late in decays.items():
        for step in (100, 200, 900, 1000):
            value = 1.0 if step <= 200 else late
            rows.append({"dataset": "ring", "variant": variant, "activation": "elu", "learning_rate": 0.1, "seed": 0,
                         "step": step, "metric": "generator_step_size", "value": value,
                         "diverged": variant in diverged, "diverged_step": 500 if variant in diverged else -1})
    return pd.DataFrame(rows)


def test_fractions_and_maps_count_seeds():
    runs = _runs(PATTERN)
    fractions = converged_fractions(runs)
    assert fractions.loc[("smoothed", "elu"), "converged"] == pytest.approx(5 / 6)
    assert fractions.loc[("sn_wasserstein", "relu"), "converged_runs"] == 0
    cells = stability_map(runs).set_index(["variant", "activation", "learning_rate"])
    assert cells.loc[("sn_gp", "elu", 0.01), "converged"] == 1.0 and cells.loc[("sn_gp", "elu", 0.01), "runs"] == 2


def test_stable_range_counts_cells_where_half_the_seeds_converge():
    ranges = stable_learning_rates(_runs(PATTERN)).set_index("variant")
    # smoothed: relu 0.01, 0.1 and elu 0.01, 0.1, 1.0 (1 of 2 seeds is half): 5 cells; sn_gp: relu 0.01, 0.1 and
    # elu 0.01, 0.1: 4 cells; sn_wasserstein: elu 0.01 only; non_saturating: elu 0.01 only
    assert ranges.loc["smoothed", "n_stable"] == 5 and ranges.loc["smoothed", "largest"] == 1.0
    assert ranges.loc["sn_gp", "n_stable"] == 4
    assert ranges.loc["sn_wasserstein", "n_stable"] == 1 and ranges.loc["sn_wasserstein", "smallest"] == 0.01
    none = _runs({("sn_gp", "relu"): [0, 0, 0]})
    assert np.isnan(stable_learning_rates(none).set_index("variant").loc["sn_gp", "largest"])


def test_step_size_decay_is_late_over_early_and_infinite_after_divergence():
    decay = step_size_decay(_step_sizes({"smoothed": 0.1, "non_saturating": 0.9, "sn_gp": 0.1}, ("sn_gp",)),
                            "ring", 0.1).set_index("variant")
    assert decay.loc["smoothed", "ratio"] == pytest.approx(0.1)
    assert decay.loc["non_saturating", "ratio"] == pytest.approx(0.9)
    assert decay.loc["sn_gp", "ratio"] == np.inf


def test_claims_hold_on_a_table_built_to_satisfy_them():
    claims = {c.id: c for c in gan_claims(_runs(PATTERN), _step_sizes({"smoothed": 0.1, "non_saturating": 0.9}),
                                          ("ring", 0.1))}
    assert set(claims) == {"gan.sn_alone_fails", "gan.smooth_activations_help", "gan.smoothed_widest_range",
                           "gan.eventual_stationarity"}
    assert all(c.holds and c.ours for c in claims.values())
    assert "SN alone 1/12" in claims["gan.sn_alone_fails"].measured


def test_claims_fail_when_the_measurements_say_otherwise():
    reversed_pattern = {**PATTERN, ("sn_wasserstein", "relu"): [2, 2, 2], ("smoothed", "elu"): [0, 0, 0],
                        ("smoothed", "relu"): [0, 0, 0]}
    claims = {c.id: c for c in gan_claims(_runs(reversed_pattern),
                                          _step_sizes({"smoothed": 0.9, "non_saturating": 0.1}), ("ring", 0.1))}
    assert not claims["gan.sn_alone_fails"].holds
    assert not claims["gan.smoothed_widest_range"].holds  # smoothed has no stable rate at all
    assert not claims["gan.eventual_stationarity"].holds


def test_claims_whose_variants_did_not_run_are_skipped():
    only = {k: v for k, v in PATTERN.items() if k[0] in ("sn_gp", "non_saturating")}
    ids = {c.id for c in gan_claims(_runs(only), _step_sizes({"non_saturating": 0.9}), ("ring", 0.1))}
    assert ids == {"gan.smooth_activations_help"}
