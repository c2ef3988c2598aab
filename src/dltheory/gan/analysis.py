"""From the GAN runs' tidy metrics to learned / stationary / converged runs, stability maps, the measured
conditions against the descent lemma, and claims (issues 4 and 18).

The stability claims cite the abstract or the introduction of Chu, Minami & Fukumizu, "Smoothness and Stability in
GANs" (ICLR 2020; quoted in ``shared/papers/gan.md``). The paper's experiments are unknown to us, so every setting
and every threshold below is ours, fixed in the config before the runs, and each claim is marked ``ours``. A claim
reads only cells with enough seeds, is tested only where it can fail (SN alone where SN + GP learns; the smooth
activation per variant that learns; stationarity among the runs that learned), and says in its detail why it did
not hold. A diverged run is a measured outcome here (it neither learned nor converged: the instability the maps
show); a claim left with nothing to test (no cell that learns, every seed diverged) is recorded as not tested with
the count of diverged runs, and medians quoted beside it are over the runs that did not diverge.
"""

import dataclasses

import numpy as np
import pandas as pd

from dltheory.claims import Claim
from dltheory.gan.conditions import SMOOTH_ACTIVATIONS
from dltheory.stats import wilson_interval

SOURCE_ABSTRACT = "Chu, Minami & Fukumizu, ICLR 2020, abstract"
SOURCE_INTRO = "Chu, Minami & Fukumizu, ICLR 2020, Sec. 1 (Introduction)"
SMOOTHED = "smoothed"
GULRAJANI_RATE = 1e-4  # the toy experiments' Adam rate (Gulrajani et al. 2017)
CONFIDENCE = 0.95  # the level of the Wilson intervals on fractions of runs

MODEL_KEYS = ["dataset", "variant", "activation", "optimizer", "learning_rate", "seed"]  # one GAN run
# The conditions measured on trained networks (``dltheory.gan.smoothness``), one metric each.
CONDITION_METRICS = ("critic_lipschitz", "critic_smoothness", "generator_smoothness")
COVERAGE_METRIC = {"ring": "mode_coverage", "grid": "mode_coverage", "digits": "class_coverage"}


def _per_dataset(value, dataset: str, key: str) -> float:
    if not isinstance(value, dict):
        return float(value)
    if dataset not in value:
        raise ValueError(f"convergence.{key}: no threshold for dataset {dataset!r}; have {sorted(value)}")
    return float(value[dataset])


def converged(
    table: pd.DataFrame,
    w1_ratio: float | dict[str, float],
    coverage: float | dict[str, float],
    stationarity_ratio: float,
    window: float = 0.1,
    early: float = 0.2,
) -> pd.DataFrame:
    """Per model, the scale-free rule of ``GanConvergence`` (issue 18): learned, stationary, converged.

    Late: the evaluations at steps ≥ (1 − ``window``)·final step (the last evaluation if none falls there); early:
    those at 0 < step ≤ ``early``·final step (the first after step 0 if none). ``w1_ratio`` is the largest late W1
    over the W1 at step 0, ``coverage`` the smallest late mode (digits: class) coverage, ``grad_ratio`` the median
    late generator gradient norm over the median early one; ``high_quality`` the last evaluation's high-quality
    fraction (NaN on digits). A diverged model, or one missing a needed number, has not learned and not converged.
    A threshold is one number, or one per dataset. Multiplying the data, the samples and the critic by constants
    changes none of these ratios, so the verdicts do not depend on the data's scale nor on the critic's.
    """
    rows = []
    for key, group in table.groupby(MODEL_KEYS, sort=True):
        dataset = key[0]
        final = group["step"].max()
        steps = np.sort(group["step"].unique())
        late_steps = steps[steps >= (1.0 - window) * final] if final > 0 else steps[-1:]
        early_steps = steps[(steps > 0) & (steps <= early * final)]
        if len(early_steps) == 0:
            early_steps = steps[steps > 0][:1]

        def values(metric, at, group=group):
            selected = group[(group["metric"] == metric) & group["step"].isin(at)]
            return selected["value"].dropna()

        w1_start = values("wasserstein1", [0])
        w1_late = values("wasserstein1", late_steps)
        coverage_late = values(COVERAGE_METRIC.get(dataset, "mode_coverage"), late_steps)
        grad_early = values("generator_grad_norm", early_steps)
        grad_late = values("generator_grad_norm", late_steps)
        quality = values("high_quality_fraction", steps[-1:])
        diverged = bool(group["diverged"].any())
        ratio = float(w1_late.max() / w1_start.iloc[0]) if len(w1_start) and len(w1_late) else np.nan
        cover = float(coverage_late.min()) if len(coverage_late) else np.nan
        grad_ratio = (float(grad_late.median() / grad_early.median())
                      if len(grad_early) and len(grad_late) and grad_early.median() > 0 else np.nan)
        learned = bool(not diverged and ratio <= _per_dataset(w1_ratio, dataset, "w1_ratio")
                       and cover >= _per_dataset(coverage, dataset, "coverage"))
        stationary = bool(not diverged and grad_ratio <= stationarity_ratio)
        rows.append((*key, diverged, ratio, cover, grad_ratio, float(quality.iloc[0]) if len(quality) else np.nan,
                     learned, stationary, learned and stationary))
    return pd.DataFrame(rows, columns=[*MODEL_KEYS, "diverged", "w1_ratio", "coverage", "grad_ratio",
                                       "high_quality", "learned", "stationary", "converged"])


def convergence_table(metrics: pd.DataFrame, convergence) -> pd.DataFrame:
    """Per run: learned, stationary, converged, by the config's ``convergence`` (a ``GanConvergence``)."""
    return converged(metrics, convergence.w1_ratio, convergence.coverage, convergence.stationarity_ratio,
                     convergence.window, convergence.early)


CELL_KEYS = ["dataset", "variant", "activation", "optimizer", "learning_rate"]  # one cell of a stability map


def stability_map(runs: pd.DataFrame) -> pd.DataFrame:
    """Per (dataset, variant, activation, optimizer, learning rate): the fractions of seeds that learned, converged
    and diverged, and the number of seeds (``runs``) each fraction rests on."""
    return runs.groupby(CELL_KEYS, sort=True).agg(
        learned=("learned", "mean"), converged=("converged", "mean"), diverged=("diverged", "mean"),
        runs=("converged", "size"),
    ).reset_index()


def converged_fractions(runs: pd.DataFrame, by: tuple[str, ...] = ("variant", "activation")) -> pd.DataFrame:
    """Fractions (and counts) of runs learned and converged per group, over every other key."""
    grouped = runs.groupby(list(by), sort=True)
    return pd.DataFrame({"learned": grouped["learned"].mean(), "converged": grouped["converged"].mean(),
                         "converged_runs": grouped["converged"].sum(), "runs": grouped.size()})


def stable_cells(cells: pd.DataFrame, majority: float, min_seeds: int, column: str = "converged") -> pd.DataFrame:
    """Per (variant, activation, optimizer): how many of its (dataset, rate) cells with at least ``min_seeds``
    seeds have ``column`` ≥ ``majority``, and the largest such rate (NaN if none)."""
    readable = cells[cells["runs"] >= min_seeds]
    rows = []
    for (variant, activation, optimizer), group in readable.groupby(["variant", "activation", "optimizer"]):
        stable = group.loc[group[column] >= majority, "learning_rate"]
        rows.append({"variant": variant, "activation": activation, "optimizer": optimizer,
                     "n_stable": len(stable), "cells": len(group),
                     "largest": float(stable.max()) if len(stable) else np.nan})
    return pd.DataFrame(rows)


def measured_conditions(metrics: pd.DataFrame) -> pd.DataFrame:
    """Per (dataset, variant, activation, optimizer, learning rate): the median over seeds of the conditions
    measured on the trained networks at the last step (``dltheory.gan.smoothness``), and the seed count."""
    rows = metrics[metrics["metric"].isin(CONDITION_METRICS)]
    if rows.empty:
        return pd.DataFrame(columns=[*CELL_KEYS, *CONDITION_METRICS, "seeds"])
    # Not pivot_table: it drops a metric that is NaN for every seed (every run diverged), which is a result here.
    table = (rows.groupby([*CELL_KEYS, "seed", "metric"])["value"].median().unstack("metric")
             .reindex(columns=list(CONDITION_METRICS)).reset_index())
    summary = table.groupby(CELL_KEYS)[list(CONDITION_METRICS)].median()
    summary["seeds"] = table.groupby(CELL_KEYS).size()
    return summary.reset_index()


def descent_lemma_table(cells: pd.DataFrame, conditions: pd.DataFrame, majority: float,
                        min_seeds: int) -> pd.DataFrame:
    """Gradient descent's measured stable range against the descent lemma, per (dataset, variant, activation).

    ``predicted``: 2 / the generator loss's smoothness, measured at the smallest gradient-descent rate (median of
    its seeds); ``largest_stable``: the largest gradient-descent rate at which at least ``majority`` of the seeds
    neither diverged nor failed to be stationary... precisely, converged; ``largest_finite``: the largest rate at
    which no seed diverged. NaN where no rate qualifies.
    """
    gd = cells[(cells["optimizer"] == "sgd") & (cells["runs"] >= min_seeds)]
    measured = conditions[conditions["optimizer"] == "sgd"]
    rows = []
    for (dataset, variant, activation), group in gd.groupby(["dataset", "variant", "activation"], sort=True):
        at = measured[(measured["dataset"] == dataset) & (measured["variant"] == variant)
                      & (measured["activation"] == activation)].sort_values("learning_rate")
        smoothness = float(at["generator_smoothness"].iloc[0]) if len(at) else np.nan
        stable = group.loc[group["converged"] >= majority, "learning_rate"]
        finite = group.loc[group["diverged"] == 0, "learning_rate"]
        rows.append({"dataset": dataset, "variant": variant, "activation": activation,
                     "generator_smoothness": smoothness,
                     "predicted": 2.0 / smoothness if smoothness > 0 else np.nan,
                     "largest_stable": float(stable.max()) if len(stable) else np.nan,
                     "largest_finite": float(finite.max()) if len(finite) else np.nan,
                     "rates": len(group)})
    return pd.DataFrame(rows)


def sanity_summary(runs: pd.DataFrame) -> pd.DataFrame:
    """The sanity baseline's runs: per seed, its last W1 ratio, coverage and high-quality fraction."""
    return runs[["seed", "w1_ratio", "coverage", "high_quality", "learned", "diverged"]].reset_index(drop=True)


def _diverged_note(runs: pd.DataFrame) -> str:
    """"k of N runs diverged" (empty when none did)."""
    count = int(runs["diverged"].sum()) if len(runs) else 0
    return f"{count} of {len(runs)} runs diverged" if count else ""


def _median(values: pd.Series) -> str:
    """The median of the finite values, or a dash where there are none (every run diverged)."""
    finite = values[np.isfinite(values.to_numpy(float))]
    return f"{finite.median():.2f}" if len(finite) else "– (none finite)"


def _cell_text(row) -> str:
    return f"{row.variant}/{row.activation}/{row.optimizer} lr {row.learning_rate:g}"


def _wilson_fields(successes: int, trials: int, unit: str) -> dict:
    """A fraction of runs as the Claim fields: its 95% Wilson interval, the interval's kind and the run count."""
    if not trials:
        return {}
    return {"interval": wilson_interval(successes / trials, trials, CONFIDENCE),
            "interval_kind": f"{CONFIDENCE:.0%} Wilson over {unit}", "replicates": trials}


def sanity_claim(runs: pd.DataFrame, sanity) -> Claim:
    """The baseline that must learn (issue 18): enough seeds reach the high-quality fraction and every mode.
    Where it does not, the diagnosis reads the seeds' W1 ratios: a median below 1 (the samples moved towards the
    target, not far enough) is scale; at or above 1 (no better than at step 0) is a bug of ours."""
    every, runs = runs, runs[~runs["diverged"].astype(bool)]  # a diverged seed is left out, and counted
    good = (runs["high_quality"] >= sanity.min_high_quality) & (runs["coverage"] >= sanity.min_coverage)
    fraction = float(good.mean()) if len(runs) else np.nan
    per_seed = ", ".join(f"seed {r.seed}: HQ {r.high_quality:.2f}, coverage {r.coverage:.2f}"
                         for r in runs.itertuples())
    diverged = len(every) - len(runs)
    tested = bool(len(runs))
    holds = tested and fraction >= sanity.min_fraction
    w1 = float(runs["w1_ratio"].median()) if tested else np.nan
    diagnosis = "" if holds or not tested else ("scale" if w1 < 1 else "bug")
    return Claim(
        id="gan.sanity_baseline_learns",
        source="Gulrajani et al. 2017 (WGAN-GP), toy experiments: the recipe is theirs, the ring and the budget ours",
        statement="A known-good configuration (WGAN-GP, Adam with β = (0.5, 0.9), "
                  f"{sanity.discriminator_steps} critic steps per generator step) learns the ring: most seeds put "
                  "their samples on the modes and cover all of them.",
        measured=(f"{int(good.sum())}/{len(runs)} seeds ({per_seed})" if tested
                  else f"every one of {diverged} seeds diverged"),
        expected=f"fraction of seeds with high-quality fraction >= {sanity.min_high_quality:g} and mode coverage "
                 f">= {sanity.min_coverage:g} is >= {sanity.min_fraction:g}",
        tolerance=None,
        holds=bool(holds),
        ours=True,
        tested=tested,
        # The seeds that did not diverge (tested), else the seeds that diverged.
        **(_wilson_fields(int(good.sum()), len(runs), "seeds") if tested else {"replicates": len(every) or None}),
        diagnosis=diagnosis,
        detail=" ".join(filter(None, [
            "" if tested else "not tested: every seed of the baseline diverged.",
            f"{diverged} of {len(every)} seeds diverged, left out." if diverged and tested else "",
            {"": "",
             "scale": f"Scale: the seeds' median W1 ratio is {w1:.2f} (below 1: the samples moved towards the ring "
                      "but not onto its modes in this run's steps); the baseline must learn before any stability "
                      "claim is read; see the sanity figure for where its samples sit.",
             "bug": f"Bug: the seeds' median W1 ratio is {w1:.2f} (no better than at step 0: a known-good recipe "
                    "that does not move towards the target points at our code); no stability claim can be read "
                    "until it learns."}[diagnosis],
            "" if (sanity.learning_rate == GULRAJANI_RATE and sanity.lr_decay == "none") else
            f"Ours: rate {sanity.learning_rate:g} with {sanity.lr_decay} decay, chosen after pilots (config "
            f"gan.sanity), where Gulrajani et al. use {GULRAJANI_RATE:g}, which needs more steps than this run has.",
        ])),
    )


def gan_claims(runs: pd.DataFrame, claims_settings, meets_all: set[tuple[str, str]]) -> list[Claim]:
    """The stability claims of issue 18, each tested only where it can fail; a claim whose variants did not run is
    skipped. ``meets_all``: the (variant, activation) pairs that meet every condition in our reading."""
    majority, min_seeds = claims_settings.majority, claims_settings.min_seeds
    cells = stability_map(runs)
    readable = cells[cells["runs"] >= min_seeds]
    claims = []
    variants = set(runs["variant"])
    if {"sn_wasserstein", "sn_gp"} <= variants:
        keys = ["dataset", "activation", "optimizer", "learning_rate"]
        gp = readable[readable["variant"] == "sn_gp"].set_index(keys)
        sn = readable[readable["variant"] == "sn_wasserstein"].set_index(keys)
        where = gp.index[gp["learned"] >= majority].intersection(sn.index)
        gaps = [(key, float(gp.loc[key, "learned"]), float(sn.loc[key, "learned"])) for key in where]
        compared = int(gp.loc[where, "runs"].sum() + sn.loc[where, "runs"].sum())  # the runs the fractions read
        holds = bool(gaps) and all(g - s >= claims_settings.sn_margin for _, g, s in gaps)
        listed = "; ".join(f"{k[0]}/{k[1]}/{k[2]} lr {k[3]:g}: SN + GP {g:.0%}, SN alone {s:.0%}"
                           for k, g, s in gaps)
        claims.append(Claim(
            id="gan.sn_alone_fails",
            source=SOURCE_INTRO,
            statement="Spectral normalisation alone with the Wasserstein loss fails where spectral normalisation "
                      "plus a gradient penalty learns.",
            measured=listed or "no cell where SN + GP learns",
            expected=f"in every cell (>= {min_seeds} seeds) where >= {majority:.0%} of SN + GP's seeds learn, SN "
                     f"alone's learned fraction is lower by >= {claims_settings.sn_margin:g}; at least one such cell",
            tolerance=claims_settings.sn_margin,
            holds=holds,
            ours=True,
            tested=bool(gaps),
            replicates=compared or None,  # fractions of seeds per cell, no interval
            diagnosis="" if holds or not gaps else "finding",  # the detail's "Finding at this scale"
            detail="" if holds else (
                "Not testable here (scale or design): SN + GP learns in no cell with enough seeds"
                + "".join(f"; {name}: {note}" for name, note in (
                    ("SN + GP", _diverged_note(runs[runs["variant"] == "sn_gp"])),
                    ("SN alone", _diverged_note(runs[runs["variant"] == "sn_wasserstein"]))) if note)
                + "; median W1 ratio of the runs that did not diverge: SN + GP "
                f"{_median(runs.loc[(runs['variant'] == 'sn_gp') & ~runs['diverged'], 'w1_ratio'])}, SN alone "
                f"{_median(runs.loc[(runs['variant'] == 'sn_wasserstein') & ~runs['diverged'], 'w1_ratio'])} "
                "(1 = no better than at step 0)." if not gaps
                else "Finding at this scale: SN with the Wasserstein loss alone learns about as often as SN + GP "
                     "where the latter learns."),
        ))
    smooth = [a for a in runs["activation"].unique() if a in SMOOTH_ACTIVATIONS]
    if smooth and "relu" in set(runs["activation"]):
        counts = stable_cells(cells, majority, min_seeds)
        counts = (counts.set_index(["variant", "activation", "optimizer"]) if len(counts)
                  else pd.DataFrame(columns=["n_stable"]))
        learning = sorted(readable.loc[readable["learned"] >= majority, "variant"].unique())
        deltas = {}
        for variant in learning:
            relu = int(counts.loc[(variant, "relu")]["n_stable"].sum()) if (variant, "relu") in counts.index else 0
            soft = int(counts.loc[(variant, smooth[0])]["n_stable"].sum()) if (variant, smooth[0]) in counts.index \
                else 0
            deltas[variant] = (soft, relu)
        wider = sum(soft > relu for soft, relu in deltas.values())
        # The runs the stable-cell counts read: the readable cells of those variants with either activation.
        counted = int(readable.loc[readable["variant"].isin(learning)
                                   & readable["activation"].isin(["relu", smooth[0]]), "runs"].sum())
        holds = bool(deltas) and wider > len(deltas) / 2
        # Why it fails: ReLU stable over more cells than the smooth activation for most variants contradicts the
        # statement (finding); otherwise most variants tie: at no stable cell with either activation the runs are
        # too short to converge (scale), at equal positive counts the rate grid does not separate them (design).
        narrower = sum(soft < relu for soft, relu in deltas.values())
        neither = sum(soft == relu == 0 for soft, relu in deltas.values())
        smooth_diagnosis = "" if holds or not deltas else (
            "finding" if narrower > len(deltas) / 2 else "scale" if neither >= len(deltas) / 2 else "design")
        claims.append(Claim(
            id="gan.smooth_activations_help",
            source=SOURCE_ABSTRACT,
            statement="The framework explains the need for smooth activation functions: per variant, a smooth "
                      f"activation ({smooth[0]}) gives more stable learning rates than ReLU.",
            measured="; ".join(f"{v}: {smooth[0]} {s}, ReLU {r} stable cells" for v, (s, r) in deltas.items())
            or "no variant learns in any cell",
            expected=f"among the variants that learn in some cell, more than half have more stable cells (>= "
                     f"{majority:.0%} of >= {min_seeds} seeds converged) with {smooth[0]} than with ReLU",
            tolerance=None,
            holds=holds,
            ours=True,
            tested=bool(deltas),
            replicates=(counted or None) if deltas else None,  # counts of cells, no interval
            diagnosis=smooth_diagnosis,
            detail="" if holds else (
                "Not testable here (scale): no variant learns in any cell with enough seeds"
                + (f" ({_diverged_note(runs)})." if runs["diverged"].any() else ".") if not deltas
                else f"Finding at this scale: ReLU is stable over more cells than {smooth[0]} for {narrower} of "
                     f"{len(deltas)} variants that learn (the cells' counts are in `measured`)."
                if smooth_diagnosis == "finding" else
                f"Scale: {neither} of {len(deltas)} variants that learn converge in no cell with either activation "
                "(the runs are too short to converge; the cells' counts are in `measured`)."
                if smooth_diagnosis == "scale" else
                f"Design: {len(deltas) - wider - narrower} of {len(deltas)} variants that learn have as many stable "
                f"cells with {smooth[0]} as with ReLU: the rate grid is too coarse to separate them (the cells' "
                "counts are in `measured`)."),
        ))
    meets = np.array([(v, a) in meets_all for v, a in zip(runs["variant"], runs["activation"], strict=True)],
                     dtype=bool)
    chosen = runs[meets & (runs["optimizer"] == "sgd").to_numpy()]
    if len(chosen):
        learned = chosen[chosen["learned"]]
        stationary = int(learned["stationary"].sum())
        fraction = stationary / len(learned) if len(learned) else np.nan
        others = runs[~meets & (runs["optimizer"] == "sgd").to_numpy() & runs["learned"].to_numpy()]
        other_fraction = float(others["stationary"].mean()) if len(others) else np.nan
        holds = len(learned) >= min_seeds and fraction >= majority
        names = sorted({f"{v}/{a}" for v, a in zip(chosen["variant"], chosen["activation"], strict=True)})
        claims.append(Claim(
            id="gan.eventual_stationarity",
            source=SOURCE_ABSTRACT,
            statement="Eventual stationarity: under gradient descent the generator of a GAN that meets the "
                      "conditions stops moving (its gradient norm decays) once it has learned.",
            measured=f"{', '.join(names)}: {stationary}/{len(learned)} learned runs stationary"
                     + (f" ({fraction:.0%})" if len(learned) else "")
                     + (f"; every other variant: {other_fraction:.0%} of {len(others)} learned runs"
                        if len(others) else ""),
            expected=f">= {majority:.0%} of the learned gradient-descent runs (at least {min_seeds}) of the variants "
                     "that meet every condition are stationary (late / early median gradient norm <= the config's "
                     "stationarity_ratio)",
            tolerance=None,
            holds=bool(holds),
            ours=True,
            tested=len(learned) >= min_seeds,
            **(_wilson_fields(stationary, len(learned), "learned runs") if len(learned) else {}),
            # The detail's "Finding at this scale" (untested: no diagnosis, as Claim.to_dict records it).
            diagnosis="" if holds or len(learned) < min_seeds else "finding",
            detail="" if holds else (
                f"Not testable here (scale): only {len(learned)} of their gradient-descent runs learned"
                + (f" ({_diverged_note(chosen)})" if chosen["diverged"].any() else "")
                + f"; over the {int((~chosen['diverged']).sum())} that did not diverge, learned or not, the median "
                f"late / early gradient-norm ratio is {_median(chosen.loc[~chosen['diverged'], 'grad_ratio'])} and "
                f"the median W1 ratio {_median(chosen.loc[~chosen['diverged'], 'w1_ratio'])}."
                if len(learned) < min_seeds else
                "Finding at this scale: the generators that learned kept moving."),
        ))
    if claims_settings.pilots:
        claims = [dataclasses.replace(c, detail=" ".join(filter(None, [c.detail, "Chosen after pilots: "
                                                                        + claims_settings.pilots])))
                  for c in claims]
    return claims
