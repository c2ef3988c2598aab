"""Figures of the pathological-spectra family (Karakida, Akaho & Amari 2021): eigenvalue histograms of the FIM with
linear and softmax output, the outliers and the mean eigenvalue against the width (with the mean-field closed form,
the family's known answer), and the input metric against the input dimension."""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from dltheory.geometry.settings import SpectraSettings
from dltheory.geometry.spectra import ZERO_FLOOR, spectra_summary
from dltheory.plotting import (
    MAGNITUDE_CMAP,
    REFERENCE,
    THEORY,
    THEORY_SECOND,
    method_colour,
    outside_legend,
    subplots,
)
from dltheory.settings import from_config

__all__ = ["MATRIX_LABEL", "plot_histograms", "plot_input_metric_vs_dim", "plot_outliers_vs_width"]

MATRIX_LABEL = {"fim_linear": "FIM, linear output", "fim_softmax": "FIM, softmax output",
                "input_linear": "input metric, linear output", "input_softmax": "input metric, softmax output"}
MATRIX_COLOUR = {name: method_colour(name) for name in MATRIX_LABEL}
ACTIVATION_MARKER = {"tanh": "o", "relu": "s", "linear": "^", "hard_tanh": "D"}
ACTIVATION_STYLE = {"tanh": "-", "relu": "--", "linear": ":", "hard_tanh": "-."}


def _range(values: pd.Series, fmt: str) -> str:
    low, high = values.min(), values.max()
    return fmt.format(low) if low == high else f"{fmt.format(low)}–{fmt.format(high)}"


def _setting(settings: SpectraSettings) -> str:
    return (f"L = {settings.hidden_layers + 1} weight layers, N = {settings.samples}, C = {settings.outputs}, "
            f"σ_b² = {settings.sigma_b2:g}, {settings.replicates} seeds")


def plot_histograms(table: pd.DataFrame, section: SpectraSettings | Mapping):
    """Rows: (activation, FIM with linear output / with softmax); columns: widths M (the width sweep, D = M).

    Each panel: the histogram of log10 eigenvalues, seeds pooled, counts on a log axis; black ticks under it mark the
    top C eigenvalues of every seed; the text gives the outlier count k (widest eigengap in the upper half of the
    spectrum), the gap lambda_k / lambda_k+1 and the spread log10(lambda_1 / lambda_{C-1}), ranges over
    seeds. Numerical zeros (the softmax dual's N) are left out.
    """
    settings = from_config(SpectraSettings, section, "spectra")
    table = table[(table["part"] == "width") & (table["quantity"] == "eigenvalue")]
    summary = spectra_summary(table)
    widths = sorted(table["width"].unique())
    rows = [(a, m) for a in settings.activations for m in ("fim_linear", "fim_softmax")]
    outputs = settings.outputs
    figure, axes = subplots(len(rows), len(widths), width="wide" if len(widths) > 2 else "full",
                            height=1.9 * len(rows) + 0.9, squeeze=False)
    for row, (activation, matrix) in enumerate(rows):
        of = table[(table["matrix"] == matrix) & (table["activation"] == activation)]
        positive = of[of["value"] > ZERO_FLOOR * of["value"].max()]
        logs = np.log10(positive["value"].to_numpy(float))
        bins = np.linspace(logs.min(), logs.max(), 60) if len(logs) else 10
        for column, width in enumerate(widths):
            ax = axes[row, column]
            at = of[of["width"] == width]
            values = at[at["value"] > ZERO_FLOOR * at["value"].max()]["value"].to_numpy(float)
            counts, _, _ = ax.hist(np.log10(values), bins=bins, color=MATRIX_COLOUR[matrix], alpha=0.75)
            ax.set_yscale("log")
            top = at[at["rank"] < outputs]["value"].to_numpy(float)
            ax.plot(np.log10(top), np.full(len(top), 0.04), "|", color="black", ms=9, mew=1.0,
                    transform=ax.get_xaxis_transform(), label=f"top C = {outputs} eigenvalues of each seed")
            stats = summary[(summary["matrix"] == matrix) & (summary["activation"] == activation)
                            & (summary["width"] == width)]
            ax.text(0.97, 0.95, f"outliers k = {_range(stats['outliers'], '{:d}')}\n"
                                f"gap λ_k/λ_k+1 = {_range(stats['gap'], '{:.1f}')}\n"
                                f"spread log10(λ_1/λ_C−1) = {_range(stats['spread'], '{:.2f}')}",
                    transform=ax.transAxes, ha="right", va="top", fontsize=6.5,
                    bbox={"facecolor": "white", "alpha": 0.8, "edgecolor": "none"})
            ax.set_ylim(0.5, max(counts.max(), 1) * 80)
            if row == 0:
                ax.set_title(f"M = D = {width}")
            if column == 0:
                ax.set_ylabel(f"{activation}: {MATRIX_LABEL[matrix]}\ncount")
            if row == len(rows) - 1:
                ax.set_xlabel("log10 eigenvalue")
    outside_legend(figure, axes=axes[0, :1])
    figure.suptitle(f"FIM spectra at random init (non-zero part), {_setting(settings)} pooled")
    return figure


def _geometric(rows: pd.DataFrame, x: str, column: str) -> pd.Series:
    return rows.groupby(x)[column].apply(lambda v: float(np.exp(np.log(v).mean())))


def plot_outliers_vs_width(summary: pd.DataFrame, section: SpectraSettings | Mapping):
    """Three panels against the width M (log–log), per activation: lambda_max of the FIM with linear and softmax
    output (grey dashed: M^1 through the first point); the linear FIM's mean eigenvalue trace / P with its mean-field
    closed form (the known answer, crosses) and M^-1; and 1 - the overlap of the top-C eigenspace with the span of
    the C mean gradients. Points are seeds, lines join their geometric means."""
    settings = from_config(SpectraSettings, section, "spectra")
    summary = summary[summary["part"] == "width"]
    figure, axes = subplots(1, 3, width="wide", height=3.6)
    for activation in settings.activations:
        marker, style = ACTIVATION_MARKER[activation], ACTIVATION_STYLE[activation]
        for matrix in ("fim_linear", "fim_softmax"):
            rows = summary[(summary["matrix"] == matrix) & (summary["activation"] == activation)]
            if rows.empty:
                continue
            means = _geometric(rows, "width", "lambda_max")
            axes[0].plot(rows["width"], rows["lambda_max"], marker, ms=3.5, alpha=0.45, color=MATRIX_COLOUR[matrix])
            axes[0].plot(means.index, means.to_numpy(), style, marker=marker, lw=1.5, color=MATRIX_COLOUR[matrix],
                         label=f"{activation}, {MATRIX_LABEL[matrix]}")
            if matrix == "fim_linear":
                widths = means.index.to_numpy(float)
                axes[0].plot(widths, means.iloc[0] * widths / widths[0], **THEORY)
                mean = _geometric(rows, "width", "mean")
                axes[1].plot(rows["width"], rows["mean"], marker, ms=3.5, alpha=0.45, color=MATRIX_COLOUR[matrix])
                axes[1].plot(mean.index, mean.to_numpy(), style, marker=marker, lw=1.5, color=MATRIX_COLOUR[matrix],
                             label=f"{activation}: measured trace / P")
                theory = rows.groupby("width")["mean_field"].first()
                axes[1].plot(theory.index, theory.to_numpy(), "x", ms=9, mew=2, color="black",
                             label="mean-field closed form" if activation == settings.activations[0] else None)
                axes[1].plot(widths, mean.iloc[0] * widths[0] / widths, **THEORY_SECOND)
                gap = 1.0 - rows["overlap"].clip(upper=1.0)
                axes[2].plot(rows["width"], gap, marker, ms=4, alpha=0.6, color=MATRIX_COLOUR[matrix])
                axes[2].plot(rows.groupby("width")["overlap"].mean().index,
                             1.0 - rows.groupby("width")["overlap"].mean().clip(upper=1.0).to_numpy(), style,
                             lw=1.5, color=MATRIX_COLOUR[matrix], label=f"{activation}")
    axes[0].plot([], [], **THEORY, label="∝ M through the first width (KAA21 p. 7; left)")
    axes[1].plot([], [], **THEORY_SECOND, label="∝ 1/M through the first width (KAA21 p. 7; middle)")
    titles = ("λ_max against width", "mean eigenvalue (trace / P): known answer", "top-C eigenspace vs mean gradients")
    ylabels = ("λ_max", "mean eigenvalue", "1 − overlap (mean squared cosine)")
    widths = sorted(summary["width"].unique())
    for ax, title, ylabel in zip(axes, titles, ylabels, strict=True):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xticks(widths, [str(int(w)) for w in widths])
        ax.xaxis.set_minor_locator(plt.NullLocator())
        ax.set_xlabel("width M (= input dimension D)")
        ax.set_ylabel(ylabel)
        ax.set_title(title)
    outside_legend(figure, ncol=4)
    figure.suptitle(f"Linear-output FIM against width: {_setting(settings)}")
    return figure


def plot_input_metric_vs_dim(table: pd.DataFrame, section: SpectraSettings | Mapping):
    """The input metric (linear output) at a fixed hidden width with the input dimension D growing.

    Left: the eigenvalues of seed 0 against their rank, one line per D, for the first activation (C marked).
    Middle: lambda_max / mean against D, log–log, per activation (points: seeds; grey dotted: ∝ D). Right: the
    outlier count (widest eigengap in the upper half of the spectrum) against D, every seed, with the line k = C.
    """
    settings = from_config(SpectraSettings, section, "spectra")
    table = table[(table["part"] == "input_dim") & (table["matrix"] == "input_linear")
                  & (table["quantity"] == "eigenvalue")]
    summary = spectra_summary(table)
    dims = sorted(table["input_dim"].unique())
    outputs = settings.outputs
    figure, axes = subplots(1, 3, width="wide", height=3.6)
    first = settings.activations[0]
    colours = plt.get_cmap(MAGNITUDE_CMAP)(np.linspace(0.1, 0.9, len(dims)))
    for colour, dim in zip(colours, dims, strict=True):
        rows = table[(table["activation"] == first) & (table["input_dim"] == dim) & (table["replicate"] == 0)]
        rows = rows.sort_values("rank")
        axes[0].plot(rows["rank"] + 1, rows["value"], ".-", ms=3, lw=1, color=colour, label=f"D = {dim} (left)")
    axes[0].axvline(outputs + 0.5, **REFERENCE, label=f"C = {outputs}")
    axes[0].set_xscale("log")
    axes[0].set_yscale("log")
    axes[0].set_xlabel("rank")
    axes[0].set_ylabel("eigenvalue")
    axes[0].set_title(f"input metric spectra ({first}, seed 0)")
    rng = np.random.default_rng(0)
    for index, activation in enumerate(settings.activations):
        rows = summary[summary["activation"] == activation]
        ratio = rows["lambda_max"] / rows["mean"]
        marker, style = ACTIVATION_MARKER[activation], ACTIVATION_STYLE[activation]
        means = _geometric(rows.assign(r=ratio), "input_dim", "r")
        axes[1].plot(rows["input_dim"], ratio, marker, ms=3.5, alpha=0.45, color=f"C{index}")
        axes[1].plot(means.index, means.to_numpy(), style, marker=marker, color=f"C{index}", label=activation)
        jitter = np.exp(rng.uniform(-0.08, 0.08, len(rows)))
        axes[2].plot(rows["input_dim"] * jitter * (1.0 + 0.1 * index), rows["outliers"], marker, ms=5, alpha=0.6,
                     color=f"C{index}", label=activation)
    dim_values = np.asarray(dims, float)
    first_rows = summary[summary["activation"] == first]
    start = float(np.exp(np.log(first_rows[first_rows["input_dim"] == dims[0]]["lambda_max"]
                                / first_rows[first_rows["input_dim"] == dims[0]]["mean"]).mean()))
    axes[1].plot(dim_values, start * dim_values / dim_values[0], **THEORY, label="∝ D (λ_max O(1), mean 1/D)")
    axes[2].axhline(outputs, **REFERENCE, label=f"C = {outputs}")
    for ax, title, ylabel in ((axes[1], "λ_max / mean against D", "λ_max / mean"),
                              (axes[2], "outlier count (widest eigengap)", "outliers k")):
        ax.set_xscale("log")
        ax.set_xticks(dims, [str(int(d)) for d in dims])
        ax.xaxis.set_minor_locator(plt.NullLocator())
        ax.set_xlabel("input dimension D")
        ax.set_ylabel(ylabel)
        ax.set_title(title)
    axes[1].set_yscale("log")
    outside_legend(figure, ncol=4)  # left: D per line (first activation, seed 0); middle and right: activations
    figure.suptitle(f"Input metric (linear output) with the input dimension growing at hidden width "
                    f"M = {settings.input_metric.width}: {_setting(settings)}")
    return figure
