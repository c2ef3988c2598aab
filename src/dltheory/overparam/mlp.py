"""Trained networks over width, and parallel networks (averages of M members), on the digits splits.

One-hidden-layer ReLU classifiers (dltheory.nn.batched_mlp with C outputs), full-batch Adam on cross-entropy for a
fixed number of steps, no early stopping, no weight decay: the protocol under which Nakkiran et al. (ICLR 2020)
see the test error peak where the training error first reaches zero (model-wise double descent). All networks of
one width (seeds x label-noise rates) train as one batched model; the batch loss is the sum of the models' losses
and Adam is element-wise, so each network follows the trajectory it would follow alone.

Each network's initialisation is drawn from its own generator, seeded by (replicate, width, member), so the clean
and the noisy network of a seed start from the same weights and differ only by their labels.
"""

import numpy as np
import pandas as pd
import torch

from dltheory.nn.batched_mlp import BatchedArchitecture, BatchedMLP
from dltheory.nn.optim import Adam
from dltheory.overparam.data import CLASSES, majority_error, seed_split, with_label_noise
from dltheory.overparam.settings import FAMILY, OverparamSettings
from dltheory.seeds import derive_seed
from dltheory.settings import from_config


def parameter_count(dim: int, width: int, classes: int = CLASSES) -> int:
    """P of a one-hidden-layer network d -> h -> C with biases: (d + 1) h + (h + 1) C."""
    return (dim + 1) * width + (width + 1) * classes


def build_networks(dim: int, width: int, keys: list[tuple], seed: int, device) -> BatchedMLP:
    """One batched model of ``len(keys)`` networks of ``width``; network b initialised (He) from its own generator
    seeded by ``keys[b]``, so it does not depend on which other networks share its batch."""
    architecture = BatchedArchitecture(dim, (width,) * len(keys), (1,) * len(keys), outputs=CLASSES)
    model = BatchedMLP(architecture, torch.Generator().manual_seed(0))
    with torch.no_grad():
        for index, key in enumerate(keys):
            generator = torch.Generator().manual_seed(derive_seed(seed, FAMILY, "init", *key))
            alone = BatchedMLP(BatchedArchitecture(dim, (width,), (1,), outputs=CLASSES), generator)
            for name, parameter in model.named_parameters():
                parameter[index].copy_(getattr(alone, name)[0])
    return model.to(device)


def train_full_batch(model: BatchedMLP, inputs: torch.Tensor, labels: torch.Tensor, steps: int,
                     learning_rate: float) -> np.ndarray:
    """Full-batch Adam on each network's mean cross-entropy for ``steps`` steps; returns each network's final
    training loss (NaN where it diverged)."""
    optimizer = Adam(model.parameters(), lr=learning_rate)
    models, points = labels.shape
    for _ in range(steps):
        logits = model(inputs)
        losses = torch.nn.functional.cross_entropy(logits.reshape(models * points, CLASSES), labels.reshape(-1),
                                                   reduction="none").view(models, points).mean(dim=1)
        optimizer.zero_grad(set_to_none=True)
        losses.sum().backward()
        optimizer.step()
    return losses.detach().cpu().numpy()


@torch.no_grad()
def evaluate(model: BatchedMLP, inputs: torch.Tensor, labels: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """Each network's error rate and mean cross-entropy on its own (inputs, labels)."""
    logits = model(inputs)
    models, points = labels.shape
    loss = torch.nn.functional.cross_entropy(logits.reshape(models * points, CLASSES), labels.reshape(-1),
                                             reduction="none").view(models, points).mean(dim=1)
    error = (logits.argmax(dim=-1) != labels).float().mean(dim=1)
    return error.cpu().numpy(), loss.cpu().numpy()


@torch.no_grad()
def spectral_norm_product(model: BatchedMLP) -> np.ndarray:
    """prod_l ||W_l||_2 per network (input and output layer): the quantity Imaizumi & Schmidt-Hieber's bound rests
    on in place of the parameter count (our operationalisation)."""
    first = torch.linalg.matrix_norm(model.input_weight, ord=2)
    last = torch.linalg.matrix_norm(model.output_weight, ord=2)
    return (first * last).cpu().numpy()


def parallel_average(member_outputs: torch.Tensor, members) -> dict[int, torch.Tensor]:
    """The parallel network of Nakada & Imaizumi: f(x) = (1/M) sum_{m < M} f_m(x), the average of the first M
    members' outputs (logits), for each M in ``members``; ``member_outputs`` is (members, points, C)."""
    return {int(m): member_outputs[:m].mean(dim=0) for m in members}


def _stack(splits, part: str, device):
    x = torch.tensor(np.stack([getattr(s, f"{part}_x") for s in splits]), dtype=torch.float32, device=device)
    y = torch.tensor(np.stack([getattr(s, f"{part}_y") for s in splits]), dtype=torch.long, device=device)
    return x, y


def run_width_sweep(splits: dict, widths, steps: int, learning_rate: float, seed: int, device) -> list[dict]:
    """Train every (replicate, label noise) network at every width; tidy rows per network and metric.

    ``splits`` maps (replicate, noise) to a DigitsSplit whose training labels carry that noise. Metrics:
    train_error / train_loss (on the noisy training labels), test_error / test_loss (clean test labels),
    spectral_norm_product, majority_error (the did-it-learn reference)."""
    keys = list(splits)
    ordered = [splits[k] for k in keys]
    train_x, train_y = _stack(ordered, "train", device)
    test_x, test_y = _stack(ordered, "test", device)
    dim = train_x.shape[-1]
    majority = [majority_error(s.train_y, s.test_y) for s in ordered]
    rows = []
    for width in widths:
        model = build_networks(dim, width, [(replicate, width, 0) for replicate, _ in keys], seed, device)
        final_loss = train_full_batch(model, train_x, train_y, steps, learning_rate)
        metrics = {"final_step_loss": final_loss, "spectral_norm_product": spectral_norm_product(model)}
        metrics["train_error"], metrics["train_loss"] = evaluate(model, train_x, train_y)
        metrics["test_error"], metrics["test_loss"] = evaluate(model, test_x, test_y)
        metrics["majority_error"] = np.array(majority)
        for index, (replicate, noise) in enumerate(keys):
            base = {"part": "mlp", "replicate": replicate, "label_noise": noise, "width": width,
                    "parameters": parameter_count(dim, width), "steps": steps}
            rows += [{**base, "metric": name, "value": float(values[index])} for name, values in metrics.items()]
    return rows


def run_parallel(splits: dict, width: int, members, steps: int, learning_rate: float, seed: int,
                 device) -> list[dict]:
    """Per replicate, max(members) networks of ``width`` trained on that replicate's split (its own
    initialisations), then the test error of the average of the first M for each M; rows per (replicate, M).

    ``splits`` maps a replicate to its DigitsSplit (labels noisy at the parallel part's rate)."""
    largest = max(members)
    replicates = list(splits)
    ordered = [splits[r] for r in replicates for _ in range(largest)]
    train_x, train_y = _stack(ordered, "train", device)
    dim = train_x.shape[-1]
    keys = [(r, width, 1 + member) for r in replicates for member in range(largest)]  # member 0 is the sweep's
    model = build_networks(dim, width, keys, seed, device)
    train_full_batch(model, train_x, train_y, steps, learning_rate)
    member_error, _ = evaluate(model, train_x, train_y)
    test_x, _ = _stack(ordered, "test", device)
    with torch.no_grad():
        logits = model(test_x).view(len(replicates), largest, test_x.shape[1], CLASSES)
    rows = []
    for position, replicate in enumerate(replicates):
        split = splits[replicate]
        test_y = torch.tensor(split.test_y, device=device)
        base = {"part": "parallel", "replicate": replicate, "width": width,
                "parameters": parameter_count(dim, width), "steps": steps}
        for m, average in parallel_average(logits[position], members).items():
            error = float((average.argmax(dim=-1) != test_y).float().mean())
            rows.append({**base, "members": m, "metric": "test_error", "value": error})
        rows.append({**base, "members": 1, "metric": "majority_error",
                     "value": majority_error(split.train_y, split.test_y)})
        rows += [{**base, "members": 1, "member": k, "metric": "member_train_error",
                  "value": float(member_error[position * largest + k])} for k in range(largest)]
    return rows


def run_networks(section, seed: int, device) -> pd.DataFrame:
    """The width sweep and the parallel networks of every replicate (settings: the overparam section, as a job
    gets it); one tidy table."""
    settings = from_config(OverparamSettings, section, FAMILY)
    clean = {r: seed_split(seed, r, settings.train, settings.validation) for r in range(settings.replicates)}
    sweep = {(r, rate): with_label_noise(clean[r], rate, seed, r) for r in clean for rate in settings.mlp.label_noise}
    rows = run_width_sweep(sweep, settings.mlp.widths, settings.mlp.steps, settings.mlp.learning_rate, seed, device)
    parallel = settings.parallel
    noisy = {r: with_label_noise(clean[r], parallel.label_noise, seed, r) for r in clean}
    rows += [{**row, "label_noise": parallel.label_noise} for row in run_parallel(
        noisy, parallel.member_width, parallel.members, settings.mlp.steps, settings.mlp.learning_rate, seed,
        device)]
    return pd.DataFrame(rows)
