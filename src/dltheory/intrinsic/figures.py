"""Figures of the intrinsic-dimension family: N's Fig. 4 (sphere) and Fig. 5 (union of balls), re-measured.

Nakada & Imaizumi, JMLR 21(174), 2020 ("N"), Sec. 6.1-6.2 (pp. 12-13). Both plot the natural log of the error
with ±1 SD bars over replicates; so do these, for the squared L^2(mu) error of the run table.
"""

from __future__ import annotations

import re
import textwrap

import numpy as np
import pandas as pd
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from dltheory.intrinsic.analysis import (
    BASELINES,
    PAPER_FIG5_BASELINE_LOG_ERROR,
    PAPER_FIG5_DNN_LOG_ERROR,
    is_dnn,
)
from dltheory.plotting import REFERENCE, method_colour, method_shades, outside_legend, subplots

__all__ = ["method_label", "plot_ball_curves", "plot_sphere_curves"]

BASELINE_LABEL = {"knn": "k-NN (k ≤ 50 tuned on the hold-out)",
                  "nadaraya_watson": "Nadaraya–Watson (Gaussian, bandwidth tuned on the hold-out)"}
DNN_BAND_COLOUR, BASELINE_BAND_COLOUR = method_colour("dnn"), method_colour("knn")
REFERENCE_STYLES = {"constant": dict(REFERENCE), "ridge": {**REFERENCE, "ls": ":", "lw": 1.3}}


def method_label(method: str) -> str:
    """Legend name in N Fig. 5's words: ``dnn_l2w36`` -> "DNN L=2, W=36"."""
    match = re.fullmatch(r"dnn_l(\d+)w(\d+)", method)
    if match:
        return f"DNN L={match[1]}, W={match[2]}"
    return BASELINE_LABEL.get(method, "DNN" if method == "dnn" else method)


def _log_summary(rows: pd.DataFrame) -> pd.DataFrame:
    """Per n: mean and SD over replicates of log mse, from the usable (finite, positive) errors only, and whether
    every replicate's run learned there."""
    usable = rows[np.isfinite(rows.value) & (rows.value > 0)]
    logs = np.log(usable.value.astype(float))
    summary = logs.groupby(usable.n).agg(["mean", "std", "count"]).rename(columns={"mean": "log_mean",
                                                                                "std": "log_sd"})
    summary["log_sd"] = summary.log_sd.fillna(0.0)
    learned = rows.groupby("n").learned.all() if "learned" in rows else pd.Series(True, index=summary.index)
    summary["all_learned"] = learned.reindex(summary.index).fillna(False).astype(bool)
    return summary.sort_index()


def _curve(axis, rows: pd.DataFrame, x_of, colour, label: str, **style):
    """Mean ± 1 SD of log error per n; an n where some replicate did not learn gets a hollow marker."""
    summary = _log_summary(rows)
    if summary.empty:
        if len(rows):  # drawn as such: every run diverged (no finite error), named in the legend
            axis.plot([], [], "x", color=colour, label=f"{label}: every run diverged (not drawn)")
        return summary
    x = x_of(summary.index.to_numpy(dtype=float))
    axis.errorbar(x, summary.log_mean, yerr=summary.log_sd, color=colour, capsize=2.5, label=label, **style)
    hollow = ~summary.all_learned.to_numpy()
    if hollow.any():
        axis.plot(x[hollow], summary.log_mean[hollow], "o", ms=8, mfc="white", mec=colour, mew=1.5, zorder=5)
    return summary


def _reference_lines(axis, table: pd.DataFrame, setting: str, x_of, colour, with_ridge: bool = True):
    """Var f (the constant predictor, dash-dot) and ridge (dotted) of one setting, log geometric means per n: the
    reference styles of :mod:`dltheory.plotting`, in ``colour``."""
    mse = table[(table.metric == "mse") & (table.setting == setting)]
    for method in ("constant", "ridge") if with_ridge else ("constant",):
        rows = mse[mse.method == method]
        if rows.empty:
            continue
        means = np.log(rows.value.astype(float)).groupby(rows.n).mean().sort_index()
        axis.plot(x_of(means.index.to_numpy(dtype=float)), means.to_numpy(),
                  **{**REFERENCE_STYLES[method], "color": colour}, alpha=0.8)


def _slope_label(fit) -> str:
    return (f"slope {fit.slope:.2f} [{fit.low:.2f}, {fit.high:.2f}], t over {int(fit.replicates)} of "
            f"{int(fit.total_replicates)} replicates; theory {fit.theory_slope:.2f}")


def plot_sphere_curves(table: pd.DataFrame, slopes: pd.DataFrame, ambient_dim: int, control_dim: int | None = None,
                       method: str = "dnn"):
    """N Fig. 4 re-measured (left) and our ambient-D control (right): log error against log n (natural logs).

    Left: one shade of the DNN's colour per d at D = ``ambient_dim`` (light: small d); right: one shade per D at
    d = ``control_dim``. Solid: the DNN, mean ± 1 SD of log error over replicates, a hollow marker where some
    replicate did not learn (error not below Var f / 2); dotted: ridge on the same data; dash-dot: Var f, the
    constant predictor's error. The legend carries
    each curve's slope with its t-interval over the learned replicates (from
    :func:`dltheory.intrinsic.analysis.sphere_slopes`) and the theory slope -2beta/(2beta+d) of N Thm 7.
    """
    rows = table[(table.simulation == "sphere") & (table.metric == "mse") & (table.method == method)]
    fits = slopes.set_index("setting")
    panels = 2 if control_dim is not None else 1
    figure, axes = subplots(1, panels, width="full", height=5.4, squeeze=False)

    def draw(axis, selected, key, title):
        values = sorted(int(v) for v in selected[key].unique())
        colours = dict(zip(values, method_shades(method, len(values)), strict=True))
        for value in values:
            part = selected[selected[key] == value]
            setting = part.setting.iloc[0]
            label = f"{'d' if key == 'intrinsic_dim' else 'D'} = {value}"
            if setting in fits.index:  # wrapped to the panel's width (the legend sits below the panel)
                label = textwrap.fill(label + ": " + _slope_label(fits.loc[setting]), 48, subsequent_indent="    ")
            _curve(axis, part, np.log, colours[value], label, marker="o", ms=4, lw=1.6)
            _reference_lines(axis, table, setting, np.log, colours[value])
        axis.set(xlabel="log n (natural log)", ylabel="log squared $L^2(\\mu)$ error (mean ± 1 SD over replicates)")
        axis.set_title(title)
        # The panel's own slopes below it, outside the data; the line styles once, below the figure.
        axis.legend(fontsize=6.5, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=1, frameon=False)

    main = rows[rows.ambient_dim == ambient_dim]
    beta = ", ".join(f"{b:g}" for b in sorted(float(v) for v in rows.beta.unique()))
    draw(axes[0, 0], main, "intrinsic_dim",
         f"Sim 6.1: $\\mu$ uniform on a d-sphere in $[0,1]^{{{ambient_dim}}}$,\n$\\beta$ = {beta} (N Fig. 4)")
    if control_dim is not None:
        control = rows[rows.intrinsic_dim == control_dim]
        draw(axes[0, 1], control, "ambient_dim",
             f"Ambient-D control (ours): the same\n{control_dim}-sphere samples in $[0,1]^D$")
    styles = {"dotted: ridge (standardised inputs, LOO penalty)": Line2D([], [], **{**REFERENCE_STYLES["ridge"],
                                                                                     "color": "0.3"}),
              "dash-dot: Var f (constant predictor)": Line2D([], [], **{**REFERENCE_STYLES["constant"],
                                                                         "color": "0.3"}),
              "hollow: some replicate did not learn (error ≥ Var f / 2)": Line2D(
                  [], [], color="0.3", marker="o", ms=7, mfc="white", ls="none")}
    outside_legend(figure, list(styles.values()), list(styles), ncol=2)
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
    methods = _ball_methods(set(rows.method) - {"constant", "ridge"})
    dnns = [m for m in methods if is_dnn(m)]
    others = [m for m in methods if not is_dnn(m)]
    # The DNNs in shades of the DNN's one colour (light: the smallest), each baseline in its own colour.
    colours = {**dict(zip(dnns, method_shades("dnn", len(dnns)), strict=True)),
               **{m: method_colour(m) for m in others}}
    panels = max(len(settings), 1)
    figure, axes = subplots(1, panels, width="full" if panels <= 2 else "wide", height=4.4, squeeze=False,
                            sharey=True)
    low, high = min(PAPER_FIG5_DNN_LOG_ERROR), max(PAPER_FIG5_BASELINE_LOG_ERROR)
    for axis, (setting, info) in zip(axes[0], settings.iterrows(), strict=False):
        axis.axhspan(*PAPER_FIG5_DNN_LOG_ERROR, color=DNN_BAND_COLOUR, alpha=0.12, lw=0)
        axis.axhspan(*PAPER_FIG5_BASELINE_LOG_ERROR, color=BASELINE_BAND_COLOUR, alpha=0.12, lw=0)
        for k, method in enumerate(methods):
            part = rows[(rows.setting == setting) & (rows.method == method)]
            # A small offset in n keeps overlapping bars of different methods apart.
            offset = (k - (len(methods) - 1) / 2) * 1.5
            summary = _curve(axis, part, lambda x, offset=offset: x + offset, colours[method], method_label(method),
                             ls="-" if is_dnn(method) else "--", marker="o", ms=3.5, lw=1.6)
            if summary.empty:
                continue
            low = min(low, float((summary.log_mean - summary.log_sd).min()))
            high = max(high, float((summary.log_mean + summary.log_sd).max()))
        _reference_lines(axis, table, setting, lambda x: x, "0.35")
        axis.set_title(f"Sim 6.2: (D, d) = ({int(info.ambient_dim)}, {int(info.intrinsic_dim)}), $\\mu$ uniform on\n"
                       f"an $\\ell^{{1/2}}$ ball $\\cup$ an $\\ell^2$ ball (N Fig. 5)")
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
    handles["grey dotted: ridge"] = Line2D([], [], **{**REFERENCE_STYLES["ridge"], "color": "0.35"})
    handles["grey dash-dot: Var f (constant)"] = Line2D([], [], **{**REFERENCE_STYLES["constant"], "color": "0.35"})
    handles["hollow: some replicate did not learn (error ≥ Var f / 2)"] = Line2D(
        [], [], color="0.3", marker="o", ms=8, mfc="white", ls="none")
    handles[f"paper's Fig.: DNNs ≈ {_band(PAPER_FIG5_DNN_LOG_ERROR)}"] = Patch(color=DNN_BAND_COLOUR, alpha=0.25,
                                                                             lw=0)
    handles[f"paper's Fig.: k-NN, NW ≈ {_band(PAPER_FIG5_BASELINE_LOG_ERROR)}"] = Patch(
        color=BASELINE_BAND_COLOUR, alpha=0.25, lw=0)
    outside_legend(figure, list(handles.values()), list(handles), ncol=2)
    return figure
