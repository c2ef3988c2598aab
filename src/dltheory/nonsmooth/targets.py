"""Piecewise-smooth regression targets of Imaizumi & Fukumizu, JMLR 23(111), 2022, p. 8.

The class studied there is

    F^PS_{alpha,beta,M} = { sum_{m<M} f_m * 1_{R_m} :  f_m in H^beta([0,1]^D),  {R_m} in R_{alpha,M} },

where every region R_m is a union of the cells I_t = intersection_j I_j^{t_j}, t in {+,-}^J, and
I_j^+ = {x : x_{d_j} >= h_j(x_{-d_j})}, I_j^- = {x : x_{d_j} <= h_j(x_{-d_j})} with boundary functions
h_j in H^alpha([0,1]^{D-1}) (JMLR 2022, p. 8).  beta is the smoothness inside the pieces, alpha the
smoothness of the hypersurfaces that carry the jumps.

This module builds one concrete, seeded member of that class per configuration entry:

* ``lacunary_holder_function`` is the smooth building block, a Weierstrass-type series whose
  Hoelder exponent is the prescribed one at every scale the series covers;
* ``PiecewiseSmoothTarget`` assembles boundaries h_j and pieces f_m from it;
* ``estimate_holder_exponent`` measures the exponent of any such function from finite differences,
  so that tests can check that alpha and beta are what the construction claims.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property

import numpy as np

__all__ = [
    "BOUNDARY_CENTRE",
    "BOUNDARY_HALF_WIDTH",
    "CriticalScaleInstance",
    "CriticalScaleTarget",
    "PiecewiseSmoothTarget",
    "estimate_holder_exponent",
    "finite_difference_modulus",
    "lacunary_holder_function",
    "lacunary_scale_window",
    "lacunary_terms",
    "region_cell_specs",
    "smooth_bump",
    "target_from_config",
]

SeedLike = int | np.random.SeedSequence | np.random.Generator

# h_j = BOUNDARY_CENTRE + BOUNDARY_HALF_WIDTH * g with |g| <= 1, so h_j takes values in [0.3, 0.7].  Each
# cell I_t then contains the box where every bounded axis lies in [0, 0.3] or [0.7, 1]: no cell is
# empty and, for J <= 2, each has volume >= 0.3^J (>= 9 %), about 2^-J in practice.
BOUNDARY_CENTRE = 0.5
BOUNDARY_HALF_WIDTH = 0.2

# Independent random streams of one seed: adding a piece never changes the boundaries, and the
# grouping of sign patterns never changes either of them.
_BOUNDARY_STREAM = 0
_PIECE_STREAM = 1
_GROUPING_STREAM = 2
_CRITICAL_STREAM = 3  # the critical-scale instances' signs

# Beyond 2^30 the phase 2^j <w, u> keeps fewer than ~20 significant bits in float64.
_MAX_TERMS = 30

_REQUIRED_KEYS = ("name", "dim", "alpha", "beta", "pieces", "seed")
_OPTIONAL_KEYS = ("jump", "amplitude", "n_terms")


# ---------------------------------------------------------------------------------------------------------
# Smooth building block
# ---------------------------------------------------------------------------------------------------------


def lacunary_terms(
    n_vars: int, exponent: float, seed: SeedLike, n_terms: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Frequency vectors (n_terms, n_vars), phases (n_terms,) and amplitudes (n_terms,) summing to 1."""
    rng = np.random.default_rng(seed)
    # The draw order (directions, then phases) is part of every target's identity: changing it changes
    # every configured function.  Neither draw depends on the exponent, so the same seed at two
    # exponents gives the same shape at two roughnesses, which keeps targets comparable across alpha.
    directions = rng.standard_normal((n_terms, n_vars))
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    phases = rng.uniform(0.0, 1.0, n_terms)
    scales = 2.0 ** np.arange(n_terms)
    amplitudes = scales ** (-float(exponent))
    return directions * scales[:, None], phases, amplitudes / amplitudes.sum()


def lacunary_holder_function(u: np.ndarray, exponent: float, seed: SeedLike, n_terms: int = 8) -> np.ndarray:
    """Weierstrass-type lacunary series with Hoelder exponent ``exponent``, evaluated at ``u``.

    g(u) = sum_{j<J} a_j cos(2 pi (2^j <w_j, u> + theta_j)),   a_j = 2^{-j s} / sum_i 2^{-i s},

    with J = ``n_terms``, s = ``exponent``, independent uniform phases theta_j and directions w_j uniform
    on the unit sphere of R^k (k = number of columns of ``u``; for k = 1, w_j = +-1 is a random sign).
    One random direction per octave, rather than a sum of one-dimensional series over coordinates,
    makes the function genuinely k-variate: it is not additive and has the same roughness along every
    direction on average.

    Why this is Hoelder-s (the H^beta of JMLR 2022, p. 8): the r-th difference of the j-th term with
    step h is O(min(1, (2^j h)^r)), so for r > s, |Delta_h^r g| <~ sum_j 2^{-js} min(1, (2^j h)^r) ~ h^s,
    and lacunarity (frequency ratio 2) makes the bound attained, so s is also the best exponent.  For
    an integer s (e.g. 2) the infinite series lies in the Hoelder-Zygmund space Lambda^s = B^s_{inf,inf}:
    its (s-1)-th derivative is Zygmund-class (second differences O(h)), while the s-th derivative of the
    truncated series is bounded only by O(n_terms).  The truncated series is C^infinity, so the exponent
    is s only at scales 2^-(J-1) <~ h <~ 1 (see ``lacunary_scale_window``).

    Parameters
    ----------
    u : array of shape (n, k), or (n,) for k = 1. Any real points: the series is defined on R^k.
    exponent : Hoelder exponent s > 0.
    seed : int, SeedSequence or Generator fixing (w_j, theta_j); a Generator is consumed.
    n_terms : number of octaves J.

    Returns
    -------
    Array of shape (n,), values in [-1, 1] (the amplitudes are normalised to sum to 1).
    """
    u = np.asarray(u, dtype=np.float64)
    if u.ndim == 1:
        u = u[:, None]
    if u.ndim != 2:
        raise ValueError(f"u must have shape (n, k), got {u.shape}")
    if not exponent > 0:
        raise ValueError(f"exponent must be > 0, got {exponent}")
    if not 1 <= n_terms <= _MAX_TERMS:
        raise ValueError(f"n_terms must be in [1, {_MAX_TERMS}], got {n_terms}")
    frequencies, phases, amplitudes = lacunary_terms(u.shape[1], exponent, seed, n_terms)
    # Coordinates are accumulated one at a time instead of through a BLAS matmul so that the result is
    # bitwise reproducible regardless of the BLAS build and thread count.
    phase = np.broadcast_to(phases, (u.shape[0], n_terms)).copy()
    for i in range(u.shape[1]):
        phase += u[:, i : i + 1] * frequencies[:, i]
    # Reducing modulo 1 first keeps cos accurate for the high octaves.
    waves = np.cos(2.0 * np.pi * np.mod(phase, 1.0))
    out = np.zeros(u.shape[0])
    for j in range(n_terms):
        out += amplitudes[j] * waves[:, j]
    return out


# ---------------------------------------------------------------------------------------------------------
# Hoelder exponent estimation
# ---------------------------------------------------------------------------------------------------------


def lacunary_scale_window(n_terms: int, per_octave: int = 4) -> np.ndarray:
    """Steps h in [2^-(n_terms-1), 2^-3] at which a J = ``n_terms`` lacunary series shows its exponent.

    Below the finest wavelength 2^-(J-1) the truncated series is smooth and |Delta_h^r g| ~ h^r, so
    finer steps would report the finite-difference order, not the Hoelder exponent.  Above 2^-3 an
    r-th difference stencil of length r*h covers most of [0, 1], leaving only a few base points for the
    supremum, which is then biased low.  The grid spans a whole number of octaves with ``per_octave``
    points each, so that the log-periodic ripple (period one octave) of a ratio-2 lacunary series
    averages out of a fitted slope.
    """
    finest, coarsest = n_terms - 1, 3
    if finest - coarsest < 2:
        raise ValueError(f"n_terms={n_terms} covers fewer than two octaves below 2^-3; use n_terms >= 6")
    octaves = np.arange(coarsest * per_octave, finest * per_octave + 1) / per_octave
    return 2.0**-octaves


def finite_difference_modulus(
    func: Callable[[np.ndarray], np.ndarray],
    dim: int,
    scales: np.ndarray,
    *,
    order: int = 6,
    n_points: int = 2000,
    seed: int = 0,
) -> np.ndarray:
    """Empirical r-th order modulus of smoothness: max over sampled x, v of |Delta_{h v}^r func(x)|.

    Delta_{hv}^r f(x) = sum_{i=0}^r (-1)^(r-i) C(r, i) f(x + i h v), with v a random unit vector and x
    uniform among the points whose whole stencil lies in [0, 1]^dim, so ``func`` is only evaluated on
    the cube.  A function of Hoelder(-Zygmund) exponent s < r has modulus ~ h^s; the maximum (not a mean)
    is taken because the Hoelder seminorm of JMLR 2022, p. 8 is a supremum.

    Returns an array with one modulus per entry of ``scales``.
    """
    scales = np.asarray(scales, dtype=np.float64)
    if order * scales.max() >= 1.0:
        raise ValueError(f"order * max(scales) = {order * scales.max():.3g} must be < 1 to fit in the cube")
    rng = np.random.default_rng(seed)
    weights = np.array([(-1) ** (order - i) * math.comb(order, i) for i in range(order + 1)], dtype=float)
    moduli = np.empty(scales.shape)
    for k, h in enumerate(scales):
        v = rng.standard_normal((n_points, dim))
        v /= np.linalg.norm(v, axis=1, keepdims=True)
        reach = order * h * v
        low = np.maximum(-reach, 0.0)
        high = 1.0 - np.maximum(reach, 0.0)
        x = low + (high - low) * rng.uniform(size=(n_points, dim))
        stencil = x[None, :, :] + (np.arange(order + 1) * h)[:, None, None] * v[None, :, :]
        values = np.asarray(func(stencil.reshape(-1, dim)), dtype=np.float64).reshape(order + 1, n_points)
        moduli[k] = np.abs(weights @ values).max()
    return moduli


def estimate_holder_exponent(
    func: Callable[[np.ndarray], np.ndarray],
    dim: int,
    scales: np.ndarray | None = None,
    *,
    order: int = 6,
    n_points: int = 2000,
    seed: int = 0,
) -> float:
    """Hoelder exponent of ``func`` on [0, 1]^dim: slope of log max|Delta_h^r func| against log h.

    ``func`` maps (n, dim) arrays to (n,) arrays.  ``scales`` defaults to the window of an 8-term
    lacunary series (``lacunary_scale_window(8)``); pass the window matching the function's finest
    scale.  The estimate is valid for exponents below ``order``: any r > s gives modulus ~ h^s, and a
    larger r makes the coarse-scale part sum_{2^j h < 1} 2^{-js} (2^j h)^r converge faster (ratio
    2^-(r-s)), which shrinks the bias of a window only four octaves long.  Order 6 covers every
    exponent < 6 while its stencil still fits at h = 2^-3.
    """
    if scales is None:
        scales = lacunary_scale_window(8)
    scales = np.asarray(scales, dtype=np.float64)
    moduli = finite_difference_modulus(func, dim, scales, order=order, n_points=n_points, seed=seed)
    if np.any(moduli <= 0):
        raise ValueError("a finite difference vanished identically; is func constant along the samples?")
    slope, _ = np.polyfit(np.log(scales), np.log(moduli), 1)
    return float(slope)


# ---------------------------------------------------------------------------------------------------------
# Piecewise-smooth target
# ---------------------------------------------------------------------------------------------------------


def _is_int(value: object) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_real(value: object) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)


def _check_fields(fields: Mapping[str, object]) -> None:
    """Raise ValueError naming the first invalid key of a (possibly partial) target specification."""
    label = f"target {fields.get('name')!r}: " if "name" in fields else ""

    def fail(key: str, requirement: str) -> None:
        raise ValueError(f"{label}key {key!r} must be {requirement}, got {fields[key]!r}")

    if "name" in fields and not (isinstance(fields["name"], str) and fields["name"]):
        fail("name", "a non-empty string")
    if "dim" in fields and not (_is_int(fields["dim"]) and 2 <= fields["dim"] <= 10):
        fail("dim", "an integer in [2, 10] (the class needs D >= 2, JMLR 2022 p. 8)")
    for key in ("alpha", "beta"):
        if key in fields and not (_is_real(fields[key]) and fields[key] > 0):
            fail(key, "a finite number > 0")
    if "pieces" in fields:
        # J = ceil(log2 M) boundaries each bound a different axis, hence M <= 2^D.
        max_pieces = 2 ** fields["dim"] if _is_int(fields.get("dim")) else None
        if not (_is_int(fields["pieces"]) and fields["pieces"] >= 1):
            fail("pieces", "an integer >= 1")
        if max_pieces is not None and fields["pieces"] > max_pieces:
            fail("pieces", f"<= 2**dim = {max_pieces} (one boundary per axis)")
    if "seed" in fields and not (_is_int(fields["seed"]) and fields["seed"] >= 0):
        fail("seed", "an integer >= 0")
    for key in ("jump", "amplitude"):
        if key in fields and not (_is_real(fields[key]) and fields[key] >= 0):
            fail(key, "a finite number >= 0")
    if "n_terms" in fields and not (_is_int(fields["n_terms"]) and 1 <= fields["n_terms"] <= _MAX_TERMS):
        fail("n_terms", f"an integer in [1, {_MAX_TERMS}]")


@dataclass(frozen=True)
class PiecewiseSmoothTarget:
    """One seeded member f = sum_m f_m 1_{R_m} of F^PS_{alpha,beta,M} (Imaizumi & Fukumizu, JMLR 2022, p. 8).

    The function is fully determined by the fields (``name`` is a label only and enters no random
    stream), so equal fields give bitwise-equal values.

    Construction
    ------------
    * J = ceil(log2 M) boundaries; boundary j bounds axis d_j = (j - 1) mod D (the last axis, then the
      first, the second, ...), so distinct boundaries bound distinct axes and M <= 2^D.
    * h_j = 0.5 + 0.2 g_j with g_j a J-term lacunary Hoelder-alpha series in the D - 1 other coordinates,
      so h_j stays in [0.3, 0.7] and every cell I_t has substantial volume.
    * Sign patterns t in {+,-}^J (t_j = + iff x_{d_j} >= h_j) are grouped into M non-empty groups
      T_m, each inside one parity class of #{j : t_j = +}.  Crossing a single boundary flips the
      parity, so the two sides always belong to different pieces: every boundary carries a jump
      along its whole length, as in the lower-bound construction of JMLR 2022, p. 13.
    * f_m = offset_m + amplitude * g_m with g_m a lacunary Hoelder-beta series on [0,1]^D, |g_m| <= 1,
      and offset_m = +jump/2 on even-parity pieces, -jump/2 on odd ones.  Neighbouring pieces thus
      differ by jump on average and by at least jump - 2 * amplitude at every boundary point (0.5 at
      the defaults, so the singularity is a real jump everywhere), and |f| <= jump/2 + amplitude
      (0.75 at the defaults).
    * M = 1 is the smooth control: J = 0, f = amplitude * g_0, no singularity.
    """

    name: str
    dim: int
    alpha: float
    beta: float
    pieces: int
    seed: int
    jump: float = 1.0
    n_terms: int = 8
    # Half the default jump: small enough that the jump never drops below jump - 2 * amplitude = 0.5,
    # large enough that the Hoelder-beta part carries visible signal.
    amplitude: float = 0.25

    def __post_init__(self) -> None:
        _check_fields({key: getattr(self, key) for key in (*_REQUIRED_KEYS, *_OPTIONAL_KEYS)})

    # --- structure --------------------------------------------------------------------------------------

    @property
    def n_boundaries(self) -> int:
        """J = ceil(log2 M): the fewest boundaries whose 2^J sign patterns can be split into M groups."""
        return (self.pieces - 1).bit_length()

    @property
    def boundary_axes(self) -> tuple[int, ...]:
        """d_j for j < J: the axis whose coordinate boundary j bounds."""
        return tuple((j - 1) % self.dim for j in range(self.n_boundaries))

    def boundary_axis(self, j: int) -> int:
        """d_j, the axis bounded by boundary j: region I_j^+ is {x_{d_j} >= h_j(x_{-d_j})}."""
        return self.boundary_axes[self._check_boundary(j)]

    @cached_property
    def _pattern_piece(self) -> np.ndarray:
        """Lookup table: sign pattern (bit j set iff t_j = +) -> piece index."""
        n_patterns = 2**self.n_boundaries
        parity = np.array([bin(p).count("1") % 2 for p in range(n_patterns)])
        rng = np.random.default_rng(np.random.SeedSequence(self.seed, spawn_key=(_GROUPING_STREAM,)))
        # ceil(M/2) <= 2^(J-1) groups fit in the even class because M <= 2^J.
        n_groups = {0: (self.pieces + 1) // 2, 1: self.pieces // 2}
        table = np.empty(n_patterns, dtype=np.intp)
        piece = 0
        for cls in (0, 1):
            members = rng.permutation(np.flatnonzero(parity == cls))
            for group in np.array_split(members, n_groups[cls]) if n_groups[cls] else ():
                table[group] = piece
                piece += 1
        table.setflags(write=False)
        return table

    @property
    def pattern_groups(self) -> tuple[tuple[str, ...], ...]:
        """The partition {T_m} of {+,-}^J: for each piece the sign strings t_0 t_1 ... t_{J-1} it owns."""
        J = self.n_boundaries
        return tuple(
            tuple(
                "".join("+" if (p >> j) & 1 else "-" for j in range(J))
                for p in np.flatnonzero(self._pattern_piece == m)
            )
            for m in range(self.pieces)
        )

    @cached_property
    def offsets(self) -> tuple[float, ...]:
        """offset_m: +jump/2 for even-parity pieces, -jump/2 for odd ones, 0 for the smooth control."""
        if self.pieces == 1:
            return (0.0,)
        first_pattern = [int(np.flatnonzero(self._pattern_piece == m)[0]) for m in range(self.pieces)]
        return tuple(self.jump / 2 * (1.0 - 2.0 * (bin(p).count("1") % 2)) for p in first_pattern)

    # --- boundaries -------------------------------------------------------------------------------------

    def _check_boundary(self, j: int) -> int:
        if not (_is_int(j) and 0 <= j < self.n_boundaries):
            raise IndexError(f"boundary index {j} out of range for J = {self.n_boundaries}")
        return int(j)

    def boundary(self, j: int, u: np.ndarray) -> np.ndarray:
        """h_j(u) in [0.3, 0.7] for u of shape (n, dim - 1), the coordinates x_{-d_j} in axis order.

        For dim = 2 the singular curve of boundary j is {x : x_{d_j} = h_j(x_{1 - d_j})}.
        """
        j = self._check_boundary(j)
        u = np.asarray(u, dtype=np.float64)
        if u.ndim != 2 or u.shape[1] != self.dim - 1:
            raise ValueError(f"u must have shape (n, {self.dim - 1}), got {u.shape}")
        seed = np.random.SeedSequence(self.seed, spawn_key=(_BOUNDARY_STREAM, j))
        g = lacunary_holder_function(u, self.alpha, seed, self.n_terms)
        return BOUNDARY_CENTRE + BOUNDARY_HALF_WIDTH * g

    def boundary_function(self, j: int) -> Callable[[np.ndarray], np.ndarray]:
        """h_j as a callable on (n, dim - 1) arrays, e.g. for ``estimate_holder_exponent``."""
        j = self._check_boundary(j)
        return lambda u: self.boundary(j, u)

    def sign_patterns(self, X: np.ndarray) -> np.ndarray:
        """Boolean (n, J) array, entry j True iff t_j = +, i.e. x_{d_j} >= h_j(x_{-d_j})."""
        X = self._check_points(X)
        signs = np.empty((X.shape[0], self.n_boundaries), dtype=bool)
        for j, d in enumerate(self.boundary_axes):
            signs[:, j] = X[:, d] >= self.boundary(j, np.delete(X, d, axis=1))
        return signs

    # --- pieces -----------------------------------------------------------------------------------------

    def piece_index(self, X: np.ndarray) -> np.ndarray:
        """Index m of the region R_m containing each row of X (points on a boundary count as +)."""
        signs = self.sign_patterns(X)
        codes = signs.astype(np.intp) @ (1 << np.arange(self.n_boundaries, dtype=np.intp))
        return self._pattern_piece[codes]

    def piece(self, m: int, X: np.ndarray) -> np.ndarray:
        """f_m(X) on all of X: the Hoelder-beta function that f equals on R_m, extended to the whole cube."""
        if not (_is_int(m) and 0 <= m < self.pieces):
            raise IndexError(f"piece index {m} out of range for M = {self.pieces}")
        X = self._check_points(X)
        seed = np.random.SeedSequence(self.seed, spawn_key=(_PIECE_STREAM, int(m)))
        g = lacunary_holder_function(X, self.beta, seed, self.n_terms)
        return self.offsets[m] + self.amplitude * g

    def piece_function(self, m: int) -> Callable[[np.ndarray], np.ndarray]:
        """f_m as a callable on (n, dim) arrays, e.g. for ``estimate_holder_exponent``."""
        if not (_is_int(m) and 0 <= m < self.pieces):
            raise IndexError(f"piece index {m} out of range for M = {self.pieces}")
        return lambda X: self.piece(m, X)

    def __call__(self, X: np.ndarray) -> np.ndarray:
        """Noise-free f(X) = f_{m(x)}(x) for X of shape (n, dim); returns shape (n,) float64.

        X is meant to lie in [0, 1]^dim; outside it the series extensions of h_j and f_m are used.
        """
        X = self._check_points(X)
        index = self.piece_index(X)
        out = np.empty(X.shape[0])
        for m in range(self.pieces):
            mask = index == m
            if mask.any():
                out[mask] = self.piece(m, X[mask])
        return out

    def _check_points(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != self.dim:
            raise ValueError(f"{self.name}: X must have shape (n, {self.dim}), got {X.shape}")
        return X

    @classmethod
    def from_config(cls, spec: Mapping[str, object]) -> PiecewiseSmoothTarget:
        """Same as ``target_from_config``."""
        return target_from_config(spec)


# ---------------------------------------------------------------------------------------------------------
# Hard instances at the critical scale (issue 19)
# ---------------------------------------------------------------------------------------------------------


def smooth_bump(t: np.ndarray) -> np.ndarray:
    """prod_i psi(t_i), psi(s) = exp(1 - 1 / (1 - 4 s^2)) on |s| < 1/2 and 0 elsewhere: C^infinity, peak 1 at 0.

    Supported in the unit cell [-1/2, 1/2]^k, so bumps on a grid of cells never overlap, and h^s psi(x / h) has
    every Hoelder-s norm bounded independently of h (its s-th derivative is h^s h^-s psi^(s)).
    """
    t = np.asarray(t, np.float64)
    inside = np.abs(t) < 0.5
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        one_d = np.where(inside, np.exp(1.0 - 1.0 / np.maximum(1.0 - 4.0 * t**2, 1e-300)), 0.0)
    return np.prod(one_d, axis=-1)


def _bump_field(u: np.ndarray, width: float, signs: np.ndarray) -> np.ndarray:
    """sum_k signs[k] psi((u - c_k) / width) over the grid of cells of side ``width`` covering [0, 1]^k.

    Each point lies in one cell, and only that cell's bump is non-zero there, so the sum costs O(n).
    """
    per_axis = signs.shape[0]
    cell = np.clip(np.floor(u / width).astype(np.intp), 0, per_axis - 1)
    centre = (cell + 0.5) * width
    return signs[tuple(cell.T)] * smooth_bump((u - centre) / width)


@dataclass(frozen=True)
class CriticalScaleInstance:
    """One draw of a ``CriticalScaleTarget`` for sample size n: a fixed function of F^PS_{alpha,beta,M}."""

    target: CriticalScaleTarget
    n: int
    piece_width: float  # h_beta: side of the pieces' bump cells
    boundary_width: float  # h_alpha: side of the boundary's bump cells
    piece_signs: tuple[np.ndarray, ...]  # per piece, random signs of its bumps (shape (K,) * D)
    boundary_signs: np.ndarray | None  # random signs of the boundary's bumps (shape (K,) * (D - 1))

    def __getattr__(self, name):  # name, dim, alpha, beta, pieces, seed, ... of the target
        if name.startswith("__") or name == "target":
            raise AttributeError(name)
        return getattr(self.target, name)

    def boundary(self, u: np.ndarray) -> np.ndarray:
        """h(u) = 1/2 + boundary_height h_alpha^alpha sum_k eps_k psi((u - c_k) / h_alpha), u in [0, 1]^(D-1)."""
        t = self.target
        return 0.5 + t.boundary_height * self.boundary_width**t.alpha * _bump_field(
            np.asarray(u, np.float64), self.boundary_width, self.boundary_signs)

    def piece_index(self, X: np.ndarray) -> np.ndarray:
        """0 where x_D >= h(x_{-D}) (or everywhere for one piece), 1 below the boundary."""
        X = np.asarray(X, np.float64)
        if self.target.pieces == 1:
            return np.zeros(len(X), np.intp)
        return (X[:, -1] < self.boundary(X[:, :-1])).astype(np.intp)

    def __call__(self, X: np.ndarray) -> np.ndarray:
        """f(x) = offset_m + piece_height h_beta^beta sum_k eps_{m,k} psi((x - c_k) / h_beta) on piece m."""
        t = self.target
        X = np.asarray(X, np.float64)
        if X.ndim != 2 or X.shape[1] != t.dim:
            raise ValueError(f"{t.name}: X must have shape (n, {t.dim}), got {X.shape}")
        index = self.piece_index(X)
        out = np.empty(len(X))
        for m in range(t.pieces):
            mask = index == m
            offset = 0.0 if t.pieces == 1 else t.jump / 2 * (1 - 2 * m)
            out[mask] = offset + t.piece_height * self.piece_width**t.beta * _bump_field(
                X[mask], self.piece_width, self.piece_signs[m])
        return out


@dataclass(frozen=True)
class CriticalScaleTarget:
    """Hard members of F^PS_{alpha,beta,M} whose roughness sits at the critical scale of each sample size n.

    A fixed target cannot test a worst-case rate (Prop 15's linear lower bound, the minimax rates of Thm 13): an
    estimator may beat the worst case on one function, and a fixed smooth function carries its nominal smoothness
    only at scales coarser than its finest term. Here the function changes with n, as in the lower-bound
    constructions behind J Thm 13 and Prop 15 (after Korostelev & Tsybakov, *Minimax Theory of Image
    Reconstruction*, 1993, and J p. 13's boundary fragments):

    * pieces: f_m = offset_m + c_beta h_beta^beta sum_k eps_{m,k} psi((x - c_k) / h_beta), random signs eps on a
      grid of cells of side h_beta = s_beta n^{-1/(2 beta + D)}, the scale where squared bias and variance of
      estimating a Hoelder-beta function balance: every estimator's error is ~ n^{-2beta/(2beta+D)} on them;
    * the boundary (M = 2): x_D = 1/2 + c_alpha h_alpha^alpha sum_k eps_k psi((u - c_k) / h_alpha) over
      u = x_{-D}, with h_alpha = s_alpha n^{-1/(2 alpha + D - 1)}, the scale of J Prop 15's linear lower bound:
      bumps of height ~h^alpha that a linear estimator cannot follow, while the DNN's boundary rate
      n^{-alpha/(alpha+D-1)} resolves finer scales.

    Every instance lies in a Hoelder ball of radius independent of n (psi is C^infinity and each bump is h^s psi(x/h)).
    The signs are drawn afresh for every (n, replicate), so the replicates average over random members of the
    class, as Assouad's lemma does. ``scale_*`` and ``*_height`` are ours (the config's ``instance`` options).
    """

    name: str
    dim: int
    alpha: float
    beta: float
    pieces: int
    seed: int
    jump: float = 1.0
    piece_height: float = 1.0
    boundary_height: float = 0.25
    piece_scale: float = 1.0
    boundary_scale: float = 1.0

    def __post_init__(self) -> None:
        _check_fields({key: getattr(self, key) for key in _REQUIRED_KEYS if hasattr(self, key)})
        if self.pieces not in (1, 2):
            raise ValueError(f"target {self.name!r}: key 'pieces' must be 1 or 2 for a critical-scale target, "
                             f"got {self.pieces}")
        for key in ("jump", "piece_height", "boundary_height", "piece_scale", "boundary_scale"):
            value = getattr(self, key)
            if not (_is_real(value) and value >= 0 and (value > 0 or key in ("jump", "piece_height"))):
                raise ValueError(f"target {self.name!r}: key {key!r} must be a finite number > 0, got {value!r}")
        if self.boundary_height * self.boundary_scale**self.alpha > 0.45:
            raise ValueError(f"target {self.name!r}: boundary_height * boundary_scale**alpha must be <= 0.45 so the "
                             "boundary stays inside the cube")


    def widths(self, n: int) -> tuple[float, float]:
        """(h_beta, h_alpha) at sample size n, each at most 1."""
        piece = self.piece_scale * n ** (-1.0 / (2 * self.beta + self.dim))
        boundary = self.boundary_scale * n ** (-1.0 / (2 * self.alpha + self.dim - 1))
        return min(piece, 1.0), min(boundary, 1.0)

    def at(self, n: int, replicate: int) -> CriticalScaleInstance:
        """The instance for sample size n and replicate r: its random signs come from (seed, n, r) only."""
        piece_width, boundary_width = self.widths(n)
        rng = np.random.default_rng(np.random.SeedSequence(self.seed, spawn_key=(_CRITICAL_STREAM, int(n),
                                                                                   int(replicate))))
        per_piece = math.ceil(1.0 / piece_width - 1e-9)
        per_boundary = math.ceil(1.0 / boundary_width - 1e-9)
        piece_signs = tuple(rng.choice([-1.0, 1.0], size=(per_piece,) * self.dim) for _ in range(self.pieces))
        boundary_signs = (rng.choice([-1.0, 1.0], size=(per_boundary,) * (self.dim - 1))
                          if self.pieces == 2 else None)
        return CriticalScaleInstance(self, int(n), piece_width, boundary_width, piece_signs, boundary_signs)


def region_cell_specs(section: Mapping[str, object]) -> dict[str, dict]:
    """The target spec of every (alpha, beta) cell of the config's ``region`` section, named a<alpha>_b<beta>.

    Every cell shares the dimension, number of pieces, seed, jump, amplitude and number of octaves (``n_terms``,
    8 when the section has none); only alpha and beta vary.
    """
    specs = {}
    for alpha in section["alphas"]:
        for beta in section["betas"]:
            name = f"a{alpha:g}_b{beta:g}"
            specs[name] = {
                "name": name, "dim": section["dim"], "alpha": float(alpha), "beta": float(beta),
                "pieces": section["pieces"], "seed": section["target_seed"], "jump": section["jump"],
                "amplitude": section["amplitude"], "n_terms": section.get("n_terms", 8),
            }
    return specs


_CRITICAL_KEYS = ("jump", "piece_height", "boundary_height", "piece_scale", "boundary_scale")


def target_from_config(spec: Mapping[str, object]) -> PiecewiseSmoothTarget | CriticalScaleTarget:
    """Build a target from a config entry, e.g. {"name": "jump2d", "dim": 2, "alpha": 2.0, "beta": 2.0,
    "pieces": 3, "seed": 1}, with optional keys ``jump``, ``amplitude`` and ``n_terms``; ``instance: critical``
    builds a ``CriticalScaleTarget`` instead (optional keys ``jump``, ``piece_height``, ``boundary_height``,
    ``piece_scale``, ``boundary_scale``).

    A new target is a new config entry, never new code.  Raises ValueError naming the offending key
    for a missing or unknown key or an invalid value.
    """
    if not isinstance(spec, Mapping):
        raise ValueError(f"a target spec must be a mapping, got {type(spec).__name__}")
    label = f"target {spec.get('name')!r}: " if "name" in spec else ""
    for key in _REQUIRED_KEYS:
        if key not in spec:
            raise ValueError(f"{label}missing required key {key!r}")
    instance = spec.get("instance", "fixed")
    if instance not in ("fixed", "critical"):
        raise ValueError(f"{label}key 'instance' must be 'fixed' or 'critical', got {instance!r}")
    if instance == "critical":
        unknown = [key for key in spec if key not in (*_REQUIRED_KEYS, "instance", *_CRITICAL_KEYS)]
        if unknown:
            allowed = ", ".join((*_REQUIRED_KEYS, "instance", *_CRITICAL_KEYS))
            raise ValueError(f"{label}unknown key {unknown[0]!r} for a critical-scale target (allowed: {allowed})")
        _check_fields({key: spec[key] for key in _REQUIRED_KEYS})
        fields = {key: spec[key] for key in spec if key != "instance"}
        for key in ("alpha", "beta", *_CRITICAL_KEYS):
            if key in fields:
                fields[key] = float(fields[key])
        return CriticalScaleTarget(**fields)
    for key in spec:
        if key not in (*_REQUIRED_KEYS, *_OPTIONAL_KEYS, "instance"):
            allowed = ", ".join(_REQUIRED_KEYS + _OPTIONAL_KEYS)
            raise ValueError(f"{label}unknown key {key!r} (allowed: {allowed})")
    _check_fields(spec)
    fields = {key: value for key, value in spec.items() if key != "instance"}
    for key in ("alpha", "beta", "jump", "amplitude"):
        if key in fields:
            fields[key] = float(fields[key])
    for key in ("dim", "pieces", "seed", "n_terms"):
        if key in fields:
            fields[key] = int(fields[key])
    return PiecewiseSmoothTarget(**fields)
