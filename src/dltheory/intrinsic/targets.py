"""Regression functions f_0 of Nakada & Imaizumi, JMLR 21(174), 2020, Sims 6.1 (p. 12) and 6.2 (p. 13).

Both are functions on the ambient cube [0, 1]^D, built from one univariate piece per coordinate that
changes formula at x_i = 0.5. The paper evaluates them only on the data support (a sphere, a union of
balls), where the theory says the ambient D does not matter.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

__all__ = [
    "TARGETS",
    "make_target",
    "nakada_ball_piece",
    "nakada_ball_target",
    "nakada_sphere_piece",
    "nakada_sphere_target",
]

_SQRT2_MINUS_1 = math.sqrt(2.0) - 1.0


def _as_points(X) -> np.ndarray:
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or X.shape[1] < 1:
        raise ValueError(f"X must be an (n, D) array with D >= 1, got shape {X.shape}")
    return X


def nakada_sphere_piece(t) -> np.ndarray:
    """The univariate piece of Sim 6.1: 2 sin(2 pi t) for t <= 0.5, else 4pi/(sqrt2-1) (t - 2^{-1/2})^2 - pi(sqrt2-1).

    Both formulas are 0 with slope -4 pi at t = 0.5, so the piece is C^1 with a jump in the second
    derivative (0 from the left, 8 pi/(sqrt2-1) from the right): Hoelder smoothness beta = 2, as stated.
    """
    t = np.asarray(t, dtype=float)
    left = 2.0 * np.sin(2.0 * np.pi * t)
    right = 4.0 * np.pi / _SQRT2_MINUS_1 * (t - 2.0**-0.5) ** 2 - np.pi * _SQRT2_MINUS_1
    return np.where(t <= 0.5, left, right)


def nakada_sphere_target(X) -> np.ndarray:
    """Sim 6.1's f_0 (N p. 12, beta = 2), of each row of X (n, D).

    f_0(x) = 1/(D-1) sum_{i<D} x_i x_{i+1} + 1/D sum_i piece(x_i), piece = ``nakada_sphere_piece``.
    For D = 1 the neighbour-product sum is empty and taken as 0 (ours; the paper has D = 128).
    """
    X = _as_points(X)
    D = X.shape[1]
    interaction = np.sum(X[:, :-1] * X[:, 1:], axis=1) / max(D - 1, 1)
    return interaction + np.mean(nakada_sphere_piece(X), axis=1)


def nakada_ball_piece(t) -> np.ndarray:
    """The univariate piece of Sim 6.2: t^2 for t <= 0.5, else 3/4 - t.

    Both are 1/4 at t = 0.5 with slopes +1 and -1: continuous with a kink, Hoelder smoothness beta = 1.
    """
    t = np.asarray(t, dtype=float)
    return np.where(t <= 0.5, t**2, 0.75 - t)


def nakada_ball_target(X) -> np.ndarray:
    """Sim 6.2's f_0 (N p. 13, beta = 1): 1/D sum_i piece(x_i) of each row of X (n, D)."""
    return np.mean(nakada_ball_piece(_as_points(X)), axis=1)


TARGETS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "nakada_sphere": nakada_sphere_target,
    "nakada_ball": nakada_ball_target,
}


def make_target(name: str, scale: float = 1.0) -> Callable[[np.ndarray], np.ndarray]:
    """The target ``name`` of ``TARGETS`` multiplied by ``scale`` (1 is the paper's function)."""
    if name not in TARGETS:
        raise ValueError(f"unknown target {name!r}; known: {', '.join(TARGETS)}")
    if not (isinstance(scale, int | float) and math.isfinite(scale)):
        raise ValueError(f"scale must be a finite number, got {scale!r}")
    base = TARGETS[name]
    scale = float(scale)

    def target(X) -> np.ndarray:
        return scale * base(X)

    target.__name__ = f"{name}_x{scale:g}"
    target.__doc__ = f"{scale:g} times {base.__name__}."
    return target
