"""Summaries of the overparam tables and the claims M12-1 ... M12-6 (../shared/papers/overparam.md; issue 24).

Every claim rests on the seeds of its part: a Student-t interval over seeds (dltheory.stats.mean_interval), and
as in the other families a claim holds only when that whole interval lies in its accepted region (a mean inside with
the interval across the threshold is not enough: dltheory.claims.interval_diagnosis then calls it scale).
Did-it-learn guard: a random-features curve (one seed, noise rate and estimator) counts when its best test error
beats the majority-class predictor's; a trained network counts when its own test error does. The ridgeless fit at
N = n is *meant* to be bad (that is the peak), so the random-features guard is per curve, not per point.
Runs that fail the guard are named in the claims' details and left out.
"""

import dataclasses
import math

import numpy as np
import pandas as pd

from dltheory.claims import Claim, interval_failure
from dltheory.claims import interval_inside as _inside
from dltheory.overparam.settings import FAMILY, OverparamSettings
from dltheory.settings import from_config
from dltheory.stats import mean_interval

SLIDES = "Imaizumi, JST slides 2021-12-15 (seed 001), slide 性能をめぐる理論の謎"
NAKADA = "Nakada & Imaizumi, arXiv 2103.00500 (abstract)"
SCHMIDT_HIEBER = "Imaizumi & Schmidt-Hieber, IEEE Trans. Inf. Theory 2023 (arXiv 2201.04545, abstract)"
PEERS = "Belkin et al., PNAS 2019; Nakkiran et al., ICLR 2020 (peers)"
NOISE_NAMES = {0.0: "clean"}


def noise_name(rate: float) -> str:
    return NOISE_NAMES.get(float(rate), f"noise{round(100 * float(rate))}")


def _wide(frame: pd.DataFrame, index) -> pd.DataFrame:
    wide = frame.pivot_table(index=index, columns="metric", values="value", aggfunc="first")
    return wide.reset_index().rename_axis(columns=None)


def rf_summary(table: pd.DataFrame) -> pd.DataFrame:
    """One row per (replicate, label noise, N/n, estimator): ``ridgeless`` and ``ridge_tuned`` (the penalty with the
    smallest validation MSE; never chosen on test), with train/validation/test error and MSE, the penalty, and
    ``learned`` (the curve's best test error beats the majority-class predictor's)."""
    rf = table[(table.part == "random_features") & table.estimator.isin(["ridgeless", "ridge"])]
    rf = rf[rf.metric != "lstsq_relative_gap"]
    wide = _wide(rf, ["replicate", "label_noise", "ratio", "features", "parameters", "estimator", "penalty"])
    ridge = wide[wide.estimator == "ridge"]
    tuned = ridge.loc[ridge.groupby(["replicate", "label_noise", "ratio"]).validation_mse.idxmin()]
    summary = pd.concat([wide[wide.estimator == "ridgeless"], tuned.assign(estimator="ridge_tuned")],
                        ignore_index=True)
    majority = _majority(table, "random_features")
    summary = summary.merge(majority, on=["replicate", "label_noise"])
    best = summary.groupby(["replicate", "label_noise", "estimator"]).test_error.transform("min")
    summary["learned"] = best < summary.majority_error
    return summary.sort_values(["estimator", "label_noise", "replicate", "ratio"]).reset_index(drop=True)


def _majority(table: pd.DataFrame, part: str) -> pd.DataFrame:
    rows = table[(table.part == part) & (table.metric == "majority_error")]
    if part == "random_features":
        rows = table[(table.part == part) & (table.estimator == "majority") & (table.metric == "test_error")]
    return (rows.groupby(["replicate", "label_noise"]).value.first().rename("majority_error").reset_index())


def mlp_summary(table: pd.DataFrame) -> pd.DataFrame:
    """One row per trained network (replicate, label noise, width) with its errors, losses, the 0-1 gap
    (test - train error), the product of spectral norms and ``learned`` (test error below the majority class's)."""
    mlp = table[table.part == "mlp"]
    wide = _wide(mlp, ["replicate", "label_noise", "width", "parameters", "steps"])
    wide["width"] = wide.width.astype(int)
    wide["gap"] = wide.test_error - wide.train_error
    wide["learned"] = (wide.test_error < wide.majority_error) & np.isfinite(wide.final_step_loss)
    return wide.sort_values(["label_noise", "replicate", "width"]).reset_index(drop=True)


def parallel_summary(table: pd.DataFrame) -> pd.DataFrame:
    """One row per (replicate, M): the test error of the average of M networks, and ``learned`` against the
    majority class."""
    parallel = table[(table.part == "parallel") & (table.metric == "test_error")]
    summary = parallel[["replicate", "label_noise", "width", "members", "value"]].rename(
        columns={"value": "test_error"})
    summary = summary.astype({"members": int, "width": int}).merge(_majority(table, "parallel"),
                                                                  on=["replicate", "label_noise"])
    summary["learned"] = summary.test_error < summary.majority_error
    return summary.sort_values(["replicate", "members"]).reset_index(drop=True)


def interpolation_index(train_error: np.ndarray, threshold: float) -> int | None:
    """Index of the first width whose (seed-mean) training error is at most ``threshold``; None if none."""
    hits = np.flatnonzero(np.asarray(train_error) <= threshold)
    return int(hits[0]) if hits.size else None


def interior_local_maxima(values: np.ndarray) -> list[int]:
    """Indices j (not the ends) with values[j] > values[j - 1] and values[j] >= values[j + 1]."""
    values = np.asarray(values, float)
    return [j for j in range(1, len(values) - 1) if values[j] > values[j - 1] and values[j] >= values[j + 1]]


def gap_slope(parameters, gap) -> float:
    """Least-squares slope of the 0-1 gap against log10 P (points of error per decade of parameters)."""
    return float(np.polyfit(np.log10(np.asarray(parameters, float)), np.asarray(gap, float), 1)[0])


def _interval(values, confidence) -> dict:
    return mean_interval(np.asarray(values, float), confidence)


def _interval_failure(interval: dict, lower=-math.inf, upper=math.inf) -> tuple[str, str]:
    """Diagnosis and evidence (with its leading space, for the details below) of an interval not wholly in
    [lower, upper]."""
    diagnosis, why = interval_failure(interval, lower, upper)
    return diagnosis, " " + why


def _fmt(value: float, digits: int = 3) -> str:
    return f"{value:.{digits}f}" if math.isfinite(value) else "nan"


def _points(value: float) -> str:
    return f"{100 * value:.1f}" if math.isfinite(value) else "nan"


def _by_width(widths, values) -> str:
    return ", ".join(f"{w}: {_points(v)}" for w, v in zip(widths, values, strict=True))


def _claim(**fields) -> Claim:
    return Claim(**fields)


def _excluded(frame: pd.DataFrame, what: str) -> str:
    bad = frame[~frame.learned]
    if bad.empty:
        return f"Did-it-learn guard: every {what} beat the majority-class predictor."
    names = ", ".join(sorted({f"seed {r.replicate}" + (f" width {r.width}" if "width" in r else "")
                              for r in bad.itertuples()}))
    return f"Did-it-learn guard: left out ({what} not beating the majority class): {names}."


def rf_claims(summary: pd.DataFrame, claims) -> list[Claim]:
    """M12-1 (ridgeless peak at N/n ~ 1), M12-2 (largest N/n at least as good as the best N/n < 1), M12-3 (no peak
    with validation-tuned ridge), per label-noise rate."""
    out = []
    for noise in sorted(summary.label_noise.unique()):
        name = noise_name(noise)
        curves = summary[(summary.label_noise == noise) & summary.learned]
        ridgeless = curves[curves.estimator == "ridgeless"]
        tuned = curves[curves.estimator == "ridge_tuned"]
        guard = _excluded(summary[(summary.label_noise == noise)].drop_duplicates(["replicate", "estimator"]),
                          "random-features curve")
        setting = f"digits, n = {int(ridgeless.features.max() / ridgeless.ratio.max()) if len(ridgeless) else 0}" \
                  f", label noise {noise:g}"

        # M12-1
        peaks, factors = [], []
        for _, seed in ridgeless.groupby("replicate"):
            peak = seed.loc[seed.test_mse.idxmax()]
            small = seed[seed.ratio <= claims.small_ratio + 1e-12].test_mse.min()
            peaks.append(float(peak.ratio))
            factors.append(math.log10(peak.test_mse / small))
        interval = _interval(factors, claims.confidence)
        in_window = [claims.peak_low <= p <= claims.peak_high for p in peaks]
        holds = bool(peaks) and all(in_window) and _inside(interval, lower=math.log10(claims.peak_factor))
        diagnosis, why = ("", "") if holds else ("finding", " The ridgeless fit does not peak where the threshold "
                                                            "is; see rf_curves.")
        if bool(peaks) and all(in_window) and not holds:
            diagnosis, why = _interval_failure(interval, lower=math.log10(claims.peak_factor))
        out.append(_claim(
            id=f"{FAMILY}.rf_ridgeless_peak_at_interpolation.{name}", source=PEERS,
            statement="The ridgeless (min-norm) random-features test error peaks at the interpolation threshold "
                      "N = n and falls again beyond it (double descent; M12-1).",
            measured=10 ** interval["mean"],
            expected=f"every seed's test-MSE peak at N/n in [{claims.peak_low}, {claims.peak_high}] and the peak "
                     f">= {claims.peak_factor:g} x the smallest MSE at N/n <= {claims.small_ratio} (geometric mean "
                     "over seeds)",
            tolerance=claims.peak_factor, holds=holds, ours=True,
            interval=(10 ** interval["low"], 10 ** interval["high"]),
            interval_kind=f"{claims.confidence:.0%} t-interval of log10(peak / small-model MSE) over seeds",
            replicates=interval["replicates"],
            diagnosis=diagnosis,
            detail=f"Peak at N/n = {peaks} per seed; peak / smallest MSE = "
                   f"{', '.join(_fmt(10 ** f, 1) for f in factors)}. {setting}; min-norm through a float64 SVD. "
                   f"{guard}{why}"))

        # M12-2 and its noisy counterpart (the slide's statement for this model class)
        largest, best_small, diffs = [], [], []
        for _, seed in ridgeless.groupby("replicate"):
            top = float(seed.loc[seed.ratio.idxmax()].test_error)
            small = float(seed[seed.ratio < 1].test_error.min())
            largest.append(top)
            best_small.append(small)
            diffs.append(top - small)
        measured = float(np.median(largest) - np.median(best_small)) if diffs else float("nan")
        interval = _interval(diffs, claims.confidence)
        holds = _inside(interval, upper=claims.largest_margin)
        ridge_note = ""
        if len(tuned):
            t_large = tuned[tuned.ratio == tuned.ratio.max()].groupby("replicate").test_error.first().median()
            t_small = tuned[tuned.ratio < 1].groupby("replicate").test_error.min().median()
            ridge_note = (f" With validation-tuned ridge the largest model's median test error is {_points(t_large)} % "
                          f"against {_points(t_small)} % for its best N/n < 1.")
        diagnosis = ""
        why = ""
        if not holds and interval["low"] <= claims.largest_margin:
            diagnosis, why = _interval_failure(interval, upper=claims.largest_margin)
        elif not holds:
            diagnosis = "finding"
            why = (" Finding: with noisy labels the ridgeless fit interpolates the noise at every N >= n, and at "
                   f"N/n = {ridgeless.ratio.max():g} it has not recovered the best under-parameterised error; the "
                   "slide's 'more parameters, better accuracy' does not hold for min-norm random features here "
                   "(compare the trained networks' claim mlp_widest_at_least_as_good)." if noise > 0 else
                   " Finding: the largest ridgeless model is worse than the best small one.")
        out.append(_claim(
            id=f"{FAMILY}.rf_largest_at_least_as_good.{name}", source=SLIDES,
            statement="The more parameters, the better the prediction accuracy: the largest random-features model "
                      "is at least as accurate as the best under-parameterised one (M12-2"
                      + (", with label noise: which model class the slide's statement holds for)." if noise > 0
                         else ")."),
            measured=measured,
            expected=f"per seed, test error at N/n = {ridgeless.ratio.max():g} minus the best over N/n < 1 <= "
                     f"{claims.largest_margin:g} (the whole interval; measured: the difference of the medians)",
            tolerance=claims.largest_margin, holds=holds, ours=True,
            interval=(interval["low"], interval["high"]),
            interval_kind=f"{claims.confidence:.0%} t-interval over seeds of (largest - best small) test error",
            replicates=interval["replicates"], diagnosis=diagnosis,
            detail=f"Ridgeless: test error at the largest N/n {', '.join(_points(v) for v in largest)} % against "
                   f"the best at N/n < 1 {', '.join(_points(v) for v in best_small)} % per seed "
                   f"({setting}).{ridge_note} {guard}{why}"))

        # M12-3
        ratios = []
        grid = np.sort(tuned.ratio.unique())
        reference_ratio = float(grid[np.argmin(np.abs(grid - claims.ridge_reference))]) if len(grid) else math.nan
        for _, seed in tuned.groupby("replicate"):
            near = seed[(seed.ratio >= claims.peak_low - 1e-12) & (seed.ratio <= claims.peak_high + 1e-12)]
            reference = seed[seed.ratio == reference_ratio].test_mse
            ratios.append(float(near.test_mse.max() / reference.iloc[0]) if len(reference) else float("nan"))
        interval = _interval(ratios, claims.confidence)
        holds = _inside(interval, upper=claims.ridge_factor)
        diagnosis, why = ("", "") if holds else _interval_failure(interval, upper=claims.ridge_factor)
        penalties = tuned.groupby("ratio").penalty.median()
        out.append(_claim(
            id=f"{FAMILY}.rf_tuned_ridge_has_no_peak.{name}", source=NAKADA,
            statement="With the penalty tuned, the penalised estimator follows the regularised risk curve rather "
                      "than double descent: no peak at the interpolation threshold (M12-3).",
            measured=interval["mean"],
            expected=f"max test MSE over N/n in [{claims.peak_low}, {claims.peak_high}] / test MSE at N/n = "
                     f"{reference_ratio:g} <= {claims.ridge_factor} (the whole interval over seeds)",
            tolerance=claims.ridge_factor, holds=holds, ours=True,
            interval=(interval["low"], interval["high"]),
            interval_kind=f"{claims.confidence:.0%} t-interval over seeds", replicates=interval["replicates"],
            diagnosis=diagnosis,
            detail=f"Per seed: {', '.join(_fmt(r) for r in ratios)}. Penalty chosen on the validation MSE (noisy "
                   f"labels where the training labels are), median over seeds {penalties.min():.0e} to "
                   f"{penalties.max():.0e} across N/n. {guard}" + ("" if holds else
                   " The tuned ridge still rises near N = n: the penalty grid or the validation set may be too "
                   "coarse to remove the peak here." + why)))
    return out


def mlp_claims(summary: pd.DataFrame, claims) -> list[Claim]:
    """M12-4 (peak near the interpolation width under label noise, widest net below it), the slide's statement for
    trained networks per noise rate, and M12-5 (the 0-1 gap does not grow with P past interpolation)."""
    out = []
    for noise in sorted(summary.label_noise.unique()):
        name = noise_name(noise)
        rows = summary[summary.label_noise == noise]
        guard = _excluded(rows, "network")
        learned = rows[rows.learned]
        curve = learned.groupby("width")[["train_error", "test_error", "parameters"]].mean()
        widths = curve.index.to_numpy()
        star = interpolation_index(curve.train_error.to_numpy(), claims.interpolation_error)
        star_text = (f"first width with mean train error <= {claims.interpolation_error:g}: "
                     f"h = {widths[star]}" if star is not None else "no width interpolates")
        per_seed = learned.pivot_table(index="replicate", columns="width", values="test_error")
        setting = f"one hidden layer, full-batch Adam, {int(rows.steps.iloc[0])} steps"

        if noise > 0:  # M12-4
            test = curve.test_error.to_numpy()
            maxima = interior_local_maxima(test)
            near = [j for j in maxima if star is not None and abs(j - star) <= claims.peak_steps]
            if near:
                peak = max(near, key=lambda j: test[j])
                diffs = (per_seed[widths[peak]] - per_seed[widths[-1]]).dropna().to_numpy()
                interval = _interval(diffs, claims.confidence)
                holds = _inside(interval, lower=claims.peak_margin)
                measured = interval["mean"]
                peak_text = (f"peak at h = {widths[peak]} ({_points(test[peak])} %, "
                             f"{_points(test[peak] - test[peak - 1])} points above h = {widths[peak - 1]} and "
                             f"{_points(test[peak] - test[peak + 1])} above h = {widths[peak + 1]})")
            else:
                interval, holds = _interval([], claims.confidence), False
                measured = "no local maximum near the interpolation width"
                peak_text = f"no interior local maximum within {claims.peak_steps} grid step(s)"
            peak_diagnosis, peak_why = ("", "") if holds else ("finding", "") if not near else _interval_failure(
                interval, lower=claims.peak_margin)
            out.append(_claim(
                id=f"{FAMILY}.mlp_peak_near_interpolation_width.{name}", source=PEERS,
                statement="Under label noise the trained network's test error peaks near the width where it first "
                          "fits its training labels, and the widest network is well below that peak (M12-4).",
                measured=measured,
                expected=f"an interior local maximum of the mean test error within {claims.peak_steps} grid step(s) "
                         f"of the interpolation width, and peak - widest >= {claims.peak_margin:g} (the whole "
                         "interval over seeds)",
                tolerance=claims.peak_margin, holds=bool(holds), ours=True,
                interval=(interval["low"], interval["high"]) if math.isfinite(interval["low"]) else None,
                interval_kind=f"{claims.confidence:.0%} t-interval over seeds of (peak - widest) test error"
                if math.isfinite(interval["low"]) else "",
                replicates=interval["replicates"] or None, diagnosis=peak_diagnosis,
                detail=f"{peak_text}; local maxima at h = {[int(widths[j]) for j in maxima]}; {star_text}. Mean "
                       f"test error by width: {_by_width(widths, test)} %. "
                       f"{setting}, label noise {noise:g}. {guard}{peak_why}"))

        # The slide's statement for trained networks
        under = [j for j in range(len(widths)) if star is None or j < star]
        if under:
            small = per_seed[[widths[j] for j in under]].min(axis=1)
            top = per_seed[widths[-1]]
            measured = float(top.median() - small.median())
            interval = _interval((top - small).dropna(), claims.confidence)
        else:
            measured, interval = float("nan"), _interval([], claims.confidence)
        holds = _inside(interval, upper=claims.largest_margin)
        widest_diagnosis, widest_why = ("", "") if holds else _interval_failure(interval, upper=claims.largest_margin)
        out.append(_claim(
            id=f"{FAMILY}.mlp_widest_at_least_as_good.{name}", source=SLIDES,
            statement="The more parameters, the better the prediction accuracy: the widest trained network is at "
                      "least as accurate as the best one narrower than the interpolation width.",
            measured=measured,
            expected=f"per seed, test error at h = {widths[-1]} minus the best over the widths below the "
                     f"interpolation width <= {claims.largest_margin:g} (the whole interval; measured: the "
                     "difference of the medians)",
            tolerance=claims.largest_margin, holds=bool(holds), ours=True,
            interval=(interval["low"], interval["high"]) if math.isfinite(interval["low"]) else None,
            interval_kind=f"{claims.confidence:.0%} t-interval over seeds" if math.isfinite(interval["low"]) else "",
            replicates=interval["replicates"] or None, diagnosis=widest_diagnosis,
            detail=f"Median over seeds: widest h = {widths[-1]} {_points(float(per_seed[widths[-1]].median()))} %, "
                   "best "
                   f"under-parameterised {_points(float(small.median())) if under else 'nan'} % (widths "
                   f"{[int(widths[j]) for j in under]}; {star_text}). Label noise {noise:g}, {setting}. "
                   f"{guard}{widest_why}"))

        # M12-5
        slopes = []
        if star is not None and len(widths) - star >= 2:
            beyond = learned[learned.width >= widths[star]]
            slopes = [gap_slope(seed.parameters, seed.gap) for _, seed in beyond.groupby("replicate")]
        interval = _interval(slopes, claims.confidence)
        holds = bool(slopes) and _inside(interval, upper=claims.gap_slope_max)
        gap_diagnosis, gap_why = ("", "") if holds or not slopes else _interval_failure(
            interval, upper=claims.gap_slope_max)
        out.append(_claim(
            id=f"{FAMILY}.mlp_gap_does_not_grow_beyond_interpolation.{name}", source=SCHMIDT_HIEBER,
            statement="The generalisation gap is bounded by the loss surface's shape, not by the number of "
                      "parameters: past the interpolation width the gap does not grow with P (M12-5; our "
                      "operationalisation).",
            measured=interval["mean"],
            expected=f"least-squares slope of (test - train error) against log10 P over widths >= the "
                     f"interpolation width <= {claims.gap_slope_max:g} per decade (the whole interval over seeds)",
            tolerance=claims.gap_slope_max, holds=holds, ours=True,
            interval=(interval["low"], interval["high"]) if math.isfinite(interval["low"]) else None,
            interval_kind=f"{claims.confidence:.0%} t-interval over seeds" if math.isfinite(interval["low"]) else "",
            replicates=interval["replicates"] or None, tested=bool(slopes),
            diagnosis=gap_diagnosis,
            detail=(f"Slopes per seed: {', '.join(_fmt(s, 4) for s in slopes)} per decade; {star_text}. The "
                    "theorem's d, K, S are not measured (gap_vs_parameters shows the gap against the product of "
                    f"spectral norms too). Label noise {noise:g}. {guard}{gap_why}") if slopes else
                   f"Not tested: fewer than two widths past the interpolation width ({star_text}). {guard}"))
    return out


def parallel_claims(summary: pd.DataFrame, claims) -> list[Claim]:
    """M12-6: the average of M parallel networks improves (weakly) with M."""
    learned = summary[summary.learned]
    curve = learned.groupby("members").test_error.mean()
    members = curve.index.to_numpy()
    rises = np.diff(curve.to_numpy())
    per_seed = learned.pivot_table(index="replicate", columns="members", values="test_error")
    diffs = (per_seed[members[0]] - per_seed[members[-1]]).dropna()
    interval = _interval(diffs, claims.confidence)
    monotone = bool(len(rises)) and rises.max() <= claims.parallel_tolerance
    holds = monotone and _inside(interval, lower=0.0) and interval["low"] > 0
    diagnosis, why = ("", "") if holds else ("finding", "") if not monotone else _interval_failure(interval, lower=0.0)
    guard = ("Did-it-learn guard: every ensemble beat the majority class." if summary.learned.all() else
             f"Did-it-learn guard: left out {int((~summary.learned).sum())} (seed, M) pairs.")
    width = int(summary.width.iloc[0])
    return [_claim(
        id=f"{FAMILY}.parallel_improves_with_members", source=NAKADA,
        statement="Parallel networks (the average of M networks) have a small risk; the average improves as "
                  "members are added (M12-6; our setting).",
        measured=interval["mean"],
        expected=f"mean test error non-increasing in M within {claims.parallel_tolerance:g} and "
                 f"error(M = {members[0]}) - error(M = {members[-1]}) > 0 (the whole interval over seeds)",
        tolerance=claims.parallel_tolerance, holds=bool(holds), ours=True,
        interval=(interval["low"], interval["high"]), interval_kind=f"{claims.confidence:.0%} t-interval over "
        f"seeds of error(M = {members[0]}) - error(M = {members[-1]})", replicates=interval["replicates"],
        diagnosis=diagnosis,
        detail=f"Members of width {width}, label noise {summary.label_noise.iloc[0]:g}; mean test error by M: "
               f"{', '.join(f'{m}: {_points(e)}' for m, e in curve.items())} %; largest rise "
               f"{_points(rises.max()) if len(rises) else 'nan'} points. {guard}{why}")]


def sanity_claim(table: pd.DataFrame, claims) -> Claim:
    """Known answer: the SVD min-norm fit equals numpy.linalg.lstsq's on the run's own features."""
    gaps = table[table.metric == "lstsq_relative_gap"]
    worst = float(gaps.value.max()) if len(gaps) else float("nan")
    holds = worst <= claims.lstsq_tolerance
    return _claim(
        id=f"{FAMILY}.sanity_min_norm_matches_lstsq", source="Known answer: the minimum-norm least-squares "
        "solution is pinv(Phi) Y (numpy.linalg.lstsq)",
        statement="The ridgeless fit is the minimum-norm least-squares solution.",
        measured=worst,
        expected=f"max |ours - lstsq| / max |lstsq| over test predictions <= {claims.lstsq_tolerance:g}",
        tolerance=claims.lstsq_tolerance, holds=holds, ours=True, diagnosis="" if holds else "bug",
        detail=f"{len(gaps)} fits (every seed and noise rate at N/n = "
               f"{sorted(gaps.ratio.unique().tolist())}).")


def overparam_claims(table: pd.DataFrame, section) -> list[Claim]:
    """Every claim of the family, in the report's order."""
    settings = from_config(OverparamSettings, section, FAMILY)
    claims = settings.claims
    out = [sanity_claim(table, claims)]
    if (table.part == "random_features").any():
        out += rf_claims(rf_summary(table), claims)
    trained = []
    if (table.part == "mlp").any():
        trained += mlp_claims(mlp_summary(table), claims)
    if (table.part == "parallel").any():
        trained += parallel_claims(parallel_summary(table), claims)
    if claims.pilots:  # the pilots chose the networks' training budget: named beside the claims that rest on it
        trained = [dataclasses.replace(c, detail=f"{c.detail} Chosen after pilots: {claims.pilots}") for c in trained]
    return out + trained
