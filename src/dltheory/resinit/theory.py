"""Theory lines of the resinit family: the growth of the signal's mean square through L blocks at initialisation.

For the residual block x_{l+1} = x_l + W_l relu(x_l) with Var[w] = sigma^2 / n and a sign-symmetric x_l,
E|x_{l+1}|^2 = E|x_l|^2 (1 + sigma^2 / 2), derived in ../shared/papers/resinit.md ("Derived expectations", a [D]
entry to be checked against Taki's PDF, arXiv 1709.02956); the same factor multiplies the gradient's mean square on
the way back. Batch norm before the branch's ReLU feeds the branch a unit-variance input, so each block adds
sigma^2 / 2 = 1 (He) to q instead of multiplying it.
"""

import numpy as np


def residual_growth(depth, sigma2: float) -> np.ndarray:
    """q_L / q_0 = (1 + sigma^2 / 2)^L of a residual net whose branches have Var[w] = sigma^2 / n (He: 2^L)."""
    return (1.0 + sigma2 / 2.0) ** np.asarray(depth, float)


def taki_growth(depth, c: float) -> np.ndarray:
    """q_L / q_0 = (1 + c / (2L))^L with Taki's Var[w] = c / (nL): increasing in L towards e^{c/2}."""
    depth = np.asarray(depth, float)
    return (1.0 + c / (2.0 * depth)) ** depth


def taki_bound(c: float) -> float:
    """e^{c/2}: the bound of (1 + c / (2L))^L over every depth L."""
    return float(np.exp(c / 2.0))


def batch_norm_growth(depth, q0: float = 1.0) -> np.ndarray:
    """q_L / q_0 = 1 + L / q_0 when batch norm precedes the branch's ReLU and the branch is He (each block adds 1)."""
    return 1.0 + np.asarray(depth, float) / q0
