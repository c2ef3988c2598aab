"""Figures of the resinit family: signal growth against depth with the theory lines, the per-block gradient profile,
and the trainability maps over init scale (dltheory.plotting's visual language)."""

import numpy as np
import pandas as pd

from dltheory.plotting import (
    ANNOTATION_SIZE,
    FRACTION_CMAP,
    MAGNITUDE_CMAP,
    THEORY,
    THEORY_SECOND,
    method_colour,
    outside_legend,
    subplots,
)
from dltheory.resinit.theory import batch_norm_growth, residual_growth, taki_bound

NAMES = {"plain_he": "plain, He", "plain_default": "plain, PyTorch default", "plain_bn": "plain + BN",
         "res_he": "ResNet, He", "res_default": "ResNet, PyTorch default", "res_taki": "ResNet, c/(nL)",
         "res_bn": "ResNet + BN (branch)", "fixup": "Fixup", "skipinit": "SkipInit", "rezero": "ReZero"}
DIRECTION_TITLES = {"forward_ratio": "forward: $q_L / q_0$", "backward_ratio": "backward: $E|g_0|^2 / E|g_L|^2$"}


def variant_name(label: str) -> str:
    if label.startswith("res_taki_c"):
        return f"ResNet, c/(nL), c = {label.removeprefix('res_taki_c')}"
    return NAMES.get(label, label)


def _variant_order(labels) -> list[str]:
    order = ["plain_he", "plain_default", "plain_bn", "res_he", "res_default", "res_taki", "res_taki_c1",
             "res_taki_c2", "res_bn", "fixup", "skipinit", "rezero"]
    return [v for v in order if v in set(labels)] + sorted(set(labels) - set(order))


def plot_variance_vs_depth(stats: pd.DataFrame, taki_c) -> object:
    """q_L / q_0 (left) and the gradient's mean-square gain (right) against L, median over seeds with the
    interquartile band; top row the whole range, bottom row a zoom on the bounded variants; theory: 2^L and
    1 + L/q_0 (dashed), e^{c/2} (dotted)."""
    figure, axes = subplots(2, 2, width="full", height=5.6, sharex=True)
    depths = np.array(sorted(stats.depth.unique()), float)
    grid = np.geomspace(depths.min(), depths.max(), 100)
    q0 = float(stats[stats.variant == "res_bn"].q0.median()) if "res_bn" in set(stats.variant) else 1.0
    for column, metric in enumerate(DIRECTION_TITLES):
        for row in range(2):
            axis = axes[row, column]
            for label in _variant_order(stats.variant):
                values = stats[stats.variant == label].groupby("depth")[metric]
                median, low, high = values.median(), values.quantile(0.25), values.quantile(0.75)
                colour = method_colour(label)
                axis.plot(median.index, median.values, "o-", ms=2.5, lw=1.2, color=colour, label=variant_name(label))
                axis.fill_between(median.index, low.values, high.values, color=colour, alpha=0.2, lw=0)
            axis.plot(grid, residual_growth(grid, 2.0), **THEORY, label="theory: $2^L$ (He branch), $1 + L/q_0$ (BN)")
            axis.plot(grid, batch_norm_growth(grid, q0), **THEORY)
            for c in taki_c:
                axis.axhline(taki_bound(c), **THEORY_SECOND, label="bound $e^{c/2}$ (c/(nL))")
            axis.set_xscale("log", base=2)
            axis.set_yscale("log")
            if row == 0:
                axis.set_ylim(1e-8, 1e45)
                axis.set_title(DIRECTION_TITLES[metric])
            else:
                axis.set_ylim(0.3, 400)
                axis.set_xlabel("blocks $L$")
        axes[0, column].text(0.03, 0.93, "plain, PyTorch default leaves the axis\n(q falls 6-fold per layer)",
                             transform=axes[0, column].transAxes, fontsize=ANNOTATION_SIZE, color="0.3", va="top")
    axes[0, 0].set_ylabel("ratio (all variants)")
    axes[1, 0].set_ylabel("ratio (zoom)")
    outside_legend(figure, ncol=3)
    return figure


def plot_gradient_profile(profile: pd.DataFrame) -> object:
    """Per-block weight-gradient norm |dl/dW_l| at the profile depth (left) and the gates' |dl/da_l| of SkipInit
    and ReZero (right), medians over seeds."""
    figure, axes = subplots(1, 2, width="full", height=3.4)
    depth = int(profile.depth.max())
    for label in _variant_order(profile.variant):
        rows = profile[profile.variant == label]
        weights = rows.groupby("block").block_gradient_norm.median()
        if (weights > 0).any():
            axes[0].plot(weights.index, weights.values, lw=1.2, color=method_colour(label), label=variant_name(label))
        if "gate_gradient" in rows and rows.gate_gradient.notna().any():
            gates = rows.groupby("block").gate_gradient.median()
            axes[1].plot(gates.index, gates.values, lw=1.2, color=method_colour(label), label=variant_name(label))
    for axis, title in zip(axes, (f"weight gradients, L = {depth}", f"gate gradients, L = {depth}"), strict=True):
        axis.set_yscale("log")
        axis.set_xlabel("block $l$")
        axis.set_title(title)
    axes[0].set_ylabel(r"$\|\partial \ell / \partial W_l\|_F$ (median)")
    axes[1].set_ylabel(r"$|\partial \ell / \partial a_l|$ (median)")
    outside_legend(figure, ncol=3)
    return figure


def _heatmap(axis, matrix: pd.DataFrame, text: pd.DataFrame, cmap, vmin, vmax):
    image = axis.imshow(matrix.to_numpy(float), cmap=cmap, vmin=vmin, vmax=vmax, aspect="auto")
    for (i, j), label in np.ndenumerate(text.to_numpy()):
        value = matrix.to_numpy(float)[i, j]
        light = np.isfinite(value) and (value - vmin) / (vmax - vmin) < 0.5
        axis.text(j, i, label, ha="center", va="center", fontsize=ANNOTATION_SIZE,
                  color="white" if light else "black")
    axis.set_xticks(range(matrix.shape[1]), [f"{s:g}" for s in matrix.columns])
    axis.set_yticks(range(matrix.shape[0]), [variant_name(v) for v in matrix.index])
    axis.grid(False)
    axis.set_xlabel("init scale $s$ (x block std)")
    return image


def plot_trainability_loss(cells: pd.DataFrame, steps: int) -> object:
    """Median final training loss (log10 colour, written in each cell) per variant x init scale, one panel per
    depth; 'div.' where a majority of seeds diverged (grey)."""
    depths = sorted(cells.depth.unique())
    figure, axes = subplots(1, len(depths), width="full", height=2.9, squeeze=False)
    finite = np.log10(cells.median_final_loss[np.isfinite(cells.median_final_loss)])
    vmin, vmax = (float(finite.min()), float(finite.max())) if len(finite) else (-3.0, 1.0)
    vmax = max(vmax, vmin + 1e-6)
    image = None
    for axis, depth in zip(axes[0], depths, strict=True):
        at = cells[cells.depth == depth]
        order = _variant_order(at.variant)
        loss = at.pivot(index="variant", columns="scale", values="median_final_loss").loc[order]
        text = loss.map(lambda v: f"{v:.2g}" if np.isfinite(v) else "div.")
        axis.set_facecolor("0.85")
        image = _heatmap(axis, np.log10(loss), text, MAGNITUDE_CMAP, vmin, vmax)
        axis.set_title(f"L = {depth}: final training loss after {steps} steps")
    figure.colorbar(image, ax=axes[0].tolist(), label="log10 median loss", shrink=0.9)
    return figure


def plot_trainability_fraction(cells: pd.DataFrame, accuracy: float) -> object:
    """Fraction of seeds that train (finite loss, test accuracy >= the threshold) per variant x init scale, one
    panel per depth."""
    depths = sorted(cells.depth.unique())
    figure, axes = subplots(1, len(depths), width="full", height=2.9, squeeze=False)
    image = None
    for axis, depth in zip(axes[0], depths, strict=True):
        at = cells[cells.depth == depth]
        order = _variant_order(at.variant)
        fraction = at.pivot(index="variant", columns="scale", values="trainable_fraction").loc[order]
        seeds = at.pivot(index="variant", columns="scale", values="seeds").loc[order]
        text = (fraction * seeds).round().astype(int).astype(str) + "/" + seeds.astype(int).astype(str)
        image = _heatmap(axis, fraction, text, FRACTION_CMAP, 0.0, 1.0)
        axis.set_title(f"L = {depth}: seeds reaching test accuracy >= {accuracy:.0%}")
    figure.colorbar(image, ax=axes[0].tolist(), label="fraction of seeds", shrink=0.9)
    return figure
