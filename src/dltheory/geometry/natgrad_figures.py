"""Figures of the natural-gradient family: loss against step for every method, exact NGD against width, and the
loss one step leaves against width for every method."""

import numpy as np
import pandas as pd
from matplotlib.ticker import NullLocator

from dltheory.geometry.natgrad import (
    METHOD_LABEL,
    PREDICTION,
    exact_by_width,
    geometric_interval,
    loss_curves,
    one_step_fractions,
    width_slopes,
)
from dltheory.plotting import REFERENCE, THEORY, method_colour, outside_legend, subplots


def _style(method: str) -> dict:
    """GD a plain line, the NTK-limit prediction the theory line, the NGD runs (few steps) lines with markers."""
    if method == PREDICTION:
        return dict(THEORY)
    return {"color": method_colour(method), "ls": "-", **({} if method == "gd" else {"marker": "o", "ms": 3.5})}


def _log_y(axes) -> None:
    """Log y axes (shared) where the drawn lines have a finite positive value, with limits set from those values: a
    loss that is exactly 0 (the NTK prediction after its step) or NaN (a diverged run) would otherwise leave the log
    locator an empty range. Axes with no such value (every run diverged) stay linear and say so."""
    values = np.concatenate([np.asarray(line.get_ydata(), float) for ax in axes for line in ax.get_lines()] or [[]])
    values = values[np.isfinite(values) & (values > 0)]
    if not values.size:
        for ax in axes:
            ax.text(0.5, 0.5, "every run diverged: no finite loss", transform=ax.transAxes, ha="center")
        return
    for ax in axes:
        ax.set_yscale("log")
    low, high = values.min(), values.max()
    axes[0].set_ylim(low / 1.5, high * 1.5)


def plot_loss_vs_step(table: pd.DataFrame, width: int):
    """Train (left) and test (right) loss against step + 1 (log–log, so step 0 shows) at ``width``, the geometric
    mean over replicates, GD at its best stable rate; the legend gives each method's learning rate. The NTK-limit
    prediction is dashed (its train loss after the first step is zero to rounding, below the axis)."""
    curves = loss_curves(table[table["width"] == width])
    figure, axes = subplots(1, 2, width="full", height=3.4, sharey=True)
    for ax, split in zip(axes, ("train", "test"), strict=True):
        for method, rows in curves[curves["split"] == split].groupby("method", sort=False):
            rate = rows["learning_rate"].iloc[0]
            mean = rows.groupby("step")["value"].apply(
                lambda v: float(np.exp(np.log(v[np.isfinite(v) & (v > 0)]).mean())))  # diverged runs left out
            if not np.isfinite(mean.to_numpy(float)[1:]).any() and rows["diverged"].any():
                rate = rows["learning_rate"].iloc[0]
                ax.plot([], [], "x", color=_style(method)["color"],
                        label=f"{METHOD_LABEL.get(method, method)} (η = {rate:.3g}): diverged")
                continue
            # A loss of 0 (the NTK prediction's train loss after its step) has no place on a log axis: the curve
            # ends at its last positive value instead of dropping to the axis, and the label says so.
            values = mean.to_numpy(float)
            zero = np.isfinite(values) & (values <= 0)
            label = f"{METHOD_LABEL.get(method, method)} (η = {rate:.3g})"
            if zero.any():
                label += f"; 0 from step {int(mean.index[zero][0])} (not drawn)"
            ax.plot(mean.index + 1, np.where(values > 0, values, np.nan), label=label, **_style(method))
        ax.set(xscale="log", xlabel="step + 1", title=f"{split} loss, M = {width}")
    _log_y(axes)
    axes[0].set_ylabel("loss (1/2N) Σ (f − y)²\n(geometric mean over seeds)")
    outside_legend(figure, ncol=2)
    return figure


def plot_exact_vs_width(table: pd.DataFrame, drop_threshold: float, prediction_factor: float, confidence: float):
    """Exact NGD against width: the one-step train-loss drop (left) and the NTK-limit ratio of the test loss after
    one step (right), each the geometric mean over seeds with its Student-t interval, the seeds as dots and the
    claims' thresholds as dashed lines."""
    per_width = exact_by_width(table)
    columns = [c for c in ("drop", "ntk_ratio") if c in per_width]
    figure, axes = subplots(1, len(columns), width="full", height=3.3, squeeze=False)
    titles = {"drop": ("train loss step 0 / step 1", drop_threshold),
              "ntk_ratio": ("test loss after one step,\nnetwork / NTK limit (≥ 1)", prediction_factor)}
    for ax, column in zip(axes[0], columns, strict=True):
        label, threshold = titles[column]
        ax.scatter(per_width["width"], per_width[column], s=10, color="#999999", label="seeds")
        rows = [(w, geometric_interval(g[column], confidence)) for w, g in per_width.groupby("width")]
        widths = np.array([w for w, _ in rows])
        mean = np.array([i["mean"] for _, i in rows])
        low, high = np.array([i["low"] for _, i in rows]), np.array([i["high"] for _, i in rows])
        count = rows[0][1]["replicates"] if rows else 0
        lost = sum(i["diverged"] for _, i in rows)
        ax.errorbar(widths, mean, yerr=[mean - low, high - mean], fmt="o-", color=method_colour("exact"), capsize=3,
                    label=f"geometric mean, {confidence:.0%} t interval (n = {count})"
                          + (f"; {lost} diverged runs left out" if lost else ""))
        if not np.isfinite(mean).any():
            ax.text(0.5, 0.5, "every run diverged", transform=ax.transAxes, ha="center", va="center")
        ax.axhline(threshold, **REFERENCE, label="claim threshold (its value in the panel's title)")
        _log_y([ax])
        ax.set(xscale="log", xlabel="width M", ylabel=label)
        ax.xaxis.set_minor_locator(NullLocator())
        ax.set_xticks(widths, [str(w) for w in widths])
        ax.set_title(f"{METHOD_LABEL['exact']}: claim threshold {threshold:g}")
    outside_legend(figure, ncol=2)
    return figure


def plot_one_step_vs_width(table: pd.DataFrame, confidence: float):
    """The fraction of the training loss one step leaves (step 1 over step 0) against width, per method: the
    geometric mean over seeds with its Student-t interval, the legend giving the mean log-log slope over seeds; a
    grey M^-1 line (the theory's exponent) through exact NGD's first point."""
    fractions = one_step_fractions(table)
    slopes = width_slopes(fractions)
    figure, ax = subplots(width="full", height=3.8)
    anchor = None
    for method, rows in fractions.groupby("method", sort=False):
        if rows["width"].nunique() < 2:
            continue
        finite = rows[np.isfinite(rows["fraction"]) & (rows["fraction"] > 0)]
        lost = len(rows) - len(finite)
        if finite.empty:  # drawn as such: every run of the method diverged in its first step
            ax.plot([], [], "x", color=method_colour(method),
                    label=f"{METHOD_LABEL.get(method, method)}: every run diverged ({lost})")
            continue
        points = [(w, geometric_interval(g["fraction"], confidence)) for w, g in finite.groupby("width")]
        widths = np.array([w for w, _ in points], float)
        mean = np.array([i["mean"] for _, i in points])
        low = np.array([i["low"] if np.isfinite(i["low"]) else i["mean"] for _, i in points])
        high = np.array([i["high"] if np.isfinite(i["high"]) else i["mean"] for _, i in points])
        slope = np.nanmean(slopes[method])
        ax.errorbar(widths, mean, yerr=[mean - low, high - mean], fmt="o-", ms=4, capsize=3,
                    color=method_colour(method),
                    label=f"{METHOD_LABEL.get(method, method)} (slope {slope:.2f}"
                          + (f"; {lost} diverged runs left out" if lost else "") + ")")
        if method == "exact":
            anchor = (widths[0], mean[0], widths)
    if anchor is not None:
        start, value, widths = anchor
        ax.plot(widths, value * start / widths, **THEORY,
                label="∝ 1/M through exact NGD's first width (theory's exponent)")
    count = int(fractions.groupby(["method", "width"]).size().max()) if len(fractions) else 0
    _log_y([ax])
    ax.set(xscale="log", xlabel="width M",
           ylabel="train loss after one step / before",
           title=f"one NGD step at the paper's rates\ngeometric mean, {confidence:.0%} t interval (n = {count})")
    ax.xaxis.set_minor_locator(NullLocator())
    all_widths = sorted(fractions["width"].unique())
    ax.set_xticks(all_widths, [str(int(w)) for w in all_widths])
    outside_legend(figure, ncol=2)
    return figure
