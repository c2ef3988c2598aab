"""Maximum mean discrepancy with CGNN's kernel: the loss and the score of CGNN (Goudet et al., arXiv 1709.05321).

The kernel is a sum of Gaussians k(u, v) = Σ_γ exp(−γ‖u − v‖²) over the bandwidths ``CGNN_GAMMAS`` of cdt's
``MMDloss`` (``cdt/utils/loss.py``, cdt 0.6.0; ``shared/papers/causal.md`` section 2 table, column P). The estimator
is the biased V-statistic MMD_b² of Gretton et al. (JMLR 2012), which is what ``MMDloss`` computes: it sums
sᵀKs over the Gram matrix K of the pooled points with s = (1/n, …, 1/n, −1/n, …, −1/n), diagonal included.
``mmd_squared`` holds K whole (the reference). CGNN's training loss (``cgnn.cgnn_mmd_squared``, and its fused form)
reduces K a tile at a time, in memory linear in the points, and uses that its two samples share the cause column.
"""

from collections.abc import Sequence

import torch

from dltheory.causal.settings import CGNN_GAMMAS  # noqa: F401  (written once, torch-free)

# Exponents are floored here: exp(−80) ≈ 2e-35 is far below any kernel sum's rounding (each contains terms near 1,
# the γ = 0.01 one on standardized data), while exp on CPU takes a ~10× slower path once its result underflows
# float32's normal range (e^−87), which γ = 100 reaches at a squared distance of 0.9. Measured on this project's
# 2-core CPU: 1.3 ms against 0.1 ms for 120k exps.
EXPONENT_FLOOR = -80.0


def squared_distances(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """‖a_i − b_j‖² for a (..., n, d) and b (..., m, d): shape (..., n, m).

    Expanded as ‖a‖² + ‖b‖² − 2a·b and clamped at 0 (rounding can take it below), not ``torch.cdist``: cdist's
    square root has no finite gradient at coincident points, which MMD between a sample and itself always has.
    """
    cross = a @ b.transpose(-1, -2)
    squared = a.pow(2).sum(-1)[..., :, None] + b.pow(2).sum(-1)[..., None, :] - 2.0 * cross
    return squared.clamp_min(0.0)


def gaussian_kernel_sum(squared: torch.Tensor, gammas: Sequence[float] = CGNN_GAMMAS) -> torch.Tensor:
    """Σ_γ exp(−γ d²) elementwise on squared distances d²: CGNN's kernel (cdt ``MMDloss``), exponents floored."""
    if len(gammas) == 0:
        raise ValueError("the kernel needs at least one gamma")
    return sum(torch.exp((-gamma * squared).clamp_min(EXPONENT_FLOOR)) for gamma in gammas)


def mmd_squared(a: torch.Tensor, b: torch.Tensor, gammas: Sequence[float] = CGNN_GAMMAS) -> torch.Tensor:
    """Biased MMD² = 1/n² Σ k(a_i, a_j) + 1/m² Σ k(b_i, b_j) − 2/(nm) Σ k(a_i, b_j), differentiable.

    a (..., n, d) and b (..., m, d); leading axes are independent models or tasks, one value each. For n = m this
    is cdt's ``MMDloss(n)(a, b)`` (the V-statistic MMD_b² of Gretton et al. 2012, diagonal terms kept, so it is ≥ 0
    and 0 for identical samples). One Gram matrix of the pooled points gives all three blocks; the signed weights
    s (1/n on a, −1/m on b) turn its three block sums into one quadratic form sᵀKs. Cost: (n + m)² kernel entries
    per leading index and gamma, in time and memory (autograd keeps one such matrix per gamma).
    """
    n, m = a.shape[-2], b.shape[-2]
    if n < 1 or m < 1:
        raise ValueError(f"mmd_squared needs points in both samples, got {n} and {m}")
    pooled = torch.cat([a, b], dim=-2)
    gram = gaussian_kernel_sum(squared_distances(pooled, pooled), gammas)
    signed_weights = torch.cat([a.new_full((n,), 1.0 / n), a.new_full((m,), -1.0 / m)])
    return ((gram * signed_weights[:, None]).sum(-2) * signed_weights).sum(-1)
