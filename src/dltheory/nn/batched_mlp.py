"""Many ReLU MLPs of different widths and depths, trained together as one batched model.

Every model in the batch is padded to the largest width and depth. Padding is exact, not approximate:
the weights and biases of hidden units beyond a model's width start at zero, so such a unit's
pre-activation is exactly 0, ReLU passes 0 on, and since torch's ReLU has gradient 0 at 0, no gradient
ever reaches those weights; Adam then never moves them (its update is zero for a zero gradient), and
they stay zero for good, without a mask in the forward pass. Hidden layers beyond a model's depth are
skipped by a per-model gate (h <- h), so model b computes exactly the MLP of its own width and depth.
One ``torch.bmm`` per layer then trains all replicates and sample sizes of a job at once, instead of a
Python loop over models.

Padding costs what it pads: 90 models padded to the widest (944) and deepest (5) of a batch spend 4.3x the FLOPs
of their own networks. ``BucketedMLP`` removes that waste: it draws the padded batch's initial weights (so every
model starts where it did in the padded batch) and keeps one ``BatchedMLP`` per (depth, width), each unpadded.
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


INITS = ("he", "standard_normal")


def padded_initial_parameters(architecture: BatchedArchitecture, generator: torch.Generator, dtype=torch.float32,
                              init: str = "he") -> dict[str, torch.Tensor]:
    """The initial weights of a padded batch (``BatchedMLP``'s parameters by name), units beyond a model's width
    at zero."""
    B, W, L, D = architecture.n_models, architecture.max_width, architecture.max_depth, architecture.in_dim
    widths = torch.tensor(architecture.widths)
    unit_mask = (torch.arange(W)[None, :] < widths[:, None]).to(dtype)

    def normal(*shape):
        return torch.randn(*shape, generator=generator, dtype=dtype)

    if init not in INITS:
        raise ValueError(f"unknown init {init!r}; known: {', '.join(INITS)}")
    # He initialisation with each model's own fan-in, so a padded model starts where an unpadded
    # one of its width would. "standard_normal" is Nakada & Imaizumi's N(0, 1) for every weight
    # (JMLR 2020, Sec. 6.1): at width 128 its outputs start in the thousands.
    he = init == "he"
    hidden_std = torch.sqrt(2.0 / widths.to(dtype)) if he else torch.ones(B, dtype=dtype)
    input_std = (2.0 / D) ** 0.5 if he else 1.0
    output_std = (1.0 / widths.to(dtype)) ** 0.5 if he else torch.ones(B, dtype=dtype)
    input_weight = normal(B, D, W) * input_std * unit_mask[:, None, :]
    hidden = normal(B, max(L - 1, 0), W, W) * hidden_std[:, None, None, None]
    hidden = hidden * unit_mask[:, None, :, None] * unit_mask[:, None, None, :]
    C = architecture.outputs
    output = normal(B, W, C) * output_std[:, None, None] * unit_mask[:, :, None]
    return {
        "input_weight": input_weight,
        "input_bias": torch.zeros(B, W, dtype=dtype),
        "hidden_weight": hidden,
        "hidden_bias": torch.zeros(B, max(L - 1, 0), W, dtype=dtype),
        "output_weight": output,
        "output_bias": torch.zeros(B, C, dtype=dtype),
    }


def take_models(architecture: BatchedArchitecture, tensors: dict[str, torch.Tensor], rows: list[int]
                ) -> tuple[BatchedArchitecture, dict[str, torch.Tensor]]:
    """Models ``rows`` of a batch, padded only to their own largest width and depth: the architecture and the
    per-parameter slices of ``tensors`` (parameters, or anything shaped like them, such as Adam's moments)."""
    sub = BatchedArchitecture(architecture.in_dim, tuple(architecture.widths[r] for r in rows),
                              tuple(architecture.depths[r] for r in rows), architecture.outputs)
    W, H = sub.max_width, sub.max_depth - 1
    index = torch.as_tensor(rows, dtype=torch.long, device=next(iter(tensors.values())).device)
    trailing = {"input_weight": (slice(None), slice(0, W)), "input_bias": (slice(0, W),),
                "hidden_weight": (slice(0, H), slice(0, W), slice(0, W)), "hidden_bias": (slice(0, H), slice(0, W)),
                "output_weight": (slice(0, W),), "output_bias": ()}
    return sub, {name: tensor[index][(slice(None), *trailing[name])].contiguous() for name, tensor in tensors.items()}


class BatchedMLP(torch.nn.Module):
    """A batch of ReLU MLPs R^in_dim -> R^outputs evaluated on inputs of shape (models, points, in_dim); a scalar
    output comes out as (models, points), several as (models, points, outputs)."""

    INITS = INITS

    def __init__(self, architecture: BatchedArchitecture, generator: torch.Generator | None = None,
                 dtype=torch.float32, init: str = "he", parameters: dict[str, torch.Tensor] | None = None):
        """Initial weights drawn from ``generator``, or the given ``parameters`` (shaped as the padded batch's)."""
        super().__init__()
        self.architecture = architecture
        if parameters is None:
            parameters = padded_initial_parameters(architecture, generator, dtype, init)
        L = architecture.max_depth
        first = next(iter(parameters.values()))
        depths = torch.tensor(architecture.depths, device=first.device)
        # Gate of hidden layer l+1 (the first hidden layer is always present).
        layer_gate = (torch.arange(1, L, device=first.device)[None, :] < depths[:, None]).to(first.dtype)
        self.register_buffer("layer_gate", layer_gate)
        # Layers that every model has need no gate: skipping the blend there saves two passes over the
        # activations per layer.
        self.gated_layers = [bool((layer_gate[:, layer] < 1).any()) for layer in range(max(L - 1, 0))]
        for name, tensor in parameters.items():
            setattr(self, name, torch.nn.Parameter(tensor))

    def select(self, rows: list[int]) -> "BatchedMLP":
        """Models ``rows`` as a batch of their own, padded only to their largest width and depth (a copy)."""
        parameters = {name: p.detach() for name, p in self.named_parameters()}
        architecture, taken = take_models(self.architecture, parameters, rows)
        return BatchedMLP(architecture, parameters=taken)

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


class BucketedMLP(torch.nn.Module):
    """A batch of MLPs held as one unpadded ``BatchedMLP`` per (depth, width): the same models as the padded
    ``BatchedMLP(architecture, generator)`` (the same initial weights, drawn for the padded batch), evaluated in the
    same order, without computing on padding. ``bucket_members[k]`` are the batch positions of bucket k."""

    def __init__(self, architecture: BatchedArchitecture, generator: torch.Generator, dtype=torch.float32,
                 init: str = "he"):
        super().__init__()
        self.architecture = architecture
        padded = BatchedMLP(architecture, generator, dtype, init)
        groups: dict[tuple[int, int], list[int]] = {}
        for index, shape in enumerate(zip(architecture.depths, architecture.widths, strict=True)):
            groups.setdefault(shape, []).append(index)
        self.bucket_members = list(groups.values())
        self.buckets = torch.nn.ModuleList(padded.select(rows) for rows in self.bucket_members)
        # One gather into bucket order and one back per call, as device tensors (a Python list of indices would be
        # copied to the GPU at every call).
        order = torch.tensor([i for rows in self.bucket_members for i in rows])
        self.register_buffer("order", order)
        self.register_buffer("inverse_order", torch.argsort(order))

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        if len(self.buckets) == 1:
            return self.buckets[0](inputs)
        parts = torch.split(inputs[self.order], [len(rows) for rows in self.bucket_members])
        return torch.cat([bucket(part) for bucket, part in zip(self.buckets, parts, strict=True)])[self.inverse_order]

    def standalone(self, index: int) -> torch.nn.Sequential:
        """Model ``index`` as an ordinary ``nn.Sequential`` (for tests)."""
        for bucket, rows in zip(self.buckets, self.bucket_members, strict=True):
            if index in rows:
                return bucket.standalone(rows.index(index))
        raise IndexError(index)
