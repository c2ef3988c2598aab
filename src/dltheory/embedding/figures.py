"""Figures of the embedding family (FYMT19): Hessian eigenvalue counts per embedding and activation, loss slices
through embedded points, and escape curves."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

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


def _representative(wide: pd.DataFrame, settings: EmbeddingSettings) -> pd.DataFrame:
    width = min(SLICE_WIDTH, max(settings.narrow_widths))
    return wide[(wide["teacher"] == 0) & (wide["narrow_width"] == width) & (wide["unit"].isin([0, -1]))]


def plot_eigenvalue_counts(table: pd.DataFrame, section: Mapping | EmbeddingSettings):
    """One panel per input dimension; per activation, a stacked bar of the Hessian's negative / zero / positive
    counts of each embedding (teacher 0, narrow width 2, unit 0), the narrow point first. Above each bar: the
    added counts and in how many of all cases of that group the added counts are the same."""
    settings = from_config(EmbeddingSettings, section, "embedding")
    wide = points(table)
    wide["group"] = wide.apply(embedding_group, axis=1)
    dims = sorted(wide["input_dim"].unique())
    figure, axes = subplots(len(dims), 1, width="wide", height=2.5 * len(dims) + 0.7, squeeze=False)
    for row, d in enumerate(dims):
        ax = axes[row, 0]
        of = wide[wide["input_dim"] == d]
        rep = _representative(of, settings)
        ticks, labels, x = [], [], 0.0
        for act in settings.activations:
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
            ax.text(x - 0.5 - len([g for g in GROUPS if not rep[(rep["activation"] == act)
                                                                & (rep["group"] == g)].empty]) / 2, -0.32,
                    act, transform=ax.get_xaxis_transform(), ha="center", va="top", fontsize=8, weight="bold")
            x += 0.8
        ax.set_xticks(ticks, labels, fontsize=6.5)
        ax.set_xlim(-0.7, x - 0.5)
        ax.set_ylim(0, ax.get_ylim()[1] * 1.25)
        ax.set_ylabel("eigenvalues")
        ax.set_title(f"d = {d}: Hessian counts at the narrow point (width 2) and one unit wider; above each bar "
                     f"the added negative/zero/positive and the share of cases with the same")
    outside_legend(figure, axes=axes, ncol=3)
    return figure


def plot_loss_slices(table: pd.DataFrame, section: Mapping | EmbeddingSettings):
    """Rows: activations; columns: the replication point (lambda outside [0, 1]), the replication point
    (lambda in (0, 1)) and the constant unit (b > 0) or, for ReLU, the inactive unit. Each panel: E(theta + t u) -
    E(theta) along the lambda line, the split direction and the most negative Hessian eigenvector (d = 1)."""
    settings = from_config(EmbeddingSettings, section, "embedding")
    slices = table[(table["part"] == "slice") & (table["input_dim"] == min(table["input_dim"]))]
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
            ax.axhline(0, **REFERENCE)
            ax.set_yscale("symlog", linthresh=1e-8)
            ax.set_title(f"{act}: {title}")
            if row == len(acts) - 1:
                ax.set_xlabel("t (unit direction)")
            if column == 0:
                ax.set_ylabel("E(θ + t u) − E(θ)")
    outside_legend(figure, axes=axes, ncol=4)
    return figure


def plot_escape(table: pd.DataFrame, section: Mapping | EmbeddingSettings):
    """Per activation: E - E_narrow along L-BFGS from a step of eps along the most negative Hessian eigenvector,
    every escape run (thin) and the representative ones (teacher 0, narrow width 2, unit 0; thick), coloured by
    embedding. Saddles go below 0 and keep falling; semi-flat minima stay at 0."""
    settings = from_config(EmbeddingSettings, section, "embedding")
    escape = table[table["part"] == "escape"]
    acts = [a for a in settings.activations if a in set(escape["activation"])]
    figure, axes = subplots(1, len(acts), width="wide", height=2.6, squeeze=False, sharey=True)
    keys = ["input_dim", "teacher", "narrow_width", "embedding", "unit", "lam", "bias"]
    for column, act in enumerate(acts):
        ax = axes[0, column]
        of = escape[escape["activation"] == act]
        for key, curve in of.groupby(keys, dropna=False):
            d, teacher, width, what, unit, lam, bias = key
            curve = curve.sort_values("step")
            bold = teacher == 0 and width == min(SLICE_WIDTH, max(settings.narrow_widths)) and unit in (0, -1)
            label = {"replication": "unit replication", "inactive": "inactive unit",
                     "constant": "constant unit"}[what]
            ax.plot(curve["step"], curve["value"], color=method_colour(EMBEDDING_NAMES[what]),
                    lw=1.4 if bold else 0.5, alpha=1.0 if bold else 0.35, label=label if bold else "_")
        ax.axhline(0, **REFERENCE)
        ax.set_yscale("symlog", linthresh=1e-10)
        ax.set_xlabel("L-BFGS iteration")
        ax.set_title(f"{act} (ε = {settings.escape.eps:g})")
    axes[0, 0].set_ylabel("E − E_narrow")
    outside_legend(figure, axes=axes, ncol=3)
    return figure
