"""The GAN runs' target distributions (issue 4), each with its sampler, its quality metrics and its MMD kernel.

A target knows how to draw training points, how to draw the fixed reference sample that generated points are
compared with, and how good a set of generated points looks (``quality``): mode coverage and the fraction of
high-quality samples for the 2-D mixtures; class coverage, mean confidence and a Fréchet distance in the
classifier's feature space for digits. Randomness comes only from the ``numpy.random.Generator`` passed in.
"""

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import torch

from dltheory.gan import data, metrics

# Bandwidths of the MMD metric (not the MMD-GAN's loss), ours: 2-D, from a mode's width to the ring's radius;
# digits, around the typical distance between two digits in [−1, 1]^64 (about 6–10).
MIXTURE_MMD_BANDWIDTHS = (0.1, 0.5, 2.0)
DIGITS_MMD_BANDWIDTHS = (2.0, 5.0, 10.0)
CONFIDENT = 0.9  # a class counts as covered when some sample is classified into it with this probability (ours)


@dataclass(frozen=True)
class MixtureTarget:
    """A 2-D Gaussian mixture (the ring, the grid, or a user's), or a user's CSV of points (``points``): training
    batches and the W1 reference are then drawn from those points, and the mode statistics read ``centres`` and
    ``std`` (one, or one per mode)."""

    name: str
    centres: np.ndarray
    std: float | np.ndarray
    weights: np.ndarray | None = None  # None: equal
    points: np.ndarray | None = None
    dim: int = 2
    bounded: bool = False  # generator output is linear
    mmd_bandwidths: tuple[float, ...] = MIXTURE_MMD_BANDWIDTHS
    quality_metrics: tuple[str, ...] = ("high_quality_fraction", "mode_coverage")

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        if self.points is not None:  # the empirical distribution of the user's points
            return self.points[rng.integers(0, len(self.points), n)]
        return data.gaussian_mixture(n, rng, self.centres, self.std, self.weights)[0]

    def reference(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """A mixture's fresh sample; from a CSV, ``n`` distinct points when there are that many."""
        if self.points is not None:
            return self.points[rng.choice(len(self.points), n, replace=n > len(self.points))]
        return self.sample(n, rng)

    def quality(self, samples: np.ndarray) -> dict[str, float]:
        stats = metrics.mode_statistics(samples, self.centres, self.std)
        return {name: stats[name] for name in self.quality_metrics}


@dataclass(frozen=True)
class DigitsTarget:
    """scikit-learn's digits in [−1, 1]^64, scored by a fixed classifier (``dltheory.gan.classifier``)."""

    images: np.ndarray
    classifier: torch.nn.Module | None = None
    name: str = "digits"
    dim: int = 64
    bounded: bool = True  # generator output through tanh, as the data lie in [−1, 1]
    mmd_bandwidths: tuple[float, ...] = DIGITS_MMD_BANDWIDTHS
    quality_metrics: tuple[str, ...] = ("class_coverage", "mean_confidence", "frechet_distance")

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` training images drawn with replacement (the empirical distribution of the 1,797 digits)."""
        return self.images[rng.integers(0, len(self.images), n)]

    def reference(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` distinct images when n ≤ 1,797 (the W1 reference sample), else with replacement."""
        return self.images[rng.choice(len(self.images), n, replace=n > len(self.images))]

    @cached_property
    def real_features(self) -> np.ndarray:
        """Classifier features of all real digits, computed once (the Fréchet distance's reference)."""
        return self._features_and_probabilities(self.images)[0]

    def _features_and_probabilities(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        with torch.no_grad():
            tensor = torch.from_numpy(np.asarray(x, dtype=np.float32))
            features = self.classifier.features(tensor)
            probabilities = torch.softmax(self.classifier.head(features), dim=1)
        return features.numpy().astype(np.float64), probabilities.numpy().astype(np.float64)

    def quality(self, samples: np.ndarray) -> dict[str, float]:
        """Class coverage (classes predicted with probability ≥ 0.9 at least once, over 10), the mean top-class
        probability, and the Fréchet distance between the features of ``samples`` and of all real digits."""
        if self.classifier is None:
            raise ValueError("DigitsTarget.quality needs a classifier (see dltheory.gan.classifier)")
        features, probabilities = self._features_and_probabilities(samples)
        top = probabilities.max(axis=1)
        confident_classes = np.unique(probabilities.argmax(axis=1)[top >= CONFIDENT])
        return {
            "class_coverage": len(confident_classes) / probabilities.shape[1],
            "mean_confidence": float(top.mean()),
            "frechet_distance": metrics.frechet_distance(features, self.real_features),
        }


def user_target(name: str, mixture) -> MixtureTarget:
    """The target of a user's ``GanMixture`` (dltheory.gan.settings): its centres, stds and weights, or its CSV's
    points with the centres and stds of its mode column or given beside it."""
    centres, std, points = data.mixture_modes(mixture)
    weights = None
    if mixture.weights is not None:
        weights = np.asarray(mixture.weights, dtype=float) / float(np.sum(mixture.weights))
    return MixtureTarget(name, centres, std, weights, points)


def make_target(name: str, classifier: torch.nn.Module | None = None, mixtures=None):
    """The target called ``name``: ring, grid, digits, or a key of ``mixtures`` (the user's ``GanMixture``s);
    ValueError naming the known ones otherwise."""
    if mixtures and name in mixtures:
        return user_target(name, mixtures[name])
    if name == "ring":
        return MixtureTarget("ring", data.ring_modes(), data.RING_STD)
    if name == "grid":
        return MixtureTarget("grid", data.grid_modes(), data.GRID_STD)
    if name == "digits":
        return DigitsTarget(data.digits_images()[0], classifier)
    raise ValueError(f"unknown GAN dataset {name!r}; known: {', '.join(TARGET_NAMES)}")


TARGET_NAMES = ("ring", "grid", "digits")
