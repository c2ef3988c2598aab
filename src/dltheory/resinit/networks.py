"""Plain and residual MLPs of every variant, with stacked weights: one tensor program runs many seeds and scales.

A network is x_0 = input layer(u), then L blocks, then (in training) a linear read-out. The blocks (the simplified
one-layer branch of the digest's derivation; ../shared/papers/resinit.md, "Derived expectations"):

====================  =======================================================  ================================
variant               block x_{l+1} =                                          Var[w] of the block's weights
====================  =======================================================  ================================
plain_he              W_l relu(x_l)                                            2 / n (He)
plain_default         W_l relu(x_l)                                            1 / (3n) (PyTorch nn.Linear's)
plain_bn              W_l relu(BN(x_l))                                        2 / n
res_he                x_l + W_l relu(x_l)                                      2 / n
res_default           x_l + W_l relu(x_l)                                      1 / (3n)
res_taki              x_l + W_l relu(x_l)                                      c / (nL) (Taki, arXiv 1709.02956)
res_bn                x_l + W_l relu(BN(x_l))                                  2 / n
fixup                 x_l + V_l relu(W_l relu(x_l))                            W: 2 / (nL), V = 0 (Zhang et al.)
skipinit              x_l + a_l W_l relu(x_l), a_l = 0                         2 / n (De & Smith)
rezero                x_l + a_l relu(W_l x_l), a_l = 0                         2 / n (Bachlechner et al.)
====================  =======================================================  ================================

With Var[w] = sigma^2 / n and a symmetric x_l, E|x_{l+1}|^2 = E|x_l|^2 (1 + sigma^2 / 2) for the residual block
(the cross term has mean 0): He's sigma^2 = 2 doubles the signal per block (2^L), Taki's c / L gives
(1 + c / (2L))^L <= e^{c/2}, and batch norm feeds the branch a unit-variance input, so each block adds a constant
(q_L ~ q_0 + L). Fixup's branch has m = 2 layers, so its first layer is He scaled by L^{-1/(2m-2)} = L^{-1/2} in
standard deviation (Fixup's scalar biases and multiplier are left out). A scale s multiplies every block weight's
standard deviation (Fixup: W's); the gates of SkipInit and ReZero start at 0 whatever s is.

Weights are ``std * Z`` with Z ~ N(0, 1) drawn once per (seed, depth) and shared by every variant and scale (common
random numbers): so Taki's init at scale s and He's at scale s sqrt(c / (2L)) are computed from the same Z, and the
sanity case checks that they agree.
"""

from dataclasses import dataclass

import torch

from dltheory.resinit.settings import VARIANTS

PLAIN = ("plain_he", "plain_default", "plain_bn")
BATCH_NORM = ("plain_bn", "res_bn")
GATED = ("skipinit", "rezero")
BN_EPS = 1e-5
# Variants of one form share one block program, so they run as one batched model; the others have a form each.
GENERIC = ("plain_he", "plain_default", "res_he", "res_default", "res_taki", "skipinit")


def form(variant: str) -> str:
    """The block program a variant runs in: ``generic`` (x' = r x + a W relu(x)), ``batch_norm``
    (x' = r x + W relu(BN(x))), ``fixup`` or ``rezero``."""
    if variant not in VARIANTS:
        raise ValueError(f"variant: unknown {variant!r}; known: {list(VARIANTS)}")
    return "generic" if variant in GENERIC else "batch_norm" if variant in BATCH_NORM else variant


def block_variance(variant: str, depth: int, c: float = 2.0) -> float:
    """sigma^2 of Var[w] = sigma^2 / n for the block's (first) weight matrix at depth L (module docstring)."""
    form(variant)
    if variant in ("plain_default", "res_default"):
        return 1.0 / 3.0
    if variant == "res_taki":
        return float(c) / depth
    if variant == "fixup":
        return 2.0 / depth  # He's std times L^{-1/2}: m = 2 layers per branch
    return 2.0


@dataclass
class BlockStack:
    """The L blocks of M networks of one form: parameters stacked along (network, block), and per network whether
    it is residual and whether it has a gate (the others' gates stay 1)."""

    form: str
    parameters: dict  # weight (M, L, n, n); gate (M, L); fixup's weight2 (M, L, n, n)
    residual: torch.Tensor  # (M, 1, 1): 1 residual, 0 plain
    gated: torch.Tensor  # (M,) bool

    def requires_grad_(self) -> "BlockStack":
        for value in self.parameters.values():
            value.requires_grad_()
        return self

    def forward(self, x: torch.Tensor, stat_rows: int | None = None) -> torch.Tensor:
        """x_L from x_0 (M, B, n) through every block. The stacked parameters are split into blocks once
        (``unbind``): indexing one block per step would make autograd write a zero tensor of the whole stack per
        block."""
        names = list(self.parameters)
        for values in zip(*(self.parameters[name].unbind(1) for name in names), strict=True):
            x = self.block(x, dict(zip(names, values, strict=True)), stat_rows)
        return x

    def block(self, x: torch.Tensor, layer: dict, stat_rows: int | None) -> torch.Tensor:
        """One block of every network (the table in the module docstring)."""
        weight, gate = layer["weight"], layer["gate"].view(-1, 1, 1)
        if self.form == "fixup":
            return x + torch.relu(torch.relu(x) @ weight) @ layer["weight2"]
        if self.form == "rezero":
            return x + gate * torch.relu(x @ weight)
        h = batch_norm(x, stat_rows) if self.form == "batch_norm" else x
        return self.residual * x + gate * (torch.relu(h) @ weight)

    def gradient_norms(self) -> torch.Tensor:
        """(M, L): the Frobenius norm of dloss/d(the block's weight matrices) per network and block (after
        backward)."""
        squares = 0.0
        for name in ("weight", "weight2"):
            if name in self.parameters and self.parameters[name].grad is not None:
                squares = squares + self.parameters[name].grad.pow(2).flatten(2).sum(dim=2)
        return torch.sqrt(squares)


def init_blocks(variants, normals: torch.Tensor, scales: torch.Tensor, depth: int, c=2.0) -> BlockStack:
    """The blocks of M networks of one form: ``variants`` names each network's variant (or one name for all), ``c``
    is Taki's constant (one, or one per network),
    ``normals`` is (M, L, n, n) standard normal, ``scales`` (M,) the init scales s. weight = s sqrt(sigma^2 / n) Z;
    Fixup's second weight is zero; the gates are 0 for SkipInit and ReZero, 1 (and never trained) otherwise."""
    models, width = normals.shape[0], normals.shape[-1]
    variants = [variants] * models if isinstance(variants, str) else list(variants)
    forms = {form(v) for v in variants}
    if len(forms) != 1:
        raise ValueError(f"variants: {sorted(set(variants))} do not share one block form ({sorted(forms)})")
    cs = [c] * models if isinstance(c, int | float) else list(c)
    variances = torch.tensor([block_variance(v, depth, k) / width for v, k in zip(variants, cs, strict=True)],
                             dtype=normals.dtype)
    std = scales.to(normals.dtype) * torch.sqrt(variances).to(scales.device)
    gated = torch.tensor([v in GATED for v in variants], device=normals.device)
    parameters = {"weight": std.to(normals.device).view(-1, 1, 1, 1) * normals,
                  "gate": (~gated).to(normals.dtype).unsqueeze(1).expand(models, depth).clone()}
    if variants[0] == "fixup":
        parameters["weight2"] = torch.zeros_like(normals)
    residual = torch.tensor([v not in PLAIN for v in variants], dtype=normals.dtype, device=normals.device)
    return BlockStack(forms.pop(), parameters, residual.view(-1, 1, 1), gated)


def batch_norm(x: torch.Tensor, stat_rows: int | None = None) -> torch.Tensor:
    """Per network and unit, (x - mean) / sqrt(var + eps) over the batch (dim 1), no affine part; the statistics come
    from the first ``stat_rows`` rows when given (evaluation: the training set's statistics applied to test rows)."""
    source = x if stat_rows is None else x[:, :stat_rows]
    mean = source.mean(dim=1, keepdim=True)
    var = (source - mean).pow(2).mean(dim=1, keepdim=True)  # torch.var over dim 1 was 20x slower here
    return (x - mean) / torch.sqrt(var + BN_EPS)
