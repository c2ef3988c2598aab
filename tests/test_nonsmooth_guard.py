"""The did-it-learn guard, the hard instances at the critical scale, and the claims that read them (issue 19)."""

import numpy as np
import pandas as pd
import pytest

from dltheory.nonsmooth.analysis import learned_runs, target_claims
from dltheory.nonsmooth.experiment import RUN_COLUMNS
from dltheory.nonsmooth.targets import CriticalScaleTarget, smooth_bump, target_from_config
from dltheory.references import constant_mse, learned, learned_replicates, ridge_mse

SIZES = [256, 512, 1024, 2048, 4096]
HARD = {"name": "hard2d", "dim": 2, "alpha": 2.0, "beta": 2.0, "pieces": 2, "seed": 1, "instance": "critical",
        "boundary_height": 0.4}


# --- references ------------------------------------------------------------------------------------------


def test_ridge_recovers_a_linear_function_and_the_constant_error_is_the_variance():
    rng = np.random.default_rng(0)
    x, test_x = rng.uniform(size=(400, 5)), rng.uniform(size=(2000, 5))
    weights = np.array([1.0, -2.0, 0.5, 0.0, 3.0])
    y = x @ weights + 0.01 * rng.standard_normal(400)
    error, _ = ridge_mse(np.column_stack([x, np.full(400, 0.5)]), y,  # a constant coordinate is harmless
                         np.column_stack([test_x, np.full(2000, 0.5)]), test_x @ weights)
    assert error < 1e-3 * constant_mse(test_x @ weights)
    assert constant_mse(test_x @ weights) == pytest.approx(np.var(test_x @ weights))


def test_a_run_learned_only_below_half_the_constant_error_and_a_replicate_needs_every_run():
    assert list(learned([0.1, 0.49, 0.5, np.nan], 1.0)) == [True, True, False, False]
    flags_a = np.array([[True, True], [True, False], [True, True]])
    flags_b = np.array([[True, True], [True, True], [False, True]])
    assert list(learned_replicates(flags_a, flags_b)) == [True, False, False]


# --- hard instances ----------------------------------------------------------------------------------------


def test_the_bump_is_smooth_supported_in_its_cell_and_peaks_at_one():
    t = np.array([[0.0, 0.0], [0.49, 0.0], [0.5, 0.0], [0.2, -0.6]])
    assert list(smooth_bump(t)[[0, 2, 3]]) == [1.0, 0.0, 0.0] and 0 < smooth_bump(t)[1] < 1e-10


def test_hard_instances_put_their_roughness_at_the_critical_scale():
    target = target_from_config(HARD)
    assert isinstance(target, CriticalScaleTarget)
    X = np.random.default_rng(0).uniform(size=(40_000, 2))
    small, large = target.at(256, 0), target.at(4096, 0)
    # The pieces' bumps have variance ~ h_beta^(2 beta), h_beta ~ n^(-1/(2beta+D)): a factor 16^(-2/3) = 0.157.
    offsets = np.where(small.piece_index(X) == 0, 0.5, -0.5), np.where(large.piece_index(X) == 0, 0.5, -0.5)
    ratio = np.var(large(X) - offsets[1]) / np.var(small(X) - offsets[0])
    assert ratio == pytest.approx(16 ** (-2 / 3), rel=0.25)
    # The boundary stays inside the cube and moves by ~ h_alpha^alpha; pieces differ by the jump.
    u = np.linspace(0, 1, 2001)[:, None]
    assert 0.5 - 0.4 * 0.33**2 <= small.boundary(u).min() and small.boundary(u).max() <= 0.5 + 0.4 * 0.33**2
    assert np.ptp(small.boundary(u)) > 0.5 * 0.4 * small.boundary_width**2
    # Each (n, replicate) draws its own signs; the same (n, replicate) the same function.
    assert not np.array_equal(target.at(256, 1)(X[:1000]), small(X[:1000]))
    assert np.array_equal(target.at(256, 0)(X[:1000]), small(X[:1000]))


def test_a_critical_target_accepts_only_its_own_keys():
    with pytest.raises(ValueError, match="unknown key 'amplitude' for a critical-scale target"):
        target_from_config({**HARD, "amplitude": 0.3})
    with pytest.raises(ValueError, match="boundary stays inside the cube"):
        target_from_config({**HARD, "boundary_height": 2.0})


# --- claims -------------------------------------------------------------------------------------------------


def _table(target, slopes, levels, unlearned=(), replicates=4, pieces=2, seed=0):
    """Run rows with per-replicate log errors = level + slope log n + noise; ``unlearned`` (method, n, r) runs get
    an error above half the constant predictor's (1.0)."""
    rng = np.random.default_rng(seed)
    rows = []
    for method in [*slopes, "constant"]:
        for replicate in range(replicates):
            wobble = 0.02 * rng.standard_normal(len(SIZES))
            for n, w in zip(SIZES, wobble, strict=True):
                value = 1.0 if method == "constant" else np.exp(levels[method] + slopes[method] * np.log(n) + w)
                if (method, n, replicate) in unlearned:
                    value = 0.9
                rows.append({"family": "nonsmooth", "target": target, "dim": 2, "alpha": 2.0, "beta": 2.0,
                             "pieces": pieces, "method": method, "n": n, "replicate": replicate, "seed": 0,
                             "metric": "mse", "value": value, "hyperparameters": "{}", "diverged": False,
                             "diverged_step": -1})
    return pd.DataFrame(rows, columns=RUN_COLUMNS)


def test_an_unlearned_replicate_is_left_out_and_counted():
    table = _table("t", {"dnn": -0.66, "spline": -0.33}, {"dnn": 1.0, "spline": 0.0},
                   unlearned={("dnn", 256, 1)})
    runs = learned_runs(table)
    assert (~runs.learned).sum() == 1
    claims = {c.id: c for c in target_claims(table, "t", 0.95, 0.05)}
    steeper = claims["nonsmooth.t.dnn_steeper_than_spline"]
    assert steeper.holds and "R=3" in steeper.measured and "1 replicate(s) left out" in steeper.detail
    assert not claims["nonsmooth.t.dnn_learns"].holds
    assert "one fixed target" in steeper.detail


def test_the_smooth_control_is_one_sided_and_fails_when_the_dnn_is_steeper():
    steeper = _table("s", {"dnn": -0.9, "spline": -0.66}, {"dnn": 1.0, "spline": 0.0}, pieces=1)
    slower = _table("s", {"dnn": -0.4, "spline": -0.66}, {"dnn": 1.0, "spline": 0.0}, pieces=1)
    (_, fast), (_, slow) = (target_claims(t, "s", 0.95, 0.05) for t in (steeper, slower))
    assert fast.id == "nonsmooth.s.dnn_not_steeper_than_spline" and not fast.holds
    assert slow.holds and "finding: DNN error / spline error" in slow.detail


def test_the_linear_bound_is_claimed_on_hard_instances_only():
    table = _table("h", {"dnn": -0.66, "fourier": -0.3}, {"dnn": 1.0, "fourier": 0.0})
    fixed = [c.id for c in target_claims(table, "h", 0.95, 0.05)]
    hard = {c.id: c for c in target_claims(table, "h", 0.95, 0.05, critical=True)}
    assert not any("linear_bound" in name for name in fixed)
    bound = hard["nonsmooth.h.fourier_no_faster_than_linear_bound"]
    assert bound.holds and float(bound.measured.split()[0]) == pytest.approx(-0.3, abs=0.02)  # >= -0.4 - 0.05
    too_fast = _table("h", {"dnn": -0.66, "fourier": -0.6}, {"dnn": 1.0, "fourier": 0.0})
    assert not {c.id: c for c in target_claims(too_fast, "h", 0.95, 0.05, critical=True)}[
        "nonsmooth.h.fourier_no_faster_than_linear_bound"].holds


def test_claims_carry_the_interval_its_kind_and_the_replicate_count():
    table = _table("h", {"dnn": -0.66, "fourier": -0.3}, {"dnn": 1.0, "fourier": 0.0}, replicates=4)
    claims = {c.id: c for c in target_claims(table, "h", 0.95, 0.05, critical=True)}
    steeper = claims["nonsmooth.h.dnn_steeper_than_fourier"]
    low, high = steeper.interval
    assert low < float(steeper.measured.split()[0]) < high  # the interval of the measured slope difference
    assert f"[{low:+.3f}, {high:+.3f}]" in steeper.measured  # the same numbers the measured text prints
    assert steeper.interval_kind == "95% t-interval over paired replicates" and steeper.replicates == 4
    # A slope of the mean curve and counts of runs have no interval, but rest on the 4 replicates.
    for name in ("nonsmooth.h.fourier_no_faster_than_linear_bound", "nonsmooth.h.dnn_learns"):
        assert claims[name].interval is None and claims[name].replicates == 4
    # An unlearned replicate drops out of the count; the DNN significantly steeper on a smooth target (the whole
    # interval below 0) is a finding, its detail says so.
    dropped = _table("s", {"dnn": -0.9, "spline": -0.66}, {"dnn": 1.0, "spline": 0.0}, pieces=1,
                     unlearned={("dnn", 256, 1)})
    control = target_claims(dropped, "s", 0.9, 0.05)[1]
    assert not control.holds and control.replicates == 3 and control.interval_kind.startswith("90% t-interval")
    assert control.diagnosis == "finding" and control.to_dict()["interval"] == list(control.interval)
    assert control.detail.startswith("Finding at this scale: the whole interval")
