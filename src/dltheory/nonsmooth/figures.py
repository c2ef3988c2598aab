"""Figures of the non-smooth regression family: the target, and error against n with theory lines."""

import matplotlib.ticker
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib import pyplot as plt

from dltheory.nonsmooth.analysis import slope_table
from dltheory.nonsmooth.estimators import LINEAR_ESTIMATORS
from dltheory.nonsmooth.theory import dnn_rate_exponent, linear_rate_exponent

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
    figure, axis = plt.subplots(figsize=(5.6, 4.6))
    image = axis.imshow(values, origin="lower", extent=(0, 1, 0, 1), cmap="viridis", aspect="equal")
    if target.pieces > 1:
        # Boundaries are where the piece label changes: only those are singularities of f.
        axis.contour(x1, x2, pieces, levels=np.arange(target.pieces - 1) + 0.5, colors="black",
                     linewidths=1.2)
    axis.grid(False)
    figure.colorbar(image, ax=axis, label="f(x)")
    axis.set(xlabel="$x_1$", ylabel="$x_2$",
             title=(f"{target.name}: {target.pieces} pieces, Hölder-$\\beta$={target.beta:g} inside,\n"
                    f"Hölder-$\\alpha$={target.alpha:g} boundaries (black)"
                    + (f"\nhard instance drawn at n = {target.n} (redrawn per n and replicate)"
                       if hasattr(target, "n") else "")))
    return figure


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
    figure, axes = plt.subplots(1, len(targets), figsize=(6.2 * len(targets), 6.4), squeeze=False)
    palette = dict(zip(METHOD_ORDER, sns.color_palette("tab10", len(METHOD_ORDER)), strict=True))
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
                axis.plot(curve.index, curve.values, color="0.55", lw=1.2, ls="-." if method == "ridge" else "-",
                          label=f"reference: {label} (slope {slope:.2f})")
                continue
            colour = palette[method]
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
            axis.set_title(f"{target}: every run diverged", fontsize=10)
            continue

        dnn_exponent = dnn_rate_exponent(dim, alpha, beta, pieces)
        linear_exponent = linear_rate_exponent(dim, alpha, beta, pieces)
        if "dnn" in methods:
            axis.plot(sizes, first_error["dnn"] * (sizes / sizes[0]) ** -dnn_exponent, "k--", lw=1.5,
                      label=f"theory DNN $n^{{-{dnn_exponent:.3f}}}$ (J Thm 7)")
        linear = [m for m in methods if m in LINEAR_ESTIMATORS]
        if linear:
            axis.plot(sizes, first_error[linear].min() * (sizes / sizes[0]) ** -linear_exponent, ":", color="0.3",
                      lw=2, label=f"linear lower bound $n^{{-{linear_exponent:.3f}}}$ (J Prop 15)")
        axis.set(xscale="log", yscale="log", xlabel="training-set size n",
                 ylabel="squared $L^2$ error vs noise-free f")
        axis.set_xticks(sizes, [f"{int(n)}" for n in sizes])
        axis.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        title = (f"{target}: D={dim}, $\\alpha$={alpha:g}, $\\beta$={beta:g}, {pieces} piece(s); "
                 f"R={replicates} replicates (points)")
        if verdicts and target in verdicts:
            title += "\n" + verdicts[target]
        axis.set_title(title, fontsize=10)
        axis.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2, frameon=False)
    figure.tight_layout()
    return figure


def plot_placeholder(message: str):
    """A figure that says why it is empty (e.g. no smooth control in the config)."""
    figure, axis = plt.subplots(figsize=(6, 2))
    axis.axis("off")
    axis.text(0.5, 0.5, message, ha="center", va="center", wrap=True)
    return figure
