"""Figures of the pathological-spectra family (Karakida, Akaho & Amari 2021): eigenvalue histograms of the FIM with
linear and softmax output and of the input metric, and the outliers' growth with the width."""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from dltheory.geometry.settings import SpectraSettings
from dltheory.geometry.spectra import spectra_summary
from dltheory.settings import from_config
from dltheory.stats import loglog_slope

__all__ = ["MATRIX_LABEL", "plot_histograms", "plot_outliers_vs_width"]

MATRIX_LABEL = {"fim_linear": "FIM, linear output (MSE)", "fim_softmax": "FIM, softmax output (cross-entropy)",
                "input_linear": "input metric, linear output", "input_softmax": "input metric, softmax output"}
MATRIX_COLOUR = {"fim_linear": "#1f77b4", "fim_softmax": "#d62728", "input_linear": "#2ca02c",
                 "input_softmax": "#9467bd"}
HISTOGRAM_ROWS = ("fim_linear", "fim_softmax", "input_linear")
# Eigenvalues below lambda_max times this are numerical zeros (the softmax dual has N exact ones) and are not drawn.
ZERO_FLOOR = 1e-10


def _range(values: pd.Series, fmt: str) -> str:
    low, high = values.min(), values.max()
    return fmt.format(low) if low == high else f"{fmt.format(low)}–{fmt.format(high)}"


def plot_histograms(table: pd.DataFrame, section: SpectraSettings | Mapping):
    """Rows: FIM with linear output, FIM with softmax, input metric with linear output; columns: widths M.

    Each panel is the histogram of log10 eigenvalues, all replicates pooled, counts on a log axis; the top C
    eigenvalues of every replicate are marked as red ticks under the histogram, and the panel states the outlier count
    k (widest ratio lambda_k / lambda_k+1, k ≤ 2C) and that gap, ranges over the replicates. Numerical zeros are left
    out (below lambda_max * 1e-10).
    """
    settings = from_config(SpectraSettings, section, "spectra")
    summary = spectra_summary(table)
    widths = sorted(table["width"].unique())
    outputs = int(table["n_outputs"].iloc[0])
    figure, axes = plt.subplots(len(HISTOGRAM_ROWS), len(widths), figsize=(3.6 * len(widths), 2.7 * 3),
                                squeeze=False)
    for row, matrix in enumerate(HISTOGRAM_ROWS):
        rows_of = table[table["matrix"] == matrix]
        positive = rows_of[rows_of["value"] > ZERO_FLOOR * rows_of["value"].max()]
        logs = np.log10(positive["value"].to_numpy(float))
        bins = np.linspace(logs.min(), logs.max(), 60) if len(logs) else 10
        for column, width in enumerate(widths):
            ax = axes[row, column]
            at_width = rows_of[rows_of["width"] == width]
            values = at_width[at_width["value"] > ZERO_FLOOR * at_width["value"].max()]["value"].to_numpy(float)
            counts, _, _ = ax.hist(np.log10(values), bins=bins, color=MATRIX_COLOUR[matrix], alpha=0.75)
            ax.set_yscale("log")
            top = at_width[at_width["rank"] < outputs]["value"].to_numpy(float)
            # Ticks in axes height (x in data), so they sit under the bars whatever the counts.
            ax.plot(np.log10(top), np.full(len(top), 0.04), "|", color="red", ms=9, mew=1.2,
                    transform=ax.get_xaxis_transform(), label=f"top C = {outputs} eigenvalues of each replicate")
            stats = summary[(summary["matrix"] == matrix) & (summary["width"] == width)]
            ax.text(0.97, 0.95, f"outliers k = {_range(stats['outliers'], '{:d}')}\n"
                                f"gap λ_k/λ_k+1 = {_range(stats['gap'], '{:.1f}')}\n"
                                f"spread log10(λ_1/λ_C) = {_range(stats['spread'], '{:.2f}')}",
                    transform=ax.transAxes, ha="right", va="top", fontsize=7.5,
                    bbox={"facecolor": "white", "alpha": 0.8, "edgecolor": "none"})
            ax.set_ylim(0.5, max(counts.max(), 1) * 60)  # headroom above the bars for the text
            if row == 0:
                ax.set_title(f"M = {width}", fontsize=10)
            if column == 0:
                ax.set_ylabel(f"{MATRIX_LABEL[matrix]}\ncount", fontsize=8.5)
            if row == len(HISTOGRAM_ROWS) - 1:
                ax.set_xlabel("log10 eigenvalue")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="lower center", frameon=False, fontsize=8, bbox_to_anchor=(0.5, -0.01))
    figure.suptitle(
        f"Eigenvalue spectra at random init: {settings.activation} (ours), σ_w² = {settings.sigma_w2:g}, "
        f"{settings.hidden_layers} hidden layers, N = {int(table['n_samples'].iloc[0])}, C = {outputs}, "
        f"input dim {int(table['input_dim'].iloc[0])} (ours), {table['replicate'].nunique()} replicates pooled",
        fontsize=10)
    figure.tight_layout(rect=(0, 0.03, 1, 1))
    return figure


def plot_outliers_vs_width(summary: pd.DataFrame):
    """lambda_max (left) and the mean eigenvalue trace / P (right) of the FIM against the width M, log–log, linear
    and softmax output; points are replicates, lines join the replicate geometric means, and the legend gives the
    fitted log–log slopes. Grey dashed: the predicted M^1 and M^-1 (KAA21 reading note p. 7), through the linear
    output's first point."""
    figure, axes = plt.subplots(1, 2, figsize=(10.0, 4.0))
    for ax, column, reference, name in ((axes[0], "lambda_max", 1.0, "λ_max"),
                                        (axes[1], "mean", -1.0, "mean eigenvalue (trace / P)")):
        for matrix in ("fim_linear", "fim_softmax"):
            rows = summary[summary["matrix"] == matrix]
            if rows.empty:
                continue
            means = rows.groupby("width")[column].apply(lambda v: float(np.exp(np.log(v).mean())))
            slope = loglog_slope(means.index.to_numpy(float), means.to_numpy(float))
            ax.plot(rows["width"], rows[column], "o", ms=4, alpha=0.5, color=MATRIX_COLOUR[matrix])
            ax.plot(means.index, means.to_numpy(), "-", lw=1.6, color=MATRIX_COLOUR[matrix],
                    label=f"{MATRIX_LABEL[matrix]}: slope {slope:.2f}")
            if matrix == "fim_linear" and len(means):
                widths = means.index.to_numpy(float)
                ax.plot(widths, means.iloc[0] * (widths / widths[0]) ** reference, "--", color="grey", lw=1,
                        label=f"M^{reference:+.0f} (KAA21)")
        ax.set_xscale("log")
        ax.set_yscale("log")
        widths = sorted(summary["width"].unique())
        ax.set_xticks(widths, [str(int(w)) for w in widths])
        ax.xaxis.set_minor_locator(plt.NullLocator())
        ax.set_xlabel("width M")
        ax.set_ylabel(name)
        ax.set_title(f"FIM {name} against width", fontsize=10)
        ax.legend(fontsize=7.5, frameon=False)
    activation = summary["activation"].iloc[0] if len(summary) else ""
    figure.suptitle(f"Outliers grow like M, the mean shrinks like 1/M ({activation}, ours)", fontsize=10)
    figure.tight_layout()
    return figure
