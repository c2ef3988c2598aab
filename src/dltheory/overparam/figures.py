"""The overparam figures, drawn from the summaries of dltheory.overparam.analysis in the shared visual language
(dltheory.plotting): one colour per model class, the interpolation threshold as the theory line, the majority-class
error as the reference level, legends outside the data."""

import numpy as np
import pandas as pd
from matplotlib.lines import Line2D
from matplotlib.ticker import NullLocator

from dltheory.overparam.analysis import interpolation_index
from dltheory.overparam.data import CLASSES
from dltheory.plotting import REFERENCE, THEORY, method_colour, outside_legend, subplots

LABELS = {"ridgeless": "ridgeless (min-norm)", "ridge_tuned": "ridge, tuned on validation", "mlp": "trained network",
          "parallel": "average of M networks"}


def _noise_title(rate: float) -> str:
    return "clean labels" if rate == 0 else f"{100 * rate:.0f} % label noise"


def _band(axis, x, frame: pd.DataFrame, column: str, colour, linestyle="-", label=None, marker="o"):
    """Median over seeds as a line, the seeds' range as a band."""
    grouped = frame.groupby(x)[column]
    centre, low, high = grouped.median(), grouped.min(), grouped.max()
    axis.fill_between(centre.index, low, high, color=colour, alpha=0.15, lw=0)
    axis.plot(centre.index, centre.values, color=colour, ls=linestyle, marker=marker, ms=2.5, lw=1.2, label=label)


def _plain_log_ticks(axis, values, base: float = 10) -> None:
    """A log x-axis labelled with plain numbers: 1-2-5 steps (base 10) or powers of two within the data's range."""
    values = np.asarray(sorted(values), float)
    axis.set_xscale("log", base=base)
    if base == 2:
        ticks = [2.0**k for k in range(int(np.floor(np.log2(values[0]))), int(np.ceil(np.log2(values[-1]))) + 1)]
    else:
        ticks = [m * 10.0**k for k in range(-3, 4) for m in (1, 2, 5)]
    ticks = [t for t in ticks if values[0] * 0.99 <= t <= values[-1] * 1.01]
    axis.set_xticks(ticks, [f"{t:g}" for t in ticks])
    axis.xaxis.set_minor_locator(NullLocator())


def plot_rf_curves(summary: pd.DataFrame, settings) -> object:
    """Test and train error (top) and test MSE (bottom) against N/n, ridgeless beside tuned ridge, per noise rate."""
    rates = sorted(summary.label_noise.unique())
    figure, axes = subplots(2, len(rates), width="full", height=5.0, sharex=True, squeeze=False)
    for column, rate in enumerate(rates):
        rows = summary[(summary.label_noise == rate) & summary.learned]
        top, bottom = axes[0, column], axes[1, column]
        for estimator in ("ridgeless", "ridge_tuned"):
            curve = rows[rows.estimator == estimator]
            colour = method_colour(estimator)
            _band(top, "ratio", curve, "test_error", colour, label=f"{LABELS[estimator]}, test")
            _band(top, "ratio", curve, "train_error", colour, "--", label=f"{LABELS[estimator]}, train", marker="")
            _band(bottom, "ratio", curve, "test_mse", colour, label=f"{LABELS[estimator]}, test")
        majority = rows.majority_error.median()
        top.axhline(majority, **REFERENCE, label="majority class")
        for axis in (top, bottom):
            axis.axvline(1.0, **THEORY, label="interpolation threshold N = n")
            _plain_log_ticks(axis, rows.ratio.unique())
        top.set_ylim(-0.02, 1.0)
        bottom.set_yscale("log")
        top.set_title(_noise_title(rate))
        bottom.set_xlabel("features per training point N / n")
        if column == 0:
            top.set_ylabel("error rate")
            bottom.set_ylabel("test MSE (sum over 10 outputs)")
    n = settings.train
    figure.suptitle(f"Random ReLU features on digits (n = {n}): error and MSE against N/n, ridgeless and tuned "
                    "ridge")
    outside_legend(figure, ncol=3)
    return figure


def plot_mlp_width(summary: pd.DataFrame, settings) -> object:
    """Train and test error of the trained networks against width, per noise rate, with the interpolation width."""
    rates = sorted(summary.label_noise.unique())
    figure, axes = subplots(1, len(rates), width="full", height=3.2, sharey=True, squeeze=False)
    colour = method_colour("mlp")
    for axis, rate in zip(axes[0], rates, strict=True):
        rows = summary[(summary.label_noise == rate) & summary.learned]
        _band(axis, "width", rows, "test_error", colour, label="test error (clean labels)")
        _band(axis, "width", rows, "train_error", colour, "--", label="train error (labels as trained)", marker="")
        curve = rows.groupby("width").train_error.mean()
        star = interpolation_index(curve.to_numpy(), settings.claims.interpolation_error)
        if star is not None:
            axis.axvline(curve.index[star], **THEORY,
                         label=f"first width with train error <= {settings.claims.interpolation_error:.0%}")
        axis.axhline(rows.majority_error.median(), **REFERENCE, label="majority class")
        _plain_log_ticks(axis, rows.width.unique(), base=2)
        axis.set_xlabel("hidden width h  (P = 75 h + 10)")
        axis.set_title(_noise_title(rate))
    axes[0, 0].set_ylabel("error rate")
    figure.suptitle(f"One-hidden-layer networks on digits (n = {settings.train}, {settings.mlp.steps} full-batch "
                    "Adam steps): error against width")
    outside_legend(figure, ncol=2)
    return figure


NOISE_STYLES = [("-", "o"), ("--", "s"), (":", "^")]


def plot_gap_vs_parameters(mlp: pd.DataFrame, rf: pd.DataFrame, settings) -> object:
    """The 0-1 generalisation gap (test - train error) against the parameter count (networks and ridgeless random
    features), and the networks' gap against the product of their layers' spectral norms."""
    figure, (left, right) = subplots(1, 2, width="full", height=3.4)
    rates = sorted(set(mlp.label_noise.unique()) | set(rf.label_noise.unique()))
    styles = {rate: NOISE_STYLES[i % len(NOISE_STYLES)] for i, rate in enumerate(rates)}
    ridgeless = rf[(rf.estimator == "ridgeless") & rf.learned].assign(gap=lambda f: f.test_error - f.train_error)
    for rate in rates:
        ls, marker = styles[rate]
        nets = mlp[(mlp.label_noise == rate) & mlp.learned]
        _band(left, "parameters", nets, "gap", method_colour("mlp"), ls, marker=marker)
        features = ridgeless[ridgeless.label_noise == rate]
        _band(left, "parameters", features, "gap", method_colour("ridgeless"), ls, marker=marker)
        right.scatter(nets.spectral_norm_product, nets.gap, s=9, marker=marker, color=method_colour("mlp"),
                      alpha=0.7)
    left.axvline(settings.train * CLASSES, **THEORY)
    left.set_xscale("log")
    left.set_xlabel("parameters P")
    left.set_ylabel("gap: test - train error")
    left.set_title("gap against the parameter count")
    right.set_xscale("log")
    right.set_xlabel("product of spectral norms ||W1|| ||W2|| (networks)")
    right.set_title("networks: gap against the spectral norms")
    handles = [Line2D([], [], color=method_colour("mlp"), label=LABELS["mlp"]),
               Line2D([], [], color=method_colour("ridgeless"), label=f"random features, {LABELS['ridgeless']}"),
               Line2D([], [], **THEORY, label="random features' threshold P = n C")]
    handles += [Line2D([], [], color="0.3", ls=styles[r][0], marker=styles[r][1], ms=3, label=_noise_title(r))
                for r in rates]
    figure.suptitle("Generalisation gap against model size (our operationalisation of Imaizumi & Schmidt-Hieber)")
    outside_legend(figure, handles, [h.get_label() for h in handles], ncol=3)
    return figure


def plot_parallel(summary: pd.DataFrame, mlp: pd.DataFrame, settings) -> object:
    """Test error of the average of M networks against M, each seed and the mean, beside the widest single net."""
    figure, axis = subplots(width="half", height=3.0)
    colour = method_colour("parallel")
    rows = summary[summary.learned]
    for _, seed in rows.groupby("replicate"):
        axis.plot(seed.members, seed.test_error, color=colour, lw=0.6, alpha=0.5)
    mean = rows.groupby("members").test_error.mean()
    axis.plot(mean.index, mean.values, color=colour, marker="o", ms=3, lw=1.5,
              label=f"average of M networks (h = {settings.parallel.member_width}), mean of seeds")
    rate = settings.parallel.label_noise
    widest = mlp[(mlp.label_noise == rate) & mlp.learned]
    if len(widest):
        top = widest[widest.width == widest.width.max()].test_error.mean()
        axis.axhline(top, **REFERENCE, label=f"one network of width {int(widest.width.max())}")
    _plain_log_ticks(axis, mean.index, base=2)
    axis.set_xlabel("members M")
    axis.set_ylabel("test error")
    axis.set_title(f"Parallel networks, {_noise_title(rate)}")
    outside_legend(figure, ncol=1)
    return figure
