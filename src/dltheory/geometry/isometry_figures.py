"""Figures of the dynamical-isometry family (Hayase & Karakida, AISTATS 2021, arXiv 2006.07814; every setting ours):
the conditional-FIM spectrum per depth, its maximum and the online-SGD stability edge against depth, and the
training loss over the (learning rate, depth) grid.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.colors import TwoSlopeNorm

from dltheory.geometry.isometry import _with_defaults, stability_edge
from dltheory.stats import loglog_slope

__all__ = ["plot_fim_max_vs_depth", "plot_sgd_grid", "plot_spectra", "plot_spread_vs_depth"]


def _depth_colours(depths) -> dict:
    depths = sorted(int(d) for d in depths)
    return dict(zip(depths, sns.color_palette("viridis", len(depths)), strict=True))


def _depth_axis(ax, depths) -> None:
    ax.set_xscale("log")
    ax.set_xticks(depths, [str(int(d)) for d in depths])
    ax.xaxis.set_minor_locator(plt.NullLocator())
    ax.set_xlabel("depth L (weight layers)")


def _fit_line(ax, x, y, colour, label: str) -> float:
    """Least-squares line of log y on log x, drawn over x; returns its slope (NaN, and no line, if it has none)."""
    slope = loglog_slope(x, y)
    if np.isfinite(slope):
        intercept = np.mean(np.log(y)) - slope * np.mean(np.log(x))
        grid = np.geomspace(min(x), max(x), 50)
        ax.plot(grid, np.exp(intercept) * grid**slope, "-", color=colour, lw=1, alpha=0.7,
                label=f"{label}: fitted slope {slope:.2f}")
    return slope


def _condition_title(rows: pd.DataFrame, label: str) -> str:
    first = rows.iloc[0]
    return f"{label}: {first['activation']}, σ_b² = {first['sigma_b2']:g}" if "sigma_b2" in rows else label


def _draw_concentration(spectra: pd.DataFrame, ax, title: str) -> None:
    colours = _depth_colours(spectra["depth"].unique())
    for depth, colour in colours.items():
        rows = spectra[spectra["depth"] == depth]
        relative = rows["value"] / rows.groupby("replicate")["value"].transform("max")
        above = float(np.mean(relative >= 0.5))
        ax.hist(relative, bins=np.linspace(0, 1, 41), density=True, histtype="step", color=colour, lw=1.4,
                label=f"L = {depth}: {above:.0%} ≥ ½")
    ax.axvline(0.5, color="grey", ls=":", lw=1)
    ax.set_yscale("log")
    ax.set_xlim(0, 1.02)
    ax.set_xlabel("λ / λ_max (per replicate)")
    ax.set_ylabel("density")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=6.5, frameon=False, loc="upper center")


def plot_spectra(spectra: pd.DataFrame):
    """Density of lambda / lambda_max (each replicate's own maximum) per depth, pooled over replicates: one column
    per condition (the linear sanity case left out: every eigenvalue at its maximum), one row per initialization;
    the dotted line at 1/2, the legend gives the fraction of eigenvalues above it (the concentration claim)."""
    spectra = _with_defaults(spectra)
    spectra = spectra[spectra["activation"] != "linear"]
    conditions = list(dict.fromkeys(spectra["condition"]))
    initializations = list(dict.fromkeys(spectra["initialization"]))
    figure, axes = plt.subplots(len(initializations), len(conditions),
                                figsize=(3.6 * len(conditions) + 0.6, 3.2 * len(initializations)), squeeze=False)
    for column, condition in enumerate(conditions):
        for row, initialization in enumerate(initializations):
            rows = spectra[(spectra["condition"] == condition) & (spectra["initialization"] == initialization)]
            _draw_concentration(rows, axes[row, column], f"{_condition_title(rows, condition)}\n{initialization}")
    figure.suptitle(f"Conditional FIM: concentration near the maximum, M = {int(spectra['width'].iloc[0])}, "
                    f"{spectra['replicate'].nunique()} replicates (our setting)", fontsize=11)
    figure.tight_layout()
    return figure


INIT_COLOURS = {"orthogonal": "#d62728", "gaussian": "#7f7f7f"}
TEACHER_STYLE = {"near": ("s", "#1f77b4"), "far": ("D", "#ff7f0e")}


CONDITION_COLOURS = ["#d62728", "#2ca02c", "#9467bd", "#8c564b"]


def _draw_maximum(ax, summary: pd.DataFrame, title: str) -> None:
    for initialization, rows in summary.groupby("initialization", sort=False):
        colour = INIT_COLOURS.get(initialization, "k")
        depths = rows["depth"].to_numpy()
        ax.errorbar(depths, rows["lambda_max"],
                    yerr=[rows["lambda_max"] - rows["lambda_max_low"], rows["lambda_max_high"] - rows["lambda_max"]],
                    fmt="o", color=colour, ms=4, capsize=2, label=f"λ_max, {initialization}", zorder=3)
        _fit_line(ax, depths, rows["lambda_max"].to_numpy(), colour, initialization)
    main = summary[summary["initialization"] == summary["initialization"].iloc[0]].sort_values("depth")
    depths = main["depth"].to_numpy()
    first = main.iloc[0]
    ax.plot(depths, first["lambda_max"] * depths / first["depth"], ":", color="k", lw=1.2,
            label="∝ L through the first depth")
    if main["mean_theory"].notna().all():
        ax.plot(depths, main["mean_theory"], "--", color="grey", lw=1, label="mean eigenvalue, mean field (∝ L)")
    _depth_axis(ax, depths)
    ax.set_yscale("log")
    ax.set_ylabel("largest eigenvalue λ_max")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=6.5, frameon=False)


def plot_fim_max_vs_depth(summary: pd.DataFrame, edge: pd.DataFrame):
    """One panel per condition (the linear sanity case left out): lambda_max against L per initialization (log-log;
    bars span the replicates), its fitted slope, a ∝ L line through the first orthogonal point and the mean-field
    mean eigenvalue L (q M + 1). Last panel: the stability edge eta* against L per (condition, teacher) (bars up to
    the first unstable grid rate, where the true edge lies between), with 2 / lambda_max of the orthogonal network
    (dashed, the linearised edge) and ∝ 1/L through each near teacher's first depth (dotted)."""
    summary = _with_defaults(summary)
    edge = edge.assign(**{k: v for k, v in {"teacher": "far", "condition": "main"}.items() if k not in edge})
    summary = summary[summary["condition"].isin(
        [c for c in dict.fromkeys(summary["condition"]) if not _is_linear(summary, c)])]
    conditions = list(dict.fromkeys(summary["condition"]))
    panels = len(conditions) + 1
    columns = min(panels, 2)
    rows_count = int(np.ceil(panels / columns))
    figure, axes = plt.subplots(rows_count, columns, figsize=(5.4 * columns, 4.0 * rows_count), squeeze=False)
    axes = axes.ravel()
    for ax, condition in zip(axes, conditions, strict=False):
        _draw_maximum(ax, summary[summary["condition"] == condition], f"Maximum of the conditional FIM: {condition}")
    right = axes[len(conditions)]
    all_depths = set()
    colours = dict(zip(conditions, CONDITION_COLOURS * 3, strict=False))
    for (condition, teacher), rows in edge.groupby(["condition", "teacher"], sort=False):
        marker = TEACHER_STYLE.get(teacher, ("s", "k"))[0]
        colour = colours.get(condition, "k")
        rows = rows.sort_values("depth")
        edge_depths = rows["depth"].to_numpy()
        all_depths |= set(edge_depths)
        upper = np.where(np.isfinite(rows["first_unstable"]), rows["first_unstable"] - rows["edge"], 0)
        right.errorbar(edge_depths, rows["edge"], yerr=[np.zeros(len(rows)), upper], fmt=marker, color=colour,
                       ms=5, capsize=2, mfc="none" if teacher == "far" else colour,
                       label=f"η*, {condition}, teacher {teacher}", zorder=3)
        finite = rows[np.isfinite(rows["edge"])]
        censored = rows[~np.isfinite(rows["edge"])]
        if len(censored):
            right.plot(censored["depth"], censored["first_unstable"], "v", color=colour, ms=7,
                       label=f"censored: unstable at the grid's smallest η ({condition}, {teacher})")
        if teacher == "near" and len(finite):
            first = finite.iloc[0]
            right.plot(edge_depths, first["edge"] * first["depth"] / edge_depths, ":", color=colour, lw=1.1)
        main = summary[(summary["condition"] == condition) & (summary["initialization"] == "orthogonal")]
        if teacher == (edge[edge["condition"] == condition]["teacher"].iloc[0]) and len(main):
            right.plot(main["depth"], 2 / main["lambda_max"], "--", color=colour, lw=1,
                       label=f"2/λ_max, {condition}")
    right.plot([], [], ":", color="grey", label="∝ 1/L through the near teacher's first depth")
    _depth_axis(right, sorted(all_depths) if all_depths else [1, 2])
    right.set_yscale("log")
    right.set_ylabel("learning rate η")
    right.set_title("Online SGD (batch 1, initial phase): stability edge η*", fontsize=9)
    right.legend(fontsize=6.5, frameon=False)
    for ax in axes[panels:]:
        ax.set_visible(False)
    figure.tight_layout()
    return figure


def _is_linear(table: pd.DataFrame, condition: str) -> bool:
    if "activation" not in table:
        return False
    return bool((table.loc[table["condition"] == condition, "activation"] == "linear").all())


def plot_spread_vs_depth(summary: pd.DataFrame):
    """One panel per condition: the coefficient of variation of the conditional FIM's eigenvalues against L per
    initialization (mean over replicates, bars spanning them) and free probability's prediction
    CV^2 = v (L-1)(2L-1)/(6L) (lines; :func:`dltheory.geometry.isometry.fim_spread_theory`). A CV of 0 (the linear
    orthogonal network) is drawn at the bottom of the axis."""
    summary = _with_defaults(summary)
    conditions = list(dict.fromkeys(summary["condition"]))
    figure, axes = plt.subplots(1, len(conditions), figsize=(3.6 * len(conditions) + 0.4, 3.6), squeeze=False,
                                sharey=True)
    floor = 1e-3
    for ax, condition in zip(axes[0], conditions, strict=True):
        rows_all = summary[summary["condition"] == condition]
        for initialization, rows in rows_all.groupby("initialization", sort=False):
            colour = INIT_COLOURS.get(initialization, "k")
            rows = rows.sort_values("depth")
            depths = rows["depth"].to_numpy()
            cv = np.maximum(rows["cv"].to_numpy(), floor)
            low, high = np.maximum(rows["cv_low"], floor), np.maximum(rows["cv_high"], floor)
            ax.errorbar(depths, cv, yerr=[cv - low, high - cv], fmt="o", color=colour, ms=4, capsize=2,
                        label=f"measured, {initialization}", zorder=3)
            grid = rows[rows["cv_theory"] > 0]
            if len(grid):
                ax.plot(grid["depth"], grid["cv_theory"], "-", color=colour, lw=1, alpha=0.8,
                        label=f"free probability, {initialization}")
        _depth_axis(ax, sorted(rows_all["depth"].unique()))
        ax.set_yscale("log")
        ax.set_ylim(bottom=floor / 1.5)
        zero = rows_all[rows_all["cv"] < floor]
        ax.set_title(f"{condition}" + (" (CV < 1e-3 drawn at 1e-3)" if len(zero) else ""), fontsize=9)
        ax.legend(fontsize=6.5, frameon=False)
    axes[0, 0].set_ylabel("CV of the eigenvalues (sd / mean)")
    figure.suptitle("Spread of the conditional FIM's spectrum against depth (our setting)", fontsize=10)
    figure.tight_layout()
    return figure


def _draw_grid(ax, sgd: pd.DataFrame, title: str):
    last = sgd.groupby(["depth", "learning_rate", "seed"])["step"].transform("max")
    final = sgd[sgd["step"] == last].set_index(["depth", "learning_rate", "seed"])
    initial = sgd[sgd["step"] == 0].set_index(["depth", "learning_rate", "seed"])["loss"]
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.log10(final["loss"] / initial.loc[final.index])
    ratio = ratio.where(~final["diverged"] & np.isfinite(ratio))
    cells = pd.DataFrame({"log_ratio": ratio, "diverged": final["diverged"]}).groupby(["depth", "learning_rate"])
    log_ratio = cells["log_ratio"].mean().unstack("depth")
    diverged = cells["diverged"].mean().unstack("depth")
    depths, rates = list(log_ratio.columns), list(log_ratio.index)
    values = np.ma.masked_invalid(log_ratio.to_numpy())
    limit = max(1.0, float(np.nanmax(np.abs(log_ratio.to_numpy()))) if np.isfinite(log_ratio.to_numpy()).any()
                else 1.0)
    cmap = plt.get_cmap("RdBu_r").with_extremes(bad="#bbbbbb")
    mesh = ax.pcolormesh(np.arange(len(depths) + 1), np.arange(len(rates) + 1), values, cmap=cmap,
                         norm=TwoSlopeNorm(0.0, -limit, limit))
    for i in range(len(rates)):
        for j in range(len(depths)):
            if diverged.iloc[i, j] > 0:
                ax.text(j + 0.5, i + 0.5, "×", ha="center", va="center", fontsize=8,
                        color="black" if diverged.iloc[i, j] == 1 else "#444444")
    edge = stability_edge(sgd).set_index("depth")
    for j, depth in enumerate(depths):
        eta = edge.loc[depth, "edge"]
        row = rates.index(eta) + 1 if np.isfinite(eta) else 0
        ax.plot([j, j + 1], [row, row], "k-", lw=2.2)
    ax.set_xticks(np.arange(len(depths)) + 0.5, [str(int(d)) for d in depths])
    step = max(1, len(rates) // 12)
    ax.set_yticks(np.arange(0, len(rates), step) + 0.5, [f"{r:.3g}" for r in rates[::step]])
    ax.set_xlabel("depth L")
    ax.set_ylabel("learning rate η")
    ax.set_title(title, fontsize=9)
    return mesh


def plot_sgd_grid(sgd: pd.DataFrame, teacher: str | None = None):
    """Final over initial test loss (geometric mean over seeds, log10, blue below 1) over the (depth, learning rate)
    grid of one teacher (default: near if run, the main condition), one panel per condition that ran it; × where
    some seed diverged (its cell grey if every seed did); the black step is the stability edge eta*
    (:func:`dltheory.geometry.isometry.stability_edge`)."""
    sgd = sgd.assign(**{k: v for k, v in {"teacher": "far", "condition": "main"}.items() if k not in sgd})
    if teacher is None:
        teacher = "near" if "near" in set(sgd["teacher"]) else sgd["teacher"].iloc[0]
    sgd = sgd[sgd["teacher"] == teacher]
    conditions = list(dict.fromkeys(sgd["condition"]))
    rates = sgd.groupby("condition")["learning_rate"].nunique().max()
    depths = sgd["depth"].nunique()
    figure, axes = plt.subplots(1, len(conditions), figsize=((1.0 * depths + 3.0) * len(conditions),
                                                             0.22 * rates + 2.2), squeeze=False)
    steps = int(sgd["step"].max())
    for ax, condition in zip(axes[0], conditions, strict=True):
        mesh = _draw_grid(ax, sgd[sgd["condition"] == condition],
                          f"{condition}, teacher {teacher}: {steps} steps\n× diverged; black: stability edge η*")
        colourbar = figure.colorbar(mesh, ax=ax)
        colourbar.set_label("log10(final / initial loss), mean over seeds", fontsize=8)
    figure.suptitle("Online SGD, batch 1: test loss over (η, L)", fontsize=10)
    figure.tight_layout()
    return figure
