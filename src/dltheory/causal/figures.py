"""Figures of the causal-direction family: accuracy vs n, seconds per pair, result tables."""

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from dltheory.causal.analysis import META, headline_metric

METHOD_LABEL = {"meta_cgnn": "Meta-CGNN (ours)", "cgnn": "CGNN", "anm": "ANM", "igci": "IGCI", "reci": "RECI"}
METHOD_COLOUR = {"meta_cgnn": "#d62728", "cgnn": "#1f77b4", "anm": "#2ca02c", "igci": "#9467bd", "reci": "#ff7f0e"}
BENCHMARK_LABEL = {"ce_multi": "CE-Multi-style (ours)", "ce_net": "CE-Net-style (ours)",
                   "ce_gauss": "CE-Gauss-style (ours)", "tuebingen": "Tübingen (cdt 0.6.0)"}
METRIC_LABEL = {"accuracy": "accuracy", "weighted_accuracy": "weighted accuracy", "auc": "AUC"}


def _size_axis(ax, sizes) -> None:
    """A log n axis labelled at the scored sizes, in plain numbers."""
    ax.set_xscale("log")
    ax.set_xticks(sizes, [str(int(s)) for s in sizes])
    ax.xaxis.set_minor_locator(plt.NullLocator())


def _panels(benchmarks: list[str]) -> list[tuple[str, str]]:
    """(benchmark, metric) per panel: each benchmark's headline metric, and plain accuracy on real data too."""
    panels = [(b, headline_metric(b)) for b in benchmarks]
    panels += [(b, "accuracy") for b in benchmarks if headline_metric(b) != "accuracy"]
    return panels


def plot_accuracy_vs_n(summary: pd.DataFrame, benchmarks: list[str], methods: list[str]):
    """One panel per (benchmark, metric): mean over subsamples per method against n (log), the band spanning the
    lowest and highest subsample replicate; the dotted line is chance (0.5)."""
    panels = _panels(benchmarks)
    columns = min(3, len(panels))
    rows = int(np.ceil(len(panels) / columns))
    figure, axes = plt.subplots(rows, columns, figsize=(4.2 * columns, 3.4 * rows), squeeze=False, sharey=True)
    for ax, (benchmark, metric) in zip(axes.flat, panels, strict=False):
        rows_of = summary[(summary["benchmark"] == benchmark) & (summary["metric"] == metric)]
        for method in methods:
            line = rows_of[rows_of["method"] == method].sort_values("size")
            if line.empty:
                continue
            style = {"lw": 2.4, "zorder": 3} if method == META else {"lw": 1.4}
            ax.plot(line["size"], line["mean"], "o-", ms=3.5, color=METHOD_COLOUR[method],
                    label=METHOD_LABEL.get(method, method), **style)
            if (line["replicates"] > 1).any():
                ax.fill_between(line["size"], line["low"], line["high"], color=METHOD_COLOUR[method], alpha=0.15)
        ax.axhline(0.5, color="grey", ls=":", lw=1)
        _size_axis(ax, sorted(rows_of["size"].unique()))
        ax.set_ylim(0.2, 1.0)
        ax.set_title(f"{BENCHMARK_LABEL.get(benchmark, benchmark)}: {METRIC_LABEL[metric]}", fontsize=10)
        ax.set_xlabel("points per pair n")
        ax.set_ylabel(METRIC_LABEL[metric])
    for ax in axes.flat[len(panels):]:
        ax.axis("off")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="lower center", ncol=len(labels), frameon=False, bbox_to_anchor=(0.5, -0.03))
    figure.suptitle("Direction accuracy against dataset size (band: range over subsamples)", fontsize=11)
    figure.tight_layout(rect=(0, 0.04, 1, 1))
    return figure


def plot_seconds_per_pair(seconds: pd.DataFrame, timing: pd.DataFrame, methods: list[str]):
    """Median seconds per pair of each method against n (log–log), pooled over benchmarks (the median of the
    benchmarks' medians), as each method ran in its scoring jobs; stars: the timing run, one pair at a time, CGNN
    at its default settings."""
    figure, ax = plt.subplots(figsize=(6.4, 4.2))
    pooled = seconds.groupby(["method", "size"])["median"].median().reset_index()
    for method in methods:
        line = pooled[pooled["method"] == method].sort_values("size")
        if not line.empty:
            ax.plot(line["size"], line["median"], "o-", ms=4, color=METHOD_COLOUR[method],
                    label=METHOD_LABEL.get(method, method) + (" (the config's settings)" if method == "cgnn" else ""))
    for method, label in ((META, "Meta-CGNN, one pair alone"), ("cgnn", "CGNN at its defaults, one pair alone")):
        timed = timing[timing["method"] == method]
        if not timed.empty:
            ax.plot(timed["n_points"].median(), timed["seconds"].median(), "*", ms=14, color=METHOD_COLOUR[method],
                    markeredgecolor="black", label=label)
    _size_axis(ax, sorted(seconds["size"].unique()))
    ax.set_yscale("log")
    ax.set_xlabel("points per pair n")
    ax.set_ylabel("seconds per pair")
    ax.set_title("Time to decide a pair (median over pairs and benchmarks)", fontsize=10)
    ax.legend(fontsize=7.5, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    figure.tight_layout()
    return figure


def plot_results_tables(summary: pd.DataFrame, benchmarks: list[str], methods: list[str], sizes: list[int]):
    """One table per benchmark: each method's accuracy, weighted accuracy and AUC (means over subsamples) at each
    of ``sizes``; '–' where the method did not run at that size."""
    metrics = ["accuracy", "weighted_accuracy", "auc"]
    header = ["method"] + [f"{METRIC_LABEL[m]}\nn = {s}" for s in sizes for m in metrics]
    figure, axes = plt.subplots(len(benchmarks), 1, figsize=(11.5, 2.3 * len(benchmarks)), squeeze=False)
    for ax, benchmark in zip(axes[:, 0], benchmarks, strict=True):
        rows = summary[summary["benchmark"] == benchmark].set_index(["method", "size", "metric"])["mean"]
        cells = []
        for method in methods:
            values = [rows.get((method, size, metric), np.nan) for size in sizes for metric in metrics]
            cells.append([METHOD_LABEL.get(method, method)] + ["–" if np.isnan(v) else f"{v:.2f}" for v in values])
        ax.axis("off")
        # The table fills the axes below the title (bbox in axes coordinates), so titles never overlap headers.
        table = ax.table(cellText=cells, colLabels=header, cellLoc="center", bbox=[0.0, 0.0, 1.0, 0.86])
        table.auto_set_font_size(False)
        table.set_fontsize(7.5)
        ax.set_title(BENCHMARK_LABEL.get(benchmark, benchmark), fontsize=10, pad=2)
    figure.tight_layout()
    return figure
