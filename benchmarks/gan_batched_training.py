"""Batched 2-D GAN training against what a researcher would write instead, at the default config's shapes (issue 4).

The default config trains, per variant on the ring, activations x learning rates x seeds GANs (2 x 4 x 5 = 40 in
config/config.yaml; the script reads the numbers from it). Four ways to train the same runs for the same steps, on the
same shapes (generator and discriminator MLPs of the config's width and depth, its batch size, Adam for the
discriminator, each run's own generator optimizer and rate, one discriminator step per generator step):

- batched: ``train_gan_batch``, every run one slice of one batched model (what the pipeline does);
- plain loop: one ``nn.Sequential`` generator and discriminator per run and ``torch.optim``, one run after another,
  real batches drawn per step (the per-model PyTorch loop, with no code of this package in its training step);
- vmap: ``torch.func.functional_call`` vmapped over the stacked parameters of the runs that share an activation
  and an optimizer, with a written-out Adam or SGD on the stacked tensors;
- batched code, one run per call: ``train_gan_batch`` on one model at a time (what batching alone buys).

The plain loop and vmap are written for the non-saturating loss (no spectral norm or penalties), so that is the
default variant; with another variant only the two batched timings are made. Evaluation is kept to the end and
small (200 points), so the ratios are what batching buys in training. Prints seconds and ratios, measured in one run.

    python benchmarks/gan_batched_training.py [--variant non_saturating] [--steps 300] [--threads 1]
"""

import argparse
import dataclasses
import functools
import time

import numpy as np
import torch
import torch.nn.functional as F
import yaml
from torch import nn
from torch.func import functional_call, grad_and_value, stack_module_state, vmap

from dltheory.gan.settings import run_settings
from dltheory.gan.targets import make_target
from dltheory.gan.training import train_gan_batch

ACTIVATIONS = {"relu": nn.ReLU, "elu": nn.ELU}


def plain_mlp(fan_in: int, fan_out: int, width: int, depth: int, activation: str, tanh: bool) -> nn.Sequential:
    layers = []
    for _ in range(depth):
        layers += [nn.Linear(fan_in, width), ACTIVATIONS[activation]()]
        fan_in = width
    layers.append(nn.Linear(fan_in, fan_out))
    return nn.Sequential(*layers, *([nn.Tanh()] if tanh else []))


def runs(settings):
    """(dataset, activation, optimizer, rate, seed) of every run, as ``train_gan_batch`` orders them."""
    return [(dataset, activation, optimizer, rate, seed) for dataset in settings.datasets
            for activation in settings.activations for optimizer, rate in settings.schedules
            for seed in settings.seeds]


def networks(settings, activation, bounded):
    generator = plain_mlp(settings.latent_dim, 2, settings.width, settings.depth, activation, bounded)
    return generator, plain_mlp(2, 1, settings.width, settings.depth, activation, False)


def time_plain_loop(settings, steps: int) -> float:
    """One run after another: the per-model PyTorch loop a researcher writes first."""
    start = time.perf_counter()
    for dataset, activation, optimizer, rate, seed in runs(settings):
        torch.manual_seed(seed)
        target, rng = make_target(dataset, None, settings.mixtures), np.random.default_rng(seed)
        generator, discriminator = networks(settings, activation, target.bounded)
        g_opt = (torch.optim.Adam(generator.parameters(), lr=rate, betas=settings.betas) if optimizer == "adam"
                 else torch.optim.SGD(generator.parameters(), lr=rate))
        d_opt = torch.optim.Adam(discriminator.parameters(), lr=settings.discriminator_learning_rate,
                                 betas=settings.betas)
        for _ in range(steps):
            real = torch.from_numpy(target.sample(settings.batch_size, rng)).float()
            fake = generator(torch.randn(settings.batch_size, settings.latent_dim))
            d_loss = F.softplus(-discriminator(real)).mean() + F.softplus(discriminator(fake.detach())).mean()
            d_opt.zero_grad()
            d_loss.backward()
            d_opt.step()
            g_loss = F.softplus(-discriminator(fake)).mean()
            g_opt.zero_grad()
            g_loss.backward()
            g_opt.step()
    return time.perf_counter() - start


class StackedOptimizer:
    """SGD, or Adam (Kingma & Ba, with bias correction), on parameters stacked over a leading model axis, one rate
    per model: what torch.func leaves to the user."""

    def __init__(self, params: dict, rates: list[float], adam: bool, betas):
        self.rates = torch.tensor(rates)
        self.adam, self.betas, self.t = adam, betas, 0
        self.moments = {k: (torch.zeros_like(v), torch.zeros_like(v)) for k, v in params.items()} if adam else None

    def step(self, params: dict, grads: dict) -> dict:
        self.t += 1
        out = {}
        for k, p in params.items():
            rate = self.rates.view(-1, *[1] * (p.dim() - 1))
            if not self.adam:
                out[k] = p - rate * grads[k]
                continue
            m, v = self.moments[k]
            m.mul_(self.betas[0]).add_(grads[k], alpha=1 - self.betas[0])
            v.mul_(self.betas[1]).addcmul_(grads[k], grads[k], value=1 - self.betas[1])
            m_hat, v_hat = m / (1 - self.betas[0] ** self.t), v / (1 - self.betas[1] ** self.t)
            out[k] = p - rate * m_hat / (v_hat.sqrt() + 1e-8)
        return out


def d_loss(template_g, template_d, d_params, g_params, real, latent):
    """One run's non-saturating discriminator loss as a function of its parameters (for torch.func)."""
    fake = functional_call(template_g, g_params, (latent,))
    return (F.softplus(-functional_call(template_d, d_params, (real,))).mean()
            + F.softplus(functional_call(template_d, d_params, (fake,))).mean())


def g_loss(template_g, template_d, g_params, d_params, latent):
    fake = functional_call(template_g, g_params, (latent,))
    return F.softplus(-functional_call(template_d, d_params, (fake,))).mean()


def time_vmap(settings, steps: int) -> float:
    """One vmapped model per (activation, optimizer): vmap needs one function, so one activation, per call."""
    target = make_target(settings.datasets[0], None, settings.mixtures)
    groups = {}
    for _, activation, optimizer, rate, seed in runs(settings):
        groups.setdefault((activation, optimizer), []).append((rate, seed))
    prepared = []
    for (activation, optimizer), members in groups.items():
        pairs = []
        for _, seed in members:
            torch.manual_seed(seed)
            pairs.append(networks(settings, activation, target.bounded))
        g_params, _ = stack_module_state([g for g, _ in pairs])
        d_params, _ = stack_module_state([d for _, d in pairs])
        template_g, template_d = (module.to("meta") for module in pairs[0])
        g_opt = StackedOptimizer(g_params, [r for r, _ in members], optimizer == "adam", settings.betas)
        d_opt = StackedOptimizer(d_params, [settings.discriminator_learning_rate] * len(members), True,
                                 settings.betas)
        prepared.append([template_g, template_d, g_params, d_params, g_opt, d_opt, len(members)])
    rng = np.random.default_rng(0)
    start = time.perf_counter()
    for _ in range(steps):
        for group in prepared:
            template_g, template_d, g_params, d_params, g_opt, d_opt, count = group

            real = torch.from_numpy(target.sample(count * settings.batch_size, rng)).float()
            real = real.view(count, settings.batch_size, 2)
            latent = torch.randn(count, settings.batch_size, settings.latent_dim)
            d_grads, _ = vmap(grad_and_value(functools.partial(d_loss, template_g, template_d)))(
                d_params, g_params, real, latent)
            d_params = d_opt.step(d_params, d_grads)
            g_grads, _ = vmap(grad_and_value(functools.partial(g_loss, template_g, template_d)))(
                g_params, d_params, latent)
            group[2], group[3] = g_opt.step(g_params, g_grads), d_params
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variant", default="non_saturating")
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    section = yaml.safe_load(open("config/config.yaml"))["gan"]
    settings = run_settings(section, "toy", args.variant)
    settings = dataclasses.replace(settings, steps=args.steps, eval_every=args.steps, trajectory=None,
                                   n_eval=200, samples_saved=0)
    start = time.perf_counter()
    train_gan_batch(settings, seed=0)
    batched = time.perf_counter() - start
    start = time.perf_counter()
    train_gan_batch(dataclasses.replace(settings, steps=1, eval_every=1), seed=0)
    overhead = time.perf_counter() - start  # set-up and the two evaluations (W1, the conditions), not training

    start = time.perf_counter()
    for dataset, activation, optimizer, rate, seed in runs(settings):
        one = dataclasses.replace(settings, datasets=(dataset,), activations=(activation,),
                                  learning_rates={optimizer: (rate,)}, seeds=(seed,))
        train_gan_batch(one, seed=0)
    one_at_a_time = time.perf_counter() - start

    print(f"{args.variant}: {settings.n_models} runs x {args.steps} steps, {args.threads} thread(s); the batched "
          f"times include {overhead:.2f} s of set-up and evaluation (one step's run), which the plain loop and vmap "
          "do not make")
    print(f"batched: {batched:.2f} s   batched code, one run per call: {one_at_a_time:.2f} s "
          f"(ratio {one_at_a_time / batched:.1f}x)")
    if settings.variant != "non_saturating":
        print("plain loop and vmap: written for non_saturating only (not timed)")
        return
    plain, vmapped = time_plain_loop(settings, args.steps), time_vmap(settings, args.steps)
    print(f"plain per-model loop: {plain:.2f} s (ratio {plain / batched:.1f}x)   "
          f"torch.func.vmap per (activation, optimizer): {vmapped:.2f} s (ratio {vmapped / batched:.1f}x)")


if __name__ == "__main__":
    main()
