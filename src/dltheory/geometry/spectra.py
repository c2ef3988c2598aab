"""Pathological spectra at random initialization, linear vs softmax output (Karakida, Akaho & Amari 2021, "KAA21").

KAA21 (Neural Computation 33(8):2274, arXiv 1910.05992), abstract: in wide random networks "a small number of
eigenvalues become large outliers depending on the width or sample size while the others are much smaller", for the
Fisher information of regression (linear output, squared loss) and of classification (softmax, cross-entropy); "the
softmax output disperses the outliers and makes a tail of the eigenvalue density spread from the bulk"; and the same
holds for a metric of the input space. Reading note of v2 (pages as cited there): regression FIM mean eigenvalue
~ 1/M and lambda_max = O(M) (p. 7); the top eigenspace is spanned by the C mean gradients E[grad f_k] (p. 8).

Per (width, replicate) we draw one network and one set of N standard-normal inputs and compute, from one NTK:
``fim_linear`` (J J^T / N), ``fim_softmax`` (the dual of sum_s J_s^T (diag p - p p^T) J_s / N) and the two input
metrics (all ``input_dim`` eigenvalues). The dual matrices have N*C eigenvalues: the Fisher's whole non-zero spectrum
(the softmax dual also has N exact zeros, one per sample, since diag p - p p^T annihilates the all-ones vector; they
are kept in the table and left out of the histograms). Everything is float64.

Why ReLU by default and not the reading note's tanh: the core has no biases, and an odd activation on zero-mean inputs
makes a *centred* network: the gradients of different samples are uncorrelated (Karakida et al.'s kappa_2 = 0), so
the C mean-gradient outliers vanish. Measured before the claims were written (M = 100 and 400, N = 100, C = 10,
3 hidden layers, one seed): tanh gives lambda_10 / lambda_11 = 1.01 and 1.01, no outliers at all; ReLU
(non-negative, hence non-centred) gives 3.3 and 10. KAA21's own nets had biases (v1 abstract: "random weights and
biases").
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import torch

from dltheory.claims import Claim
from dltheory.geometry.jacobian import (
    fisher_eigenvalues,
    input_metric,
    layer_grams,
    mse_fisher_gram,
    ntk,
    softmax_fisher_gram,
)
from dltheory.geometry.mlp import MlpSpec, forward, init_params
from dltheory.geometry.settings import CRITICAL_SIGMA_W2, SpectraSettings
from dltheory.seeds import derive_seed
from dltheory.settings import from_config
from dltheory.stats import replicate_slopes

__all__ = [
    "CRITICAL_SIGMA_W2",
    "MATRICES",
    "SOURCE_ABSTRACT",
    "SOURCE_NOTE",
    "draw_network",
    "n_parameters",
    "network_spectra",
    "outlier_count",
    "run_spectra",
    "spectra_claims",
    "spectra_summary",
    "top_spread",
]

FAMILY = "spectra"
MATRICES = ("fim_linear", "fim_softmax", "input_linear", "input_softmax")
SOURCE_ABSTRACT = "Karakida, Akaho & Amari, Neural Computation 33(8):2274 (2021), abstract"
SOURCE_NOTE = "Karakida, Akaho & Amari 2021 (arXiv 1910.05992v2, via a reading note)"

TABLE_COLUMNS = ["matrix", "activation", "width", "replicate", "rank", "value", "n_samples", "n_outputs",
                 "input_dim", "hidden_layers", "sigma_w2"]
SUMMARY_COLUMNS = ["matrix", "activation", "width", "replicate", "n_eigenvalues", "n_parameters", "lambda_max",
                   "mean", "top_mean", "outliers", "gap", "spread"]


def _spec(settings: SpectraSettings, width: int) -> MlpSpec:
    return MlpSpec(input_dim=settings.input_dim, width=width, hidden_layers=settings.hidden_layers,
                   output_dim=settings.outputs, activation=settings.activation,
                   sigma_w2=settings.sigma_w2, parametrization="standard")


def draw_network(section: SpectraSettings | Mapping, width: int, replicate: int, seed: int):
    """(spec, params, x) of one (width, replicate): Gaussian weights with variance sigma_w^2 / fan_in, no biases,
    and N standard-normal inputs (N x input_dim), all float64 from one generator seeded by
    ``derive_seed(seed, "spectra", width, replicate)``."""
    settings = from_config(SpectraSettings, section, FAMILY)
    generator = torch.Generator().manual_seed(derive_seed(seed, FAMILY, width, replicate))
    spec = _spec(settings, width)
    x = torch.randn(settings.samples, settings.input_dim, generator=generator, dtype=torch.float64)
    params = init_params(spec, generator, dtype=torch.float64)
    return spec, params, x


def network_spectra(spec: MlpSpec, params: dict, x: torch.Tensor) -> dict[str, np.ndarray]:
    """The four spectra of one network on one input set, each largest first: the Fisher's non-zero spectrum (dual,
    N*C values) with linear output and with softmax, and the input metric's (input_dim values) for both outputs."""
    n_samples = x.shape[0]
    kernel = ntk(layer_grams(spec, params, x))
    with torch.no_grad():
        probabilities = torch.softmax(forward(spec, params, x), dim=-1)
    duals = {"fim_linear": mse_fisher_gram(kernel, n_samples),
             "fim_softmax": softmax_fisher_gram(kernel, probabilities),
             "input_linear": input_metric(spec, params, x, output="linear"),
             "input_softmax": input_metric(spec, params, x, output="softmax")}
    return {name: fisher_eigenvalues(matrix.detach()).numpy() for name, matrix in duals.items()}


def run_spectra(section: SpectraSettings | Mapping, seed: int) -> pd.DataFrame:
    """Eigenvalues of the four matrices of every (width, replicate), one row each, rank 0 = largest.

    Columns: matrix, activation, width, replicate, rank, value, n_samples, n_outputs, input_dim, hidden_layers,
    sigma_w2 (the resolved value). The sizes are the section's (defaults: :class:`SpectraSettings`).
    """
    settings = from_config(SpectraSettings, section, FAMILY)
    frames = []
    for width in settings.widths:
        for replicate in range(settings.replicates):
            spectra = network_spectra(*draw_network(settings, width, replicate, seed))
            for matrix in MATRICES:
                values = spectra[matrix]
                frames.append(pd.DataFrame({"matrix": matrix, "width": width, "replicate": replicate,
                                            "rank": np.arange(len(values)), "value": values}))
    table = pd.concat(frames, ignore_index=True)
    table["activation"] = settings.activation
    table["n_samples"] = settings.samples
    table["n_outputs"] = settings.outputs
    table["input_dim"] = settings.input_dim
    table["hidden_layers"] = settings.hidden_layers
    table["sigma_w2"] = settings.sigma_w2
    return table[TABLE_COLUMNS]


def n_parameters(width: int, input_dim: int, hidden_layers: int, outputs: int) -> int:
    """P, the number of weights of a bias-free MLP: input_dim*M + (hidden_layers - 1)*M^2 + M*C."""
    spec = MlpSpec(input_dim=input_dim, width=width, hidden_layers=hidden_layers, output_dim=outputs)
    return int(sum(fan_out * fan_in for fan_out, fan_in in spec.layer_shapes))


def outlier_count(values, max_outliers: int) -> tuple[int, float]:
    """(k, lambda_k / lambda_{k+1}): the k <= max_outliers (we use 2C) that maximizes the ratio of consecutive
    eigenvalues among the top max_outliers + 1, i.e. where the spectrum has its widest multiplicative gap.

    A spectrum with C clear outliers has its largest ratio at k = C; a smooth one gives some k with a ratio near 1,
    so the count is only meaningful together with its gap. Eigenvalues at or below lambda_1 * 1e-13 (numerical
    zeros) are raised to that floor, so a rank-r spectrum has its widest gap at k = r.
    """
    values = np.sort(np.asarray(values, dtype=float))[::-1]
    if len(values) < 2:
        raise ValueError(f"an outlier count needs at least 2 eigenvalues, got {len(values)}")
    top = values[:min(max_outliers, len(values) - 1) + 1]
    if not top[0] > 0:
        raise ValueError(f"an outlier count needs a positive largest eigenvalue, got {top[0]}")
    top = np.maximum(top, top[0] * 1e-13)
    ratios = top[:-1] / top[1:]
    k = int(np.argmax(ratios))
    return k + 1, float(ratios[k])


def top_spread(values, count: int) -> float:
    """log10(lambda_1 / lambda_count): how far the top ``count`` eigenvalues are spread (0 when degenerate)."""
    values = np.sort(np.asarray(values, dtype=float))[::-1]
    return float(np.log10(values[0] / values[min(count, len(values)) - 1]))


def spectra_summary(table: pd.DataFrame) -> pd.DataFrame:
    """Per (matrix, activation, width, replicate):

    - ``lambda_max``;
    - ``mean``: the mean eigenvalue of the P x P Fisher, trace / P with P = :func:`n_parameters` (the dual has the
      same trace); for the input metrics the mean over its input_dim eigenvalues;
    - ``top_mean``: the mean of the top C eigenvalues;
    - ``outliers`` and ``gap``: :func:`outlier_count` over the top 2C + 1 eigenvalues (k <= 2C);
    - ``spread``: log10(lambda_1 / lambda_C), :func:`top_spread`.
    """
    rows = []
    keys = ["matrix", "activation", "width", "replicate"]
    for (matrix, activation, width, replicate), group in table.groupby(keys, sort=True):
        values = np.sort(group["value"].to_numpy(float))[::-1]
        first = group.iloc[0]
        outputs = int(first["n_outputs"])
        if matrix.startswith("fim"):
            size = n_parameters(int(width), int(first["input_dim"]), int(first["hidden_layers"]), outputs)
        else:
            size = len(values)
        count, gap = outlier_count(values, 2 * outputs)
        rows.append({"matrix": matrix, "activation": activation, "width": int(width), "replicate": int(replicate),
                     "n_eigenvalues": len(values), "n_parameters": size, "lambda_max": float(values[0]),
                     "mean": float(values.sum() / size), "top_mean": float(values[:outputs].mean()),
                     "outliers": count, "gap": gap, "spread": top_spread(values, outputs)})
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)


def _per_width(rows: pd.DataFrame, column: str, fmt: str = "{:.3g}") -> str:
    return "; ".join(f"M={width}: " + ", ".join(fmt.format(v) for v in group.sort_values("replicate")[column])
                     for width, group in rows.groupby("width"))


def _outlier_claim(summary: pd.DataFrame, matrix: str, low: int, high: int, gap_min: float, **fields) -> Claim:
    rows = summary[summary["matrix"] == matrix]
    if rows.empty:
        return Claim(measured="no runs", tolerance=gap_min, holds=False, ours=True, **fields)
    counted = rows["outliers"].between(low, high)
    worst = float(rows["gap"].min())
    return Claim(measured=worst, tolerance=gap_min, holds=bool(counted.all() and worst >= gap_min), ours=True,
                 detail=f"outlier counts {_per_width(rows, 'outliers', '{:d}')}; "
                        f"gaps lambda_k/lambda_k+1 {_per_width(rows, 'gap', '{:.2f}')}", **fields)


def spectra_claims(table: pd.DataFrame, section: SpectraSettings | Mapping) -> list[Claim]:
    """KAA21's claims on the run table, with the thresholds of the section's ``claims`` (fixed before the runs)."""
    limits = from_config(SpectraSettings, section, FAMILY).claims
    gap_min, tolerance, margin = limits.gap_min, limits.slope_tolerance, limits.spread_margin
    summary = spectra_summary(table)
    outputs = int(table["n_outputs"].iloc[0])
    setting = (f"{table['activation'].iloc[0]} (ours), {int(table['hidden_layers'].iloc[0])} hidden layers, "
               f"N = {int(table['n_samples'].iloc[0])}, C = {outputs}")

    linear = summary[summary["matrix"] == "fim_linear"]
    tops = linear.pivot(index="replicate", columns="width", values="top_mean").dropna()
    slope = replicate_slopes(tops.to_numpy(), tops.columns.to_numpy(float)) if tops.shape[1] >= 2 else np.nan

    spreads = summary[summary["matrix"].isin(["fim_linear", "fim_softmax"])]
    spreads = spreads.pivot_table(index="width", columns="matrix", values="spread", aggfunc="mean")
    difference = (spreads["fim_softmax"] - spreads["fim_linear"]) if spreads.shape[1] == 2 else pd.Series()
    return [
        _outlier_claim(
            summary, "fim_linear", outputs, outputs, gap_min,
            id="spectra.linear_c_outliers",
            source=f"{SOURCE_ABSTRACT}; {SOURCE_NOTE}, p. 8 (top eigenspace = the C mean gradients)",
            statement=f"With linear output the FIM has C = {outputs} eigenvalues separated from the bulk by a wide "
                      f"gap ({setting}).",
            expected=f"outlier count = {outputs} at every width and replicate, and lambda_C / lambda_C+1 ≥ {gap_min} "
                     "(measured: the smallest gap)"),
        Claim(
            id="spectra.linear_outliers_grow_with_width",
            source=f"{SOURCE_NOTE}, p. 7 (lambda_max = O(M))",
            statement="The C outliers of the linear-output FIM grow linearly with the width M.",
            measured=float(slope) if np.isfinite(slope) else "fewer than two widths",
            expected=f"log–log slope of the mean of the top C eigenvalues against M within 1 ± {tolerance}",
            tolerance=tolerance,
            holds=bool(np.isfinite(slope) and abs(slope - 1.0) <= tolerance),
            ours=True,
            detail=f"mean of the top C per replicate: {_per_width(linear, 'top_mean')}"),
        Claim(
            id="spectra.softmax_spreads_outliers",
            source=f"{SOURCE_ABSTRACT}: 'the softmax output disperses the outliers'",
            statement="With softmax output the top eigenvalues spread into a tail instead of C near-equal outliers.",
            measured=float(difference.min()) if len(difference) else "no paired runs",
            expected=f"log10(lambda_1/lambda_C) of the softmax FIM minus the linear FIM's ≥ {margin} at every width "
                     "(replicate means; measured: the smallest difference)",
            tolerance=margin,
            holds=bool(len(difference) and difference.min() >= margin),
            ours=True,
            detail="spreads log10(lambda_1/lambda_C), linear vs softmax: " + "; ".join(
                f"M={w}: {row['fim_linear']:.2f} vs {row['fim_softmax']:.2f}" for w, row in spreads.iterrows())
                   + "; softmax outlier counts (not asserted) " + _per_width(
                summary[summary["matrix"] == "fim_softmax"], "outliers", "{:d}")),
        _outlier_claim(
            summary, "input_linear", 1, outputs, gap_min,
            id="spectra.input_metric_few_outliers",
            source=f"{SOURCE_ABSTRACT}: the input-space metric shows the same pathology",
            statement="The input-space metric (linear output) has a few large outliers, at most C.",
            expected=f"outlier count in [1, {outputs}] at every width and replicate, and gap ≥ {gap_min} "
                     "(measured: the smallest gap)"),
    ]
