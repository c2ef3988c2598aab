"""Batch norm in the last layer against pathological sharpness (Karakida, Akaho & Amari, NeurIPS 2019).

Setting (ours where the paper's is unknown, shared/papers/geometry.md): MLPs with 3 hidden ReLU layers of width M,
sigma_w^2 = 2 (He), standard parametrization, no biases, one output unit, T = 100 standard-normal inputs of
dimension 100. Variants (dltheory.geometry.mlp.MlpSpec.normalization): none; the output minus its mean over the
data set (batch norm's mean subtraction in the last layer, the case the paper analyses); the same mean subtraction
in every hidden layer; layer norm on the last hidden layer.

Measured: the spectrum of the empirical Fisher F = J^T J / T through its dual J J^T / T -- lambda_max and the mean
eigenvalue trace(F) / P over widths -- and full-batch gradient descent on the squared loss (1/2T) sum (f - y)^2 over a
grid of learning rates around 2 / lambda_max, the stability edge the Fisher predicts (it is the loss's Gauss-Newton
matrix). Regression targets are ours: y = <w, x> / sqrt(D) with w standard normal.
"""

from collections.abc import Mapping

import numpy as np
import pandas as pd
import torch
from torch.func import grad, vmap

from dltheory.geometry import DIVERGED_LOSS
from dltheory.geometry.jacobian import fisher_eigenvalues, layer_grams, mse_fisher_gram, ntk
from dltheory.geometry.mlp import MlpSpec, forward, init_params
from dltheory.geometry.settings import BatchnormSettings
from dltheory.seeds import derive_seed
from dltheory.settings import from_config


def network_spec(section: BatchnormSettings | Mapping, width: int, variant: str) -> MlpSpec:
    settings = from_config(BatchnormSettings, section, "batchnorm")
    return MlpSpec(input_dim=settings.input_dim, width=width, hidden_layers=settings.hidden_layers,
                   output_dim=1, activation="relu", sigma_w2=settings.sigma_w2, normalization=variant)


def draw_problem(section: BatchnormSettings | Mapping, width: int, variant: str, replicate: int, seed: int):
    """(spec, params, x, y) of one replicate: the data and initialization depend on (width, replicate) only, so every
    variant is measured on the same networks."""
    settings = from_config(BatchnormSettings, section, "batchnorm")
    generator = torch.Generator().manual_seed(derive_seed(seed, "batchnorm", width, replicate))
    x = torch.randn(settings.samples, settings.input_dim, generator=generator, dtype=torch.float64)
    w = torch.randn(settings.input_dim, 1, generator=generator, dtype=torch.float64)
    y = x @ w / np.sqrt(settings.input_dim)
    spec = network_spec(settings, width, variant)
    return spec, init_params(spec, generator), x, y


def number_of_weights(spec: MlpSpec) -> int:
    return sum(fan_out * fan_in for fan_out, fan_in in spec.layer_shapes)


def fisher_summary(spec: MlpSpec, params: dict, x: torch.Tensor) -> dict:
    """lambda_max, lambda_2 and the mean eigenvalue trace(F) / P of the empirical Fisher F = J^T J / T."""
    dual = mse_fisher_gram(ntk(layer_grams(spec, params, x)), x.shape[0])
    eigenvalues = fisher_eigenvalues(dual)
    return {"lambda_max": float(eigenvalues[0]), "lambda_2": float(eigenvalues[1]),
            "mean_eigenvalue": float(torch.trace(dual)) / number_of_weights(spec)}


def rate_multiples(section: BatchnormSettings | Mapping) -> np.ndarray:
    """The GD grid's multiples c of 2 / lambda_max (gd.rate_multiples, log-spaced)."""
    return from_config(BatchnormSettings, section, "batchnorm").gd.rate_multiples.values()


def gradient_descent_losses(spec: MlpSpec, params: dict, x: torch.Tensor, y: torch.Tensor, rates: np.ndarray,
                            steps: int) -> np.ndarray:
    """Training loss (1/2T) sum (f - y)^2 at every step (0..steps) of full-batch GD from ``params``, for every rate
    at once (one batched model); shape (steps + 1, rates). Divergence shows as a loss above DIVERGED_LOSS or NaN."""

    def loss(p):
        return 0.5 * ((forward(spec, p, x) - y) ** 2).mean()

    stacked = {name: w.expand(len(rates), *w.shape).clone() for name, w in params.items()}
    eta = torch.as_tensor(rates, dtype=x.dtype)
    batched_loss, batched_grad = vmap(loss), vmap(grad(loss))
    losses = [batched_loss(stacked)]
    for _ in range(steps):
        gradients = batched_grad(stacked)
        stacked = {name: w - eta.view(-1, 1, 1) * gradients[name] for name, w in stacked.items()}
        losses.append(batched_loss(stacked))
    return torch.stack(losses).detach().cpu().numpy()


def gd_outcomes(losses: np.ndarray) -> dict:
    """Per rate (column of a (steps + 1, rates) loss array): initial, final and largest later loss, and whether the
    run diverged (a loss not finite or above DIVERGED_LOSS) or was stable (no later loss above the initial one)."""
    initial, later = losses[0], losses[1:]
    finite = np.isfinite(later).all(axis=0)
    largest = np.where(finite, np.nanmax(np.where(np.isfinite(later), later, np.inf), axis=0), np.inf)
    diverged = ~finite | (largest > DIVERGED_LOSS)
    return {"initial_loss": initial, "final_loss": later[-1], "max_loss": largest, "diverged": diverged,
            "stable": ~diverged & (largest <= initial)}


def run_variant(section: BatchnormSettings | Mapping, variant: str, seed: int) -> pd.DataFrame:
    """Every width's Fisher summary (each replicate) and, if the variant is in gd.variants, the GD grid at the
    widths of gd.widths; tidy rows (variant, width, replicate, metric, value, rate_multiple, learning_rate, diverged,
    stable), GD rows with metrics initial_loss, final_loss and max_loss."""
    settings = from_config(BatchnormSettings, section, "batchnorm")
    gd = settings.gd
    rows = []
    for width in settings.widths:
        for replicate in range(settings.replicates):
            spec, params, x, y = draw_problem(settings, width, variant, replicate, seed)
            summary = fisher_summary(spec, params, x)
            rows += [{"width": width, "replicate": replicate, "metric": metric, "value": value}
                     for metric, value in summary.items()]
            if replicate > 0 or variant not in gd.variants or width not in gd.widths:
                continue
            multiples = rate_multiples(settings)
            rates = multiples * 2 / summary["lambda_max"]
            outcomes = gd_outcomes(gradient_descent_losses(spec, params, x, y, rates, gd.steps))
            for column, (multiple, rate) in enumerate(zip(multiples, rates, strict=True)):
                for metric in ("initial_loss", "final_loss", "max_loss"):
                    rows.append({"width": width, "replicate": 0, "metric": metric,
                                 "value": float(outcomes[metric][column]), "rate_multiple": float(multiple),
                                 "learning_rate": float(rate), "diverged": bool(outcomes["diverged"][column]),
                                 "stable": bool(outcomes["stable"][column])})
    table = pd.DataFrame(rows)
    for column, fill in (("rate_multiple", np.nan), ("learning_rate", np.nan), ("diverged", False),
                         ("stable", False)):
        if column not in table:
            table[column] = fill
        table[column] = table[column].fillna(fill)
    table["diverged"] = table["diverged"].astype(bool)
    table["stable"] = table["stable"].astype(bool)
    return table.assign(variant=variant, samples=settings.samples, hidden_layers=settings.hidden_layers,
                        steps=gd.steps)


# --- analysis and claims ---

SOURCE = "Karakida, Akaho & Amari, NeurIPS 2019, arXiv 1906.02926"
VARIANT_LABEL = {"none": "no normalization", "last_batch_norm": "batch norm, last layer (mean subtraction)",
                 "hidden_batch_norm": "batch norm, hidden layers (mean subtraction)",
                 "last_layer_norm": "layer norm, last hidden layer"}


def fisher_table(table: pd.DataFrame) -> pd.DataFrame:
    """Per (variant, width): lambda_max, lambda_2 and the mean eigenvalue, averaged over replicates."""
    fisher = table[table["metric"].isin(["lambda_max", "lambda_2", "mean_eigenvalue"])]
    return fisher.pivot_table(index=["variant", "width"], columns="metric", values="value").reset_index()


def width_slopes(table: pd.DataFrame) -> pd.DataFrame:
    """Per variant: the log–log slopes of lambda_max and of the mean eigenvalue against the width."""
    from dltheory.stats import loglog_slope

    rows = []
    for variant, rows_of in fisher_table(table).groupby("variant", sort=False):
        rows.append({"variant": variant, "lambda_max": loglog_slope(rows_of["width"], rows_of["lambda_max"]),
                     "mean_eigenvalue": loglog_slope(rows_of["width"], rows_of["mean_eigenvalue"])})
    return pd.DataFrame(rows)


def gd_edges(table: pd.DataFrame) -> pd.DataFrame:
    """Per (variant, width) of the GD grid: the largest stable rate multiple c (of 2 / lambda_max) below the first
    unstable one -- NaN when even the smallest rate was unstable -- the absolute rate, and lambda_max."""
    grid = table[table["metric"] == "final_loss"].sort_values("rate_multiple")
    rows = []
    for (variant, width), runs in grid.groupby(["variant", "width"], sort=False):
        unstable = np.flatnonzero(~runs["stable"].to_numpy())
        last_stable = (unstable[0] if len(unstable) else len(runs)) - 1
        multiple = runs["rate_multiple"].iloc[last_stable] if last_stable >= 0 else np.nan
        rate = runs["learning_rate"].iloc[last_stable] if last_stable >= 0 else np.nan
        lambda_max = float(runs["learning_rate"].iloc[0] / runs["rate_multiple"].iloc[0] / 2) ** -1
        rows.append({"variant": variant, "width": width, "edge_multiple": multiple, "edge_rate": rate,
                     "lambda_max": lambda_max, "grid_max": runs["rate_multiple"].max()})
    return pd.DataFrame(rows)


def batchnorm_claims(table: pd.DataFrame, section: BatchnormSettings | Mapping) -> list:
    from dltheory.claims import Claim

    limits = from_config(BatchnormSettings, section, "batchnorm").claims
    tolerance, factor, edge_factor = limits.slope_tolerance, limits.reduction_factor, limits.edge_factor
    slopes = width_slopes(table).set_index("variant")
    fisher = fisher_table(table)
    widest = fisher["width"].max()
    at_widest = fisher[fisher["width"] == widest].set_index("variant")["lambda_max"]
    claims = []
    if "none" in slopes.index:
        slope, mean_slope = slopes.loc["none", "lambda_max"], slopes.loc["none", "mean_eigenvalue"]
        claims += [
            Claim(id="batchnorm.lambda_max_grows_with_width", source=f"{SOURCE}; Karakida et al. AISTATS 2019",
                  statement="Without normalization the largest Fisher eigenvalue grows linearly in the width M.",
                  measured=round(float(slope), 3), expected=f"log–log slope of lambda_max against M in 1 ± {tolerance}",
                  tolerance=tolerance, holds=bool(abs(slope - 1) <= tolerance),
                  detail=_per_width(fisher, "none", "lambda_max")),
            Claim(id="batchnorm.mean_eigenvalue_shrinks_with_width", source=f"{SOURCE}; Karakida et al. AISTATS 2019",
                  statement="Without normalization the mean Fisher eigenvalue falls as 1/M.",
                  measured=round(float(mean_slope), 3),
                  expected=f"log–log slope of trace(F)/P against M in -1 ± {tolerance}", tolerance=tolerance,
                  holds=bool(abs(mean_slope + 1) <= tolerance), detail=_per_width(fisher, "none", "mean_eigenvalue")),
        ]
    if {"none", "last_batch_norm"} <= set(at_widest.index):
        cut = at_widest["none"] / at_widest["last_batch_norm"]
        claims.append(Claim(
            id="batchnorm.last_layer_bn_cuts_lambda_max", source=f"{SOURCE}, abstract: 'drastically decreases'",
            statement="Batch norm (mean subtraction) in the last layer cuts the largest Fisher eigenvalue by a large "
                      "factor.",
            measured=round(float(cut), 2), expected=f"lambda_max(none) / lambda_max(last-layer BN) ≥ {factor} at the "
            f"widest M = {widest}", tolerance=factor, holds=bool(cut >= factor), ours=True,
            detail="; ".join(f"M={w}: {r['none']:.3g} vs {r['last_batch_norm']:.3g}" for w, r in
                             fisher.pivot(index="width", columns="variant", values="lambda_max").iterrows())))
    others = [v for v in ("hidden_batch_norm", "last_layer_norm") if v in slopes.index]
    if others:
        worst = max(abs(slopes.loc[v, "lambda_max"] - 1) for v in others)
        claims.append(Claim(
            id="batchnorm.hidden_bn_and_layer_norm_keep_sharpness", source=f"{SOURCE}, abstract",
            statement="Batch norm in the hidden layers and layer norm do not remove the pathological sharpness: "
                      "lambda_max still grows linearly in M.",
            measured="; ".join(f"{v}: slope {slopes.loc[v, 'lambda_max']:.3f}, lambda_max cut "
                               f"{at_widest['none'] / at_widest[v]:.1f}x at M={widest}" for v in others
                               if "none" in at_widest.index),
            expected=f"log–log slope of lambda_max against M in 1 ± {tolerance} for each", tolerance=tolerance,
            holds=bool(worst <= tolerance), ours=True))
    edges = gd_edges(table)
    if len(edges):
        ratios = edges["edge_multiple"].to_numpy(float)
        holds = bool(np.all(np.isfinite(ratios)) and np.all(ratios <= edge_factor) and np.all(ratios >= 1 / edge_factor)
                     and np.all(edges["edge_multiple"] < edges["grid_max"]))
        claims.append(Claim(
            id="batchnorm.gd_edge_at_two_over_lambda_max", source=f"{SOURCE}; Karakida et al. AISTATS 2019",
            statement="Gradient descent is stable up to a learning rate of about 2 / lambda_max.",
            measured=float(np.nanmax(np.abs(np.log2(ratios)))) if np.isfinite(ratios).any() else "no stable rate",
            expected=f"the largest stable rate of the grid within a factor {edge_factor} of 2 / lambda_max for every "
                     "variant and width (measured: the largest |log2(edge x lambda_max / 2)|)",
            tolerance=edge_factor, holds=holds, ours=True,
            detail="; ".join(f"{r.variant} M={r.width}: edge {r.edge_multiple:.2f} x 2/lambda_max"
                             for r in edges.itertuples())))
    return claims


def _per_width(fisher: pd.DataFrame, variant: str, column: str) -> str:
    rows = fisher[fisher["variant"] == variant]
    return ", ".join(f"M={w}: {v:.3g}" for w, v in zip(rows["width"], rows[column], strict=True))
