"""Specifications of the linear estimators' torch path and of kernel ridge's coarse-to-fine bandwidth search.

The torch path (``device=`` a torch device; CUDA in a paper run, CPU here) must make the numpy path's choices and
predict within 1e-8 relative of it: both are float64 and run the same algebra, so they differ only by rounding. The
coarse-to-fine search must choose the exhaustive search's bandwidth and ridge with fewer full solves.
"""

import numpy as np
import pytest
import scipy.linalg as sla

from dltheory.nonsmooth.estimators import FourierSeriesRegressor, GaussianKernelRidge, make_estimator
from dltheory.runtime import linear_solver_device

torch = pytest.importorskip("torch")

# Both paths are float64 with the same algorithm; 1e-8 leaves room for rounding amplified by the Fourier Gram's
# condition number (~1e8 with its 1e-8 relative ridge) and kernel ridge's 1 / (n lambda) shrinkage.
RELATIVE_TOLERANCE = 1e-8


def problem(n, dim, seed, noise_sd=0.25, smooth=False):
    rng = np.random.default_rng(seed)
    X = rng.uniform(size=(n, dim))
    f = np.sin(np.pi * X[:, 0]) * X[:, 1] if smooth else np.sin(2 * np.pi * X[:, 0]) + (X[:, 1] > 0.3 + 0.4 * X[:, 0])
    return X, f + noise_sd * rng.standard_normal(n), rng.uniform(size=(1000, dim))


def relative_difference(a, b):
    return float(np.max(np.abs(a - b)) / np.max(np.abs(a)))


@pytest.mark.parametrize(
    ("name", "params", "n", "dim"),
    [
        ("fourier", {}, 400, 2),
        ("fourier", {}, 600, 3),
        ("kernel_ridge", {}, 300, 2),  # exact: one eigendecomposition of K per bandwidth
        ("kernel_ridge", {"exact_max_n": 200, "n_components": 128}, 600, 2),  # Nystroem, pivoted Cholesky
        ("kernel_ridge", {"exact_max_n": 200, "n_components": 128}, 600, 3),
        ("kernel_ridge", {"exact_max_n": 200, "n_components": 256}, 800, 5),  # narrow bandwidths: plain Cholesky
    ],
)
def test_torch_path_on_cpu_chooses_like_numpy_and_predicts_within_1e_minus_8(name, params, n, dim):
    X, y, X_test = problem(n, dim, seed=dim)
    reference = make_estimator(name, params, seed=5).fit(X, y)
    torch_path = make_estimator(name, params, seed=5, device="cpu").fit(X, y)
    for chosen in ("n_frequencies_", "bandwidth_", "ridge_", "n_components_"):
        assert getattr(torch_path, chosen, None) == getattr(reference, chosen, None), chosen
    assert abs(torch_path.cv_score_ / reference.cv_score_ - 1) < RELATIVE_TOLERANCE
    # Nystroem GCV at the widest bandwidth and the smallest ridges is y'y minus nearly all of it, computed through
    # near-null directions of Phi'Phi: there the two paths' scores agree only to ~2e-5, far above the minimum.
    assert relative_difference(reference.cv_scores_, torch_path.cv_scores_) < 1e-4
    assert relative_difference(reference.predict(X_test), torch_path.predict(X_test)) < RELATIVE_TOLERANCE


def test_torch_pivoted_cholesky_keeps_lapacks_landmarks_of_a_rank_deficient_kernel():
    from dltheory.nonsmooth.linear_torch import gaussian_kernel, pivoted_cholesky

    Z = np.random.default_rng(0).uniform(size=(200, 2))
    kernel = gaussian_kernel(torch.as_tensor(Z), torch.as_tensor(Z), 0.4)  # wide: numerical rank well below 200
    lapack, lapack_pivots, rank, _ = sla.lapack.dpstrf(kernel.numpy(), tol=1e-10, lower=0)
    factor, pivots = pivoted_cholesky(kernel, 1e-10)
    assert 10 < rank < 100
    assert factor.shape == (rank, rank)
    assert np.array_equal(pivots.numpy(), lapack_pivots[:rank] - 1)
    assert np.max(np.abs(factor.numpy() - np.triu(lapack[:rank, :rank]))) < 1e-10


@pytest.mark.parametrize(
    ("n", "dim", "seed", "smooth", "solves"),
    [(300, 2, 0, False, 3), (1500, 2, 1, False, 4), (1500, 3, 2, False, 4), (1500, 2, 0, True, 2),
     (1500, 5, 1, False, 2)],
)
def test_coarse_to_fine_search_picks_the_exhaustive_bandwidth_and_ridge_with_fewer_solves(n, dim, seed, smooth,
                                                                                         solves):
    X, y, X_test = problem(n, dim, seed, noise_sd=0.1 if smooth else 0.25, smooth=smooth)
    exhaustive = GaussianKernelRidge(n_components=256).fit(X, y)
    coarse_to_fine = GaussianKernelRidge(n_components=256, bandwidth_search="coarse_to_fine").fit(X, y)
    assert (coarse_to_fine.bandwidth_, coarse_to_fine.ridge_) == (exhaustive.bandwidth_, exhaustive.ridge_)
    assert np.array_equal(coarse_to_fine.predict(X_test), exhaustive.predict(X_test))
    solved = ~np.isnan(coarse_to_fine.cv_scores_[:, 0])
    assert solved.sum() == solves  # of 6 bandwidths
    assert np.array_equal(coarse_to_fine.cv_scores_[solved], exhaustive.cv_scores_[solved])


def test_fourier_with_a_torch_device_keeps_its_choice_of_15_frequencies_on_a_cosine_polynomial():
    X, X_test = np.random.default_rng(1).uniform(size=(1200, 2)), np.random.default_rng(2).uniform(size=(500, 2))

    def f(X):
        return np.cos(14 * np.pi * X[:, 0]) + 0.5 * np.cos(3 * np.pi * X[:, 1])

    est = FourierSeriesRegressor(device="cpu").fit(X, f(X))
    assert est.n_frequencies_ == 15
    assert np.max(np.abs(est.predict(X_test) - f(X_test))) < 1e-6


def test_linear_device_cpu_and_auto_without_a_gpu_keep_the_numpy_path():
    assert linear_solver_device("cpu") is None
    assert linear_solver_device("auto") == ("cuda" if torch.cuda.is_available() else None)
    assert make_estimator("kernel_ridge", {}, device=None).device is None
    assert make_estimator("fourier", {}, device="cpu").device == "cpu"
    assert make_estimator("spline", {}, device="cpu").get_params().get("device") is None  # no torch path


def test_an_unknown_device_or_search_is_rejected_when_the_config_is_read():
    with pytest.raises(ValueError, match="device"):
        make_estimator("kernel_ridge", {"device": "tpu"})
    with pytest.raises(ValueError, match="bandwidth_search"):
        make_estimator("kernel_ridge", {"bandwidth_search": "golden"})


def test_a_certified_landmark_kernel_gets_a_plain_cholesky_factor_with_the_pivoted_factors_features():
    from dltheory.nonsmooth.linear_torch import NystromFeatures, certified_cholesky, gaussian_kernel, pivoted_cholesky

    rng = np.random.default_rng(1)
    Z, X = torch.as_tensor(rng.uniform(size=(300, 5))), torch.as_tensor(rng.uniform(size=(2000, 5)))
    narrow = gaussian_kernel(Z, Z, 0.2)  # 5-D, 300 points: smallest eigenvalue far above 1e-10
    factor, inverse_trace = certified_cholesky(narrow, 1e-10)
    assert factor is not None and 1.0 / inverse_trace > 1e-8
    assert certified_cholesky(gaussian_kernel(Z, Z, 1.6), 1e-10)[0] is None  # wide: numerically singular
    plain = NystromFeatures(Z, 0.2, 1e-10)
    pivoted_factor, pivots = pivoted_cholesky(narrow, 1e-10)
    assert len(pivots) == 300  # LAPACK's rule keeps every landmark too
    phi_plain = plain.transposed(X)
    phi_pivoted = torch.linalg.solve_triangular(pivoted_factor.T, gaussian_kernel(Z[pivots], X, 0.2), upper=False)
    # Same features up to an orthogonal map: the same Gram phi(x)'phi(x') of every pair of points.
    gram_plain, gram_pivoted = phi_plain.T @ phi_plain, phi_pivoted.T @ phi_pivoted
    assert float(torch.max(torch.abs(gram_plain - gram_pivoted))) < 1e-8


def test_the_fit_linear_rules_ask_a_gpu_exactly_when_linear_device_is_cuda():
    import yaml

    from dltheory.cluster import PAPER_REQUESTS, job_request
    from dltheory.config import load_schema, validate_config
    from tests.conftest import ROOT

    smoke = yaml.safe_load((ROOT / "config/smoke.yaml").read_text())
    schema = load_schema(ROOT / "workflow/schemas/config.schema.yaml")
    asking = {}
    for linear_device in ("auto", "cpu", "cuda"):
        settings = validate_config({**smoke, "linear_device": linear_device}, schema)
        asking[linear_device] = {rule for rule in PAPER_REQUESTS if job_request(rule, settings).gpu}
    assert asking == {"auto": set(), "cpu": set(), "cuda": {"nonsmooth_fit_linear", "region_fit_linear"}}


def test_linear_device_auto_decides_without_importing_torch_where_no_gpu_driver_is_loaded():
    import subprocess
    import sys

    from dltheory.runtime import _no_gpu_driver

    if not _no_gpu_driver():
        pytest.skip("a GPU driver is loaded: auto must ask torch")
    probe = "import sys; from dltheory.runtime import linear_solver_device; "
    probe += "print(linear_solver_device('auto'), 'torch' in sys.modules)"
    answer = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.split()
    assert answer == ["None", "False"]


def test_linear_estimator_flops_count_the_coarse_to_fine_search_at_0_61_of_exhaustive_in_five_dimensions():
    from dltheory.nonsmooth.linear_cost import linear_estimator_flops, nystrom_rank

    params = {"n_components": 4096}
    exhaustive = linear_estimator_flops("kernel_ridge", 12800, 5, 100_000, params)
    coarse = linear_estimator_flops("kernel_ridge", 12800, 5, 100_000, {**params, "bandwidth_search": "coarse_to_fine"})
    assert exhaustive == pytest.approx(7.51e12, rel=0.01)
    assert coarse / exhaustive == pytest.approx(0.61, abs=0.01)
    assert [nystrom_rank(4096, 2, h) for h in (0.025, 0.8)] == [4086, 44]  # measured with LAPACK
    assert nystrom_rank(1024, 2, 0.05) == 1024  # capped at the landmarks drawn
    with pytest.raises(ValueError, match="'dnn'"):
        linear_estimator_flops("dnn", 100, 2, 100)


def test_exp_in_place_is_numpys_exp_to_one_unit_in_the_last_place():
    from dltheory.nonsmooth.estimators import exp_in_place

    exponents = -np.linspace(0.0, 800.0, 200_001)  # through float64's underflow at about -708
    expected = np.exp(exponents)
    values = exp_in_place(exponents.copy())
    assert values.dtype == np.float64
    ulps = np.abs(values - expected) / np.spacing(np.maximum(expected, np.finfo(float).tiny))
    assert np.max(ulps) <= 1.0
    assert np.count_nonzero(values != expected) < 0.05 * len(values)
