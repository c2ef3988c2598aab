"""Adam with per-model early stopping for a batch of regression MLPs, each on its own data set.

Model b trains on the first ``n_train[b]`` rows of ``train_x[b]`` and is validated on the first
``n_val[b]`` rows of ``val_x[b]`` (rows beyond those are padding). Adam's update is element-wise, and the
batch loss is the *sum* of the per-model losses, so each model follows exactly the trajectory it would
follow alone: batching changes the speed, not the numbers (up to float summation order). The same holds for how
the batch is laid out: padded to one shape (``BatchedMLP``), one unpadded batch per architecture (``BucketedMLP``),
and cut down to the live models as they stop.
"""

import logging
import math
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch

from dltheory.nn.batched_mlp import BatchedMLP, BucketedMLP, take_models
from dltheory.nn.optim import Adam, LambdaLR
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


@contextmanager
def float32_matmul_precision(precision: str, device: torch.device):
    """Float32 matmuls at ``precision`` on CUDA while the block runs ("high": TF32, 10-bit mantissa products with
    float32 accumulation, several times the full-float32 rate on an H100; "highest": full float32). A no-op on the
    CPU, whose runs stay bitwise reproducible."""
    if torch.device(device).type != "cuda":
        yield
        return
    previous = torch.get_float32_matmul_precision()
    torch.set_float32_matmul_precision(precision)  # sets torch.backends.cuda.matmul.allow_tf32 to match
    try:
        yield
    finally:
        torch.set_float32_matmul_precision(previous)


@dataclass
class _Bucket:
    """One bucket of a batch during training: ``store`` (the model's own ``BatchedMLP``) keeps each model's best
    parameters; ``working`` is the trained copy of its rows ``rows`` (all of them until the bucket is compacted)."""

    store: BatchedMLP
    members: torch.Tensor  # batch position of each row of ``store``
    working: BatchedMLP
    rows: list[int]

    def __post_init__(self):
        self._index()

    def _index(self) -> None:
        # Device tensors, built once per compaction: indexing with a Python list copies it to the GPU every time.
        self.rows_index = torch.as_tensor(self.rows, dtype=torch.long, device=self.members.device)
        self.positions = self.members[self.rows_index]


def _buckets(model: BatchedMLP | BucketedMLP) -> list[_Bucket]:
    if isinstance(model, BucketedMLP):
        pairs = list(zip(model.buckets, model.bucket_members, strict=True))
    else:
        pairs = [(model, list(range(model.architecture.n_models)))]
    device = next(model.parameters()).device
    return [_Bucket(store, torch.as_tensor(members, device=device), store.select(list(range(len(members)))),
                    list(range(len(members))))
            for store, members in pairs]


def _compact(bucket: _Bucket, keep: list[int], optimizer: Adam) -> None:
    """Drop every row of ``bucket.working`` but ``keep`` (indices into its rows), its Adam moments with it.

    Adam's update is element-wise, so a kept model's trajectory does not change; a dropped one has stopped and its
    best parameters are already in ``bucket.store``."""
    old = dict(bucket.working.named_parameters())
    group = optimizer.param_groups[0]
    states = {name: optimizer.state.pop(parameter, {}) for name, parameter in old.items()}
    if keep:
        architecture, taken = take_models(bucket.working.architecture, {n: p.detach() for n, p in old.items()}, keep)
        working = BatchedMLP(architecture, parameters=taken)
        for key in ("exp_avg", "exp_avg_sq"):
            moments = take_models(bucket.working.architecture, {n: s[key] for n, s in states.items() if s}, keep)[1]
            for name, moment in moments.items():
                optimizer.state[getattr(working, name)][key] = moment
        for name, state in states.items():
            if state:
                optimizer.state[getattr(working, name)]["step"] = state["step"]
        replacement = {id(parameter): getattr(working, name) for name, parameter in old.items()}
        group["params"] = [replacement.get(id(parameter), parameter) for parameter in group["params"]]
        bucket.working = working
    else:
        dropped = {id(parameter) for parameter in old.values()}
        group["params"] = [parameter for parameter in group["params"] if id(parameter) not in dropped]
    bucket.rows = [bucket.rows[i] for i in keep]
    bucket._index()


def train_batched_regression(
    model: BatchedMLP | BucketedMLP,
    train_x: torch.Tensor,
    train_y: torch.Tensor,
    n_train: torch.Tensor,
    val_x: torch.Tensor,
    val_y: torch.Tensor,
    n_val: torch.Tensor,
    settings: TrainingSettings,
    generator: torch.Generator,
    progress=None,
    compact: bool = True,
) -> TrainingOutcome:
    """Train every model of the batch; on return the model holds each one's best-validation parameters.

    With ``compact``, a bucket in which more than half of the models still in it have stopped (early stopping or
    divergence) is cut down to the live ones, parameters and Adam moments re-sliced: the batch no longer computes
    on models whose result is settled. The numbers do not change (a stopped model no longer moves the best
    checkpoint, and every model still draws its mini-batch from the same stream)."""
    with float32_matmul_precision(settings.matmul_precision, train_x.device):
        return _train(model, train_x, train_y, n_train, val_x, val_y, n_val, settings, generator, progress, compact)


def _train(model, train_x, train_y, n_train, val_x, val_y, n_val, settings, generator, progress, compact):
    n_models = train_x.shape[0]
    device = train_x.device
    buckets = _buckets(model)
    parameters = [parameter for bucket in buckets for parameter in bucket.working.parameters()]
    optimizer = Adam(parameters, lr=settings.learning_rate)  # torch.optim's numbers, without torch._dynamo
    final_fraction = settings.lr_decay

    def cosine(step):
        return final_fraction + (1 - final_fraction) * 0.5 * (1 + math.cos(math.pi * step / settings.max_steps))

    scheduler = LambdaLR(optimizer, cosine)
    best_val = torch.full((n_models,), float("inf"), dtype=train_x.dtype, device=device)
    best_step = np.zeros(n_models, dtype=np.int64)
    stale = np.zeros(n_models, dtype=np.int64)
    active = torch.ones(n_models, dtype=torch.bool, device=device)
    diverged = np.zeros(n_models, dtype=bool)
    diverged_step = np.full(n_models, -1, dtype=np.int64)
    step = 0
    for step in range(1, settings.max_steps + 1):
        # Each model draws its mini-batch from its own n_train rows; every model draws, in or out of the batch, so
        # the stream a model sees does not depend on the others.
        uniform = torch.rand(n_models, settings.batch_size, generator=generator, device=device)
        index = (uniform * n_train[:, None]).long()
        positions = torch.cat([bucket.positions for bucket in buckets])
        losses = []
        for bucket in buckets:
            rows, batch = bucket.positions[:, None], index[bucket.positions]
            losses.append(((bucket.working(train_x[rows, batch]) - train_y[rows, batch]) ** 2).mean(dim=1))
        # Models cut from the batch have stopped: their NaN never reaches the loss.
        per_model = torch.full((n_models,), float("nan"), dtype=train_x.dtype, device=device)
        per_model = per_model.index_copy(0, positions, torch.cat(losses))
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
            val = torch.full((n_models,), float("inf"), dtype=train_x.dtype, device=device)
            with torch.no_grad():
                for bucket in buckets:
                    where = bucket.positions
                    val[where] = _validation_mse(bucket.working, val_x[where], val_y[where], n_val[where])
            improved = (val < best_val) & active & torch.isfinite(val)
            if improved.any():
                _keep_best(buckets, improved)
                best_val = torch.where(improved, val, best_val)
            improved_np = improved.cpu().numpy()
            best_step[improved_np] = step
            stale = np.where(improved_np, 0, stale + 1)
            active &= torch.as_tensor(stale <= settings.patience, device=device)
            if progress is not None:
                progress(step, float(torch.nan_to_num(best_val, posinf=0).mean()), int(active.sum()))
            if not active.any():
                break
            if compact:
                live = active.cpu().numpy()
                for bucket in buckets:
                    keep = [i for i, position in enumerate(bucket.positions.tolist()) if live[position]]
                    if 2 * len(keep) < len(bucket.rows):
                        _compact(bucket, keep, optimizer)
                buckets = [bucket for bucket in buckets if bucket.rows]
    return TrainingOutcome(
        best_val_mse=best_val.cpu().numpy(),
        best_step=best_step,
        steps_run=step,
        diverged=diverged,
        diverged_step=diverged_step,
    )


@torch.no_grad()
def _keep_best(buckets: list[_Bucket], improved: torch.Tensor) -> None:
    """Copy the improved models' parameters into their store (the model the caller holds)."""
    for bucket in buckets:
        mask = improved[bucket.positions]
        if not mask.any():
            continue
        rows = bucket.rows_index[mask]
        for name, parameter in bucket.working.named_parameters():
            value = parameter.detach()[mask]
            getattr(bucket.store, name)[(rows, *(slice(0, size) for size in value.shape[1:]))] = value


@torch.no_grad()
def predict_batched(model: BatchedMLP | BucketedMLP, inputs: torch.Tensor, chunk: int = 8192) -> torch.Tensor:
    """Predictions of every model on shared inputs (points, in_dim) -> (models, points), in chunks."""
    n_models = model.architecture.n_models
    parts = []
    for start in range(0, inputs.shape[0], chunk):
        block = inputs[start : start + chunk]
        parts.append(model(block.expand(n_models, *block.shape)))
    return torch.cat(parts, dim=1)
