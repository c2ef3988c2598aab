"""Fully connected networks for the geometry family, as pure functions of a parameter dict.

Weights only, no biases (ngd_in_wide_nn and our reading of K19 have none; KAA21's networks had biases, which we
leave out: see dltheory.geometry.spectra). Layer ``l`` computes
``z_l = scale_l * h_{l-1} @ W_l.T``; in the standard parametrization the weights carry the variance
(``W ~ N(0, sigma_w^2 / fan_in)``, scale 1), in the NTK parametrization they are standard normal and
``scale_l = sigma_w / sqrt(fan_in)`` (Jacot et al.; the setting of ``ngd_in_wide_nn``). Both give the same function
at initialization and different Jacobians.

``probes`` are zero tensors added to each pre-activation: the Jacobian of the output with respect to them is the
backpropagated signal delta_l, from which every weight Jacobian follows (``dz_l/dW_l = delta_l (x) scale_l h``).
"""

import numpy as np
import torch

# MlpSpec lives in the torch-free dltheory.geometry.spec (the analysis modules need it without torch); these names
# stay importable from here.
from dltheory.geometry.settings import ACTIVATIONS, NORMALIZATIONS  # noqa: F401
from dltheory.geometry.spec import INITIALIZATIONS, PARAMETRIZATIONS, MlpSpec  # noqa: F401


def init_params(spec: MlpSpec, generator: torch.Generator, dtype=torch.float64) -> dict[str, torch.Tensor]:
    """Weights at initialization: Gaussian, or scaled orthogonal (Haar; rectangular ones have orthonormal rows or
    columns), with variance sigma_w^2 / fan_in per entry in the standard parametrization."""
    params = {}
    for name, (fan_out, fan_in) in zip(spec.names, spec.layer_shapes, strict=True):
        if spec.initialization == "orthogonal":
            gaussian = torch.randn(max(fan_out, fan_in), min(fan_out, fan_in), generator=generator, dtype=dtype)
            q, r = torch.linalg.qr(gaussian)
            q = q * torch.sign(torch.diagonal(r))  # Haar measure, not QR's sign convention
            # Unit-variance entries, as randn's: W W^T = max(fan_out, fan_in) I before the scaling below.
            weight = (q if fan_out >= fan_in else q.T) * np.sqrt(max(fan_out, fan_in))
        else:
            weight = torch.randn(fan_out, fan_in, generator=generator, dtype=dtype)
        if spec.parametrization == "standard":
            weight = weight * np.sqrt(spec.sigma_w2 / fan_in)
        params[name] = weight
    return params


def activate(z: torch.Tensor, name: str) -> torch.Tensor:
    if name == "relu":
        return torch.relu(z)
    if name == "tanh":
        return torch.tanh(z)
    if name == "hard_tanh":
        return torch.clamp(z, -1.0, 1.0)
    return z


def _mean_over_samples(z: torch.Tensor) -> torch.Tensor:
    return z - z.mean(dim=0, keepdim=True)


def _standardize_over_samples(z: torch.Tensor) -> torch.Tensor:
    centred = _mean_over_samples(z)
    return centred / torch.sqrt((centred**2).mean(dim=0, keepdim=True))


def _layer_norm(z: torch.Tensor, eps: float = 1e-12) -> torch.Tensor:
    centred = z - z.mean(dim=-1, keepdim=True)
    return centred / torch.sqrt((centred**2).mean(dim=-1, keepdim=True) + eps)


def forward(spec: MlpSpec, params: dict, x: torch.Tensor, probes: list | None = None,
            return_inputs: bool = False):
    """The network's output on ``x`` (samples x input_dim, or one sample), shape (..., output_dim).

    With ``return_inputs`` also the scaled input of every layer, ``scale_l * h_{l-1}``: the factor that multiplies
    delta_l in that layer's weight Jacobian. Normalizations over the data set need ``x`` to be the whole data set.
    """
    h = x
    inputs = []
    last = len(spec.names) - 1
    for index, (name, scale) in enumerate(zip(spec.names, spec.scales(), strict=True)):
        layer_input = scale * h
        inputs.append(layer_input)
        z = layer_input @ params[name].T
        if probes is not None:
            z = z + probes[index]
        if index < last:
            if spec.normalization == "hidden_batch_norm":
                z = _mean_over_samples(z)
            elif spec.normalization == "last_layer_norm" and index == last - 1:
                z = _layer_norm(z)
            h = activate(z, spec.activation)
        elif spec.normalization == "last_batch_norm":
            z = _mean_over_samples(z)
        elif spec.normalization == "last_batch_norm_full":
            z = _standardize_over_samples(z)
    return (z, inputs) if return_inputs else z
