"""Figures of the embedding family (FYMT19): Hessian eigenvalue counts per embedding and activation, loss slices
through embedded points, and escape curves."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from matplotlib.ticker import MaxNLocator

from dltheory.embedding.analysis import embedding_group, points
from dltheory.embedding.experiment import SLICE_WIDTH
from dltheory.embedding.settings import EmbeddingSettings
from dltheory.plotting import REFERENCE, method_colour, outside_legend, subplots
from dltheory.settings import from_config

__all__ = ["plot_eigenvalue_counts", "plot_escape", "plot_loss_slices"]

GROUPS = ["narrow", "replication, λ in (0, 1)", "replication, λ outside [0, 1]", "inactive unit",
          "constant unit, b > 0", "constant unit, b < 0"]
SHORT = {"narrow": "narrow", "replication, λ in (0, 1)": "repl.\nλ∈(0,1)",
         "replication, λ outside [0, 1]": "repl.\nλ∉[0,1]", "inactive unit": "inactive",
         "constant unit, b > 0": "const.\nb>0", "constant unit, b < 0": "const.\nb<0"}
# Counts: red = negative (a way down), grey = zero (flat), blue = positive.
COUNT_COLOURS = {"negative": "#b2182b", "zero": "0.75", "positive": "#2166ac"}
EMBEDDING_NAMES = {"replication": "unit_replication", "inactive": "inactive_unit", "constant": "constant_unit"}


def representative(frame: pd.DataFrame, settings: EmbeddingSettings) -> pd.DataFrame:
    """The rows of the representative cases: per (activation, input dimension), the narrow width closest to
    SLICE_WIDTH that has points, its first data set (teacher) with points, unit 0 (or the added unit)."""
    target = min(SLICE_WIDTH, max(settings.narrow_widths))
    chosen = []
    for _, of in frame.groupby(["activation", "input_dim"]):
        widths = sorted(of["narrow_width"].unique(), key=lambda w: (abs(w - target), w))
        of = of[of["narrow_width"] == widths[0]]
        of = of[of["teacher"] == of["teacher"].min()]
        chosen.append(of[of["unit"].isin([0, -1])])
    return pd.concat(chosen) if chosen else frame.iloc[0:0]


def plot_eigenvalue_counts(table: pd.DataFrame, section: Mapping | EmbeddingSettings):
    """One panel per input dimension; per activation, a stacked bar of the Hessian's negative / zero / positive
    counts of each embedding of the representative narrow point (:func:`representative`), the narrow point first.
    Above each bar: the added counts and in how many of all cases of that group the added counts are the same."""
    settings = from_config(EmbeddingSettings, section, "embedding")
    wide = points(table)
    wide["group"] = wide.apply(embedding_group, axis=1)
    dims = sorted(wide["input_dim"].unique())
    figure, axes = subplots(len(dims), 1, width="wide", height=2.5 * len(dims) + 0.7, squeeze=False)
    for row, d in enumerate(dims):
        ax = axes[row, 0]
        of = wide[wide["input_dim"] == d]
        rep = representative(of, settings)
        ticks, labels, x = [], [], 0.0
        for act in settings.activations:
            start = x
            for group in GROUPS:
                chosen = rep[(rep["activation"] == act) & (rep["group"] == group)]
                if chosen.empty:
                    continue
                point = chosen.sort_values(["lam", "bias"]).iloc[0]
                bottom = 0
                for kind, colour in COUNT_COLOURS.items():
                    ax.bar(x, point[kind], bottom=bottom, color=colour, width=0.8, edgecolor="white", lw=0.5,
                           label=f"{kind} eigenvalues")
                    bottom += point[kind]
                if group != "narrow":
                    same = of[(of["activation"] == act) & (of["group"] == group)]
                    added = (same["excess_negative"] == point["excess_negative"]) & (
                        same["excess_zero"] == point["excess_zero"])
                    ax.text(x, bottom + 0.3, f"+{int(point['excess_negative'])}/{int(point['excess_zero'])}/"
                                             f"{int(point['excess_positive'])}\n{int(added.sum())}/{len(same)}",
                            ha="center", va="bottom", fontsize=6.5)
                ticks.append(x)
                labels.append(SHORT[group])
                x += 1
            if x == start:  # no accepted narrow point for this activation and input
                ax.text(x + 0.5, 0.5, "no narrow\nminimum found", transform=ax.get_xaxis_transform(),
                        ha="center", va="center", fontsize=6.5)
                x += 1
            width = rep[rep["activation"] == act]["narrow_width"]
            name = f"{act} (H0 = {int(width.iloc[0])})" if len(width) else act
            ax.text((start + x - 1) / 2, -0.32, name, transform=ax.get_xaxis_transform(), ha="center", va="top",
                    fontsize=8, weight="bold")
            x += 0.8
        ax.set_xticks(ticks, labels, fontsize=6.5)
        ax.set_xlim(-0.7, x - 0.5)
        ax.set_ylim(0, ax.get_ylim()[1] * 1.25)
        ax.set_ylabel("eigenvalues")
        ax.set_title(f"d = {d}: Hessian counts at a narrow minimum and one unit wider; above each bar the added "
                     f"negative/zero/positive and the share of all cases with the same")
    outside_legend(figure, axes=axes, ncol=3)
    return figure


def plot_loss_slices(table: pd.DataFrame, section: Mapping | EmbeddingSettings):
    """Rows: activations; columns: the replication point (lambda outside [0, 1]), the replication point
    (lambda in (0, 1)) and the constant unit (b > 0) or, for ReLU, the inactive unit. Each panel: E(theta + t u) -
    E(theta) along the lambda line, the split direction and the most negative Hessian eigenvector (d = 1), on a
    linear axis centred on the dip where the loss dips."""
    settings = from_config(EmbeddingSettings, section, "embedding")
    slices = table[(table["part"] == "slice") & (table["input_dim"] == min(table["input_dim"]))]
    slices = representative(slices, settings)
    outside = next((lam for lam in settings.lambdas if not 0 < lam < 1), settings.lambdas[0])
    inside = next((lam for lam in settings.lambdas if 0 < lam < 1), settings.lambdas[0])
    acts = [a for a in settings.activations if a in set(slices["activation"])]
    figure, axes = subplots(len(acts), 3, width="wide", height=1.8 * len(acts) + 0.8, squeeze=False)
    styles = {"lambda_line": ("lambda line", "0.5", ":"), "split": ("split direction ζ", "#1b7837", "-"),
              "most_negative": ("most negative eigenvector", "#b2182b", "--")}
    for row, act in enumerate(acts):
        of = slices[slices["activation"] == act]
        third = "inactive" if act == "relu" else "constant"
        panels = [("replication", outside, f"replication, λ = {outside:g}"),
                  ("replication", inside, f"replication, λ = {inside:g}"),
                  (third, None, "inactive unit" if third == "inactive" else "constant unit, b > 0")]
        for column, (what, lam, title) in enumerate(panels):
            ax = axes[row, column]
            chosen = of[of["embedding"] == what]
            if lam is not None:
                chosen = chosen[np.isclose(chosen["lam"], lam)]
            elif what == "constant":
                chosen = chosen[chosen["bias"] > 0]
            for direction, (label, colour, ls) in styles.items():
                curve = chosen[chosen["direction"] == direction].sort_values("t")
                if len(curve):
                    ax.plot(curve["t"], curve["value"], color=colour, ls=ls, lw=1.3, label=label)
            ax.axhline(0, **REFERENCE, zorder=0)
            # Where the loss dips, the panel is centred on the dip (the rise leaves it): a saddle's way down is a
            # change of 1e-10 to 1e-8 beside rises of 1e-6.
            low, high = chosen["value"].min(), chosen["value"].max()
            dips = low < -1e-6 * max(abs(high), abs(low))  # below that: float64 rounding of a flat slice
            ax.set_ylim((1.4 * low, -1.4 * low) if dips else (-0.05 * high, 1.05 * high))
            ax.ticklabel_format(axis="y", style="sci", scilimits=(0, 0))
            ax.xaxis.set_major_locator(MaxNLocator(5))
            ax.set_title(f"{act}, H0 = {int(of['narrow_width'].iloc[0])}: {title}")
            if row == len(acts) - 1:
                ax.set_xlabel("t (unit direction)")
            if column == 0:
                ax.set_ylabel("E(θ + t u) − E(θ)")
    outside_legend(figure, axes=axes, ncol=4)
    return figure


def plot_escape(table: pd.DataFrame, section: Mapping | EmbeddingSettings):
    """Per activation: E - E_narrow along L-BFGS from a step of eps along the most negative Hessian eigenvector,
    every escape run (thin) and those of the representative narrow points (:func:`representative`; thick),
    coloured by embedding. Saddles go below 0 and keep falling; semi-flat minima stay at 0."""
    settings = from_config(EmbeddingSettings, section, "embedding")
    escape = table[table["part"] == "escape"]
    chosen = representative(escape, settings)
    bold_keys = set(zip(chosen["activation"], chosen["input_dim"], chosen["teacher"], chosen["narrow_width"],
                        chosen["unit"], strict=True))
    acts = [a for a in settings.activations if a in set(escape["activation"])]
    figure, axes = subplots(1, len(acts), width="wide", height=2.6, squeeze=False, sharey=True)
    keys = ["input_dim", "teacher", "narrow_width", "embedding", "unit", "lam", "bias"]
    for column, act in enumerate(acts):
        ax = axes[0, column]
        of = escape[escape["activation"] == act]
        for key, curve in of.groupby(keys, dropna=False):
            d, teacher, width, what, unit, lam, bias = key
            curve = curve.sort_values("step")
            bold = (act, d, teacher, width, unit) in bold_keys
            label = {"replication": "unit replication", "inactive": "inactive unit",
                     "constant": "constant unit"}[what]
            # The inactive unit's curves lie on 0 under the ReLU replications' (both semi-flat): hollow markers on
            # top keep them visible.
            marks = dict(marker="o", markevery=max(1, len(curve) // 8), markersize=4 if bold else 3,
                         markerfacecolor="none", zorder=3) if what == "inactive" else {}
            ax.plot(curve["step"], curve["value"], color=method_colour(EMBEDDING_NAMES[what]),
                    lw=1.4 if bold else 0.5, alpha=1.0 if bold else 0.35, label=label if bold else "_", **marks)
        ax.axhline(0, **REFERENCE, zorder=0)
        ax.set_yscale("symlog", linthresh=1e-10)
        ax.set_xlabel("L-BFGS iteration")
        ax.set_title(f"{act} (ε = {settings.escape.eps:g})")
    axes[0, 0].set_ylabel("E − E_narrow")
    outside_legend(figure, axes=axes, ncol=3)
    return figure
