"""Training with no augmentation (NA), augmentation of every sample (CA), self-paced augmentation (SPA), the
rate-matched random control (RND) and RandAugment (RA), all runs of one training size as one batched model.

Takase, Karakida & Asoh (Neurocomputing 442, 2021) and their code: at every step the losses of the batch's
*un-augmented* samples are computed without a weight update; samples with loss >= tau are replaced by their
augmented images; the step then trains on the mixed batch. Our scoring pass runs under ``torch.no_grad`` (the
network has no batch norm, so train and eval mode agree).

Runs of one seed share everything but their method: the training subset, the initial weights, the batch order and
the augmentation draws (common random numbers), so the differences between methods are paired. RND augments, at
every step, as many samples as its SPA partner (same seed, augmentation and tau) does at that step, at random
places: the same schedule of counts, a different choice. Every augmentation is drawn afresh at every step.
The accuracy reported is the one after the last step (never the best test accuracy over training, which the
authors' code reports).
"""

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from dltheory.nn.optim import SGD
from dltheory.seeds import derive_seed
from dltheory.selfpaced.augment import (
    AUGMENTATIONS,
    MIXUP,
    draw_randaugment,
    matched_random_mask,
    mixup,
    randaugment,
    select_mixed,
    spa_mask,
)
from dltheory.selfpaced.data import DIGITS_SHAPE, DigitsSplit, majority_accuracy, seed_split
from dltheory.selfpaced.settings import (
    CA,
    FAMILY,
    METHODS,
    NA,
    OPTIONAL_AUGMENTATIONS,
    RA,
    RND,
    SPA,
    SelfpacedSettings,
)
from dltheory.settings import from_config

SANITY_REPLICATES = 1  # seeds that also run SPA at tau = 0 (it must equal CA bit for bit)
TRAJECTORY_FINAL = ("validation_accuracy", "test_accuracy")  # the last step's accuracies close the trajectory


@dataclass(frozen=True)
class Run:
    """One network of the batch: its seed and method; ``augmentation`` for CA/SPA/RND, ``tau`` for SPA/RND,
    (``ra_ops``, ``ra_magnitude``) for RandAugment."""

    replicate: int
    method: str  # one of METHODS
    augmentation: str = ""
    tau: float = math.nan
    ra_ops: int = 0
    ra_magnitude: int = 0


def plan_runs(settings: SelfpacedSettings) -> list[Run]:
    """Every run of one training size: per seed NA, RA at every (N, M), and per augmentation CA, SPA at every tau
    (and at tau = 0, the sanity check, for the first SANITY_REPLICATES seeds), and RND partnered with every SPA
    tau."""
    runs = []
    for replicate in range(settings.replicates):
        runs.append(Run(replicate, NA))
        runs += [Run(replicate, RA, ra_ops=n, ra_magnitude=m) for n in settings.randaugment.ops
                 for m in settings.randaugment.magnitudes]
        for augmentation in settings.augmentations:
            runs.append(Run(replicate, CA, augmentation))
            sanity = (0.0,) if replicate < SANITY_REPLICATES else ()
            runs += [Run(replicate, SPA, augmentation, tau) for tau in (*sanity, *settings.taus)]
            runs += [Run(replicate, RND, augmentation, tau) for tau in settings.taus]
    return runs


def batch_schedule(n: int, batch: int, steps: int, generator: torch.Generator) -> torch.Tensor:
    """(steps, batch) indices: epochs of fresh random permutations of the n samples, cut into batches."""
    epochs = math.ceil(steps * batch / n)
    order = torch.cat([torch.randperm(n, generator=generator) for _ in range(epochs)])
    return order[: steps * batch].view(steps, batch)


class BatchedNetworks(torch.nn.Module):
    """M two-hidden-layer ReLU MLPs pixels -> width -> width -> classes on inputs (M, points, pixels); one
    torch.bmm per layer. Network m starts from the weights of its seed (``starts[m]``): He-normal weights, zero
    biases."""

    def __init__(self, starts: list[int], width: int, seed: int, key: tuple, pixels: int = 64, classes: int = 10):
        super().__init__()
        shapes = [(pixels, width), (width, width), (width, classes)]
        per_seed = {}
        for replicate in sorted(set(starts)):
            generator = torch.Generator().manual_seed(derive_seed(seed, FAMILY, "init", *key, replicate))
            per_seed[replicate] = [torch.randn(*shape, generator=generator) * math.sqrt(2.0 / shape[0])
                                   for shape in shapes]
        self.weights = torch.nn.ParameterList(
            [torch.nn.Parameter(torch.stack([per_seed[r][layer] for r in starts])) for layer in range(3)])
        self.biases = torch.nn.ParameterList(
            [torch.nn.Parameter(torch.zeros(len(starts), 1, shape[1])) for shape in shapes])

    def forward(self, inputs: torch.Tensor, rows: torch.Tensor | None = None) -> torch.Tensor:
        """Logits (M, points, 10); with ``rows`` only those networks' (for the scoring pass)."""
        h = inputs
        for layer, (weight, bias) in enumerate(zip(self.weights, self.biases, strict=True)):
            if rows is not None:
                weight, bias = weight[rows], bias[rows]
            h = torch.baddbmm(bias, h, weight)
            if layer < 2:
                h = torch.relu(h)
        return h


class BatchedConvNetworks(torch.nn.Module):
    """M small CNNs for images larger than the digits (the digest's design, without batch norm, which does not
    batch across networks): conv 3 x 3 to width / 2 channels, ReLU, conv 3 x 3 stride 2 to width channels, ReLU,
    global average pool, a linear layer to the classes. The M networks run as grouped convolutions (groups = M) and
    one torch.bmm; inputs (M, points, C*H*W). He-normal weights from each network's seed, zero biases."""

    def __init__(self, starts: list[int], width: int, seed: int, key: tuple, shape: tuple[int, int, int],
                 classes: int):
        super().__init__()
        self.shape = shape
        channels = (shape[0], max(1, width // 2), width)
        shapes = [(channels[1], channels[0], 3, 3), (channels[2], channels[1], 3, 3), (width, classes)]
        fan_in = [channels[0] * 9, channels[1] * 9, width]
        per_seed = {}
        for replicate in sorted(set(starts)):
            generator = torch.Generator().manual_seed(derive_seed(seed, FAMILY, "init_cnn", *key, replicate))
            per_seed[replicate] = [torch.randn(*shape, generator=generator) * math.sqrt(2.0 / fan)
                                   for shape, fan in zip(shapes, fan_in, strict=True)]
        self.weights = torch.nn.ParameterList(
            [torch.nn.Parameter(torch.stack([per_seed[r][layer] for r in starts])) for layer in range(3)])
        self.biases = torch.nn.ParameterList(
            [torch.nn.Parameter(torch.zeros(len(starts), channels[1])),
             torch.nn.Parameter(torch.zeros(len(starts), channels[2])),
             torch.nn.Parameter(torch.zeros(len(starts), 1, classes))])

    def forward(self, inputs: torch.Tensor, rows: torch.Tensor | None = None) -> torch.Tensor:
        """Logits (M, points, classes); with ``rows`` only those networks' (for the scoring pass)."""
        weights, biases = list(self.weights), list(self.biases)
        if rows is not None:
            weights, biases = [w[rows] for w in weights], [b[rows] for b in biases]
        models, points, _ = inputs.shape
        h = inputs.view(models, points, *self.shape).transpose(0, 1).reshape(points, -1, *self.shape[1:])
        for layer, stride in ((0, 1), (1, 2)):
            w = weights[layer]
            h = torch.relu(F.conv2d(h, w.reshape(-1, *w.shape[2:]), biases[layer].reshape(-1), stride=stride,
                                    padding=1, groups=models))
        pooled = h.mean(dim=(2, 3)).view(points, models, -1).transpose(0, 1)
        return torch.baddbmm(biases[2], pooled, weights[2])


def make_networks(starts: list[int], width: int, seed: int, key: tuple, shape: tuple[int, int, int],
                  classes: int) -> torch.nn.Module:
    """The MLP for the digits (8 x 8, grey), the small CNN for any other images."""
    if tuple(shape) == DIGITS_SHAPE:
        return BatchedNetworks(starts, width, seed, key, math.prod(shape), classes)
    return BatchedConvNetworks(starts, width, seed, key, tuple(shape), classes)


def per_sample_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Cross-entropy of each (network, sample): (M, points)."""
    models, points = labels.shape
    return F.cross_entropy(logits.reshape(models * points, logits.shape[-1]), labels.reshape(-1),
                           reduction="none").view(models, points)


class RunTable:
    """Index tensors that say which rows of the batch are which method (built once per training size)."""

    def __init__(self, runs: list[Run], augmentations):
        self.runs = runs
        self.replicate = torch.tensor([r.replicate for r in runs])
        self.rows = {method: torch.tensor([i for i, r in enumerate(runs) if r.method == method], dtype=torch.long)
                     for method in METHODS}
        self.spa_tau = torch.tensor([runs[i].tau for i in self.rows[SPA].tolist()])
        position = {(r.replicate, r.augmentation, r.tau): k for k, r in
                    enumerate(runs[i] for i in self.rows[SPA].tolist())}
        # RND row -> the position (within the SPA rows) of its partner
        self.partner = torch.tensor([position[(runs[i].replicate, runs[i].augmentation, runs[i].tau)]
                                     for i in self.rows[RND].tolist()], dtype=torch.long)
        self.by_augmentation = {a: torch.tensor([i for i, r in enumerate(runs) if r.augmentation == a],
                                                dtype=torch.long) for a in augmentations}
        self.panel_index = {a: k for k, a in enumerate(augmentations)}
        self.random_panel = torch.tensor([self.panel_index[runs[i].augmentation] for i in self.rows[RND].tolist()],
                                         dtype=torch.long)
        ra = self.rows[RA].tolist()
        self.ra_ops = torch.tensor([runs[i].ra_ops for i in ra], dtype=torch.long)
        self.ra_magnitude = torch.tensor([runs[i].ra_magnitude for i in ra], dtype=torch.long)


def augmentation_mask(table: RunTable, clean_losses: torch.Tensor, batch: int,
                      random_generators: list[torch.Generator],
                      panel_generators: dict[str, list[torch.Generator]] | None = None) -> torch.Tensor:
    """(M, batch) True where a run augments a sample this step: never (NA), always (CA, RA), SPA's rule on the
    clean losses of its rows (``clean_losses``, (SPA rows, batch)), and for RND as many as its partner at random
    places (each seed's draws from its own generator). The RND runs of a panel in ``panel_generators`` (an optional
    panel such as mixup) draw from that panel's generators, so adding the panel leaves the others' draws as they
    were."""
    mask = torch.zeros(len(table.runs), batch, dtype=torch.bool)
    mask[table.rows[CA]] = True
    mask[table.rows[RA]] = True
    spa = spa_mask(clean_losses, table.spa_tau[:, None])
    mask[table.rows[SPA]] = spa
    counts = spa.sum(dim=1)[table.partner]
    random_rows = table.rows[RND]
    own = panel_generators or {}
    separate = torch.tensor([table.panel_index[a] for a in own], dtype=torch.long)
    groups = [(~torch.isin(table.random_panel, separate), random_generators)]
    groups += [(table.random_panel == table.panel_index[a], generators) for a, generators in own.items()]
    for in_group, generators in groups:
        for replicate, generator in enumerate(generators):
            mine = (table.replicate[random_rows] == replicate) & in_group
            if mine.any():
                mask[random_rows[mine]] = matched_random_mask(counts[mine], batch, generator)
    return mask


def augmented_inputs(table: RunTable, clean: torch.Tensor, mask: torch.Tensor, per_seed: torch.Tensor,
                     generators: dict[str, list[torch.Generator]], max_ops: int,
                     shape: tuple[int, int, int] = DIGITS_SHAPE) -> torch.Tensor:
    """The inputs of this step: each run's clean batch ``clean`` (M, batch, 64), with its augmented image where
    ``mask`` is True. ``per_seed`` (seeds, batch, 64) is each seed's clean batch: every augmentation is drawn once
    per seed and sample (shared by that seed's runs: common random numbers), afresh at every call."""
    inputs = clean.clone()
    seeds, batch, pixels = per_seed.shape
    for augmentation, rows in table.by_augmentation.items():
        if augmentation == MIXUP:  # its labels change too: mixup_inputs
            continue
        augment = AUGMENTATIONS[augmentation]
        images = torch.stack([augment(per_seed[r], generators[augmentation][r], shape) for r in range(seeds)])
        chosen = images[table.replicate[rows]]
        inputs[rows] = torch.where(mask[rows, :, None], chosen, clean[rows])
    rows = table.rows[RA]
    if len(rows):
        draws = [draw_randaugment(batch, max_ops, generators["randaugment"][r]) for r in range(seeds)]
        ops = torch.stack([d[0] for d in draws])[table.replicate[rows]].reshape(-1, max_ops)
        signs = torch.stack([d[1] for d in draws])[table.replicate[rows]].reshape(-1, max_ops)
        n_ops = table.ra_ops.repeat_interleave(batch)
        magnitude = table.ra_magnitude.repeat_interleave(batch)
        images = randaugment(clean[rows].reshape(-1, pixels), n_ops, magnitude, ops, signs, shape)
        inputs[rows] = torch.where(mask[rows, :, None], images.view(len(rows), batch, pixels), clean[rows])
    return inputs


def mixup_inputs(table: RunTable, inputs: torch.Tensor, labels: torch.Tensor, mask: torch.Tensor,
                 per_seed: torch.Tensor, labels_per_seed: torch.Tensor, generators: list[torch.Generator],
                 classes: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The mixup runs' rows and their targets (rows, batch, classes); writes their images into ``inputs``. Each
    seed's mixing (partners and lam) is drawn once per step and shared by that seed's mixup runs; a sample is mixed
    only where ``mask`` is True, and otherwise keeps its own image and one-hot label."""
    rows = table.by_augmentation[MIXUP]
    draws = [mixup(per_seed[r], labels_per_seed[r], generators[r], classes) for r in range(len(per_seed))]
    seed_of = table.replicate[rows]
    mixed = torch.stack([d[0] for d in draws])[seed_of]
    targets = torch.stack([d[1] for d in draws])[seed_of]
    inputs[rows], chosen = select_mixed(inputs[rows], labels[rows], mixed, targets, mask[rows])
    return rows, chosen


def soft_cross_entropy(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Cross-entropy of each sample against a soft target (the authors' ``SoftCrossEntropy``), (..., points)."""
    return -(targets * F.log_softmax(logits, dim=-1)).sum(dim=-1)


def _stack(splits: list[DigitsSplit], part: str) -> tuple[torch.Tensor, torch.Tensor]:
    x = torch.tensor(np.stack([getattr(s, f"{part}_x") for s in splits]), dtype=torch.float32)
    y = torch.tensor(np.stack([getattr(s, f"{part}_y") for s in splits]), dtype=torch.long)
    return x, y


def batch_loss_variance(losses: torch.Tensor) -> torch.Tensor:
    """Per run, the variance over steps of the loss of the batch it trained on, ``losses`` (steps, M): the paper's
    "loss function instability". The authors' ``flag_variance`` takes np.var (population) over an epoch's batches;
    ours is over a recording window of steps (an epoch is a single batch at n <= batch size), so it also holds the
    loss's fall within the window."""
    return losses.var(dim=0, unbiased=False)


@torch.no_grad()
def accuracy(model: torch.nn.Module, table: RunTable, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Each run's accuracy on its seed's (x, y), x (seeds, points, pixels), on the CPU; the networks' device does
    the forward pass."""
    device = next(model.parameters()).device
    logits = model(x[table.replicate].to(device)).cpu()
    return (logits.argmax(dim=-1) == y[table.replicate]).float().mean(dim=1)


def train_size(settings: SelfpacedSettings, n: int, seed: int, device: str | torch.device = "cpu") -> pd.DataFrame:
    """Train every run of training size ``n`` (all seeds and methods as one batched model) and return a tidy table:
    part "final" (accuracies after the last step, the overall augmented fraction, the majority-class accuracy, the
    tau = 0 identity check) and part "trajectory" (augmented fraction and accuracies every ``record_every``)."""
    training = settings.training
    splits = [seed_split(seed, n, settings.validation, r, settings.data) for r in range(settings.replicates)]
    shape, classes = splits[0].shape, splits[0].classes
    runs = plan_runs(settings)
    table = RunTable(runs, settings.augmentations)
    train_x, train_y = _stack(splits, "train")
    val_x, val_y = _stack(splits, "validation")
    test_x, test_y = _stack(splits, "test")
    batch = min(training.batch_size, n)

    def generator(stream, replicate):
        return torch.Generator().manual_seed(derive_seed(seed, FAMILY, stream, n, replicate))

    seeds = range(settings.replicates)
    schedule = torch.stack([batch_schedule(n, batch, training.steps, generator("order", r)) for r in seeds])
    streams = {name: [generator(name, r) for r in seeds] for name in (*settings.augmentations, "randaugment")}
    random_generators = [generator("random_subset", r) for r in seeds]
    panel_generators = {a: [generator(f"random_subset_{a}", r) for r in seeds] for a in settings.augmentations
                        if a in OPTIONAL_AUGMENTATIONS}
    max_ops = max(settings.randaugment.ops)

    # The networks train on ``device``; the data, the augmentation draws (CPU generators) and the selection stay
    # on the CPU, so CPU runs are as before and a GPU run draws the same augmentations.
    device = torch.device(device)
    model = make_networks([r.replicate for r in runs], training.width, seed, (n,), shape, classes).to(device)
    optimizer = SGD(model.parameters(), lr=training.learning_rate, momentum=training.momentum,
                                nesterov=True, weight_decay=training.weight_decay)
    spa_rows = table.rows[SPA]
    fraction = torch.zeros(len(runs))
    window = torch.zeros(len(runs))
    window_losses = []  # each step's batch loss per run, since the last record
    trajectory = []
    for step in range(training.steps):
        for group in optimizer.param_groups:  # cosine annealing to zero over the run
            group["lr"] = training.learning_rate * 0.5 * (1 + math.cos(math.pi * step / training.steps))
        index = schedule[:, step]
        per_seed = torch.stack([train_x[r, index[r]] for r in seeds])
        labels_per_seed = torch.stack([train_y[r, index[r]] for r in seeds])
        clean, labels = per_seed[table.replicate], labels_per_seed[table.replicate]
        with torch.no_grad():  # the scoring pass: losses of the un-augmented samples, no weight update
            clean_losses = per_sample_loss(model(clean[spa_rows].to(device), spa_rows),
                                           labels[spa_rows].to(device)).cpu()
        mask = augmentation_mask(table, clean_losses, batch, random_generators, panel_generators)
        inputs = augmented_inputs(table, clean, mask, per_seed, streams, max_ops, shape)
        if MIXUP in table.by_augmentation:
            mixed_rows, targets = mixup_inputs(table, inputs, labels, mask, per_seed, labels_per_seed,
                                               streams[MIXUP], classes)
            mixed_rows, targets = mixed_rows.to(device), targets.to(device)
        logits = model(inputs.to(device))
        each = per_sample_loss(logits, labels.to(device))
        if MIXUP in table.by_augmentation:
            each = each.index_put((mixed_rows,), soft_cross_entropy(logits[mixed_rows], targets))
        losses = each.mean(dim=1)
        optimizer.zero_grad(set_to_none=True)
        losses.sum().backward()
        optimizer.step()
        window_losses.append(losses.detach().cpu())
        step_fraction = mask.float().mean(dim=1)
        fraction += step_fraction
        window += step_fraction
        if (step + 1) % training.record_every == 0 or step + 1 == training.steps:
            span = (step % training.record_every) + 1
            recent = torch.stack(window_losses)
            metrics = {"augmented_fraction": window / span, "batch_loss": recent.mean(dim=0),
                       "batch_loss_variance": batch_loss_variance(recent)}
            if (step + 1) % training.evaluate_every == 0 and step + 1 < training.steps:
                metrics["validation_accuracy"] = accuracy(model, table, val_x, val_y)
                metrics["test_accuracy"] = accuracy(model, table, test_x, test_y)
            trajectory.append((step + 1, {k: v.clone() for k, v in metrics.items()}))
            window.zero_()
            window_losses.clear()

    final = {"test_accuracy": accuracy(model, table, test_x, test_y),
             "validation_accuracy": accuracy(model, table, val_x, val_y),
             "train_accuracy": accuracy(model, table, train_x, train_y),
             "augmented_fraction": fraction / training.steps}
    final["majority_accuracy"] = torch.tensor([majority_accuracy(splits[r.replicate].train_y,
                                                                 splits[r.replicate].test_y) for r in runs])
    final.update(tau_zero_identity(model, table, test_x))
    rows = []
    for i, run in enumerate(runs):
        base = {"n": n, "replicate": run.replicate, "method": run.method, "augmentation": run.augmentation,
                "tau": run.tau, "ra_ops": run.ra_ops, "ra_magnitude": run.ra_magnitude, "steps": training.steps}
        rows += [{**base, "part": "final", "step": training.steps, "metric": name, "value": float(values[i])}
                 for name, values in final.items() if math.isfinite(float(values[i]))]
        for step, metrics in trajectory + [(training.steps, {k: final[k] for k in TRAJECTORY_FINAL})]:
            rows += [{**base, "part": "trajectory", "step": step, "metric": name, "value": float(values[i])}
                     for name, values in metrics.items()]
    return pd.DataFrame(rows)


@torch.no_grad()
def tau_zero_identity(model: torch.nn.Module, table: RunTable, test_x: torch.Tensor) -> dict[str, torch.Tensor]:
    """For each SPA run at tau = 0 and its CA partner (same seed and augmentation): the largest |difference| of
    their trained parameters, the largest |logit difference| on the test set and the fraction of test predictions
    that agree (NaN for the other runs). Each network is evaluated on its own (a one-network batch), since a
    batched matmul may round a slice differently by its position in memory."""
    runs = table.runs
    partner = {(r.replicate, r.augmentation): i for i, r in enumerate(runs) if r.method == CA}
    names = ("tau_zero_max_parameter_difference", "tau_zero_max_logit_difference", "tau_zero_prediction_agreement")
    out = {name: torch.full((len(runs),), math.nan) for name in names}
    for i, run in enumerate(runs):
        if run.method == SPA and run.tau == 0.0:
            j = partner[(run.replicate, run.augmentation)]
            x = test_x[run.replicate][None].to(next(model.parameters()).device)
            first, second = model(x, torch.tensor([i]))[0], model(x, torch.tensor([j]))[0]
            out[names[0]][i] = max(float((p[i] - p[j]).abs().max()) for p in model.parameters())
            out[names[1]][i] = (first - second).abs().max().cpu()
            out[names[2]][i] = (first.argmax(-1) == second.argmax(-1)).float().mean().cpu()
    return out


def run_training(section, seed: int, n: int, device: str = "cpu") -> pd.DataFrame:
    """Every run at training size ``n`` (settings: the selfpaced section, as a job gets it) with the networks on the
    config's ``device`` (auto: CUDA when present)."""
    from dltheory.runtime import resolve_device

    settings = from_config(SelfpacedSettings, section, FAMILY)
    return train_size(settings, n, seed, resolve_device(device))
