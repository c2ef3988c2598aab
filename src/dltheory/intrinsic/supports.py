"""Data supports of low intrinsic dimension in [0, 1]^D: Nakada & Imaizumi, JMLR 21(174), 2020, Sec. 6.

The paper's rates depend on the Minkowski dimension of the support of the design distribution mu, not on
the ambient dimension D (Thm 7: n^{-2 beta/(2 beta + d)} for any d > dim_M supp mu). Its simulations draw
X from two such supports, whose placement the paper does not give; the choices below are ours:

* Sim 6.1 (p. 12): mu uniform on a d-dimensional sphere embedded in [0, 1]^D, D = 128, d in {4, 16, 64,
  100}. ``EmbeddedSphere``: the unit sphere S^d of R^{d+1}, centred at the centre of the cube, placed in R^D
  by an orthonormal frame: ``repeated_axes`` (the default: sphere coordinate i on the cube axes j = i mod
  (d+1), so every embedded coordinate is 0.5 + radius u_i and crosses f_0's switch point 0.5) or
  ``from_seed`` (a Haar-random rotation, on which f_0 is 99 % linear: each coordinate then moves by only
  ~radius / sqrt(D) around 0.5).
* Sim 6.2 (p. 13): mu uniform on "a union of a d-dimensional l^{1/2} ball and an l^2 ball", which is not
  a manifold, (D, d) in {(5, 2), (5, 4)}. ``BallUnion``: the two balls, each in its own random d-flat,
  sharing their centre (so they intersect), points drawn half from each.

Every sampler takes a ``numpy.random.Generator``; the random geometry (frames) is drawn once from a
seed by ``from_seed``, so one seed fixes one support and the data draws vary separately.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np

__all__ = [
    "BallUnion",
    "EmbeddedSphere",
    "LpBall",
    "lp_quasi_norm",
    "random_frame",
    "uniform_lp_ball",
]

# Orthonormality of a frame is checked to this accuracy (QR gives ~1e-15).
_FRAME_TOLERANCE = 1e-10


def random_frame(ambient_dim: int, n_columns: int, rng: np.random.Generator) -> np.ndarray:
    """A Haar-random D x k matrix with orthonormal columns (k <= D).

    QR of a Gaussian matrix, with the columns' signs fixed so that diag(R) > 0: without the fix the
    factor Q is not Haar distributed (Mezzadri, Notices AMS 54, 2007).
    """
    q, r = np.linalg.qr(rng.standard_normal((ambient_dim, n_columns)))
    signs = np.sign(np.diag(r))
    signs[signs == 0] = 1.0
    return q * signs


def lp_quasi_norm(T: np.ndarray, p: float) -> np.ndarray:
    """||t||_p = (sum_i |t_i|^p)^{1/p} of each row of T; a quasi-norm (no triangle inequality) for p < 1."""
    return np.sum(np.abs(T) ** p, axis=-1) ** (1.0 / p)


def uniform_lp_ball(n: int, dim: int, p: float, rng: np.random.Generator) -> np.ndarray:
    """n points uniform in the unit l^p ball {t in R^dim : ||t||_p <= 1}, for any p > 0.

    Barthe, Guedon, Mendelson & Naor (Ann. Probab. 33, 2005, Thm 1): with g_i iid of density
    proportional to exp(-|t|^p) and W ~ Exp(1) independent, g / (sum_i |g_i|^p + W)^{1/p} is uniform in
    the ball. The proof only uses that ||.||_p is 1-homogeneous, so it holds for p < 1 as well. The g_i
    are drawn as random signs times G^{1/p} with G ~ Gamma(1/p, 1), since |g_i|^p ~ Gamma(1/p, 1).
    """
    if not p > 0:
        raise ValueError(f"p must be positive, got {p!r}")
    magnitudes = rng.gamma(1.0 / p, 1.0, size=(n, dim)) ** (1.0 / p)
    g = magnitudes * rng.choice([-1.0, 1.0], size=(n, dim))
    w = rng.exponential(1.0, size=n)
    return g / (np.sum(magnitudes**p, axis=1) + w)[:, None] ** (1.0 / p)


def _check_dims(ambient_dim, intrinsic_dim, *, extra: int) -> None:
    """Both dimensions positive integers and intrinsic_dim + extra <= ambient_dim."""
    for name, value in (("ambient_dim", ambient_dim), ("intrinsic_dim", intrinsic_dim)):
        if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    if intrinsic_dim + extra > ambient_dim:
        needed = "intrinsic_dim + 1" if extra else "intrinsic_dim"
        raise ValueError(f"intrinsic_dim = {intrinsic_dim} does not fit: need {needed} <= ambient_dim = {ambient_dim}")


def _check_frame(frame: np.ndarray, shape: tuple[int, int]) -> None:
    if frame.shape != shape:
        raise ValueError(f"frame must have shape {shape}, got {frame.shape}")
    if not np.allclose(frame.T @ frame, np.eye(shape[1]), atol=_FRAME_TOLERANCE):
        raise ValueError("frame must have orthonormal columns")


def _check_inside_cube(centre: np.ndarray, radius: float, frame: np.ndarray | None = None) -> None:
    """Every point centre + radius * frame t with |t|_2 <= 1 lies in [0, 1]^D.

    Coordinate i moves by at most radius * |q_i| (q_i the i-th row of the frame, Cauchy-Schwarz), and |q_i| <= 1
    for orthonormal columns; without a frame the bound |q_i| = 1 is used.
    """
    if not (np.isfinite(radius) and radius > 0):
        raise ValueError(f"radius must be positive, got {radius!r}")
    reach = radius * (np.linalg.norm(frame, axis=1) if frame is not None else 1.0)
    if np.any(reach > np.minimum(centre, 1.0 - centre) + 1e-12):
        raise ValueError(f"radius {radius} leaves [0, 1]^D around centre {centre}")


def _frozen(array) -> np.ndarray:
    out = np.array(array, dtype=float)
    out.setflags(write=False)
    return out


def _flat_coordinates(X: np.ndarray, centre: np.ndarray, frame: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Coordinates frame'(x - c) in the affine flat c + span(frame), and the distance of x to that flat."""
    offset = np.asarray(X, dtype=float) - centre
    coordinates = offset @ frame
    residual = np.linalg.norm(offset - coordinates @ frame.T, axis=1)
    return coordinates, residual


# ---------------------------------------------------------------------------------------------------------
# Sim 6.1: a d-sphere in [0, 1]^128
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class EmbeddedSphere:
    """The sphere {centre + radius * frame u : u in S^d}, S^d the unit sphere of R^{d+1} (N Sim 6.1, p. 12).

    The paper says only "a d-dimensional sphere embedded in [0, 1]^D". Ours: centre 0.5 in every coordinate,
    and one of two frames (D x (d+1), orthonormal columns):

    * ``repeated_axes`` (the default run): m = floor(D / (d+1)) copies of the d+1 axes, column i the
      indicator of the axes j < m (d+1) with j = i mod (d+1), divided by sqrt(m). With radius sqrt(m) r every
      embedded coordinate is 0.5 + r u_{j mod (d+1)}: it crosses f_0's switch point 0.5 with spread r / sqrt(d+1),
      so f_0 is non-linear on the sphere with O(1) amplitude (for d = 4: SD 0.46, R^2 of a linear fit 0.56), and
      the same function of u for every D (the last D - m (d+1) < d+1 coordinates stay at 0.5).
    * ``from_seed``: a Haar-random frame, so that no axis is special. Each coordinate then moves by about
      r / sqrt(D) around 0.5, where f_0 is nearly linear (R^2 0.997 at D = 128): kept to show that failure.

    The map u -> centre + radius * frame u is an isometry of R^{d+1} onto the flat it spans, so the image is a
    round d-sphere and the uniform measure on S^d is mapped to the uniform measure on it. Every point lies in
    [0, 1]^D: by Cauchy-Schwarz |radius (frame u)_i| <= radius |q_i| |u| (q_i the i-th row of the frame), which
    ``_check_inside_cube`` bounds by min(centre_i, 1 - centre_i).
    """

    ambient_dim: int
    intrinsic_dim: int
    frame: np.ndarray
    centre: np.ndarray | None = None
    radius: float = 0.5

    def __post_init__(self):
        _check_dims(self.ambient_dim, self.intrinsic_dim, extra=1)
        centre = np.full(self.ambient_dim, 0.5) if self.centre is None else self.centre
        object.__setattr__(self, "centre", _frozen(centre))
        object.__setattr__(self, "frame", _frozen(self.frame))
        object.__setattr__(self, "radius", float(self.radius))
        if self.centre.shape != (self.ambient_dim,):
            raise ValueError(f"centre must have shape ({self.ambient_dim},), got {self.centre.shape}")
        _check_frame(self.frame, (self.ambient_dim, self.intrinsic_dim + 1))
        _check_inside_cube(self.centre, self.radius, self.frame)

    @classmethod
    def from_seed(cls, ambient_dim: int, intrinsic_dim: int, seed: int, radius: float = 0.5) -> EmbeddedSphere:
        """The sphere with a Haar-random frame drawn from ``seed`` (centre 0.5 in every coordinate)."""
        _check_dims(ambient_dim, intrinsic_dim, extra=1)
        frame = random_frame(ambient_dim, intrinsic_dim + 1, np.random.default_rng(seed))
        return cls(ambient_dim, intrinsic_dim, frame, radius=radius)

    @classmethod
    def repeated_axes(cls, ambient_dim: int, intrinsic_dim: int, radius: float = 0.5) -> EmbeddedSphere:
        """The sphere whose coordinate i sits on the cube axes j = i mod (d+1), j < m (d+1), m = floor(D / (d+1)).

        ``radius`` is the amplitude r of each embedded coordinate (0.5 + r u_i, u uniform on S^d); the sphere's
        radius in R^D is sqrt(m) r. The other D - m (d+1) coordinates are constant 0.5.
        """
        _check_dims(ambient_dim, intrinsic_dim, extra=1)
        copies = ambient_dim // (intrinsic_dim + 1)
        frame = np.zeros((ambient_dim, intrinsic_dim + 1))
        axes = np.arange(copies * (intrinsic_dim + 1))
        frame[axes, axes % (intrinsic_dim + 1)] = 1.0 / np.sqrt(copies)
        return cls(ambient_dim, intrinsic_dim, frame, radius=radius * np.sqrt(copies))

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """n points (n, D) uniform on the sphere: normalised Gaussian vectors of R^{d+1}, mapped into R^D."""
        u = rng.standard_normal((n, self.intrinsic_dim + 1))
        u /= np.linalg.norm(u, axis=1, keepdims=True)
        return self.centre + self.radius * (u @ self.frame.T)

    def distance_to_support(self, X: np.ndarray) -> np.ndarray:
        """Euclidean distance of each row of X to the sphere.

        With v = x - centre split into its projection w onto the (d+1)-flat and the residual r orthogonal
        to it, the nearest sphere point is centre + radius w/|w|, at distance sqrt(|r|^2 + (|w| - radius)^2).
        """
        coordinates, residual = _flat_coordinates(X, self.centre, self.frame)
        return np.hypot(residual, np.linalg.norm(coordinates, axis=1) - self.radius)


# ---------------------------------------------------------------------------------------------------------
# Sim 6.2: a union of an l^{1/2} ball and an l^2 ball in [0, 1]^5
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class LpBall:
    """The d-dimensional l^p ball {centre + radius * frame t : ||t||_p <= 1} in a d-flat of R^D.

    ``frame`` is D x d with orthonormal columns, so t are isometric coordinates in the flat. For
    radius <= min(centre_i, 1 - centre_i) and p <= 2 the ball lies in [0, 1]^D: |(frame t)_i| <= |t|_2 (as
    for the sphere) and |t|_2 <= |t|_p, because l^p quasi-norms decrease in p.
    """

    centre: np.ndarray
    radius: float
    frame: np.ndarray
    p: float

    def __post_init__(self):
        object.__setattr__(self, "centre", _frozen(self.centre))
        object.__setattr__(self, "frame", _frozen(self.frame))
        object.__setattr__(self, "radius", float(self.radius))
        object.__setattr__(self, "p", float(self.p))
        if not 0 < self.p <= 2:
            raise ValueError(f"p must lie in (0, 2] (larger p would leave the cube), got {self.p}")
        _check_frame(self.frame, (self.centre.size, self.frame.shape[1]))
        _check_inside_cube(self.centre, self.radius)

    @property
    def intrinsic_dim(self) -> int:
        return self.frame.shape[1]

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """n points (n, D) uniform in the ball (the flat's coordinates are isometric, so volume is kept)."""
        return self.centre + self.radius * (uniform_lp_ball(n, self.intrinsic_dim, self.p, rng) @ self.frame.T)

    def coordinates(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(distance of each x to the ball's flat, ||t||_p of its coordinates t = frame'(x - centre)/radius).

        x is in the ball iff the first is 0 and the second is <= 1.
        """
        coordinates, residual = _flat_coordinates(X, self.centre, self.frame)
        return residual, lp_quasi_norm(coordinates / self.radius, self.p)

    def contains(self, X: np.ndarray, tol: float = 1e-9) -> np.ndarray:
        """Boolean (n,): within ``tol`` of the flat and radius * (||t||_p - 1) <= tol."""
        residual, quasi_norm = self.coordinates(X)
        return (residual <= tol) & (self.radius * (quasi_norm - 1.0) <= tol)


@dataclass(frozen=True, eq=False)
class BallUnion:
    """A d-dim l^{1/2} ball and a d-dim l^2 ball in R^D, sharing their centre (N Sim 6.2, p. 13).

    The paper gives neither placement nor radii. Ours:

    * both balls centred at the cube's centre (0.5, ..., 0.5), which is therefore in both: they intersect;
    * radius 0.5 for both, the largest that keeps them in [0, 1]^D by the bound of ``LpBall``
      (the l^{1/2} ball of radius 0.5 is contained in the l^2 ball of radius 0.5 of its own flat);
    * each ball in its own d-flat through the centre, with independent Haar-random frames.

    The union is not a manifold, as the paper requires. Two generic 2-flats through a point of R^5 meet
    only there, so for (D, d) = (5, 2) the union is two discs glued at their centre, and a small
    neighbourhood of it minus the centre falls into 2 pieces where a surface would have 1; two generic
    4-flats of R^5 meet in a 3-flat, so for (5, 4) the balls cross along a 3-dimensional set, and a
    neighbourhood of a crossing point minus the crossing has 4 pieces where a 4-manifold would have 2.

    Points are iid from the equal mixture mu = U(l^{1/2} ball) / 2 + U(l^2 ball) / 2 (``weights``; ours).
    The uniform measure on the union by volume would be a poor reading here: for d = 4 the l^{1/2} ball
    has volume (2 Gamma(3))^4 / Gamma(9) = 0.0063 times radius^4 against pi^2/2 = 4.9 times radius^4 for
    the l^2 ball, so it would get 0.13 % of the points and the non-manifold part would not be seen.
    """

    ambient_dim: int
    intrinsic_dim: int
    balls: tuple[LpBall, LpBall]
    weights: tuple[float, float] = (0.5, 0.5)

    def __post_init__(self):
        _check_dims(self.ambient_dim, self.intrinsic_dim, extra=0)
        if len(self.balls) != 2 or any(ball.intrinsic_dim != self.intrinsic_dim for ball in self.balls):
            raise ValueError(f"balls must be two LpBall of intrinsic_dim {self.intrinsic_dim}")
        weights = np.asarray(self.weights, dtype=float)
        if weights.shape != (2,) or np.any(weights < 0) or not np.isclose(weights.sum(), 1.0):
            raise ValueError(f"weights must be two non-negative numbers summing to 1, got {self.weights!r}")
        object.__setattr__(self, "weights", tuple(float(w) for w in weights))

    @classmethod
    def from_seed(cls, ambient_dim: int, intrinsic_dim: int, seed: int) -> BallUnion:
        """The l^{1/2} ball (first) and the l^2 ball (second), frames drawn from ``seed`` in that order."""
        _check_dims(ambient_dim, intrinsic_dim, extra=0)
        rng = np.random.default_rng(seed)
        centre = np.full(ambient_dim, 0.5)
        balls = tuple(LpBall(centre, 0.5, random_frame(ambient_dim, intrinsic_dim, rng), p) for p in (0.5, 2.0))
        return cls(ambient_dim, intrinsic_dim, balls)

    def sample_with_components(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """n iid points (n, D) of the mixture and the index (0: l^{1/2}, 1: l^2) of the ball each came from."""
        component = (rng.random(n) >= self.weights[0]).astype(int)
        X = np.empty((n, self.ambient_dim))
        for k, ball in enumerate(self.balls):
            X[component == k] = ball.sample(int(np.sum(component == k)), rng)
        return X, component

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """n iid points (n, D) from mu."""
        return self.sample_with_components(n, rng)[0]

    def membership(self, X: np.ndarray, tol: float = 1e-9) -> np.ndarray:
        """Boolean (n, 2): column k says whether each point lies in ball k (to ``tol``, see LpBall.contains)."""
        return np.column_stack([ball.contains(X, tol) for ball in self.balls])

    def distance_to_support(self, X: np.ndarray) -> np.ndarray:
        """An upper bound on the distance of each point to the union that is 0 exactly on it.

        For each ball: hypot(distance to its flat, radius * max(||t||_p - 1, 0)); exact for the l^2 ball,
        and for the l^{1/2} ball a measure of excess in its quasi-norm (zero iff inside). Minimum over balls.
        """
        excess = []
        for ball in self.balls:
            residual, quasi_norm = ball.coordinates(X)
            excess.append(np.hypot(residual, ball.radius * np.maximum(quasi_norm - 1.0, 0.0)))
        return np.minimum(*excess)
