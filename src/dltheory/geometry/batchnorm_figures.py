"""Figures of the batch-norm family: lambda_max and the mean eigenvalue against width (T proportional to M) with the
mean-field theory, the T-M diagram, and the GD grid with its edges."""

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from dltheory.geometry.batchnorm import VARIANT_LABEL, gd_edges, sweep_table, theory_table
from dltheory.plotting import (
    DIVERGING_CMAP,
    MAGNITUDE_CMAP,
    THEORY,
    THEORY_SECOND,
    diverging_norm,
    method_colour,
    outside_legend,
    subplots,
)


def plot_fisher_vs_width(table: pd.DataFrame, section) -> plt.Figure:
    """Left: lambda_max against M per variant (seed means, bars: min-max over seeds), with K19's closed form for no
    normalization and the mean-field value for last-layer BN; right: the mean eigenvalue with kappa_1 M / P."""
    theory = theory_table(section)
    figure, axes = subplots(1, 2, width="full", height=4.3)
    for ax, metric in ((axes[0], "lambda_max"), (axes[1], "mean_eigenvalue")):
        values = sweep_table(table, metric)
        for variant in dict.fromkeys(values.index.get_level_values("variant")):
            per_seed = values.loc[variant].dropna(axis=1)
            widths, mean = per_seed.columns.to_numpy(float), per_seed.mean(axis=0).to_numpy()
            spread = np.abs(np.vstack([mean - per_seed.min(axis=0), per_seed.max(axis=0) - mean]))
            ax.errorbar(widths, mean, yerr=spread, fmt="o-", capsize=3, color=method_colour(variant),
                        label=VARIANT_LABEL.get(variant, variant))
        ax.set(xscale="log", yscale="log", xlabel="width M (T and D grow with M)")
        _width_ticks(ax, theory["width"].to_numpy())
    axes[0].plot(theory["width"], theory["none"], **THEORY,
                 label="theory, no normalization: $M((T-1)/T\\,\\kappa_2+\\kappa_1/T)$ (left)")
    axes[0].plot(theory["width"], theory["last_batch_norm"], **THEORY_SECOND,
                 label="mean field, last-layer mean subtraction (left)")
    axes[1].plot(theory["width"], theory["mean_eigenvalue"], **THEORY, label="theory: $\\kappa_1 M / P$ (right)")
    axes[0].set(ylabel="$\\lambda_{max}$", title="largest Fisher eigenvalue")
    axes[1].set(ylabel="trace(F)/P", title="mean Fisher eigenvalue")
    outside_legend(figure, ncol=2)
    return figure


def plot_tm_diagram(table: pd.DataFrame, section) -> plt.Figure:
    """One heat map per variant (none, last-layer BN): log10 of the seed-mean lambda_max over (M, T), each cell
    annotated, with the sweep's T = M * samples_per_width line."""
    from dltheory.geometry.settings import BatchnormSettings
    from dltheory.settings import from_config

    settings = from_config(BatchnormSettings, section, "batchnorm")
    diagram = table[table["grid"] == "diagram"]
    means = diagram.pivot_table(index=["variant", "samples"], columns="width", values="value", aggfunc="mean")
    variants = list(dict.fromkeys(diagram["variant"]))
    figure, axes = subplots(1, len(variants), width="full" if len(variants) <= 2 else "wide", height=3.6,
                            squeeze=False)
    # One colour scale for every panel (the same quantity), so that the variants compare by colour too.
    every = np.log10(means.to_numpy(float))
    low, high = (float(np.nanmin(every)), float(np.nanmax(every))) if np.isfinite(every).any() else (0.0, 1.0)
    middle = (low + high) / 2
    for ax, variant in zip(axes[0], variants, strict=True):
        grid = means.loc[variant]
        logs = np.log10(grid.to_numpy())
        image = ax.imshow(logs, origin="lower", cmap=MAGNITUDE_CMAP, aspect="auto", vmin=low, vmax=high)
        for (row, column), value in np.ndenumerate(grid.to_numpy()):
            ax.text(column, row, f"{value:.3g}", ha="center", va="center", fontsize=7,
                    color="k" if logs[row, column] > middle else "w")
        ax.grid(False)
        widths, samples = grid.columns.to_numpy(), grid.index.to_numpy()
        ax.set_xticks(range(len(widths)), [str(w) for w in widths])
        ax.set_yticks(range(len(samples)), [str(t) for t in samples])
        line = [np.interp(np.log(settings.samples(w)), np.log(samples), np.arange(len(samples))) for w in widths]
        ax.plot(range(len(widths)), line, "w--", lw=1.5)
        ax.set(xlabel="width M", ylabel="samples T", title=VARIANT_LABEL.get(variant, variant))
    figure.colorbar(image, ax=list(axes[0]), label="log10 $\\lambda_{max}$ (one scale for both panels)")
    outside_legend(figure, [plt.Line2D([], [], color="0.2", ls="--", lw=1.5)],
                   [f"white dashed: the width sweep's T = {settings.samples_per_width:g} M"])
    return figure


def plot_gd_grid(table: pd.DataFrame) -> plt.Figure:
    """Per GD variant: every seed's runs over (M, c) with c the multiple of that seed's 2 / lambda_max, coloured by
    the final over the initial loss (crosses: diverged; circles: the loss rose within the first steps), and the
    seeds' edges; last panel: the edge rates against M with 2 / lambda_max."""
    grid = table[(table["grid"] == "gd") & table["metric"].isin(["initial_loss", "final_loss"])]
    # Not pivot_table alone: it drops a metric that is NaN in every run (every run diverged), drawn here as such.
    index = ["variant", "width", "replicate", "rate_multiple", "diverged", "stable"]
    wide = (grid.groupby([*index, "metric"])["value"].first().unstack("metric")
            .reindex(columns=["initial_loss", "final_loss"]).reset_index())
    edges = gd_edges(table)
    variants = sorted(dict.fromkeys(wide["variant"]), key=lambda v: list(VARIANT_LABEL).index(v))
    widths = sorted(wide["width"].unique())
    replicates = wide["replicate"].nunique()
    offset = {w: i for i, w in enumerate(widths)}

    def positions(rows):  # each width's seeds side by side
        return rows["width"].map(offset) + (rows["replicate"] - (replicates - 1) / 2) * 0.12

    figure, axes = subplots(1, len(variants) + 1, width="wide", height=3.9, squeeze=False)
    axes = axes[0]
    points = None
    for ax, variant in zip(axes, variants, strict=False):
        rows = wide[wide["variant"] == variant]
        position = positions(rows)
        ratio = np.log10(np.clip(rows["final_loss"] / rows["initial_loss"], 1e-3, 1e3))
        finite = ~rows["diverged"].to_numpy(bool)
        points = ax.scatter(position[finite], rows["rate_multiple"][finite], c=ratio[finite], cmap=DIVERGING_CMAP,
                            norm=diverging_norm(limit=2.0), s=18, marker="s")
        ax.scatter(position[~finite], rows["rate_multiple"][~finite], c="k", marker="x", s=18, label="diverged")
        unstable = finite & ~rows["stable"].to_numpy(bool)
        ax.scatter(position[unstable], rows["rate_multiple"][unstable], facecolors="none", edgecolors="k", s=40,
                   label="rose within the first steps")
        edge = edges[edges["variant"] == variant]
        ax.scatter(positions(edge), edge["edge_multiple"], marker="_", s=120, c="g", label="edge (seed)")
        ax.axhline(1.0, color="k", lw=1, label="$2/\\lambda_{max}$")
        ax.set(yscale="log", xlabel="width M (seeds side by side)", ylabel="rate / ($2/\\lambda_{max}$)",
               title=VARIANT_LABEL.get(variant, variant))
        ax.yaxis.set_major_locator(plt.FixedLocator([0.5, 0.75, 1, 1.5, 2, 3, 4]))
        ax.yaxis.set_major_formatter(plt.FuncFormatter(lambda value, _: f"{value:g}"))
        ax.yaxis.set_minor_locator(plt.NullLocator())
        ax.set_xticks(range(len(widths)), [str(w) for w in widths])
    ax = axes[-1]
    for variant, rows in edges.groupby("variant", sort=False):
        colour, name = method_colour(variant), VARIANT_LABEL.get(variant, variant)
        ax.scatter(rows["width"], rows["edge_rate"], color=colour, s=18, label=f"edge rate (seed), {name}")
        ax.scatter(rows["width"], 2 / rows["lambda_max"], color=colour, marker="_", s=120,
                   label=f"$2/\\lambda_{{max}}$ (seed), {name}")
    ax.set(xscale="log", xlabel="width M", ylabel="learning rate $\\eta$", title="edge rates per seed")
    if np.isfinite(edges["edge_rate"].to_numpy(float)).any() if len(edges) else False:
        ax.set_yscale("log")
    else:  # every rate diverged at every width: there is no edge to draw
        ax.text(0.5, 0.5, "no edge: every run diverged", transform=ax.transAxes, ha="center", va="center")
    _width_ticks(ax, np.array(widths))
    if points is not None:
        figure.colorbar(points, ax=list(axes), label="log10(final / initial training loss)\nred: rose; blue: fell")
    outside_legend(figure, ncol=3)
    return figure


def _width_ticks(ax, widths) -> None:
    ax.set_xticks(widths, [str(int(w)) for w in widths])
    ax.xaxis.set_minor_locator(plt.NullLocator())
