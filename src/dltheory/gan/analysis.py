"""From the GAN runs' tidy metrics to converged fractions, learning-rate ranges, step-size decay and claims (issue 4).

Every claim cites the abstract or the introduction of Chu, Minami & Fukumizu, "Smoothness and Stability in GANs"
(ICLR 2020; quoted in ``shared/papers/gan.md``). The paper's experiments are unknown to us, so every setting and
every threshold below is ours and each claim is marked ``ours``.
"""

import numpy as np
import pandas as pd

from dltheory.claims import Claim
from dltheory.gan.conditions import SMOOTH_ACTIVATIONS

SOURCE_ABSTRACT = "Chu, Minami & Fukumizu, ICLR 2020, abstract"
SOURCE_INTRO = "Chu, Minami & Fukumizu, ICLR 2020, Sec. 1 (Introduction)"
SMOOTHED = "smoothed"
MAJORITY = 0.5  # a learning rate is in a variant's stable range when at least half of its runs there converge
DECAY_RATIO = 0.5  # the step size "decays" when its late median is below this fraction of its early median

MODEL_KEYS = ["dataset", "variant", "activation", "learning_rate", "seed"]  # one GAN run (one model of a batch)


def converged(
    table: pd.DataFrame,
    step_size_threshold: float | dict[str, float],
    w1_threshold: float | dict[str, float],
    last_fraction: float = 0.1,
) -> pd.DataFrame:
    """Per model: converged when, over the last ``last_fraction`` of steps, every logged generator step size is
    below ``step_size_threshold`` and every logged W1 below ``w1_threshold`` (issue 4's definition).

    The window is the evaluations at steps ≥ (1 − last_fraction)·final step, or the last evaluation if none falls
    in it. NaN values (a diverged model, or W1 not computed at that evaluation) are skipped; a diverged model, or one
    without a step size or a W1 in the window, has not converged. A threshold is one number, or one per dataset.
    Columns: the model keys, diverged, max_step_size, max_wasserstein1, converged.
    """
    def threshold(value, dataset):
        if not isinstance(value, dict):
            return float(value)
        if dataset not in value:
            raise ValueError(f"no convergence threshold for dataset {dataset!r}; have {sorted(value)}")
        return float(value[dataset])

    rows = []
    for key, group in table.groupby(MODEL_KEYS, sort=True):
        step_limit = threshold(step_size_threshold, key[0])
        w1_limit = threshold(w1_threshold, key[0])
        final = group["step"].max()
        window = group[group["step"] >= (1.0 - last_fraction) * final]
        if window.empty:
            window = group[group["step"] == final]
        step_sizes = window.loc[window["metric"] == "generator_step_size", "value"].dropna()
        w1 = window.loc[window["metric"] == "wasserstein1", "value"].dropna()
        diverged = bool(group["diverged"].any())
        max_step = float(step_sizes.max()) if len(step_sizes) else float("nan")
        max_w1 = float(w1.max()) if len(w1) else float("nan")
        ok = not diverged and len(step_sizes) > 0 and len(w1) > 0
        ok = ok and max_step < step_limit and max_w1 < w1_limit
        rows.append((*key, diverged, max_step, max_w1, ok))
    return pd.DataFrame(rows, columns=[*MODEL_KEYS, "diverged", "max_step_size", "max_wasserstein1", "converged"])


def convergence_table(metrics: pd.DataFrame, convergence: dict) -> pd.DataFrame:
    """Per run: converged or not, by the config's ``convergence`` thresholds (one per dataset)."""
    return converged(
        metrics,
        convergence["step_size_threshold"],
        convergence["w1_threshold"],
        convergence["window"],
    )


def stability_map(runs: pd.DataFrame) -> pd.DataFrame:
    """Fraction of seeds converged per (dataset, activation, variant, learning rate): the stability maps' colours."""
    keys = [k for k in MODEL_KEYS if k != "seed"]
    return runs.groupby(keys, sort=True).agg(
        converged=("converged", "mean"), diverged=("diverged", "mean"), runs=("converged", "size")
    ).reset_index()


def converged_fractions(runs: pd.DataFrame, by: tuple[str, ...] = ("variant", "activation")) -> pd.DataFrame:
    """Fraction (and count) of runs converged per group, over every other key."""
    grouped = runs.groupby(list(by), sort=True)["converged"]
    return pd.DataFrame({"converged": grouped.mean(), "converged_runs": grouped.sum(), "runs": grouped.size()})


def stable_learning_rates(runs: pd.DataFrame) -> pd.DataFrame:
    """Per variant: its stable cells, (dataset, activation, learning rate) where at least half of the seeds converge.

    Counted per stability-map panel (dataset, activation), then summed: pooling the seeds of different datasets
    would let a dataset where nothing converges hide another's stable range. Columns: variant, n_stable (stable
    cells over every panel), smallest and largest stable rate over the panels (NaN if none).
    """
    cells = runs.groupby(["variant", "dataset", "activation", "learning_rate"])["converged"].mean().reset_index()
    rows = []
    for variant, group in cells.groupby("variant", sort=True):
        stable = group.loc[group["converged"] >= MAJORITY, "learning_rate"].to_numpy()
        low, high = (stable.min(), stable.max()) if len(stable) else (np.nan, np.nan)
        rows.append({"variant": variant, "n_stable": len(stable), "smallest": low, "largest": high})
    return pd.DataFrame(rows)


def step_size_decay(metrics: pd.DataFrame, dataset: str, learning_rate: float) -> pd.DataFrame:
    """Per (variant, activation): the median generator step size early and late in training, and their ratio.

    Early: the evaluations in the first 20 % of steps after step 0; late: those in the last 10 %. Medians over
    evaluations and seeds at one learning rate; a diverged run counts as not decaying (its ratio is +inf).
    """
    rows = metrics[(metrics["dataset"] == dataset) & np.isclose(metrics["learning_rate"], learning_rate)
                   & (metrics["metric"] == "generator_step_size") & (metrics["step"] > 0)]
    records = []
    for (variant, activation), group in rows.groupby(["variant", "activation"], sort=True):
        final = group["step"].max()
        early = group.loc[group["step"] <= 0.2 * final, "value"]
        late = group.loc[group["step"] >= 0.9 * final, "value"]
        diverged = bool(group["diverged"].any())
        early_median, late_median = float(early.median()), float(late.median())
        ratio = np.inf if diverged or not np.isfinite(late_median) else late_median / early_median
        records.append({"variant": variant, "activation": activation, "early": early_median, "late": late_median,
                        "ratio": ratio, "any_diverged": diverged})
    return pd.DataFrame(records)


def _fraction(runs: pd.DataFrame, **keys) -> tuple[float, int, int]:
    selected = runs
    for key, value in keys.items():
        selected = selected[selected[key] == value]
    return float(selected["converged"].mean()), int(selected["converged"].sum()), len(selected)


def gan_claims(runs: pd.DataFrame, metrics: pd.DataFrame, trajectory: tuple[str, float] | None) -> list[Claim]:
    """The issue's four claims, each with our measurement; a claim whose variants did not run is skipped."""
    claims = []
    variants = set(runs["variant"])
    if {"sn_wasserstein", "sn_gp"} <= variants:
        sn, sn_runs, sn_total = _fraction(runs, variant="sn_wasserstein")
        gp, gp_runs, gp_total = _fraction(runs, variant="sn_gp")
        claims.append(Claim(
            id="gan.sn_alone_fails",
            source=SOURCE_INTRO,
            statement="Spectral normalisation alone with the Wasserstein loss fails, while spectral normalisation "
                      "plus a gradient penalty helps: SN alone converges in fewer runs than SN + GP.",
            measured=f"SN alone {sn_runs}/{sn_total} ({sn:.0%}), SN + GP {gp_runs}/{gp_total} ({gp:.0%})",
            expected="converged fraction of sn_wasserstein < that of sn_gp",
            tolerance=None,
            holds=bool(sn < gp),
            ours=True,
        ))
    smooth_runs = runs[runs["activation"].isin(SMOOTH_ACTIVATIONS)]
    relu_runs = runs[runs["activation"] == "relu"]
    if len(smooth_runs) and len(relu_runs):
        smooth, relu = int(smooth_runs["converged"].sum()), int(relu_runs["converged"].sum())
        claims.append(Claim(
            id="gan.smooth_activations_help",
            source=SOURCE_ABSTRACT,
            statement="The framework explains the need for smooth activation functions: with a smooth activation "
                      "more runs converge than with ReLU, summed over variants.",
            measured=f"smooth {smooth}/{len(smooth_runs)}, ReLU {relu}/{len(relu_runs)} runs converged",
            expected="converged runs with the smooth activation > with ReLU",
            tolerance=None,
            holds=bool(smooth > relu),
            ours=True,
        ))
    if SMOOTHED in variants and len(variants) > 1:
        ranges = stable_learning_rates(runs).set_index("variant")
        ours_n = int(ranges.loc[SMOOTHED, "n_stable"])
        others = ranges.drop(index=SMOOTHED)["n_stable"]
        widest_other = int(others.max())
        cells = runs.groupby(["dataset", "activation", "learning_rate"]).ngroups
        leaders = sorted(others[others == widest_other].index)
        claims.append(Claim(
            id="gan.smoothed_widest_range",
            source=SOURCE_ABSTRACT,
            statement="The GAN built to meet all conditions at once (our smoothed GAN) is stable over the widest "
                      "range of learning rates.",
            measured=f"smoothed: {ours_n} stable (panel, rate) cells of {cells}; best other: {widest_other} "
                     f"({', '.join(leaders)})",
            expected="stable cells (>= half the seeds converged) of smoothed >= every other variant's, and > 0",
            tolerance=None,
            holds=bool(ours_n > 0 and ours_n >= widest_other),
            ours=True,
        ))
    if trajectory is not None and {SMOOTHED, "non_saturating"} <= variants:
        decay = step_size_decay(metrics, *trajectory).set_index(["variant", "activation"])
        smooth_rows = [a for a in decay.loc[SMOOTHED].index if a in SMOOTH_ACTIVATIONS]
        if smooth_rows:
            activation = smooth_rows[0]
            ours_ratio = float(decay.loc[(SMOOTHED, activation), "ratio"])
            ns_ratio = float(decay.loc[("non_saturating", activation), "ratio"])
            claims.append(Claim(
                id="gan.eventual_stationarity",
                source=SOURCE_ABSTRACT,
                statement="Eventual stationarity: the generator's step size decays toward 0 for the GAN that meets "
                          "the conditions, and not for the non-saturating GAN, on the 2-D ring.",
                measured=f"late/early median step size at lr {trajectory[1]:g} ({activation}): smoothed "
                         f"{ours_ratio:.3g}, non-saturating {ns_ratio:.3g}",
                expected=f"smoothed ratio < {DECAY_RATIO} <= non-saturating ratio",
                tolerance=None,
                holds=bool(ours_ratio < DECAY_RATIO <= ns_ratio),
                ours=True,
            ))
    return claims
