"""Paper scale: the three embeddings in deeper networks on scikit-learn's digits, with the Hessian's extreme
eigenvalues by Lanczos on Hessian-vector products where the full Hessian does not fit (FYMT19 Sec. 3 embeds width
H0 into H for J-layer networks; per its reviewer, for depth > 3 the inactive-unit and inactive-propagation
embeddings need not give critical points, so here criticality is measured, not assumed). torch, float64.

A network is a list of (W, b) per layer, W of shape (out, in); every hidden layer is followed by the activation, the
last is linear; the loss is (1/2n) sum_i |f(x_i) - y_i|^2 on one-hot targets.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import torch
from scipy.sparse.linalg import ArpackNoConvergence, LinearOperator, eigsh

from dltheory.digits import bundled_digits
from dltheory.seeds import derive_seed

DTYPE = torch.float64
PHI = {"tanh": torch.tanh, "relu": torch.relu}


def digits_data(samples: int, device) -> tuple[torch.Tensor, torch.Tensor]:
    """The first ``samples`` of scikit-learn's digits (offline), pixels scaled to [0, 1], one-hot targets."""
    pixels, labels = bundled_digits()
    X = torch.tensor(pixels[:samples] / 16.0, dtype=DTYPE, device=device)
    Y = torch.nn.functional.one_hot(torch.tensor(labels[:samples]), 10).to(DTYPE).to(device)
    return X, Y


def init_network(sizes, generator: torch.Generator, device) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Weights N(0, 1/fan_in), biases 0."""
    return [(torch.randn(n_out, n_in, generator=generator, dtype=DTYPE).to(device) / math.sqrt(n_in),
             torch.zeros(n_out, dtype=DTYPE, device=device)) for n_in, n_out in zip(sizes[:-1], sizes[1:],
                                                                                   strict=True)]


def flatten(params) -> torch.Tensor:
    return torch.cat([t.reshape(-1) for layer in params for t in layer])


def shapes_of(params) -> list[tuple[tuple[int, ...], tuple[int, ...]]]:
    return [(tuple(W.shape), tuple(b.shape)) for W, b in params]


def unflatten(flat: torch.Tensor, shapes) -> list[tuple[torch.Tensor, torch.Tensor]]:
    params, at = [], 0
    for w_shape, b_shape in shapes:
        w_size, b_size = math.prod(w_shape), math.prod(b_shape)
        params.append((flat[at: at + w_size].reshape(w_shape), flat[at + w_size: at + w_size + b_size]))
        at += w_size + b_size
    return params


def forward(params, X, act: str) -> torch.Tensor:
    h = X
    for i, (W, b) in enumerate(params):
        h = h @ W.T + b
        if i < len(params) - 1:
            h = PHI[act](h)
    return h


def loss_fn(shapes, X, Y, act: str):
    """E(flat parameters) = (1/2n) sum_i |f(x_i) - y_i|^2."""
    def loss(flat):
        return 0.5 * ((forward(unflatten(flat, shapes), X, act) - Y) ** 2).sum(dim=1).mean()
    return loss


def train(params, X, Y, act: str, iterations: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Full-batch L-BFGS (strong Wolfe), float64."""
    shapes = shapes_of(params)
    flat = flatten(params).clone().requires_grad_(True)
    optimizer = torch.optim.LBFGS([flat], max_iter=iterations, history_size=50, line_search_fn="strong_wolfe",
                                  tolerance_grad=1e-14, tolerance_change=0.0)
    loss = loss_fn(shapes, X, Y, act)

    def closure():
        optimizer.zero_grad()
        value = loss(flat)
        value.backward()
        return value

    optimizer.step(closure)
    return unflatten(flat.detach(), shapes)


def _widen(params, layer: int, row: torch.Tensor, bias: float | torch.Tensor, column: torch.Tensor):
    """Append one unit to hidden layer ``layer``: incoming ``row`` and ``bias``, outgoing ``column``."""
    params = [(W.clone(), b.clone()) for W, b in params]
    W, b = params[layer]
    params[layer] = (torch.cat([W, row[None, :]]), torch.cat([b, torch.as_tensor([bias], dtype=DTYPE,
                                                                                  device=b.device)]))
    W_next, b_next = params[layer + 1]
    params[layer + 1] = (torch.cat([W_next, column[:, None]], dim=1), b_next)
    return params


def replicate(params, layer: int, unit: int, lam: float):
    """Unit replication in hidden layer ``layer``: the copy takes (1 - lam) of the unit's outgoing weights."""
    W, b = params[layer]
    column = params[layer + 1][0][:, unit]
    widened = _widen(params, layer, W[unit], b[unit], (1.0 - lam) * column)
    W_next, b_next = widened[layer + 1]
    W_next[:, unit] = lam * column
    return widened


def inactive_unit(params, layer: int, generator: torch.Generator):
    """A ReLU unit whose pre-activation is below -1 on every input: non-positive incoming weights on non-negative
    inputs (pixels, or ReLU outputs) and bias -1; outgoing weights N(0, 1)."""
    W, _ = params[layer]
    row = -torch.rand(W.shape[1], generator=generator, dtype=DTYPE).to(W.device) / math.sqrt(W.shape[1])
    column = torch.randn(params[layer + 1][0].shape[0], generator=generator, dtype=DTYPE).to(W.device)
    return _widen(params, layer, row, -1.0, column)


def constant_unit(params, layer: int, bias: float):
    W, _ = params[layer]
    return _widen(params, layer, torch.zeros(W.shape[1], dtype=DTYPE, device=W.device), bias,
                  torch.zeros(params[layer + 1][0].shape[0], dtype=DTYPE, device=W.device))


def hessian_extremes(params, X, Y, act: str, count: int, full_max: int) -> tuple[np.ndarray, np.ndarray, str]:
    """The ``count`` smallest and largest Hessian eigenvalues: from the full Hessian when the network has at most
    ``full_max`` parameters, else by Lanczos (scipy eigsh) on Hessian-vector products (forward-over-reverse)."""
    shapes = shapes_of(params)
    flat = flatten(params)
    loss = loss_fn(shapes, X, Y, act)
    P = flat.numel()
    if P <= full_max:
        values = torch.linalg.eigvalsh(torch.func.hessian(loss)(flat)).cpu().numpy()
        return values[:count], values[-count:], "full"
    gradient = torch.func.grad(loss)

    def matvec(v):
        v = torch.as_tensor(np.asarray(v).reshape(-1), dtype=DTYPE, device=flat.device)
        return torch.func.jvp(gradient, (flat,), (v,))[1].cpu().numpy()

    operator = LinearOperator((P, P), matvec=matvec, dtype=np.float64)
    k = min(count, P - 2)
    return np.sort(_lanczos(operator, k, "SA")), np.sort(_lanczos(operator, k, "LA")), "lanczos"


def _lanczos(operator, k: int, which: str) -> np.ndarray:
    """eigsh's ``k`` extreme eigenvalues; where ARPACK stops before all converge (a cluster of exact zeros, as
    ReLU's flat directions make, slows the smallest end), the converged ones (NaN if none)."""
    try:
        return eigsh(operator, k=k, which=which, tol=1e-9, maxiter=50 * operator.shape[0],
                     return_eigenvectors=False)
    except ArpackNoConvergence as error:
        return error.eigenvalues if len(error.eigenvalues) else np.full(1, np.nan)


def run_deep(section, seed: int, device) -> pd.DataFrame:
    """Every (activation, width, seed): the narrow network's loss, gradient and Hessian extremes, then the same
    at each embedding of unit 0 of every hidden layer (replication at each lambda, the constant unit, and for ReLU
    the inactive unit)."""
    from dltheory.embedding.settings import EmbeddingDeep
    from dltheory.settings import from_config

    settings = from_config(EmbeddingDeep, section, "embedding.deep")
    X, Y = digits_data(settings.samples, device)
    rows = []
    for act in settings.activations:
        for width in settings.widths:
            for replicate_seed in range(settings.seeds):
                generator = torch.Generator().manual_seed(derive_seed(seed, "embedding", "deep", act, width,
                                                                      replicate_seed))
                sizes = [X.shape[1], *([width] * settings.hidden_layers), Y.shape[1]]
                narrow = train(init_network(sizes, generator, device), X, Y, act, settings.iterations)
                points = [("narrow", -1, np.nan, np.nan, narrow)]
                for layer in range(settings.hidden_layers):
                    points += [("replication", layer, lam, np.nan, replicate(narrow, layer, 0, lam))
                               for lam in settings.lambdas]
                    points.append(("constant", layer, np.nan, settings.constant_bias,
                                   constant_unit(narrow, layer, settings.constant_bias)))
                    if act == "relu":
                        points.append(("inactive", layer, np.nan, np.nan, inactive_unit(narrow, layer, generator)))
                narrow_loss = None
                for embedding, layer, lam, bias, params in points:
                    shapes = shapes_of(params)
                    loss = loss_fn(shapes, X, Y, act)
                    flat = flatten(params)
                    value = float(loss(flat))
                    narrow_loss = value if narrow_loss is None else narrow_loss
                    grad_norm = float(torch.linalg.vector_norm(torch.func.grad(loss)(flat)))
                    smallest, largest, method = hessian_extremes(params, X, Y, act, settings.lanczos_eigenvalues,
                                                                 settings.full_hessian_max)
                    base = {"part": "deep", "activation": act, "width": width, "seed": replicate_seed,
                            "embedding": embedding, "layer": layer, "lam": lam, "bias": bias, "method": method,
                            "parameters": flat.numel()}
                    metrics = {"loss": value, "loss_change": value - narrow_loss, "grad_norm": grad_norm,
                               "lambda_max": largest[-1], "lambda_min": smallest[0]}
                    rows += [{**base, "metric": name, "value": float(v)} for name, v in metrics.items()]
    return pd.DataFrame(rows)
