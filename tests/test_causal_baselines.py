"""ANM, IGCI and RECI direction scores (issue 5): agreement with cdt 0.6.0, direction on clear pairs, antisymmetry,
input validation."""

import functools
import importlib
import importlib.util
from pathlib import Path
from unittest import mock

import numpy as np
import pandas as pd
import pytest
from scipy.stats import pearsonr
from sklearn.gaussian_process import GaussianProcessRegressor
from threadpoolctl import threadpool_limits

from dltheory.causal.baselines import (
    BASELINES,
    anm_score,
    hsic_statistic,
    igci_score,
    polynomial_mse,
    reci_score,
)

N_POINTS = 300
# Tübingen pairs (cdt's numbering; original ids 0001, 0005, 0020, 0043): 349, 4177 (abalone: integer rings, many
# ties), 349 and 10,369 points, the larger two subsampled to N_POINTS.
TUEBINGEN_PAIRS = ("pair1", "pair5", "pair20", "pair43")


@functools.cache
def clear_synthetic_pairs() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Additive-noise pairs with x -> y whose direction every method should get: uniform cause, invertible
    non-linear mechanism, small independent noise."""
    rng = np.random.default_rng(5)
    cubic_cause = rng.uniform(-1.0, 1.0, N_POINTS)
    tanh_cause = rng.uniform(-1.0, 1.0, N_POINTS)
    exp_cause = rng.uniform(0.0, 2.0, N_POINTS)
    return {
        "cubic": (cubic_cause, cubic_cause**3 + 0.05 * rng.standard_normal(N_POINTS)),
        "tanh": (tanh_cause, np.tanh(2.0 * tanh_cause) + rng.uniform(-0.1, 0.1, N_POINTS)),
        "exp": (exp_cause, np.exp(exp_cause) + 0.1 * rng.standard_normal(N_POINTS)),
    }


@functools.cache
def tuebingen_table() -> pd.DataFrame:
    """cdt's copy of the Tübingen pairs: one row per pair, each A/B cell a string of space-separated numbers."""
    cdt_root = Path(importlib.util.find_spec("cdt").submodule_search_locations[0])
    return pd.read_csv(cdt_root / "data" / "resources" / "Tuebingen_pairs.csv", index_col="SampleID")


def tuebingen_pair(name: str) -> tuple[np.ndarray, np.ndarray]:
    """One pair (A is the cause in cdt's copy), subsampled without replacement to at most N_POINTS points."""
    row = tuebingen_table().loc[name]
    a, b = np.array(row["A"].split(), dtype=float), np.array(row["B"].split(), dtype=float)
    if len(a) > N_POINTS:
        keep = np.sort(np.random.default_rng(0).choice(len(a), size=N_POINTS, replace=False))
        a, b = a[keep], b[keep]
    return a, b


@functools.cache
def cross_check_pairs() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The clear synthetic pairs, their flips (y -> x), and the Tübingen pairs."""
    pairs = {}
    for name, (x, y) in clear_synthetic_pairs().items():
        pairs[name] = (x, y)
        pairs[f"{name}-flipped"] = (y, x)
    for name in TUEBINGEN_PAIRS:
        pairs[name] = tuebingen_pair(name)
    return pairs


class GaussianProcessAsCdtExpects(GaussianProcessRegressor):
    """sklearn's GP regressor as cdt 0.6.0's ``ANM`` was written against: fixed default kernel, 2-D predictions.

    Two later sklearn changes break cdt's ANM in this venv. Since scikit-learn 1.1 (PR #22199) ``predict`` returns
    shape (n,) for a target of shape (n, 1), so cdt's ``y_predict - y`` becomes an n x n matrix whose rows differ
    only by the constants y_i: HSIC(residual, x) collapses to HSIC(y, x), the same both ways, and the score is 0 up
    to rounding. Since scikit-learn 1.9 (PR #32964) the default kernel's hyperparameters are fitted, with no noise
    term, so the GP interpolates the noise. Undoing both runs cdt's own code as its authors meant it.
    """

    def __init__(self, **kwargs):
        super().__init__(optimizer=None, **kwargs)

    def predict(self, X):
        return super().predict(X).reshape(-1, 1)


@functools.cache
def cdt_models() -> dict:
    from cdt.causality.pairwise import ANM, IGCI, RECI

    return {"anm": ANM(), "igci": IGCI(), "reci": RECI()}


def cdt_anm_module():
    # ``cdt.causality.pairwise.ANM`` is shadowed by the class of the same name, so fetch the module itself.
    return importlib.import_module("cdt.causality.pairwise.ANM")


@functools.cache
def anm_scores() -> dict[str, tuple[float, float]]:
    """(ours, cdt's as its authors meant it) ANM score for every cross-check pair; cached, as each costs GP fits."""
    with mock.patch.object(cdt_anm_module(), "GaussianProcessRegressor", GaussianProcessAsCdtExpects):
        return {
            name: (anm_score(x, y), float(cdt_models()["anm"].predict_proba((x, y))))
            for name, (x, y) in cross_check_pairs().items()
        }


@pytest.fixture(autouse=True, scope="module")
def one_blas_thread():
    # As pipeline jobs run (dltheory.runtime.start_job): on 2 cores shared with other jobs, multithreaded OpenBLAS
    # on 300 x 300 GP matrices spends most of its time contending for cores (measured 0.3 s against 4 s per fit).
    with threadpool_limits(1):
        yield


# --- agreement with cdt -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(cross_check_pairs()))
def test_igci_matches_cdt(name):
    x, y = cross_check_pairs()[name]
    expected = cdt_models()["igci"].predict_proba((x, y), ref_measure="gaussian", estimator="entropy")
    assert igci_score(x, y) == pytest.approx(expected, rel=1e-6, abs=1e-12)


@pytest.mark.parametrize("name", list(cross_check_pairs()))
def test_reci_with_cdt_quirk_matches_cdt(name):
    x, y = cross_check_pairs()[name]
    expected = cdt_models()["reci"].predict_proba((x, y))
    assert reci_score(x, y, cdt_quirk=True) == pytest.approx(expected, rel=1e-6, abs=1e-12)


@pytest.mark.parametrize("n", [50, 200, 347, 1000])
def test_hsic_statistic_is_cdts_normalized_hsic(n):
    # Our HSIC must be cdt's statistic, including its evenly spaced 200-point subsample (n = 347 and 1000).
    from cdt.causality.pairwise.ANM import normalized_hsic

    rng = np.random.default_rng(n)
    a = rng.standard_normal(n)
    b = np.sin(3 * a) + 0.3 * rng.standard_normal(n)
    assert hsic_statistic(b, a) == pytest.approx(normalized_hsic(b, a), rel=1e-9)


def test_cdt_anm_as_shipped_is_degenerate_here():
    # Why the cross-check patches sklearn (see GaussianProcessAsCdtExpects): with 1-D predictions cdt's ANM scores
    # a clear x -> y pair as 0. Only the fixed kernel is restored here, which keeps this check fast.
    x, y = clear_synthetic_pairs()["cubic"]

    class FixedKernelOnly(GaussianProcessRegressor):
        def __init__(self, **kwargs):
            super().__init__(optimizer=None, **kwargs)

    with mock.patch.object(cdt_anm_module(), "GaussianProcessRegressor", FixedKernelOnly):
        assert abs(cdt_models()["anm"].predict_proba((x, y))) < 1e-6
    assert anm_score(x, y) > 1.0


def test_anm_agrees_with_cdt_on_clear_pairs():
    # Same HSIC statistic, different regressions (cdt: fixed unit length scale, jitter 1e-10; ours: hyperparameters
    # by marginal likelihood). On clear additive-noise pairs both smooths recover the same function, so both pick
    # the true direction and the scores are close (measured: within 8 %).
    scores = anm_scores()
    for name in clear_synthetic_pairs():
        for key, sign in ((name, 1), (f"{name}-flipped", -1)):
            ours, cdt = scores[key]
            assert np.sign(ours) == np.sign(cdt) == sign, (key, ours, cdt)
            assert ours == pytest.approx(cdt, rel=0.15), key


def test_anm_values_correlate_with_cdt():
    # Pearson over all ten pairs (synthetic, their flips, Tübingen; measured 0.99). The flips and the large
    # synthetic scores carry most of this; on the noisy, discretized Tübingen pairs the two regressions differ
    # enough that scores can disagree (pair5: ours -0.10, cdt +0.11), so no sign agreement is asserted there.
    ours, cdt = np.array(list(anm_scores().values())).T
    assert pearsonr(ours, cdt).statistic > 0.9


# --- direction and antisymmetry ---------------------------------------------------------------------------------


@pytest.mark.parametrize("method", sorted(BASELINES))
@pytest.mark.parametrize("name", list(clear_synthetic_pairs()))
def test_right_direction_on_clear_pairs(method, name):
    x, y = clear_synthetic_pairs()[name]
    assert BASELINES[method](x, y) > 0
    assert BASELINES[method](y, x) < 0


@pytest.mark.parametrize("method", sorted(BASELINES))
@pytest.mark.parametrize("name", ["tanh", "pair1"])
def test_scores_are_antisymmetric(method, name):
    # All three are differences of one quantity computed each way, so swapping x and y negates them exactly
    # (up to rounding); ANM too, since its subsample and its GP optimizer are deterministic.
    x, y = cross_check_pairs()[name]
    assert BASELINES[method](y, x) == pytest.approx(-BASELINES[method](x, y), rel=1e-9, abs=1e-12)


def test_anm_subsample_is_seeded_and_antisymmetric():
    x, y = clear_synthetic_pairs()["tanh"]
    score = anm_score(x, y, max_points=100, seed=3)
    assert anm_score(x, y, max_points=100, seed=3) == score
    assert anm_score(y, x, max_points=100, seed=3) == pytest.approx(-score, rel=1e-9)
    assert score > 0


def test_full_polynomial_fits_at_least_as_well_as_cdts_reduced_one():
    # The published RECI regression nests cdt's (powers 0 and 3 only), so its training error can only be smaller.
    x, y = clear_synthetic_pairs()["tanh"]
    assert polynomial_mse(x, y, 3, cdt_quirk=False) <= polynomial_mse(x, y, 3, cdt_quirk=True)
    assert polynomial_mse(y, x, 3, cdt_quirk=False) <= polynomial_mse(y, x, 3, cdt_quirk=True)


# --- input validation -------------------------------------------------------------------------------------------


def bad_inputs() -> list[tuple[str, np.ndarray, np.ndarray, str]]:
    good = np.linspace(0.0, 1.0, 20)
    with_nan, with_inf = good.copy(), good.copy()
    with_nan[3], with_inf[5] = np.nan, np.inf
    return [
        ("nan", with_nan, good, "non-finite values .*1 in x"),
        ("inf", good, with_inf, "non-finite values .*1 in y"),
        ("length", good, good[:-1], "different lengths"),
        ("too-few", good[:9], good[:9] ** 2, "9 points, fewer than the 10"),
        ("constant", good, np.ones(20), "y constant"),
        ("2-d", good.reshape(4, 5), good.reshape(4, 5), "must be 1-d"),
    ]


@pytest.mark.parametrize("method", sorted(BASELINES))
@pytest.mark.parametrize(("case", "x", "y", "message"), bad_inputs(), ids=[case[0] for case in bad_inputs()])
def test_bad_inputs_raise_value_error(method, case, x, y, message):
    with pytest.raises(ValueError, match=message):
        BASELINES[method](x, y)
