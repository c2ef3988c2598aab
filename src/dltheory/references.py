"""Trivial references for the "did it learn" guard of the regression families (issue 19).

A fitted estimator has learned something only if it beats the constant predictor by a clear margin. For a
regression run with noise-free test values f(X_test), the constant predictor's squared L2 error is Var f (the
best constant is the mean of f), and a linear reference is ridge regression on the standardised raw inputs with
its penalty chosen by exact leave-one-out CV. A run whose error is not below ``LEARNED_FRACTION`` x Var f is
flagged in the tables and the report, and no claim counts it as evidence.

Torch-free and cheap (ridge on n <= 10^4 points in D <= 128 takes milliseconds), so every job that simulates
data can record the references beside it.
"""

from __future__ import annotations

import numpy as np

__all__ = ["LEARNED_FRACTION", "RIDGE_PENALTIES", "constant_mse", "learned", "learned_replicates", "ridge_mse"]

# A run learned when its error is below this fraction of Var f (the constant predictor's error): the issue's
# threshold, fixed before any run that reads it.
LEARNED_FRACTION = 0.5

# Penalties of the ridge reference on standardised inputs (lambda in sum of squares + lambda |w|^2).
RIDGE_PENALTIES = np.logspace(-6, 6, 25)
RIDGE_PENALTIES.setflags(write=False)


def constant_mse(test_f: np.ndarray) -> float:
    """Squared L2 error of the best constant predictor, Var f, on the noise-free test values."""
    test_f = np.asarray(test_f, float)
    return float(np.mean((test_f - test_f.mean()) ** 2))


def ridge_mse(train_x: np.ndarray, train_y: np.ndarray, test_x: np.ndarray, test_f: np.ndarray,
              penalties: np.ndarray = RIDGE_PENALTIES) -> tuple[float, float]:
    """(squared L2 error on the test points, chosen penalty) of ridge regression with an intercept.

    Inputs are standardised by the training sample's mean and SD (a coordinate constant on the sample is left
    centred, at 0); the penalty minimises the exact leave-one-out error, computed from one SVD for every penalty.
    """
    x, y = np.asarray(train_x, float), np.asarray(train_y, float)
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale = np.where(scale > 1e-12 * max(1.0, float(np.abs(mean).max(initial=0.0))), scale, 1.0)
    z = (x - mean) / scale
    y_mean = y.mean()
    u, s, vt = np.linalg.svd(z, full_matrices=False)
    uy = u.T @ (y - y_mean)
    n = len(y)
    best = (np.inf, float(penalties[0]))
    for penalty in penalties:
        shrink = s**2 / (s**2 + penalty)
        fitted = u @ (shrink * uy)
        # Leverage of the ridge smoother plus 1/n for the intercept.
        leverage = np.einsum("ij,j,ij->i", u, shrink, u) + 1.0 / n
        loo = np.mean(((y - y_mean - fitted) / np.maximum(1.0 - leverage, 1e-12)) ** 2)
        if loo < best[0]:
            best = (float(loo), float(penalty))
    penalty = best[1]
    weights = vt.T @ ((s / (s**2 + penalty)) * uy)
    prediction = y_mean + ((np.asarray(test_x, float) - mean) / scale) @ weights
    return float(np.mean((prediction - np.asarray(test_f, float)) ** 2)), penalty


def learned(mse, constant: float | np.ndarray, fraction: float = LEARNED_FRACTION) -> np.ndarray:
    """True where the error is finite and below ``fraction`` x the constant predictor's error."""
    mse = np.asarray(mse, float)
    with np.errstate(invalid="ignore"):
        return np.isfinite(mse) & (mse < fraction * np.asarray(constant, float))


def learned_replicates(*flags: np.ndarray) -> np.ndarray:
    """Replicates (rows) where every run of every method learned: flags have shape (replicates, sizes).

    A paired comparison keeps only these rows, so a replicate in which either method failed to learn at any n is
    left out of its slope-difference interval (and the claim says how many replicates remain).
    """
    rows = np.ones(np.asarray(flags[0]).shape[0], bool)
    for flag in flags:
        rows &= np.all(np.asarray(flag, bool), axis=1)
    return rows
