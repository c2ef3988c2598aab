"""Figures of the dynamical-isometry family (Hayase & Karakida, AISTATS 2021, arXiv 2006.07814; every setting ours):
the conditional-FIM spectrum per depth, its maximum and the online-SGD stability edge against depth, and the
training loss over the (learning rate, depth) grid.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from dltheory.geometry.isometry import _with_defaults, stability_edge
from dltheory.plotting import (
    DIVERGING_CMAP,
    MAGNITUDE_CMAP,
    REFERENCE,
    THEORY,
    THEORY_SECOND,
    diverging_norm,
    method_colour,
    outside_legend,
    subplots,
    unique_handles,
)
from dltheory.stats import loglog_slope

__all__ = ["plot_fim_max_vs_depth", "plot_sgd_grid", "plot_spectra", "plot_spread_vs_depth"]


def _depth_colours(depths) -> dict:
    depths = sorted(int(d) for d in depths)
    return dict(zip(depths, sns.color_palette(MAGNITUDE_CMAP, len(depths)), strict=True))


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
    shares = []
    for depth, colour in colours.items():
        rows = spectra[spectra["depth"] == depth]
        relative = rows["value"] / rows.groupby("replicate")["value"].transform("max")
        shares.append(f"{float(np.mean(relative >= 0.5)):.0%}")
        ax.hist(relative, bins=np.linspace(0, 1, 41), density=True, histtype="step", color=colour, lw=1.4,
                label=f"L = {depth}")
    ax.axvline(0.5, **REFERENCE)
    ax.set_yscale("log")
    ax.set_xlim(0, 1.02)
    ax.set_xlabel("λ / λ_max (per replicate)")
    ax.set_ylabel("density")
    # The concentration claim's numbers in the title (per L, in the legend's order), the data left uncovered.
    ax.set_title(f"{title}\n≥ ½ λ_max: {' / '.join(shares)}")


def plot_spectra(spectra: pd.DataFrame):
    """Density of lambda / lambda_max (each replicate's own maximum) per depth, pooled over replicates: one column
    per condition (the linear sanity case left out: every eigenvalue at its maximum), one row per initialization;
    the dash-dot line at 1/2; each title gives the fraction of eigenvalues above it per depth (the concentration
    claim), one legend of the depths below the panels."""
    spectra = _with_defaults(spectra)
    spectra = spectra[spectra["activation"] != "linear"]
    conditions = list(dict.fromkeys(spectra["condition"]))
    initializations = list(dict.fromkeys(spectra["initialization"]))
    figure, axes = subplots(len(initializations), len(conditions), width="wide" if len(conditions) > 2 else "full",
                            height=2.9 * len(initializations) + 0.5, squeeze=False)
    for column, condition in enumerate(conditions):
        for row, initialization in enumerate(initializations):
            rows = spectra[(spectra["condition"] == condition) & (spectra["initialization"] == initialization)]
            _draw_concentration(rows, axes[row, column], f"{_condition_title(rows, condition)}\n{initialization}")
    figure.suptitle(f"Conditional FIM: concentration near the maximum, M = {int(spectra['width'].iloc[0])}, "
                    f"{spectra['replicate'].nunique()} replicates (our setting); titles: the share of eigenvalues "
                    "≥ ½ λ_max per depth L")
    outside_legend(figure, ncol=len(_depth_colours(spectra["depth"].unique())) + 1)
    return figure


INIT_COLOURS = {name: method_colour(name) for name in ("orthogonal", "gaussian")}
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
    ax.plot(depths, first["lambda_max"] * depths / first["depth"], **THEORY_SECOND,
            label="∝ L through the first depth")
    if main["mean_theory"].notna().all():
        ax.plot(depths, main["mean_theory"], **THEORY, label="mean eigenvalue, mean field (∝ L)")
    _depth_axis(ax, depths)
    ax.set_yscale("log")
    ax.set_ylabel("largest eigenvalue λ_max")
    ax.set_title(title)


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
    figure, axes = subplots(rows_count, columns, width="full", height=3.0 * rows_count + 0.8, squeeze=False)
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
            right.plot(edge_depths, first["edge"] * first["depth"] / edge_depths,
                       **{**THEORY_SECOND, "color": colour})
        main = summary[(summary["condition"] == condition) & (summary["initialization"] == "orthogonal")]
        if teacher == (edge[edge["condition"] == condition]["teacher"].iloc[0]) and len(main):
            right.plot(main["depth"], 2 / main["lambda_max"], **{**THEORY, "color": colour},
                       label=f"2/λ_max, {condition} (edge panel)")
    right.plot([], [], **THEORY_SECOND, label="∝ 1/L through the near teacher's first depth (edge panel)")
    _depth_axis(right, sorted(all_depths) if all_depths else [1, 2])
    right.set_yscale("log")
    right.set_ylabel("learning rate η")
    right.set_title("Online SGD (batch 1, initial phase):\nstability edge η*")
    for ax in axes[panels:]:
        ax.set_visible(False)
    # Each panel's fitted slopes stay in its corner (below the rising lines); what is common goes below the axes.
    for ax in axes[:len(conditions)]:
        fitted = {label: h for label, h in unique_handles([ax]).items() if "fitted slope" in label}
        ax.legend(fitted.values(), fitted.keys(), loc="lower right", frameon=False, fontsize=6.5)
    shared = {label: h for label, h in unique_handles(axes[:panels]).items() if "fitted slope" not in label}
    outside_legend(figure, list(shared.values()), list(shared), ncol=2)
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
    figure, axes = subplots(1, len(conditions), width="wide" if len(conditions) > 2 else "full", height=3.3,
                            squeeze=False, sharey=True)
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
                ax.plot(grid["depth"], grid["cv_theory"], **{**THEORY, "color": colour},
                        label=f"free probability, {initialization}")
        _depth_axis(ax, sorted(rows_all["depth"].unique()))
        ax.set_yscale("log")
        ax.set_ylim(bottom=floor / 1.5)
        zero = rows_all[rows_all["cv"] < floor]
        ax.set_title(f"{condition}" + (" (CV < 1e-3 drawn at 1e-3)" if len(zero) else ""))
    axes[0, 0].set_ylabel("CV of the eigenvalues (sd / mean)")
    outside_legend(figure, ncol=4)
    figure.suptitle("Spread of the conditional FIM's spectrum against depth (our setting)")
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
    cmap = plt.get_cmap(DIVERGING_CMAP).with_extremes(bad="#bbbbbb")
    mesh = ax.pcolormesh(np.arange(len(depths) + 1), np.arange(len(rates) + 1), values, cmap=cmap,
                         norm=diverging_norm(limit=limit))
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
    ax.set_title(title)
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
    figure, axes = subplots(1, len(conditions), width="wide" if len(conditions) > 2 else "full",
                            height=min(0.2 * rates + 2.0, 8.0), squeeze=False)
    steps = int(sgd["step"].max())
    for ax, condition in zip(axes[0], conditions, strict=True):
        mesh = _draw_grid(ax, sgd[sgd["condition"] == condition],
                          f"{condition}, teacher {teacher}: {steps} steps\n× diverged; black: stability edge η*")
        colourbar = figure.colorbar(mesh, ax=ax)
        colourbar.set_label("log10(final / initial loss), mean over seeds\nred: rose; blue: fell")
    figure.suptitle("Online SGD, batch 1: test loss over (η, L)")
    return figure
