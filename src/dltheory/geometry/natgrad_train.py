"""The torch part of ``dltheory.geometry.natgrad``: the networks, their measurement and training, run by the
measuring jobs. ``dltheory.geometry.natgrad`` keeps the theory, tables and claims, which its notebook imports
without torch (~1.3 s per notebook job)."""

import dataclasses
from collections.abc import Mapping

import numpy as np
import pandas as pd
import torch

from dltheory.digits import bundled_digits
from dltheory.geometry import DIVERGED_LOSS
from dltheory.geometry.jacobian import layer_inputs, per_sample_deltas
from dltheory.geometry.mlp import MlpSpec, forward, init_params
from dltheory.geometry.natgrad import (
    KFAC_PAPER,
    PREDICTION,
    forster_transform,
    network_spec,
    paper_learning_rate,
    tridiagonal_coefficients,
    unit_rows,
)
from dltheory.geometry.settings import METHODS, NatgradSettings
from dltheory.seeds import derive_seed
from dltheory.settings import from_config


def digits_two_classes(classes, train_size: int, test_size: int, seed: int, input_transform: str = "none"):
    """Train and test sets of two digits classes: x scaled to unit norm, y = -0.5 / +0.5, drawn without replacement
    (seeded); tensors in float64. ``input_transform="forster"``: the training inputs' Forster transform
    (:func:`forster_transform`) maps both sets, rows scaled to unit norm again."""
    pixels, targets = bundled_digits()
    keep = np.isin(targets, classes)
    x, labels = pixels[keep], targets[keep]
    if train_size + test_size > len(x):
        raise ValueError(f"natgrad: train_size + test_size = {train_size + test_size} exceeds the {len(x)} digits "
                         f"of classes {list(classes)}")
    order = np.random.default_rng(seed).permutation(len(x))
    x = x[order] / np.linalg.norm(x[order], axis=1, keepdims=True)
    y = np.where(labels[order] == classes[1], 0.5, -0.5)
    as_tensor = lambda a: torch.as_tensor(a, dtype=torch.float64)  # noqa: E731
    n = train_size
    x_train, x_test = x[:n], x[n:n + test_size]
    if input_transform == "forster":
        transform, _ = forster_transform(x_train)
        x_train, x_test = unit_rows(x_train @ transform), unit_rows(x_test @ transform)
    elif input_transform != "none":
        raise ValueError(f"natgrad: unknown input_transform {input_transform!r}; known: none, forster")
    return as_tensor(x_train), as_tensor(y[:n, None]), as_tensor(x_test), as_tensor(y[n:n + test_size, None])


def _pinv(matrix: torch.Tensor, rtol: float) -> torch.Tensor:
    return torch.linalg.pinv(matrix, rtol=rtol, hermitian=True)


def _transpose_jacobian(delta: torch.Tensor, layer_input: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """J_l^T v as a weight-shaped matrix: sum_n v_n delta_n h_n^T."""
    return delta.T @ (v[:, None] * layer_input)


def update_direction(method: str, spec: MlpSpec, params: dict, x: torch.Tensor, y: torch.Tensor,
                     pinv_rtol: float = NatgradSettings.pinv_rtol) -> dict:
    """The step direction dW_l of ``method`` (one of METHODS) at ``params``; the update is W_l -= eta * dW_l."""
    n = x.shape[0]
    if method == "gd":  # J^T r / N is the gradient of the loss: one backward pass, no per-sample factors
        leaves = {name: params[name].detach().requires_grad_(True) for name in spec.names}
        loss = 0.5 * ((forward(spec, leaves, x) - y) ** 2).sum() / n
        gradients = torch.autograd.grad(loss, [leaves[name] for name in spec.names])
        return dict(zip(spec.names, gradients, strict=True))
    with torch.no_grad():
        residual = (forward(spec, params, x) - y)[:, 0]
    inputs = layer_inputs(spec, params, x)
    deltas = [d[:, 0, :] for d in per_sample_deltas(spec, params, x)]  # one output: (N, fan_out)
    input_grams = [h @ h.T for h in inputs]
    grams = [(d @ d.T) * k for d, k in zip(deltas, input_grams, strict=True)]
    if method == "exact":
        duals = [_pinv(sum(grams), pinv_rtol) @ residual] * len(grams)
    elif method == "block_diagonal":
        duals = [_pinv(g, pinv_rtol) @ residual for g in grams]
    elif method == "block_tridiagonal":
        coefficients = tridiagonal_coefficients(len(grams))
        duals = [float(c) * (_pinv(g, pinv_rtol) @ residual) for c, g in zip(coefficients, grams, strict=True)]
    elif method in ("kfac", KFAC_PAPER):
        output_scale = {spec.names[-1]: n if method == KFAC_PAPER else 1}
        return {name: output_scale.get(name, 1) * n * d.T @ _pinv(d @ d.T, pinv_rtol)
                @ (residual[:, None] * _pinv(k, pinv_rtol)) @ h
                for name, d, h, k in zip(spec.names, deltas, inputs, input_grams, strict=True)}
    elif method == "unit_wise":
        directions = {}
        for name, d, h, k in zip(spec.names, deltas, inputs, input_grams, strict=True):
            unit_grams = d.T[:, :, None] * d.T[:, None, :] * k  # (fan_out, N, N)
            unit_duals = _pinv(unit_grams, pinv_rtol) @ residual  # (fan_out, N)
            directions[name] = (unit_duals * d.T) @ h
        return directions
    else:
        raise ValueError(f"natgrad: unknown method {method!r}; known: {list(METHODS)}")
    return {name: _transpose_jacobian(d, h, v) for name, d, h, v in zip(spec.names, deltas, inputs, duals,
                                                                          strict=True)}


def relu_ntk(x: torch.Tensor, x_other: torch.Tensor, layers: int, sigma_w2: float) -> torch.Tensor:
    """The analytical NTK Theta(x, x') of an infinitely wide ReLU MLP with ``layers`` weight layers, one output, no
    biases, NTK parametrization (Jacot et al. 2018, Arora et al. 2019), as a (len(x), len(x_other)) matrix.

    Sigma_1 = sigma_w^2 x.x' / d; for each later layer, with cos theta = Sigma(x, x') / sqrt(Sigma(x, x) Sigma(x', x')),
    the ReLU (arc-cosine) expectations give
    Sigma_{l+1} = sigma_w^2 sqrt(Sigma(x, x) Sigma(x', x')) (sin theta + (pi - theta) cos theta) / (2 pi) and
    Sigma_dot_{l+1} = sigma_w^2 (pi - theta) / (2 pi); Theta_1 = Sigma_1, Theta_{l+1} = Sigma_{l+1} + Sigma_dot_{l+1}
    Theta_l. The diagonal terms are carried along for both sets of inputs.
    """
    def norms(a):
        return sigma_w2 * (a * a).sum(dim=1) / a.shape[1]

    sigma = sigma_w2 * (x @ x_other.T) / x.shape[1]
    diag, diag_other = norms(x), norms(x_other)
    theta = sigma
    for _ in range(layers - 1):
        scale = torch.sqrt(diag[:, None] * diag_other[None, :])
        angle = torch.arccos(torch.clamp(sigma / scale, -1.0, 1.0))
        sigma = sigma_w2 * scale * (torch.sin(angle) + (np.pi - angle) * torch.cos(angle)) / (2 * np.pi)
        derivative = sigma_w2 * (np.pi - angle) / (2 * np.pi)
        theta = sigma + derivative * theta
        diag, diag_other = sigma_w2 * diag / 2, sigma_w2 * diag_other / 2  # the angle-0 case of the recursion
    return theta


def ntk_limit_prediction(spec: MlpSpec, params: dict, data, learning_rate: float, steps: int) -> pd.DataFrame:
    """Exact NGD in the NTK limit, from the network's initial outputs f_0: the training residual is multiplied by
    (1 - eta) each step and a test output moves by Theta(x, X) Theta^-1 times the training outputs' change
    (KO20: the approximations, at their rates, follow the same function-space dynamics). Rows as :func:`train`'s."""
    x_train, y_train, x_test, y_test = data
    layers = len(spec.layer_shapes)
    kernel = relu_ntk(x_train, x_train, layers, spec.sigma_w2)
    cross = relu_ntk(x_test, x_train, layers, spec.sigma_w2)
    with torch.no_grad():
        train_output, test_output = forward(spec, params, x_train), forward(spec, params, x_test)
    residual = train_output - y_train
    test_shift = cross @ torch.linalg.solve(kernel, residual)  # the test change of a full step (eta = 1)
    rows = []
    for step in range(steps + 1):
        moved = 1.0 - (1.0 - learning_rate) ** step  # the fraction of the training residual removed so far
        for split, output, y in (("train", y_train + (1.0 - moved) * residual, y_train),
                                 ("test", test_output - moved * test_shift, y_test)):
            rows += [{"step": step, "split": split, "metric": "loss", "value": output_loss(output, y)},
                     {"step": step, "split": split, "metric": "accuracy", "value": output_accuracy(output, y)}]
    return pd.DataFrame(rows).assign(diverged=False)


def output_loss(output: torch.Tensor, y: torch.Tensor) -> float:
    """(1/2N) sum_n |f_n - y_n|^2."""
    return float(0.5 * ((output - y) ** 2).sum(dim=1).mean())


def output_accuracy(output: torch.Tensor, y: torch.Tensor) -> float:
    return float((torch.sign(output) == torch.sign(y)).double().mean())


def gauss_newton_lambda_max(spec: MlpSpec, params: dict, x: torch.Tensor) -> float:
    """Largest eigenvalue of J^T J / N, the loss's Gauss-Newton matrix (and Hessian at a zero residual)."""
    from dltheory.geometry.jacobian import fisher_eigenvalues, layer_grams, ntk

    return float(fisher_eigenvalues(ntk(layer_grams(spec, params, x)) / x.shape[0])[0])


def train(method: str, spec: MlpSpec, params: dict, data, learning_rate: float, steps: int,
          pinv_rtol: float) -> pd.DataFrame:
    """Run ``steps`` updates from ``params`` (not modified); one row per (step, split, metric). A step whose training
    loss is not finite or above DIVERGED_LOSS ends the run, recorded with diverged=True."""
    x_train, y_train, x_test, y_test = data
    params = {name: weight.clone() for name, weight in params.items()}
    rows = []
    diverged = False
    for step in range(steps + 1):
        if step > 0:
            direction = update_direction(method, spec, params, x_train, y_train, pinv_rtol)
            params = {name: params[name] - learning_rate * direction[name] for name in spec.names}
        for split, x, y in (("train", x_train, y_train), ("test", x_test, y_test)):
            with torch.no_grad():
                output = forward(spec, params, x)
            loss = output_loss(output, y)
            diverged = diverged or (split == "train" and not (np.isfinite(loss) and loss <= DIVERGED_LOSS))
            rows += [{"step": step, "split": split, "metric": "loss", "value": loss},
                     {"step": step, "split": split, "metric": "accuracy", "value": output_accuracy(output, y)}]
        if diverged:
            break
    table = pd.DataFrame(rows)
    table["diverged"] = diverged
    return table


def run_method(method: str, section: NatgradSettings | Mapping, seed: int, device: str = "cpu") -> pd.DataFrame:
    """Train one method at ``width`` for every replicate, each replicate from the same initialization and data as
    every other method (the seeds do not depend on the method); GD is run at each rate multiple. The exact method
    also runs at every width of ``widths`` and writes the NTK-limit prediction (method PREDICTION) unless
    ntk_prediction is off, the approximations at every width of ``approximation_widths``; the K-FAC job writes the
    paper's convention (KFAC_PAPER) beside the textbook one. A tidy
    table with the method, its rate, the width, the replicate and the setting."""
    settings = from_config(NatgradSettings, section, "natgrad")
    extra = {"exact": settings.widths, "gd": ()}.get(method, settings.approximation_widths)
    widths = sorted(set(extra) | {settings.width})
    runs = [_run_once(method, settings, seed, replicate, width, device).assign(replicate=replicate)
            for width in widths for replicate in range(settings.replicates)]
    return pd.concat(runs, ignore_index=True)


def _run_once(method: str, settings: NatgradSettings, seed: int, replicate: int, width: int,
              device: str) -> pd.DataFrame:
    data = digits_two_classes(settings.classes, settings.train_size, settings.test_size,
                              derive_seed(seed, "natgrad", "data", replicate), settings.input_transform)
    data = tuple(t.to(device) for t in data)
    spec = dataclasses.replace(network_spec(settings, data[0].shape[1]), width=width)
    generator = torch.Generator().manual_seed(derive_seed(seed, "natgrad", "init", replicate, width))
    params = {name: w.to(device) for name, w in init_params(spec, generator).items()}
    if method == "gd":
        lambda_max = gauss_newton_lambda_max(spec, params, data[0])
        runs = []
        for multiple in settings.gd.rate_multiples:
            rate = multiple / lambda_max
            run = train("gd", spec, params, data, rate, settings.gd.steps, settings.pinv_rtol)
            runs.append(run.assign(learning_rate=rate, rate_multiple=multiple, lambda_max=lambda_max))
        table = pd.concat(runs, ignore_index=True).assign(method=method)
    else:
        variants = [method, KFAC_PAPER] if method == "kfac" else [method]
        tables = []
        for variant in variants:
            rate = settings.learning_rates.get(method) or paper_learning_rate(
                variant, settings.layers, settings.train_size, width)
            tables.append(train(variant, spec, params, data, rate, settings.steps, settings.pinv_rtol)
                          .assign(method=variant, learning_rate=rate))
            if method == "exact" and settings.ntk_prediction:
                tables.append(ntk_limit_prediction(spec, params, data, rate, settings.steps)
                              .assign(method=PREDICTION, learning_rate=rate))
        table = pd.concat(tables, ignore_index=True).assign(rate_multiple=np.nan, lambda_max=np.nan)
    return table.assign(width=width, layers=settings.layers,
                        train_size=settings.train_size, test_size=settings.test_size)
