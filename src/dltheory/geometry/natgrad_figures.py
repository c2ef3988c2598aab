"""Figure of the natural-gradient family: train and test loss against step for every method."""

import matplotlib.pyplot as plt
import pandas as pd

from dltheory.geometry.natgrad import METHOD_LABEL, PREDICTION, loss_curves

METHOD_COLOUR = {"gd": "#7f7f7f", "exact": "#000000", "block_diagonal": "#1f77b4", "block_tridiagonal": "#2ca02c",
                 "kfac": "#d62728", "unit_wise": "#9467bd", PREDICTION: "#ff7f0e"}
METHOD_STYLE = {"gd": "-", PREDICTION: "--"}  # markers for the NGD runs, whose few steps are the points


def plot_loss_vs_step(table: pd.DataFrame):
    """Train (left) and test (right) loss against step + 1 (log–log, so step 0 shows), GD at its best stable rate;
    the legend gives each method's learning rate. The NTK-limit prediction is dashed (its train loss after the
    first step is zero to rounding, below the axis)."""
    curves = loss_curves(table)
    figure, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
    for ax, split in zip(axes, ("train", "test"), strict=True):
        for method, rows in curves[curves["split"] == split].groupby("method", sort=False):
            rows = rows.sort_values("step")
            rate = rows["learning_rate"].iloc[0]
            ax.plot(rows["step"] + 1, rows["value"], METHOD_STYLE.get(method, "o-"), ms=4,
                    color=METHOD_COLOUR.get(method), label=f"{METHOD_LABEL.get(method, method)} (η = {rate:.3g})")
        ax.set(xscale="log", yscale="log", xlabel="step + 1", title=f"{split} loss")
    axes[0].set_ylabel("loss (1/2N) Σ (f − y)²")
    axes[0].legend(fontsize=7)
    figure.tight_layout()
    return figure
