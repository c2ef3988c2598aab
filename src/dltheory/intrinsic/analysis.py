"""From the intrinsic-dimension run table to slopes, DNN-vs-baseline gaps and the claims of Nakada & Imaizumi.

Nakada & Imaizumi, JMLR 21(174), 2020 ("N"): Sim 6.1 (a d-sphere in [0, 1]^128, p. 12, Fig. 4) and Sim 6.2
(a union of an l^{1/2} ball and an l^2 ball, p. 13, Fig. 5). The run table is long: one row per (setting,
method, n, replicate, metric); ``mse`` is the squared L^2(mu) error against the noise-free target on fresh
points of the support, and may be NaN for a diverged DNN. Such a value never raises here: it makes the rows
it touches incomplete (NaN slope, NaN gap), and the claims that need them fail and say why.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dltheory.claims import Claim
from dltheory.seeds import rng_for
from dltheory.stats import bootstrap_slope_difference, replicate_slopes

__all__ = [
    "BASELINES",
    "PAPER_FIG5_BASELINE_LOG_ERROR",
    "PAPER_FIG5_DNN_LOG_ERROR",
    "SOURCE_BALLS",
    "SOURCE_SPHERE",
    "ball_claims",
    "ball_gaps",
    "intrinsic_rate_exponent",
    "is_dnn",
    "sphere_claims",
    "sphere_slopes",
]

SOURCE_SPHERE = "Nakada & Imaizumi, JMLR 21(174) 2020, Sec. 6.1, Fig. 4 (findings (i), (ii), p. 13)"
SOURCE_BALLS = "Nakada & Imaizumi, JMLR 21(174) 2020, Sec. 6.2 (p. 13)"

# Sim 6.2's competitors (N p. 13): "k-Nearest Neighbors" and "Kernel (Gaussian)", i.e. Nadaraya-Watson.
BASELINES = ("knn", "nadaraya_watson")

# Log L^2(mu) errors read off N's Fig. 5 (p. 13) by eye, not digitized: the DNNs lie at about -6 to -4, the
# k-NN and Nadaraya-Watson estimators at about +1 to +2, for both (D, d).
PAPER_FIG5_DNN_LOG_ERROR = (-6.0, -4.0)
PAPER_FIG5_BASELINE_LOG_ERROR = (1.0, 2.0)

_OURS_SPHERE = "sphere placement, epochs and batch size are ours"
_OURS_BALLS = "ball placement and radii, the DNNs' optimiser, epochs and batch size are ours"


def intrinsic_rate_exponent(beta: float, d: float) -> float:
    """Exponent r = 2 beta / (2 beta + d) of the risk n^{-r} for Hölder-beta f_0 on a support of dimension d.

    N Thm 7 (p. 9): clipped least squares over ReLU nets reaches ||f_hat - f_0||^2_{L^2(mu)} <=
    C n^{-2beta/(2beta+d)} (1 + log n)^2 for any d above the Minkowski dimension of supp mu; N Thm 8
    (p. 10): no estimator beats n^{-2beta/(2beta+d)} (minimax lower bound). The ambient D does not appear.
    The slope of log squared error against log n is therefore -r.
    """
    return 2.0 * beta / (2.0 * beta + d)


def is_dnn(method: str) -> bool:
    """Sim 6.2's DNN methods are named ``dnn...`` (e.g. ``dnn_l2w36``); every other method is a baseline."""
    return str(method).startswith("dnn")


def _error_matrix(mse_rows: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(replicates, sizes) squared errors and the sorted sizes; a missing run shows up as NaN."""
    wide = mse_rows.pivot(index="replicate", columns="n", values="value").sort_index(axis=1)
    return wide.to_numpy(dtype=float), wide.columns.to_numpy()


def _usable(errors: np.ndarray) -> np.ndarray:
    return np.isfinite(errors) & (errors > 0)


# --- Sim 6.1: the sphere ----------------------------------------------------------------------------------


def _sphere_record(rows: pd.DataFrame, d: int, seed: int, resamples: int, confidence: float) -> dict:
    info = rows.iloc[0]
    beta = float(info.beta)
    errors, sizes = _error_matrix(rows)
    usable = _usable(errors)
    complete = bool(usable.all())
    record = {
        "intrinsic_dim": d, "ambient_dim": int(info.ambient_dim), "beta": beta,
        "slope": np.nan, "low": np.nan, "high": np.nan, "confidence": confidence,
        "theory_slope": -intrinsic_rate_exponent(beta, d),
        "largest_n": int(sizes[-1]), "error_at_largest_n": np.nan,
        "replicates": errors.shape[0], "sizes": len(sizes),
        "nonfinite": int((~usable).sum()), "diverged": int(rows.diverged.astype(bool).sum()),
        "complete": complete,
    }
    if usable[:, -1].all():
        record["error_at_largest_n"] = float(np.exp(np.mean(np.log(errors[:, -1]))))
    if complete and len(sizes) >= 2:
        # Against a flat reference curve (slope 0) the bootstrapped slope difference is the slope itself.
        interval = bootstrap_slope_difference(errors, np.ones_like(errors), sizes, resamples, confidence,
                                              rng_for(seed, "intrinsic", "sphere", d))
        record.update(slope=replicate_slopes(errors, sizes), low=interval["low"], high=interval["high"])
    else:
        record["complete"] = False
    return record


def sphere_slopes(table: pd.DataFrame, seed: int, resamples: int, confidence: float,
                  method: str = "dnn") -> pd.DataFrame:
    """One row per intrinsic dimension d of Sim 6.1 (N p. 12): fitted and theoretical slope of log error vs log n.

    ``slope``: least-squares slope of the log geometric-mean (over replicates) squared L^2(mu) error against
    log n; ``low``/``high``: its percentile bootstrap interval at ``confidence`` over replicates, drawn from
    ``rng_for(seed, "intrinsic", "sphere", d)``; ``theory_slope`` = -2beta/(2beta+d) (N Thm 7, 8);
    ``error_at_largest_n``: geometric mean over replicates at the largest n. A d with any missing, non-finite
    or non-positive error (``nonfinite`` counts them; ``diverged`` counts runs flagged diverged) has
    ``complete`` False and NaN slope and interval; its ``error_at_largest_n`` is NaN only if a replicate at the
    largest n is unusable.
    """
    rows = table[(table.simulation == "sphere") & (table.metric == "mse") & (table.method == method)]
    records = [_sphere_record(group, int(d), seed, resamples, confidence)
               for d, group in rows.groupby("intrinsic_dim")]
    columns = ["intrinsic_dim", "ambient_dim", "beta", "slope", "low", "high", "confidence", "theory_slope",
               "largest_n", "error_at_largest_n", "replicates", "sizes", "nonfinite", "diverged", "complete"]
    return pd.DataFrame(records, columns=columns).sort_values("intrinsic_dim", ignore_index=True)


def _dims(ds) -> str:
    return "{" + ", ".join(str(int(d)) for d in ds) + "}"


def _incomplete_note(slopes: pd.DataFrame) -> str:
    incomplete = slopes[~slopes.complete]
    if incomplete.empty:
        return "every d complete"
    return "incomplete (non-finite or missing errors): " + "; ".join(
        f"d={int(r.intrinsic_dim)}: {int(r.nonfinite)} non-finite, {int(r.diverged)} diverged"
        for r in incomplete.itertuples())


def sphere_claims(slopes: pd.DataFrame) -> list[Claim]:
    """N's two findings on Sim 6.1 (p. 13), checked on :func:`sphere_slopes`.

    (i) "The error is lower with a fewer d": the geometric-mean errors at the largest n strictly increase
    with d. (ii) "The convergence rates with d in {4,16} are faster than those with d in {64,100}": every
    slope of the small-d group is more negative than every slope of the large-d group. For a general grid the
    small group is the d below the median of the configured d, the large group the rest (for {4, 16, 64, 100}
    that is the paper's split).
    """
    slopes = slopes.sort_values("intrinsic_dim")
    ds = slopes.intrinsic_dim.to_numpy()
    errors = slopes.error_at_largest_n.to_numpy(dtype=float)
    sizes = sorted(set(slopes.largest_n))
    at_n = f"n = {sizes[0]}" if len(sizes) == 1 else "each d's largest n (" + ", ".join(map(str, sizes)) + ")"
    ordered = bool(len(ds) >= 2 and np.all(np.isfinite(errors)) and np.all(np.diff(errors) > 0))
    error_claim = Claim(
        id="intrinsic.sphere.error_lower_with_fewer_d",
        source=SOURCE_SPHERE,
        statement="(i) The error is lower with a fewer d: on a d-sphere in [0,1]^D the DNN's error grows with d.",
        measured=", ".join(f"d={int(d)}: {e:.3g}" for d, e in zip(ds, errors, strict=True)),
        expected=f"geometric-mean squared L2(mu) error at the largest n strictly increasing in d over {_dims(ds)}",
        tolerance=None,
        holds=ordered,
        ours=True,
        detail=(f"errors at {at_n}, geometric mean over replicates; " + _incomplete_note(slopes)
                + ("" if len(ds) >= 2 else "; needs at least two d") + f"; {_OURS_SPHERE}"),
    )

    small = slopes[slopes.intrinsic_dim < np.median(ds)] if len(ds) else slopes
    large = slopes.drop(small.index)
    small_slopes, large_slopes = small.slope.to_numpy(dtype=float), large.slope.to_numpy(dtype=float)
    evaluable = len(small) > 0 and len(large) > 0
    fastest_small = float(np.max(small_slopes)) if len(small) else np.nan
    slowest_large = float(np.min(large_slopes)) if len(large) else np.nan
    faster = bool(evaluable and np.all(np.isfinite(small_slopes)) and np.all(np.isfinite(large_slopes))
                  and fastest_small < slowest_large)
    per_d = "; ".join(f"d={int(r.intrinsic_dim)}: {r.slope:.3f} [{r.low:.3f}, {r.high:.3f}] vs theory "
                      f"{r.theory_slope:.3f}" for r in slopes.itertuples())
    level = f"{slopes.confidence.iloc[0]:.0%}" if len(slopes) else ""
    rate_claim = Claim(
        id="intrinsic.sphere.rates_faster_with_small_d",
        source=SOURCE_SPHERE,
        statement=(f"(ii) The convergence rates with d in {_dims(small.intrinsic_dim)} are faster than those with "
                   f"d in {_dims(large.intrinsic_dim)}."),
        measured=(f"max slope over d in {_dims(small.intrinsic_dim)}: {fastest_small:.3f}; "
                  f"min slope over d in {_dims(large.intrinsic_dim)}: {slowest_large:.3f}"),
        expected="every small-d slope more negative than every large-d slope (max over small < min over large)",
        tolerance=None,
        holds=faster,
        ours=True,
        detail=("small group: d below the median of the configured d, large group: the rest (paper: {4,16} vs "
                f"{{64,100}}); slopes of log geometric-mean error vs log n with {level} bootstrap intervals: "
                f"{per_d}; " + _incomplete_note(slopes)
                + ("" if evaluable else "; needs d on both sides of the median") + f"; {_OURS_SPHERE}"),
    )
    return [error_claim, rate_claim]


# --- Sim 6.2: the union of balls --------------------------------------------------------------------------


def _mean_log_errors(rows: pd.DataFrame) -> pd.DataFrame:
    """Per (setting, n, method): mean over replicates of log mse, NaN if any replicate's error is unusable.

    A replicate missing from the table (fewer replicates than the setting has) counts as unusable too.
    """
    values = rows.value.to_numpy(dtype=float)
    usable = np.isfinite(values) & (values > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.where(usable, np.log(np.where(usable, values, 1.0)), np.nan)
    frame = rows.assign(log_error=logs, unusable=~usable)
    grouped = frame.groupby(["setting", "n", "method"])
    summary = grouped.agg(log_error=("log_error", "mean"), unusable=("unusable", "sum"),
                          replicates=("replicate", "nunique"))
    summary = summary.reset_index()
    expected = summary.setting.map(rows.groupby("setting").replicate.nunique())
    summary["unusable"] += expected - summary.replicates
    summary.loc[summary.unusable > 0, "log_error"] = np.nan
    return summary


def ball_gaps(table: pd.DataFrame) -> pd.DataFrame:
    """Per (setting, n, DNN method) of Sim 6.2 (N p. 13): the DNN's log error against the baselines'.

    Log errors are natural logs of the squared L^2(mu) error, averaged over replicates. Columns:
    ``dnn_log_error``, ``knn_log_error``, ``nadaraya_watson_log_error``, ``best_baseline`` (the baseline with
    the lower log error at that n) and ``gap`` = dnn_log_error - best baseline's (< 0: the DNN wins).
    A DNN or baseline with any missing or non-finite error at that n gives a NaN gap and ``complete`` False
    (``nonfinite`` counts the DNN's unusable replicates).
    """
    rows = table[(table.simulation == "balls") & (table.metric == "mse")]
    columns = ["setting", "ambient_dim", "intrinsic_dim", "n", "method", "dnn_log_error",
               *(f"{b}_log_error" for b in BASELINES), "best_baseline", "best_baseline_log_error", "gap",
               "replicates", "nonfinite", "complete"]
    if rows.empty:
        return pd.DataFrame(columns=columns)
    means = _mean_log_errors(rows)
    dims = rows.groupby("setting")[["ambient_dim", "intrinsic_dim"]].first()
    baselines = means[means.method.isin(BASELINES)].pivot(index=["setting", "n"], columns="method",
                                                          values="log_error")
    baselines = baselines.reindex(columns=list(BASELINES))
    records = []
    for row in means[means.method.map(is_dnn)].itertuples():
        key = (row.setting, row.n)
        levels = baselines.loc[key] if key in baselines.index else pd.Series(np.nan, index=list(BASELINES))
        complete = bool(np.isfinite(row.log_error) and levels.notna().all())
        best = str(levels.idxmin()) if levels.notna().any() else None
        best_level = float(levels.min()) if complete else np.nan
        records.append({
            "setting": row.setting, "ambient_dim": int(dims.loc[row.setting, "ambient_dim"]),
            "intrinsic_dim": int(dims.loc[row.setting, "intrinsic_dim"]), "n": int(row.n), "method": row.method,
            "dnn_log_error": float(row.log_error), **{f"{b}_log_error": float(levels[b]) for b in BASELINES},
            "best_baseline": best, "best_baseline_log_error": best_level,
            "gap": float(row.log_error - best_level) if complete else np.nan,
            "replicates": int(row.replicates), "nonfinite": int(row.unusable), "complete": complete,
        })
    gaps = pd.DataFrame(records, columns=columns)
    return gaps.sort_values(["ambient_dim", "intrinsic_dim", "setting", "method", "n"], ignore_index=True)


def _range(values) -> str:
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    return f"{values.min():+.2f}…{values.max():+.2f}" if values.size else "none"


def ball_claims(gaps: pd.DataFrame) -> list[Claim]:
    """N's finding on Sim 6.2 (p. 13), one claim per (D, d) setting: "DNNs outperform the other estimators".

    Holds when every gap of every DNN at every n is negative (the DNN's mean log error below both k-NN's and
    Nadaraya-Watson's); an incomplete row (NaN gap) counts against it. The paper's levels, read from Fig. 5,
    are quoted for comparison but not tested: our ball placement differs, so only the ordering is claimed.
    """
    claims = []
    dnn_low, dnn_high = PAPER_FIG5_DNN_LOG_ERROR
    base_low, base_high = PAPER_FIG5_BASELINE_LOG_ERROR
    for setting, rows in gaps.groupby("setting", sort=False):
        info = rows.iloc[0]
        shape = f"(D, d) = ({int(info.ambient_dim)}, {int(info.intrinsic_dim)})"
        losses = rows[rows.gap >= 0]
        incomplete = rows[~rows.complete]
        baseline_levels = rows[[f"{b}_log_error" for b in BASELINES]].to_numpy(dtype=float)
        notes = [("DNN loses at: " + "; ".join(f"n={int(r.n)} {r.method} (gap {r.gap:+.2f} vs {r.best_baseline})"
                                               for r in losses.itertuples()))
                 if len(losses) else "no DNN loses at any n with complete errors"]
        if len(incomplete):
            notes.append("incomplete (non-finite or missing errors): " + "; ".join(
                f"n={int(r.n)} {r.method}" for r in incomplete.itertuples()))
        notes.append(f"DNNs: {', '.join(sorted(rows.method.unique()))}; log = natural log of the squared L2(mu) "
                     f"error, mean over replicates; {_OURS_BALLS}")
        claims.append(Claim(
            id=f"intrinsic.balls.{setting}.dnns_beat_baselines",
            source=SOURCE_BALLS,
            statement=(f"DNNs outperform the other estimators (k-NN, Nadaraya-Watson with a Gaussian kernel, both "
                       f"CV-tuned) on a union of an l^(1/2) ball and an l^2 ball, {shape}, at every n."),
            measured=(f"gap {_range(rows.gap)}; DNN log error {_range(rows.dnn_log_error)}; "
                      f"baseline log error {_range(baseline_levels)}"),
            expected=(f"gap = mean log error(DNN) - mean log error(best baseline) < 0 for every DNN at every n; "
                      f"paper's Fig. 5 (values read from the figure): DNN log error about {dnn_low:g} to "
                      f"{dnn_high:g}, k-NN and NW about +{base_low:g} to +{base_high:g}"),
            tolerance=None,
            holds=bool(len(rows) > 0 and rows.complete.all() and (rows.gap < 0).all()),
            ours=True,
            detail="; ".join(notes),
        ))
    return claims
