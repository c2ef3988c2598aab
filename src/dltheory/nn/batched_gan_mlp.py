"""A batched MLP: many small networks (a GAN's generators or critics, CGNN's generators) as one model.

Parameters are stacked over a leading model axis, as in ``dltheory.nn.batched_mlp``: a layer's weight has shape
(models, fan_in, fan_out) and one ``torch.baddbmm`` evaluates it for every model at once. Model b only ever reads
its own slice, so with a per-model *sum* of losses each model's gradient is the one it would get alone. Models may
differ in activation (one group of consecutive models per activation).

Spectral normalisation (Miyato et al. 2018) is done per model by a batched power iteration that mirrors
``torch.nn.utils.parametrizations.spectral_norm``: 15 iterations at construction, then one per forward pass in
training mode, with u and v buffers and no gradient through them.

Used by the GAN family (``dltheory.gan``) and by CGNN (``dltheory.causal.cgnn``).
"""

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

ACTIVATIONS = {"relu": torch.relu, "elu": F.elu, "softplus": F.softplus}
INITIAL_POWER_ITERATIONS = 15  # as torch's spectral_norm parametrization does at registration
_NORMALISE_EPS = 1e-12  # F.normalize's default, as torch's spectral_norm uses


def _generators(generator: torch.Generator | Sequence[torch.Generator], n_models: int) -> list[torch.Generator]:
    if isinstance(generator, torch.Generator):
        return [generator] * n_models
    generators = list(generator)
    if len(generators) != n_models:
        raise ValueError(f"need one generator per model: got {len(generators)} for {n_models} models")
    return generators


def _uniform(shape, bound: float, generators: list[torch.Generator], dtype: torch.dtype) -> torch.Tensor:
    """U(−bound, bound) of ``shape`` per model, model b's draw from ``generators[b]``: shape (models, *shape)."""
    parts = [torch.rand(*shape, generator=g, dtype=dtype) for g in generators]
    return bound * (2.0 * torch.stack(parts) - 1.0)


def _activation_groups(activation: str | Sequence[str], n_models: int) -> list[tuple[int, int, object]]:
    """Contiguous runs of models sharing an activation: [(start, stop, function)], so each runs as one kernel."""
    names = [activation] * n_models if isinstance(activation, str) else list(activation)
    if len(names) != n_models:
        raise ValueError(f"need one activation per model: got {len(names)} for {n_models} models")
    unknown = sorted(set(names) - set(ACTIVATIONS))
    if unknown:
        raise ValueError(f"unknown activation {unknown[0]!r}; known: {', '.join(ACTIVATIONS)}")
    groups, start = [], 0
    for stop in range(1, n_models + 1):
        if stop == n_models or names[stop] != names[start]:
            groups.append((start, stop, ACTIVATIONS[names[start]]))
            start = stop
    return groups


def _normalise(x: torch.Tensor) -> torch.Tensor:
    return F.normalize(x, dim=-1, eps=_NORMALISE_EPS)


class BatchedGanMLP(nn.Module):
    """``n_models`` MLPs R^in_dim → R^out_dim of ``depth`` hidden layers of ``width``, on (models, batch, in_dim).

    ``activation`` is one name for all models or one per model (models sharing one should be contiguous: each
    contiguous run is one kernel call); ``output="tanh"`` squashes the outputs into (−1, 1).

    Weights start as torch's ``nn.Linear`` default, U(−1/√fan_in, 1/√fan_in) for weights and biases. ``generator``
    is one ``torch.Generator`` (models drawn one after the other) or one per model; with one per model, model b's
    initial weights depend only on its own generator, so they do not change with the rest of the batch.
    """

    def __init__(
        self,
        n_models: int,
        in_dim: int,
        out_dim: int,
        width: int,
        depth: int,
        activation: str | Sequence[str],
        generator: torch.Generator | Sequence[torch.Generator],
        spectral_norm: bool = False,
        dtype: torch.dtype = torch.float32,
        output: str = "linear",
    ):
        super().__init__()
        if depth < 1:
            raise ValueError(f"depth must be at least 1, got {depth}")
        if output not in ("linear", "tanh"):
            raise ValueError(f"output must be 'linear' or 'tanh', got {output!r}")
        self.n_models, self.out_dim = n_models, out_dim
        self.activation_groups = _activation_groups(activation, n_models)
        self.output = output
        self.spectral_norm = spectral_norm
        generators = _generators(generator, n_models)
        dims = [in_dim] + [width] * depth + [out_dim]
        self.weights = nn.ParameterList()
        self.biases = nn.ParameterList()
        for fan_in, fan_out in zip(dims[:-1], dims[1:], strict=True):
            bound = 1.0 / math.sqrt(fan_in)
            self.weights.append(nn.Parameter(_uniform((fan_in, fan_out), bound, generators, dtype)))
            self.biases.append(nn.Parameter(_uniform((fan_out,), bound, generators, dtype)))
        if spectral_norm:
            for layer, weight in enumerate(self.weights):
                fan_in, fan_out = weight.shape[1:]
                u = torch.stack([torch.randn(fan_out, generator=g, dtype=dtype) for g in generators])
                v = torch.stack([torch.randn(fan_in, generator=g, dtype=dtype) for g in generators])
                self.register_buffer(f"u{layer}", _normalise(u))
                self.register_buffer(f"v{layer}", _normalise(v))
            self.power_iteration_(INITIAL_POWER_ITERATIONS)

    @torch.no_grad()
    def power_iteration_(self, iterations: int = 1) -> None:
        """Update every layer's (u, v) by power iteration on each model's own weight (stored as Wᵀ: fan_in × fan_out).

        torch's order for W (out × in): v ← normalise(Wᵀu), u ← normalise(Wv); with w = Wᵀ that is v ← w u, u ← wᵀ v.
        """
        for layer, weight in enumerate(self.weights):
            u, v = getattr(self, f"u{layer}"), getattr(self, f"v{layer}")
            for _ in range(iterations):
                v = _normalise(torch.bmm(weight, u[:, :, None]).squeeze(-1))
                u = _normalise(torch.bmm(v[:, None, :], weight).squeeze(1))
            getattr(self, f"u{layer}").copy_(u)
            getattr(self, f"v{layer}").copy_(v)

    def sigmas(self) -> list[torch.Tensor]:
        """Per layer, each model's largest-singular-value estimate σ = vᵀ w u, shape (models,), differentiable in w."""
        result = []
        for layer, weight in enumerate(self.weights):
            u, v = getattr(self, f"u{layer}").clone(), getattr(self, f"v{layer}").clone()
            result.append(torch.bmm(torch.bmm(v[:, None, :], weight), u[:, :, None]).reshape(-1))
        return result

    def weight_matrices(self) -> list[torch.Tensor]:
        """The weights the forward pass uses, (models, fan_in, fan_out) per layer: divided by σ under spectral norm."""
        if not self.spectral_norm:
            return list(self.weights)
        return [weight / sigma[:, None, None] for weight, sigma in zip(self.weights, self.sigmas(), strict=True)]

    @torch.no_grad()
    def clip_(self, clip: float) -> "BatchedGanMLP":
        """Clamp every weight and bias to [−clip, clip] in place (WGAN, as ``objectives.clip_weights_``)."""
        for parameter in self.parameters():
            parameter.clamp_(-clip, clip)
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(models, batch, in_dim) → (models, batch, out_dim), or (models, batch) when out_dim is 1."""
        if self.spectral_norm and self.training:
            self.power_iteration_(1)
        weights = self.weight_matrices()
        h = x
        for layer, (weight, bias) in enumerate(zip(weights, self.biases, strict=True)):
            h = torch.baddbmm(bias[:, None, :], h, weight)
            if layer < len(weights) - 1:
                h = self._activate(h)
        if self.output == "tanh":
            h = torch.tanh(h)
        return h.squeeze(-1) if self.out_dim == 1 else h

    def _activate(self, h: torch.Tensor) -> torch.Tensor:
        if len(self.activation_groups) == 1:
            return self.activation_groups[0][2](h)
        return torch.cat([function(h[start:stop]) for start, stop, function in self.activation_groups])
