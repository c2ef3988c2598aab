"""Fitted slopes of log error against log n, and bootstrap intervals over replicates."""

import numpy as np


def loglog_slope(n: np.ndarray, error: np.ndarray) -> float:
    """Least-squares slope of log(error) on log(n); a curve with a non-positive or non-finite error has none."""
    n, error = np.asarray(n, float), np.asarray(error, float)
    if np.any(~np.isfinite(error)) or np.any(error <= 0):
        return float("nan")
    return float(np.polyfit(np.log(n), np.log(error), 1)[0])


def replicate_slopes(errors: np.ndarray, n: np.ndarray) -> float:
    """Slope of the replicate-averaged log error: errors has shape (replicates, len(n))."""
    return loglog_slope(n, np.exp(np.mean(np.log(errors), axis=0)))


def bootstrap_slope_difference(
    errors_a: np.ndarray,
    errors_b: np.ndarray,
    n: np.ndarray,
    resamples: int,
    confidence: float,
    rng: np.random.Generator,
) -> dict:
    """Slope of method a minus slope of method b, with a percentile bootstrap interval.

    errors_a and errors_b have shape (replicates, sizes) and are paired: replicate r of both methods was
    fitted on the same data, so replicates are resampled jointly.
    """
    errors_a, errors_b = np.asarray(errors_a, float), np.asarray(errors_b, float)
    replicates = errors_a.shape[0]
    log_n = np.log(np.asarray(n, float))
    centred = log_n - log_n.mean()

    def slopes(log_errors: np.ndarray) -> np.ndarray:
        # Slope of each resample's mean curve; a closed form so thousands of resamples cost one matmul.
        mean_curves = log_errors.mean(axis=1)
        return mean_curves @ centred / (centred @ centred)

    draws = rng.integers(0, replicates, size=(resamples, replicates))
    with np.errstate(divide="ignore", invalid="ignore"):
        log_a, log_b = np.log(errors_a), np.log(errors_b)
    differences = slopes(log_a[draws]) - slopes(log_b[draws])
    tail = (1 - confidence) / 2
    low, high = np.quantile(differences, [tail, 1 - tail]) if np.all(np.isfinite(differences)) else (np.nan,) * 2
    estimate = replicate_slopes(errors_a, n) - replicate_slopes(errors_b, n)
    return {"difference": float(estimate), "low": float(low), "high": float(high)}
