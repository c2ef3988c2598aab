"""ReLU DNN regression sized by the JMLR guideline, trained many-at-once (Imaizumi & Fukumizu 2022)."""

import time
from dataclasses import dataclass, field

import numpy as np
import torch

from dltheory.nn.batched_mlp import BatchedArchitecture, BatchedMLP
from dltheory.nn.training import TrainingOutcome, TrainingSettings, predict_batched, train_batched_regression
from dltheory.nonsmooth.theory import jmlr_network_size


@dataclass(frozen=True)
class DNNSettings:
    """DNN size and training. ``width``/``depth`` of 0 mean "from the JMLR Thm 7 guideline"."""

    width: int = 0
    depth: int = 0
    parameter_scale: float = 2.0  # the constant C of J Thm 7's parameter budget (ours)
    depth_scale: float = 0.25  # the constant C of J Thm 7's depth bound (ours)
    validation_fraction: float = 0.2  # held out for early stopping
    training: TrainingSettings = field(default_factory=TrainingSettings)

    @classmethod
    def from_config(cls, config: dict) -> "DNNSettings":
        config = dict(config)
        training_keys = TrainingSettings.__dataclass_fields__
        training = TrainingSettings(**{k: config.pop(k) for k in list(config) if k in training_keys})
        return cls(training=training, **config)

    def architecture_for(self, n: int, dim: int, alpha: float, beta: float, pieces: int) -> tuple[int, int]:
        """(depth, width) for sample size n: the guideline unless overridden."""
        depth, width = jmlr_network_size(n, dim, alpha, beta, pieces, self.parameter_scale, self.depth_scale)
        return (self.depth or depth), (self.width or width)


def resolve_device(name: str) -> torch.device:
    """``auto`` picks CUDA when present; ``cuda`` without a GPU is an error that says so."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("config device is 'cuda' but torch sees no CUDA device; use 'auto' or 'cpu'")
    return torch.device(name)


@dataclass
class BatchFit:
    """Fitted batch: predictions on the test points plus what training recorded."""

    test_predictions: np.ndarray  # (models, test points)
    outcome: TrainingOutcome
    architecture: BatchedArchitecture
    seconds: float


def fit_dnn_batch(
    datasets: list[tuple[np.ndarray, np.ndarray]],
    architectures: list[tuple[int, int]],
    test_x: np.ndarray,
    settings: DNNSettings,
    seed: int,
    device: torch.device,
    progress=None,
) -> BatchFit:
    """Train one MLP per (X, y) in ``datasets``, all in one batched model, and predict on ``test_x``.

    ``architectures[i]`` is (depth, width) of model i. Each data set is split into its first
    (1 - validation_fraction) rows for training and the rest for early stopping.
    """
    start = time.perf_counter()
    dim = test_x.shape[1]
    sizes = np.array([len(y) for _, y in datasets])
    n_val = np.maximum(1, np.round(sizes * settings.validation_fraction).astype(int))
    n_train = sizes - n_val
    n_models, max_train, max_val = len(datasets), n_train.max(), n_val.max()
    train_x = np.zeros((n_models, max_train, dim), np.float32)
    train_y = np.zeros((n_models, max_train), np.float32)
    val_x = np.zeros((n_models, max_val, dim), np.float32)
    val_y = np.zeros((n_models, max_val), np.float32)
    for i, (x, y) in enumerate(datasets):
        train_x[i, : n_train[i]], train_y[i, : n_train[i]] = x[: n_train[i]], y[: n_train[i]]
        val_x[i, : n_val[i]], val_y[i, : n_val[i]] = x[n_train[i] :], y[n_train[i] :]

    def tensor(array):
        return torch.as_tensor(array, device=device)

    generator = torch.Generator(device="cpu").manual_seed(seed)
    architecture = BatchedArchitecture(
        in_dim=dim, depths=tuple(d for d, _ in architectures), widths=tuple(w for _, w in architectures)
    )
    model = BatchedMLP(architecture, generator).to(device)
    batch_generator = torch.Generator(device=device).manual_seed(seed + 1)
    outcome = train_batched_regression(
        model,
        tensor(train_x), tensor(train_y), tensor(n_train),
        tensor(val_x), tensor(val_y), tensor(n_val),
        settings.training, batch_generator, progress,
    )
    predictions = predict_batched(model, tensor(test_x.astype(np.float32))).double().cpu().numpy()
    return BatchFit(predictions, outcome, architecture, time.perf_counter() - start)


class DNNRegressor:
    """A single ReLU DNN behind the ``fit(X, y)`` / ``predict(X)`` interface of the other estimators.

    The experiment trains many at once with :func:`fit_dnn_batch`; this class is the same code with a
    batch of one, for users who want one fit.
    """

    def __init__(self, depth: int = 3, width: int = 64, settings: DNNSettings | None = None,
                 random_state: int = 0, device: str = "cpu"):
        self.depth, self.width = depth, width
        self.settings = settings or DNNSettings()
        self.random_state, self.device = random_state, device

    def fit(self, X: np.ndarray, y: np.ndarray) -> "DNNRegressor":
        device = resolve_device(self.device)
        dim = X.shape[1]
        generator = torch.Generator().manual_seed(self.random_state)
        architecture = BatchedArchitecture(in_dim=dim, widths=(self.width,), depths=(self.depth,))
        self.model_ = BatchedMLP(architecture, generator).to(device)
        n_val = max(1, round(len(y) * self.settings.validation_fraction))
        n_train = len(y) - n_val

        def tensor(array):
            return torch.as_tensor(np.asarray(array, np.float32), device=device)[None]

        self.outcome_ = train_batched_regression(
            self.model_,
            tensor(X[:n_train]), tensor(y[:n_train]), torch.tensor([n_train], device=device),
            tensor(X[n_train:]), tensor(y[n_train:]), torch.tensor([n_val], device=device),
            self.settings.training,
            torch.Generator(device=device).manual_seed(self.random_state + 1),
        )
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        device = next(self.model_.parameters()).device
        inputs = torch.as_tensor(np.asarray(X, np.float32), device=device)
        return predict_batched(self.model_, inputs)[0].double().cpu().numpy()
