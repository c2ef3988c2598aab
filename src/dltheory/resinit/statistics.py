"""Forward and backward signal statistics at initialisation against depth (Taki, arXiv 1709.02956; issue 25, M11).

For every variant and depth L, the seeds' networks run as one batched float64 program (float32 overflows: res_he at
L = 128 reaches about 2^128 > 3.4e38) on a batch of standardised digits:

* forward ratio q_L / q_0, with q_l = mean of x_l^2 over units and inputs (the mean-field length of the signal);
* backward ratio of the same for the signal's gradient, E|dloss/dx_0|^2 / E|dloss/dx_L|^2, under a random linear
  read-out loss sum_b <v_b, x_L(b)> with v ~ N(0, 1) (our choice: the backward pass starts from a fixed-variance
  vector, so the ratio measures the blocks alone; a cross-entropy loss saturates when the forward signal explodes);
* the Frobenius norm of each block's weight gradient (the per-block profile; first/last ratio) and, for SkipInit and
  ReZero, the gate gradients |dloss/da_l| (their weight gradients are 0 while the gates are);
* whether every value is finite.
"""

import numpy as np
import pandas as pd
import torch

from dltheory.resinit.data import input_batch
from dltheory.resinit.networks import GATED, init_blocks
from dltheory.resinit.settings import FAMILY, ResinitSettings, taki_label
from dltheory.seeds import derive_seed
from dltheory.settings import from_config

DTYPE = torch.float64


def block_normals(seed: int, replicates: int, depth: int, width: int) -> torch.Tensor:
    """(R, L, n, n) standard normals, one generator per (seed, replicate, depth): every variant and scale of a
    replicate shares them."""
    draws = []
    for replicate in range(replicates):
        generator = torch.Generator().manual_seed(derive_seed(seed, FAMILY, "blocks", replicate, depth))
        draws.append(torch.randn(depth, width, width, generator=generator, dtype=DTYPE))
    return torch.stack(draws)


def measurement_inputs(seed: int, replicates: int, batch: int, width: int) -> tuple[torch.Tensor, torch.Tensor]:
    """x_0 = u W_in (W_in ~ N(0, 1/d), no bias) for each replicate's digits u, and the read-out directions v; both
    (R, B, n)."""
    x0, readout = [], []
    for replicate in range(replicates):
        u = torch.tensor(input_batch(seed, replicate, batch), dtype=DTYPE)
        generator = torch.Generator().manual_seed(derive_seed(seed, FAMILY, "input_layer", replicate))
        w_in = torch.randn(u.shape[1], width, generator=generator, dtype=DTYPE) / np.sqrt(u.shape[1])
        x0.append(u @ w_in)
        readout.append(torch.randn(batch, width, generator=generator, dtype=DTYPE))
    return torch.stack(x0), torch.stack(readout)


def signal_statistics(variants, x0: torch.Tensor, readout: torch.Tensor, normals: torch.Tensor,
                      scales: torch.Tensor, c=2.0) -> dict[str, np.ndarray]:
    """The statistics at depth L = normals.shape[1] of M networks of one block form at once (module docstring):
    ``variants`` and ``c`` per network (or one for all); arrays of shape (M,) or (M, L)."""
    depth = normals.shape[1]
    blocks = init_blocks(variants, normals, scales, depth, c).requires_grad_()
    x0 = x0.detach().clone().requires_grad_()
    x_last = blocks.forward(x0)
    (readout * x_last).sum().backward()
    q0 = x0.detach().pow(2).mean(dim=(1, 2))
    gradient_norms = blocks.gradient_norms()
    out = {
        "forward_ratio": x_last.detach().pow(2).mean(dim=(1, 2)) / q0,
        "backward_ratio": x0.grad.pow(2).mean(dim=(1, 2)) / readout.pow(2).mean(dim=(1, 2)),
        "q0": q0,
        "first_last_gradient_ratio": gradient_norms[:, 0] / gradient_norms[:, -1],
        "block_gradient_norm": gradient_norms,
    }
    gate = blocks.parameters["gate"]
    out["gate_gradient"] = gate.grad.abs() if gate.grad is not None else torch.zeros_like(gate)
    finite = torch.isfinite(out["forward_ratio"]) & torch.isfinite(out["backward_ratio"])
    out["finite"] = finite.to(DTYPE)
    return {k: v.cpu().numpy() for k, v in out.items()}


@torch.no_grad()
def initial_output(variant: str, x0: torch.Tensor, normals: torch.Tensor, scales: torch.Tensor,
                   c: float = 2.0) -> torch.Tensor:
    """x_L of M untrained networks of one variant (forward only)."""
    return init_blocks(variant, normals, scales, normals.shape[1], c).forward(x0)


def taki_rescaling_check(x0, normals, c: float) -> tuple[np.ndarray, np.ndarray]:
    """Sanity case: res_taki at scale 1 against res_he at scale sqrt(c / (2L)) from the same normals; per network
    the largest |difference| of x_L over its largest |x_L|, and whether x_L is bit-for-bit identical."""
    depth, models = normals.shape[1], normals.shape[0]
    ones = torch.ones(models, dtype=DTYPE, device=normals.device)
    taki = initial_output("res_taki", x0, normals, ones, c)
    he = initial_output("res_he", x0, normals, ones * np.sqrt(c / (2 * depth)), c)
    difference = (taki - he).abs().flatten(1).max(dim=1).values / he.abs().flatten(1).max(dim=1).values
    identical = (taki == he).flatten(1).all(dim=1)
    return difference.cpu().numpy(), identical.cpu().numpy().astype(float)


def measured_networks(settings: ResinitSettings) -> list[tuple[str, str, float]]:
    """(label, variant, c) of every measured network: res_taki once per c."""
    runs = []
    for variant in settings.variants:
        for c in settings.taki_c if variant == "res_taki" else (2.0,):
            runs.append((taki_label(c) if variant == "res_taki" else variant, variant, float(c)))
    return runs


def run_statistics(section, seed: int, device=None) -> pd.DataFrame:
    """Every variant (res_taki once per c) at every depth, its seeds as one batched program (batching the variants
        too was twice as slow here: the float64 stacks are memory-bound, not overhead-bound). Tidy rows per (variant,
    depth, replicate, metric), the per-block gradient profile at ``profile_depth``, and the sanity rows."""
    settings = from_config(ResinitSettings, section, FAMILY)
    replicates, width = settings.replicates, settings.width
    x0, readout = (t.to(device) for t in measurement_inputs(seed, replicates, settings.batch, width))
    ones = torch.ones(replicates, dtype=DTYPE, device=device)
    rows = []
    for depth in settings.depths:
        normals = block_normals(seed, replicates, depth, width).to(device)
        for label, variant, c in measured_networks(settings):
            stats = signal_statistics(variant, x0, readout, normals, ones, c)
            base = {"part": "statistics", "variant": label, "depth": depth}
            for r in range(replicates):
                rows += [{**base, "replicate": r, "metric": name, "value": float(stats[name][r])}
                         for name in ("forward_ratio", "backward_ratio", "q0", "first_last_gradient_ratio",
                                      "finite")]
            if depth == settings.profile_depth:
                profile = ["block_gradient_norm"] + (["gate_gradient"] if variant in GATED else [])
                rows += [{**base, "part": "profile", "replicate": r, "block": b + 1, "metric": name,
                          "value": float(stats[name][r, b])}
                         for name in profile for r in range(replicates) for b in range(depth)]
        if "res_taki" in settings.variants:
            for c in settings.taki_c:
                difference, identical = taki_rescaling_check(x0, normals, c)
                base = {"part": "sanity", "variant": taki_label(c), "depth": depth}
                for r in range(replicates):
                    rows += [{**base, "replicate": r, "metric": "rescaled_he_relative_difference",
                              "value": float(difference[r])},
                             {**base, "replicate": r, "metric": "rescaled_he_identical", "value": float(identical[r])}]
    return pd.DataFrame(rows)
