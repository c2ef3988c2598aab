"""Non-deep baselines of Nakada & Imaizumi, JMLR 21(174), 2020, Sim 6.2 (p. 13).

Fig. 5 compares DNNs with "Kernel (Gaussian)", a Nadaraya-Watson estimator with bandwidth in
{0.10, 0.11, ..., 1.00}, and "k-Nearest Neighbors" with k in [50] = {1, ..., 50}, both tuned by
cross-validation. The k-NN estimator is the project's ``dltheory.nonsmooth.estimators``
``KNearestNeighborsRegressor`` (exact LOO-CV); this module adds the Nadaraya-Watson estimator and a
factory for the two.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from dltheory.nonsmooth.estimators import make_estimator, row_blocks, squared_distances

__all__ = ["INTRINSIC_BASELINES", "PAPER_BANDWIDTHS", "NadarayaWatsonRegressor", "fit_on_holdout",
           "make_intrinsic_baseline"]

# N p. 13: "bandwidth in {0.10, 0.11, ..., 1.00}". Read-only, as it is a shared default argument.
PAPER_BANDWIDTHS = np.round(np.arange(0.10, 1.0001, 0.01), 2)
PAPER_BANDWIDTHS.setflags(write=False)

# N p. 13: k in [50].
PAPER_MAX_NEIGHBORS = 50

def _relative_squared_distances(squared: np.ndarray) -> np.ndarray:
    """Squared distances minus each row's smallest: the log-sum-exp shift of the Gaussian weights.

    exp(-(d^2 - min d^2) / 2h^2) rescales a row's weights by a common factor, which the ratio of
    Nadaraya-Watson cancels, and gives the nearest point weight 1. So no row of weights is ever all
    zero (exp(-d^2 / 2h^2) underflows for d/h > 38), and for h -> 0 the estimator tends to its limit,
    the nearest-neighbour rule, instead of 0/0.
    """
    return squared - np.min(squared, axis=1, keepdims=True)


def _nadaraya_watson(relative_squared: np.ndarray, y: np.ndarray, bandwidth: float) -> np.ndarray:
    weights = np.exp(relative_squared * (-0.5 / bandwidth**2))
    return (weights @ y) / np.sum(weights, axis=1)


class NadarayaWatsonRegressor(RegressorMixin, BaseEstimator):
    """Nadaraya-Watson kernel regression, Gaussian kernel, bandwidth by exact leave-one-out CV (N p. 13).

    f_hat(x) = sum_i K_h(x - X_i) Y_i / sum_i K_h(x - X_i), K_h(u) = exp(-|u|^2 / (2 h^2)). The paper
    names the kernel and the bandwidth grid, not the scaling of h; reading h as the standard deviation
    of the Gaussian is ours. Leave-one-out is exact and costs no refit: the LOO prediction at X_i is the
    same ratio with the i-th term dropped (the diagonal of the kernel matrix set to 0). The squared
    distances are computed once per block of rows and reused for every bandwidth, so a fit costs
    ~ n^2 (D + len(bandwidths)) and memory ~ 4M entries whatever n.

    Parameters
    ----------
    bandwidths : array of float, default {0.10, 0.11, ..., 1.00} (the paper's grid)

    Attributes
    ----------
    bandwidth_ : float       selected h (the smallest one on ties)
    bandwidths_ : ndarray    the grid, sorted
    cv_scores_ : ndarray     LOO mean squared error of each h in ``bandwidths_``
    cv_score_ : float        LOO mean squared error of ``bandwidth_``
    X_fit_, y_fit_ : ndarray training data, which the predictor averages
    """

    def __init__(self, bandwidths=PAPER_BANDWIDTHS):
        self.bandwidths = bandwidths

    def _validate_hyperparameters(self) -> np.ndarray:
        try:
            grid = np.asarray(self.bandwidths, dtype=float).ravel()
        except (TypeError, ValueError):
            grid = np.array([np.nan])
        if grid.size == 0 or not np.all(np.isfinite(grid)) or not np.all(grid > 0):
            raise ValueError(f"bandwidths must be a non-empty list of positive numbers, got {self.bandwidths!r}")
        return np.unique(grid)

    def fit(self, X, y):
        grid = self._validate_hyperparameters()
        X, y = validate_data(self, X, y, y_numeric=True)
        n = X.shape[0]
        if n < 2:
            raise ValueError("Nadaraya-Watson leave-one-out cross-validation needs at least 2 points")
        sse = np.zeros(grid.size)
        for rows in row_blocks(n, n):
            squared = squared_distances(X[rows], X)
            squared[np.arange(squared.shape[0]), np.arange(n)[rows]] = np.inf  # leave X_i out of its own fit
            relative = _relative_squared_distances(squared)
            for j, bandwidth in enumerate(grid):
                sse[j] += np.sum((y[rows] - _nadaraya_watson(relative, y, bandwidth)) ** 2)
        self.bandwidths_ = grid
        self.cv_scores_ = sse / n
        best = int(np.argmin(self.cv_scores_))
        self.bandwidth_ = float(grid[best])
        self.cv_score_ = float(self.cv_scores_[best])
        self.X_fit_, self.y_fit_ = X, y
        return self

    def predict(self, X):
        check_is_fitted(self, "X_fit_")
        X = validate_data(self, X, reset=False)
        out = np.empty(X.shape[0])
        for rows in row_blocks(X.shape[0], self.X_fit_.shape[0]):
            relative = _relative_squared_distances(squared_distances(X[rows], self.X_fit_))
            out[rows] = _nadaraya_watson(relative, self.y_fit_, self.bandwidth_)
        return out


INTRINSIC_BASELINES = ("knn", "nadaraya_watson")


def make_intrinsic_baseline(name: str, params: Mapping | None = None):
    """The Sim 6.2 baseline ``name`` ("knn" or "nadaraya_watson") with constructor arguments ``params``.

    "knn" is ``dltheory.nonsmooth.estimators.KNearestNeighborsRegressor`` with the paper's k in [50]
    (``max_neighbors`` = 50 unless ``params`` sets it). Unknown names or parameter keys, and invalid
    values, raise ValueError naming them.
    """
    if name not in INTRINSIC_BASELINES:
        raise ValueError(f"unknown baseline {name!r}; known: {', '.join(INTRINSIC_BASELINES)}")
    params = dict(params or {})
    if name == "knn":
        return make_estimator("knn", {"max_neighbors": PAPER_MAX_NEIGHBORS, **params})
    valid = NadarayaWatsonRegressor().get_params()
    unknown = sorted(set(params) - set(valid))
    if unknown:
        raise ValueError(
            f"unknown parameter(s) {', '.join(map(repr, unknown))} for baseline {name!r}; valid: {', '.join(valid)}"
        )
    estimator = NadarayaWatsonRegressor(**params)
    estimator._validate_hyperparameters()
    return estimator


def fit_on_holdout(name: str, params: Mapping | None, x_fit: np.ndarray, y_fit: np.ndarray, x_val: np.ndarray,
                   y_val: np.ndarray, x_test: np.ndarray) -> tuple[np.ndarray, dict]:
    """Predictions at ``x_test`` of baseline ``name`` fitted on (x_fit, y_fit), its hyperparameter chosen on the
    held-out (x_val, y_val): the DNN's footing (N Sim 6.2), where the DNN trains on the first rows of its sample
    and stops early on the last ones. Returns the predictions and the chosen hyperparameter with its validation MSE.

    k-NN: k in 1..min(max_neighbors, len(x_fit)); Nadaraya-Watson: the configured bandwidth grid. Ties go to the
    smallest k or bandwidth, as in the leave-one-out versions.
    """
    estimator = make_intrinsic_baseline(name, params)
    x_fit, y_fit = np.asarray(x_fit, float), np.asarray(y_fit, float)
    x_val, x_test = np.asarray(x_val, float), np.asarray(x_test, float)
    if name == "knn":
        k_max = min(int(estimator.max_neighbors), len(y_fit))
        order = np.argsort(squared_distances(x_val, x_fit), axis=1, kind="stable")[:, :k_max]
        predictions = np.cumsum(y_fit[order], axis=1) / np.arange(1, k_max + 1)
        scores = np.mean((np.asarray(y_val, float)[:, None] - predictions) ** 2, axis=0)
        k = int(np.argmin(scores)) + 1
        test_order = np.argsort(squared_distances(x_test, x_fit), axis=1, kind="stable")[:, :k]
        return y_fit[test_order].mean(axis=1), {"k": k, "val_mse": float(scores[k - 1])}
    grid = estimator._validate_hyperparameters()
    relative = _relative_squared_distances(squared_distances(x_val, x_fit))
    scores = np.array([np.mean((np.asarray(y_val, float) - _nadaraya_watson(relative, y_fit, h)) ** 2)
                       for h in grid])
    best = int(np.argmin(scores))
    test_relative = _relative_squared_distances(squared_distances(x_test, x_fit))
    return (_nadaraya_watson(test_relative, y_fit, grid[best]),
            {"bandwidth": float(grid[best]), "val_mse": float(scores[best])})
