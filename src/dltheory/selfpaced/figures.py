"""The selfpaced figures in the shared visual language (dltheory.plotting): one colour per method, means over seeds
with Student-t intervals, zero and the claims' thresholds as reference lines, legends outside the data."""

import numpy as np
import pandas as pd
from matplotlib.ticker import NullLocator

from dltheory.plotting import ANNOTATION_SIZE, REFERENCE, method_colour, method_shades, outside_legend, subplots
from dltheory.selfpaced.analysis import LABELS, SHORT
from dltheory.selfpaced.settings import CA, HARMFUL, METHODS, NA, RA, RND, SPA

PANEL_TITLES = {"translate_rotate": "shift +-1 px, rotate +-15 deg\n(appropriate)",
                "hflip": "horizontal flip\n(harmful for digits)",
                "mixup": "mixup\n(alpha = 1, lambda per sample)",
                "crop": "random crop\n(4/5 of the side, resized)",
                "flip_crop": "flip + crop\n(the authors' CIFAR default)"}
OFFSETS = {NA: -0.06, CA: -0.03, SPA: 0.0, RND: 0.03, RA: 0.06}  # log10 shifts so error bars do not overlap


def _log_n_axis(axis, sizes) -> None:
    axis.set_xscale("log")
    axis.set_xticks(list(sizes), [str(n) for n in sizes])
    axis.xaxis.set_minor_locator(NullLocator())
    axis.set_xlim(min(sizes) / 1.25, max(sizes) * 1.25)


def _errorbars(axis, frame: pd.DataFrame, x: str, centre: str, low: str, high: str, colour, label, offset=0.0,
               linestyle="-") -> None:
    frame = frame.sort_values(x)
    xs = frame[x].to_numpy(float) * 10**offset
    ys = frame[centre].to_numpy(float)
    errors = np.vstack([ys - frame[low].to_numpy(float), frame[high].to_numpy(float) - ys])
    axis.errorbar(xs, ys, yerr=np.nan_to_num(errors), color=colour, marker="o", ms=3, lw=1.2, capsize=2,
                  ls=linestyle, label=label)


def plot_accuracy_vs_n(accuracy: pd.DataFrame, settings) -> object:
    """Test accuracy (mean over seeds, t-interval) against n, one panel per augmentation, one line per method."""
    augmentations = settings.augmentations
    figure, axes = subplots(1, len(augmentations), width="full", height=3.2, sharey=True, squeeze=False)
    for axis, augmentation in zip(axes[0], augmentations, strict=True):
        panel = accuracy[accuracy.augmentation == augmentation]
        for method in METHODS:
            rows = panel[panel.method == method]
            _errorbars(axis, rows, "n", "accuracy", "low", "high", method_colour(method), LABELS[method],
                       OFFSETS[method])
        _log_n_axis(axis, sorted(panel.n.unique()))
        axis.set_title(PANEL_TITLES.get(augmentation, augmentation))
        axis.set_xlabel("training samples n (class-balanced)")
    axes[0, 0].set_ylabel("test accuracy after the last step (%)")
    data = "Digits, MLP" if settings.data.source == "digits" else f"{settings.data.path}, CNN"
    figure.suptitle(f"{data}: test accuracy against n (mean over {settings.replicates} seeds, "
                    f"{settings.claims.confidence:.0%} t-intervals)\ntau and RandAugment's (N, M) chosen on the "
                    "validation split")
    outside_legend(figure, ncol=3)
    return figure


def plot_augmented_fraction(trajectory: pd.DataFrame, chosen: pd.DataFrame, settings) -> object:
    """SPA's augmented fraction against the training step, one line per tau, rows per augmentation and columns
    per n (mean over seeds); the legend counts how often validation chose each tau."""
    augmentations, sizes = settings.augmentations, sorted(trajectory.n.unique())
    taus = [t for t in sorted(trajectory.tau.unique()) if t > 0]
    shades = dict(zip(taus, method_shades(SPA, len(taus)), strict=True))
    figure, axes = subplots(len(augmentations), len(sizes), width="full", height=2.0 * len(augmentations) + 0.8,
                            sharex=True, sharey=True, squeeze=False)
    for row, augmentation in enumerate(augmentations):
        for column, n in enumerate(sizes):
            axis = axes[row, column]
            cell = trajectory[(trajectory.augmentation == augmentation) & (trajectory.n == n)]
            counts = []
            for tau in taus:
                curve = cell[cell.tau == tau]
                picks = chosen[(chosen.augmentation == augmentation) & (chosen.n == n) & (chosen.tau == tau)]
                counts.append(f"{tau:g}: {int(picks.seeds.sum()) if len(picks) else 0}")
                axis.plot(curve.step, curve.augmented_fraction, color=shades[tau], lw=1.3,
                          label=f"tau = {tau:g}" if (row, column) == (0, 0) else None)
            axis.text(0.97, 0.95, "chosen on validation\n" + "\n".join(counts), transform=axis.transAxes,
                      ha="right", va="top", fontsize=ANNOTATION_SIZE,
                      bbox={"facecolor": "white", "edgecolor": "0.8", "pad": 2})
            axis.set_ylim(-0.03, 1.03)
            if row == 0:
                axis.set_title(f"n = {n}")
            if row == len(augmentations) - 1:
                axis.set_xlabel("training step")
            if column == 0:
                axis.set_ylabel(f"augmented fraction\n({SHORT_AUG.get(augmentation, augmentation)})")
    figure.suptitle("Self-paced augmentation: fraction of each batch augmented (clean-sample loss >= tau), mean "
                    "over seeds;\nboxes: how many seeds' validation accuracy chose each tau")
    outside_legend(figure, ncol=len(taus))
    return figure


SHORT_AUG = {"translate_rotate": "shift + rotate", "hflip": "flip", "mixup": "mixup", "crop": "crop",
             "flip_crop": "flip + crop"}


def plot_harmful_augmentation(differences: pd.DataFrame, settings) -> object:
    """The flip panel: CA, SPA and RND minus NA (points, paired t-intervals) against n."""
    bad = HARMFUL
    figure, axis = subplots(1, 1, width="half", height=2.9)
    panel = differences[(differences.augmentation == bad) & (differences.second == NA)]
    for method in (CA, SPA, RND, RA):
        rows = panel[panel["first"] == method]
        _errorbars(axis, rows, "n", "mean", "low", "high", method_colour(method), f"{SHORT[method]} - NA",
                   OFFSETS[method])
    axis.axhline(0.0, **REFERENCE, label="no augmentation")
    _log_n_axis(axis, sorted(panel.n.unique()))
    axis.set_xlabel("training samples n")
    axis.set_ylabel("test accuracy minus NA (points)")
    title = PANEL_TITLES.get(bad, bad).replace("\n", " ")
    axis.set_title(f"{title}:\ndoes SPA recover CA's loss?")
    outside_legend(figure, ncol=3)
    return figure


def plot_paired_gains(differences: pd.DataFrame, settings) -> object:
    """SPA minus CA, RND and RA (points, paired t-intervals) against n, per augmentation, with the thresholds of
    M13-1 (SPA - CA) and M13-6 (SPA - RND)."""
    augmentations = settings.augmentations
    figure, axes = subplots(1, len(augmentations), width="full", height=3.0, sharey=True, squeeze=False)
    c = settings.claims
    for axis, augmentation in zip(axes[0], augmentations, strict=True):
        panel = differences[(differences.augmentation == augmentation) & (differences["first"] == SPA)]
        for method in (CA, RND, RA):
            rows = panel[panel.second == method]
            _errorbars(axis, rows, "n", "mean", "low", "high", method_colour(method), f"SPA - {SHORT[method]}",
                       OFFSETS[method])
        axis.axhline(0.0, color="black", lw=0.8)
        axis.axhline(c.spa_over_all, **REFERENCE, label=f"thresholds (SPA - CA >= {c.spa_over_all:g}, "
                                                        f"SPA - RND >= {c.spa_over_random:g})")
        axis.axhline(c.spa_over_random, **REFERENCE)
        _log_n_axis(axis, sorted(panel.n.unique()))
        axis.set_title(PANEL_TITLES.get(augmentation, augmentation))
        axis.set_xlabel("training samples n")
    axes[0, 0].set_ylabel("SPA minus the other method (points)")
    figure.suptitle(f"Paired gains of self-paced augmentation (mean over seeds, {c.confidence:.0%} t-intervals)")
    outside_legend(figure, ncol=4)
    return figure


def plot_loss_variance(variance: pd.DataFrame, settings) -> object:
    """The paper's "loss function instability" (M13c, descriptive): variance of the trained batches' loss over each
    recording window against the step, NA, CA and SPA (validation-chosen tau), rows per augmentation and columns
    per n; geometric mean over seeds with a back-transformed t-interval of log10 variance."""
    augmentations, sizes = settings.augmentations, sorted(variance.n.unique())
    figure, axes = subplots(len(augmentations), len(sizes), width="full", height=2.0 * len(augmentations) + 0.8,
                            sharex=True, sharey=True, squeeze=False)
    for row, augmentation in enumerate(augmentations):
        for column, n in enumerate(sizes):
            axis = axes[row, column]
            cell = variance[(variance.augmentation == augmentation) & (variance.n == n)]
            for method in (NA, CA, SPA):
                curve = cell[cell.method == method].sort_values("step")
                colour = method_colour(method)
                axis.plot(curve.step, curve.variance, color=colour, lw=1.3,
                          label=LABELS[method] if (row, column) == (0, 0) else None)
                axis.fill_between(curve.step, curve.low, curve.high, color=colour, alpha=0.2, lw=0)
            axis.set_yscale("log")
            if row == 0:
                axis.set_title(f"n = {n}")
            if row == len(augmentations) - 1:
                axis.set_xlabel("training step")
            if column == 0:
                axis.set_ylabel(f"batch-loss variance\n({SHORT_AUG.get(augmentation, augmentation)})")
    window = settings.training.record_every
    figure.suptitle(f"Loss instability (descriptive): variance of the trained batches' loss per {window}-step "
                    f"window;\ngeometric mean over {settings.replicates} seeds, {settings.claims.confidence:.0%} "
                    "t-intervals of log10 variance; SPA at its validation-chosen tau")
    outside_legend(figure, ncol=3)
    return figure
