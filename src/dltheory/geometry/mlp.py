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

from dataclasses import dataclass

import numpy as np
import torch

from dltheory.geometry.settings import ACTIVATIONS, NORMALIZATIONS

PARAMETRIZATIONS = ("standard", "ntk")
INITIALIZATIONS = ("gaussian", "orthogonal")


@dataclass(frozen=True)
class MlpSpec:
    """An MLP ``input_dim -> width x hidden_layers -> output_dim``.

    normalization:
      - ``last_batch_norm``: the output units minus their mean over the whole data set (batch norm's mean
        subtraction in the last layer, the case Karakida et al. 2019 analyse);
      - ``last_batch_norm_full``: full batch norm of the output units over the whole data set, the mean subtracted and
        divided by the standard deviation (no affine gain or shift);
      - ``hidden_batch_norm``: the same mean subtraction on every hidden pre-activation;
      - ``last_layer_norm``: layer norm (mean and variance over the units of one sample) on the last hidden
        layer's pre-activations; the output layer itself has too few units for it.
    """

    input_dim: int
    width: int
    hidden_layers: int
    output_dim: int = 1
    activation: str = "relu"
    sigma_w2: float = 2.0
    parametrization: str = "standard"
    normalization: str = "none"
    initialization: str = "gaussian"

    def __post_init__(self):
        for name, allowed in (("activation", ACTIVATIONS), ("normalization", NORMALIZATIONS),
                              ("parametrization", PARAMETRIZATIONS), ("initialization", INITIALIZATIONS)):
            if getattr(self, name) not in allowed:
                raise ValueError(f"MlpSpec.{name} is {getattr(self, name)!r}; allowed: {list(allowed)}")

    @property
    def layer_shapes(self) -> list[tuple[int, int]]:
        """(fan_out, fan_in) of each weight matrix, input to output."""
        dims = [self.input_dim] + [self.width] * self.hidden_layers + [self.output_dim]
        return [(dims[i + 1], dims[i]) for i in range(len(dims) - 1)]

    @property
    def names(self) -> list[str]:
        return [f"W{i + 1}" for i in range(len(self.layer_shapes))]

    @property
    def couples_samples(self) -> bool:
        """Whether one sample's output depends on the others' (normalization over the data set)."""
        return self.normalization in ("last_batch_norm", "last_batch_norm_full", "hidden_batch_norm")

    def scales(self) -> list[float]:
        if self.parametrization == "ntk":
            return [float(np.sqrt(self.sigma_w2 / fan_in)) for _, fan_in in self.layer_shapes]
        return [1.0] * len(self.layer_shapes)


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
