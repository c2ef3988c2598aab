"""Figures of the GAN stability family (issue 4; the experiment design is ours, Chu, Minami & Fukumizu ICLR 2020).

1. Stability maps: variant × learning rate, colour = fraction of seeds converged; one panel per dataset and
   activation. 2. Trajectories of W1 and the generator step size at one learning rate. 3. Final samples (2-D
   scatter over the modes; digit grids). 4. The conditions table beside each variant's converged fraction.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib import pyplot as plt

from dltheory.gan import conditions
from dltheory.gan.targets import make_target

__all__ = ["plot_conditions_table", "plot_digit_samples", "plot_dirac", "plot_samples_2d", "plot_stability_maps",
           "plot_trajectories"]

VARIANT_LABEL = {
    "non_saturating": "non-saturating",
    "wgan_clip": "WGAN (clip)",
    "wgan_gp": "WGAN-GP",
    "sn_hinge": "SN + hinge",
    "sn_wasserstein": "SN + Wasserstein",
    "sn_gp": "SN + GP",
    "mmd_gan": "MMD-GAN",
    "smoothed": "smoothed (ours)",
    "r1": "non-saturating + R1",
}
CONDITION_LABEL = {
    "lipschitz_discriminator": "D Lipschitz",
    "smooth_discriminator": "D smooth",
    "smooth_in_distribution": "∇D smooth in μ",
    "smooth_generator": "G smooth",
}


def _label(variant: str) -> str:
    return VARIANT_LABEL.get(variant, variant)


def _ordered(values, order) -> list:
    present = list(dict.fromkeys(values))
    return [v for v in order if v in present] + [v for v in present if v not in order]


def plot_stability_maps(stability: pd.DataFrame, variants: list[str]):
    """One heatmap per (dataset, activation): rows variants, columns learning rates, colour = converged fraction.

    A cell where every seed diverged is marked "×"; the number is the converged fraction.
    """
    datasets = _ordered(stability["dataset"], ["ring", "grid", "digits"])
    activations = _ordered(stability["activation"], ["relu", "elu", "softplus"])
    rates = sorted(stability["learning_rate"].unique())
    figure, axes = plt.subplots(len(datasets), len(activations), squeeze=False, sharex=True, sharey=True,
                                figsize=(3.3 * len(activations) + 1.2, 0.32 * len(variants) * len(datasets) + 1.4))
    image = None
    for row, dataset in enumerate(datasets):
        for col, activation in enumerate(activations):
            ax = axes[row, col]
            cells = stability[(stability["dataset"] == dataset) & (stability["activation"] == activation)]
            grid = cells.pivot(index="variant", columns="learning_rate", values="converged").reindex(
                index=variants, columns=rates)
            diverged = cells.pivot(index="variant", columns="learning_rate", values="diverged").reindex(
                index=variants, columns=rates)
            image = ax.imshow(grid.to_numpy(dtype=float), vmin=0, vmax=1, cmap="viridis", aspect="auto")
            ax.grid(False)  # the style's grid lines would run through the cell centres and their numbers
            for i in range(len(variants)):
                for j in range(len(rates)):
                    value, gone = grid.iat[i, j], diverged.iat[i, j]
                    text = "×" if gone == 1 else ("" if np.isnan(value) else f"{value:.2f}".rstrip("0").rstrip("."))
                    ax.text(j, i, text, ha="center", va="center", fontsize=7,
                            color="white" if (np.isnan(value) or value < 0.5) else "black")
            ax.set_title(f"{dataset}, {activation}", fontsize=9)
            ax.set_xticks(range(len(rates)), [f"{r:g}" for r in rates], fontsize=7, rotation=45)
            ax.set_yticks(range(len(variants)), [_label(v) for v in variants], fontsize=7)
            if row == len(datasets) - 1:
                ax.set_xlabel("generator learning rate (gradient descent)", fontsize=8)
    figure.colorbar(image, ax=axes, shrink=0.6, label="fraction of seeds converged")
    figure.suptitle("Stability maps (our design): fraction converged; × = every seed diverged", fontsize=10)
    return figure


def plot_trajectories(metrics: pd.DataFrame, dataset: str, learning_rate: float, variants: list[str]):
    """W1 to the data and the generator step size over steps at one learning rate: median over seeds per variant,
    one column per activation. Lines end where a run diverged (its later values are NaN)."""
    rows = metrics[(metrics["dataset"] == dataset) & np.isclose(metrics["learning_rate"], learning_rate)]
    activations = _ordered(rows["activation"], ["relu", "elu", "softplus"])
    figure, axes = plt.subplots(2, len(activations), squeeze=False, sharex=True, sharey="row",
                                figsize=(4.6 * len(activations), 6.4))
    colours = plt.get_cmap("tab10")
    for col, activation in enumerate(activations):
        for k, variant in enumerate(variants):
            runs = rows[(rows["activation"] == activation) & (rows["variant"] == variant)]
            for row, metric in enumerate(("wasserstein1", "generator_step_size")):
                values = runs[runs["metric"] == metric].groupby("step")["value"].median().dropna()
                values = values[values > 0]
                axes[row, col].plot(values.index, values.to_numpy(), marker="o", markersize=2.5, lw=1.3,
                                    color=colours(k), label=_label(variant))
        axes[0, col].set_title(f"{dataset}, {activation}, lr {learning_rate:g}", fontsize=9)
        axes[1, col].set_xlabel("step")
    axes[0, 0].set_ylabel("W1 to the data (exact, median of seeds)")
    axes[1, 0].set_ylabel("generator step size ‖θₜ₊₁ − θₜ‖")
    for ax in axes.ravel():
        ax.set_yscale("log")
    axes[0, -1].legend(fontsize=7, loc="best")
    figure.tight_layout()
    return figure


def plot_samples_2d(samples: pd.DataFrame, learning_rate: float, seed: int, variants: list[str]):
    """Final samples of one seed at one learning rate over the target's modes: rows variants, columns
    (dataset, activation)."""
    rows = samples[np.isclose(samples["learning_rate"], learning_rate) & (samples["seed"] == seed)
                   & samples["dataset"].isin(["ring", "grid"])]
    columns = [(d, a) for d in _ordered(rows["dataset"], ["ring", "grid"])
               for a in _ordered(rows["activation"], ["relu", "elu", "softplus"])]
    figure, axes = plt.subplots(len(variants), len(columns), squeeze=False,
                                figsize=(1.9 * len(columns), 1.9 * len(variants)))
    for (dataset, activation), col in zip(columns, range(len(columns)), strict=True):
        centres = make_target(dataset).centres
        limit = 1.6 * np.abs(centres).max()
        for row, variant in enumerate(variants):
            ax = axes[row, col]
            run = rows[(rows["dataset"] == dataset) & (rows["activation"] == activation) & (rows["variant"] == variant)]
            points = run[["x0", "x1"]].to_numpy()
            finite = np.isfinite(points).all(axis=1)
            ax.scatter(*points[finite].T, s=1.5, alpha=0.5, color="tab:blue", rasterized=True)
            ax.scatter(*centres.T, s=12, marker="x", color="tab:red", lw=0.8)
            if not finite.any():
                ax.text(0.5, 0.5, "diverged", transform=ax.transAxes, ha="center", va="center", fontsize=8)
            ax.set_xlim(-limit, limit)
            ax.set_ylim(-limit, limit)
            ax.set_xticks([])
            ax.set_yticks([])
            if row == 0:
                ax.set_title(f"{dataset}, {activation}", fontsize=8)
            if col == 0:
                ax.set_ylabel(_label(variant), fontsize=7)
    figure.suptitle(f"Final samples, lr {learning_rate:g}, seed {seed} (×: the modes)", fontsize=9)
    figure.tight_layout()
    return figure


def plot_digit_samples(samples: pd.DataFrame, choice: pd.DataFrame, variants: list[str], per_run: int = 16):
    """A 4 × 4 grid of final digits per (variant, activation), from the run named in ``choice`` (columns variant,
    activation, learning_rate, seed)."""
    activations = _ordered(choice["activation"], ["relu", "elu", "softplus"])
    side = int(np.sqrt(per_run))
    figure, axes = plt.subplots(len(activations), len(variants), squeeze=False,
                                figsize=(1.6 * len(variants), 2.1 * len(activations) + 0.4))
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
            run = samples[(samples["dataset"] == "digits") & (samples["variant"] == variant)
                          & (samples["activation"] == activation) & np.isclose(samples["learning_rate"], lr)
                          & (samples["seed"] == seed)].sort_values("sample")
            images = run[pixel_columns].to_numpy()[: side * side].reshape(-1, 8, 8)
            if len(images) < side * side or not np.isfinite(images).all():
                ax.text(0.5, 0.5, "diverged", transform=ax.transAxes, ha="center", va="center", fontsize=8)
                continue
            mosaic = images.reshape(side, side, 8, 8).transpose(0, 2, 1, 3).reshape(side * 8, side * 8)
            ax.imshow(mosaic, cmap="gray_r", vmin=-1, vmax=1, aspect="equal", interpolation="nearest")
            ax.set_title(f"{_label(variant)}\nlr {lr:g}", fontsize=6.5)
            if col == 0:
                ax.set_ylabel(activation, fontsize=8)
    figure.suptitle("Final digits per variant (the learning rate with the lowest median final W1; seed shown)",
                    fontsize=9)
    figure.tight_layout()
    return figure


def plot_conditions_table(fractions: pd.DataFrame, activations: list[str], variants: list[str]):
    """Which condition each (variant, activation) meets (our reading, ``dltheory.gan.conditions``), beside the
    fraction of its runs that converged (every dataset and learning rate)."""
    table = conditions.conditions_table(tuple(activations)).set_index(["variant", "activation"])
    names = [c.name for c in conditions.CONDITIONS]
    header = ["variant", "activation", *[CONDITION_LABEL[n] for n in names], "all", "converged"]
    cells, colours = [], []
    for variant in variants:
        for activation in activations:
            row = table.loc[(variant, activation)]
            fraction = fractions["converged"].get((variant, activation), np.nan)
            marks = ["✓" if row[n] else "✗" for n in names] + ["✓" if row["meets_all"] else "✗"]
            cells.append([_label(variant), activation, *marks, "–" if np.isnan(fraction) else f"{fraction:.0%}"])
            colours.append(["white", "white", *["#d9f0d3" if m == "✓" else "#fde0dd" for m in marks],
                            plt.get_cmap("viridis")(0.25 + 0.5 * (0 if np.isnan(fraction) else fraction), 0.35)])
    figure, ax = plt.subplots(figsize=(10.5, 0.28 * len(cells) + 1.0))
    ax.axis("off")
    shown = ax.table(cellText=cells, colLabels=header, cellColours=colours, loc="center", cellLoc="center")
    shown.auto_set_font_size(False)
    shown.set_fontsize(7.5)
    shown.scale(1.0, 1.25)
    ax.set_title("Conditions met (our reading of the paper's conditions) and converged fraction", fontsize=10)
    figure.tight_layout()
    return figure


def digit_sample_choice(runs: pd.DataFrame) -> pd.DataFrame:
    """Per (variant, activation) on digits: the learning rate with the lowest median final W1, and its seed 0."""
    digits = runs[runs["dataset"] == "digits"]
    medians = digits.groupby(["variant", "activation", "learning_rate"])["max_wasserstein1"].median().reset_index()
    best = medians.sort_values("max_wasserstein1").groupby(["variant", "activation"]).head(1)
    return best.assign(seed=int(digits["seed"].min()) if len(digits) else 0)



def plot_dirac(table: pd.DataFrame, paths: dict[str, np.ndarray], rate: float):
    """The Dirac-GAN (Mescheder et al. 2018): left, trajectories in the (θ, ψ) plane at one rate (alternating updates,
    one critic step) from the same start, equilibrium at the origin; right, the spectral radius of the update at the
    equilibrium against the rate, simultaneous (solid) and alternating (dashed), for the variants whose field is
    differentiable there. ρ < 1: locally convergent; ρ = 1: circling; ρ > 1: repelled."""
    figure, (left, right) = plt.subplots(1, 2, figsize=(14, 5.0))
    colours = plt.get_cmap("tab10")
    order = list(paths)
    for k, (variant, points) in enumerate(paths.items()):
        shown = points[np.abs(points).max(axis=1) < 4]  # a trajectory that runs off is drawn up to the frame
        left.plot(shown[:, 0], shown[:, 1], lw=1.1, color=colours(k % 10), label=_label(variant))
        left.plot(shown[-1, 0], shown[-1, 1], "o", ms=3.5, color=colours(k % 10))
    left.plot(points[0, 0], points[0, 1], "k^", ms=7, label="start")
    left.plot(0, 0, "k*", ms=10, label="equilibrium")
    left.set(xlim=(-3, 3), ylim=(-3, 3), xlabel="generator θ", ylabel="critic ψ",
             title=f"trajectories, alternating updates, rate {rate:g}")
    left.set_aspect("equal")
    left.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.02, 0.5))
    smooth = table[table["spectral_radius"].notna() & (table["critic_steps"] == 1)]
    for variant, rows in smooth.groupby("variant", sort=False):
        colour = colours(order.index(variant) % 10) if variant in order else "grey"
        for mode, style in (("simultaneous", "-"), ("alternating", "--")):
            part = rows[rows["mode"] == mode].sort_values("rate")
            right.plot(part["rate"], part["spectral_radius"] - 1.0, style, marker="o", ms=3, color=colour,
                       label=f"{_label(variant)}, {mode}")
    right.axhline(0.0, color="k", lw=0.8)
    right.set_yscale("symlog", linthresh=1e-6)
    right.set(xscale="log", xlabel="learning rate h", ylabel="ρ − 1 (symmetric log scale)",
              title="spectral radius ρ of the update at the equilibrium")
    right.text(0.02, 0.03, "below 0: converges", transform=right.transAxes, ha="left", fontsize=8)
    right.text(0.02, 0.97, "above 0: repelled; 0: circles", transform=right.transAxes, ha="left", va="top",
               fontsize=8)
    right.legend(fontsize=6.5, loc="center left", bbox_to_anchor=(1.02, 0.5))
    figure.tight_layout()
    return figure
