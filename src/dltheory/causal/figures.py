"""Figures of the causal-direction family: accuracy vs n, seconds per pair, result tables."""

import textwrap

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.colors import Normalize

from dltheory.causal.analysis import HELD_OUT, META, evaluation_of, family_of, headline_metric
from dltheory.plotting import ANNOTATION_SIZE, FRACTION_CMAP, REFERENCE, method_colour, outside_legend, subplots

METHOD_LABEL = {"meta_cgnn": "Meta-CGNN (ours, no direction term)",
                "meta_cgnn_contrast": "Meta-CGNN + direction term (extension)",
                "rcc": "supervised classifier (RCC-style, same pool)", "cgnn": "CGNN", "anm": "ANM", "igci": "IGCI",
                "reci": "RECI"}
BENCHMARK_LABEL = {"ce_multi": "CE-Multi-style (ours)", "ce_net": "CE-Net-style (ours)",
                   "ce_gauss": "CE-Gauss-style (ours)", "post_nonlinear": "post-nonlinear (ours)",
                   "heavy_tailed": "heavy-tailed ANM (ours)",
                   "sharp_anm": "known answer (sharp ANM pairs)",
                   "tuebingen": "Tübingen (cdt 0.6.0)"}
METRIC_LABEL = {"accuracy": "accuracy", "weighted_accuracy": "weighted accuracy", "auc": "AUC", "aupr": "AUPR"}


def view_label(view: str, labels: dict[str, str] | None = None) -> str:
    """'CE-Gauss-style (ours), held-out' / ', in-distribution' / Tübingen's and the known-answer pairs' label;
    ``labels``: the user benchmarks' (``CausalSettings.benchmark_labels``), else a benchmark's name."""
    name = {**BENCHMARK_LABEL, **(labels or {})}.get(family_of(view), family_of(view))
    return f"{name}, {evaluation_of(view)}" if evaluation_of(view) not in ("real", "sanity") else name


def method_label(method: str, summary: pd.DataFrame) -> str:
    """The method's label with its pair count: 'all pairs' where it scored as many as any method in every panel
    (the panel titles give that count), else its own counts (CGNN's first pairs in the default run)."""
    pairs = summary[summary["metric"] == "pairs"]
    most = pairs.groupby("benchmark")["mean"].max()
    own = pairs[pairs["method"] == method].groupby("benchmark")["mean"].max()
    label = METHOD_LABEL.get(method, method)
    if own.empty or (own >= most.reindex(own.index)).all():
        return f"{label} (all pairs)"
    counts = sorted({int(c) for c in own})
    return f"{label} ({'/'.join(map(str, counts))} pairs per benchmark)"


def views_in_order(summary: pd.DataFrame, benchmarks: list[str]) -> list[str]:
    """Each benchmark's in-distribution view, then its held-out view where there is one."""
    present = set(summary["benchmark"])
    return [v for b in benchmarks for v in (b, b + HELD_OUT) if v in present]


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


def plot_accuracy_vs_n(summary: pd.DataFrame, benchmarks: list[str], methods: list[str],
                       labels: dict[str, str] | None = None):
    """One panel per (view, metric): each method's accuracy against n (log), the band its 95% Wilson interval over
    the pairs (legend: each method's pair count); the grey dash-dot line is chance (0.5). Held-out views carry the
    trained methods of the pool without that family. ``labels``: the user benchmarks' (``view_label``)."""
    panels = _panels(views_in_order(summary, benchmarks))
    columns = min(3, len(panels))
    rows = int(np.ceil(len(panels) / columns))
    figure, axes = subplots(rows, columns, width="full" if columns < 3 else "wide", height=2.6 * rows + 1.2,
                            squeeze=False, sharey=True)
    for ax, (benchmark, metric) in zip(axes.flat, panels, strict=False):
        rows_of = summary[(summary["benchmark"] == benchmark) & (summary["metric"] == metric)]
        for method in methods:
            line = rows_of[rows_of["method"] == method].sort_values("size")
            if line.empty:
                continue
            style = {"lw": 2.4, "zorder": 3} if method == META else {"lw": 1.4}
            if method == "meta_cgnn_contrast":
                style["ls"] = "--"
            ax.plot(line["size"], line["mean"], "o", ms=3.5, color=method_colour(method),
                    label=method_label(method, summary), **{"ls": "-", **style})
            if method == META:  # a band for the headline, error bars for the others (every accuracy's interval)
                ax.fill_between(line["size"], line["low"], line["high"], color=method_colour(method), alpha=0.18)
            else:
                offset = 1.0 + 0.025 * (methods.index(method) - len(methods) / 2)  # side by side on the log axis
                ax.errorbar(line["size"] * offset, line["mean"],
                            # clipped at 0: at p = 1 the Wilson bound can sit a rounding error below it
                            yerr=np.clip([line["mean"] - line["low"], line["high"] - line["mean"]], 0, None),
                            fmt="none",
                            ecolor=method_colour(method), elinewidth=0.8, capsize=1.5, alpha=0.7)
        ax.axhline(0.5, **REFERENCE, label="chance (0.5)")
        _size_axis(ax, sorted(rows_of["size"].unique()))
        ax.set_ylim(0.0, 1.02)
        counts = summary.loc[(summary["benchmark"] == benchmark) & (summary["metric"] == "pairs"), "mean"]
        # Wrapped to the panel's width: three panels side by side must not run into each other.
        ax.set_title(textwrap.fill(f"{view_label(benchmark, labels)}: {METRIC_LABEL[metric]} ({counts.max():.0f} "
                                   "pairs)", 46))
        ax.set_xlabel("points per pair n")
        ax.set_ylabel(METRIC_LABEL[metric])
    for ax in axes.flat[len(panels):]:
        ax.axis("off")
    handles = {}
    for ax in axes.flat:  # every method that appears in some panel, once
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            handles.setdefault(label, handle)
    outside_legend(figure, list(handles.values()), list(handles), ncol=min(3, len(handles)))
    figure.suptitle("Direction accuracy against dataset size (band: 95% Wilson interval over the pairs)")
    return figure


def plot_seconds_per_pair(seconds: pd.DataFrame, timing: pd.DataFrame, methods: list[str]):
    """Median seconds per pair of each method against n (log–log), pooled over benchmarks (the median of the
    benchmarks' medians), as each method ran in its scoring jobs; stars: the timing run, one pair at a time, CGNN
    at its default settings."""
    figure, ax = subplots(width="full", height=3.4)
    pooled = seconds.groupby(["method", "size"])["median"].median().reset_index()
    for method in methods:
        line = pooled[pooled["method"] == method].sort_values("size")
        if not line.empty:
            ax.plot(line["size"], line["median"], "o-", ms=4, color=method_colour(method),
                    label=METHOD_LABEL.get(method, method) + (" (the config's settings)" if method == "cgnn" else ""))
    for method, label in ((META, "Meta-CGNN, one pair alone"), ("cgnn", "CGNN at its defaults, one pair alone")):
        timed = timing[timing["method"] == method]
        if not timed.empty:
            ax.plot(timed["n_points"].median(), timed["seconds"].median(), "*", ms=14, color=method_colour(method),
                    markeredgecolor="black", label=label)
    _size_axis(ax, sorted(seconds["size"].unique()))
    ax.set_yscale("log")
    ax.set_xlabel("points per pair n")
    ax.set_ylabel("seconds per pair")
    ax.set_title("Time to decide a pair (median over pairs and benchmarks)")
    outside_legend(figure, where="right")
    return figure


def plot_results_tables(summary: pd.DataFrame, benchmarks: list[str], methods: list[str], sizes: list[int],
                        labels: dict[str, str] | None = None):
    """One panel per size in ``sizes``: a grid of views (rows) by methods (columns), each cell coloured by the
    view's headline accuracy (the fraction colour map, 0 to 1) and carrying it with its 95% Wilson interval, and
    below it AUPR and the pair count; grey where the method did not run at that size. ``labels``: the user
    benchmarks'."""
    views = views_in_order(summary, benchmarks)
    shown = [m for m in methods if (summary["method"] == m).any()]
    figure, axes = subplots(len(sizes), 1, width="wide", height=(0.36 * len(views) + 0.9) * len(sizes) + 0.5,
                            squeeze=False)
    norm = Normalize(0.0, 1.0)
    cmap = plt.get_cmap(FRACTION_CMAP)
    for ax, size in zip(axes[:, 0], sizes, strict=True):
        grid = np.full((len(views), len(shown)), np.nan)
        for i, view in enumerate(views):
            metric = headline_metric(view)
            rows = summary[summary["benchmark"] == view].set_index(["method", "size", "metric"])
            for j, method in enumerate(shown):
                if (method, size, metric) not in rows.index:
                    ax.text(j, i, "not run at this n", ha="center", va="center", fontsize=ANNOTATION_SIZE,
                            color="0.45")
                    continue
                row = rows.loc[(method, size, metric)]
                grid[i, j] = row["mean"]
                aupr = rows.loc[(method, size, "aupr"), "mean"] if (method, size, "aupr") in rows.index else np.nan
                text = (f"{row['mean']:.2f} [{row['low']:.2f}, {row['high']:.2f}]\n"
                        f"AUPR {aupr:.2f} · {row['interval_pairs']:.0f} pairs")
                colour = "white" if np.mean(cmap(norm(row["mean"]))[:3]) < 0.5 else "black"
                ax.text(j, i, text, ha="center", va="center", fontsize=ANNOTATION_SIZE, color=colour, linespacing=1.3)
        ax.imshow(np.ma.masked_invalid(grid), cmap=cmap, norm=norm, aspect="auto")
        ax.set_facecolor("0.93")  # where a method did not run
        ax.set_xticks(range(len(shown)), [textwrap.fill(METHOD_LABEL.get(m, m), 18) for m in shown])
        ax.xaxis.tick_top()
        ax.set_yticks(range(len(views)),
                      [view_label(v, labels) + (" (weighted)" if headline_metric(v) != "accuracy" else "")
                       for v in views])
        ax.set_xticks(np.arange(len(shown) + 1) - 0.5, minor=True)
        ax.set_yticks(np.arange(len(views) + 1) - 0.5, minor=True)
        ax.grid(which="major", visible=False)  # the style's lines would cross the cells' numbers
        ax.grid(which="minor", color="white", lw=1.5)
        ax.tick_params(which="both", length=0)
        for spine in ax.spines.values():
            spine.set_visible(False)
        ax.set_title(f"n = {size} points per pair", loc="left", pad=4, fontweight="bold")
    figure.colorbar(plt.cm.ScalarMappable(norm=norm, cmap=cmap), ax=axes[:, 0].tolist(), fraction=0.02, pad=0.01,
                    label="headline accuracy")
    return figure


def plot_meta_training(history: pd.DataFrame):
    """Validation accuracy (left) and training loss (right) against meta-steps, per (pool, method); a star marks
    the checkpoint kept (highest validation accuracy)."""
    figure, (left, right) = subplots(1, 2, width="full", height=3.0)
    for (pool, method), curve in history.groupby(["pool", "method"]):
        style = {"color": method_colour(method), "ls": {"all": "-", "sanity": "-."}.get(pool, ":")}
        label = f"{METHOD_LABEL.get(method, method)}, pool {pool}"
        checked = curve.dropna(subset=["validation_accuracy"]) if "validation_accuracy" in curve else curve.iloc[:0]
        if len(checked):
            left.plot(checked["step"], checked["validation_accuracy"], "o", ms=3, label=label, **style)
            chosen = checked[checked["chosen"]]
            left.plot(chosen["step"], chosen["validation_accuracy"], "*", ms=13, markeredgecolor="black",
                      color=style["color"])
        right.plot(curve["step"], curve["loss"], lw=1, label=label, **style)
    left.axhline(0.5, **REFERENCE, label="chance (0.5)")
    left.set_xlabel("meta-steps")
    left.set_ylabel("validation accuracy")
    left.set_title("Accuracy on validation pairs (★ kept)")
    right.set_xlabel("meta-steps")
    right.set_ylabel("training loss")
    right.set_yscale("log")
    right.set_title("Meta-training loss")
    outside_legend(figure, axes=[right, left], ncol=2)
    return figure
