"""One-hidden-layer networks in float64, their critical points and the three embeddings into a wider network
(Fukumizu, Yamaguchi, Mototake & Tanaka, NeurIPS 2019, Sec. 3-4; Fukumizu & Amari, Neural Networks 13, 2000).

The network is f(x) = sum_j v_j phi(w_j . x~) + c with x~ = (x, 1), and the loss E = (1/2n) sum_i r_i^2 with
r_i = f(x_i) - y_i. A parameter vector holds, unit by unit, (w_j (d+1 numbers, bias last), v_j), then c; P =
H (d + 2) + 1. Gradient, Jacobian and Hessian are analytic (numpy only: the measuring job needs no torch), checked
against ``torch.func.hessian`` in the tests.

Inertia predictions (derived; the paper's own statements are for the same embeddings, Sec. 3-4):

* **replication** of unit j into (a, b) with w_a = w_b = w_j, v_a = lambda v_j, v_b = (1 - lambda) v_j. In the
  coordinates (narrow parameters, split direction zeta with w_a = w + (1 - lambda) zeta, w_b = w - lambda zeta,
  and the lambda line) the Hessian is block-diagonal: the narrow Hessian, lambda (1 - lambda) B_j with
  B_j = v_j (1/n) sum_i r_i phi''(w_j . x~_i) x~_i x~_i^T, and 0 on the lambda line. By Sylvester's law of inertia
  the embedded Hessian's (negative, zero, positive) counts are the narrow ones plus those of lambda (1 - lambda) B_j
  plus one zero. ReLU: phi'' = 0 on the data, so B_j = 0 and d + 2 zeros are added.
* **inactive unit** (ReLU): w_new . x~_i < 0 for every i, v_new arbitrary: the unit and all its derivatives vanish on
  the data, so d + 2 zeros are added and the rest is the narrow Hessian.
* **constant unit**: w_new = (0, ..., 0, b), v_new = 0. Its output phi(b) is a multiple of the output bias's, and in
  the coordinates (c + phi(b) v_new, v_new, w_new) the new block is [[0, g], [g^T, 0]] with
  g = phi'(b) (1/n) sum_i r_i x~_i: one negative, one positive eigenvalue and d zeros when g != 0 (a strict saddle),
  d + 2 zeros when g = 0 (phi'(b) = 0, i.e. ReLU with b < 0; or a residual orthogonal to the inputs).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize

ACTIVATIONS = ("tanh", "softplus", "relu")


def activation(name: str, z: np.ndarray):
    """phi(z), phi'(z), phi''(z) of ``name`` (ReLU's second derivative is 0 away from its kink)."""
    if name == "tanh":
        t = np.tanh(z)
        return t, 1.0 - t * t, -2.0 * t * (1.0 - t * t)
    if name == "softplus":
        s = 0.5 * (1.0 + np.tanh(0.5 * z))  # the logistic function, without overflow
        return np.logaddexp(0.0, z), s, s * (1.0 - s)
    if name == "relu":
        on = (z > 0).astype(float)
        return z * on, on, np.zeros_like(z)
    raise ValueError(f"activation {name!r}: one of {ACTIVATIONS}")


def augmented(x: np.ndarray) -> np.ndarray:
    """x~ = (x, 1): inputs with the bias column appended (n x (d + 1))."""
    x = np.asarray(x, float).reshape(len(x), -1)
    return np.hstack([x, np.ones((len(x), 1))])


def width_of(theta: np.ndarray, d: int) -> int:
    units, rest = divmod(len(theta) - 1, d + 2)
    if rest:
        raise ValueError(f"a parameter vector of length {len(theta)} is no network with input dimension {d}")
    return units


def unpack(theta: np.ndarray, d: int):
    """(W (H x (d + 1)), v (H), c) of a parameter vector (views)."""
    H = width_of(theta, d)
    units = theta[:-1].reshape(H, d + 2)
    return units[:, : d + 1], units[:, d + 1], theta[-1]


def pack(W: np.ndarray, v: np.ndarray, c: float) -> np.ndarray:
    return np.concatenate([np.hstack([W, np.asarray(v, float)[:, None]]).ravel(), [float(c)]])


def forward(theta, X, act):
    """Outputs f(x_i) and the pre-activations z (n x H) on the augmented inputs X."""
    d = X.shape[1] - 1
    W, v, c = unpack(theta, d)
    z = X @ W.T
    return activation(act, z)[0] @ v + c, z


def loss(theta, X, y, act) -> float:
    f, _ = forward(theta, X, act)
    return 0.5 * float(np.mean((f - y) ** 2))


def losses(thetas: np.ndarray, X, y, act) -> np.ndarray:
    """E at each row of ``thetas`` (m x P), vectorised (the perturbation tests)."""
    d = X.shape[1] - 1
    m, P = thetas.shape
    H = width_of(thetas[0], d)
    units = thetas[:, :-1].reshape(m, H, d + 2)
    z = np.einsum("ik,mhk->mih", X, units[:, :, : d + 1])
    f = np.einsum("mih,mh->mi", activation(act, z)[0], units[:, :, d + 1]) + thetas[:, -1:]
    return 0.5 * np.mean((f - y) ** 2, axis=1)


def jacobian(theta, X, act) -> np.ndarray:
    """df(x_i) / dtheta (n x P)."""
    d = X.shape[1] - 1
    W, v, _ = unpack(theta, d)
    a, da, _ = activation(act, X @ W.T)
    n, H = a.shape
    J = np.empty((n, H, d + 2))
    J[:, :, : d + 1] = (da * v)[:, :, None] * X[:, None, :]
    J[:, :, d + 1] = a
    return np.hstack([J.reshape(n, -1), np.ones((n, 1))])


def loss_and_gradient(theta, X, y, act):
    f, _ = forward(theta, X, act)
    r = f - y
    return 0.5 * float(np.mean(r * r)), jacobian(theta, X, act).T @ r / len(r)


def hessian(theta, X, y, act) -> np.ndarray:
    """The full Hessian of E: (1/n) J^T J plus the residual term (1/n) sum_i r_i d^2 f_i, whose only non-zero
    blocks are each unit's (w_j, w_j) block v_j phi'' x~ x~^T and its (w_j, v_j) block phi' x~."""
    d = X.shape[1] - 1
    n = len(X)
    W, v, c = unpack(theta, d)
    z = X @ W.T
    a, da, dda = activation(act, z)
    r = a @ v + c - y
    J = jacobian(theta, X, act)
    Hm = J.T @ J / n
    for j in range(len(v)):
        at = j * (d + 2)
        Hm[at: at + d + 1, at: at + d + 1] += v[j] * (X.T * (r * dda[:, j])) @ X / n
        cross = X.T @ (r * da[:, j]) / n
        Hm[at: at + d + 1, at + d + 1] += cross
        Hm[at + d + 1, at: at + d + 1] += cross
    return Hm


def residuals(theta, X, y, act) -> np.ndarray:
    return forward(theta, X, act)[0] - y


# ------------------------------------------------------------------------------------------------------ counts


@dataclass(frozen=True)
class Inertia:
    """Negative, zero and positive eigenvalue counts of a symmetric matrix under a zero threshold, with the gap: the
    smallest |eigenvalue| counted non-zero over the largest counted zero (inf when there are no zeros)."""

    negative: int
    zero: int
    positive: int
    gap: float = np.inf

    def __add__(self, other: Inertia) -> Inertia:
        return Inertia(self.negative + other.negative, self.zero + other.zero, self.positive + other.positive,
                       min(self.gap, other.gap))

    def counts(self) -> tuple[int, int, int]:
        return self.negative, self.zero, self.positive


def inertia(eigenvalues: np.ndarray, threshold: float) -> Inertia:
    """Counts of eigenvalues below -threshold, within +-threshold and above it."""
    eigenvalues = np.asarray(eigenvalues, float)
    small = np.abs(eigenvalues) <= threshold
    large = np.abs(eigenvalues[~small])
    zeros = np.abs(eigenvalues[small])
    gap = np.inf if not small.any() else (large.min() if len(large) else 0.0) / max(zeros.max(), 1e-300)
    return Inertia(int((eigenvalues < -threshold).sum()), int(small.sum()), int((eigenvalues > threshold).sum()),
                   float(gap))


def zero_threshold(eigenvalues: np.ndarray, relative: float) -> float:
    """The zero threshold: ``relative`` times the largest |eigenvalue| (a relative threshold, so counts do not
    depend on the loss's scale)."""
    return relative * float(np.max(np.abs(eigenvalues)))


def symmetry_zeros(theta, X, act, relative: float) -> int:
    """The number of parameter directions that leave the network's outputs on the data unchanged to first order
    (the nullity of the n x P Jacobian, relative threshold on its singular values): ReLU's positive scaling of each
    live unit, the d + 2 parameters of a dead unit, and units that share an activation pattern. At a minimum these
    are the Hessian's expected zero eigenvalues."""
    J = jacobian(theta, X, act)
    s = np.linalg.svd(J, compute_uv=False)
    s = np.concatenate([s, np.zeros(J.shape[1] - len(s))])
    return int((s <= np.sqrt(relative) * s.max()).sum())


def dead_units(theta, X) -> int:
    """ReLU units inactive on every input (w_j . x~_i <= 0 for all i)."""
    W, _, _ = unpack(theta, X.shape[1] - 1)
    return int(((X @ W.T) <= 0).all(axis=0).sum())


def kink_distance(theta, X) -> float:
    """The smallest |w_j . x~_i| over live units and inputs: how close a ReLU pre-activation sits to its kink."""
    W, _, _ = unpack(theta, X.shape[1] - 1)
    z = X @ W.T
    live = ~(z <= 0).all(axis=0)
    return float(np.abs(z[:, live]).min()) if live.any() else np.inf


# --------------------------------------------------------------------------------------------- critical points


def fit(theta0, X, y, act, max_iterations: int = 3000) -> np.ndarray:
    """L-BFGS (scipy, float64) from ``theta0``, to its own tolerance floor."""
    result = minimize(loss_and_gradient, theta0, args=(X, y, act), jac=True, method="L-BFGS-B",
                      options={"maxiter": max_iterations, "maxcor": 30, "ftol": 1e-300, "gtol": 1e-300})
    return result.x


def polish(theta, X, y, act, iterations: int = 30, relative: float = 1e-10) -> np.ndarray:
    """Newton steps with the Hessian's pseudo-inverse (eigenvalues below ``relative`` times the largest left out:
    ReLU's scaling directions), each kept only when it lowers the gradient norm without raising the loss. For ReLU
    the loss is smooth on the fixed activation pattern, where this converges quadratically; a step that crosses a
    kink is refused by the same test."""
    E, g = loss_and_gradient(theta, X, y, act)
    for _ in range(iterations):
        values, vectors = np.linalg.eigh(hessian(theta, X, y, act))
        keep = np.abs(values) > relative * np.abs(values).max()
        if (values[keep] < 0).any():
            break  # not near a minimum: Newton would climb
        step = -vectors[:, keep] @ ((vectors[:, keep].T @ g) / values[keep])
        for scale in (1.0, 0.5, 0.25):
            candidate = theta + scale * step
            E_new, g_new = loss_and_gradient(candidate, X, y, act)
            if E_new <= E + 1e-15 * abs(E) and np.linalg.norm(g_new) < np.linalg.norm(g):
                theta, E, g = candidate, E_new, g_new
                break
        else:
            break
        if np.linalg.norm(g) < 1e-15:
            break
    return theta


def teacher(rng: np.random.Generator, d: int, width: int) -> np.ndarray:
    """A teacher network: weights and biases N(0, 1), output weights N(0, 1), no output bias (ours)."""
    return pack(rng.standard_normal((width, d + 1)), rng.standard_normal(width), 0.0)


def student_init(rng: np.random.Generator, d: int, width: int) -> np.ndarray:
    return pack(rng.standard_normal((width, d + 1)), rng.standard_normal(width) / np.sqrt(width), 0.0)


# ------------------------------------------------------------------------------------------------- embeddings


def replicate(theta, d: int, unit: int, lam: float) -> np.ndarray:
    """Unit replication (FYMT19 Sec. 3): unit ``unit`` keeps w and lam v; a copy with w and (1 - lam) v is
    appended as the last unit. The function is unchanged for every lam."""
    W, v, c = unpack(theta, d)
    v = v.copy()
    new_v = (1.0 - lam) * v[unit]
    v[unit] *= lam
    return pack(np.vstack([W, W[unit]]), np.append(v, new_v), c)


def add_unit(theta, d: int, w_new, v_new: float) -> np.ndarray:
    W, v, c = unpack(theta, d)
    return pack(np.vstack([W, np.asarray(w_new, float)]), np.append(v, v_new), c)


def inactive_unit_weights(rng: np.random.Generator, X, margin: float) -> np.ndarray:
    """Incoming weights of an inactive ReLU unit: a random direction whose bias is shifted so that
    max_i w . x~_i = -margin (inactive on every input, by that margin)."""
    w = rng.standard_normal(X.shape[1])
    w[-1] -= (X @ w).max() + margin
    return w


def constant_unit(theta, d: int, bias: float) -> np.ndarray:
    """The constant unit: w_new = (0, ..., 0, bias), v_new = 0 (critical whenever the narrow point is)."""
    w = np.zeros(d + 1)
    w[-1] = bias
    return add_unit(theta, d, w, 0.0)


def split_matrix(theta, X, y, act, unit: int) -> np.ndarray:
    """B_j = v_j (1/n) sum_i r_i phi''(w_j . x~_i) x~_i x~_i^T: the curvature of E along the split direction of a
    replicated unit, times lambda (1 - lambda) (Fukumizu & Amari 2000)."""
    d = X.shape[1] - 1
    W, v, _ = unpack(theta, d)
    r = residuals(theta, X, y, act)
    _, _, dda = activation(act, X @ W[unit])
    return v[unit] * (X.T * (r * dda)) @ X / len(X)


def constant_coupling(theta, X, y, act, bias: float) -> np.ndarray:
    """g = phi'(b) (1/n) sum_i r_i x~_i: the coupling of a constant unit's incoming weights to its output weight."""
    r = residuals(theta, X, y, act)
    return activation(act, np.array(bias))[1] * (X.T @ r) / len(X)


def predicted_replication(narrow: Inertia, B: np.ndarray, lam: float, threshold: float) -> Inertia:
    """Narrow inertia plus that of lambda (1 - lambda) B_j plus the lambda line's zero (Sylvester's law)."""
    return narrow + inertia(lam * (1.0 - lam) * np.linalg.eigvalsh(B), threshold) + Inertia(0, 1, 0)


def predicted_constant(narrow: Inertia, g: np.ndarray, threshold: float, d: int) -> Inertia:
    """Narrow inertia plus that of [[0, g], [g^T, 0]] (eigenvalues +-|g| and d zeros) on the new unit."""
    if np.linalg.norm(g) > threshold:
        return narrow + Inertia(1, d, 1)
    return narrow + Inertia(0, d + 2, 0)


def predicted_inactive(narrow: Inertia, d: int) -> Inertia:
    return narrow + Inertia(0, d + 2, 0)


# ----------------------------------------------------------------------------------------------------- tests


def semi_flat_test(theta, X, y, act, rng: np.random.Generator, count: int, radius: float) -> float:
    """min over ``count`` random perturbations of norm ``radius`` of E(theta + delta) - E(theta): non-negative (to
    rounding) at a minimum, however flat."""
    delta = rng.standard_normal((count, len(theta)))
    delta *= radius / np.linalg.norm(delta, axis=1, keepdims=True)
    return float((losses(theta + delta, X, y, act) - loss(theta, X, y, act)).min())


def escape_curve(theta, X, y, act, direction, eps: float, steps: int) -> np.ndarray:
    """E - E(theta) along an L-BFGS run from theta + eps u (the sign of u with the lower loss): entry 0 is the
    perturbed start, then one entry per iteration (up to ``steps``; padded with the last value)."""
    E0 = loss(theta, X, y, act)
    starts = [theta + eps * direction, theta - eps * direction]
    start = min(starts, key=lambda t: loss(t, X, y, act))
    curve = [loss(start, X, y, act) - E0]
    minimize(loss_and_gradient, start, args=(X, y, act), jac=True, method="L-BFGS-B",
             callback=lambda t: curve.append(loss(t, X, y, act) - E0),
             options={"maxiter": steps, "maxcor": 30, "ftol": 1e-300, "gtol": 1e-300})
    curve = curve[: steps + 1]
    return np.array(curve + [curve[-1]] * (steps + 1 - len(curve)))


def lambda_line(theta, d: int, unit: int, lam: float) -> np.ndarray:
    """The unit direction along the lambda line of a replicated pair (unit ``unit`` and the last unit): v_a += t,
    v_b -= t keeps the function."""
    u = np.zeros(len(theta))
    H = width_of(theta, d)
    u[unit * (d + 2) + d + 1] = 1.0
    u[(H - 1) * (d + 2) + d + 1] = -1.0
    return u / np.sqrt(2.0)


def split_direction(theta, d: int, unit: int, lam: float, zeta: np.ndarray) -> np.ndarray:
    """The unit direction w_a += (1 - lam) zeta, w_b -= lam zeta of a replicated pair."""
    u = np.zeros(len(theta))
    H = width_of(theta, d)
    u[unit * (d + 2): unit * (d + 2) + d + 1] = (1.0 - lam) * zeta
    u[(H - 1) * (d + 2): (H - 1) * (d + 2) + d + 1] = -lam * zeta
    return u / np.linalg.norm(u)


def loss_slice(theta, X, y, act, direction, ts) -> np.ndarray:
    """E(theta + t u) - E(theta) at each t."""
    thetas = theta[None, :] + np.asarray(ts)[:, None] * direction[None, :]
    return losses(thetas, X, y, act) - loss(theta, X, y, act)
