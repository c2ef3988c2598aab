"""scikit-learn's bundled digits (offline), standardised, for the statistics at initialisation and the sweep."""

import numpy as np

from dltheory.digits import bundled_digits
from dltheory.resinit.settings import FAMILY
from dltheory.seeds import rng_for

CLASSES = 10
TEST_SIZE = 360  # of the 1797 digits: 1437 train / 360 test, as in the digest's probe


def standardise(train: np.ndarray, *others: np.ndarray) -> list[np.ndarray]:
    """Each feature to mean 0 and variance 1 on ``train`` (a constant feature, the digits' blank border pixels,
    stays 0); the same map applied to ``others``."""
    mean, std = train.mean(axis=0), train.std(axis=0)
    std = np.where(std > 0, std, 1.0)
    return [(a - mean) / std for a in (train, *others)]


def input_batch(seed: int, replicate: int, batch: int) -> np.ndarray:
    """``batch`` digits (standardised over all 1797) drawn without replacement for one seed: the inputs the
    untrained networks of that seed see."""
    inputs, _ = bundled_digits()
    (inputs,) = standardise(inputs)
    rows = rng_for(seed, FAMILY, "inputs", replicate).choice(len(inputs), batch, replace=False)
    return inputs[rows]


def digits_split(seed: int, replicate: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """One seed's random 1437 / 360 split of the digits, standardised on its training part: (train_x, train_y,
    test_x, test_y)."""
    inputs, labels = bundled_digits()
    order = rng_for(seed, FAMILY, "split", replicate).permutation(len(labels))
    test, train = order[:TEST_SIZE], order[TEST_SIZE:]
    train_x, test_x = standardise(inputs[train], inputs[test])
    return train_x, labels[train], test_x, labels[test]


def majority_accuracy(train_y: np.ndarray, test_y: np.ndarray) -> float:
    """Test accuracy of the majority-class predictor fitted on the training labels (the did-it-learn reference)."""
    majority = np.bincount(train_y, minlength=CLASSES).argmax()
    return float(np.mean(test_y == majority))


def constant_loss(train_y: np.ndarray) -> float:
    """Cross-entropy on the training set of the best constant predictor (the class frequencies): its entropy."""
    p = np.bincount(train_y, minlength=CLASSES) / len(train_y)
    p = p[p > 0]
    return float(-(p * np.log(p)).sum())
