"""The linear estimators' solves in torch, for a GPU: the same algorithms as ``dltheory.nonsmooth.estimators``.

``FourierSeriesRegressor`` and ``GaussianKernelRidge`` call these functions instead of their numpy/scipy code when
their ``device`` is a torch device (``"cuda"``, or ``"cpu"`` for the tests). Every step is the numpy path's, written
with torch operations: the Fourier LOO by one Cholesky factor and cumulative sums, the exact kernel ridge LOO by one
eigendecomposition per bandwidth, the Nystroem GCV by a pivoted Cholesky of the landmark kernel and one
eigendecomposition of Phi'Phi. Results come back as numpy arrays, so the estimators' learned state (attributes
ending in ``_``) is the same whichever path fitted them.

Everything is float64, because the conditioning needs it:

* Nystroem: the normal equations Phi'Phi + n lambda I with lambda down to 1e-9 and Phi'Phi's eigenvalues spanning
  ~n down to 0, and R^{-T}(K_ZX K_XZ)R^{-1} amplifies rounding in K_ZX K_XZ by |R^{-1}|^2 (pivots down to 1e-6,
  so up to 1e6): in float32 (eps 6e-8) the rounding would exceed the smallest ridges by orders of magnitude;
* exact kernel ridge: K's eigenvalues decay to ~1e-16 relative, shrunk by s / (s + n lambda);
* Fourier: the Gram matrix carries only a 1e-8 relative ridge, so its condition number reaches ~1e8, beyond
  float32's 1/eps ~ 1.7e7.

Agreement with the numpy path (tests/test_linear_estimators_torch.py, torch on CPU): the same choices, the selected
CV score and the predictions within 1e-8 relative (measured: 1e-11 to 1e-14). The differences are rounding (other
summation orders and BLAS kernels), which the pivoted Cholesky would pass on only through near-ties in its pivot
order (none on the test problems: the same landmarks in the same order as LAPACK). One place is ill conditioned in
both paths: Nystroem GCV at the widest bandwidth with the smallest ridges, y'y minus nearly all of it through
near-null directions of Phi'Phi, where the two paths agree to ~2e-5 only; those scores are far above the minimum.
"""

from __future__ import annotations

import math

import numpy as np
import torch

# The numpy path's guard and blocking, shared so that both paths make the same decisions.
from dltheory.nonsmooth.estimators import _MIN_ONE_MINUS_LEVERAGE, row_blocks

# Rows per block on the device: 32M float64 entries (256 MB) per kernel or design block keeps a GPU's matmuls large
# and bounds memory to a few blocks whatever n is (the numpy path uses 4M, sized for a CPU's caches).
_BLOCK_ENTRIES = 1 << 25


def _row_blocks(n_rows: int, n_columns: int):
    return row_blocks(n_rows, n_columns, _BLOCK_ENTRIES)


def as_tensor(array, device) -> torch.Tensor:
    return torch.as_tensor(np.ascontiguousarray(array, dtype=np.float64), device=device)


def _loo_residuals(y, fitted, leverage):
    return (y - fitted) / torch.clamp(1.0 - leverage, min=_MIN_ONE_MINUS_LEVERAGE)


# ---------------------------------------------------------------------------------------------------------
# Fourier series
# ---------------------------------------------------------------------------------------------------------


def _cosine_design(X: torch.Tensor, frequencies: torch.Tensor) -> torch.Tensor:
    """prod_d c_{k_d}(x_d), c_0 = 1, c_k(t) = sqrt(2) cos(pi k t): estimators._cosine_design in torch."""
    k = torch.arange(int(frequencies.max()) + 1, dtype=X.dtype, device=X.device)
    design = None
    for d in range(X.shape[1]):
        table = torch.cos(math.pi * X[:, d, None] * k)
        table[:, 1:] *= math.sqrt(2.0)
        column = table[:, frequencies[:, d]]
        design = column if design is None else design.mul_(column)
    return design


def fourier_loo(X: np.ndarray, yc: np.ndarray, frequencies: np.ndarray, sizes: np.ndarray, ridge: float, device):
    """LOO mean squared errors of every nested truncation (the first ``sizes`` features), and a function that gives
    the least-squares coefficients of the first s features: FourierSeriesRegressor.fit's algebra on ``device``."""
    n, p = X.shape[0], len(frequencies)
    X, y = as_tensor(X, device), as_tensor(yc, device)
    freq = torch.as_tensor(frequencies, device=device)
    last = torch.as_tensor(np.asarray(sizes) - 1, device=device)
    gram = torch.zeros((p, p), dtype=torch.float64, device=device)
    rhs = torch.zeros(p, dtype=torch.float64, device=device)
    for rows in _row_blocks(n, p):
        design = _cosine_design(X[rows], freq)
        gram += design.T @ design
        rhs += design.T @ y[rows]
    gram.diagonal().add_(ridge * torch.trace(gram) / p)
    chol = torch.linalg.cholesky(gram)
    z = torch.linalg.solve_triangular(chol, rhs[:, None], upper=False)[:, 0]

    sse = torch.zeros(len(sizes), dtype=torch.float64, device=device)
    for rows in _row_blocks(n, p):
        w = torch.linalg.solve_triangular(chol, _cosine_design(X[rows], freq).T, upper=False)
        leverage = torch.cumsum(w * w, dim=0)[last]
        w *= z[:, None]
        fitted = torch.cumsum(w, dim=0)[last]
        sse += torch.sum(_loo_residuals(y[rows], fitted, leverage) ** 2, dim=1)

    def coefficients(s: int) -> np.ndarray:
        return torch.linalg.solve_triangular(chol[:s, :s].T, z[:s, None], upper=True)[:, 0].cpu().numpy()

    return (sse / n).cpu().numpy(), coefficients


def fourier_predict(X: np.ndarray, frequencies: np.ndarray, coef: np.ndarray, device) -> np.ndarray:
    X, coef = as_tensor(X, device), as_tensor(coef, device)
    freq = torch.as_tensor(frequencies, device=device)
    out = torch.empty(X.shape[0], dtype=torch.float64, device=device)
    for rows in _row_blocks(X.shape[0], len(frequencies)):
        out[rows] = _cosine_design(X[rows], freq) @ coef
    return out.cpu().numpy()


# ---------------------------------------------------------------------------------------------------------
# Gaussian kernels
# ---------------------------------------------------------------------------------------------------------


def gaussian_kernel(X: torch.Tensor, Z: torch.Tensor, bandwidth: float) -> torch.Tensor:
    """exp(-|x - z|^2 / (2 h^2)), distances expanded as in estimators.squared_distances and clipped at 0."""
    out = X @ Z.T
    out *= -2.0
    out += torch.sum(X * X, dim=1)[:, None]
    out += torch.sum(Z * Z, dim=1)[None, :]
    out.clamp_(min=0.0)
    out *= -0.5 / bandwidth**2
    return out.exp_()


def kernel_expansion(X: np.ndarray, centres: np.ndarray, weights: np.ndarray, bandwidth: float, device) -> np.ndarray:
    """sum_j weights_j k(x, centres_j) on ``device``, in row blocks."""
    X, centres, weights = as_tensor(X, device), as_tensor(centres, device), as_tensor(weights, device)
    out = torch.empty(X.shape[0], dtype=torch.float64, device=device)
    for rows in _row_blocks(X.shape[0], centres.shape[0]):
        out[rows] = gaussian_kernel(X[rows], centres, bandwidth) @ weights
    return out.cpu().numpy()


def pivoted_cholesky(kernel: torch.Tensor, tol: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Upper R (r x r) and pivots P with R'R = kernel[P][:, P], stopped when the largest remaining pivot is <= tol.

    LAPACK's dpstrf (the numpy path) in torch, which has no pivoted Cholesky: the pivot is the largest remaining
    diagonal of the Schur complement (the first one on ties, as dpstrf's MAXLOC and torch.argmax both take), and
    each step computes one column left-looking, m k flops at step k, so a rank-r factor costs m r^2 / 2 and a
    wide kernel (small r) stops early.
    """
    m = kernel.shape[0]
    lower = torch.zeros_like(kernel)  # column k: the k-th column of the factor, rows in the original order
    remaining = kernel.diagonal().clone()
    pivots = []
    for k in range(m):
        # One device-to-host copy per step (value and index together): on a GPU the m sequential steps, not their
        # flops, are this factorisation's cost.
        value, index = torch.max(remaining, dim=0)
        pivot, p = torch.stack((value, index.to(value.dtype))).tolist()
        p = int(p)
        if pivot <= tol:
            break
        column = kernel[:, p] - lower[:, :k] @ lower[p, :k]
        column /= math.sqrt(pivot)
        lower[:, k] = column
        remaining -= column * column
        remaining[p] = -math.inf
        pivots.append(p)
    rank = max(len(pivots), 1)
    index = torch.as_tensor(pivots[:rank] or [0], device=kernel.device)
    return torch.triu(lower[index, :rank].T), index


# A plain Cholesky factor replaces the pivoted one only when the landmark kernel's smallest eigenvalue is certified
# above this multiple of the pivot tolerance: then LAPACK's pivots (each >= the smallest eigenvalue) clear the
# tolerance by a factor 100, far beyond their rounding (~1e-12), and the numpy path keeps every landmark too.
_CERTIFICATE_MARGIN = 100.0


def certified_cholesky(kernel: torch.Tensor, tol: float) -> tuple[torch.Tensor | None, float]:
    """Upper R with R'R = kernel, and tr(kernel^{-1}), when 1 / tr(kernel^{-1}) (a lower bound of the smallest
    eigenvalue) exceeds _CERTIFICATE_MARGIN tol; else (None, inf).

    Then a pivoted Cholesky stopped at ``tol`` would keep every landmark, and with every landmark kept the Nystroem
    estimator does not depend on their order: R'R = K for any Cholesky factor, so phi = R^{-T} k(Z, x) changes only
    by an orthogonal map, and Phi'Phi's spectrum, the GCV scores and the predictions are the same in exact arithmetic.
    On a GPU this replaces m sequential pivot steps by two level-3 calls (Cholesky, triangular inverse: 2 m^3 / 3).
    """
    lower, info = torch.linalg.cholesky_ex(kernel)
    if int(info) != 0:
        return None, math.inf
    eye = torch.eye(kernel.shape[0], dtype=kernel.dtype, device=kernel.device)
    inverse = torch.linalg.solve_triangular(lower, eye, upper=False)
    inverse_trace = float(torch.sum(inverse * inverse))  # ||L^{-1}||_F^2 = tr(K^{-1}) >= 1 / lambda_min
    if not inverse_trace * tol * _CERTIFICATE_MARGIN < 1.0:  # also false for nan
        return None, math.inf
    return lower.T.contiguous(), inverse_trace


class NystromFeatures:
    """estimators._NystromFeatures in torch: phi(x) = R^{-T} k(Z, x), R a Cholesky factor of the landmark kernel.

    Where the landmark kernel is certified well above singular (``certified_cholesky``), R is its plain Cholesky
    factor and every landmark is kept; otherwise R is the pivoted factor on the landmarks it keeps, as in numpy.
    ``inverse_bound`` bounds |R^{-1}|^2 = |K_ZZ^{-1}| (by tr K^{-1}, or by 1 / the smallest pivot as numpy does).
    """

    def __init__(self, landmarks: torch.Tensor, bandwidth: float, pivot_tolerance: float):
        kernel = gaussian_kernel(landmarks, landmarks, bandwidth)
        self.factor, self.inverse_bound = certified_cholesky(kernel, pivot_tolerance)
        if self.factor is not None:
            self.centres = landmarks
        else:
            self.factor, pivots = pivoted_cholesky(kernel, pivot_tolerance)
            self.centres = landmarks[pivots]
            self.inverse_bound = 1.0 / float(torch.min(torch.diagonal(self.factor))) ** 2
        self.bandwidth = bandwidth

    def transposed(self, X: torch.Tensor) -> torch.Tensor:
        k = gaussian_kernel(self.centres, X, self.bandwidth)
        return torch.linalg.solve_triangular(self.factor.T, k, upper=False)

    def normal_equations(self, X: torch.Tensor, y: torch.Tensor, well_conditioned_pivot: float):
        """Phi'Phi and Phi'y; formed as R^{-T}(K_ZX K_XZ)R^{-1} only when |R^{-1}|^2 <= 1 / well_conditioned_pivot
        (the numpy path's rule and reason: otherwise |R^{-1}|^2 amplifies rounding beyond the smallest ridges)."""
        r = self.centres.shape[0]
        gram = torch.zeros((r, r), dtype=torch.float64, device=X.device)
        rhs = torch.zeros(r, dtype=torch.float64, device=X.device)
        if self.inverse_bound * well_conditioned_pivot <= 1.0:
            for rows in _row_blocks(X.shape[0], r):
                k = gaussian_kernel(X[rows], self.centres, self.bandwidth)
                gram += k.T @ k
                rhs += k.T @ y[rows]
            lower = self.factor.T
            half = torch.linalg.solve_triangular(lower, gram, upper=False)
            gram = torch.linalg.solve_triangular(lower, half.T, upper=False)
            rhs = torch.linalg.solve_triangular(lower, rhs[:, None], upper=False)[:, 0]
            return 0.5 * (gram + gram.T), rhs
        for rows in _row_blocks(X.shape[0], r):
            phi_t = self.transposed(X[rows])
            gram += phi_t @ phi_t.T
            rhs += phi_t @ y[rows]
        return gram, rhs

    def landmark_weights(self, feature_weights: torch.Tensor) -> torch.Tensor:
        return torch.linalg.solve_triangular(self.factor, feature_weights[:, None], upper=True)[:, 0]


def kernel_ridge_exact_loo(X: np.ndarray, yc: np.ndarray, bandwidth: float, ridges: np.ndarray, device):
    """GaussianKernelRidge._fit_exact on ``device``: LOO MSE of every ridge from one eigendecomposition of K, and a
    function giving (centres, dual coefficients) of ridge j."""
    n = X.shape[0]
    Xt, y, ridge = as_tensor(X, device), as_tensor(yc, device), as_tensor(ridges, device)
    eigenvalues, vectors = torch.linalg.eigh(gaussian_kernel(Xt, Xt, bandwidth))
    eigenvalues.clamp_(min=0.0)
    c = vectors.T @ y
    shrink = eigenvalues[:, None] / (eigenvalues[:, None] + n * ridge[None, :])
    sse = torch.zeros(len(ridges), dtype=torch.float64, device=device)
    for rows in _row_blocks(n, n):
        v = vectors[rows]
        fitted = v @ (shrink * c[:, None])
        leverage = (v * v) @ shrink
        sse += torch.sum(_loo_residuals(y[rows, None], fitted, leverage) ** 2, dim=0)

    def solution(j: int):
        return X, (vectors @ (c / (eigenvalues + n * ridges[j]))).cpu().numpy()

    return (sse / n).cpu().numpy(), solution


def kernel_ridge_nystrom_gcv(X: np.ndarray, yc: np.ndarray, bandwidth: float, ridges: np.ndarray,
                             landmarks: np.ndarray, device, pivot_tolerance: float, well_conditioned_pivot: float):
    """GaussianKernelRidge._fit_nystrom on ``device``: GCV of every ridge from one eigendecomposition of Phi'Phi,
    and a function giving (centres, dual coefficients) of ridge j."""
    n = X.shape[0]
    Xt, y, ridge = as_tensor(X, device), as_tensor(yc, device), as_tensor(ridges, device)
    features = NystromFeatures(as_tensor(landmarks, device), bandwidth, pivot_tolerance)
    gram, rhs = features.normal_equations(Xt, y, well_conditioned_pivot)
    eigenvalues, vectors = torch.linalg.eigh(gram)
    eigenvalues.clamp_(min=0.0)
    c = vectors.T @ rhs
    inverse = 1.0 / (eigenvalues[:, None] + n * ridge[None, :])
    rss = y @ y - torch.sum(c[:, None] ** 2 * inverse * (2.0 - eigenvalues[:, None] * inverse), dim=0)
    dof = torch.sum(eigenvalues[:, None] * inverse, dim=0)
    gcv = torch.clamp(rss, min=0.0) / n / torch.clamp(1.0 - dof / n, min=_MIN_ONE_MINUS_LEVERAGE) ** 2

    def solution(j: int):
        weights = vectors @ (c * inverse[:, j])
        return features.centres.cpu().numpy(), features.landmark_weights(weights).cpu().numpy()

    return gcv.cpu().numpy(), solution
