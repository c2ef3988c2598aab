"""The (alpha, beta) phase diagram of Imaizumi & Fukumizu, JMLR 23(111) 2022 ("J"): theory and measurement.

Theory (J Sec. 1 pp. 3-4, Fig. 2, Fig. 5, Cor 20): DNNs beat every linear estimator in rate iff
beta > alpha D / (2(alpha + D - 1)). Measurement: one target per (alpha, beta) cell at D = 2, and the bootstrap
interval of slope(dnn) - slope(best linear estimator) in each cell. Every region drawn here is computed from
the predicates of :mod:`dltheory.nonsmooth.theory`, never from re-typed formulas.
"""

import matplotlib.patheffects as path_effects
import numpy as np
import pandas as pd
from matplotlib import pyplot as plt
from matplotlib.colors import TwoSlopeNorm
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle

from dltheory.claims import Claim
from dltheory.nonsmooth.analysis import error_matrices
from dltheory.nonsmooth.estimators import LINEAR_ESTIMATORS
from dltheory.nonsmooth.figures import METHOD_LABEL
from dltheory.nonsmooth.theory import (
    corollary20_condition,
    curvelet_suboptimal,
    dnn_beats_linear,
    dnn_region_boundary,
    wavelet_suboptimal,
)
from dltheory.seeds import rng_for
from dltheory.stats import bootstrap_slope_difference, replicate_slopes

SOURCE_REGION = "Imaizumi & Fukumizu, JMLR 23(111) 2022, Sec. 1 pp. 3-4 and Fig. 2"

# (alpha, beta) read off the red curve of the printed JMLR Fig. 2 (J p. 3), measured on the rendered PDF
# (shared/papers/nonsmooth.md, Sec. 3). They fit beta = alpha D / (2(alpha + D - 1)) with D = 10 within 0.01,
# although the caption says D = 5.
JMLR_FIG2_DIGITIZED = ((2.36, 1.04), (2.86, 1.21), (3.37, 1.37), (3.88, 1.51), (4.40, 1.65), (4.91, 1.77))

DNN_COLOUR, SAME_COLOUR, SUBOPTIMAL_COLOUR = "#d62728", "0.85", "#1f77b4"
BOUNDARY_LABEL = "exact boundary $\\beta=\\alpha D/(2(\\alpha+D-1))$ (J Fig. 2)"


# --- A. Theory figure --------------------------------------------------------------------------------------


def _condition_edge(condition, alphas: np.ndarray, dim: int, beta_max: float, steps: int = 60) -> np.ndarray:
    """Per alpha, the smallest beta in (0, beta_max] where ``condition(alpha, beta, dim)`` holds (by bisection;
    the condition must be monotone in beta). NaN where it does not hold even at beta_max."""
    holds = np.vectorize(condition)
    low, high = np.zeros_like(alphas), np.full_like(alphas, beta_max)
    for _ in range(steps):
        middle = (low + high) / 2
        inside = holds(alphas, middle, dim)
        low, high = np.where(inside, low, middle), np.where(inside, middle, high)
    return np.where(holds(alphas, beta_max, dim), high, np.nan)


def _shade_predicate(axis, predicate, dim: int, xlim, ylim, label: str, resolution: int = 801) -> None:
    """Shade where ``predicate(alpha, beta, dim)`` holds, evaluated on a grid, with a dashed edge (J Fig. 5)."""
    alphas, betas = np.meshgrid(np.linspace(*xlim, resolution), np.linspace(*ylim, resolution))
    mask = np.vectorize(predicate)(alphas, betas, dim).astype(float)
    axis.contourf(alphas, betas, mask, levels=[0.5, 1.5], colors=[SUBOPTIMAL_COLOUR], alpha=0.3)
    if 0 < mask.mean() < 1:
        axis.contour(alphas, betas, mask, levels=[0.5], colors=[SUBOPTIMAL_COLOUR], linestyles="--", linewidths=1.8)
    axis.add_patch(Rectangle((0, 0), 0, 0, facecolor=SUBOPTIMAL_COLOUR, alpha=0.3, edgecolor=SUBOPTIMAL_COLOUR,
                             linestyle="--", label=label))  # legend proxy: contour sets carry no label


def _plot_dnn_panel(axis, dim: int, alpha_range, beta_range, low_beta: float) -> None:
    alphas = np.linspace(*alpha_range, 400)
    # If even the window's lowest beta is DNN-better for every alpha, lower the window so the boundary shows.
    extended = bool(np.all(np.vectorize(dnn_beats_linear)(alphas, beta_range[0], dim)))
    ylim = (low_beta, beta_range[1]) if extended else beta_range
    boundary = dnn_region_boundary(alphas, dim)
    shown = np.clip(boundary, *ylim)
    axis.fill_between(alphas, shown, ylim[1], color=DNN_COLOUR, alpha=0.25, lw=0,
                      label="DNN better than every linear estimator")
    axis.fill_between(alphas, ylim[0], shown, color=SAME_COLOUR, alpha=0.6, lw=0, label="same rate")
    axis.plot(alphas, boundary, color=DNN_COLOUR, lw=2, label=BOUNDARY_LABEL)
    axis.plot(alphas, _condition_edge(corollary20_condition, alphas, dim, 10 * ylim[1]), "k--", lw=1.5,
              label="Cor 20 (sufficient, as printed): $\\alpha<2\\beta(D-1)/D$")
    title = f"D = {dim}: J Fig. 2 region and Cor 20"
    if dim == 5:
        title += "\n(the D of J Fig. 2's caption)"
    if dim == 10:
        axis.plot(*zip(*JMLR_FIG2_DIGITIZED, strict=True), "o", color="k", mfc="white", ms=6, zorder=5,
                  label="JMLR Fig. 2 curve (digitized; caption says D=5, curve matches D=10)")
        title += "\n(matches J Fig. 2's printed curve)"
    if extended:
        title += f"\nwhole window $\\beta\\geq${beta_range[0]:g} is DNN-better; $\\beta$ axis from {low_beta:g}"
    axis.set(xlim=alpha_range, ylim=ylim, title=title)


def plot_theory_region(dims=(2, 5, 10), alpha_range=(1.0, 5.5), beta_range=(1.0, 4.0), low_beta_for_d2=0.2,
                       wavelet_dim: int = 5):
    """J Fig. 2 and Fig. 5 redrawn from the theory functions, one panel per D, plus wavelets and curvelets.

    DNN panels: shaded where beta > alpha D/(2(alpha+D-1)) (exact, J pp. 3-4) and Cor 20's stricter sufficient
    line (dashed); the D = 10 panel carries the points digitized from the printed Fig. 2. Wavelet panel: J Prop 18
    (beta > D/2, alpha > D-1) for ``wavelet_dim`` (default 5: at D = 2 the region fills the window, at D = 10 it
    lies above it). Curvelet panel: J Prop 19, D = 2 (beta, alpha > 1/2), axes extended down to show the edges.
    """
    panels = len(dims) + 2
    columns = 3
    rows = -(-(panels + 1) // columns)  # one spare slot holds the legend
    figure, axes = plt.subplots(rows, columns, figsize=(5.0 * columns, 4.6 * rows), squeeze=False)
    axes = axes.ravel()
    for axis, dim in zip(axes, dims, strict=False):
        _plot_dnn_panel(axis, dim, alpha_range, beta_range, low_beta_for_d2)

    wavelets = axes[len(dims)]
    _shade_predicate(wavelets, wavelet_suboptimal, wavelet_dim, alpha_range, beta_range,
                     "wavelets / curvelets sub-optimal vs DNN (J Prop 18, 19)")
    wavelets.set(xlim=alpha_range, ylim=beta_range,
                 title=(f"Wavelets, D = {wavelet_dim} (J Prop 18, Fig. 5):\n"
                        f"sub-optimal if $\\beta>D/2$, $\\alpha>D-1$ (uniform $P_X$)"))
    wavelets.text(0.03, 0.97, "D = 2: all of $\\alpha,\\beta>1$\nD = 10: $\\beta>5$, above the window",
                  transform=wavelets.transAxes, va="top", fontsize=9)

    curvelets = axes[len(dims) + 1]
    low = (low_beta_for_d2, low_beta_for_d2)
    curvelet_window = (min(low[0], alpha_range[0]), alpha_range[1]), (min(low[1], beta_range[0]), beta_range[1])
    _shade_predicate(curvelets, curvelet_suboptimal, 2, *curvelet_window,
                     "wavelets / curvelets sub-optimal vs DNN (J Prop 18, 19)")
    curvelets.set(xlim=curvelet_window[0], ylim=curvelet_window[1],
                  title=("Curvelets, D = 2 (J Prop 19, Fig. 5): sub-optimal\n"
                         "if $\\beta,\\alpha>1/2$ (Prop 19 assumes $\\alpha,\\beta\\geq2$); axes from "
                         f"{low_beta_for_d2:g}"))

    for axis in axes[:panels]:
        axis.set(xlabel="$\\alpha$: smoothness of the singular hypersurfaces",
                 ylabel="$\\beta$: smoothness inside the pieces")
        axis.title.set_fontsize(9.5)
    handles = {}
    for axis in axes[:panels]:
        for handle, label in zip(*axis.get_legend_handles_labels(), strict=True):
            handles.setdefault(label, handle)
    for axis in axes[panels:]:
        axis.axis("off")
    axes[panels].legend(handles.values(), handles.keys(), loc="center", fontsize=9, frameon=False)
    figure.suptitle("Where DNNs beat linear estimators in rate: Imaizumi & Fukumizu, JMLR 2022, "
                    "Fig. 2, Fig. 5, Cor 20")
    figure.tight_layout()
    return figure


# --- B. Empirical map --------------------------------------------------------------------------------------


def _cell_record(table: pd.DataFrame, target: str, seed: int, resamples: int, confidence: float) -> dict:
    info = table[table.target == target].iloc[0]
    dim, alpha, beta = int(info.dim), float(info.alpha), float(info.beta)
    record = {
        "target": target, "dim": dim, "alpha": alpha, "beta": beta, "linear_method": None,
        "dnn_slope": np.nan, "linear_slope": np.nan, "difference": np.nan, "low": np.nan, "high": np.nan,
        "dnn_wins": False, "inside_theory": bool(dnn_beats_linear(alpha, beta, dim)), "agrees": False,
        "complete": False,
    }
    errors_of = error_matrices(table, target)
    linear = [m for m in LINEAR_ESTIMATORS if m in errors_of]
    if "dnn" not in errors_of or not linear:
        return record
    dnn_errors, sizes = errors_of["dnn"]
    for method in ["dnn", *linear]:
        errors, method_sizes = errors_of[method]
        # A diverged DNN (NaN), a missing run or a misaligned grid: no slope is comparable, so no verdict.
        if errors.shape != dnn_errors.shape or not np.array_equal(method_sizes, sizes):
            return record
        if not np.all(np.isfinite(errors)) or np.any(errors <= 0):
            return record
    linear_slopes = {m: replicate_slopes(errors_of[m][0], sizes) for m in linear}
    best = min(linear_slopes, key=linear_slopes.get)  # steepest: the comparison most favourable to linear
    rng = rng_for(seed, "region", target, "bootstrap")
    interval = bootstrap_slope_difference(dnn_errors, errors_of[best][0], sizes, resamples, confidence, rng)
    wins = bool(interval["high"] < 0)
    record.update(linear_method=best, dnn_slope=replicate_slopes(dnn_errors, sizes),
                  linear_slope=linear_slopes[best], **interval, dnn_wins=wins,
                  agrees=wins == record["inside_theory"], complete=True)
    return record


def region_cells(table: pd.DataFrame, seed: int, resamples: int, confidence: float) -> pd.DataFrame:
    """One row per target ((alpha, beta) cell): the DNN's slope against the steepest linear estimator's.

    ``difference`` = slope(dnn) - slope(best linear), with its percentile bootstrap interval [low, high] over
    replicates; ``dnn_wins`` when high < 0; ``inside_theory`` from J's exact condition (J pp. 3-4);
    ``agrees`` when the two match. A cell with any non-finite error (e.g. a diverged DNN) has ``complete``
    False, NaN slopes and interval, and neither wins nor agrees.
    """
    records = [_cell_record(table, target, seed, resamples, confidence) for target in table.target.unique()]
    return pd.DataFrame(records).sort_values(["alpha", "beta"], ignore_index=True)


def agreement_fraction(cells: pd.DataFrame) -> float:
    """Fraction of complete cells where the measured verdict matches the theory region (NaN if none)."""
    complete = cells[cells.complete]
    return float(complete.agrees.mean()) if len(complete) else float("nan")


def _cell_name(cell) -> str:
    verdict = "win" if cell.dnn_wins else "no-win"
    side = "inside" if cell.inside_theory else "outside"
    return f"({cell.alpha:g}, {cell.beta:g}): {verdict} vs {side}"


def region_claims(cells: pd.DataFrame, target_fraction: float) -> list[Claim]:
    """Claims of the phase diagram: DNN wins happen inside the theory region, and the map agrees with it."""
    winners = cells[cells.complete & cells.dnn_wins]
    inside = int(winners.inside_theory.sum())
    outside = winners[~winners.inside_theory]
    fraction = agreement_fraction(cells)
    complete = cells[cells.complete]
    disagreeing = complete[~complete.agrees]
    incomplete = len(cells) - len(complete)
    return [
        Claim(
            id="region.dnn_wins_inside_theory",
            source=SOURCE_REGION,
            statement=("DNNs are faster than every linear estimator only where beta > alpha D/(2(alpha+D-1)): "
                       "cells where the interval excludes 0 in the DNN's favour lie inside that region."),
            measured=f"{inside}/{len(winners)}",
            expected="every DNN-winning cell inside the region (and at least one such cell)",
            tolerance=None,
            holds=bool(len(winners) > 0 and inside == len(winners)),
            ours=True,
            detail=("winning cells outside: " + "; ".join(map(_cell_name, outside.itertuples()))
                    if len(outside) else ("no cell where the DNN wins: nothing to check" if len(winners) == 0
                                          else "all winning cells inside")),
        ),
        Claim(
            id="region.agreement_with_theory",
            source=SOURCE_REGION + "; Cor 20",
            statement=("The measured (alpha, beta) map of 'DNN significantly faster than the best linear "
                       "estimator' matches the theory region."),
            measured=round(fraction, 4) if np.isfinite(fraction) else "no complete cell",
            expected=f"fraction of complete cells that agree >= {target_fraction:g}",
            tolerance=None,
            holds=bool(np.isfinite(fraction) and fraction >= target_fraction),
            ours=True,
            detail=("disagreeing (alpha, beta): " + ("; ".join(map(_cell_name, disagreeing.itertuples())) or "none")
                    + f"; {incomplete} incomplete cell(s) left out"),
        ),
    ]


def _cell_edges(values: np.ndarray, limits) -> np.ndarray:
    """Edges of cells centred on sorted ``values``: midpoints between neighbours, half a gap beyond the ends."""
    if len(values) == 1:
        return np.array([min(limits[0], values[0] - 0.5), max(limits[1], values[0] + 0.5)])
    middle = (values[1:] + values[:-1]) / 2
    return np.concatenate([[2 * values[0] - middle[0]], middle, [2 * values[-1] - middle[-1]]])


def plot_region_map(cells: pd.DataFrame, alpha_range=(1, 4), beta_range=(0.25, 2)):
    """Heat map of slope(dnn) - slope(best linear) over the (alpha, beta) cells, with J's boundary on top.

    Blue (< 0) means the DNN's error falls faster. Stars mark cells whose bootstrap interval excludes 0 in the
    DNN's favour; thick black outlines mark cells that disagree with the theory region; grey hatching marks
    incomplete cells (a diverged DNN).
    """
    dims = cells.dim.unique()
    if len(dims) != 1:
        raise ValueError(f"one map per D; cells have D in {sorted(dims)}")
    dim = int(dims[0])
    alphas, betas = np.sort(cells.alpha.unique()), np.sort(cells.beta.unique())
    alpha_edges, beta_edges = _cell_edges(alphas, alpha_range), _cell_edges(betas, beta_range)
    grid = cells.pivot(index="beta", columns="alpha", values="difference").reindex(index=betas, columns=alphas)
    limit = np.nanmax(np.abs(cells[["difference", "low", "high"]].to_numpy()), initial=0.0) or 1.0
    norm = TwoSlopeNorm(vcenter=0.0, vmin=-limit, vmax=limit)

    figure, axis = plt.subplots(figsize=(1.5 * len(alphas) + 3.2, 1.0 * len(betas) + 2.6))
    mesh = axis.pcolormesh(alpha_edges, beta_edges, np.ma.masked_invalid(grid.to_numpy()), cmap="RdBu_r",
                           norm=norm, edgecolors="white", linewidth=0.5)
    figure.colorbar(mesh, ax=axis, label="slope(DNN) $-$ slope(best linear estimator)\n< 0: DNN error falls faster")
    for cell in cells.itertuples():
        i, j = np.searchsorted(alphas, cell.alpha), np.searchsorted(betas, cell.beta)
        x0, x1, y0, y1 = alpha_edges[i], alpha_edges[i + 1], beta_edges[j], beta_edges[j + 1]
        centre = ((x0 + x1) / 2, (y0 + y1) / 2)
        if not cell.complete:
            axis.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, facecolor="0.85", hatch="xx", edgecolor="0.6"))
            axis.text(*centre, "incomplete\n(non-finite error)", ha="center", va="center", fontsize=7)
            continue
        dark = abs(norm(cell.difference) - 0.5) > 0.3
        label = (f"{cell.difference:+.2f}\n[{cell.low:+.2f}, {cell.high:+.2f}]\n"
                 f"vs {METHOD_LABEL.get(cell.linear_method, cell.linear_method)}")
        # The label sits on a patch of its cell's own colour, so the boundary line passes behind it.
        axis.text(*centre, label, ha="center", va="center", fontsize=7, color="white" if dark else "black", zorder=6,
                  bbox={"boxstyle": "round,pad=0.2", "facecolor": mesh.cmap(norm(cell.difference)), "lw": 0})
        if cell.dnn_wins:
            axis.plot(x1 - 0.1 * (x1 - x0), y1 - 0.12 * (y1 - y0), "*", color="gold", mec="black", ms=11)
        if not cell.agrees:
            axis.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, edgecolor="black", lw=2.5, zorder=4))

    xlim = (min(alpha_range[0], alpha_edges[0]), max(alpha_range[1], alpha_edges[-1]))
    ylim = (min(beta_range[0], beta_edges[0]), max(beta_range[1], beta_edges[-1]))
    continuous = np.linspace(*xlim, 400)
    axis.plot(continuous, dnn_region_boundary(continuous, dim), color="black", lw=2.2, zorder=5,
              path_effects=[path_effects.withStroke(linewidth=4.5, foreground="white")],
              label=f"theory boundary $\\beta=\\alpha D/(2(\\alpha+D-1))$, D={dim} (J Fig. 2): DNN better above")
    fraction = agreement_fraction(cells)
    complete = int(cells.complete.sum())
    axis.set(xlim=xlim, ylim=ylim, xlabel="$\\alpha$: smoothness of the singular boundary",
             ylabel="$\\beta$: smoothness inside the pieces")
    axis.set_title(f"DNN vs the steepest linear estimator per cell, D = {dim} (our targets)\n"
                   f"{int(cells.agrees.sum())}/{complete} complete cells agree with J's region "
                   f"({fraction:.0%})", fontsize=10)
    axis.grid(False)
    proxies = [
        Line2D([], [], marker="*", color="gold", mec="black", ms=11, ls="none",
               label="interval excludes 0 in the DNN's favour"),
        Patch(fill=False, edgecolor="black", lw=2.5, label="disagrees with theory"),
        Patch(facecolor="0.85", hatch="xx", edgecolor="0.6", label="incomplete (diverged DNN)"),
    ]
    axis.legend(handles=[*axis.get_legend_handles_labels()[0], *proxies], fontsize=8, loc="upper center",
                bbox_to_anchor=(0.5, -0.13), ncol=2, frameon=False)
    figure.tight_layout()
    return figure
