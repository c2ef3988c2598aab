"""The torch part of ``dltheory.geometry.batchnorm``: the networks, their measurement and training, run by the
measuring jobs. ``dltheory.geometry.batchnorm`` keeps the theory, tables and claims, which its notebook imports
without torch (~1.3 s per notebook job)."""

from collections.abc import Mapping

import numpy as np
import pandas as pd
import torch
from torch.func import grad, jvp, vmap

from dltheory.geometry.batchnorm import (
    DIAGRAM_VARIANTS,
    FROM_NTK,
    drawn_samples,
    gd_outcomes,
    network_spec,
    number_of_weights,
)
from dltheory.geometry.jacobian import centring_matrix, fisher_eigenvalues, layer_grams, ntk, standardizing_jacobian
from dltheory.geometry.mlp import MlpSpec, forward, init_params
from dltheory.geometry.settings import BatchnormSettings
from dltheory.seeds import derive_seed
from dltheory.settings import from_config


def draw_problem(section: BatchnormSettings | Mapping, width: int, replicate: int, seed: int):
    """(params, x, y) of one seed: :func:`drawn_samples` inputs, of which every measurement uses the leading T. They
    depend on (width, replicate) only, so every variant, T and the GD grid see the same networks and data."""
    settings = from_config(BatchnormSettings, section, "batchnorm")
    generator = torch.Generator().manual_seed(derive_seed(seed, "batchnorm", width, replicate))
    input_dim = settings.input_dim(width)
    x = torch.randn(drawn_samples(settings, width), input_dim, generator=generator, dtype=torch.float64)
    w = torch.randn(input_dim, 1, generator=generator, dtype=torch.float64)
    y = x @ w / np.sqrt(input_dim)
    return init_params(network_spec(settings, width, "none"), generator), x, y


def normalized_kernel(kernel: torch.Tensor, outputs: torch.Tensor, variant: str) -> torch.Tensor:
    """The NTK of a last-layer normalization from the unnormalized NTK ``kernel`` and outputs (T x 1): P K P for
    mean subtraction, A K A^T with A = :func:`standardizing_jacobian` for full batch norm."""
    if variant == "none":
        return kernel
    if variant == "last_batch_norm":
        centring = centring_matrix(kernel.shape[0], 1, kernel.dtype, kernel.device)
        return centring @ kernel @ centring
    if variant == "last_batch_norm_full":
        standardizing = standardizing_jacobian(outputs)
        return standardizing @ kernel @ standardizing.T
    raise ValueError(f"variant {variant!r} is not a last-layer projection; allowed: {list(FROM_NTK)}")


def fisher_summary(dual: torch.Tensor, n_weights: int) -> dict:
    """lambda_max, lambda_2 and the mean eigenvalue trace(F) / P of the empirical Fisher from its dual J J^T / T."""
    eigenvalues = fisher_eigenvalues(dual)
    return {"lambda_max": float(eigenvalues[0]), "lambda_2": float(eigenvalues[1]),
            "mean_eigenvalue": float(torch.trace(dual)) / n_weights}


def run_spectra(section: BatchnormSettings | Mapping, seed: int, pairs=None) -> pd.DataFrame:
    """Every seed's Fisher summary at T = M * samples_per_width for every variant (grid "sweep"; hidden-layer BN at
    widths up to coupled_max_width), and lambda_max of no normalization and last-layer BN at every T of the diagram
    (grid "diagram"). Tidy rows (grid, variant, width, samples, input_dim, replicate, metric, value).

    ``pairs``: only these (width, replicate) pairs (one job of BatchnormSettings.spectra_parts), in the one job's
    order; None: all. Each pair's seed is its own (:func:`draw_problem`), so its rows do not depend on the others."""
    settings = from_config(BatchnormSettings, section, "batchnorm")
    chosen = None if pairs is None else {(int(width), int(replicate)) for width, replicate in pairs}
    if chosen is not None:
        unknown = sorted(pair for pair in chosen if pair[0] not in settings.widths
                         or not 0 <= pair[1] < settings.replicates)
        if unknown:
            raise ValueError(f"pairs: (width, replicate) {unknown[0]} is not in the sweep (widths "
                             f"{list(settings.widths)}, replicates 0..{settings.replicates - 1})")
    rows = []
    for width in settings.widths:
        replicates = [r for r in range(settings.replicates) if chosen is None or (width, r) in chosen]
        if not replicates:
            continue
        sweep_samples, input_dim = settings.samples(width), settings.input_dim(width)
        n_weights = number_of_weights(network_spec(settings, width, "none"))
        all_samples = sorted({sweep_samples, *settings.diagram.samples})
        for replicate in replicates:
            params, x, _ = draw_problem(settings, width, replicate, seed)
            base = network_spec(settings, width, "none")
            kernel = ntk(layer_grams(base, params, x[:all_samples[-1]]))
            with torch.no_grad():
                outputs = forward(base, params, x[:all_samples[-1]])
            key = {"width": width, "input_dim": input_dim, "replicate": replicate}
            for samples in all_samples:
                for variant in FROM_NTK:
                    in_sweep = samples == sweep_samples and variant in settings.variants
                    in_diagram = samples in settings.diagram.samples and variant in DIAGRAM_VARIANTS
                    if not (in_sweep or in_diagram):
                        continue
                    dual = normalized_kernel(kernel[:samples, :samples], outputs[:samples], variant) / samples
                    summary = fisher_summary(dual, n_weights)
                    if in_sweep:
                        rows += [{**key, "grid": "sweep", "variant": variant, "samples": samples, "metric": m,
                                  "value": v} for m, v in summary.items()]
                    if in_diagram:
                        rows.append({**key, "grid": "diagram", "variant": variant, "samples": samples,
                                     "metric": "lambda_max", "value": summary["lambda_max"]})
            for variant in ("hidden_batch_norm", "last_layer_norm"):
                if variant not in settings.variants or (variant == "hidden_batch_norm"
                                                        and width > settings.coupled_max_width):
                    continue
                spec = network_spec(settings, width, variant)
                dual = ntk(layer_grams(spec, params, x[:sweep_samples])) / sweep_samples
                rows += [{**key, "grid": "sweep", "variant": variant, "samples": sweep_samples, "metric": m,
                          "value": v} for m, v in fisher_summary(dual, n_weights).items()]
    return pd.DataFrame(rows).assign(hidden_layers=settings.hidden_layers)


def gradient_descent(spec: MlpSpec, params: dict, x: torch.Tensor, y: torch.Tensor, rates: np.ndarray,
                     steps: int) -> tuple[np.ndarray, dict]:
    """Full-batch GD from ``params`` on the training loss (1/2T) sum (f - y)^2, for every rate at once (one batched
    model): the loss at every step (0..steps), shape (steps + 1, rates), and the final weights stacked over rates.
    Divergence shows as a loss above DIVERGED_LOSS or NaN."""

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
    return torch.stack(losses).detach().cpu().numpy(), {name: w.detach() for name, w in stacked.items()}


def gradient_descent_losses(spec: MlpSpec, params: dict, x: torch.Tensor, y: torch.Tensor, rates: np.ndarray,
                            steps: int) -> np.ndarray:
    """The losses of :func:`gradient_descent`, shape (steps + 1, rates)."""
    return gradient_descent(spec, params, x, y, rates, steps)[0]


def fisher_lambda_max(spec: MlpSpec, params: dict, x: torch.Tensor) -> float:
    """The largest eigenvalue of the empirical Fisher J^T J / T at ``params``."""
    return float(fisher_eigenvalues(ntk(layer_grams(spec, params, x)) / x.shape[0])[0])


def hessian_lambda_max(spec: MlpSpec, params: dict, x: torch.Tensor, y: torch.Tensor, iterations: int = 15) -> float:
    """The squared loss's Hessian top eigenvalue at ``params`` (power iteration on Hessian-vector products, started
    from the loss's gradient): the Gauss-Newton lambda_max plus the residual term sum_t (f_t - y_t) grad^2 f_t / T,
    which sets GD's stability edge at the start."""

    def loss(p):
        return 0.5 * ((forward(spec, p, x) - y) ** 2).mean()

    vector = grad(loss)(params)
    value = 0.0
    for _ in range(iterations):
        norm = torch.sqrt(sum((v**2).sum() for v in vector.values()))
        vector = {name: v / norm for name, v in vector.items()}
        product = jvp(grad(loss), (params,), (vector,))[1]
        value = float(sum((product[name] * vector[name]).sum() for name in vector))
        vector = product
    return value


def run_gd(section: BatchnormSettings | Mapping, seed: int) -> pd.DataFrame:
    """Every seed's GD grid at the widths of gd.widths for the variants of gd.variants, T = M * samples_per_width;
    rows (variant, width, samples, replicate, metric, value, rate_multiple, learning_rate, lambda_max (the Fisher's),
    hessian_lambda_max (none only), final_lambda_max (the Fisher's after the steps, at the last stable rate only),
    diverged, first_rise, stable) with metrics initial_loss, final_loss and max_loss."""
    settings = from_config(BatchnormSettings, section, "batchnorm")
    gd = settings.gd
    multiples = gd.rate_multiples.values()
    rows = []
    for width in gd.widths:
        samples = settings.samples(width)
        for replicate in range(settings.replicates):
            params, x, y = draw_problem(settings, width, replicate, seed)
            x, y = x[:samples], y[:samples]
            for variant in gd.variants:
                spec = network_spec(settings, width, variant)
                lambda_max = fisher_lambda_max(spec, params, x)
                # The full Hessian's top eigenvalue, a control of the unnormalized edge only (its Gauss-Newton part
                # dominates there; with last-layer BN the two are close and power iteration is slow).
                hessian = hessian_lambda_max(spec, params, x, y) if variant == "none" else np.nan
                rates = multiples * 2 / lambda_max
                losses, final = gradient_descent(spec, params, x, y, rates, gd.steps)
                outcomes = gd_outcomes(losses, gd.first_steps)
                # lambda_max after the steps at the largest stable rate below the first unstable one (gd_edges'
                # last stable run): how far the curvature moved during the first steps.
                final_lambda_max = np.full(len(rates), np.nan)
                unstable = np.flatnonzero(~outcomes["stable"])
                last_stable = (unstable[0] if len(unstable) else len(rates)) - 1
                if last_stable >= 0:
                    final_lambda_max[last_stable] = fisher_lambda_max(
                        spec, {name: w[last_stable] for name, w in final.items()}, x)
                for column, (multiple, rate) in enumerate(zip(multiples, rates, strict=True)):
                    common = {"variant": variant, "width": width, "samples": samples, "replicate": replicate,
                              "rate_multiple": float(multiple), "learning_rate": float(rate),
                              "lambda_max": lambda_max, "hessian_lambda_max": hessian,
                              "final_lambda_max": float(final_lambda_max[column]),
                              "diverged": bool(outcomes["diverged"][column]),
                              "first_rise": int(outcomes["first_rise"][column]),
                              "stable": bool(outcomes["stable"][column])}
                    rows += [{**common, "metric": metric, "value": float(outcomes[metric][column])}
                             for metric in ("initial_loss", "final_loss", "max_loss")]
    return pd.DataFrame(rows).assign(grid="gd", steps=gd.steps, first_steps=gd.first_steps)
