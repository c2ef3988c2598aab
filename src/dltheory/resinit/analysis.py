"""Summaries of the resinit table and the claims M11-1 ... M11-6 (../shared/papers/resinit.md; issue 25).

Every statistics claim rests on the seeds: one number per seed (a fitted slope, a maximum, a ratio) and a Student-t
interval over seeds (dltheory.stats.mean_interval). As in the other families, a claim holds only when its whole interval
lies in the accepted region (the mean inside with the interval straddling a threshold is not enough); a claim that does
not hold is diagnosed from its interval (dltheory.claims.interval_diagnosis), and its detail says where the mean alone
would have passed. The trainability claims
count init scales at which a majority of seeds trains (finite loss and test accuracy >= the threshold), with a Wilson
interval over the runs. Did-it-learn guard: a sweep run that does not beat the majority-class predictor's test
accuracy is named in the detail (it cannot count as trainable).
"""

import math

import numpy as np
import pandas as pd

from dltheory.claims import Claim, interval_failure
from dltheory.claims import interval_inside as _inside
from dltheory.resinit.settings import FAMILY, ResinitSettings, taki_label
from dltheory.resinit.theory import taki_bound
from dltheory.settings import from_config
from dltheory.stats import mean_interval, wilson_interval

TAKI = "Taki, arXiv 1709.02956"
ABSTRACT = f"{TAKI} (abstract)"
SUMMARY = f"{TAKI} (secondary summary: Var[w] = c/(nL), 'BN can linearize gradient growth'; unverified)"
DERIVED = "derived: E|x_{l+1}|^2 = E|x_l|^2 (1 + sigma^2/2) (../shared/papers/resinit.md)"
PEERS = {"fixup": "Zhang, Dauphin & Ma, ICLR 2019 (Fixup)", "skipinit": "De & Smith, NeurIPS 2020 (SkipInit)",
         "rezero": "Bachlechner et al. 2020 (ReZero)"}
DIRECTIONS = {"forward": "forward_ratio", "backward": "backward_ratio"}


def _wide(frame: pd.DataFrame, index) -> pd.DataFrame:
    wide = frame.pivot_table(index=index, columns="metric", values="value", aggfunc="first")
    return wide.reset_index().rename_axis(columns=None)


def statistics_summary(table: pd.DataFrame) -> pd.DataFrame:
    """One row per (variant, depth, replicate) with forward_ratio, backward_ratio, q0, first_last_gradient_ratio
    and finite."""
    wide = _wide(table[table.part == "statistics"], ["variant", "depth", "replicate"])
    wide["depth"] = wide.depth.astype(int)
    return wide.sort_values(["variant", "depth", "replicate"]).reset_index(drop=True)


def profile_summary(table: pd.DataFrame) -> pd.DataFrame:
    """One row per (variant, block, replicate) at the profile depth: block_gradient_norm and (gated variants)
    gate_gradient."""
    wide = _wide(table[table.part == "profile"], ["variant", "depth", "block", "replicate"])
    wide["block"] = wide.block.astype(int)
    return wide


def sweep_summary(table: pd.DataFrame, trainable_accuracy: float) -> pd.DataFrame:
    """One row per sweep run (variant, depth, scale, replicate): losses, accuracies, ``diverged`` (a non-finite loss
    at some step), ``learned`` (finite and beats the majority class's test accuracy) and ``trainable`` (finite and
    test accuracy >= ``trainable_accuracy``)."""
    wide = _wide(table[table.part == "sweep"], ["variant", "depth", "scale", "replicate"])
    wide["depth"] = wide.depth.astype(int)
    wide["diverged"] = (wide.diverged_step >= 0) | ~np.isfinite(wide.final_loss)
    wide["learned"] = ~wide.diverged & (wide.test_accuracy > wide.majority_accuracy)
    wide["trainable"] = ~wide.diverged & (wide.test_accuracy >= trainable_accuracy)
    return wide


def trainability_cells(sweep: pd.DataFrame) -> pd.DataFrame:
    """Per (variant, depth, scale): the median final training loss over seeds (NaN where a majority diverged), the
    fraction of seeds trainable, whether a majority is, and whether the vote was unanimous."""
    def cell(group):
        losses = group.final_loss.where(~group.diverged)
        majority_diverged = group.diverged.mean() > 0.5
        fraction = group.trainable.mean()
        return pd.Series({"median_final_loss": float("nan") if majority_diverged else float(losses.median()),
                          "median_test_accuracy": float(group.test_accuracy.where(~group.diverged).median()),
                          "trainable_fraction": float(fraction), "trainable": bool(fraction > 0.5),
                          "unanimous": bool(fraction in (0.0, 1.0)), "diverged_fraction": float(group.diverged.mean()),
                          "seeds": len(group)})
    return sweep.groupby(["variant", "depth", "scale"]).apply(cell, include_groups=False).reset_index()


def slope(x, y) -> float:
    """Least-squares slope of y on x (NaN if any value is not finite)."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))) or len(x) < 2:
        return float("nan")
    return float(np.polyfit(x, y, 1)[0])


def per_seed(stats: pd.DataFrame, variant: str, metric: str) -> pd.DataFrame:
    """(replicate x depth) table of one variant's metric."""
    rows = stats[stats.variant == variant]
    return rows.pivot_table(index="replicate", columns="depth", values=metric, aggfunc="first")


def _fmt(value: float, digits: int = 3) -> str:
    return f"{value:.{digits}g}" if math.isfinite(value) else "nan"


def _interval_fields(interval: dict, kind: str) -> dict:
    return {"interval": (interval["low"], interval["high"]), "interval_kind": kind,
            "replicates": interval["replicates"]}


def _failure(holds: bool, interval: dict, lower=-math.inf, upper=math.inf) -> tuple[str, str]:
    return ("", "") if holds else interval_failure(interval, lower, upper)


def growth_claims(stats: pd.DataFrame, claims) -> list[Claim]:
    """M11-1: res_he's signal grows exponentially, log2 slope ~ 1 per block, forward and backward."""
    out = []
    if "res_he" not in set(stats.variant):
        return out
    for direction, metric in DIRECTIONS.items():
        table = per_seed(stats, "res_he", metric)
        depths = [d for d in table.columns if d <= claims.growth_max_depth]
        slopes = [slope(depths, np.log2(row[depths].to_numpy(float))) for _, row in table.iterrows()]
        interval = mean_interval(slopes, claims.confidence)
        holds = _inside(interval, claims.growth_slope_low, claims.growth_slope_high)
        diagnosis, why = _failure(holds, interval, claims.growth_slope_low, claims.growth_slope_high)
        out.append(Claim(
            id=f"{FAMILY}.he_branch_grows_exponentially.{direction}", source=f"{SUMMARY}; {DERIVED}",
            statement="A residual network whose branches have He's initialisation amplifies the signal "
                      f"({direction}) exponentially in depth: q_L / q_0 ~ 2^L (M11-1).",
            measured=interval["mean"],
            expected=f"slope of log2(q_L / q_0) against L (L <= {claims.growth_max_depth}) in "
                     f"[{claims.growth_slope_low}, {claims.growth_slope_high}] (2^L: 1)",
            tolerance=claims.growth_slope_high - 1.0, holds=holds, ours=True, diagnosis=diagnosis,
            **_interval_fields(interval, f"{claims.confidence:.0%} t-interval over seeds"),
            detail=f"Per-seed slopes {', '.join(_fmt(s) for s in slopes)} over L = {depths}; median q_L / q_0 at "
                   f"L = {max(depths)}: {_fmt(float(table[max(depths)].median()))} (2^L = "
                   f"{_fmt(2.0 ** max(depths))}). Float64, one-layer branches x + W relu(x) (our simplified model). "
                   + why))
    return out


def bounded_claims(stats: pd.DataFrame, settings: ResinitSettings) -> list[Claim]:
    """M11-2: with Taki's Var[w] = c/(nL) the signal stays below e^{c/2} (forward and backward) and flat in depth."""
    claims, out = settings.claims, []
    for c in settings.taki_c:
        label = taki_label(c)
        if label not in set(stats.variant):
            continue
        forward, backward = per_seed(stats, label, "forward_ratio"), per_seed(stats, label, "backward_ratio")
        worst = np.maximum(forward.max(axis=1), backward.max(axis=1)) / taki_bound(c)
        interval = mean_interval(worst.to_numpy(), claims.confidence)
        holds = _inside(interval, upper=claims.bound_factor)
        diagnosis, why = _failure(holds, interval, upper=claims.bound_factor)
        out.append(Claim(
            id=f"{FAMILY}.taki_init_bounded.c{c:g}", source=f"{SUMMARY}; {DERIVED}",
            statement=f"With the depth-scaled branch initialisation Var[w] = c/(nL) (c = {c:g}) the signal's growth "
                      "is bounded by e^{c/2} at every depth, forward and backward (M11-2).",
            measured=interval["mean"],
            expected=f"max over depths and directions of (q_L / q_0) / e^(c/2) <= {claims.bound_factor}",
            tolerance=claims.bound_factor, holds=holds, ours=True, diagnosis=diagnosis,
            **_interval_fields(interval, f"{claims.confidence:.0%} t-interval over seeds"),
            detail=f"Per-seed maxima over e^(c/2) = {_fmt(taki_bound(c))}: {', '.join(_fmt(v) for v in worst)}; "
                   f"median forward q_L / q_0 by depth: "
                   f"{', '.join(f'{d}: {_fmt(v)}' for d, v in forward.median().items())}; backward: "
                   f"{', '.join(f'{d}: {_fmt(v)}' for d, v in backward.median().items())}. " + why))
        top, reference = max(forward.columns), claims.flat_reference_depth
        if reference not in forward.columns:
            continue
        ratios = (forward[top] / forward[reference]).to_numpy(float)
        interval = mean_interval(ratios, claims.confidence)
        holds = _inside(interval, upper=claims.flat_ratio) and interval["high"] < claims.flat_ratio
        diagnosis, why = _failure(holds, interval, upper=claims.flat_ratio)
        out.append(Claim(
            id=f"{FAMILY}.taki_init_flat_in_depth.c{c:g}", source=f"{SUMMARY}; {DERIVED}",
            statement=f"With Var[w] = c/(nL) (c = {c:g}) a deeper network does not amplify more: q_L / q_0 at the "
                      f"largest depth is close to its value at L = {reference} (M11-2).",
            measured=interval["mean"], expected=f"(q_{top} / q_0) / (q_{reference} / q_0) < {claims.flat_ratio}",
            tolerance=claims.flat_ratio, holds=holds, ours=True, diagnosis=diagnosis,
            **_interval_fields(interval, f"{claims.confidence:.0%} t-interval over seeds"),
            detail=f"Per-seed ratios {', '.join(_fmt(v) for v in ratios)}; theory (1 + c/(2L))^L gives "
                   f"{_fmt((1 + c / (2 * top)) ** top / (1 + c / (2 * reference)) ** reference)}. " + why))
    return out


def batch_norm_claims(stats: pd.DataFrame, claims) -> list[Claim]:
    """M11-3: with batch norm in the branch the signal grows about linearly, not exponentially."""
    if "res_bn" not in set(stats.variant):
        return []
    forward = per_seed(stats, "res_bn", "forward_ratio")
    gradients = per_seed(stats, "res_bn", "first_last_gradient_ratio")
    backward = per_seed(stats, "res_bn", "backward_ratio")
    depths = np.array(forward.columns, float)
    log_slopes = [slope(np.log(depths), np.log(row.to_numpy(float))) for _, row in forward.iterrows()]
    gradient_slopes = [slope(np.log(depths), np.log(row.to_numpy(float))) for _, row in gradients.iterrows()]
    backward_slopes = [slope(np.log(depths), np.log(row.to_numpy(float))) for _, row in backward.iterrows()]
    last, before = forward.columns[-1], forward.columns[-2]
    rates = (np.log(forward[last] / forward[before]) / (last - before)).to_numpy(float)
    backward_note = (f"For comparison, the backward ratio's log-log slope (not a claim; its thresholds were not set "
                     f"before the run) is {_fmt(mean_interval(backward_slopes, claims.confidence)['mean'])}.")
    kind = f"{claims.confidence:.0%} t-interval over seeds"
    out = []
    specs = [
        ("forward_loglog_slope", log_slopes, claims.bn_slope_low, claims.bn_slope_high,
         "The forward signal q_L / q_0 grows like a power of L near 1 (about 1 + L/q_0), not exponentially.",
         f"log-log slope of q_L / q_0 against L in [{claims.bn_slope_low}, {claims.bn_slope_high}]",
         f"Median q_L / q_0 by depth: {', '.join(f'{int(d)}: {_fmt(v)}' for d, v in forward.median().items())}; "
         f"q_0 = {_fmt(float(stats[stats.variant == 'res_bn'].q0.median()))}. {backward_note}"),
        ("gradient_ratio_slope", gradient_slopes, -math.inf, claims.bn_gradient_slope_max,
         "The first/last block weight-gradient ratio grows at most linearly in L.",
         f"log-log slope of |dl/dW_1| / |dl/dW_L| against L <= {claims.bn_gradient_slope_max}",
         f"Median ratio by depth: {', '.join(f'{int(d)}: {_fmt(v)}' for d, v in gradients.median().items())}."),
        ("per_block_rate", rates, -math.inf, claims.bn_rate_max,
         "The per-block growth rate of ln q at the largest depths is far below an exponential's (ln 2 = 0.69 for He).",
         f"ln(q_{last} / q_{before}) / {last - before} < {claims.bn_rate_max}",
         f"Per-seed rates {', '.join(_fmt(v) for v in rates)}; 1 + L/q_0 gives about "
         f"{_fmt(math.log((1 + last) / (1 + before)) / (last - before))}."),
    ]
    for name, values, lower, upper, statement, expected, detail in specs:
        interval = mean_interval(values, claims.confidence)
        mean = interval["mean"]
        holds = _inside(interval, lower, upper) and (name != "per_block_rate" or interval["high"] < upper)
        diagnosis, why = _failure(holds, interval, lower, upper)
        out.append(Claim(
            id=f"{FAMILY}.bn_grows_at_most_linearly.{name}", source=f"{SUMMARY}; {ABSTRACT}",
            statement=f"With batch norm before the branch's ReLU (x + W relu(BN(x)), He): {statement} (M11-3)",
            measured=mean, expected=expected, tolerance=upper, holds=holds, ours=True, diagnosis=diagnosis,
            **_interval_fields(interval, kind), detail=f"{detail} {why}"))
    return out


def _guard(sweep: pd.DataFrame) -> str:
    bad = sweep[~sweep.learned]
    if bad.empty:
        return "Did-it-learn guard: every run beat the majority-class predictor."
    groups = bad.groupby("variant").apply(lambda g: ", ".join(f"s = {s:g}" for s in sorted(set(g.scale))),
                                          include_groups=False)
    return ("Did-it-learn guard: runs diverged or not beating the majority-class predictor (counted as not "
            f"trainable): {'; '.join(f'{v} at {s}' for v, s in groups.items())}.")


def trainability_claims(sweep: pd.DataFrame, settings: ResinitSettings) -> list[Claim]:
    """M11-4 (batch norm trains at every init scale; plain <= ResNet-He <= ResNet+BN) and M11-5 (batch norm's
    accuracy at every scale within a margin of the best tuned ResNet-He), per sweep depth."""
    claims, out = settings.claims, []
    cells = trainability_cells(sweep)
    scales = [float(s) for s in sorted(sweep.scale.unique())]
    pilots = f" Chosen after pilots: {claims.pilots}." if claims.pilots else ""
    for depth in sorted(sweep.depth.unique()):
        at = cells[cells.depth == depth]
        runs = sweep[sweep.depth == depth]
        counts = {v: int(at[at.variant == v].trainable.sum()) for v in sorted(set(at.variant))}
        needed = [v for v in ("plain_he", "res_he", "res_bn") if v in counts]
        if len(needed) == 3:
            bn_runs = runs[runs.variant == "res_bn"]
            fraction = float(bn_runs.trainable.mean())
            low, high = wilson_interval(fraction, len(bn_runs), claims.confidence)
            ordered = counts["plain_he"] <= counts["res_he"] <= counts["res_bn"]
            holds = ordered and counts["res_bn"] == len(scales)
            failing = at[at.variant.isin(needed) & ~at.trainable & (at.variant == "res_bn")]
            diagnosis = ""
            why = ""
            if not holds:
                split = failing[~failing.unanimous] if len(failing) else failing
                diagnosis = "scale" if len(split) else "finding"
                why = ("Scale: the failing res_bn cells were split votes over the seeds; more seeds could settle "
                       "them." if diagnosis == "scale" else
                       "Finding: the ordering or batch norm's full count fails with unanimous cells.")
            out.append(Claim(
                id=f"{FAMILY}.bn_trains_at_every_scale.L{depth}", source=ABSTRACT,
                statement="Residual networks are relatively insensitive to the initial weights and batch norm "
                          "removes the need to tune them: the number of init scales that train is plain <= "
                          "ResNet (He) <= ResNet + batch norm, and batch norm trains at every scale (M11-4).",
                # The fraction of res_bn's runs that trained, so that it and its Wilson interval share a scale;
                # the verdict reads the per-scale majorities (the counts in expected and detail).
                measured=fraction,
                expected=f"plain_he <= res_he <= res_bn scales trainable, res_bn = {len(scales)} of {len(scales)} "
                         f"(trainable: a majority of seeds with a finite loss and test accuracy >= "
                         f"{claims.trainable_accuracy}); measured: res_bn's fraction of runs that trained",
                tolerance=None, holds=holds, ours=True, diagnosis=diagnosis, interval=(low, high),
                interval_kind=f"{claims.confidence:.0%} Wilson interval of res_bn's trainable fraction of runs",
                replicates=int(runs.replicate.nunique()),
                detail=f"L = {depth}, scales {', '.join(f'{s:g}' for s in scales)}: trainable scales "
                       f"{', '.join(f'{v} {n}' for v, n in counts.items())} of {len(scales)}. {_guard(runs)} "
                       f"{why}{pilots}"))
        if {"res_bn", "res_he"} <= set(counts):
            accuracy = runs.assign(test_accuracy=runs.test_accuracy.where(~runs.diverged, 0.0))
            table = accuracy.pivot_table(index="replicate", columns=["variant", "scale"], values="test_accuracy")
            margins = (table["res_bn"].min(axis=1) - table["res_he"].max(axis=1)).to_numpy(float)
            interval = mean_interval(margins, claims.confidence)
            bn_mean = table["res_bn"].mean()
            he_mean = table["res_he"].mean()
            holds = _inside(interval, lower=-claims.bn_accuracy_margin)
            diagnosis, why = _failure(holds, interval, lower=-claims.bn_accuracy_margin)
            out.append(Claim(
                id=f"{FAMILY}.bn_insensitive_to_scale.L{depth}", source=ABSTRACT,
                statement="Batch norm improves backpropagation of deep ResNets without tuning the initial weights: "
                          "at every init scale its test accuracy is close to the best the He ResNet reaches with the "
                          "scale tuned (M11-5).",
                measured=interval["mean"],
                expected=f"per seed, min over s of res_bn's test accuracy - max over s of res_he's >= "
                         f"-{claims.bn_accuracy_margin} (the whole interval over seeds)",
                tolerance=claims.bn_accuracy_margin, holds=holds, ours=True, diagnosis=diagnosis,
                **_interval_fields(interval, f"{claims.confidence:.0%} t-interval over seeds of min_s acc(res_bn) "
                                             "- max_s acc(res_he)"),
                detail=f"L = {depth}: res_bn mean test accuracy by scale "
                       f"{', '.join(f'{s:g}: {100 * a:.1f} %' for s, a in bn_mean.items())}; res_he "
                       f"{', '.join(f'{s:g}: {100 * a:.1f} %' for s, a in he_mean.items())} (diverged runs count "
                       f"as 0); difference of the means {_fmt(float(bn_mean.min() - he_mean.max()))}. {why}{pilots}"))
    return out


def sanity_claims(table: pd.DataFrame, stats: pd.DataFrame, claims) -> list[Claim]:
    """Sanity cases (checks of the code): Taki's init equals He's rescaled by sqrt(c/(2L)); Fixup, SkipInit and
    ReZero start as the identity."""
    out = []
    sanity = table[table.part == "sanity"]
    if len(sanity):
        difference = sanity[sanity.metric == "rescaled_he_relative_difference"].value
        identical = sanity[sanity.metric == "rescaled_he_identical"].value
        worst = float(difference.max())
        holds = worst <= claims.sanity_tolerance
        out.append(Claim(
            id=f"{FAMILY}.sanity_taki_is_rescaled_he", source=f"{SUMMARY} (sanity case, a check of our code)",
            statement="Taki's Var[w] = c/(nL) is He's initialisation with the branch std scaled by sqrt(c/(2L)): "
                      "the two networks, built from the same normals by their own formulas, give the same x_L "
                      "(M11-5b).",
            measured=worst, expected=f"max relative |x_L(Taki) - x_L(He, s = sqrt(c/(2L)))| <= "
                                     f"{claims.sanity_tolerance:g}",
            tolerance=claims.sanity_tolerance, holds=holds, ours=True, diagnosis="" if holds else "bug",
            detail=f"{int(identical.sum())} of {len(identical)} (c, L, seed) networks bit-for-bit identical, the "
                   "rest differ by rounding of the two std formulas. " + ("" if holds else
                                                                          "Bug: the two inits disagree.")))
    for variant in ("fixup", "skipinit", "rezero"):
        rows = stats[stats.variant == variant]
        if rows.empty:
            continue
        deviation = float(np.max(np.abs(np.concatenate([rows.forward_ratio - 1, rows.backward_ratio - 1]))))
        holds = deviation <= claims.sanity_tolerance
        out.append(Claim(
            id=f"{FAMILY}.sanity_identity_at_init.{variant}", source=f"{PEERS[variant]} (sanity case)",
            statement=f"{variant} starts as the identity map: every residual branch is zero at initialisation, so "
                      "q_L / q_0 = 1 and the gradient passes unchanged (M11-6).",
            measured=deviation, expected=f"max |q_L / q_0 - 1| over depths, seeds and both directions <= "
                                         f"{claims.sanity_tolerance:g}",
            tolerance=claims.sanity_tolerance, holds=holds, ours=True, diagnosis="" if holds else "bug",
            detail=f"{len(rows)} (depth, seed) networks." + ("" if holds else " Bug: a branch is not zero.")))
    return out


def resinit_claims(table: pd.DataFrame, section) -> list[Claim]:
    settings = from_config(ResinitSettings, section, FAMILY)
    stats = statistics_summary(table)
    sweep = sweep_summary(table, settings.claims.trainable_accuracy)
    return (growth_claims(stats, settings.claims) + bounded_claims(stats, settings)
            + batch_norm_claims(stats, settings.claims) + trainability_claims(sweep, settings)
            + sanity_claims(table, stats, settings.claims))

