"""Adam with per-model early stopping for a batch of regression MLPs, each on its own data set.

Model b trains on the first ``n_train[b]`` rows of ``train_x[b]`` and is validated on the first
``n_val[b]`` rows of ``val_x[b]`` (rows beyond those are padding). Adam's update is element-wise, and the
batch loss is the *sum* of the per-model losses, so each model follows exactly the trajectory it would
follow alone: batching changes the speed, not the numbers (up to float summation order).
"""

import logging
import math
from dataclasses import dataclass

import numpy as np
import torch

from dltheory.nn.batched_mlp import BatchedMLP
from dltheory.nn.settings import TrainingSettings  # noqa: F401  (the training settings live torch-free)

log = logging.getLogger(__name__)


@dataclass
class TrainingOutcome:
    best_val_mse: np.ndarray  # (models,)
    best_step: np.ndarray  # (models,) step of the kept parameters
    steps_run: int
    diverged: np.ndarray  # (models,) bool
    diverged_step: np.ndarray  # (models,) step of divergence, -1 if none


def _validation_mse(model: BatchedMLP, val_x, val_y, n_val, chunk: int = 4096) -> torch.Tensor:
    total = torch.zeros(val_x.shape[0], dtype=val_x.dtype, device=val_x.device)
    for start in range(0, val_x.shape[1], chunk):
        stop = min(start + chunk, val_x.shape[1])
        prediction = model(val_x[:, start:stop])
        valid = (torch.arange(start, stop, device=val_x.device)[None, :] < n_val[:, None]).to(val_x.dtype)
        total += ((prediction - val_y[:, start:stop]) ** 2 * valid).sum(dim=1)
    return total / n_val.to(val_x.dtype)


def pad_train_validation(datasets, n_val: np.ndarray) -> tuple[np.ndarray, ...]:
    """Split each (X, y) into its first n - n_val rows (training) and the rest (validation), zero-padded to common
    shapes: (train_x, train_y, n_train, val_x, val_y), float32, for ``train_batched_regression``."""
    dim = datasets[0][0].shape[1]
    n_train = np.array([len(y) for _, y in datasets]) - n_val
    n_models, max_train, max_val = len(datasets), n_train.max(), n_val.max()
    train_x = np.zeros((n_models, max_train, dim), np.float32)
    train_y = np.zeros((n_models, max_train), np.float32)
    val_x = np.zeros((n_models, max_val, dim), np.float32)
    val_y = np.zeros((n_models, max_val), np.float32)
    for i, (x, y) in enumerate(datasets):
        train_x[i, : n_train[i]], train_y[i, : n_train[i]] = x[: n_train[i]], y[: n_train[i]]
        val_x[i, : n_val[i]], val_y[i, : n_val[i]] = x[n_train[i] :], y[n_train[i] :]
    return train_x, train_y, n_train, val_x, val_y


def train_batched_regression(
    model: BatchedMLP,
    train_x: torch.Tensor,
    train_y: torch.Tensor,
    n_train: torch.Tensor,
    val_x: torch.Tensor,
    val_y: torch.Tensor,
    n_val: torch.Tensor,
    settings: TrainingSettings,
    generator: torch.Generator,
    progress=None,
) -> TrainingOutcome:
    """Train every model of the batch; on return the model holds each one's best-validation parameters."""
    n_models = train_x.shape[0]
    device = train_x.device
    optimizer = torch.optim.Adam(model.parameters(), lr=settings.learning_rate)
    final_fraction = settings.lr_decay

    def cosine(step):
        return final_fraction + (1 - final_fraction) * 0.5 * (1 + math.cos(math.pi * step / settings.max_steps))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, cosine)
    best_state = {name: p.detach().clone() for name, p in model.named_parameters()}
    best_val = torch.full((n_models,), float("inf"), dtype=train_x.dtype, device=device)
    best_step = np.zeros(n_models, dtype=np.int64)
    stale = np.zeros(n_models, dtype=np.int64)
    active = torch.ones(n_models, dtype=torch.bool, device=device)
    diverged = np.zeros(n_models, dtype=bool)
    diverged_step = np.full(n_models, -1, dtype=np.int64)
    rows = torch.arange(n_models, device=device)[:, None]
    step = 0
    for step in range(1, settings.max_steps + 1):
        # Each model draws its mini-batch from its own n_train rows.
        uniform = torch.rand(n_models, settings.batch_size, generator=generator, device=device)
        index = (uniform * n_train[:, None]).long()
        prediction = model(train_x[rows, index])
        per_model = ((prediction - train_y[rows, index]) ** 2).mean(dim=1)
        bad = ~torch.isfinite(per_model) | (per_model > settings.divergence_threshold)
        newly_bad = (bad & active).cpu().numpy()
        if newly_bad.any():
            diverged[newly_bad] = True
            diverged_step[newly_bad] = step
            active &= ~bad
            log.warning("models %s diverged at step %d", np.flatnonzero(newly_bad).tolist(), step)
        # Stopped and diverged models contribute nothing: torch.where also keeps NaN out of the gradient.
        loss = torch.where(active, per_model, torch.zeros_like(per_model)).sum()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        scheduler.step()

        if step % settings.eval_every == 0 or step == settings.max_steps:
            with torch.no_grad():
                val = _validation_mse(model, val_x, val_y, n_val)
            improved = (val < best_val) & active & torch.isfinite(val)
            if improved.any():
                for name, parameter in model.named_parameters():
                    best = best_state[name]
                    best[improved] = parameter.detach()[improved]
                best_val = torch.where(improved, val, best_val)
            improved_np = improved.cpu().numpy()
            best_step[improved_np] = step
            stale = np.where(improved_np, 0, stale + 1)
            active &= torch.as_tensor(stale <= settings.patience, device=device)
            if progress is not None:
                progress(step, float(torch.nan_to_num(best_val, posinf=0).mean()), int(active.sum()))
            if not active.any():
                break
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            parameter.copy_(best_state[name])
    return TrainingOutcome(
        best_val_mse=best_val.cpu().numpy(),
        best_step=best_step,
        steps_run=step,
        diverged=diverged,
        diverged_step=diverged_step,
    )


@torch.no_grad()
def predict_batched(model: BatchedMLP, inputs: torch.Tensor, chunk: int = 8192) -> torch.Tensor:
    """Predictions of every model on shared inputs (points, in_dim) -> (models, points), in chunks."""
    n_models = model.architecture.n_models
    parts = []
    for start in range(0, inputs.shape[0], chunk):
        block = inputs[start : start + chunk]
        parts.append(model(block.expand(n_models, *block.shape)))
    return torch.cat(parts, dim=1)
