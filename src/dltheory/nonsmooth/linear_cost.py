"""Floating-point operations of the linear estimators (``dltheory.nonsmooth.estimators``), for budgeting a config.

``linear_estimator_flops(method, n, dim, n_test, params)`` counts one fit with its cross-validation at n points plus
one prediction at n_test points, with the estimator's constructor arguments ``params`` (the config's
``estimator_params[method]``). The counts are the leading terms of the dense linear algebra, with the usual
constants (Golub & Van Loan, Matrix Computations, 4th ed.: Cholesky m^3/3, a triangular solve with m right-hand
sides m^3, a symmetric eigendecomposition with vectors ~9 m^3, a product of (a x b) and (b x c) 2abc); a Gaussian
kernel entry costs 2D (distance) plus ~20 (its exponential). They estimate work, not time: on a CPU the
eigendecompositions run at a fraction of the matrix products' speed, and on a GPU the pivoted Cholesky is bound by
its m sequential steps.

Kernel ridge, per solved bandwidth (``GaussianKernelRidge``):

* exact (n <= exact_max_n): kernel n^2, eigendecomposition 9 n^3, LOO over R ridges 4 n^2 R;
* Nystroem (m' = min(n_components, n) landmarks, r of them kept by the pivoted Cholesky): landmark kernel m'^2,
  pivoted Cholesky m' r^2 - 2 r^3 / 3, K_XZ n r, Phi'Phi 2 n r^2, R^{-T} (.) R^{-1} (or Phi explicitly) 2 r^3 + n r^2,
  eigendecomposition 9 r^3. The rank r (``nystrom_rank``) is what makes wide bandwidths cheap: at m = 4096 uniform
  landmarks in D = 2 only 44 are kept at h = 0.8, against 4086 at h = 0.025;
* ``bandwidth_search="exhaustive"`` solves every bandwidth; ``"coarse_to_fine"`` scores every bandwidth with a
  Nystroem of m'/4 landmarks, then solves ``COARSE_TO_FINE_SOLVES`` bandwidths (2-4, 3.1 on average, on the seeded
  problems of benchmarks/linear_estimators.py and tests/test_linear_estimators_torch.py), counted here as the most
  expensive ones: the climb solves the neighbours of the choice, and jump targets choose the narrow, costly end.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from dltheory.nonsmooth.estimators import (
    _COARSE_LANDMARK_DIVISOR,
    ESTIMATORS,
    _largest_root,
)

__all__ = ["COARSE_TO_FINE_SOLVES", "linear_estimator_flops", "nystrom_rank"]

# Full solves of a coarse-to-fine bandwidth search: measured 2-4 (mean 3.1) over 6 bandwidths on jump and smooth
# targets in D = 2, 3, 5 (benchmarks/linear_estimators.py).
COARSE_TO_FINE_SOLVES = 3.0

_EXP_FLOPS = 20.0


def _kernel_entry(dim: int) -> float:
    return 2.0 * dim + _EXP_FLOPS


def _defaults(method: str, params: Mapping | None) -> dict:
    return {**ESTIMATORS[method]().get_params(), **dict(params or {})}


# Landmarks kept by the pivoted Cholesky (tolerance 1e-10) of 4096 uniform landmarks on [0, 1]^D, measured with
# LAPACK dpstrf (seed 0) at the default bandwidths; other (D, h) use the model in nystrom_rank.
MEASURED_RANKS_4096 = {
    2: {0.025: 4086, 0.05: 1975, 0.1: 618, 0.2: 214, 0.4: 92, 0.8: 44},
    3: {0.025: 4096, 0.05: 4096, 0.1: 4096, 0.2: 2054, 0.4: 587, 0.8: 206},
    5: {0.025: 4096, 0.05: 4096, 0.1: 4096, 0.2: 4096, 0.4: 4096, 0.8: 2358},
}


def nystrom_rank(m: int, dim: int, bandwidth: float) -> int:
    """Landmarks a pivoted Cholesky keeps of m uniform landmarks on [0, 1]^D at bandwidth h: the measured count at
    m = 4096 (capped at m) where there is one, else C(K + D, D) with K = 3 / h + 4, the number of multi-indices of
    total degree <= K (the Gaussian kernel's eigenvalues decay geometrically in the total degree); the model matches
    the D = 2 measurements within 20 % and undercounts D = 5 at h = 0.8 by half."""
    measured = MEASURED_RANKS_4096.get(dim, {}).get(round(float(bandwidth), 6))
    if measured is None:
        measured = math.comb(int(3.0 / bandwidth + 4.0) + dim, dim)
    return int(min(m, measured))


def _nystrom_solve(n: int, m: int, dim: int, bandwidth: float) -> float:
    r = nystrom_rank(m, dim, bandwidth)
    return (m * m + n * r) * _kernel_entry(dim) + m * r * r - 2.0 * r**3 / 3 + 2.0 * n * r * r + 2.0 * r**3 \
        + n * r * r + 9.0 * r**3


def _exact_solve(n: int, dim: int, ridges: int) -> float:
    return n * n * _kernel_entry(dim) + 9.0 * n**3 + 4.0 * n * n * ridges


def kernel_ridge_flops(n: int, dim: int, n_test: int, params: Mapping | None = None) -> float:
    p = _defaults("kernel_ridge", params)
    bandwidths = [float(h) for h in p["bandwidths"]]
    ridges = 17 if p["ridges"] is None else len(p["ridges"])
    exact = n <= p["exact_max_n"]
    m = n if exact else min(p["n_components"], n)
    solves = sorted((_exact_solve(n, dim, ridges) if exact else _nystrom_solve(n, m, dim, h) for h in bandwidths),
                    reverse=True)
    if p["bandwidth_search"] == "coarse_to_fine":
        coarse = sum(_nystrom_solve(n, max(1, m // _COARSE_LANDMARK_DIVISOR), dim, h) for h in bandwidths)
        search = coarse + sum(solves[: int(COARSE_TO_FINE_SOLVES)])
    else:
        search = sum(solves)
    return search + n_test * m * (_kernel_entry(dim) + 2.0)


def fourier_flops(n: int, dim: int, n_test: int, params: Mapping | None = None) -> float:
    """One Cholesky of the largest basis (p = K_max^D features) serves every truncation: Gram 2 n p^2, Cholesky
    p^3 / 3, the triangular solve with n right-hand sides n p^2; prediction at most p features."""
    p_ = _defaults("fourier", params)
    k_max = max(1, _largest_root(min(n // 2, p_["max_features"]), dim))
    p = float(k_max**dim)
    design = 2 * n * p * (dim + 1.0)  # the cosine tables and their products, built twice
    return design + 2.0 * n * p * p + p**3 / 3 + n * p * p + 4.0 * n * p + n_test * p * (dim + 3.0)


def spline_flops(n: int, dim: int, n_test: int, params: Mapping | None = None) -> float:
    """Per (knots, ridge): banded Cholesky and the band of the inverse, 2 p b^2 (b = 3 (m^D - 1)/(m - 1)), and the
    hat diagonal from per-cell 4^D blocks, 2 n 16^D; the Gram band once per knot count, n 16^D."""
    p_ = _defaults("spline", params)
    per_axis_cap = max(4, _largest_root(min(n // 2, p_["max_features"]), dim))
    axes = np.unique(np.round(np.geomspace(4, per_axis_cap, p_["max_grid_size"])).astype(int))
    ridges = len(p_["ridges"])
    total = 0.0
    for m in axes:
        p = float(m**dim)
        b = 3.0 * (m**dim - 1) / max(m - 1, 1)
        total += n * 16.0**dim + ridges * (2.0 * p * b * b + 2.0 * n * 16.0**dim)
    return total + n_test * 4.0**dim * 2


def gaussian_process_flops(n: int, dim: int, n_test: int, params: Mapping | None = None,
                           evaluations_per_start: int = 50) -> float:
    """Marginal likelihood on s points, per evaluation (sklearn): Cholesky s^3 / 3, the inverse for the gradient s^3,
    kernel s^2; ``evaluations_per_start`` L-BFGS-B evaluations (an estimate) per start. Then the posterior mean:
    exact Cholesky n^3 / 3, or a Nystroem solve with a plain Cholesky of Phi'Phi."""
    p = _defaults("gaussian_process", params)
    s = min(n, p["max_n_marginal_likelihood"])
    likelihood = (1 + p["n_restarts"]) * evaluations_per_start * (s**3 / 3 + s**3 + s * s * _kernel_entry(dim))
    if n <= p["exact_max_n"]:
        mean, centres = n * n * _kernel_entry(dim) + n**3 / 3, n
    else:
        centres = min(p["n_components"], n)
        r = nystrom_rank(centres, dim, 0.2)  # a typical marginal-likelihood length scale
        mean = _nystrom_solve(n, centres, dim, 0.2) - 9.0 * r**3 + r**3 / 3
    return likelihood + mean + n_test * centres * (_kernel_entry(dim) + 2.0)


def knn_flops(n: int, dim: int, n_test: int, params: Mapping | None = None) -> float:
    """Tree queries: about k + log2 n distance evaluations per query point, for n training and n_test test points."""
    k = _defaults("knn", params)["max_neighbors"]
    return (n + n_test) * (k + np.log2(max(n, 2))) * 3.0 * dim


_FLOPS = {
    "kernel_ridge": kernel_ridge_flops,
    "fourier": fourier_flops,
    "spline": spline_flops,
    "gaussian_process": gaussian_process_flops,
    "knn": knn_flops,
}


def linear_estimator_flops(method: str, n: int, dim: int, n_test: int, params: Mapping | None = None) -> float:
    """Floating-point operations of fitting ``method`` (CV included) at n points in D = dim and predicting n_test
    points, with constructor arguments ``params`` (absent keys: the estimator's defaults). See the module docstring
    for the formulas; e.g. kernel ridge with n_components 4096 and the 6 default bandwidths at n = 12,800, D = 5,
    100,000 test points: 7.5e12 exhaustive, 4.6e12 coarse-to-fine; at n = 65,536, D = 2, 200,000 test points: 5.0e12
    exhaustive (the wide bandwidths keep few landmarks), 5.6e12 coarse-to-fine as counted here."""
    if method not in _FLOPS:
        raise ValueError(f"unknown estimator {method!r}; known: {', '.join(_FLOPS)}")
    return float(_FLOPS[method](int(n), int(dim), int(n_test), params))
