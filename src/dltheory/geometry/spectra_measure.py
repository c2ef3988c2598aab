"""The torch part of ``dltheory.geometry.spectra``: the networks, their measurement and training, run by the
measuring jobs. ``dltheory.geometry.spectra`` keeps the theory, tables and claims, which its notebook imports
without torch (~1.3 s per notebook job)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import torch

from dltheory.geometry.jacobian import softmax_fisher_gram
from dltheory.geometry.mlp import activate
from dltheory.geometry.settings import SpectraSettings
from dltheory.geometry.spectra import FAMILY, MATRICES, TABLE_COLUMNS, _rows
from dltheory.seeds import derive_seed
from dltheory.settings import from_config

__all__ = ["draw_network", "mean_gradient_overlap", "network_spectra", "run_spectra"]


def draw_network(section: SpectraSettings | Mapping, activation: str, width: int, input_dim: int, replicate: int,
                 seed: int, part: str = "width"):
    """(weights, biases, x) of one network and input set: weights (fan_out, fan_in) N(0, sigma_w^2 / fan_in),
    biases N(0, sigma_b^2) (None when sigma_b^2 = 0), N standard-normal inputs (N x input_dim), float64, from one
    generator seeded by ``derive_seed(seed, "spectra", part, activation, width, input_dim, replicate)``."""
    settings = from_config(SpectraSettings, section, FAMILY)
    generator = torch.Generator().manual_seed(derive_seed(seed, FAMILY, part, activation, width, input_dim,
                                                          replicate))
    dims = [input_dim] + [width] * settings.hidden_layers + [settings.outputs]
    x = torch.randn(settings.samples, input_dim, generator=generator, dtype=torch.float64)
    sigma_w2 = settings.sigma_w2[activation]
    weights = [torch.randn(fan_out, fan_in, generator=generator, dtype=torch.float64) * np.sqrt(sigma_w2 / fan_in)
               for fan_in, fan_out in zip(dims[:-1], dims[1:], strict=True)]
    biases = None
    if settings.sigma_b2 > 0:
        biases = [torch.randn(fan_out, generator=generator, dtype=torch.float64) * np.sqrt(settings.sigma_b2)
                  for fan_out in dims[1:]]
    return weights, biases, x


def _slope(z: torch.Tensor, activation: str) -> torch.Tensor:
    if activation == "relu":
        return (z > 0).to(z.dtype)
    if activation == "tanh":
        return 1.0 - torch.tanh(z) ** 2
    if activation == "hard_tanh":
        return (z.abs() < 1).to(z.dtype)
    return torch.ones_like(z)


def forward_and_deltas(weights, biases, activation: str, x: torch.Tensor):
    """(outputs (N, C), layer inputs h_{l-1} (N, fan_in) per layer, deltas d f / d u_l (N, C, fan_out) per layer)."""
    inputs, slopes = [], []
    h = x
    for layer, weight in enumerate(weights):
        inputs.append(h)
        u = h @ weight.T + (biases[layer] if biases is not None else 0.0)
        if layer < len(weights) - 1:
            slopes.append(_slope(u, activation))
            h = activate(u, activation)
    n_samples, n_outputs = x.shape[0], weights[-1].shape[0]
    delta = torch.eye(n_outputs, dtype=x.dtype).expand(n_samples, n_outputs, n_outputs)
    deltas = [delta]
    for layer in range(len(weights) - 2, -1, -1):
        delta = (delta @ weights[layer + 1]) * slopes[layer][:, None, :]
        deltas.insert(0, delta)
    return u, inputs, deltas


def network_ntk(inputs, deltas, with_biases: bool) -> torch.Tensor:
    """The empirical NTK J J^T (N*C x N*C, rows (sample, output)): the sum over layers of
    <delta_l(s, k), delta_l(t, j)> (h_{l-1}(s) . h_{l-1}(t) + [biases])."""
    n_samples, n_outputs = deltas[0].shape[:2]
    kernel = torch.zeros(n_samples, n_outputs, n_samples, n_outputs, dtype=deltas[0].dtype)
    for h, delta in zip(inputs, deltas, strict=True):
        rows = delta.reshape(n_samples * n_outputs, -1)
        backward = (rows @ rows.T).reshape(n_samples, n_outputs, n_samples, n_outputs)
        kernel += backward * (h @ h.T + float(with_biases))[:, None, :, None]
    return kernel.reshape(n_samples * n_outputs, n_samples * n_outputs)


def input_metrics(weights, deltas, outputs: torch.Tensor) -> dict[str, torch.Tensor]:
    """The input-space metric sum_s J_x(s)^T Lambda_s J_x(s) / N with J_x(s) = delta_1(s) W_1 (C x D), for a
    linear output (Lambda = I) and softmax (Lambda = diag p - p p^T)."""
    jacobians = deltas[0] @ weights[0]  # (N, C, D)
    n_samples = jacobians.shape[0]
    p = torch.softmax(outputs, dim=-1)
    lam = torch.diag_embed(p) - p[:, :, None] * p[:, None, :]
    return {"input_linear": torch.einsum("sci,scj->ij", jacobians, jacobians) / n_samples,
            "input_softmax": torch.einsum("sci,scd,sdj->ij", jacobians, lam, jacobians) / n_samples}


def _eigenvalues(matrix: torch.Tensor) -> np.ndarray:
    return torch.flip(torch.linalg.eigvalsh(0.5 * (matrix + matrix.T)), dims=(0,)).numpy()


def mean_gradient_overlap(dual: torch.Tensor, n_samples: int, n_outputs: int) -> tuple[np.ndarray, float]:
    """(eigenvalues largest first, overlap) of the linear-output FIM from its dual G = J J^T / N.

    overlap: the mean squared cosine of the principal angles between the FIM's top-C eigenspace and the span of the
    C mean gradients g_k = J^T a_k, a_k = (1_N (x) e_k) / N (1 when they coincide, KAA21 p. 8). With G u_i = lambda_i
    u_i, the unit eigenvector v_i = J^T u_i / sqrt(N lambda_i) has <v_i, g_k> = sqrt(N lambda_i) u_i^T a_k and
    g^T g = N A^T G A, so everything is computed in the dual.
    """
    values, vectors = torch.linalg.eigh(0.5 * (dual + dual.T))
    top_values, top = values[-n_outputs:], vectors[:, -n_outputs:]
    means = torch.kron(torch.ones(n_samples, 1, dtype=dual.dtype), torch.eye(n_outputs, dtype=dual.dtype)) / n_samples
    cosines = torch.sqrt(n_samples * top_values)[:, None] * (top.T @ means)  # (C eigenvectors, C mean gradients)
    gram = n_samples * means.T @ dual @ means
    overlap = torch.trace(cosines @ torch.linalg.solve(gram, cosines.T)) / n_outputs
    return torch.flip(values, dims=(0,)).numpy(), float(overlap)


def network_spectra(weights, biases, activation: str, x: torch.Tensor, fisher: bool = True) -> dict:
    """The spectra of one network on one input set, each largest first: with ``fisher`` the FIM's non-zero spectrum
    with linear output and with softmax (duals, N*C values) and the linear FIM's mean-gradient overlap
    (``overlap``); always the input metric's (input_dim values) for both outputs."""
    outputs, inputs, deltas = forward_and_deltas(weights, biases, activation, x)
    n_samples, n_outputs = outputs.shape
    result = {name: _eigenvalues(matrix) for name, matrix in input_metrics(weights, deltas, outputs).items()}
    if fisher:
        kernel = network_ntk(inputs, deltas, biases is not None)
        result["fim_linear"], result["overlap"] = mean_gradient_overlap(kernel / n_samples, n_samples, n_outputs)
        result["fim_softmax"] = _eigenvalues(softmax_fisher_gram(kernel, torch.softmax(outputs, dim=-1)))
    return result


def run_spectra(section: SpectraSettings | Mapping, seed: int) -> pd.DataFrame:
    """Every spectrum of both sweeps, one row per eigenvalue (quantity "eigenvalue", rank 0 = largest), plus one row
    per width-sweep network with the linear FIM's mean-gradient overlap (quantity "mean_gradient_overlap").

    Columns: part (width | input_dim), matrix, quantity, activation, width, input_dim, replicate, rank, value,
    n_samples, n_outputs, hidden_layers, sigma_w2 (the activation's), sigma_b2.
    """
    settings = from_config(SpectraSettings, section, FAMILY)
    frames = []
    for activation in settings.activations:
        for width in settings.widths:
            dim = settings.input_dim(width)
            for replicate in range(settings.replicates):
                network = draw_network(settings, activation, width, dim, replicate, seed, "width")
                spectra = network_spectra(*network[:2], activation, network[2])
                keys = {"part": "width", "activation": activation, "width": width, "input_dim": dim,
                        "replicate": replicate}
                frames += [_rows(spectra[m], matrix=m, **keys) for m in MATRICES]
                frames.append(pd.DataFrame({**keys, "matrix": "fim_linear", "quantity": "mean_gradient_overlap",
                                            "rank": [-1], "value": [spectra["overlap"]]}))
        width = settings.input_metric.width
        for dim in settings.input_metric.input_dims:
            for replicate in range(settings.replicates):
                network = draw_network(settings, activation, width, dim, replicate, seed, "input_dim")
                spectra = network_spectra(*network[:2], activation, network[2], fisher=False)
                keys = {"part": "input_dim", "activation": activation, "width": width, "input_dim": dim,
                        "replicate": replicate}
                frames += [_rows(spectra[m], matrix=m, **keys) for m in ("input_linear", "input_softmax")]
    table = pd.concat(frames, ignore_index=True)
    table["n_samples"] = settings.samples
    table["n_outputs"] = settings.outputs
    table["hidden_layers"] = settings.hidden_layers
    table["sigma_w2"] = table["activation"].map(settings.sigma_w2)
    table["sigma_b2"] = settings.sigma_b2
    table["width"] = table["width"].astype(int)
    table["input_dim"] = table["input_dim"].astype(int)
    return table[TABLE_COLUMNS]
