"""scikit-learn's digits split per seed into a class-balanced training set, a validation set and a test set, and
label noise made without shared state (numpy only).

Label noise follows Nakkiran et al. (ICLR 2020, "Deep Double Descent", Sec. 3): with probability p a training label
is replaced by a uniformly drawn *incorrect* label. It touches the training (and validation) labels only; the test
labels stay clean. :func:`noisy_labels` returns a new array and never writes into its input, so a clean run and a
noisy run of one seed cannot share labels (the MNIST-1D notebook's ``dict.copy()`` let its noise leak into the
clean curve; tests/test_overparam.py checks this).
"""

from dataclasses import dataclass

import numpy as np

from dltheory.digits import bundled_digits

CLASSES = 10  # digits 0-9


@dataclass(frozen=True)
class DigitsSplit:
    """One seed's split of the 1797 digits: inputs scaled to [0, 1] and centred by the training mean."""

    train_x: np.ndarray
    train_y: np.ndarray
    validation_x: np.ndarray
    validation_y: np.ndarray
    test_x: np.ndarray
    test_y: np.ndarray

    def with_noise(self, rate: float, rng: np.random.Generator) -> "DigitsSplit":
        """The same split with label noise at ``rate`` on the training and validation labels (the test labels stay
        clean); a new object, this one unchanged."""
        return DigitsSplit(self.train_x, noisy_labels(self.train_y, rate, rng), self.validation_x,
                           noisy_labels(self.validation_y, rate, rng), self.test_x, self.test_y)


def load_digits_arrays() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's bundled digits (offline): 1797 x 64 inputs in [0, 1] and integer labels."""
    pixels, labels = bundled_digits()
    return pixels / 16.0, labels


def split_digits(inputs: np.ndarray, labels: np.ndarray, train: int, validation: int,
                 rng: np.random.Generator) -> DigitsSplit:
    """A class-balanced training set of ``train`` points (train / C per class), then ``validation`` random points of
    the rest, and every remaining point as the test set; inputs centred by the training mean."""
    if train % CLASSES:
        raise ValueError(f"train: {train} is not a multiple of the {CLASSES} classes (the split is class-balanced)")
    if train + validation >= len(labels):
        raise ValueError(f"train + validation: {train} + {validation} leaves no test point of {len(labels)}")
    per_class = train // CLASSES
    chosen = np.concatenate([rng.choice(np.flatnonzero(labels == c), per_class, replace=False)
                             for c in range(CLASSES)])
    chosen = rng.permutation(chosen)
    rest = rng.permutation(np.setdiff1d(np.arange(len(labels)), chosen))
    held, test = rest[:validation], rest[validation:]
    mean = inputs[chosen].mean(axis=0)
    return DigitsSplit(inputs[chosen] - mean, labels[chosen].copy(), inputs[held] - mean, labels[held].copy(),
                       inputs[test] - mean, labels[test].copy())


def noisy_labels(labels: np.ndarray, rate: float, rng: np.random.Generator, classes: int = CLASSES) -> np.ndarray:
    """A copy of ``labels`` in which each label, with probability ``rate``, is replaced by one of the other
    ``classes - 1`` labels drawn uniformly (Nakkiran et al. 2020); ``labels`` itself is never written."""
    labels = np.asarray(labels)
    flip = rng.random(labels.shape) < rate
    shift = rng.integers(1, classes, size=labels.shape)  # 1..C-1: never the label itself
    return np.where(flip, (labels + shift) % classes, labels)


def majority_error(train_labels: np.ndarray, test_labels: np.ndarray) -> float:
    """Test error of the majority-class predictor fitted on the training labels (the did-it-learn reference)."""
    majority = np.bincount(np.asarray(train_labels), minlength=CLASSES).argmax()
    return float(np.mean(np.asarray(test_labels) != majority))


def one_hot(labels: np.ndarray, classes: int = CLASSES) -> np.ndarray:
    return np.eye(classes)[np.asarray(labels)]


def seed_split(seed: int, replicate: int, train: int, validation: int) -> DigitsSplit:
    """Replicate ``replicate``'s clean split, the same in every job (seeded by the global seed and the replicate)."""
    from dltheory.seeds import rng_for

    inputs, labels = load_digits_arrays()
    return split_digits(inputs, labels, train, validation, rng_for(seed, "overparam", "split", replicate))


def with_label_noise(split: DigitsSplit, rate: float, seed: int, replicate: int) -> DigitsSplit:
    """The split with noise at ``rate`` drawn from a generator of its own (global seed, rate, replicate), so the
    random-features and the network jobs see the same noisy labels; rate 0 is the clean split itself."""
    from dltheory.seeds import rng_for

    if rate == 0:
        return split
    return split.with_noise(rate, rng_for(seed, "overparam", "noise", float(rate), replicate))
