"""The small digits classifier that scores generated digits (issue 4): class coverage, confidence, Fréchet distance.

A two-hidden-layer MLP (64 → 128 → 64 → 10, ELU) trained with full-batch Adam on a fixed 80 % split of
scikit-learn's digits; its last hidden layer (64 features) is the feature space of the Fréchet distance, as the
Inception network's pool layer is for FID. Architecture and schedule are ours. Everything is seeded, so the
same seed gives the same weights, and the test accuracy is recorded beside them.
"""

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from dltheory.gan.data import digits_images
from dltheory.io import load_torch
from dltheory.nn.optim import Adam

HIDDEN = (128, 64)
CLASSES = 10
TEST_FRACTION = 0.2


class DigitsClassifier(nn.Module):
    """MLP on flattened 8 × 8 digits in [−1, 1]: ``features`` (the last hidden layer) and class ``logits``."""

    def __init__(self, hidden: tuple[int, ...] = HIDDEN):
        super().__init__()
        dims = [64, *hidden]
        layers: list[nn.Module] = []
        for fan_in, fan_out in zip(dims[:-1], dims[1:], strict=True):
            layers += [nn.Linear(fan_in, fan_out), nn.ELU()]
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(dims[-1], CLASSES)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x))


@dataclass(frozen=True)
class ClassifierReport:
    train_accuracy: float
    test_accuracy: float
    n_train: int
    n_test: int
    steps: int
    seed: int


def train_digits_classifier(
    seed: int = 0, steps: int = 500, lr: float = 3e-3
) -> tuple[DigitsClassifier, ClassifierReport]:
    """Train the classifier on a seeded 80 % split; (model in eval mode, its accuracies on both splits)."""
    images, labels = digits_images()
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(images))
    n_test = int(round(TEST_FRACTION * len(images)))
    test, train = order[:n_test], order[n_test:]
    x = torch.from_numpy(images)
    y = torch.from_numpy(labels)
    torch.manual_seed(seed)
    model = DigitsClassifier()
    optimizer = Adam(model.parameters(), lr=lr)
    loss_fn = nn.CrossEntropyLoss()
    for _ in range(steps):
        optimizer.zero_grad()
        loss_fn(model(x[train]), y[train]).backward()
        optimizer.step()
    model.eval()
    with torch.no_grad():
        predicted = model(x).argmax(dim=1)
    accuracy = lambda idx: float((predicted[idx] == y[idx]).float().mean())  # noqa: E731
    report = ClassifierReport(accuracy(train), accuracy(test), len(train), n_test, steps, seed)
    return model, report


def load_digits_classifier(path) -> DigitsClassifier:
    """A classifier saved with ``torch.save(model.state_dict(), path)``, in eval mode; a missing, truncated or corrupt
    file raises :class:`dltheory.io.CorruptInputError` naming it."""
    model = DigitsClassifier()
    model.load_state_dict(load_torch(path))
    model.eval()
    return model
