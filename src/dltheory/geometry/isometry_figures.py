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
from matplotlib.ticker import FormatStrFormatter, LogLocator, NullFormatter

from dltheory.geometry.isometry import stability_edge
from dltheory.stats import loglog_slope

__all__ = ["plot_fim_max_vs_depth", "plot_sgd_grid", "plot_spectra"]


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


def _draw_spectra(spectra: pd.DataFrame, left, right, label: str) -> None:
    colours = _depth_colours(spectra["depth"].unique())
    positive = spectra[spectra["value"] > 0]
    edges = np.geomspace(positive["value"].min() / 1.2, positive["value"].max() * 1.2, 120)
    for depth, colour in colours.items():
        rows = spectra[spectra["depth"] == depth]
        values = rows["value"].to_numpy()
        left.hist(values[values > 0], bins=edges, density=True, histtype="step", color=colour, lw=1.4,
                  label=f"L = {depth}")
        left.axvline(depth * rows["input_norm2"].mean(), color=colour, ls="--", lw=0.8)
        relative = rows["value"] / rows.groupby("replicate")["value"].transform("max")
        above = float(np.mean(relative >= 0.5))
        right.hist(relative, bins=np.linspace(0, 1, 51), density=True, histtype="step", color=colour, lw=1.4,
                   label=f"L = {depth}: {above:.0%} ≥ ½")
    left.set_xscale("log")
    left.xaxis.set_major_locator(LogLocator(base=4))
    left.xaxis.set_major_formatter(FormatStrFormatter("%.3g"))
    left.xaxis.set_minor_formatter(NullFormatter())
    left.set_yscale("log")
    left.set_xlabel("eigenvalue λ of the conditional FIM")
    left.set_ylabel("density")
    left.set_title(f"{label}: spectrum per depth (dashed: L|x|²)", fontsize=10)
    left.legend(fontsize=7.5, frameon=False)
    right.axvline(0.5, color="grey", ls=":", lw=1)
    right.set_yscale("log")
    right.set_xlim(0, 1.02)
    right.set_xlabel("λ / λ_max (per replicate)")
    right.set_ylabel("density")
    right.set_title(f"{label}: concentration near the maximum", fontsize=10)
    right.legend(fontsize=7.5, frameon=False, loc="upper right")


def plot_spectra(spectra: pd.DataFrame):
    """Conditional-FIM eigenvalues per depth, pooled over replicates, one row per initialization. Left: density of
    lambda on a log axis, the dashed line at L |x|^2 (every eigenvalue of the linear orthogonal network). Right:
    density of lambda / lambda_max (each replicate's own maximum), the dotted line at 1/2; the legend gives the
    fraction of eigenvalues above it."""
    if "initialization" not in spectra:
        spectra = spectra.assign(initialization="orthogonal")
    initializations = list(dict.fromkeys(spectra["initialization"]))
    figure, axes = plt.subplots(len(initializations), 2, figsize=(10.5, 3.8 * len(initializations)), squeeze=False)
    for (left, right), initialization in zip(axes, initializations, strict=True):
        _draw_spectra(spectra[spectra["initialization"] == initialization], left, right, initialization)
    activation = ", ".join(sorted(spectra["activation"].unique()))
    figure.suptitle(f"Conditional FIM spectrum, {activation}, M = {int(spectra['width'].iloc[0])}, "
                    f"{spectra['replicate'].nunique()} replicates (our setting)", fontsize=11)
    figure.tight_layout()
    return figure


INIT_COLOURS = {"orthogonal": "#d62728", "gaussian": "#7f7f7f"}
TEACHER_STYLE = {"near": ("s", "#1f77b4"), "far": ("D", "#ff7f0e")}


def plot_fim_max_vs_depth(summary: pd.DataFrame, edge: pd.DataFrame):
    """Left: lambda_max against L per initialization (log-log; bars span the replicates), its fitted slope and the
    linear network's L |x|^2 (∝ L). Right: the stability edge eta* against L per teacher (bars up to the first
    unstable grid rate, where the true edge lies between), its fitted slope, a ∝ 1/L line through the near
    teacher's first depth and 2 / lambda_max of the orthogonal network (the linearised edge)."""
    if "initialization" not in summary:
        summary = summary.assign(initialization="orthogonal")
    if "teacher" not in edge:
        edge = edge.assign(teacher="far")
    figure, (left, right) = plt.subplots(1, 2, figsize=(10.5, 4.0))
    for initialization, rows in summary.groupby("initialization", sort=False):
        colour = INIT_COLOURS.get(initialization, "k")
        depths = rows["depth"].to_numpy()
        left.errorbar(depths, rows["lambda_max"],
                      yerr=[rows["lambda_max"] - rows["lambda_max_low"], rows["lambda_max_high"] - rows["lambda_max"]],
                      fmt="o", color=colour, ms=5, capsize=2, label=f"λ_max, {initialization}", zorder=3)
        _fit_line(left, depths, rows["lambda_max"].to_numpy(), colour, initialization)
    main = summary[summary["initialization"] == summary["initialization"].iloc[0]]
    if "orthogonal" in set(summary["initialization"]):
        main = summary[summary["initialization"] == "orthogonal"]
    depths = main["depth"].to_numpy()
    left.plot(depths, main["linear_value"], "k--", lw=1, label="L|x|² (linear network, ∝ L)")
    _depth_axis(left, depths)
    left.set_yscale("log")
    left.set_ylabel("largest eigenvalue λ_max")
    left.set_title("Maximum of the conditional FIM", fontsize=10)
    left.legend(fontsize=7, frameon=False)

    all_depths = set(depths)
    for teacher, rows in edge.groupby("teacher", sort=False):
        marker, colour = TEACHER_STYLE.get(teacher, ("s", "k"))
        rows = rows.sort_values("depth")
        edge_depths = rows["depth"].to_numpy()
        all_depths |= set(edge_depths)
        upper = np.where(np.isfinite(rows["first_unstable"]), rows["first_unstable"] - rows["edge"], 0)
        right.errorbar(edge_depths, rows["edge"], yerr=[np.zeros(len(rows)), upper], fmt=marker, color=colour, ms=5,
                       capsize=2, label=f"η*, teacher {teacher}", zorder=3)
        finite = rows[np.isfinite(rows["edge"])]
        _fit_line(right, finite["depth"].to_numpy(), finite["edge"].to_numpy(), colour, f"η* {teacher}")
        if teacher == "near" and len(finite):
            first = finite.iloc[0]
            right.plot(edge_depths, first["edge"] * first["depth"] / edge_depths, ":", color="grey", lw=1.2,
                       label="∝ 1/L through the first depth")
    right.plot(depths, 2 / main["lambda_max"], "--", color="#d62728", lw=1, label="2/λ_max (linearised edge)")
    _depth_axis(right, sorted(all_depths))
    right.set_yscale("log")
    right.set_ylabel("learning rate η")
    right.set_title("Online SGD (batch 1, initial phase): stability edge", fontsize=10)
    right.legend(fontsize=7, frameon=False)
    figure.tight_layout()
    return figure


def plot_sgd_grid(sgd: pd.DataFrame, teacher: str | None = None):
    """Final over initial test loss (geometric mean over seeds, log10, blue below 1) over the (depth, learning rate)
    grid of one teacher (default: near if run, the main condition); × where some seed diverged (its cell grey if
    every seed did); the black step is the stability edge eta*
    (:func:`dltheory.geometry.isometry.stability_edge`)."""
    if "teacher" not in sgd:
        sgd = sgd.assign(teacher="far")
    if teacher is None:
        teacher = "near" if "near" in set(sgd["teacher"]) else sgd["teacher"].iloc[0]
    sgd = sgd[sgd["teacher"] == teacher]
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
    figure, ax = plt.subplots(figsize=(1.0 * len(depths) + 3.2, 0.22 * len(rates) + 2.0))
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
    colourbar = figure.colorbar(mesh, ax=ax)
    colourbar.set_label("log10(final / initial loss), mean over seeds")
    steps = int(sgd["step"].max())
    ax.set_title(f"Online SGD, batch 1, {steps} steps, teacher {teacher}: loss over (η, L)\n× diverged; black: "
                 "stability edge η*",
                 fontsize=10)
    figure.tight_layout()
    return figure
