"""Figures of the intrinsic-dimension family: N's Fig. 4 (sphere) and Fig. 5 (union of balls), re-measured.

Nakada & Imaizumi, JMLR 21(174), 2020 ("N"), Sec. 6.1-6.2 (pp. 12-13). Both plot the natural log of the error
with ±1 SD bars over replicates; so do these, for the squared L^2(mu) error of the run table.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib import pyplot as plt
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from dltheory.intrinsic.analysis import (
    BASELINES,
    PAPER_FIG5_BASELINE_LOG_ERROR,
    PAPER_FIG5_DNN_LOG_ERROR,
    is_dnn,
)

__all__ = ["method_label", "plot_ball_curves", "plot_sphere_curves"]

BASELINE_LABEL = {"knn": "k-NN (CV k ≤ 50)", "nadaraya_watson": "Nadaraya–Watson (Gaussian, CV bandwidth)"}
DNN_BAND_COLOUR, BASELINE_BAND_COLOUR = "#d62728", "#1f77b4"


def method_label(method: str) -> str:
    """Legend name in N Fig. 5's words: ``dnn_l2w36`` -> "DNN L=2, W=36"."""
    match = re.fullmatch(r"dnn_l(\d+)w(\d+)", method)
    if match:
        return f"DNN L={match[1]}, W={match[2]}"
    return BASELINE_LABEL.get(method, "DNN" if method == "dnn" else method)


def _log_summary(rows: pd.DataFrame) -> pd.DataFrame:
    """Per n: mean and SD over replicates of log mse, from the usable (finite, positive) errors only."""
    usable = rows[np.isfinite(rows.value) & (rows.value > 0)]
    logs = np.log(usable.value.astype(float))
    summary = logs.groupby(usable.n).agg(["mean", "std", "count"]).rename(columns={"mean": "log_mean",
                                                                                "std": "log_sd"})
    summary["log_sd"] = summary.log_sd.fillna(0.0)
    return summary.sort_index()


def plot_sphere_curves(table: pd.DataFrame, slopes: pd.DataFrame, method: str = "dnn"):
    """N Fig. 4 re-measured: log error against log n (natural logs), one line per intrinsic dimension d.

    Bars are ±1 SD of log error over replicates; the legend carries each d's fitted slope with its bootstrap
    interval (from :func:`dltheory.intrinsic.analysis.sphere_slopes`) and the theory slope -2beta/(2beta+d)
    of N Thm 7, drawn dashed through the first point of that d. Non-finite errors (diverged runs) are left
    out of the bars and counted in the legend.
    """
    rows = table[(table.simulation == "sphere") & (table.metric == "mse") & (table.method == method)]
    slopes = slopes.set_index("intrinsic_dim")
    dims = sorted(int(d) for d in rows.intrinsic_dim.unique())
    colours = dict(zip(dims, sns.color_palette("viridis", len(dims)), strict=True))
    figure, axis = plt.subplots(figsize=(7.0, 6.4))
    for d in dims:
        summary = _log_summary(rows[rows.intrinsic_dim == d])
        if summary.empty:
            continue
        x = np.log(summary.index.to_numpy(dtype=float))
        fit = slopes.loc[d] if d in slopes.index else None
        label = f"d = {d}"
        if fit is not None:
            level = f"{fit.confidence:.0%}"
            label += (f": slope {fit.slope:.3f} [{fit.low:.3f}, {fit.high:.3f}] ({level}), theory "
                      f"{fit.theory_slope:.3f}")
            if not fit.complete:
                label += f"; incomplete, {int(fit.nonfinite)} non-finite"
        axis.errorbar(x, summary.log_mean, yerr=summary.log_sd, color=colours[d], marker="o", ms=4, capsize=3,
                      lw=1.6, label=label)
        if fit is not None:
            axis.plot(x, summary.log_mean.iloc[0] + fit.theory_slope * (x - x[0]), "--", color=colours[d], lw=1.2)
    handles, labels = axis.get_legend_handles_labels()
    handles.append(Line2D([], [], color="0.3", ls="--", lw=1.2))
    labels.append("dashed: theory slope $-2\\beta/(2\\beta+d)$ (N Thm 7), through each d's first point")
    ambient = sorted(int(v) for v in rows.ambient_dim.unique())
    beta = sorted(float(v) for v in rows.beta.unique())
    axis.set(xlabel="log n (natural log)", ylabel="log squared $L^2(\\mu)$ error (mean ± 1 SD over replicates)")
    axis.set_title(f"Sim 6.1: $\\mu$ uniform on a d-sphere in $[0,1]^D$, D = {', '.join(map(str, ambient))}, "
                   f"$\\beta$ = {', '.join(f'{b:g}' for b in beta)} (N Fig. 4)", fontsize=10)
    axis.legend(handles, labels, fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.11), ncol=1,
                frameon=False)
    figure.tight_layout()
    return figure


def _band(levels) -> str:
    return "…".join(f"{v:+g}".replace("-", "\u2212") for v in levels)


def _ball_methods(methods) -> list[str]:
    dnns = sorted((m for m in methods if is_dnn(m)), key=lambda m: [int(v) for v in re.findall(r"\d+", m)] or [0])
    return dnns + [b for b in BASELINES if b in methods] + sorted(m for m in methods if m not in dnns + [*BASELINES])


def plot_ball_curves(table: pd.DataFrame):
    """N Fig. 5 re-measured: log error against n, one panel per (D, d), DNNs solid and baselines dashed.

    Bars are ±1 SD of log error over replicates. Two translucent bands show the levels N's Fig. 5 reports
    (read from the figure): DNNs about -6 to -4, k-NN and Nadaraya-Watson about +1 to +2, so that the paper's
    numbers sit beside ours; the y-axis spans both.
    """
    rows = table[(table.simulation == "balls") & (table.metric == "mse")]
    settings = (rows.groupby("setting")[["ambient_dim", "intrinsic_dim"]].first()
                .sort_values(["ambient_dim", "intrinsic_dim"]))
    methods = _ball_methods(set(rows.method))
    dnns = [m for m in methods if is_dnn(m)]
    others = [m for m in methods if not is_dnn(m)]
    colours = {**dict(zip(dnns, sns.color_palette("Reds_d", len(dnns) + 1)[1:], strict=True)),
               **dict(zip(others, sns.color_palette("Blues_d", len(others) + 1)[1:], strict=True))}
    panels = max(len(settings), 1)
    figure, axes = plt.subplots(1, panels, figsize=(5.6 * panels, 5.4), squeeze=False, sharey=True)
    low, high = min(PAPER_FIG5_DNN_LOG_ERROR), max(PAPER_FIG5_BASELINE_LOG_ERROR)
    for axis, (setting, info) in zip(axes[0], settings.iterrows(), strict=False):
        axis.axhspan(*PAPER_FIG5_DNN_LOG_ERROR, color=DNN_BAND_COLOUR, alpha=0.12, lw=0)
        axis.axhspan(*PAPER_FIG5_BASELINE_LOG_ERROR, color=BASELINE_BAND_COLOUR, alpha=0.12, lw=0)
        for k, method in enumerate(methods):
            summary = _log_summary(rows[(rows.setting == setting) & (rows.method == method)])
            if summary.empty:
                continue
            # A small offset in n keeps overlapping bars of different methods apart.
            offset = (k - (len(methods) - 1) / 2) * 1.5
            axis.errorbar(summary.index.to_numpy(dtype=float) + offset, summary.log_mean, yerr=summary.log_sd,
                          color=colours[method], ls="-" if is_dnn(method) else "--", marker="o", ms=3.5,
                          capsize=2.5, lw=1.6, label=method_label(method))
            low = min(low, float((summary.log_mean - summary.log_sd).min()))
            high = max(high, float((summary.log_mean + summary.log_sd).max()))
        axis.set_title(f"Sim 6.2: (D, d) = ({int(info.ambient_dim)}, {int(info.intrinsic_dim)}), $\\mu$ uniform on "
                       f"an $\\ell^{{1/2}}$ ball $\\cup$ an $\\ell^2$ ball (N Fig. 5)", fontsize=10)
        axis.set(xlabel="training-set size n", xlim=(0, 320))
    axes[0, 0].set_ylabel("log squared $L^2(\\mu)$ error (mean ± 1 SD over replicates)")
    margin = 0.05 * (high - low)
    axes[0, 0].set_ylim(low - margin, high + margin)
    for axis in axes[0, len(settings):]:
        axis.axis("off")
    handles = {}
    for axis in axes[0]:
        for handle, label in zip(*axis.get_legend_handles_labels(), strict=True):
            handles.setdefault(label, handle)
    handles[f"paper's Fig.: DNNs ≈ {_band(PAPER_FIG5_DNN_LOG_ERROR)}"] = Patch(color=DNN_BAND_COLOUR, alpha=0.25,
                                                                             lw=0)
    handles[f"paper's Fig.: k-NN, NW ≈ {_band(PAPER_FIG5_BASELINE_LOG_ERROR)}"] = Patch(
        color=BASELINE_BAND_COLOUR, alpha=0.25, lw=0)
    figure.legend(handles.values(), handles.keys(), fontsize=8.5, loc="upper center", bbox_to_anchor=(0.5, 0.02),
                  ncol=3, frameon=False)
    figure.tight_layout()
    return figure
