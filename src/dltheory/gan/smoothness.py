"""The conditions of Chu, Minami & Fukumizu (ICLR 2020) measured on trained networks, not asserted (issue 18).

Per model of a batch, on its 2-D data:

- ``critic_lipschitz``: the largest ‖∇ₓD(x)‖ over real points, generated points and points between them;
- ``critic_smoothness``: the largest ‖∇²ₓD(x)‖₂ over the same points, the exact 2 × 2 Hessian by two
  Hessian-vector products per point. A ReLU critic is piecewise linear: its Hessian is 0 wherever it exists, so its
  measured smoothness is 0 although ∇D jumps at every kink; the number is the curvature a smooth activation adds;
- ``generator_smoothness``: the largest |eigenvalue| of the Hessian of the generator's loss in its parameters θ,
  with the critic held fixed, by power iteration with Hessian-vector products. The descent lemma makes gradient
  descent on that loss stable for rates below 2 / this number.

The critic of MMD-GAN is a feature map, not a scalar function: its two critic numbers are NaN.
"""

import numpy as np
import torch

from dltheory.gan.analysis import CONDITION_METRICS  # noqa: F401  (named where the torch-free analysis reads them)

# Of the generator's Hessian (ours). ‖Hv‖ after k iterations never exceeds the largest |eigenvalue|, so a short
# iteration errs low, toward a larger 2 / smoothness; tests check the method against an explicit Hessian.
POWER_ITERATIONS = 20
PROBE_POINTS = 256  # real and generated points per model (and as many between them)
PROBE_SEED = 0  # the power iteration's start vector


def _critic_numbers(discriminator, real: torch.Tensor, fake: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    n = real.shape[1]
    t = torch.linspace(0.0, 1.0, n, dtype=real.dtype, device=real.device)[None, :, None]
    points = torch.cat([real, fake, t * real + (1.0 - t) * fake], dim=1).detach().requires_grad_(True)
    outputs = discriminator(points)
    if outputs.dim() != 2:  # a feature map (MMD-GAN), not a scalar critic
        nan = np.full(real.shape[0], np.nan)
        return nan, nan
    (gradient,) = torch.autograd.grad(outputs.sum(), points, create_graph=True)
    rows = []
    for k in range(points.shape[-1]):
        (row,) = torch.autograd.grad(gradient[..., k].sum(), points, retain_graph=True, allow_unused=True)
        rows.append(torch.zeros_like(points) if row is None else row)
    hessian = torch.stack(rows, dim=-2).detach()
    hessian = 0.5 * (hessian + hessian.transpose(-1, -2))
    curvature = torch.linalg.eigvalsh(hessian.double()).abs().amax(dim=(-1, -2))
    return (gradient.detach().norm(dim=-1).amax(dim=1).double().cpu().numpy(), curvature.cpu().numpy())


def _generator_smoothness(generator_loss, generator, discriminator, real, latents, iterations) -> np.ndarray:
    parameters = list(generator.parameters())
    start = torch.Generator().manual_seed(PROBE_SEED)
    # The same start for every model (drawn for one model's shapes), so a model's number does not depend on its batch.
    vectors = [torch.randn(p.shape[1:], generator=start, dtype=p.dtype).expand(p.shape).to(p.device)
               for p in parameters]

    def normalised(tensors):
        norms = torch.sqrt(sum(t.pow(2).flatten(1).sum(1) for t in tensors)).clamp_min(1e-30)
        return [t / norms.view((-1,) + (1,) * (t.dim() - 1)) for t in tensors], norms

    vectors, _ = normalised(vectors)
    norms = torch.zeros(parameters[0].shape[0], dtype=parameters[0].dtype)
    for _ in range(iterations):
        loss = generator_loss(discriminator, real, generator(latents)).sum()  # per-model losses: a block Hessian
        gradients = torch.autograd.grad(loss, parameters, create_graph=True)
        dot = sum((g * v).sum() for g, v in zip(gradients, vectors, strict=True))
        products = torch.autograd.grad(dot, parameters, allow_unused=True)
        products = [torch.zeros_like(p) if h is None else h.detach() for h, p in zip(products, parameters,
                                                                                     strict=True)]
        vectors, norms = normalised(products)
    return norms.double().cpu().numpy()


def measure_conditions(generator_loss, generator, discriminator, real: torch.Tensor, latents: torch.Tensor,
                       iterations: int = POWER_ITERATIONS) -> dict[str, np.ndarray]:
    """The three numbers of the module docstring per model, each an array of shape (models,).

    ``generator_loss(discriminator, real, fake)`` is the variant's generator loss per model; ``real`` a batch of
    data per model (models, batch, 2); ``latents`` the model's fixed evaluation latents (models, n, latent).
    """
    modes = generator.training, discriminator.training
    generator.eval()
    discriminator.eval()  # no power-iteration update of spectral norm while measuring
    try:
        n = min(PROBE_POINTS, real.shape[1], latents.shape[1])
        real, latents = real[:, :n].detach(), latents[:, :n]
        with torch.no_grad():
            fake = generator(latents)
        lipschitz, smoothness = _critic_numbers(discriminator, real, fake)
        curvature = _generator_smoothness(generator_loss, generator, discriminator, real, latents, iterations)
    finally:
        generator.train(modes[0])
        discriminator.train(modes[1])
    return {"critic_lipschitz": lipschitz, "critic_smoothness": smoothness, "generator_smoothness": curvature}
