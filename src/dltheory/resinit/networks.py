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

import math

import torch

from dltheory.resinit.settings import VARIANTS

PLAIN = ("plain_he", "plain_default", "plain_bn")
BATCH_NORM = ("plain_bn", "res_bn")
GATED = ("skipinit", "rezero")
BN_EPS = 1e-5


def block_variance(variant: str, depth: int, c: float = 2.0) -> float:
    """sigma^2 of Var[w] = sigma^2 / n for the block's (first) weight matrix at depth L (module docstring)."""
    if variant not in VARIANTS:
        raise ValueError(f"variant: unknown {variant!r}; known: {list(VARIANTS)}")
    if variant in ("plain_default", "res_default"):
        return 1.0 / 3.0
    if variant == "res_taki":
        return float(c) / depth
    if variant == "fixup":
        return 2.0 / depth  # He's std times L^{-1/2}: m = 2 layers per branch
    return 2.0


def init_blocks(variant: str, normals: torch.Tensor, scales: torch.Tensor, depth: int, c: float = 2.0) -> dict:
    """The block parameters of M networks: ``normals`` is (M, L, n, n) standard normal, ``scales`` (M,) the init
    scales s. weight = s sqrt(sigma^2 / n) Z; Fixup's second weight and the gates of SkipInit / ReZero are zeros."""
    width = normals.shape[-1]
    std = scales.to(normals.dtype) * math.sqrt(block_variance(variant, depth, c) / width)
    blocks = {"weight": std.view(-1, 1, 1, 1) * normals}
    if variant == "fixup":
        blocks["weight2"] = torch.zeros_like(normals)
    if variant in GATED:
        blocks["gate"] = torch.zeros(normals.shape[:2], dtype=normals.dtype, device=normals.device)
    return blocks


def batch_norm(x: torch.Tensor, stat_rows: int | None = None) -> torch.Tensor:
    """Per network and unit, (x - mean) / sqrt(var + eps) over the batch (dim 1), no affine part; the statistics come
    from the first ``stat_rows`` rows when given (evaluation: the training set's statistics applied to test rows)."""
    source = x if stat_rows is None else x[:, :stat_rows]
    mean = source.mean(dim=1, keepdim=True)
    var = source.var(dim=1, unbiased=False, keepdim=True)
    return (x - mean) / torch.sqrt(var + BN_EPS)


def block_forward(variant: str, x: torch.Tensor, blocks: dict, layer: int,
                  stat_rows: int | None = None) -> torch.Tensor:
    """One block of M networks at once: x is (M, B, n); the table in the module docstring."""
    weight = blocks["weight"][:, layer]
    h = batch_norm(x, stat_rows) if variant in BATCH_NORM else x
    if variant in PLAIN:
        return torch.relu(h) @ weight
    if variant == "fixup":
        branch = torch.relu(torch.relu(h) @ weight) @ blocks["weight2"][:, layer]
    elif variant == "rezero":
        branch = torch.relu(h @ weight)
    else:
        branch = torch.relu(h) @ weight
    if variant in GATED:
        branch = blocks["gate"][:, layer].view(-1, 1, 1) * branch
    return x + branch


def blocks_forward(variant: str, x: torch.Tensor, blocks: dict, stat_rows: int | None = None) -> torch.Tensor:
    """x_L of M networks from x_0 (M, B, n) through every block."""
    for layer in range(blocks["weight"].shape[1]):
        x = block_forward(variant, x, blocks, layer, stat_rows)
    return x


def block_gradient_norms(blocks: dict) -> torch.Tensor:
    """(M, L): the Frobenius norm of dloss/d(the block's weight matrices) per network and block (after backward)."""
    squares = 0.0
    for name in ("weight", "weight2"):
        if name in blocks and blocks[name].grad is not None:
            squares = squares + blocks[name].grad.pow(2).flatten(2).sum(dim=2)
    return torch.sqrt(squares)
