"""Train many small GANs of one variant together as one batched model (issue 4).

Model b = (dataset, activation, learning rate, seed). All datasets of one batch share the data dimension (the
ring and the grid train together; digits alone). Everything random about model b (initial weights of both
networks, latent draws, real mini-batches, gradient-penalty interpolation, evaluation samples) comes from
generators seeded by (``seed``, the model's seed) alone, drawn ``CHUNK_STEPS`` steps at a time, and the batch loss
is the sum of per-model losses, so a model's trajectory does not depend on which other models share the batch;
only float rounding in the batched kernels may differ. Models with the same seed start from the same weights.

Optimisers: each model names its generator's, plain gradient descent (what the paper analyses) or Adam (what
practice uses), so both share one batch (``batched_optimizer``); the discriminator's is Adam at one fixed rate, or
each model's own. A linear learning-rate decay to 0 is available (the sanity baseline's).

A model whose losses or parameters become non-finite, or whose |loss| exceeds the threshold, is recorded as
diverged at that step and frozen; its later metrics are NaN, and the other models go on.

Metrics (a tidy table, one row per model, evaluation step and metric): generator step size and gradient norm
(stationarity, Chu, Minami & Fukumizu, ICLR 2020, abstract), discriminator and generator losses at every
evaluation; exact W1 on ``n_eval`` points and the target's quality metrics at step 0 (the scale later W1s are
judged against), at the last step, and at every second evaluation of the trajectory models (``trajectory``); MMD²
on the first ``MMD_POINTS`` of them at the last step; and on 2-D data, at the last step, the conditions measured on
the trained networks (``dltheory.gan.smoothness``). Exact W1 costs 0.1-0.3 s per model at n = 1,000, more than ten
training steps of a 40-model batch (measured in issue 18: it took a third of such a job when it was also computed
inside the convergence window), hence this schedule; an evaluation's W1s are solved on the job's threads at once.
"""

import dataclasses
import functools
import hashlib
import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from dltheory.gan import objectives
from dltheory.gan.batched import OPTIMIZERS, BatchedGanMLP, BatchedRandomFeatureCritic, batched_optimizer
from dltheory.gan.metrics import mmd_squared, wasserstein1_exact_many
from dltheory.gan.settings import GanRunSettings, run_settings  # noqa: F401  (the run settings live torch-free)
from dltheory.gan.smoothness import CONDITION_METRICS, measure_conditions
from dltheory.gan.targets import make_target

log = logging.getLogger(__name__)

# MMD² (reported, read by no rule) on the first 500 evaluation points: at 1,000 it cost a quarter of W1's time.
MMD_POINTS = 500
CHUNK_STEPS = 50  # random draws are made this many steps at a time (per model, so batch-independent)
TRAINING_METRICS = ("generator_step_size", "generator_grad_norm", "discriminator_loss", "generator_loss")
DISTANCE_METRICS = ("wasserstein1", "mmd_squared")


@dataclass(frozen=True)
class _Model:
    dataset: str
    activation: str
    optimizer: str  # the generator's
    learning_rate: float
    seed: int


def _model_grid(settings: GanRunSettings) -> list[_Model]:
    return [
        _Model(dataset, activation, optimizer, lr, s)
        for dataset in settings.datasets
        for activation in settings.activations
        for optimizer, lr in settings.schedules
        for s in settings.seeds
    ]


def _model_streams(seed: int, model_seed: int) -> tuple[list[torch.Generator], np.random.Generator, int]:
    """Per-model randomness from (seed, model_seed) only: torch generators for G init, D init, training draws;
    a numpy generator for real batches; a seed for the evaluation samples."""
    sequence = np.random.SeedSequence([seed, model_seed])
    g_init, d_init, train, evaluation, real = sequence.spawn(5)

    def torch_generator(child):
        return torch.Generator().manual_seed(int(child.generate_state(1, np.uint64)[0] >> np.uint64(1)))

    generators = [torch_generator(child) for child in (g_init, d_init, train)]
    return generators, np.random.default_rng(real), int(evaluation.generate_state(1)[0])


def _batched_gradient_penalty(discriminator, real, fake, epsilon, weight) -> torch.Tensor:
    """WGAN-GP's λ·E(‖∇ₓD(x̂)‖ − 1)² per model, shape (models,), as ``objectives.gradient_penalty`` per model.

    ``epsilon`` ~ U[0, 1], shape (models, batch, 1), from each model's own stream. The gradient of the summed
    outputs splits per model, because model b's output depends only on its own inputs.
    """
    interpolates = (epsilon * real.detach() + (1.0 - epsilon) * fake.detach()).requires_grad_(True)
    outputs = discriminator(interpolates)
    (gradients,) = torch.autograd.grad(outputs.sum(), interpolates, create_graph=True)
    return weight * (gradients.norm(dim=-1) - 1.0).pow(2).mean(dim=1)


def _batched_r1_penalty(discriminator, real, weight) -> torch.Tensor:
    """R1's (γ/2)·E_data ‖∇ₓD(x)‖² per model, shape (models,), as ``objectives.r1_penalty`` per model."""
    inputs = real.detach().requires_grad_(True)
    (gradients,) = torch.autograd.grad(discriminator(inputs).sum(), inputs, create_graph=True)
    return 0.5 * weight * gradients.pow(2).sum(dim=-1).mean(dim=1)


@functools.cache  # looked up twice per training step: build the table and the partial once per variant
def _loss_function(variant):
    """``objectives``' (discriminator loss, generator loss) function of ``variant``; per model on batched outputs."""
    loss = variant.loss
    if loss == "smoothed":
        return objectives.smoothed_losses  # with the critic's per-model ‖f‖²_H as third argument
    if loss == "mmd":
        return functools.partial(objectives.mmd_losses, bandwidths=variant.bandwidths)
    functions = {"non_saturating": objectives.non_saturating_losses, "wasserstein": objectives.wasserstein_losses,
                 "hinge": objectives.hinge_losses}
    if loss not in functions:
        raise NotImplementedError(f"loss {loss!r} of variant {variant.name!r} has no batched version")
    return functions[loss]


def _losses(variant, discriminator, d_real, d_fake) -> tuple[torch.Tensor, torch.Tensor]:
    function = _loss_function(variant)
    if variant.loss == "smoothed":
        return function(d_real, d_fake, discriminator.rkhs_norm_squared(), smoothing=variant.smoothing)
    return function(d_real, d_fake)


def _discriminator_losses(variant, discriminator, real, fake, epsilon) -> torch.Tensor:
    """The discriminator's loss per model, shape (models,), with the gradient penalty when the variant has one
    (interpolation weights ``epsilon``, each model's own draws)."""
    # One forward for real and fake together: one power iteration per step under spectral norm.
    d_real, d_fake = discriminator(torch.cat([real, fake], dim=1)).split(real.shape[1], dim=1)
    d_loss, _ = _losses(variant, discriminator, d_real, d_fake)
    if variant.gradient_penalty:
        d_loss = d_loss + _batched_gradient_penalty(
            discriminator, real, fake, epsilon, variant.gradient_penalty_weight
        )
    if variant.r1_penalty:
        d_loss = d_loss + _batched_r1_penalty(discriminator, real, variant.r1_weight)
    return d_loss


def _generator_losses(variant, discriminator, real, fake) -> torch.Tensor:
    """The generator's loss per model, shape (models,)."""
    if variant.loss == "mmd":  # MMD² compares the fake features with the real ones
        d_real, d_fake = discriminator(torch.cat([real, fake], dim=1)).split(real.shape[1], dim=1)
        return _losses(variant, discriminator, d_real, d_fake)[1]
    # Every other generator loss reads D(fake) alone, so D(real) is not computed: D(fake) stands in for it, and
    # only the discriminator's half of the pair, which is discarded, reads it.
    d_fake = discriminator(fake)
    return _losses(variant, discriminator, d_fake.detach(), d_fake)[1]


def _build_discriminator(variant, settings, activations, dim, generators) -> torch.nn.Module:
    n = settings.n_models
    if variant.loss in ("mmd", "smoothed"):
        features = BatchedGanMLP(n, dim, settings.critic_features, settings.width, settings.depth, activations,
                                 generators, spectral_norm=variant.spectral_norm)
        if variant.loss == "mmd":
            return features
        return BatchedRandomFeatureCritic(features, generators, num_features=settings.random_features,
                                          bandwidth=variant.bandwidths[0])
    return BatchedGanMLP(n, dim, 1, settings.width, settings.depth, activations, generators,
                         spectral_norm=variant.spectral_norm)


def _per_model_norm(tensors: list[torch.Tensor]) -> torch.Tensor:
    return torch.sqrt(sum(t.pow(2).flatten(1).sum(1) for t in tensors))


def _parameters_finite(module: torch.nn.Module) -> torch.Tensor:
    return functools.reduce(torch.logical_and, [p.isfinite().flatten(1).all(1) for p in module.parameters()])


def _check_settings(settings: GanRunSettings, targets: dict) -> None:
    if settings.discriminator_steps < 1:
        raise ValueError("discriminator_steps must be at least 1")
    # An unknown optimizer name is refused by batched_optimizer, before any step.
    if settings.lr_decay not in ("none", "linear"):
        raise ValueError(f"lr_decay must be 'none' or 'linear', got {settings.lr_decay!r}")
    if settings.eval_every < 1 or settings.steps < 0:
        raise ValueError("eval_every must be at least 1 and steps at least 0")
    dims = {name: target.dim for name, target in targets.items()}
    if len(set(dims.values())) > 1 or len({t.bounded for t in targets.values()}) > 1:
        raise ValueError(f"datasets of one batch must share their dimension and output range, got {dims}")
    missing = [name for name, target in targets.items() if getattr(target, "classifier", True) is None]
    if missing:
        raise ValueError(f"dataset {missing[0]!r} needs a classifier to score samples (dltheory.gan.classifier)")
    if settings.trajectory is not None and settings.trajectory[0] not in targets:
        raise ValueError(f"trajectory dataset {settings.trajectory[0]!r} is not among {list(targets)}")


class _Draws:
    """Each model's random draws for ``CHUNK_STEPS`` steps at a time, from its own streams only.

    Per step and draw (``discriminator_steps`` draws; the generator's step reuses the last): a real batch, a
    latent batch and, for the gradient penalty, an interpolation ε per sample.
    """

    def __init__(self, models, targets, real_rngs, train_generators, settings, device):
        self.models, self.targets, self.real_rngs, self.device = models, targets, real_rngs, device
        self.train_generators, self.settings = train_generators, settings
        self.draws = settings.discriminator_steps
        self.offset = None

    def _refill(self, step: int) -> None:
        s, k = self.settings, self.draws
        chunk = min(CHUNK_STEPS, s.steps - step + 1)
        shape = (chunk, k, s.batch_size)
        self.real = torch.from_numpy(np.stack([
            self.targets[m.dataset].sample(int(np.prod(shape)), rng).reshape(*shape, -1)
            for m, rng in zip(self.models, self.real_rngs, strict=True)
        ])).float().to(self.device)
        # Drawn on the CPU from each model's CPU generator (the same numbers on any device), then moved.
        self.latent = torch.stack([torch.randn(*shape, s.latent_dim, generator=g) for g in self.train_generators])
        self.epsilon = torch.stack([torch.rand(*shape, 1, generator=g) for g in self.train_generators])
        self.latent, self.epsilon = self.latent.to(self.device), self.epsilon.to(self.device)
        self.offset, self.size = step, chunk

    def at(self, step: int, draw: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(real, latent, ε) for ``step`` (1-based) and ``draw``, each with a leading model axis."""
        if self.offset is None or step >= self.offset + self.size:
            self._refill(step)
        i = step - self.offset
        return self.real[:, i, draw], self.latent[:, i, draw], self.epsilon[:, i, draw]


def train_gan_batch(
    settings: GanRunSettings, seed: int, classifier: torch.nn.Module | None = None, threads: int = 1
) -> "GanRunResult":
    """Train ``settings.n_models`` GANs of one variant at once: the tidy table of their metrics over training, and
    their final samples.

    ``classifier`` scores digits (``dltheory.gan.classifier``); the 2-D datasets need none. ``threads``: the exact
    W1s of one evaluation are solved on this many threads (``wasserstein1_exact_many``; the job's threads, idle in
    torch meanwhile), with the same numbers as one at a time. Columns: dataset,
    variant, activation, learning_rate, seed, step, metric, value, diverged, diverged_step (−1 when the model
    never diverged). One row per model, evaluation step (0, every ``eval_every``, and the last) and metric; values
    not computed at that step (see the module docstring), and all values at and after a model's divergence, are NaN.
    """
    targets = {name: make_target(name, classifier, settings.mixtures) for name in settings.datasets}
    _check_settings(settings, targets)
    variant = objectives.get_variant(settings.variant)
    if settings.gradient_penalty_weight is not None:
        variant = dataclasses.replace(variant, gradient_penalty_weight=float(settings.gradient_penalty_weight))
    dim = next(iter(targets.values())).dim
    bounded = next(iter(targets.values())).bounded
    models = _model_grid(settings)
    n_models = len(models)
    streams = [_model_streams(seed, m.seed) for m in models]
    activations = [m.activation for m in models]

    generator = BatchedGanMLP(n_models, settings.latent_dim, dim, settings.width, settings.depth, activations,
                              [s[0][0] for s in streams], output="tanh" if bounded else "linear")
    discriminator = _build_discriminator(variant, settings, activations, dim, [s[0][1] for s in streams])
    device = torch.device(settings.device)
    generator, discriminator = generator.to(device), discriminator.to(device)
    learning_rates = torch.tensor([m.learning_rate for m in models], device=device)
    names = [m.optimizer for m in models]
    g_opt = batched_optimizer(generator.parameters(), names, learning_rates, settings.betas)
    if settings.discriminator_optimizer is None:  # each model's generator optimizer and rate
        d_opt = batched_optimizer(discriminator.parameters(), names, learning_rates, settings.betas)
    else:
        d_rates = torch.full_like(learning_rates, settings.discriminator_learning_rate)
        d_opt = OPTIMIZERS[settings.discriminator_optimizer](discriminator.parameters(), d_rates, settings.betas)
    draws = _Draws(models, targets, [s[1] for s in streams], [s[0][2] for s in streams], settings, device)

    # Fixed evaluation samples per model: the same latents and reference points at every evaluation.
    eval_latents, eval_real = [], []
    for m, (_, _, eval_seed) in zip(models, streams, strict=True):
        rng = np.random.default_rng(eval_seed)
        eval_real.append(targets[m.dataset].reference(settings.n_eval, rng))
        eval_latents.append(torch.from_numpy(rng.standard_normal((settings.n_eval, settings.latent_dim))).float())
    eval_latents = torch.stack(eval_latents).to(device)
    on_trajectory = np.array([
        settings.trajectory is not None
        and (m.dataset, m.optimizer, m.learning_rate) == tuple(settings.trajectory)
        for m in models
    ])

    active = torch.ones(n_models, dtype=torch.bool, device=device)
    diverged_step = np.full(n_models, -1, dtype=np.int64)
    records: list[tuple[int, int, str, float]] = []

    def mark(bad: torch.Tensor, step: int) -> None:
        newly = bad & active
        if newly.any():
            indices = np.flatnonzero(newly.cpu().numpy())
            diverged_step[indices] = step
            active.logical_and_(~newly)
            g_opt.frozen = ~active
            d_opt.frozen = ~active
            log.info("%s: models %s diverged at step %d", variant.name, indices.tolist(), step)

    def bad_loss(loss: torch.Tensor) -> torch.Tensor:
        loss = loss.detach()
        return ~torch.isfinite(loss) | (loss.abs() > settings.divergence_threshold)

    distances: dict = {}

    def distance_key(b: int, samples: np.ndarray, step: int):
        """The key of model b's W1 and quality at this evaluation, or None when they are not computed.

        W1 at step 0 (the scale every later W1 is judged against) and at the last step, and for the trajectory
        runs at every second evaluation (W1 costs more than a hundred batched steps). Models that share a seed and
        an activation start alike whatever their optimizer and rate: the same samples against the same reference
        give the same numbers, so the key is the samples' and the reference's bytes, and each is computed once.
        """
        wanted = step in (0, settings.steps) or (on_trajectory[b] and step % (2 * settings.eval_every) == 0)
        if diverged_step[b] >= 0 or not wanted or not np.all(np.isfinite(samples[b])):
            return None
        return models[b].dataset, hashlib.sha1(samples[b].tobytes() + eval_real[b].tobytes()).digest()

    def evaluate(step: int, step_size, grad_norm, d_loss, g_loss, measured=None) -> None:
        with torch.no_grad():
            samples = generator(eval_latents).cpu().numpy().astype(np.float64)
        keys = [distance_key(b, samples, step) for b in range(n_models)]
        new = {key: b for b, key in enumerate(keys) if key is not None and key not in distances}
        w1 = wasserstein1_exact_many([(samples[b], eval_real[b]) for b in new.values()], threads)
        for (key, b), value in zip(new.items(), w1, strict=True):
            distances[key] = {"wasserstein1": value, **targets[models[b].dataset].quality(samples[b])}
        for b, m in enumerate(models):
            target = targets[m.dataset]
            values = dict.fromkeys((*TRAINING_METRICS, *DISTANCE_METRICS, *target.quality_metrics), float("nan"))
            if measured is not None:
                values.update(dict.fromkeys(CONDITION_METRICS, float("nan")))
            if diverged_step[b] < 0:
                if measured is not None:
                    values.update({name: float(measured[name][b]) for name in CONDITION_METRICS})
                if step > 0:
                    values.update(generator_step_size=float(step_size[b]), generator_grad_norm=float(grad_norm[b]),
                                  discriminator_loss=float(d_loss[b]), generator_loss=float(g_loss[b]))
                if keys[b] is not None:
                    values.update(distances[keys[b]])
                    if step == settings.steps:
                        values["mmd_squared"] = mmd_squared(samples[b][:MMD_POINTS], eval_real[b][:MMD_POINTS],
                                                            target.mmd_bandwidths)
            records.extend((b, step, name, value) for name, value in values.items())

    evaluation_steps = set(settings.evaluation_steps())
    evaluate(0, None, None, None, None)
    for step in range(1, settings.steps + 1):
        if settings.lr_decay == "linear":  # the rate of step t is η·(1 − (t − 1)/T)
            g_opt.scale = d_opt.scale = 1.0 - (step - 1) / settings.steps
        for draw in range(settings.discriminator_steps):
            real, latent, epsilon = draws.at(step, draw)
            # The generator's step reuses the last discriminator batch (the DCGAN recipe), so that batch's
            # generator forward keeps its graph and is not recomputed.
            with torch.set_grad_enabled(draw == settings.discriminator_steps - 1):
                fake = generator(latent)
            d_loss = _discriminator_losses(variant, discriminator, real, fake.detach(), epsilon)
            mark(bad_loss(d_loss), step)
            d_opt.zero_grad()
            torch.where(active, d_loss, torch.zeros_like(d_loss)).sum().backward()
            d_opt.step()
            if variant.weight_clipping:
                discriminator.clip_(variant.clip)
        g_loss = _generator_losses(variant, discriminator, real, fake)
        mark(bad_loss(g_loss), step)
        g_opt.zero_grad()
        # Gradients for the generator only: the discriminator's weight gradients would be discarded anyway.
        torch.where(active, g_loss, torch.zeros_like(g_loss)).sum().backward(inputs=list(generator.parameters()))
        is_eval = step in evaluation_steps
        if is_eval:
            before = [p.detach().clone() for p in generator.parameters()]
            grad_norm = _per_model_norm([p.grad for p in generator.parameters()]).cpu().numpy()
        g_opt.step()
        if is_eval:
            # Non-finite parameters make the next step's losses non-finite, which ``bad_loss`` catches; checking
            # them here as well, only at evaluations, keeps NaN out of the logged metrics at no per-step cost.
            mark(~(_parameters_finite(generator) & _parameters_finite(discriminator)), step)
            step_size = _per_model_norm(
                [p.detach() - old for p, old in zip(generator.parameters(), before, strict=True)]
            ).cpu().numpy()
            measured = None
            if step == settings.steps and dim == 2:  # the conditions, measured on the trained networks (2-D)
                measured = measure_conditions(
                    functools.partial(_generator_losses, variant), generator, discriminator, real, eval_latents)
            evaluate(step, step_size, grad_norm, d_loss.detach().cpu().numpy(), g_loss.detach().cpu().numpy(),
                     measured)

    index, steps, names, values = zip(*records, strict=True)
    index = np.asarray(index)
    metrics_table = pd.DataFrame(
        {
            **_model_columns(models, variant.name, index),
            "step": np.asarray(steps, dtype=np.int64),
            "metric": names,
            "value": np.asarray(values, dtype=np.float64),
            "diverged": diverged_step[index] >= 0,
            "diverged_step": diverged_step[index],
        }
    )
    return GanRunResult(metrics_table, _final_samples(generator, eval_latents, models, variant.name, settings))


@dataclass(frozen=True)
class GanRunResult:
    """A batched run's outputs: the tidy metrics table and each model's final samples (wide: x0, x1, ...)."""

    metrics: pd.DataFrame
    samples: pd.DataFrame


def _model_columns(models: list[_Model], variant: str, index: np.ndarray) -> dict:
    return {
        "dataset": np.array([m.dataset for m in models])[index],
        "variant": variant,
        "activation": np.array([m.activation for m in models])[index],
        "optimizer": np.array([m.optimizer for m in models])[index],
        "learning_rate": np.array([m.learning_rate for m in models])[index],
        "seed": np.array([m.seed for m in models])[index],
    }


def _final_samples(generator, eval_latents, models, variant: str, settings: GanRunSettings) -> pd.DataFrame:
    """The first ``samples_saved`` evaluation samples of each model after the last step (NaN where diverged)."""
    keep = min(settings.samples_saved, settings.n_eval)
    with torch.no_grad():
        samples = generator(eval_latents[:, :keep]).cpu().numpy().astype(np.float64)
    index = np.repeat(np.arange(len(models)), keep)
    table = pd.DataFrame(_model_columns(models, variant, index))
    table["sample"] = np.tile(np.arange(keep), len(models))
    coordinates = samples.reshape(len(models) * keep, samples.shape[-1])
    return pd.concat([table, pd.DataFrame(coordinates, columns=[f"x{i}" for i in range(coordinates.shape[1])])],
                     axis=1)
