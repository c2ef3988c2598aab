"""ReLU DNN regression sized by the JMLR guideline, trained many-at-once (Imaizumi & Fukumizu 2022)."""

import numpy as np
import torch

from dltheory.nn.batched_mlp import BatchedArchitecture, BucketedMLP
from dltheory.nn.training import TrainingOutcome, pad_train_validation, predict_batched, train_batched_regression
from dltheory.nonsmooth.settings import DNNSettings
from dltheory.runtime import resolve_device

__all__ = ["DNNRegressor", "DNNSettings", "predict_dnn_batch", "resolve_device", "train_dnn_batch"]


def train_dnn_batch(
    datasets: list[tuple[np.ndarray, np.ndarray]],
    architectures: list[tuple[int, int]],
    settings: DNNSettings,
    seed: int,
    device: torch.device,
    progress=None,
) -> tuple[BucketedMLP, TrainingOutcome]:
    """Train one MLP per (X, y) in ``datasets``, all in one batched model.

    ``architectures[i]`` is (depth, width) of model i. Each data set is split into its first
    (1 - validation_fraction) rows for training and the rest for early stopping (the rows are i.i.d.
    draws, so the first rows are a random split). Models of one architecture train as one unpadded batch
    (``BucketedMLP``), all buckets in one loop; initial weights are drawn for the padded batch, so a model's
    start does not depend on how the batch is bucketed.
    """
    dim = datasets[0][0].shape[1]
    sizes = np.array([len(y) for _, y in datasets])
    n_val = np.maximum(1, np.round(sizes * settings.validation_fraction).astype(int))
    train_x, train_y, n_train, val_x, val_y = pad_train_validation(datasets, n_val)

    def tensor(array):
        return torch.as_tensor(array, device=device)

    architecture = BatchedArchitecture(
        in_dim=dim, depths=tuple(d for d, _ in architectures), widths=tuple(w for _, w in architectures)
    )
    model = BucketedMLP(architecture, torch.Generator(device="cpu").manual_seed(seed), init=settings.init).to(device)
    batch_generator = torch.Generator(device=device).manual_seed(seed + 1)
    outcome = train_batched_regression(
        model,
        tensor(train_x), tensor(train_y), tensor(n_train),
        tensor(val_x), tensor(val_y), tensor(n_val),
        settings.training, batch_generator, progress,
    )
    return model, outcome


def predict_dnn_batch(model: BucketedMLP, inputs: np.ndarray) -> np.ndarray:
    """Every model's predictions on shared inputs, as float64 (models, points)."""
    device = next(model.parameters()).device
    return predict_batched(model, torch.as_tensor(np.asarray(inputs, np.float32), device=device)).double().cpu().numpy()


class DNNRegressor:
    """A single ReLU DNN behind the ``fit(X, y)`` / ``predict(X)`` interface of the other estimators.

    The experiment trains many at once with :func:`train_dnn_batch`; this class is the same code with a
    batch of one, for users who want one fit.
    """

    def __init__(self, depth: int = 3, width: int = 64, settings: DNNSettings | None = None,
                 random_state: int = 0, device: str = "cpu"):
        self.depth, self.width = depth, width
        self.settings = settings or DNNSettings()
        self.random_state, self.device = random_state, device

    def fit(self, X: np.ndarray, y: np.ndarray) -> "DNNRegressor":
        self.model_, self.outcome_ = train_dnn_batch(
            [(X, y)], [(self.depth, self.width)], self.settings, self.random_state, resolve_device(self.device)
        )
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        return predict_dnn_batch(self.model_, X)[0]
