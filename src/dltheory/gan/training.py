"""Train small 2-D GANs of one variant together as one batched model over (learning rate × seed) (issue 4).

Model b = (learning rate, seed). Everything random about model b (initial weights of both networks, latent
draws, real mini-batches, gradient-penalty interpolation, evaluation samples) comes from generators seeded by
(``seed``, the model's seed) alone, and the batch loss is the sum of per-model losses, so a model's trajectory
does not depend on which other models share the batch; only float rounding in the batched kernels may differ.
Models with the same seed and different learning rates start from the same weights and see the same data.

A model whose losses or parameters become non-finite, or whose |loss| exceeds the threshold, is recorded as
diverged at that step and frozen; its later metrics are NaN, and the other models go on.

Metrics (a tidy table, one row per model, step and metric): generator step size ‖θ_{t+1} − θ_t‖ and gradient
norm (stationarity, Chu, Minami & Fukumizu, ICLR 2020, abstract), exact W1 and MMD² to the data, the fraction
of high-quality samples and mode coverage. Step 0 records the initial distances (step size and gradient NaN).
"""

import functools
import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from dltheory.gan import data, metrics, objectives
from dltheory.gan.batched import BatchedAdam, BatchedGanMLP, BatchedRandomFeatureCritic

log = logging.getLogger(__name__)

DATASETS = {
    "ring": (data.ring_of_gaussians, data.ring_modes, data.RING_STD),
    "grid": (data.grid_of_gaussians, data.grid_modes, data.GRID_STD),
}
CRITIC_FEATURES = 16  # ours: output size of the MMD-GAN feature network and the smoothed critic's h
METRICS = (
    "generator_step_size",
    "generator_grad_norm",
    "wasserstein1",
    "mmd_squared",
    "high_quality_fraction",
    "mode_coverage",
    "discriminator_loss",
    "generator_loss",
)
MODEL_KEYS = ["dataset", "variant", "activation", "learning_rate", "seed"]


@dataclass(frozen=True)
class GanRunSettings:
    """One batched 2-D run: a variant and activation over the grid ``learning_rates`` × ``seeds``."""

    variant: str = "wgan_gp"
    activation: str = "relu"
    learning_rates: tuple[float, ...] = (1e-4, 1e-3)
    seeds: tuple[int, ...] = (0, 1)
    steps: int = 4000
    batch_size: int = 256
    eval_every: int = 200
    n_eval: int = 1000  # issue 4: W1 on at least 1,000 samples
    width: int = 64
    depth: int = 3
    latent_dim: int = 2
    discriminator_steps: int = 1
    divergence_threshold: float = 1e6
    betas: tuple[float, float] = (0.5, 0.999)
    mmd_bandwidths: tuple[float, ...] = (0.1, 0.5, 2.0)  # ours: from the ring's mode width to its radius
    w1_every: int = 1  # W1 (O(n³)) at every w1_every-th evaluation, and always at the last one

    @property
    def n_models(self) -> int:
        return len(self.learning_rates) * len(self.seeds)


def _model_grid(settings: GanRunSettings) -> list[tuple[float, int]]:
    return [(lr, s) for lr in settings.learning_rates for s in settings.seeds]


def _model_streams(seed: int, model_seed: int) -> tuple[list[torch.Generator], np.random.Generator, int]:
    """Per-model randomness from (seed, model_seed) only: torch generators for G init, D init, training, evaluation."""
    sequence = np.random.SeedSequence([seed, model_seed])
    g_init, d_init, train, evaluation, real = sequence.spawn(5)

    def torch_generator(child):
        return torch.Generator().manual_seed(int(child.generate_state(1, np.uint64)[0] >> np.uint64(1)))

    generators = [torch_generator(child) for child in (g_init, d_init, train)]
    return generators, np.random.default_rng(real), int(evaluation.generate_state(1)[0])


def _batched_gradient_penalty(discriminator, real, fake, generators, weight) -> torch.Tensor:
    """WGAN-GP's λ·E(‖∇ₓD(x̂)‖ − 1)² per model, shape (models,), as ``objectives.gradient_penalty`` per model.

    ε ~ U[0, 1] per sample from each model's own generator. The gradient of the summed outputs splits per model,
    because model b's output depends only on its own inputs.
    """
    epsilon = torch.stack([torch.rand(real.shape[1], 1, generator=g, dtype=real.dtype) for g in generators])
    interpolates = (epsilon * real.detach() + (1.0 - epsilon) * fake.detach()).requires_grad_(True)
    outputs = discriminator(interpolates)
    (gradients,) = torch.autograd.grad(outputs.sum(), interpolates, create_graph=True)
    return weight * (gradients.norm(dim=-1) - 1.0).pow(2).mean(dim=1)


def _per_model_losses(variant, discriminator, real, fake, generators) -> tuple[torch.Tensor, torch.Tensor]:
    """(discriminator loss, generator loss), each (models,): ``objectives``' loss functions vmapped over models."""
    loss = variant.loss
    if loss == "smoothed":
        d_real, d_fake = discriminator(torch.cat([real, fake], dim=1)).split(real.shape[1], dim=1)
        smoothed = functools.partial(objectives.smoothed_losses, smoothing=variant.smoothing)
        losses = torch.func.vmap(smoothed)(d_real, d_fake, discriminator.rkhs_norm_squared())
    else:
        # One forward for real and fake together: one power iteration per step under spectral norm.
        d_real, d_fake = discriminator(torch.cat([real, fake], dim=1)).split(real.shape[1], dim=1)
        if loss == "non_saturating":
            function = objectives.non_saturating_losses
        elif loss == "wasserstein":
            function = objectives.wasserstein_losses
        elif loss == "hinge":
            function = objectives.hinge_losses
        elif loss == "mmd":
            function = functools.partial(objectives.mmd_losses, bandwidths=variant.bandwidths)
        else:
            raise NotImplementedError(f"loss {loss!r} of variant {variant.name!r} has no batched version")
        losses = torch.func.vmap(function)(d_real, d_fake)
    d_loss, g_loss = losses
    if variant.gradient_penalty and generators is not None:
        d_loss = d_loss + _batched_gradient_penalty(
            discriminator, real, fake, generators, variant.gradient_penalty_weight
        )
    return d_loss, g_loss


def _build_discriminator(variant, settings, generators) -> torch.nn.Module:
    n = settings.n_models
    if variant.loss == "mmd":
        return BatchedGanMLP(n, 2, CRITIC_FEATURES, settings.width, settings.depth, settings.activation, generators,
                             spectral_norm=variant.spectral_norm)
    if variant.loss == "smoothed":
        features = BatchedGanMLP(n, 2, CRITIC_FEATURES, settings.width, settings.depth, settings.activation,
                                 generators, spectral_norm=variant.spectral_norm)
        return BatchedRandomFeatureCritic(features, generators, bandwidth=variant.bandwidths[0])
    return BatchedGanMLP(n, 2, 1, settings.width, settings.depth, settings.activation, generators,
                         spectral_norm=variant.spectral_norm)


def _per_model_norm(tensors: list[torch.Tensor]) -> torch.Tensor:
    return torch.sqrt(sum(t.pow(2).flatten(1).sum(1) for t in tensors))


def _parameters_finite(module: torch.nn.Module) -> torch.Tensor:
    return functools.reduce(torch.logical_and, [p.isfinite().flatten(1).all(1) for p in module.parameters()])


def train_gan_batch(dataset: str, settings: GanRunSettings, seed: int) -> pd.DataFrame:
    """Train ``settings.n_models`` GANs of one variant at once; the tidy table of their metrics over training.

    Columns: dataset, variant, activation, learning_rate, seed, step, metric, value, diverged, diverged_step (−1
    when the model never diverged). One row per model, evaluation step (0, every ``eval_every``, and the last)
    and metric in ``METRICS``; values at and after a model's divergence are NaN.
    """
    if dataset not in DATASETS:
        raise ValueError(f"unknown dataset {dataset!r}; known: {', '.join(DATASETS)}")
    if settings.discriminator_steps < 1:
        raise ValueError("discriminator_steps must be at least 1")
    variant = objectives.get_variant(settings.variant)
    sampler, modes_of, mode_std = DATASETS[dataset]
    modes = modes_of()
    grid = _model_grid(settings)
    n_models, batch = len(grid), settings.batch_size
    streams = [_model_streams(seed, model_seed) for _, model_seed in grid]
    g_init = [s[0][0] for s in streams]
    d_init = [s[0][1] for s in streams]
    train_gens = [s[0][2] for s in streams]
    real_rngs = [s[1] for s in streams]
    eval_seeds = [s[2] for s in streams]

    generator = BatchedGanMLP(n_models, settings.latent_dim, 2, settings.width, settings.depth, settings.activation,
                              g_init)
    discriminator = _build_discriminator(variant, settings, d_init)
    learning_rates = torch.tensor([lr for lr, _ in grid])
    g_opt = BatchedAdam(generator.parameters(), learning_rates, settings.betas)
    d_opt = BatchedAdam(discriminator.parameters(), learning_rates, settings.betas)

    # Fixed evaluation samples per model: the same latents and real points at every evaluation.
    eval_latents, eval_real = [], []
    for model_seed in eval_seeds:
        rng = np.random.default_rng(model_seed)
        eval_real.append(sampler(settings.n_eval, rng)[0])
        eval_latents.append(torch.from_numpy(rng.standard_normal((settings.n_eval, settings.latent_dim))).float())
    eval_latents = torch.stack(eval_latents)

    active = torch.ones(n_models, dtype=torch.bool)
    diverged_step = np.full(n_models, -1, dtype=np.int64)
    records: list[tuple[int, int, str, float]] = []

    def mark(bad: torch.Tensor, step: int) -> None:
        newly = bad & active
        if newly.any():
            indices = np.flatnonzero(newly.numpy())
            diverged_step[indices] = step
            active.logical_and_(~newly)
            g_opt.frozen = ~active
            d_opt.frozen = ~active
            log.warning("%s: models %s diverged at step %d", variant.name, indices.tolist(), step)

    def bad_loss(loss: torch.Tensor) -> torch.Tensor:
        loss = loss.detach()
        return ~torch.isfinite(loss) | (loss.abs() > settings.divergence_threshold)

    def real_batch() -> torch.Tensor:
        return torch.from_numpy(np.stack([sampler(batch, rng)[0] for rng in real_rngs])).float()

    def latent_batch() -> torch.Tensor:
        return torch.stack([torch.randn(batch, settings.latent_dim, generator=g) for g in train_gens])

    def evaluate(step: int, evaluation: int, step_size, grad_norm, d_loss, g_loss, last: bool) -> None:
        with torch.no_grad():
            samples = generator(eval_latents).numpy().astype(np.float64)
        with_w1 = last or evaluation % settings.w1_every == 0
        for b in range(n_models):
            values = dict.fromkeys(METRICS, float("nan"))
            if diverged_step[b] < 0:
                if step > 0:
                    values["generator_step_size"] = float(step_size[b])
                    values["generator_grad_norm"] = float(grad_norm[b])
                    values["discriminator_loss"] = float(d_loss[b])
                    values["generator_loss"] = float(g_loss[b])
                if np.all(np.isfinite(samples[b])):
                    if with_w1:
                        values["wasserstein1"] = metrics.wasserstein1_exact(samples[b], eval_real[b])
                    values["mmd_squared"] = metrics.mmd_squared(samples[b], eval_real[b], settings.mmd_bandwidths)
                    stats = metrics.mode_statistics(samples[b], modes, mode_std)
                    values["high_quality_fraction"] = stats["high_quality_fraction"]
                    values["mode_coverage"] = stats["mode_coverage"]
            records.extend((b, step, name, value) for name, value in values.items())

    evaluation = 0
    evaluate(0, evaluation, None, None, None, None, last=settings.steps == 0)
    for step in range(1, settings.steps + 1):
        for _ in range(settings.discriminator_steps):
            real = real_batch()
            with torch.no_grad():
                fake = generator(latent_batch())
            d_loss, _ = _per_model_losses(variant, discriminator, real, fake, train_gens)
            mark(bad_loss(d_loss), step)
            d_opt.zero_grad()
            torch.where(active, d_loss, torch.zeros_like(d_loss)).sum().backward()
            d_opt.step()
            if variant.weight_clipping:
                discriminator.clip_(variant.clip)
        real = real_batch()
        fake = generator(latent_batch())
        _, g_loss = _per_model_losses(variant, discriminator, real, fake, None)
        mark(bad_loss(g_loss), step)
        g_opt.zero_grad()
        torch.where(active, g_loss, torch.zeros_like(g_loss)).sum().backward()
        is_eval = step % settings.eval_every == 0 or step == settings.steps
        if is_eval:
            before = [p.detach().clone() for p in generator.parameters()]
            grad_norm = _per_model_norm([p.grad for p in generator.parameters()]).numpy()
        g_opt.step()
        mark(~(_parameters_finite(generator) & _parameters_finite(discriminator)), step)
        if is_eval:
            step_size = _per_model_norm(
                [p.detach() - old for p, old in zip(generator.parameters(), before, strict=True)]
            ).numpy()
            evaluation += 1
            evaluate(step, evaluation, step_size, grad_norm, d_loss.detach().numpy(), g_loss.detach().numpy(),
                     last=step == settings.steps)

    index, steps, names, values = zip(*records, strict=True)
    index = np.asarray(index)
    lrs = np.array([lr for lr, _ in grid])[index]
    seeds = np.array([s for _, s in grid])[index]
    return pd.DataFrame(
        {
            "dataset": dataset,
            "variant": variant.name,
            "activation": settings.activation,
            "learning_rate": lrs,
            "seed": seeds,
            "step": np.asarray(steps, dtype=np.int64),
            "metric": names,
            "value": np.asarray(values, dtype=np.float64),
            "diverged": diverged_step[index] >= 0,
            "diverged_step": diverged_step[index],
        }
    )


def converged(
    table: pd.DataFrame, step_size_threshold: float, w1_threshold: float, last_fraction: float = 0.1
) -> pd.DataFrame:
    """Per model: converged when, over the last ``last_fraction`` of steps, every logged generator step size is
    below ``step_size_threshold`` and every logged W1 below ``w1_threshold`` (issue 4's definition).

    The window is the evaluations at steps ≥ (1 − last_fraction)·final step, or the last evaluation if none falls
    in it. NaN values (a diverged model, or W1 not computed at that evaluation) are skipped; a diverged model, or one
    without a step size or a W1 in the window, has not converged. Columns: the model keys, diverged,
    max_step_size, max_wasserstein1, converged.
    """
    rows = []
    for key, group in table.groupby(MODEL_KEYS, sort=True):
        final = group["step"].max()
        window = group[group["step"] >= (1.0 - last_fraction) * final]
        if window.empty:
            window = group[group["step"] == final]
        step_sizes = window.loc[window["metric"] == "generator_step_size", "value"].dropna()
        w1 = window.loc[window["metric"] == "wasserstein1", "value"].dropna()
        diverged = bool(group["diverged"].any())
        max_step = float(step_sizes.max()) if len(step_sizes) else float("nan")
        max_w1 = float(w1.max()) if len(w1) else float("nan")
        ok = not diverged and len(step_sizes) > 0 and len(w1) > 0
        ok = ok and max_step < step_size_threshold and max_w1 < w1_threshold
        rows.append((*key, diverged, max_step, max_w1, ok))
    return pd.DataFrame(rows, columns=[*MODEL_KEYS, "diverged", "max_step_size", "max_wasserstein1", "converged"])
