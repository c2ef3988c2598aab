"""Fitted slopes of log error against log n, and Student-t intervals of slope differences over paired replicates."""

import numpy as np


def loglog_slope(n: np.ndarray, error: np.ndarray) -> float:
    """Least-squares slope of log(error) on log(n); a curve with a non-positive or non-finite error has none."""
    n, error = np.asarray(n, float), np.asarray(error, float)
    if np.any(~np.isfinite(error)) or np.any(error <= 0):
        return float("nan")
    return float(np.polyfit(np.log(n), np.log(error), 1)[0])


def _slopes(log_curves: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Least-squares slope against log n of every row of ``log_curves`` (closed form, one matmul)."""
    centred = np.log(np.asarray(n, float))
    centred = centred - centred.mean()
    return log_curves @ centred / (centred @ centred)


def row_slopes(values) -> np.ndarray:
    """Each row's (replicate's) log-log least-squares slope against the columns of a (replicate x n) DataFrame;
    NaN for a row with a non-positive or non-finite value (:func:`loglog_slope`)."""
    n = values.columns.to_numpy(float)
    return np.array([loglog_slope(n, row) for row in values.to_numpy(float)])


def replicate_slopes(errors: np.ndarray, n: np.ndarray) -> float:
    """Slope of the replicate-averaged log error: errors has shape (replicates, len(n))."""
    return loglog_slope(n, np.exp(np.mean(np.log(errors), axis=0)))


def mean_interval(values, confidence: float) -> dict:
    """Mean of independent replicates with its Student-t interval, mean ± t_{R-1} · sd / √R.

    Returns mean, low, high and replicates; with fewer than 2 replicates or a non-finite value the ends are NaN.
    Every family's replicate interval is this one (slope differences, log ratios, per-seed statistics).
    """
    from scipy import stats as scipy_stats

    values = np.asarray(values, float).ravel()
    replicates = int(values.size)
    result = {"mean": float(values.mean()) if replicates else float("nan"), "low": float("nan"),
              "high": float("nan"), "replicates": replicates}
    if replicates >= 2 and np.all(np.isfinite(values)):
        half = float(scipy_stats.t.ppf(0.5 + confidence / 2, replicates - 1) * values.std(ddof=1) / np.sqrt(replicates))
        result.update(low=result["mean"] - half, high=result["mean"] + half)
    return result


def slope_difference_interval(errors_a: np.ndarray, errors_b: np.ndarray, n: np.ndarray, confidence: float) -> dict:
    """Slope of method a minus slope of method b with a Student-t interval over paired replicates (issue 19).

    errors_a and errors_b have shape (replicates, sizes); replicate r of both was fitted on the same data, so the
    per-replicate differences d_r = slope(log a_r) − slope(log b_r) are independent draws, and the interval is
    mean(d) ± t_{R−1} · sd(d) / √R. Least squares is linear, so mean(d) equals the difference of the slopes of the
    replicate-averaged log curves (``replicate_slopes``). Unlike a percentile bootstrap over 2–3 replicates (the
    min–max of at most 3 values), its coverage is exact for normal differences at any R ≥ 2; with one replicate, or
    a non-finite error, there is no interval (NaN). Returns difference, low, high, replicates and the method.
    """
    errors_a, errors_b = np.asarray(errors_a, float), np.asarray(errors_b, float)
    if errors_a.shape != errors_b.shape or errors_a.ndim != 2:
        raise ValueError(f"paired errors need one shape (replicates, sizes), got {errors_a.shape} and "
                         f"{errors_b.shape}")
    replicates = errors_a.shape[0]

    def slopes(errors):  # each replicate's log-log slope; none where an error is not > 0
        usable = np.all(np.isfinite(errors) & (errors > 0), axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(usable, _slopes(np.log(errors), n), np.nan)

    interval = mean_interval(slopes(errors_a) - slopes(errors_b), confidence)
    return {"difference": interval["mean"], "low": interval["low"], "high": interval["high"],
            "replicates": int(replicates), "method": "t"}


def wilson_interval(proportion, pairs, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson's score interval for a binomial proportion observed over ``pairs`` trials (pairs may be a Kish
    effective count, and the proportion a mean over subsamples of the same pairs); (NaN, NaN) for no pairs."""
    p, n = float(proportion), float(pairs)
    if not n > 0 or not np.isfinite(p):
        return float("nan"), float("nan")
    from scipy import stats as scipy_stats

    z = float(scipy_stats.norm.ppf(0.5 + confidence / 2))
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return float(max(0.0, centre - half)), float(min(1.0, centre + half))
