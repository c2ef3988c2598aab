"""Evaluation metrics for the GAN stability runs (issue 4), pure numpy/scipy.

Distances to the data (exact Wasserstein-1, MMD², Fréchet distance) and mode statistics for 2-D mixtures. The
generator's step size and the divergence test live in the batched training loop (``dltheory.gan.training``),
which computes them for all models at once.
"""

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from scipy.linalg import sqrtm
from scipy.optimize import linear_sum_assignment
from scipy.spatial.distance import cdist

# Largest imaginary part tolerated on the diagonal of sqrtm(Σ_a Σ_b) before it is discarded (as in pytorch-fid);
# larger parts mean the product is far from having a real square root, which is an error, not rounding.
FRECHET_IMAG_TOLERANCE = 1e-3
# Added to both covariances' diagonals when sqrtm of their product is not finite (singular covariances).
FRECHET_EPS = 1e-6
# Network-simplex iteration cap: POT's default (100,000) can stop short at n = 1,000 with a warning.
EMD_MAX_ITERATIONS = 10_000_000


def wasserstein1_exact(x: np.ndarray, y: np.ndarray) -> float:
    """Exact Wasserstein-1 distance between two empirical measures with the same number of points.

    With equal uniform weights the optimal plan is a permutation (Birkhoff), so W1 is the mean Euclidean distance
    of the optimal matching. Solved by POT's network simplex (``ot.emd2``): about 0.1 s at n = 1,000 whatever the
    clouds, where ``scipy.optimize.linear_sum_assignment`` (same value; ``tests/test_gan_metrics.py`` checks both
    agree) takes 0.5–0.7 s when a generator has collapsed or drifted away and the costs are nearly tied.
    """
    import ot  # here, not at the top: POT's package import pulls in scikit-learn (about 1.5 s per training job)

    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if len(x) != len(y):
        raise ValueError(f"wasserstein1_exact needs equal sample sizes, got {len(x)} and {len(y)}")
    cost = cdist(x.reshape(len(x), -1), y.reshape(len(y), -1))
    weights = np.full(len(x), 1.0 / len(x))
    return float(ot.emd2(weights, weights, cost, numItermax=EMD_MAX_ITERATIONS))


def wasserstein1_exact_many(pairs: Sequence[tuple[np.ndarray, np.ndarray]], threads: int = 1) -> list[float]:
    """``wasserstein1_exact`` of each (x, y) pair, in order, solved on up to ``threads`` threads at once.

    Threads, not processes: POT's network simplex releases the GIL (measured: a Python loop beside it in another
    thread ran at full speed), so the solves run in parallel without a process pool's start-up and copies of the
    points. Each solve is the serial one, so the numbers are the serial numbers exactly; one thread: a plain loop.
    """
    if threads <= 1 or len(pairs) <= 1:
        return [wasserstein1_exact(x, y) for x, y in pairs]
    with ThreadPoolExecutor(max_workers=min(threads, len(pairs))) as pool:
        return list(pool.map(lambda pair: wasserstein1_exact(*pair), pairs))


def wasserstein1_assignment(x: np.ndarray, y: np.ndarray) -> float:
    """The same W1 as ``wasserstein1_exact`` through the assignment problem (scipy): the cross-check."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if len(x) != len(y):
        raise ValueError(f"wasserstein1_assignment needs equal sample sizes, got {len(x)} and {len(y)}")
    cost = cdist(x.reshape(len(x), -1), y.reshape(len(y), -1))
    rows, cols = linear_sum_assignment(cost)
    return float(cost[rows, cols].mean())


def gaussian_kernel_sum(x: np.ndarray, y: np.ndarray, bandwidths: Sequence[float]) -> np.ndarray:
    """Gram matrix of k(a, b) = Σ_σ exp(−‖a − b‖² / (2σ²)) between the rows of ``x`` and ``y``."""
    squared = cdist(x, y, "sqeuclidean")
    return sum(np.exp(-squared / (2.0 * s**2)) for s in bandwidths)


def mmd_squared(x: np.ndarray, y: np.ndarray, bandwidths: Sequence[float]) -> float:
    """Unbiased estimate of MMD²(P, Q) with a sum of Gaussian kernels (Gretton et al. 2012, eq. 3).

    Measures the squared RKHS distance between the kernel mean embeddings of the samples ``x`` ~ P and ``y`` ~ Q.
    Diagonal terms k(x_i, x_i) are excluded, so the estimate is unbiased and may be slightly negative when P = Q.
    """
    x, y = np.atleast_2d(np.asarray(x, dtype=float)), np.atleast_2d(np.asarray(y, dtype=float))
    n, m = len(x), len(y)
    if n < 2 or m < 2:
        raise ValueError(f"mmd_squared needs at least 2 points per sample, got {n} and {m}")
    if len(bandwidths) == 0:
        raise ValueError("mmd_squared needs at least one bandwidth")
    kxx = gaussian_kernel_sum(x, x, bandwidths)
    kyy = gaussian_kernel_sum(y, y, bandwidths)
    kxy = gaussian_kernel_sum(x, y, bandwidths)
    within_x = (kxx.sum() - np.trace(kxx)) / (n * (n - 1))
    within_y = (kyy.sum() - np.trace(kyy)) / (m * (m - 1))
    return float(within_x + within_y - 2.0 * kxy.mean())


def mode_statistics(
    samples: np.ndarray, modes: np.ndarray, std: float | np.ndarray, threshold: float = 3.0, min_count: int = 1
) -> dict:
    """Mode coverage and sample quality of generated points against a mixture's mode centres.

    Each sample is assigned to its nearest mode and is "high quality" when within ``threshold``·``std`` of it
    (issue 4: 3 std; ``std`` one number, or one per mode for a user's mixture). A mode is covered when at least
    ``min_count`` high-quality samples are assigned to it. Returns ``high_quality_fraction``, ``modes_covered``,
    ``mode_coverage`` (covered / number of modes) and ``counts`` (high-quality samples per mode, an int array of
    length ``len(modes)``).
    """
    samples, modes = np.asarray(samples, dtype=float), np.asarray(modes, dtype=float)
    if len(samples) == 0:
        raise ValueError("mode_statistics needs at least one sample")
    distances = cdist(samples, modes)
    nearest = distances.argmin(axis=1)
    limits = threshold * np.broadcast_to(np.asarray(std, dtype=float), (len(modes),))  # one std, or one per mode
    high_quality = distances[np.arange(len(samples)), nearest] <= limits[nearest]
    counts = np.bincount(nearest[high_quality], minlength=len(modes))
    covered = int((counts >= min_count).sum())
    return {
        "high_quality_fraction": float(high_quality.mean()),
        "modes_covered": covered,
        "mode_coverage": covered / len(modes),
        "counts": counts,
    }


def frechet_distance(features_a: np.ndarray, features_b: np.ndarray) -> float:
    """Fréchet (2-Wasserstein²) distance between Gaussians fitted to two feature sets (as in FID).

    d² = ‖μ_a − μ_b‖² + tr(Σ_a + Σ_b − 2 (Σ_a Σ_b)^{1/2}), with sample means and covariances of the rows. The matrix
    square root is ``scipy.linalg.sqrtm``; its real part is kept when the diagonal's imaginary parts are below
    ``FRECHET_IMAG_TOLERANCE`` (rounding), otherwise ValueError. A non-finite root is retried with ``FRECHET_EPS``
    added to both covariances' diagonals.
    """
    a, b = np.asarray(features_a, dtype=float), np.asarray(features_b, dtype=float)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise ValueError(f"frechet_distance needs two (n, d) arrays with the same d, got {a.shape} and {b.shape}")
    if len(a) < 2 or len(b) < 2:
        raise ValueError(f"frechet_distance needs at least 2 rows per set, got {len(a)} and {len(b)}")
    mu_a, mu_b = a.mean(axis=0), b.mean(axis=0)
    cov_a = np.atleast_2d(np.cov(a, rowvar=False))
    cov_b = np.atleast_2d(np.cov(b, rowvar=False))
    root = sqrtm(cov_a @ cov_b)
    if not np.all(np.isfinite(root)):
        offset = FRECHET_EPS * np.eye(len(cov_a))
        root = sqrtm((cov_a + offset) @ (cov_b + offset))
    if np.iscomplexobj(root):
        largest = np.max(np.abs(np.diagonal(root).imag))
        if largest > FRECHET_IMAG_TOLERANCE:
            raise ValueError(f"sqrtm(Σ_a Σ_b) has imaginary diagonal part {largest:.3g} > {FRECHET_IMAG_TOLERANCE}")
        root = root.real
    diff = mu_a - mu_b
    return float(diff @ diff + np.trace(cov_a) + np.trace(cov_b) - 2.0 * np.trace(root))
