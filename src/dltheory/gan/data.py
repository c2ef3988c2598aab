"""Target distributions for the GAN stability runs (issue 4): a ring and a grid of Gaussians, digits, and a
user's own 2-D target (issue 22): a mixture given by centres, scales and weights, or a CSV of points.

The ring's radius 2 and std 0.02 are fixed by the issue. The grid's spacing 2 (modes at {-4, -2, 0, 2, 4}²)
and std 0.05 are ours, following the common 5 × 5 benchmark. All mixtures have equal mode weights; labels are
drawn stratified (as equal as ``n`` allows, then shuffled) so that every mode is represented in every sample,
which removes multinomial noise from mode-coverage metrics of the data itself. Randomness comes only from the
``numpy.random.Generator`` passed in.
"""

from pathlib import Path

import numpy as np
import pandas as pd

from dltheory.digits import bundled_digits

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


def _stratified_labels(n: int, k: int, rng: np.random.Generator, weights: np.ndarray | None = None) -> np.ndarray:
    """Mode labels in random order: equal weights give counts differing by at most one; ``weights`` (summing to 1)
    give each mode floor(n·w) and the remainder to the largest fractional parts (ties: the first modes)."""
    if weights is None:
        return rng.permutation(np.arange(n) % k)
    exact = n * np.asarray(weights, dtype=float)
    counts = np.floor(exact).astype(int)
    counts[np.argsort(-(exact - counts), kind="stable")[: n - counts.sum()]] += 1
    return rng.permutation(np.repeat(np.arange(k), counts))


def gaussian_mixture(
    n: int, rng: np.random.Generator, centres: np.ndarray, std: float | np.ndarray, weights: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` points from an isotropic mixture at ``centres`` with per-coordinate ``std`` (one for all modes, or one
    per mode) and mode ``weights`` (None: equal).

    Returns (points (n, d), labels (n,)); ``labels[i]`` is the index of the centre point ``i`` was drawn from.
    """
    labels = _stratified_labels(n, len(centres), rng, weights)
    scale = std if np.ndim(std) == 0 else np.asarray(std, dtype=float)[labels, None]
    points = centres[labels] + scale * rng.standard_normal((n, centres.shape[1]))
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
    pixels, labels = bundled_digits()
    return (pixels / 8.0 - 1.0).astype(np.float32), labels


# --- A user's own 2-D target (issue 22) ------------------------------------------------------------------------

MIN_POINTS = 100  # a CSV target's fewest points: the W1 reference sample draws distinct points from them


def read_points(path: str | Path) -> tuple[np.ndarray, np.ndarray | None]:
    """The points of a user's 2-D target: a CSV with numeric columns ``x`` and ``y`` and optionally an integer
    ``mode`` (which mixture component each point belongs to). Returns (points (N, 2) float64, modes (N,) or None).

    ValueError naming the file for a missing or unreadable file, a missing column, a value that is not a finite
    number, a mode that is not a non-negative integer, or fewer than ``MIN_POINTS`` rows.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: no such file")
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False)  # the cells as written, for the errors
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise ValueError(f"{path}: not a readable CSV ({error})") from error
    missing = [column for column in ("x", "y") if column not in table.columns]
    if missing:
        raise ValueError(f"{path}: no column {missing[0]!r} (columns x, y and optionally mode; found "
                         f"{list(table.columns)})")
    points = np.empty((len(table), 2))
    for j, column in enumerate(("x", "y")):
        values = pd.to_numeric(table[column], errors="coerce").to_numpy(dtype=float)
        bad = np.flatnonzero(~np.isfinite(values))
        if len(bad):
            raise ValueError(f"{path}: column {column!r}, line {bad[0] + 2}: {table[column].iloc[bad[0]]!r} is not a "
                             "finite number")
        points[:, j] = values
    if len(points) < MIN_POINTS:
        raise ValueError(f"{path}: {len(points)} points; a 2-D target needs at least {MIN_POINTS}")
    if "mode" not in table.columns:
        return points, None
    modes = pd.to_numeric(table["mode"], errors="coerce").to_numpy(dtype=float)
    bad = np.flatnonzero(~np.isfinite(modes) | (modes < 0) | (modes != np.round(modes)))
    if len(bad):
        raise ValueError(f"{path}: column 'mode', line {bad[0] + 2}: {table['mode'].iloc[bad[0]]!r} is not a "
                         "non-negative integer")
    return points, modes.astype(int)


def modes_of_points(points: np.ndarray, modes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each labelled mode's centre (the mean of its points) and std (the root mean square over both coordinates
    of its points' offsets from that centre), modes in increasing label order. ValueError for a mode without
    spread (one point, or all its points equal), whose std would be 0."""
    labels = np.unique(modes)
    centres = np.stack([points[modes == label].mean(axis=0) for label in labels])
    stds = np.array([np.sqrt(((points[modes == label] - centre) ** 2).mean()) for label, centre
                     in zip(labels, centres, strict=True)])
    if (stds <= 0).any():
        raise ValueError(f"mode {labels[np.argmax(stds <= 0)]} has no spread (one point, or all its points equal)")
    return centres, stds


def mixture_modes(mixture) -> tuple[np.ndarray, float | np.ndarray, np.ndarray | None]:
    """(centres, std, points or None) of a user's ``GanMixture``: its centres and stds, or its CSV's points
    with the centres and stds of the CSV's mode column or those given beside it."""
    points = None
    if mixture.csv is not None:
        points, modes = read_points(mixture.csv)
        if modes is not None:
            centres, stds = modes_of_points(points, modes)
            return centres, stds, points
    centres = np.asarray(mixture.centres, dtype=float)
    std = float(mixture.std) if np.ndim(mixture.std) == 0 else np.asarray(mixture.std, dtype=float)
    if np.ndim(std) == 1 and len(std) == 1:
        std = float(std[0])
    return centres, std, points
