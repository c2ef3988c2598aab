"""Meta-CGNN (ours, following Ton, Sejdinovic & Fukumizu, "Meta Learning for Causal Direction", AAAI 2021).

What the paper says (abstract; a review of its Fig. 1, see ``shared/papers/causal.md``): a CGNN-style generator
with a learnt task variable, computed from each dataset by a kernel mean embedding or DeepSets and fed to the
generator through FiLM layers, is meta-trained over many cause-effect datasets; at test time it decides the
direction of a new, small dataset without training from scratch. Everything below the level of those words is
ours: layer sizes, the training schedule, the loss estimator and the decision rule.

The model, for one dataset of points (a_i, b_i), read as "a causes b":
- encoder (DeepSets, Zaheer et al. 2017): t = ρ(mean_i φ(a_i, b_i)), a task vector of ``task_dim`` numbers;
- generator: b̂_i = g(a_i, ε_i; t), an MLP on (cause, noise) whose hidden layers are modulated by FiLM
  (Perez et al. 2018): h ← relu((1 + γ_l(t)) ⊙ W_l h + β_l(t));
- loss: MMD² between the generated points (a_i, b̂_i) and the observed (a_i, b_i), with CGNN's sum of Gaussian
  kernels (Goudet et al.), estimated with random Fourier features so that it costs O(n), not O(n²): CGNN's own
  code offers the same linear-time criterion.

Meta-training sees cause-first datasets only. At test time both readings of a pair are scored,
MMD_xy (x causes y) and MMD_yx, and the score is CGNN's (MMD_yx − MMD_xy) / (MMD_yx + MMD_xy) > 0 ⇒ x → y:
the reading that looks like the mechanisms seen in training is fitted better.
"""

import contextlib
import dataclasses
import math
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn

from dltheory.causal.pairs import cause_first_pairs
from dltheory.causal.settings import MetaCgnnSettings
from dltheory.io import CorruptInputError, load_torch, save_torch
from dltheory.nn.optim import Adam
from dltheory.settings import from_config


def random_feature_map(gammas, dim: int, features: int, generator: torch.Generator) -> tuple[torch.Tensor, ...]:
    """Frequencies and phases of random Fourier features (Rahimi & Recht 2007) for k = Σ_γ exp(−γ‖u − v‖²).

    exp(−γ‖d‖²) is the Gaussian kernel of variance 1/(2γ), whose spectral density is N(0, 2γ I): so each γ gets
    ``features`` frequencies ω ~ N(0, 2γ I) and phases b ~ U[0, 2π). Returns (ω (G·features, dim), b (G·features,)).
    """
    omegas = [math.sqrt(2.0 * g) * torch.randn(features, dim, generator=generator) for g in gammas]
    phases = 2.0 * math.pi * torch.rand(len(gammas) * features, generator=generator)
    return torch.cat(omegas), phases


def random_feature_mmd_squared(
    a: torch.Tensor, b: torch.Tensor, omegas: torch.Tensor, phases: torch.Tensor, features: int
) -> torch.Tensor:
    """MMD² of the samples a (..., n, d) and b (..., m, d) under Σ_γ exp(−γ‖u − v‖²), by random features.

    ψ(u) = √(2/D) cos(ωu + b) per bandwidth gives ψ(u)ᵀψ(v) ≈ exp(−γ‖u − v‖²); summing the bandwidths' feature
    maps gives the kernel sum, so MMD² ≈ ‖mean ψ(a) − mean ψ(b)‖² (the biased estimator's approximation), at
    O((n + m)·D) instead of O((n + m)²). Leading axes are independent tasks.
    """
    scale = math.sqrt(2.0 / features)

    def mean_embedding(x):
        return (scale * torch.cos(x @ omegas.T + phases)).mean(-2)

    return (mean_embedding(a) - mean_embedding(b)).pow(2).sum(-1)


class MetaCgnn(nn.Module):
    """DeepSets encoder + FiLM-conditioned CGNN generator (see the module docstring)."""

    def __init__(self, settings: MetaCgnnSettings):
        super().__init__()
        s = settings
        self.settings = s
        self.point_encoder = nn.Sequential(
            nn.Linear(2, s.encoder_width), nn.ReLU(), nn.Linear(s.encoder_width, s.encoder_width), nn.ReLU()
        )
        self.task_head = nn.Sequential(
            nn.Linear(s.encoder_width, s.encoder_width), nn.ReLU(), nn.Linear(s.encoder_width, s.task_dim)
        )
        widths = [1 + s.noise_dim] + [s.generator_width] * s.generator_depth
        self.hidden = nn.ModuleList(nn.Linear(i, o) for i, o in zip(widths[:-1], widths[1:], strict=True))
        self.film = nn.Linear(s.task_dim, 2 * s.generator_depth * s.generator_width)
        self.output = nn.Linear(s.generator_width, 1)

    def encode(self, points: torch.Tensor) -> torch.Tensor:
        """Task vectors (tasks, task_dim) of datasets (tasks, n, 2); invariant to the order of the points."""
        return self.task_head(self.point_encoder(points).mean(-2))

    def generate(self, cause: torch.Tensor, task: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        """Generated effects (tasks, n, 1) from causes (tasks, n, 1), task vectors and noise (tasks, n, noise_dim)."""
        s = self.settings
        film = self.film(task).view(len(task), s.generator_depth, 2, s.generator_width)
        h = torch.cat([cause, noise], dim=-1)
        for layer, linear in enumerate(self.hidden):
            scale, shift = film[:, layer, 0, None, :], film[:, layer, 1, None, :]
            h = torch.relu((1.0 + scale) * linear(h) + shift)
        return self.output(h)

    def fit_error(self, points: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """MMD² per task between the generated and the observed points of datasets (tasks, n, 2), read as
        "column 0 causes column 1"; fresh noise and random features from ``generator``."""
        s = self.settings
        cause = points[..., :1]
        noise = torch.randn(*cause.shape[:-1], s.noise_dim, generator=generator).to(points)
        generated = torch.cat([cause, self.generate(cause, self.encode(points), noise)], dim=-1)
        omegas, phases = random_feature_map(s.gammas, 2, s.random_features, generator)
        return random_feature_mmd_squared(generated, points, omegas.to(points), phases.to(points), s.random_features)


def _standardize_tasks(points: torch.Tensor) -> torch.Tensor:
    """Each task's columns to zero mean and unit (population) standard deviation, as CGNN scales its data."""
    centred = points - points.mean(-2, keepdim=True)
    return centred / centred.pow(2).mean(-2, keepdim=True).sqrt().clamp_min(1e-12)


def meta_loss(model: MetaCgnn, points: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """The meta-training loss of cause-first datasets (tasks, n, 2): the mean MMD² of the cause-first reading,
    plus, when ``contrast_weight`` > 0, ``contrast_weight`` · mean softplus(−k · score), where score is CGNN's
    (MMD_yx − MMD_xy) / (MMD_yx + MMD_xy) of each task. The second term (ours) uses the direction labels of the
    training pairs: it asks the reversed reading to fit worse than the causal one, not only the causal one to fit.
    """
    s = model.settings
    if s.contrast_weight == 0.0:
        return model.fit_error(points, generator).mean()
    errors = model.fit_error(torch.cat([points, points.flip(-1)]), generator)
    forward, backward = errors[: len(points)], errors[len(points) :]
    score = (backward - forward) / (backward + forward).clamp_min(1e-12)
    return forward.mean() + s.contrast_weight * nn.functional.softplus(-s.contrast_sharpness * score).mean()


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    """Torch on one intra-op thread inside the block (the caller's count restored after): a matrix product's sums
    run in one fixed order, so training and scoring give the same numbers whatever the job's thread count (issue
    21: at 2 threads the summation order changed and Tübingen's accuracy moved by ~0.1 after training). The
    networks are small; one thread costs little."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def validation_accuracy(model: "MetaCgnn", validation: Sequence[tuple[np.ndarray, np.ndarray, int]], seed: int,
                        device: str = "cpu") -> float:
    """The fraction of (x, y, label) validation pairs (one size) whose score has the label's sign."""
    model.eval()
    scores = meta_scores(model, [(x, y) for x, y, _ in validation], seed, device)
    model.train()
    labels = np.array([label for _, _, label in validation])
    return float(np.mean(np.sign(scores) == labels))


def meta_train(
    pool: np.ndarray,
    settings: MetaCgnnSettings,
    seed: int,
    device: str = "cpu",
    log_every: int = 100,
    validation: Sequence[tuple[np.ndarray, np.ndarray, int]] = (),
    validate_every: int = 0,
) -> tuple[MetaCgnn, pd.DataFrame]:
    """Meta-train on ``pool``, an array (datasets, points, 2) of cause-first datasets; returns the model and its
    training curve (step, loss: the mean MMD² of the step's tasks, logged every ``log_every`` steps; with
    ``validation`` pairs, their accuracy every ``validate_every`` steps, column validation_accuracy).

    With validation pairs, the model returned is the checkpoint of highest validation accuracy (ties: the later
    step), column ``chosen`` marking it: the only setting chosen from data, and from validation pairs only.
    Each step draws one size n (log-uniform over ``settings.train_sizes``, capped by the pool's points), then
    ``tasks_per_step`` datasets and n of each one's points, all from generators seeded by ``seed``. Runs on one
    torch thread (``one_thread``).
    """
    s = settings
    if s.tasks_per_step > len(pool):
        raise ValueError(f"tasks_per_step ({s.tasks_per_step}) exceeds the pool's {len(pool)} datasets")
    torch_generator = torch.Generator().manual_seed(seed)
    rng = np.random.default_rng(seed)
    with torch.random.fork_rng(devices=[]):  # initial weights from ``seed``, the caller's global RNG left alone
        torch.manual_seed(seed)
        model = MetaCgnn(s).to(device)
    optimizer = Adam(model.parameters(), lr=s.learning_rate)
    pool_tensor = torch.as_tensor(pool, dtype=torch.float32)
    low, high = s.train_sizes
    high = min(high, pool.shape[1])
    history = []
    best = (-1.0, 0, None)  # (validation accuracy, step, weights)
    validation_seed = derive_validation_seed(seed)
    with one_thread():
        for step in range(1, s.meta_steps + 1):
            n = int(round(math.exp(rng.uniform(math.log(low), math.log(high)))))
            tasks = rng.choice(len(pool), size=s.tasks_per_step, replace=False)
            rows = np.stack([rng.choice(pool.shape[1], size=n, replace=False) for _ in tasks])
            points = _standardize_tasks(pool_tensor[torch.as_tensor(tasks)[:, None], torch.as_tensor(rows)])
            loss = meta_loss(model, points.to(device), torch_generator)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            record = {}
            if step % log_every == 0 or step == s.meta_steps:
                record = {"step": step, "n": n, "loss": float(loss.detach())}
            if validation and validate_every and (step % validate_every == 0 or step == s.meta_steps):
                accuracy = validation_accuracy(model, validation, validation_seed, device)
                record = {"step": step, "n": n, "loss": float(loss.detach()), "validation_accuracy": accuracy}
                if accuracy >= best[0]:
                    best = (accuracy, step, {k: v.detach().clone() for k, v in model.state_dict().items()})
            if record:
                history.append(record)
    history = pd.DataFrame(history)
    history["chosen"] = False
    if best[2] is not None:
        model.load_state_dict(best[2])
        history.loc[history["step"] == best[1], "chosen"] = True
    return model.eval(), history


def derive_validation_seed(seed: int) -> int:
    """The noise seed of validation scoring (the same draws at every checkpoint)."""
    return int(np.random.default_rng([seed, 21]).integers(2**31 - 1))


@torch.no_grad()
def meta_scores(
    model: MetaCgnn, pairs: list[tuple[np.ndarray, np.ndarray]], seed: int, device: str = "cpu"
) -> np.ndarray:
    """CGNN's score (MMD_yx − MMD_xy) / (MMD_yx + MMD_xy) for each (x, y) pair, > 0 meaning x causes y.

    All pairs must have the same number of points; they are scored as one batch of 2·len(pairs) tasks (both
    readings of each pair), each MMD² averaged over ``score_draws`` draws of noise and random features, the same
    draws for both readings. No parameter is updated; one torch thread (``one_thread``).
    """
    sizes = {len(x) for x, _ in pairs} | {len(y) for _, y in pairs}
    if len(sizes) != 1:
        raise ValueError(f"meta_scores needs pairs of one size, got sizes {sorted(sizes)}")
    xy = torch.as_tensor(np.stack([np.stack([x, y], axis=-1) for x, y in pairs]), dtype=torch.float32)
    points = _standardize_tasks(torch.cat([xy, xy.flip(-1)])).to(device)  # x→y readings, then y→x
    generator = torch.Generator().manual_seed(seed)
    with one_thread():
        errors = torch.stack([model.fit_error(points, generator) for _ in range(model.settings.score_draws)]).mean(0)
    forward, backward = errors[: len(pairs)], errors[len(pairs) :]
    return ((backward - forward) / (backward + forward).clamp_min(1e-12)).cpu().numpy().astype(np.float64)


def settings_from_mapping(values: Mapping) -> MetaCgnnSettings:
    """``MetaCgnnSettings`` from a config mapping (lists become tuples); an unknown key is an error naming it."""
    return from_config(MetaCgnnSettings, values, "Meta-CGNN")


def meta_training_pool(benchmarks: Sequence[str], pairs_per_benchmark: int, points: int, seed: int) -> np.ndarray:
    """The meta-training datasets, an array (datasets, points, 2) of cause-first pairs: ``pairs_per_benchmark``
    fresh draws of each synthetic benchmark, seeded by ``seed`` (the test pairs use other seeds)."""
    pairs = [pair for name in benchmarks for pair in cause_first_pairs(name, pairs_per_benchmark, points, seed)]
    return np.stack([np.stack([pair.x, pair.y], axis=-1) for pair in pairs])


def save_meta_model(model: MetaCgnn, path: str | Path) -> None:
    """The model's weights with the settings that shape it, in one torch file, written atomically."""
    save_torch({"settings": dataclasses.asdict(model.settings), "state": model.state_dict()}, path)


def load_meta_model(path: str | Path, device: str = "cpu") -> MetaCgnn:
    """A model written by ``save_meta_model``; a missing or unreadable file is an error naming it."""
    try:
        saved = load_torch(path, map_location=device)
        model = MetaCgnn(settings_from_mapping(saved["settings"]))
        model.load_state_dict(saved["state"])
    except (CorruptInputError, RuntimeError, KeyError, ValueError) as error:
        raise ValueError(f"cannot load a Meta-CGNN model from {path}: {error}") from error
    return model.to(device).eval()
