"""Figures of the batch-norm family: lambda_max and the mean eigenvalue against width (T proportional to M) with the
mean-field theory, the T-M diagram, and the GD grid with its edges."""

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from dltheory.geometry.batchnorm import VARIANT_LABEL, gd_edges, sweep_table, theory_table

VARIANT_COLOUR = {"none": "#1f77b4", "last_batch_norm": "#d62728", "last_batch_norm_full": "#ff7f0e",
                  "hidden_batch_norm": "#2ca02c", "last_layer_norm": "#9467bd"}


def plot_fisher_vs_width(table: pd.DataFrame, section) -> plt.Figure:
    """Left: lambda_max against M per variant (seed means, bars: min-max over seeds), with K19's closed form for no
    normalization and the mean-field value for last-layer BN; right: the mean eigenvalue with kappa_1 M / P."""
    theory = theory_table(section)
    figure, axes = plt.subplots(1, 2, figsize=(11, 4.4))
    for ax, metric in ((axes[0], "lambda_max"), (axes[1], "mean_eigenvalue")):
        values = sweep_table(table, metric)
        for variant in dict.fromkeys(values.index.get_level_values("variant")):
            per_seed = values.loc[variant].dropna(axis=1)
            widths, mean = per_seed.columns.to_numpy(float), per_seed.mean(axis=0).to_numpy()
            spread = np.abs(np.vstack([mean - per_seed.min(axis=0), per_seed.max(axis=0) - mean]))
            ax.errorbar(widths, mean, yerr=spread, fmt="o-", capsize=3, color=VARIANT_COLOUR.get(variant),
                        label=VARIANT_LABEL.get(variant, variant))
        ax.set(xscale="log", yscale="log", xlabel="width M (T and D grow with M)")
        _width_ticks(ax, theory["width"].to_numpy())
    axes[0].plot(theory["width"], theory["none"], "k--", lw=1.2,
                 label="theory: $M((T-1)/T\\,\\kappa_2+\\kappa_1/T)$")
    axes[0].plot(theory["width"], theory["last_batch_norm"], ":", color=VARIANT_COLOUR["last_batch_norm"], lw=1.5,
                 label="mean field, last-layer mean subtraction")
    axes[1].plot(theory["width"], theory["mean_eigenvalue"], "k--", lw=1.2, label="theory: $\\kappa_1 M / P$")
    axes[0].set(ylabel="$\\lambda_{max}$", title="largest Fisher eigenvalue")
    axes[1].set(ylabel="trace(F)/P", title="mean Fisher eigenvalue")
    for ax in axes:
        ax.legend(fontsize=7)
    figure.tight_layout()
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
    figure, axes = plt.subplots(1, len(variants), figsize=(5.4 * len(variants), 4.4), squeeze=False)
    for ax, variant in zip(axes[0], variants, strict=True):
        grid = means.loc[variant]
        logs = np.log10(grid.to_numpy())
        image = ax.imshow(logs, origin="lower", cmap="viridis", aspect="auto")
        middle = (np.nanmin(logs) + np.nanmax(logs)) / 2
        for (row, column), value in np.ndenumerate(grid.to_numpy()):
            ax.text(column, row, f"{value:.3g}", ha="center", va="center", fontsize=8,
                    color="k" if logs[row, column] > middle else "w")
        ax.grid(False)
        widths, samples = grid.columns.to_numpy(), grid.index.to_numpy()
        ax.set_xticks(range(len(widths)), [str(w) for w in widths])
        ax.set_yticks(range(len(samples)), [str(t) for t in samples])
        line = [np.interp(np.log(settings.samples(w)), np.log(samples), np.arange(len(samples))) for w in widths]
        ax.plot(range(len(widths)), line, "w--", lw=1.5, label=f"T = {settings.samples_per_width:g} M")
        ax.set(xlabel="width M", ylabel="samples T", title=VARIANT_LABEL.get(variant, variant))
        ax.legend(fontsize=7, loc="upper left")
        figure.colorbar(image, ax=ax, label="log10 $\\lambda_{max}$")
    figure.tight_layout()
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

    figure, axes = plt.subplots(1, len(variants) + 1, figsize=(4.8 * (len(variants) + 1), 4.4), squeeze=False,
                                layout="constrained")
    axes = axes[0]
    points = None
    for ax, variant in zip(axes, variants, strict=False):
        rows = wide[wide["variant"] == variant]
        position = positions(rows)
        ratio = np.log10(np.clip(rows["final_loss"] / rows["initial_loss"], 1e-3, 1e3))
        finite = ~rows["diverged"].to_numpy(bool)
        points = ax.scatter(position[finite], rows["rate_multiple"][finite], c=ratio[finite], cmap="coolwarm",
                            vmin=-2, vmax=2, s=22, marker="s")
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
        ax.legend(fontsize=6, loc="lower right")
    ax = axes[-1]
    for variant, rows in edges.groupby("variant", sort=False):
        colour = VARIANT_COLOUR.get(variant)
        ax.scatter(rows["width"], rows["edge_rate"], color=colour, s=18, label=f"edge, {variant}")
        ax.scatter(rows["width"], 2 / rows["lambda_max"], color=colour, marker="_", s=120,
                   label=f"$2/\\lambda_{{max}}$, {variant}")
    ax.set(xscale="log", xlabel="width M", ylabel="learning rate $\\eta$", title="edge rates per seed")
    if np.isfinite(edges["edge_rate"].to_numpy(float)).any() if len(edges) else False:
        ax.set_yscale("log")
    else:  # every rate diverged at every width: there is no edge to draw
        ax.text(0.5, 0.5, "no edge: every run diverged", transform=ax.transAxes, ha="center", va="center")
    _width_ticks(ax, np.array(widths))
    ax.legend(fontsize=6)
    if points is not None:
        figure.colorbar(points, ax=list(axes), label="log10(final / initial training loss)")
    return figure


def _width_ticks(ax, widths) -> None:
    ax.set_xticks(widths, [str(int(w)) for w in widths])
    ax.xaxis.set_minor_locator(plt.NullLocator())
