"""Nearest-neighbour estimates of the intrinsic dimension of a point cloud.

Nakada & Imaizumi (JMLR 21(174), 2020, Table 2, p. 5) quote such estimates (local PCA, maximum
likelihood, ESS) for MNIST and CIFAR-10; here they check that the simulated supports have the dimension
they are built to have. Both estimators read only the ratios of nearest-neighbour distances, which are
invariant under the isometric embeddings of ``supports``.
"""

from __future__ import annotations

import numbers

import numpy as np
from sklearn.neighbors import NearestNeighbors

__all__ = ["mle_intrinsic_dimension", "two_nn_intrinsic_dimension"]


def _neighbour_distances(X: np.ndarray, k: int) -> np.ndarray:
    """(n, k) distances of each point to its k nearest other points, nearest first."""
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or X.shape[0] <= k:
        raise ValueError(f"X must be an (n, D) array with n > {k} points, got shape {X.shape}")
    distances, _ = NearestNeighbors(n_neighbors=k + 1).fit(X).kneighbors(X)
    # Column 0 is the point itself (distance 0), as long as there are no duplicates, which would make
    # a log-distance ratio infinite; they are refused rather than silently dropped.
    distances = distances[:, 1:]
    if np.any(distances[:, 0] <= 0):
        raise ValueError("X has duplicate points; nearest-neighbour dimension estimates need distinct points")
    return distances


def _k_range(k) -> tuple[int, int]:
    low, high = (k, k) if isinstance(k, numbers.Integral) else tuple(k)
    if not (isinstance(low, numbers.Integral) and isinstance(high, numbers.Integral) and 2 <= low <= high):
        raise ValueError(f"k must be an integer >= 2 or a pair 2 <= k1 <= k2, got {k!r}")
    return int(low), int(high)


def mle_intrinsic_dimension(X: np.ndarray, k=(10, 20)) -> float:
    """Levina-Bickel maximum-likelihood dimension, with MacKay-Ghahramani's pooling, averaged over k.

    Levina & Bickel (NIPS 2004) model the neighbours of x as a Poisson process whose intensity grows
    like r^m; with T_j the distance to the j-th neighbour the MLE of m from k neighbours is
    m_k(x) = [1/(k-1) sum_{j<k} log(T_k / T_j)]^{-1}. MacKay & Ghahramani (2005 comment) showed that
    averaging m_k(x) over points is biased upward and that the inverse is what should be averaged: under
    the model 1/m_k(x) is unbiased for 1/m. So m_k = [mean_x 1/m_k(x)]^{-1}, and the estimate is the
    mean of m_k over k1 <= k <= k2 (Levina & Bickel's default range 10..20).

    The estimate is the growth exponent of the support's volume at the scale of the k-th neighbour, and
    that scale shrinks only like n^{-1/d}. On a d-sphere the volume of a cap grows more slowly than
    chord^d once the cap is not small (positive curvature), so with few points in high dimension the
    estimate is biased low: 3,000 points of S^16 put the 10th-20th neighbours 0.9-1 rad away, where the
    cap grows like chord^13, and the estimate is 13.3 (S^64: about 37, S^100: about 49 at n = 4,000).
    It checks small d; it does not measure large d.
    """
    low, high = _k_range(k)
    log_distances = np.log(_neighbour_distances(X, high))
    estimates = []
    for kk in range(low, high + 1):
        inverse = np.mean(log_distances[:, kk - 1, None] - log_distances[:, : kk - 1], axis=1)
        estimates.append(1.0 / np.mean(inverse))
    return float(np.mean(estimates))


def two_nn_intrinsic_dimension(X: np.ndarray) -> float:
    """TwoNN dimension of Facco, d'Errico, Rodriguez & Laio (Sci. Rep. 7, 12140, 2017), maximum-likelihood form.

    For locally uniform data the ratio mu = T_2 / T_1 of second- to first-neighbour distances is Pareto,
    P(mu > s) = s^{-d}, whatever the density; the MLE of d from n ratios is (n - 1) / sum log mu_i
    (unbiased version). Using only two neighbours makes it local and less sensitive to curvature than
    the k-neighbour MLE, at the price of more variance.
    """
    distances = _neighbour_distances(X, 2)
    log_ratios = np.log(distances[:, 1] / distances[:, 0])
    return float((len(log_ratios) - 1) / np.sum(log_ratios))
