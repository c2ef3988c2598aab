"""Specifications of the linear estimators (and k-NN) compared with DNNs (Imaizumi & Fukumizu, JMLR 2022).

Each estimator must (i) reproduce a function its model class contains, (ii) choose its tuning parameters
sensibly by cross-validation, with the fast LOO formulas equal to brute-force refits, (iii) be
deterministic given its seed, and (iv) be built by ``make_estimator`` from configuration entries.
"""

import numpy as np
import pytest
from scipy.interpolate import BSpline
from scipy.linalg import cholesky_banded
from sklearn.base import clone
from sklearn.neighbors import KNeighborsRegressor

from dltheory.nonsmooth.estimators import (
    ESTIMATORS,
    LINEAR_ESTIMATORS,
    FourierSeriesRegressor,
    GaussianKernelRidge,
    GaussianProcessRegression,
    KNearestNeighborsRegressor,
    TensorBSplineRegressor,
    _band_of_inverse,
    make_estimator,
)


def uniform(n, dim, seed):
    return np.random.default_rng(seed).uniform(size=(n, dim))


def gaussian_bumps(X, width=0.2):
    """A finite kernel expansion: an element of the RKHS of the Gaussian kernel of this width."""
    centres = np.array([[0.2, 0.3], [0.7, 0.8], [0.6, 0.2], [0.3, 0.75]])
    weights = np.array([1.0, -0.7, 0.5, 0.8])
    squared = ((X[:, None, :] - centres[None]) ** 2).sum(-1)
    return np.exp(-squared / (2 * width**2)) @ weights


def jump_target(X):
    """Smooth part plus a jump along the line x2 = 0.3 + 0.4 x1: a piecewise-smooth target."""
    return np.sin(2 * np.pi * X[:, 0]) + (X[:, 1] > 0.3 + 0.4 * X[:, 0])


def mse(a, b):
    return float(np.mean((a - b) ** 2))


# --- exact recovery of a member of the model class -------------------------------------------------------


def test_fourier_recovers_a_cosine_polynomial_to_test_mse_below_1e_minus_6():
    def f(X):
        c1, c2 = np.cos(np.pi * X[:, 0]), np.cos(np.pi * X[:, 1])
        return 1 + 0.5 * c1 - 0.3 * (2 * c2**2 - 1) + 0.2 * c1 * np.cos(3 * np.pi * X[:, 1])

    X, X_test = uniform(400, 2, 0), uniform(2000, 2, 1)
    est = FourierSeriesRegressor().fit(X, f(X))
    assert est.n_frequencies_ >= 4  # the target uses frequencies 0..3
    assert mse(est.predict(X_test), f(X_test)) < 1e-6


def test_spline_recovers_a_product_of_cubics_to_test_mse_below_1e_minus_6():
    def f(X):
        return (X[:, 0] ** 3 - 0.5 * X[:, 0]) * (1 + X[:, 1] - 2 * X[:, 1] ** 3)

    X, X_test = uniform(400, 2, 0), uniform(2000, 2, 1)
    est = TensorBSplineRegressor().fit(X, f(X))
    assert est.ridge_ == 1e-6  # noise-free: no shrinkage wanted
    assert mse(est.predict(X_test), f(X_test)) < 1e-6


def test_spline_recovers_a_product_of_cubics_in_three_dimensions_to_test_mse_below_1e_minus_6():
    def f(X):
        return (X[:, 0] ** 3 - X[:, 1]) * (1 + X[:, 2] ** 2)

    X, X_test = uniform(600, 3, 0), uniform(2000, 3, 1)
    est = TensorBSplineRegressor().fit(X, f(X))
    assert mse(est.predict(X_test), f(X_test)) < 1e-6


def test_kernel_ridge_recovers_gaussian_bumps_of_its_width_to_test_mse_below_1e_minus_3():
    X, X_test = uniform(500, 2, 0), uniform(2000, 2, 1)
    y = gaussian_bumps(X) + 1e-3 * np.random.default_rng(2).standard_normal(500)
    est = GaussianKernelRidge(bandwidths=(0.2,)).fit(X, y)
    assert est.exact_
    assert mse(est.predict(X_test), gaussian_bumps(X_test)) < 1e-3


def test_gaussian_process_recovers_gaussian_bumps_to_test_mse_below_1e_minus_3():
    X, X_test = uniform(300, 2, 0), uniform(2000, 2, 1)
    y = gaussian_bumps(X) + 1e-3 * np.random.default_rng(2).standard_normal(300)
    est = GaussianProcessRegression().fit(X, y)
    assert 0.1 < est.length_scale_ < 0.4  # the bumps' width is 0.2
    assert est.noise_level_ < 1e-3
    assert mse(est.predict(X_test), gaussian_bumps(X_test)) < 1e-3


def test_knn_is_exact_on_a_2x2_piecewise_constant_function_more_than_0_1_from_its_edges():
    def f(X):
        return np.where(X[:, 0] > 0.5, 1.0, -1.0) + np.where(X[:, 1] > 0.5, 2.0, 0.0)

    X, X_test = uniform(4000, 2, 0), uniform(4000, 2, 1)
    X_test = X_test[np.all(np.abs(X_test - 0.5) > 0.1, axis=1)]
    est = KNearestNeighborsRegressor().fit(X, f(X))
    assert np.max(np.abs(est.predict(X_test) - f(X_test))) < 1e-12


# --- cross-validation -------------------------------------------------------------------------------------


def loo_sample(n=60):
    X = uniform(n, 2, 3)
    return X, jump_target(X) + 0.3 * np.random.default_rng(4).standard_normal(n)


def brute_force_loo(fit_predict, y):
    """LOO mean squared error by n refits; fit_predict(keep, i) predicts point i from the points in keep."""
    n = len(y)
    errors = [y[i] - fit_predict(np.arange(n) != i, i) for i in range(n)]
    return float(np.mean(np.square(errors)))


def test_fourier_fast_loo_equals_brute_force_refits_to_1e_minus_8():
    X, y = loo_sample()
    est = FourierSeriesRegressor(frequency_grid=(3,), ridge=0.0).fit(X, y)

    def refit(keep, i):
        refitted = FourierSeriesRegressor(frequency_grid=(3,), ridge=0.0).fit(X[keep], y[keep])
        return refitted.predict(X[i : i + 1])[0]

    assert est.cv_score_ == pytest.approx(brute_force_loo(refit, y), rel=1e-8)


def test_spline_fast_loo_equals_brute_force_refits_of_the_same_smoother_to_1e_minus_8():
    # The LOO score is that of the smoother with centre mean(y) and penalty lambda fixed at their
    # full-sample values (their O(1/n) change is ignored), built here densely from scipy's B-splines.
    X, y = loo_sample()
    n_knots, ridge = 2, 0.1
    est = TensorBSplineRegressor(knot_grid=(n_knots,), ridges=(ridge,)).fit(X, y)
    knots = np.r_[0, 0, 0, np.linspace(0, 1, n_knots + 2), 1, 1, 1]
    per_axis = [BSpline.design_matrix(X[:, d], knots, 3).toarray() for d in range(2)]
    design = np.einsum("ia,ib->iab", *per_axis).reshape(len(y), -1)
    penalty = ridge * np.mean(np.sum(design**2, axis=0))
    centre = y.mean()

    def refit(keep, i):
        A = design[keep]
        coef = np.linalg.solve(A.T @ A + penalty * np.eye(A.shape[1]), A.T @ (y[keep] - centre))
        return design[i] @ coef + centre

    assert est.cv_score_ == pytest.approx(brute_force_loo(refit, y), rel=1e-8)


def test_kernel_ridge_fast_loo_equals_brute_force_refits_of_the_same_smoother_to_1e_minus_8():
    X, y = loo_sample()
    bandwidth, ridge = 0.3, 1e-3
    est = GaussianKernelRidge(bandwidths=(bandwidth,), ridges=(ridge,)).fit(X, y)
    kernel = np.exp(-((X[:, None] - X[None]) ** 2).sum(-1) / (2 * bandwidth**2))
    penalty, centre = len(y) * ridge, y.mean()

    def refit(keep, i):
        alpha = np.linalg.solve(kernel[np.ix_(keep, keep)] + penalty * np.eye(keep.sum()), y[keep] - centre)
        return kernel[i, keep] @ alpha + centre

    assert est.cv_score_ == pytest.approx(brute_force_loo(refit, y), rel=1e-8)


def test_knn_fast_loo_equals_brute_force_refits_for_every_k_to_1e_minus_12():
    X, y = loo_sample()
    est = KNearestNeighborsRegressor(max_neighbors=5).fit(X, y)

    def refit(keep, i, k):
        return KNeighborsRegressor(k).fit(X[keep], y[keep]).predict(X[i : i + 1])[0]

    expected = [brute_force_loo(lambda keep, i, k=k: refit(keep, i, k), y) for k in range(1, 6)]
    np.testing.assert_allclose(est.cv_scores_, expected, rtol=1e-12)


def test_band_of_the_inverse_equals_the_dense_inverse_inside_the_band_to_1e_minus_10():
    rng = np.random.default_rng(5)
    p, bandwidth = 40, 6
    dense = np.zeros((p, p))
    for offset in range(bandwidth + 1):
        values = rng.uniform(-1, 1, p - offset)
        dense += np.diag(values, -offset) + (np.diag(values, offset) if offset else 0)
    dense += 2 * bandwidth * np.eye(p)  # diagonally dominant, hence positive definite
    band = np.array([np.r_[np.diag(dense, -offset), np.zeros(offset)] for offset in range(bandwidth + 1)])
    inside = np.abs(np.subtract.outer(np.arange(p), np.arange(p))) <= bandwidth
    result = _band_of_inverse(cholesky_banded(band, lower=True), np.zeros((p, p)))
    np.testing.assert_allclose(result[inside], np.linalg.inv(dense)[inside], rtol=0, atol=1e-10)


@pytest.mark.parametrize(
    "estimator, selected", [(FourierSeriesRegressor, "n_frequencies_"), (TensorBSplineRegressor, "n_knots_")]
)
def test_cv_selects_a_finer_basis_at_n_2048_than_at_n_256_on_a_jump(estimator, selected):
    X = uniform(2048, 2, 5)
    y = jump_target(X) + 0.1 * np.random.default_rng(6).standard_normal(2048)
    small = estimator().fit(X[:256], y[:256])
    large = estimator().fit(X, y)
    assert getattr(large, selected) > getattr(small, selected)


def test_knn_selects_k_of_at_least_5_under_noise_sd_0_5():
    X = uniform(1000, 2, 7)
    y = np.sin(2 * np.pi * X[:, 0]) + 0.5 * np.random.default_rng(8).standard_normal(1000)
    assert KNearestNeighborsRegressor().fit(X, y).k_ >= 5


def test_kernel_ridge_selects_a_narrower_bandwidth_for_a_jump_than_for_a_smooth_target():
    X = uniform(1000, 2, 9)
    noise = 0.1 * np.random.default_rng(10).standard_normal(1000)
    smooth = GaussianKernelRidge().fit(X, np.sin(np.pi * X[:, 0]) * X[:, 1] + noise)
    jump = GaussianKernelRidge().fit(X, jump_target(X) + noise)
    assert jump.bandwidth_ < smooth.bandwidth_


def test_feature_limits_keep_fourier_and_spline_features_at_most_n_over_2():
    X = uniform(100, 2, 11)
    y = jump_target(X)
    fourier = FourierSeriesRegressor().fit(X, y)
    spline = TensorBSplineRegressor().fit(X, y)
    assert fourier.frequency_grid_.max() ** 2 <= 50 and fourier.frequency_grid_.max() == 7
    assert (spline.knot_grid_.max() + 4) ** 2 <= 50


# --- Nystroem approximations ----------------------------------------------------------------------------


def test_nystroem_kernel_ridge_agrees_with_the_exact_one_to_1e_minus_3_on_a_smooth_target():
    X, X_test = uniform(600, 2, 12), uniform(2000, 2, 13)
    noise = 0.1 * np.random.default_rng(14).standard_normal(600)
    y = np.sin(2 * np.pi * X[:, 0]) * np.cos(np.pi * X[:, 1]) + noise
    settings = {"bandwidths": (0.2,), "ridges": (1e-4,)}
    exact = GaussianKernelRidge(**settings).fit(X, y)
    nystroem = GaussianKernelRidge(exact_max_n=100, n_components=300, **settings).fit(X, y)
    assert exact.exact_ and not nystroem.exact_
    assert nystroem.n_components_ <= 300
    assert np.max(np.abs(nystroem.predict(X_test) - exact.predict(X_test))) < 1e-3


def test_nystroem_kernel_ridge_with_cv_selects_like_the_exact_one_and_matches_its_error_to_5_percent():
    X, X_test = uniform(800, 2, 15), uniform(5000, 2, 16)
    f = jump_target
    y = f(X) + 0.25 * np.random.default_rng(17).standard_normal(800)
    exact = GaussianKernelRidge().fit(X, y)
    nystroem = GaussianKernelRidge(exact_max_n=100, n_components=400).fit(X, y)
    assert nystroem.bandwidth_ == exact.bandwidth_
    exact_error = mse(exact.predict(X_test), f(X_test))
    assert mse(nystroem.predict(X_test), f(X_test)) == pytest.approx(exact_error, rel=0.05)


def test_subset_of_regressors_gp_agrees_with_the_exact_posterior_mean_to_1e_minus_3():
    X, X_test = uniform(600, 2, 18), uniform(2000, 2, 19)
    y = gaussian_bumps(X) + 0.05 * np.random.default_rng(20).standard_normal(600)
    exact = GaussianProcessRegression(max_n_marginal_likelihood=300).fit(X, y)
    sor = GaussianProcessRegression(max_n_marginal_likelihood=300, exact_max_n=100, n_components=300)
    sor.fit(X, y)
    assert exact.exact_ and not sor.exact_
    assert sor.length_scale_ == exact.length_scale_  # same subset, same marginal likelihood
    assert np.max(np.abs(sor.predict(X_test) - exact.predict(X_test))) < 1e-3


def test_prediction_in_blocks_handles_more_rows_than_one_block():
    X = uniform(300, 2, 21)
    est = GaussianKernelRidge(bandwidths=(0.2,)).fit(X, gaussian_bumps(X))
    X_test = uniform(20_000, 2, 22)  # 20,000 x 300 kernel entries: two blocks
    prediction = est.predict(X_test)
    assert prediction.shape == (20_000,)
    assert np.allclose(prediction[:100], est.predict(X_test[:100]), rtol=0, atol=1e-12)


# --- determinism and construction -------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(ESTIMATORS))
def test_same_seed_gives_identical_predictions(name):
    params = {
        "kernel_ridge": {"exact_max_n": 100, "n_components": 64},
        "gaussian_process": {"max_n_marginal_likelihood": 100, "exact_max_n": 100, "n_components": 64},
    }
    X, X_test = uniform(300, 2, 23), uniform(500, 2, 24)
    y = jump_target(X) + 0.2 * np.random.default_rng(25).standard_normal(300)
    first = make_estimator(name, params.get(name), seed=3).fit(X, y).predict(X_test)
    second = make_estimator(name, params.get(name), seed=3).fit(X, y).predict(X_test)
    assert first.shape == (500,)
    assert np.array_equal(first, second)


def test_different_seeds_draw_different_nystroem_landmarks():
    X = uniform(300, 2, 26)
    y = jump_target(X)
    a = make_estimator("kernel_ridge", {"exact_max_n": 100, "n_components": 64}, seed=1).fit(X, y)
    b = make_estimator("kernel_ridge", {"exact_max_n": 100, "n_components": 64}, seed=2).fit(X, y)
    assert not np.array_equal(a.centres_, b.centres_)


def test_make_estimator_names_an_unknown_estimator():
    with pytest.raises(ValueError, match="'splines'"):
        make_estimator("splines")


def test_make_estimator_names_an_unknown_parameter_key():
    with pytest.raises(ValueError, match="'bandwith'.*'kernel_ridge'"):
        make_estimator("kernel_ridge", {"bandwith": [0.1]})


def test_make_estimator_rejects_an_invalid_value_when_the_config_is_read():
    with pytest.raises(ValueError, match="bandwidths"):
        make_estimator("kernel_ridge", {"bandwidths": [-0.1]})


def test_make_estimator_passes_the_seed_and_yaml_lists_as_tuples():
    est = make_estimator("kernel_ridge", {"bandwidths": [0.1, 0.2]}, seed=11)
    assert est.random_state == 11 and est.bandwidths == (0.1, 0.2)
    assert clone(est).get_params() == est.get_params()


def test_registry_lists_four_linear_estimators_and_knn():
    assert LINEAR_ESTIMATORS == ("fourier", "spline", "kernel_ridge", "gaussian_process")
    assert set(ESTIMATORS) == {*LINEAR_ESTIMATORS, "knn"}
