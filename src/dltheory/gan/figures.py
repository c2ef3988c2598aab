"""Figures of the GAN stability family (issue 4; the experiment design is ours, Chu, Minami & Fukumizu ICLR 2020).

1. Stability maps: variant × learning rate, colour = fraction of seeds converged; one panel per dataset and
   activation. 2. Trajectories of W1 and the generator step size at one learning rate. 3. Final samples (2-D
   scatter over the modes; digit grids). 4. The conditions table beside each variant's converged fraction.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib import pyplot as plt

from dltheory.gan import conditions, data
from dltheory.plotting import (
    ANNOTATION_SIZE,
    FRACTION_CMAP,
    REFERENCE,
    THEORY,
    method_colour,
    outside_legend,
    subplots,
    unique_handles,
)

__all__ = ["plot_conditions_table", "plot_descent_lemma", "plot_digit_samples", "plot_dirac", "plot_samples_2d",
           "plot_sanity", "plot_stability_maps", "plot_trajectories"]

VARIANT_LABEL = {
    "non_saturating": "non-saturating",
    "wgan_clip": "WGAN (clip)",
    "wgan_gp": "WGAN-GP",
    "sn_hinge": "SN + hinge",
    "sn_wasserstein": "SN + Wasserstein",
    "sn_gp": "SN + GP",
    "mmd_gan": "MMD-GAN",
    "smoothed": "smoothed (ours)",
    "smoothed_lambda_0.01": "smoothed, λ 0.01",
    "smoothed_lambda_0.1": "smoothed, λ 0.1",
    "smoothed_lambda_10": "smoothed, λ 10",
    "r1": "non-saturating + R1",
}
CONDITION_LABEL = {
    "lipschitz_discriminator": "D Lipschitz",
    "smooth_discriminator": "D smooth",
    "smooth_in_distribution": "∇D smooth in μ",
    "smooth_generator": "G smooth",
}


def _modes(dataset: str, mixtures=None) -> tuple[np.ndarray, np.ndarray]:
    """The 2-D target's centres and per-mode stds, from ``dltheory.gan.data`` (torch-free, unlike the targets
    module); ``mixtures``: the user's ``GanMixture``s by name (gan.mixtures)."""
    if mixtures and dataset in mixtures:
        centres, std, _ = data.mixture_modes(mixtures[dataset])
        return centres, np.broadcast_to(std, (len(centres),))
    if dataset == "ring":
        return data.ring_modes(), np.full(len(data.ring_modes()), data.RING_STD)
    if dataset == "grid":
        return data.grid_modes(), np.full(len(data.grid_modes()), data.GRID_STD)
    raise ValueError(f"no 2-D modes for dataset {dataset!r}")


def _label(variant: str) -> str:
    return VARIANT_LABEL.get(variant, variant)


def _ordered(values, order) -> list:
    present = list(dict.fromkeys(values))
    return [v for v in order if v in present] + [v for v in present if v not in order]


def _panels(frame: pd.DataFrame) -> list[tuple[str, str]]:
    """The (optimizer, activation) columns of a figure: gradient descent first."""
    return [(o, a) for o in _ordered(frame["optimizer"], ["sgd", "adam"])
            for a in _ordered(frame["activation"], ["relu", "elu", "softplus"])]


OPTIMIZER_LABEL = {"sgd": "gradient descent", "adam": "Adam"}


def _positive(values) -> bool:
    values = np.asarray(values, float)
    return bool(np.any(np.isfinite(values) & (values > 0)))


def _log_y_where_positive(axes) -> None:
    """A log y axis for a row of axes sharing y, where some drawn line has a finite positive value; otherwise (every
    run diverged, or nothing positive) the row stays linear, so that no log locator meets an empty range."""
    lines = [line for ax in axes for line in ax.get_lines() if line.get_label() != "_threshold"]
    if any(_positive(line.get_ydata()) for line in lines):
        for ax in axes:
            ax.set_yscale("log")


def plot_stability_maps(stability: pd.DataFrame, variants: list[str]):
    """One heatmap per (dataset; optimizer, activation): rows variants, columns the generator's learning rates,
    colour = fraction of seeds converged (learned and stationary). Each cell reads "converged/learned of seeds";
    "×" marks a cell where every seed diverged."""
    datasets = _ordered(stability["dataset"], ["ring", "grid", "digits"])
    panels = _panels(stability)
    # Columns share their rates (one optimizer per column), so only the bottom row carries the rate labels.
    figure, axes = subplots(len(datasets), len(panels), width="wide", squeeze=False, sharey=True, sharex="col",
                            height=min(0.3 * len(variants) * len(datasets) + 0.5 * len(datasets) + 1.2, 12.0))
    image = None
    for row, dataset in enumerate(datasets):
        for col, (optimizer, activation) in enumerate(panels):
            ax = axes[row, col]
            cells = stability[(stability["dataset"] == dataset) & (stability["activation"] == activation)
                              & (stability["optimizer"] == optimizer)]
            rates = sorted(cells["learning_rate"].unique())

            converged, learned, diverged, seeds = (
                cells.pivot(index="variant", columns="learning_rate", values=column).reindex(index=variants,
                                                                                           columns=rates)
                for column in ("converged", "learned", "diverged", "runs"))
            image = ax.imshow(converged.to_numpy(dtype=float), vmin=0, vmax=1, cmap=FRACTION_CMAP, aspect="auto")
            ax.grid(False)  # the style's grid lines would run through the cell centres and their numbers
            for i in range(len(variants)):
                for j in range(len(rates)):
                    value, n = converged.iat[i, j], seeds.iat[i, j]
                    if np.isnan(value):
                        continue
                    if diverged.iat[i, j] == 1:  # drawn as such: hatched, whatever its colour
                        ax.add_patch(plt.Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, hatch="///",
                                                   edgecolor="0.85", lw=0))
                    text = "×" if diverged.iat[i, j] == 1 else (
                        f"{round(value * n):d}/{round(learned.iat[i, j] * n):d} of {int(n)}")
                    ax.text(j, i, text, ha="center", va="center", fontsize=ANNOTATION_SIZE,
                            color="white" if value < 0.5 else "black")
            ax.set_title(f"{dataset}: {OPTIMIZER_LABEL.get(optimizer, optimizer)}, {activation}", fontsize=7.5)
            ax.set_xticks(range(len(rates)), [f"{r:g}" for r in rates], fontsize=6.5)
            ax.set_yticks(range(len(variants)), [_label(v) for v in variants])
            if row == len(datasets) - 1:
                ax.set_xlabel("generator learning rate")
    figure.colorbar(image, ax=axes, shrink=0.7, label="fraction of seeds converged")
    figure.suptitle("Stability maps (our design). Cell: converged / learned of seeds; colour: converged fraction; "
                    "hatched, × = every seed diverged")
    return figure


def plot_sanity(samples: pd.DataFrame, runs: pd.DataFrame, min_high_quality: float, mixtures=None):
    """The sanity baseline's final samples, one panel per seed, over the modes with their 3-std discs, and each
    seed's high-quality fraction and mode coverage (``mixtures``: the user's 2-D targets, gan.mixtures)."""
    seeds = sorted(runs["seed"].unique())
    width = "full" if len(seeds) <= 4 else "wide"
    side = min(2.6, 7.0 / len(seeds) if width == "full" else 10.5 / len(seeds))
    figure, axes = subplots(1, len(seeds), width=width, height=side + 0.9, squeeze=False)
    dataset = samples["dataset"].iloc[0]
    centres, stds = _modes(dataset, mixtures)
    limit = 1.35 * np.abs(centres).max() + 3 * stds.max()
    for ax, seed in zip(axes[0], seeds, strict=True):
        points = samples.loc[samples["seed"] == seed, ["x0", "x1"]].to_numpy()
        points = points[np.isfinite(points).all(axis=1)]
        ax.scatter(*points.T, s=1.0, alpha=0.4, color="tab:blue", rasterized=True)
        for centre, std in zip(centres, stds, strict=True):
            ax.add_patch(plt.Circle(centre, 3 * std, fill=False, color="tab:red", lw=0.6))
        row = runs[runs["seed"] == seed].iloc[0]
        good = row["high_quality"] >= min_high_quality
        if row["diverged"]:
            ax.set_title(f"seed {seed}: diverged", fontsize=7, color="tab:red")
            if not len(points):
                ax.text(0.5, 0.5, "diverged", transform=ax.transAxes, ha="center", va="center", fontsize=8)
        else:
            ax.set_title(f"seed {seed}: HQ {row['high_quality']:.2f}, cover {row['coverage']:.2f}", fontsize=7,
                         color="black" if good else "tab:red")
        ax.set(xlim=(-limit, limit), ylim=(-limit, limit), xticks=[], yticks=[])
        ax.set_aspect("equal")
    figure.suptitle(f"Sanity baseline (WGAN-GP, Gulrajani et al. 2017 recipe) on {dataset}: final samples;\n"
                    f"red circles: 3 std around each mode (HQ = fraction inside; target >= {min_high_quality:g})")
    return figure


def plot_trajectories(metrics: pd.DataFrame, dataset: str, optimizer: str, learning_rate: float,
                      variants: list[str], w1_ratio: float, stationarity_ratio: float):
    """At one (optimizer, rate): W1 over its value at step 0, and the generator gradient norm over its early median,
    against steps; median over seeds per variant, one column per activation; the convergence thresholds drawn."""
    rows = metrics[(metrics["dataset"] == dataset) & (metrics["optimizer"] == optimizer)
                   & np.isclose(metrics["learning_rate"], learning_rate)]
    activations = _ordered(rows["activation"], ["relu", "elu", "softplus"])
    figure, axes = subplots(2, len(activations), width="full" if len(activations) <= 2 else "wide", squeeze=False,
                            sharex=True, sharey="row", height=5.2)
    for col, activation in enumerate(activations):
        for variant in variants:
            runs = rows[(rows["activation"] == activation) & (rows["variant"] == variant)]
            if runs.empty:
                continue
            w1 = runs[runs["metric"] == "wasserstein1"].pivot_table(index="step", columns="seed", values="value")
            grad = runs[runs["metric"] == "generator_grad_norm"].pivot_table(index="step", columns="seed",
                                                                             values="value")
            if 0 in w1.index:
                relative = (w1 / w1.loc[0]).median(axis=1).dropna()
                axes[0, col].plot(relative.index, relative.to_numpy(), marker="o", markersize=2.5, lw=1.3,
                                  color=method_colour(variant), label=_label(variant))
            final = grad.index.max()
            early = grad[(grad.index > 0) & (grad.index <= 0.2 * final)]
            if len(grad) and len(early):
                relative = (grad / early.median()).median(axis=1).dropna()
                axes[1, col].plot(relative.index, relative.to_numpy(), lw=1.1, color=method_colour(variant))
        axes[0, col].axhline(w1_ratio, **REFERENCE, label="_threshold")
        axes[1, col].axhline(stationarity_ratio, **REFERENCE, label="_threshold")
        for ax in axes[:, col]:  # a panel with no finite point: every seed of every variant diverged
            if not any(_positive(line.get_ydata()) for line in ax.get_lines() if line.get_label() != "_threshold"):
                ax.text(0.5, 0.65, "diverged: no finite value", transform=ax.transAxes, ha="center", va="center",
                        fontsize=8)
        axes[0, col].set_title(f"{dataset}, {activation}, {OPTIMIZER_LABEL.get(optimizer, optimizer)} lr "
                               f"{learning_rate:g}")
        axes[1, col].set_xlabel("step")
    axes[0, 0].set_ylabel("W1 / W1 at step 0 (median of seeds)")
    axes[1, 0].set_ylabel("gradient norm / early median")
    for row in axes:
        _log_y_where_positive(row)
    handles = unique_handles(axes[0])
    handles[f"convergence thresholds (W1 {w1_ratio:g}; gradient {stationarity_ratio:g})"] = plt.Line2D(
        [], [], **REFERENCE)
    outside_legend(figure, list(handles.values()), list(handles), ncol=min(4, len(handles)))
    return figure


def plot_samples_2d(samples: pd.DataFrame, optimizer: str, learning_rate: float, seed: int, variants: list[str],
                    mixtures=None):
    """Final samples of one seed at one (optimizer, rate) over the target's modes: rows variants, columns
    (2-D dataset, activation); ``mixtures``: the user's 2-D targets (gan.mixtures)."""
    rows = samples[np.isclose(samples["learning_rate"], learning_rate) & (samples["seed"] == seed)
                   & (samples["optimizer"] == optimizer) & (samples["dataset"] != "digits")]
    columns = [(d, a) for d in _ordered(rows["dataset"], ["ring", "grid"])
               for a in _ordered(rows["activation"], ["relu", "elu", "softplus"])]
    width = "full" if len(columns) <= 4 else "wide"
    cell = min(1.6, ({"full": 7.0, "wide": 10.5}[width] - 0.4) / max(len(columns), 1))
    figure, axes = subplots(len(variants), len(columns), width=width, squeeze=False,
                            height=cell * len(variants) + 0.5)
    for (dataset, activation), col in zip(columns, range(len(columns)), strict=True):
        centres = _modes(dataset, mixtures)[0]
        limit = 1.6 * np.abs(centres).max()
        for row, variant in enumerate(variants):
            ax = axes[row, col]
            run = rows[(rows["dataset"] == dataset) & (rows["activation"] == activation) & (rows["variant"] == variant)]
            points = run[["x0", "x1"]].to_numpy()
            finite = np.isfinite(points).all(axis=1)
            ax.scatter(*points[finite].T, s=1.5, alpha=0.5, color="tab:blue", rasterized=True)
            ax.scatter(*centres.T, s=12, marker="x", color="tab:red", lw=0.8)
            inside = finite & (np.abs(points) <= limit).all(axis=1)
            if not finite.any():
                ax.text(0.5, 0.5, "diverged", transform=ax.transAxes, ha="center", va="center", fontsize=8)
            elif not inside.all():
                ax.text(0.5, 0.04, f"{int((finite & ~inside).sum())} of {len(points)} off the frame",
                        transform=ax.transAxes, ha="center", va="bottom", fontsize=6.5)
            ax.set_xlim(-limit, limit)
            ax.set_ylim(-limit, limit)
            ax.set_xticks([])
            ax.set_yticks([])
            if row == 0:
                ax.set_title(f"{dataset}, {activation}", fontsize=7)
            if col == 0:
                ax.set_ylabel(_label(variant), fontsize=6.5)
    figure.suptitle(f"Final samples, {OPTIMIZER_LABEL.get(optimizer, optimizer)} lr {learning_rate:g}, seed {seed} "
                    "(×: the modes)")
    return figure


def plot_descent_lemma(lemma: pd.DataFrame):
    """Per (variant, activation) under gradient descent: the largest rate at which most seeds converged (filled) and
    at which no seed diverged (open) against 2 / the generator loss's measured smoothness (the descent lemma's
    bound); points on the diagonal meet the bound exactly. Rates off the tested grid cannot be read: the grid is
    drawn as horizontal lines."""
    figure, ax = subplots(width="full", height=4.6)
    markers = {"relu": "o", "elu": "s", "softplus": "D"}
    shown = lemma[np.isfinite(lemma["predicted"]) & (lemma["predicted"] > 0)]
    for variant, rows in shown.groupby("variant", sort=False):
        for row in rows.itertuples():
            marker = markers.get(row.activation, "o")
            label = f"{_label(variant)}, {row.activation}"
            if np.isfinite(row.largest_finite):
                ax.plot(row.predicted, row.largest_finite, marker, mfc="none", color=method_colour(variant), ms=9,
                        label=label)
            if np.isfinite(row.largest_stable):
                ax.plot(row.predicted, row.largest_stable, marker, color=method_colour(variant), ms=5, label=label)
    if len(shown):
        low = min(shown["predicted"].min(), 1e-3)
        high = max(shown["predicted"].max(), 1.0)
        ax.plot([low, high], [low, high], **THEORY, label="largest rate = 2 / smoothness (descent lemma)")
    if len(shown) and _positive(shown["predicted"]):
        ax.set(xscale="log", yscale="log")
    else:  # no smoothness measured (every run diverged): nothing to place, and the panel says so
        ax.text(0.5, 0.5, "no finite smoothness measured (runs diverged)", transform=ax.transAxes, ha="center",
                va="center")
    ax.set(xlabel="2 / measured smoothness of the generator loss in θ", ylabel="largest gradient-descent rate")
    ax.set_title("Descent lemma, gradient descent: open = largest rate where no seed diverged;\nfilled = largest "
                 "rate where >= half the seeds converged")
    outside_legend(figure, ncol=3)
    return figure


def plot_digit_samples(samples: pd.DataFrame, choice: pd.DataFrame, variants: list[str], per_run: int = 16):
    """A 4 × 4 grid of final digits per (variant, activation), from the run named in ``choice`` (columns variant,
    activation, learning_rate, seed)."""
    activations = _ordered(choice["activation"], ["relu", "elu", "softplus"])
    side = int(np.sqrt(per_run))
    width = "full" if len(variants) <= 5 else "wide"
    cell = min(1.5, ({"full": 7.0, "wide": 10.5}[width] - 0.3) / len(variants))
    figure, axes = subplots(len(activations), len(variants), width=width, squeeze=False,
                            height=(cell + 0.35) * len(activations) + 0.4)
    pixel_columns = [f"x{i}" for i in range(64)]
    for row, activation in enumerate(activations):
        for col, variant in enumerate(variants):
            ax = axes[row, col]
            ax.set_xticks([])
            ax.set_yticks([])
            picked = choice[(choice["variant"] == variant) & (choice["activation"] == activation)]
            if picked.empty:
                continue
            lr, seed = picked["learning_rate"].iloc[0], picked["seed"].iloc[0]
            optimizer = picked["optimizer"].iloc[0]
            run = samples[(samples["dataset"] == "digits") & (samples["variant"] == variant)
                          & (samples["activation"] == activation) & np.isclose(samples["learning_rate"], lr)
                          & (samples["optimizer"] == optimizer) & (samples["seed"] == seed)].sort_values("sample")
            images = run[pixel_columns].to_numpy()[: side * side].reshape(-1, 8, 8)
            if len(images) < side * side or not np.isfinite(images).all():
                ax.text(0.5, 0.5, "diverged", transform=ax.transAxes, ha="center", va="center", fontsize=8)
                continue
            # A grey gutter of one pixel around every 8 × 8 digit (grey: neither the white paper nor the black ink),
            # so that the mosaic reads as 16 digits and not as stripes.
            padded = np.full((side * side, 10, 10), np.nan)
            padded[:, 1:9, 1:9] = images
            mosaic = padded.reshape(side, side, 10, 10).transpose(0, 2, 1, 3).reshape(side * 10, side * 10)
            cmap = plt.get_cmap("gray_r").copy()
            cmap.set_bad("#7f93a8")
            ax.imshow(np.ma.masked_invalid(mosaic), cmap=cmap, vmin=-1, vmax=1, aspect="equal",
                      interpolation="nearest")
            ax.set_title(f"{_label(variant)}\n{optimizer} lr {lr:g}", fontsize=6.5)
            if col == 0:
                ax.set_ylabel(activation)
    figure.suptitle("Final digits per variant (the optimizer and rate with the lowest median W1 ratio; seed 0)")
    return figure


def plot_conditions_table(fractions: pd.DataFrame, measured: pd.DataFrame, activations: list[str],
                          variants: list[str]):
    """Which condition each (variant, activation) meets in our reading of the theory (``dltheory.gan.conditions``),
    beside the conditions measured on the trained networks (median over the runs at the 2-D datasets' smallest
    gradient-descent rate: the critic's Lipschitz constant, its curvature, the generator loss's smoothness in θ)
    and the fraction of its runs that converged."""
    table = conditions.conditions_table(tuple(activations)).set_index(["variant", "activation"])
    names = [c.name for c in conditions.CONDITIONS]
    header = ["variant", "activation", *[CONDITION_LABEL[n] for n in names], "all",
              "Lip(D)", "‖∇²ₓD‖", "smooth(L_G)", "converged"]
    gd = measured[measured["optimizer"] == "sgd"]
    if len(gd):
        gd = gd[np.isclose(gd["learning_rate"], gd["learning_rate"].min())]
    cells, colours = [], []
    for variant in variants:
        for activation in activations:
            row = table.loc[(variant, activation)]
            fraction = fractions["converged"].get((variant, activation), np.nan)
            numbers = gd[(gd["variant"] == variant) & (gd["activation"] == activation)]
            shown = [f"{numbers[c].median():.3g}" if len(numbers) and np.isfinite(numbers[c].median()) else "–"
                     for c in ("critic_lipschitz", "critic_smoothness", "generator_smoothness")]
            marks = ["✓" if row[n] else "✗" for n in names] + ["✓" if row["meets_all"] else "✗"]
            cells.append([_label(variant), activation, *marks, *shown,
                          "–" if np.isnan(fraction) else f"{fraction:.0%}"])
            colours.append(["white", "white", *["#d9f0d3" if m == "✓" else "#fde0dd" for m in marks],
                            "white", "white", "white",
                            "white" if np.isnan(fraction) else plt.get_cmap(FRACTION_CMAP)(fraction, 0.45)])
    figure, ax = subplots(width="wide", height=0.24 * len(cells) + 1.0)
    ax.axis("off")
    # Column widths in axes fractions: the variant names take twice a mark's width; the table leaves a margin.
    widths = np.array([2.2, 1.1, *[1.0] * (len(header) - 2)])
    shown = ax.table(cellText=cells, colLabels=header, cellColours=colours, loc="center", cellLoc="center",
                     colWidths=list(0.98 * widths / widths.sum()))
    shown.auto_set_font_size(False)
    shown.set_fontsize(7)
    shown.scale(1.0, 1.25)
    ax.set_title("Conditions: our reading of the theory (✓/✗) beside the measured numbers (median, smallest "
                 "gradient-descent rate) and the converged fraction (tinted: the fraction map)")
    return figure


def digit_sample_choice(runs: pd.DataFrame) -> pd.DataFrame:
    """Per (variant, activation) on digits: the (optimizer, rate) with the lowest median late W1 ratio, and its
    seed 0."""
    digits = runs[runs["dataset"] == "digits"]
    keys = ["variant", "activation", "optimizer", "learning_rate"]
    medians = digits.groupby(keys)["w1_ratio"].median().reset_index()
    best = medians.sort_values("w1_ratio").groupby(["variant", "activation"]).head(1)
    return best.assign(seed=int(digits["seed"].min()) if len(digits) else 0)



def plot_dirac(table: pd.DataFrame, paths: dict[str, np.ndarray], rate: float):
    """The Dirac-GAN (Mescheder et al. 2018): left, trajectories in the (θ, ψ) plane at one rate (alternating updates,
    one critic step) from the same start, equilibrium at the origin; right, the spectral radius of the update at the
    equilibrium against the rate, simultaneous (solid) and alternating (dashed), for the variants whose field is
    differentiable there. ρ < 1: locally convergent; ρ = 1: circling; ρ > 1: repelled."""
    figure, (left, right) = subplots(1, 2, width="full", height=3.9)
    for variant, points in paths.items():
        shown = points[np.abs(points).max(axis=1) < 4]  # a trajectory that runs off is drawn up to the frame
        left.plot(shown[:, 0], shown[:, 1], lw=1.1, color=method_colour(variant), label=_label(variant))
        left.plot(shown[-1, 0], shown[-1, 1], "o", ms=3.5, color=method_colour(variant))
    left.plot(points[0, 0], points[0, 1], "k^", ms=7, label="start")
    left.plot(0, 0, "k*", ms=10, label="equilibrium")
    left.set(xlim=(-3, 3), ylim=(-3, 3), xlabel="generator θ", ylabel="critic ψ",
             title=f"trajectories, alternating updates, rate {rate:g}")
    left.set_aspect("equal")
    smooth = table[table["spectral_radius"].notna() & (table["critic_steps"] == 1)]
    for variant, rows in smooth.groupby("variant", sort=False):
        for mode, style in (("simultaneous", "-"), ("alternating", "--")):
            part = rows[rows["mode"] == mode].sort_values("rate")
            right.plot(part["rate"], part["spectral_radius"] - 1.0, style, marker="o", ms=3,
                       color=method_colour(variant), label=_label(variant))
    right.axhline(0.0, **REFERENCE)
    right.set_yscale("symlog", linthresh=1e-6)
    right.set(xscale="log", xlabel="learning rate h", ylabel="ρ − 1 (symmetric log scale)",
              title="spectral radius ρ of the update at the equilibrium")
    right.text(0.02, 0.03, "below 0: converges", transform=right.transAxes, ha="left", fontsize=7)
    right.text(0.02, 0.97, "above 0: repelled; 0: circles", transform=right.transAxes, ha="left", va="top",
               fontsize=7)
    handles = unique_handles([left, right])
    handles["right: solid simultaneous, dashed alternating"] = plt.Line2D([], [], color="0.3", ls="--", marker="o",
                                                                           ms=3)
    outside_legend(figure, list(handles.values()), list(handles), ncol=4)
    return figure
