"""Figures of the batch-norm family: lambda_max and the mean eigenvalue against width, and the GD grid."""

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from dltheory.geometry.batchnorm import VARIANT_LABEL, fisher_table, gd_edges, width_slopes

VARIANT_COLOUR = {"none": "#1f77b4", "last_batch_norm": "#d62728", "hidden_batch_norm": "#2ca02c",
                  "last_layer_norm": "#9467bd"}


def plot_fisher_vs_width(table: pd.DataFrame):
    """Left: lambda_max against M per variant (log–log) with fitted slopes and the paper's M^1; right: the mean
    eigenvalue trace(F)/P with the paper's M^-1."""
    fisher, slopes = fisher_table(table), width_slopes(table).set_index("variant")
    figure, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, column, reference, label in ((axes[0], "lambda_max", 1, "$\\lambda_{max}$"),
                                         (axes[1], "mean_eigenvalue", -1, "mean eigenvalue trace(F)/P")):
        for variant, rows in fisher.groupby("variant", sort=False):
            ax.plot(rows["width"], rows[column], "o-", color=VARIANT_COLOUR.get(variant),
                    label=f"{VARIANT_LABEL.get(variant, variant)} (slope {slopes.loc[variant, column]:.2f})")
        base = fisher[fisher["variant"] == ("none" if "none" in set(fisher["variant"]) else fisher["variant"].iloc[0])]
        widths = base["width"].to_numpy(float)
        anchor = base[column].iloc[0]
        ax.plot(widths, anchor * (widths / widths[0]) ** reference, "k:", label=f"paper: $\\propto M^{{{reference}}}$")
        ax.set(xscale="log", yscale="log", xlabel="width M", ylabel=label)
        _width_ticks(ax, widths)
        ax.legend(fontsize=7)
    axes[0].set_title("largest Fisher eigenvalue")
    axes[1].set_title("mean Fisher eigenvalue")
    figure.tight_layout()
    return figure


def plot_gd_grid(table: pd.DataFrame):
    """One panel per GD variant: each (M, eta) cell coloured by the final training loss relative to the initial one
    (crosses: diverged), the measured 2 / lambda_max line, and the largest stable rate per width."""
    grid = table[table["metric"].isin(["initial_loss", "final_loss"])]
    wide = grid.pivot_table(index=["variant", "width", "rate_multiple", "learning_rate", "diverged", "stable"],
                            columns="metric", values="value").reset_index()
    edges = gd_edges(table)
    variants = list(dict.fromkeys(wide["variant"]))
    figure, axes = plt.subplots(1, len(variants), figsize=(5.2 * len(variants), 4.2), squeeze=False, sharey=True)
    for ax, variant in zip(axes[0], variants, strict=True):
        rows = wide[wide["variant"] == variant]
        ratio = np.log10(np.clip(rows["final_loss"] / rows["initial_loss"], 1e-4, 1e4))
        finite = ~rows["diverged"]
        points = ax.scatter(rows["width"][finite], rows["learning_rate"][finite], c=ratio[finite], cmap="coolwarm",
                            vmin=-3, vmax=3, s=60, marker="s")
        ax.scatter(rows["width"][~finite], rows["learning_rate"][~finite], c="k", marker="x", s=30, label="diverged")
        unstable = finite & ~rows["stable"]
        ax.scatter(rows["width"][unstable], rows["learning_rate"][unstable], facecolors="none", edgecolors="k",
                   s=90, marker="o", label="loss rose above its start")
        edge = edges[edges["variant"] == variant].sort_values("width")
        ax.plot(edge["width"], 2 / edge["lambda_max"], "k-", lw=2, label="$2/\\lambda_{max}$ (measured)")
        ax.plot(edge["width"], edge["edge_rate"], "g--", lw=1.5, label="largest stable rate")
        ax.set(xscale="log", yscale="log", xlabel="width M", title=VARIANT_LABEL.get(variant, variant))
        _width_ticks(ax, edge["width"].to_numpy())
        ax.legend(fontsize=7, loc="lower left")
    axes[0][0].set_ylabel("learning rate $\\eta$")
    figure.colorbar(points, ax=axes[0].tolist(), label="log10(final / initial training loss)")
    return figure


def _width_ticks(ax, widths) -> None:
    ax.set_xticks(widths, [str(int(w)) for w in widths])
    ax.xaxis.set_minor_locator(plt.NullLocator())
