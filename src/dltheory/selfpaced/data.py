"""scikit-learn's digits as 8 x 8 images in [0, 1], split per seed into a class-balanced training set, a validation
set and a test set (numpy only). The authors' code takes the first n of one fixed shuffle for every seed and does
not balance classes; here every seed draws its own balanced subset, so the spread over seeds includes the subset's.
"""

from dataclasses import dataclass

import numpy as np

CLASSES = 10


@dataclass(frozen=True)
class DigitsSplit:
    """One seed's split: images (points, 64) in [0, 1] and integer labels."""

    train_x: np.ndarray
    train_y: np.ndarray
    validation_x: np.ndarray
    validation_y: np.ndarray
    test_x: np.ndarray
    test_y: np.ndarray


def load_digit_images() -> tuple[np.ndarray, np.ndarray]:
    """The 1797 bundled digits (offline) as (1797, 64) pixels in [0, 1] (row-major 8 x 8) and labels."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    return digits.data.astype(np.float32) / 16.0, digits.target.astype(np.int64)


def split_digits(images: np.ndarray, labels: np.ndarray, train: int, validation: int,
                 rng: np.random.Generator) -> DigitsSplit:
    """``train / 10`` training images per class, then ``validation`` random images of the rest, the remaining ones
    as the test set."""
    if train % CLASSES:
        raise ValueError(f"train: {train} is not a multiple of the {CLASSES} classes (the split is class-balanced)")
    if train + validation >= len(labels):
        raise ValueError(f"train + validation: {train} + {validation} leaves no test image of {len(labels)}")
    chosen = np.concatenate([rng.choice(np.flatnonzero(labels == c), train // CLASSES, replace=False)
                             for c in range(CLASSES)])
    chosen = rng.permutation(chosen)
    rest = rng.permutation(np.setdiff1d(np.arange(len(labels)), chosen))
    held, test = rest[:validation], rest[validation:]
    return DigitsSplit(images[chosen], labels[chosen], images[held], labels[held], images[test], labels[test])


def seed_split(seed: int, train: int, validation: int, replicate: int) -> DigitsSplit:
    """Replicate ``replicate``'s split at training size ``train`` (seeded by the global seed, n and replicate)."""
    from dltheory.seeds import rng_for

    images, labels = load_digit_images()
    return split_digits(images, labels, train, validation, rng_for(seed, "selfpaced", "split", train, replicate))


def majority_accuracy(train_labels: np.ndarray, test_labels: np.ndarray) -> float:
    """Test accuracy of the majority-class predictor fitted on the training labels (the did-it-learn reference)."""
    majority = np.bincount(np.asarray(train_labels), minlength=CLASSES).argmax()
    return float(np.mean(np.asarray(test_labels) == majority))
