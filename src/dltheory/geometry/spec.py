"""The shape of a geometry-family MLP (``MlpSpec``), without torch: the analysis modules (theory tables, claims)
build specs and count weights, and the notebooks importing them should not pay for torch (~1.3 s). The networks
themselves are in ``dltheory.geometry.mlp``, which re-exports these names."""

from dataclasses import dataclass

import numpy as np

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
