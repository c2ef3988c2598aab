"""Figures of the non-smooth regression family (the target, and error against n with theory lines) and of its
(alpha, beta) region family (J's theory region, and the measured map), in the shared visual language of
:mod:`dltheory.plotting`: blue = the DNN better, red = the DNN worse, in both region figures."""

import textwrap

import matplotlib.patheffects as path_effects
import matplotlib.ticker
import numpy as np
import pandas as pd
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle

from dltheory.nonsmooth.analysis import slope_table
from dltheory.nonsmooth.settings import LINEAR_ESTIMATORS
from dltheory.nonsmooth.theory import dnn_rate_exponent, linear_rate_exponent
from dltheory.plotting import (
    ANNOTATION_SIZE,
    BETTER_COLOUR,
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

METHOD_ORDER = ["dnn", "fourier", "spline", "kernel_ridge", "gaussian_process", "knn"]
METHOD_LABEL = {
    "dnn": "ReLU DNN", "fourier": "Fourier series", "spline": "B-splines", "kernel_ridge": "kernel ridge",
    "gaussian_process": "Gaussian process", "knn": "k-NN",
}


def plot_target_map(target, resolution: int = 400):
    """Heat map of a D = 2 target on [0,1]^2 with its singular boundaries traced in black."""
    grid = (np.arange(resolution) + 0.5) / resolution
    x1, x2 = np.meshgrid(grid, grid)
    points = np.column_stack([x1.ravel(), x2.ravel()])
    values = target(points).reshape(resolution, resolution)
    pieces = target.piece_index(points).reshape(resolution, resolution)
    figure, axis = subplots(width="half", height=3.7)
    image = axis.imshow(values, origin="lower", extent=(0, 1, 0, 1), cmap=MAGNITUDE_CMAP, aspect="equal")
    if target.pieces > 1:
        # Boundaries are where the piece label changes: only those are singularities of f.
        axis.contour(x1, x2, pieces, levels=np.arange(target.pieces - 1) + 0.5, colors="black",
                     linewidths=1.2)
    axis.grid(False)
    figure.colorbar(image, ax=axis, label="f(x)", shrink=0.8)
    axis.set(xlabel="$x_1$", ylabel="$x_2$",
             title=(f"{target.name}: {target.pieces} pieces, Hölder-$\\beta$={target.beta:g} inside,\n"
                    f"Hölder-$\\alpha$={target.alpha:g} boundaries (black)"
                    + (f"\nhard instance drawn at n = {target.n}\n(redrawn per n and replicate)"
                       if hasattr(target, "n") else "")))
    return figure


TITLE_CHARS = 46  # characters per title line of a panel 3.5 in wide (half of a full-width figure)


def plot_error_curves(table: pd.DataFrame, targets: list[str], verdicts: dict[str, str] | None = None):
    """log squared L2 error vs log n per estimator: the geometric mean over replicates (line) and every replicate
    (small points; a cross marks a run that did not learn), fitted slopes in the legend, and the did-it-learn
    references in grey (constant predictor = Var f, ridge on the raw inputs).

    Theory lines (slopes only; placed through the first measured point): the DNN rate of J Thm 7 and the
    linear-estimator lower bound of J Prop 15 (for a smooth target both are n^{-2beta/(2beta+D)}).
    """
    from dltheory.nonsmooth.analysis import REFERENCE_METHODS, learned_runs

    slopes = slope_table(table).set_index(["target", "method"])
    mse = table[table.metric == "mse"]
    runs = learned_runs(table)
    figure, axes = subplots(1, len(targets), width="full" if len(targets) <= 2 else "wide", height=5.6,
                            squeeze=False)
    for axis, target in zip(axes[0], targets, strict=True):
        rows = mse[mse.target == target]
        methods = [m for m in METHOD_ORDER if m in set(rows.method)]
        replicates = rows.replicate.nunique()
        for method in [*methods, *[m for m in REFERENCE_METHODS if m in set(rows.method)]]:
            mine = rows[rows.method == method]
            curve = np.exp(np.log(mine.value).groupby(mine.n).mean())
            slope = slopes.loc[(target, method), "slope"]
            if method in REFERENCE_METHODS:
                label = {"constant": "constant predictor (Var f)", "ridge": "ridge (linear in x)"}[method]
                style = REFERENCE if method == "constant" else {**REFERENCE, "ls": ":", "lw": 1.3}
                axis.plot(curve.index, curve.values, **{**style, "color": method_colour(method)},
                          label=f"reference: {label} (slope {slope:.2f})")
                continue
            colour = method_colour(method)
            axis.plot(curve.index, curve.values, "o-", color=colour, ms=4,
                      label=f"{METHOD_LABEL[method]} ("
                            + (f"slope {slope:.2f})" if np.isfinite(slope) else "no slope: no finite error at some n)"))
            flags = runs[(runs.target == target) & (runs.method == method)].set_index(["n", "replicate"]).learned
            ok = mine[[flags.get((n, r), True) for n, r in zip(mine.n, mine.replicate, strict=True)]]
            bad = mine.drop(ok.index)
            axis.plot(ok.n, ok.value, ".", color=colour, ms=3, alpha=0.5)
            lost = bad[~np.isfinite(bad.value.to_numpy(float))]
            bad = bad.drop(lost.index)
            if len(bad):
                axis.plot(bad.n, bad.value, "x", color=colour, ms=7, mew=2,
                          label=f"{METHOD_LABEL[method]}: did not learn")
            if len(lost):  # a diverged run has no error to draw: the legend counts it
                axis.plot([], [], "x", color="k", ms=7,
                          label=f"{METHOD_LABEL[method]}: {len(lost)} of {len(mine)} runs diverged (not drawn)")
        info = rows.iloc[0]
        dim, alpha, beta, pieces = int(info.dim), info.alpha, info.beta, int(info.pieces)
        sizes = np.sort(rows.n.unique()).astype(float)

        first = rows[(rows.n == sizes[0]) & rows.method.isin(methods)]
        first_error = np.exp(np.log(first.value).groupby(first.method).mean())  # geometric mean per method
        values = rows.value.to_numpy(float)
        if not np.any(np.isfinite(values) & (values > 0)):  # every run diverged: nothing to put on a log axis
            axis.text(0.5, 0.5, "every run diverged:\nno finite error", transform=axis.transAxes, ha="center",
                      va="center")
            axis.set_title(f"{target}: every run diverged")
            continue

        dnn_exponent = dnn_rate_exponent(dim, alpha, beta, pieces)
        linear_exponent = linear_rate_exponent(dim, alpha, beta, pieces)
        if "dnn" in methods:
            axis.plot(sizes, first_error["dnn"] * (sizes / sizes[0]) ** -dnn_exponent, **THEORY,
                      label=f"theory DNN $n^{{-{dnn_exponent:.3f}}}$ (J Thm 7)")
        linear = [m for m in methods if m in LINEAR_ESTIMATORS]
        if linear:
            axis.plot(sizes, first_error[linear].min() * (sizes / sizes[0]) ** -linear_exponent, **THEORY_SECOND,
                      label=f"linear lower bound $n^{{-{linear_exponent:.3f}}}$ (J Prop 15)")
        axis.set(xscale="log", yscale="log", xlabel="training-set size n",
                 ylabel="squared $L^2$ error vs noise-free f")
        axis.set_xticks(sizes, [f"{int(n)}" for n in sizes])
        axis.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        title = (f"{target}: D={dim}, $\\alpha$={alpha:g}, $\\beta$={beta:g}, {pieces} piece(s); "
                 f"R={replicates} replicates (points)")
        if verdicts and target in verdicts:
            title += "\n" + verdicts[target]
        # Wrapped to the panel's width: side-by-side panels' titles must not run into each other.
        axis.set_title("\n".join(textwrap.fill(line, TITLE_CHARS) for line in title.split("\n")))
        # Each panel's legend below it (its slopes are the panel's own), outside the data.
        axis.legend(loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=1 if len(targets) > 1 else 2,
                    frameon=False, fontsize=6.5)
    return figure


def plot_placeholder(message: str):
    """A figure that says why it is empty (e.g. no smooth control in the config)."""
    figure, axis = subplots(width="full", height=1.5)
    axis.axis("off")
    axis.text(0.5, 0.5, message, ha="center", va="center", wrap=True)
    return figure


# --- The region family's figures (J Fig. 2 / Fig. 5 redrawn, and the measured map) ----------------------------
# Both use the one meaning of the diverging map: blue = the DNN better (its error falls faster), red = worse.

SAME_RATE_COLOUR = "0.88"
REGION_BOUNDARY_LABEL = "exact boundary $\\beta=\\alpha D/(2(\\alpha+D-1))$ (J Fig. 2)"


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



def _grid_index(values: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """Position of ``values`` on a map whose tiles sit at 0, 1, ... for the sorted ``grid``: piecewise linear
    between grid values, extended linearly beyond the ends (by the end gaps; a one-value grid counts 1 per unit)."""
    values, grid = np.asarray(values, float), np.asarray(grid, float)
    if len(grid) == 1:
        return values - grid[0]
    index = np.interp(values, grid, np.arange(len(grid)))
    low, high = values < grid[0], values > grid[-1]
    index[low] = (values[low] - grid[0]) / (grid[1] - grid[0])
    index[high] = len(grid) - 1 + (values[high] - grid[-1]) / (grid[-1] - grid[-2])
    return index


def _shade_predicate(axis, predicate, dim: int, xlim, ylim, label: str, resolution: int = 801) -> None:
    """Shade (blue: the DNN better) where ``predicate(alpha, beta, dim)`` holds, with its edge (J Fig. 5)."""
    alphas, betas = np.meshgrid(np.linspace(*xlim, resolution), np.linspace(*ylim, resolution))
    mask = np.vectorize(predicate)(alphas, betas, dim).astype(float)
    axis.contourf(alphas, betas, mask, levels=[0.5, 1.5], colors=[BETTER_COLOUR], alpha=0.25)
    if 0 < mask.mean() < 1:
        axis.contour(alphas, betas, mask, levels=[0.5], colors=[THEORY["color"]], linestyles=THEORY["ls"],
                     linewidths=THEORY["lw"])
    axis.add_patch(Rectangle((0, 0), 0, 0, facecolor=BETTER_COLOUR, alpha=0.25, edgecolor="black", linestyle="--",
                             label=label))  # legend proxy: contour sets carry no label


def _plot_dnn_panel(axis, dim: int, alpha_range, beta_range, low_beta: float) -> None:
    from dltheory.nonsmooth.region import JMLR_FIG2_DIGITIZED
    from dltheory.nonsmooth.theory import corollary20_condition, dnn_beats_linear, dnn_region_boundary

    alphas = np.linspace(*alpha_range, 400)
    # If even the window's lowest beta is DNN-better for every alpha, lower the window so the boundary shows.
    extended = bool(np.all(np.vectorize(dnn_beats_linear)(alphas, beta_range[0], dim)))
    ylim = (low_beta, beta_range[1]) if extended else beta_range
    boundary = dnn_region_boundary(alphas, dim)
    shown = np.clip(boundary, *ylim)
    axis.fill_between(alphas, shown, ylim[1], color=BETTER_COLOUR, alpha=0.25, lw=0,
                      label="DNN better than every linear estimator (blue, as on the measured map)")
    axis.fill_between(alphas, ylim[0], shown, color=SAME_RATE_COLOUR, lw=0, label="same rate")
    axis.plot(alphas, boundary, **{**THEORY, "lw": 1.8}, label=REGION_BOUNDARY_LABEL)
    axis.plot(alphas, _condition_edge(corollary20_condition, alphas, dim, 10 * ylim[1]), **THEORY_SECOND,
              label="Cor 20 (sufficient, as printed): $\\alpha<2\\beta(D-1)/D$")
    title = f"D = {dim}: J Fig. 2 region and Cor 20"
    if dim == 5:
        title += "\n(the D of J Fig. 2's caption)"
    if dim == 10:
        axis.plot(*zip(*JMLR_FIG2_DIGITIZED, strict=True), "o", color="k", mfc="white", ms=5, zorder=5,
                  label="JMLR Fig. 2 curve (digitized; caption says D=5, curve matches D=10)")
        title += "\n(matches J Fig. 2's printed curve)"
    if extended:
        title += f"\nwhole window $\\beta\\geq${beta_range[0]:g} is DNN-better; $\\beta$ from {low_beta:g}"
    axis.set(xlim=alpha_range, ylim=ylim, title=title)


def plot_theory_region(dims=(2, 5, 10), alpha_range=(1.0, 5.5), beta_range=(1.0, 4.0), low_beta_for_d2=0.2,
                       wavelet_dim: int = 5):
    """J Fig. 2 and Fig. 5 redrawn from the theory functions, one panel per D, plus wavelets and curvelets.

    DNN panels: blue (the DNN better, as on the measured map) where beta > alpha D/(2(alpha+D-1)) (exact, J pp.
    3-4, the theory line: black dashed) and Cor 20's stricter sufficient line (black dotted); the D = 10 panel
    carries the points digitized from the printed Fig. 2. Wavelet panel: J Prop 18 (beta > D/2, alpha > D-1) for
    ``wavelet_dim`` (default 5: at D = 2 the region fills the window, at D = 10 it lies above it). Curvelet panel:
    J Prop 19, D = 2 (beta, alpha > 1/2), axes extended down to show the edges. One legend, in the spare slot
    beside the panels.
    """
    from dltheory.nonsmooth.theory import curvelet_suboptimal, wavelet_suboptimal

    panels = len(dims) + 2
    columns = 3
    rows = -(-(panels + 1) // columns)  # one spare slot holds the legend
    figure, axes = subplots(rows, columns, width="wide", height=3.4 * rows + 0.4, squeeze=False)
    axes = axes.ravel()
    for axis, dim in zip(axes, dims, strict=False):
        _plot_dnn_panel(axis, dim, alpha_range, beta_range, low_beta_for_d2)

    wavelets = axes[len(dims)]
    _shade_predicate(wavelets, wavelet_suboptimal, wavelet_dim, alpha_range, beta_range,
                     "wavelets / curvelets sub-optimal vs DNN (J Prop 18, 19): the DNN better")
    wavelets.set(xlim=alpha_range, ylim=beta_range,
                 title=(f"Wavelets, D = {wavelet_dim} (J Prop 18, Fig. 5):\n"
                        f"sub-optimal if $\\beta>D/2$, $\\alpha>D-1$ (uniform $P_X$)"))
    wavelets.text(0.03, 0.97, "D = 2: all of $\\alpha,\\beta>1$\nD = 10: $\\beta>5$, above the window",
                  transform=wavelets.transAxes, va="top", fontsize=7)

    curvelets = axes[len(dims) + 1]
    low = (low_beta_for_d2, low_beta_for_d2)
    curvelet_window = (min(low[0], alpha_range[0]), alpha_range[1]), (min(low[1], beta_range[0]), beta_range[1])
    _shade_predicate(curvelets, curvelet_suboptimal, 2, *curvelet_window,
                     "wavelets / curvelets sub-optimal vs DNN (J Prop 18, 19): the DNN better")
    curvelets.set(xlim=curvelet_window[0], ylim=curvelet_window[1],
                  title=("Curvelets, D = 2 (J Prop 19, Fig. 5): sub-optimal\n"
                         "if $\\beta,\\alpha>1/2$ (Prop 19 assumes $\\alpha,\\beta\\geq2$); axes from "
                         f"{low_beta_for_d2:g}"))

    for axis in axes[:panels]:
        axis.set(xlabel="$\\alpha$: smoothness of the singular hypersurfaces",
                 ylabel="$\\beta$: smoothness inside the pieces")
    handles = unique_handles(axes[:panels])
    for axis in axes[panels:]:
        axis.axis("off")
    axes[panels].legend(handles.values(), handles.keys(), loc="center", frameon=False)
    figure.suptitle("Where DNNs beat linear estimators in rate: Imaizumi & Fukumizu, JMLR 2022, "
                    "Fig. 2, Fig. 5, Cor 20")
    return figure


def plot_region_map(cells: pd.DataFrame, confidence: float = 0.95):
    """Heat map of slope(dnn) - slope(best linear) over the (alpha, beta) cells, with J's boundary on top.

    One equal tile per grid value (ticks at the configured alphas and betas, so the axes are to scale only between
    neighbouring values); J's boundary is mapped piecewise linearly between them, so each tile's centre lies on
    the theory side of its own (alpha, beta). Blue (< 0) means the DNN's error falls faster, red slower (the
    diverging map of every figure, centred at 0). Each cell prints the measured difference, its t-interval and
    the replicate count R, and the theory's predicted difference. Stars mark cells whose interval lies below 0;
    thick black outlines mark cells that disagree with theory; a dotted orange outline marks a cell with runs that
    failed the did-it-learn guard; grey hatching marks cells that are not testable (< 2 replicates learned).
    """
    from dltheory.nonsmooth.region import agreement_fraction
    from dltheory.nonsmooth.theory import dnn_region_boundary

    dims = cells.dim.unique()
    if len(dims) != 1:
        raise ValueError(f"one map per D; cells have D in {sorted(dims)}")
    dim = int(dims[0])
    alphas, betas = np.sort(cells.alpha.unique()), np.sort(cells.beta.unique())
    alpha_edges, beta_edges = np.arange(len(alphas) + 1) - 0.5, np.arange(len(betas) + 1) - 0.5
    grid = cells.pivot(index="beta", columns="alpha", values="difference").reindex(index=betas, columns=alphas)
    norm = diverging_norm(cells[["difference", "low", "high"]].to_numpy(float))

    width = "full" if len(alphas) <= 3 else "wide"
    figure, axis = subplots(width=width, height=min(0.95 * len(betas) + 2.6, 9.0))
    mesh = axis.pcolormesh(alpha_edges, beta_edges, np.ma.masked_invalid(grid.to_numpy(float)), cmap=DIVERGING_CMAP,
                           norm=norm, edgecolors="white", linewidth=0.5)
    figure.colorbar(mesh, ax=axis, label="slope(DNN) $-$ slope(best linear estimator)\n"
                                         "blue < 0: DNN error falls faster; red > 0: slower")
    for cell in cells.itertuples():
        i, j = int(np.searchsorted(alphas, cell.alpha)), int(np.searchsorted(betas, cell.beta))
        x0, x1, y0, y1 = alpha_edges[i], alpha_edges[i + 1], beta_edges[j], beta_edges[j + 1]
        centre = ((x0 + x1) / 2, (y0 + y1) / 2)
        if cell.unlearned_runs:
            inset_x, inset_y = 0.04 * (x1 - x0), 0.06 * (y1 - y0)
            axis.add_patch(Rectangle((x0 + inset_x, y0 + inset_y), x1 - x0 - 2 * inset_x, y1 - y0 - 2 * inset_y,
                                     fill=False, edgecolor="darkorange", lw=2, ls=":", zorder=6))
        if not cell.testable:
            axis.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, facecolor="0.85", hatch="xx", edgecolor="0.6"))
            lost = getattr(cell, "diverged_runs", 0)
            axis.text(*centre, f"not testable\n{cell.replicates} of {cell.replicates_run} replicates learned\n"
                      + (f"{lost} run(s) diverged\n" if lost else "") + f"theory {cell.predicted_difference:+.2f}",
                      ha="center", va="center", fontsize=ANNOTATION_SIZE, zorder=6)
            continue
        dark = abs(norm(cell.difference) - 0.5) > 0.3
        label = (f"{cell.difference:+.2f} [{cell.low:+.2f}, {cell.high:+.2f}]\nR={cell.replicates}"
                 + (f" ({cell.unlearned_runs} unlearned runs)" if cell.unlearned_runs else "")
                 + f" vs {METHOD_LABEL.get(cell.linear_method, cell.linear_method)}"
                 + f"\ntheory {cell.predicted_difference:+.2f}")
        # The label sits on a patch of its cell's own colour, so the boundary line passes behind it.
        axis.text(*centre, label, ha="center", va="center", fontsize=ANNOTATION_SIZE,
                  color="white" if dark else "black", zorder=6,
                  bbox={"boxstyle": "round,pad=0.2", "facecolor": mesh.cmap(norm(cell.difference)), "lw": 0})
        if cell.dnn_wins:
            axis.plot(x1 - 0.08 * (x1 - x0), y1 - 0.12 * (y1 - y0), "*", color="gold", mec="black", ms=10, zorder=7)
        if not cell.agrees:
            axis.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, edgecolor="black", lw=2.5, zorder=5))

    xlim, ylim = (alpha_edges[0], alpha_edges[-1]), (beta_edges[0], beta_edges[-1])
    gaps = np.diff(alphas) if len(alphas) > 1 else np.ones(1)
    continuous = np.linspace(alphas[0] - gaps[0] / 2, alphas[-1] + gaps[-1] / 2, 400)
    axis.plot(_grid_index(continuous, alphas), _grid_index(dnn_region_boundary(continuous, dim), betas),
              **{**THEORY, "lw": 2.0}, zorder=5,
              path_effects=[path_effects.withStroke(linewidth=4.0, foreground="white")],
              label=f"theory boundary $\\beta=\\alpha D/(2(\\alpha+D-1))$, D={dim} (J Fig. 2): DNN better above")
    fraction = agreement_fraction(cells)
    testable = int(cells.testable.sum())
    replicates = "/".join(map(str, sorted(set(cells[cells.testable].replicates)))) or "-"
    axis.set(xlim=xlim, ylim=ylim, xlabel="$\\alpha$: smoothness of the singular boundary (grid values)",
             ylabel="$\\beta$: smoothness inside the pieces\n(grid values)",
             xticks=range(len(alphas)), xticklabels=[f"{a:g}" for a in alphas],
             yticks=range(len(betas)), yticklabels=[f"{b:g}" for b in betas])
    axis.set_title(f"DNN vs the steepest linear estimator per cell, D = {dim} (our targets),\n"
                   f"{confidence:.0%} t-intervals over R paired replicates (R = {replicates})\n"
                   f"{int(cells.agrees.sum())}/{testable} testable cells agree with J's region"
                   + (f" ({fraction:.0%})" if np.isfinite(fraction) else ""))
    axis.grid(False)
    proxies = [
        Line2D([], [], marker="*", color="gold", mec="black", ms=10, ls="none",
               label="interval below 0: DNN significantly steeper"),
        Patch(fill=False, edgecolor="black", lw=2.5, label="disagrees with theory"),
        Patch(fill=False, edgecolor="darkorange", lw=2, ls=":", label="has runs below the did-it-learn guard"),
        Patch(facecolor="0.85", hatch="xx", edgecolor="0.6", label="not testable (< 2 replicates learned)"),
    ]
    handles = [*axis.get_legend_handles_labels()[0], *proxies]
    outside_legend(figure, handles, [h.get_label() for h in handles], ncol=2)
    return figure
