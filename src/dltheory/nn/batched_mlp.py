"""Many ReLU MLPs of different widths and depths, trained together as one batched model.

Every model in the batch is padded to the largest width and depth. Padding is exact, not approximate:
the weights and biases of hidden units beyond a model's width start at zero, so such a unit's
pre-activation is exactly 0, ReLU passes 0 on, and since torch's ReLU has gradient 0 at 0, no gradient
ever reaches those weights; Adam then never moves them (its update is zero for a zero gradient), and
they stay zero for good, without a mask in the forward pass. Hidden layers beyond a model's depth are
skipped by a per-model gate (h <- h), so model b computes exactly the MLP of its own width and depth.
One ``torch.bmm`` per layer then trains all replicates and sample sizes of a job at once, instead of a
Python loop over models.
"""

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class BatchedArchitecture:
    """Per-model widths and depths (number of hidden layers) of a batch of MLPs with ``outputs`` outputs (scalar
    by default; the overparam family's classifiers have one per class)."""

    in_dim: int
    widths: tuple[int, ...]
    depths: tuple[int, ...]
    outputs: int = 1

    @property
    def n_models(self) -> int:
        return len(self.widths)

    @property
    def max_width(self) -> int:
        return max(self.widths)

    @property
    def max_depth(self) -> int:
        return max(self.depths)

    def parameter_counts(self) -> list[int]:
        return [
            (self.in_dim + 1) * w + (d - 1) * (w * w + w) + (w + 1) * self.outputs
            for w, d in zip(self.widths, self.depths, strict=True)
        ]


class BatchedMLP(torch.nn.Module):
    """A batch of ReLU MLPs R^in_dim -> R^outputs evaluated on inputs of shape (models, points, in_dim); a scalar
    output comes out as (models, points), several as (models, points, outputs)."""

    INITS = ("he", "standard_normal")

    def __init__(self, architecture: BatchedArchitecture, generator: torch.Generator, dtype=torch.float32,
                 init: str = "he"):
        super().__init__()
        self.architecture = architecture
        B, W, L, D = architecture.n_models, architecture.max_width, architecture.max_depth, architecture.in_dim
        widths = torch.tensor(architecture.widths)
        depths = torch.tensor(architecture.depths)
        unit_mask = (torch.arange(W)[None, :] < widths[:, None]).to(dtype)
        # Gate of hidden layer l+1 (the first hidden layer is always present).
        layer_gate = (torch.arange(1, L)[None, :] < depths[:, None]).to(dtype)
        self.register_buffer("layer_gate", layer_gate)
        # Layers that every model has need no gate: skipping the blend there saves two passes over the
        # activations per layer.
        self.gated_layers = [bool((layer_gate[:, layer] < 1).any()) for layer in range(max(L - 1, 0))]

        def normal(*shape):
            return torch.randn(*shape, generator=generator, dtype=dtype)

        if init not in self.INITS:
            raise ValueError(f"unknown init {init!r}; known: {', '.join(self.INITS)}")
        # He initialisation with each model's own fan-in, so a padded model starts where an unpadded
        # one of its width would. "standard_normal" is Nakada & Imaizumi's N(0, 1) for every weight
        # (JMLR 2020, Sec. 6.1): at width 128 its outputs start in the thousands.
        he = init == "he"
        hidden_std = torch.sqrt(2.0 / widths.to(dtype)) if he else torch.ones(B, dtype=dtype)
        input_std = (2.0 / D) ** 0.5 if he else 1.0
        output_std = (1.0 / widths.to(dtype)) ** 0.5 if he else torch.ones(B, dtype=dtype)
        self.input_weight = torch.nn.Parameter(normal(B, D, W) * input_std * unit_mask[:, None, :])
        self.input_bias = torch.nn.Parameter(torch.zeros(B, W, dtype=dtype))
        hidden = normal(B, max(L - 1, 0), W, W) * hidden_std[:, None, None, None]
        hidden = hidden * unit_mask[:, None, :, None] * unit_mask[:, None, None, :]
        self.hidden_weight = torch.nn.Parameter(hidden)
        self.hidden_bias = torch.nn.Parameter(torch.zeros(B, max(L - 1, 0), W, dtype=dtype))
        C = architecture.outputs
        output = normal(B, W, C) * output_std[:, None, None] * unit_mask[:, :, None]
        self.output_weight = torch.nn.Parameter(output)
        self.output_bias = torch.nn.Parameter(torch.zeros(B, C, dtype=dtype))

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        h = torch.relu(torch.baddbmm(self.input_bias[:, None, :], inputs, self.input_weight))
        for layer, gated in enumerate(self.gated_layers):
            new = torch.relu(torch.baddbmm(self.hidden_bias[:, layer, None, :], h, self.hidden_weight[:, layer]))
            if gated:
                gate = self.layer_gate[:, layer, None, None]
                new = gate * new + (1 - gate) * h
            h = new
        output = torch.baddbmm(self.output_bias[:, None, :], h, self.output_weight)
        return output.squeeze(-1) if self.architecture.outputs == 1 else output

    def standalone(self, index: int) -> torch.nn.Sequential:
        """Model ``index`` as an ordinary ``nn.Sequential`` of its own width and depth (for tests)."""
        width, depth = self.architecture.widths[index], self.architecture.depths[index]
        layers = []
        weights = [(self.input_weight[index, :, :width], self.input_bias[index, :width])]
        weights += [
            (self.hidden_weight[index, layer, :width, :width], self.hidden_bias[index, layer, :width])
            for layer in range(depth - 1)
        ]
        for weight, bias in weights:
            linear = torch.nn.Linear(weight.shape[0], weight.shape[1], dtype=weight.dtype)
            linear.weight.data.copy_(weight.detach().T)
            linear.bias.data.copy_(bias.detach())
            layers += [linear, torch.nn.ReLU()]
        head = torch.nn.Linear(width, self.architecture.outputs, dtype=weight.dtype)
        head.weight.data.copy_(self.output_weight[index, :width, :].detach().T)
        head.bias.data.copy_(self.output_bias[index].detach())
        layers.append(head)
        return torch.nn.Sequential(*layers)
