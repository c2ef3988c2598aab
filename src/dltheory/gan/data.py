"""Target distributions for the GAN stability runs (issue 4): a ring and a grid of Gaussians, and digits.

The ring's radius 2 and std 0.02 are fixed by the issue. The grid's spacing 2 (modes at {-4, -2, 0, 2, 4}²)
and std 0.05 are ours, following the common 5 × 5 benchmark. All mixtures have equal mode weights; labels are
drawn stratified (as equal as ``n`` allows, then shuffled) so that every mode is represented in every sample,
which removes multinomial noise from mode-coverage metrics of the data itself. Randomness comes only from the
``numpy.random.Generator`` passed in.
"""

import numpy as np

RING_RADIUS = 2.0
RING_STD = 0.02
GRID_SPACING = 2.0  # ours
GRID_STD = 0.05  # ours


def ring_modes(modes: int = 8, radius: float = RING_RADIUS) -> np.ndarray:
    """Centres of ``modes`` Gaussians equally spaced on a circle of ``radius``, first at angle 0: shape (modes, 2)."""
    angles = 2.0 * np.pi * np.arange(modes) / modes
    return radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)


def grid_modes(side: int = 5, spacing: float = GRID_SPACING) -> np.ndarray:
    """Centres of a ``side`` × ``side`` grid with ``spacing``, centred at the origin: shape (side², 2)."""
    axis = spacing * (np.arange(side) - (side - 1) / 2.0)
    xs, ys = np.meshgrid(axis, axis, indexing="ij")
    return np.stack([xs.ravel(), ys.ravel()], axis=1)


def _stratified_labels(n: int, k: int, rng: np.random.Generator) -> np.ndarray:
    """Equal-weight mode labels, counts differing by at most one, in random order."""
    return rng.permutation(np.arange(n) % k)


def gaussian_mixture(
    n: int, rng: np.random.Generator, centres: np.ndarray, std: float
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` points from an equal-weight isotropic mixture at ``centres`` with per-coordinate ``std``.

    Returns (points (n, d), labels (n,)); ``labels[i]`` is the index of the centre point ``i`` was drawn from.
    """
    labels = _stratified_labels(n, len(centres), rng)
    points = centres[labels] + std * rng.standard_normal((n, centres.shape[1]))
    return points, labels


def ring_of_gaussians(
    n: int, rng: np.random.Generator, modes: int = 8, radius: float = RING_RADIUS, std: float = RING_STD
) -> tuple[np.ndarray, np.ndarray]:
    """The 2-D ring of ``modes`` Gaussians (issue 4: 8 modes, radius 2, std 0.02): (points (n, 2), labels (n,))."""
    return gaussian_mixture(n, rng, ring_modes(modes, radius), std)


def grid_of_gaussians(
    n: int, rng: np.random.Generator, side: int = 5, spacing: float = GRID_SPACING, std: float = GRID_STD
) -> tuple[np.ndarray, np.ndarray]:
    """The 2-D ``side`` × ``side`` grid of Gaussians (spacing 2 and std 0.05 are ours): (points, labels)."""
    return gaussian_mixture(n, rng, grid_modes(side, spacing), std)


def digits_images() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's bundled digits (no network): images (1797, 64) float32 scaled 0..16 → [-1, 1], labels (1797,)."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = (digits.data / 8.0 - 1.0).astype(np.float32)
    return images, digits.target.astype(np.int64)
