"""GAN objectives for the stability runs (issue 4): one (discriminator loss, generator loss) pair per variant.

Every loss function returns ``(discriminator_loss, generator_loss)``; both are minimised, the discriminator's by the
discriminator, the generator's by the generator. Losses reduce over the sample axis only (the last axis of a
critic's outputs, the second last of feature vectors), so leading axes are models: one call scores a whole batch of
models (``dltheory.gan.training``), one loss per model. Whether ``fake`` is detached for the
discriminator step is the training loop's business. Sign conventions (all losses are means over the batch):

- non-saturating (Goodfellow et al. 2014): D: softplus(−D(real)) + softplus(D(fake)); G: softplus(−D(fake)).
- Wasserstein (Arjovsky et al. 2017): D: E D(fake) − E D(real); G: −E D(fake).
- hinge (Miyato et al. 2018): D: relu(1 − D(real)) + relu(1 + D(fake)); G: −E D(fake).
- MMD (Li et al. 2017, with a fixed mixture of Gaussian kernels on discriminator features): D: −MMD²; G: MMD².
  The feature network is spectrally normalised (ours; Li et al. clip weights, see ``VARIANTS``).
- smoothed (ours, following the ingredients the paper names, Chu, Minami & Fukumizu, ICLR 2020, abstract and
  Table 3 caption as quoted in ``shared/papers/gan.md``): the Wasserstein loss plus (λ/2)·‖f‖²_H on the
  discriminator, the convex conjugate of the (1/(2λ))·MMD² smoothing term inf-convolved with W1. Derivation and
  the random-feature approximation of ‖f‖²_H: ``docs/gan_smoothed_objective.md``.

Which variant uses which constraint, and its default hyperparameters, is the registry ``VARIANTS``.
"""

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

# The variants' registry and constants live torch-free (dltheory.gan.variants); re-exported here.
from dltheory.gan.variants import (  # noqa: F401
    GRADIENT_PENALTY_WEIGHT,
    MMD_BANDWIDTHS,
    R1_WEIGHT,
    RANDOM_FEATURES,
    SMOOTHING_BANDWIDTH,
    SMOOTHING_LAMBDA,
    VARIANTS,
    WEIGHT_CLIP,
    GanVariant,
    get_variant,
)


def non_saturating_losses(d_real: torch.Tensor, d_fake: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Non-saturating GAN losses on discriminator logits (Goodfellow et al. 2014); softplus(t) = log(1 + eᵗ)."""
    discriminator = F.softplus(-d_real).mean(-1) + F.softplus(d_fake).mean(-1)
    return discriminator, F.softplus(-d_fake).mean(-1)


def wasserstein_losses(d_real: torch.Tensor, d_fake: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Wasserstein critic losses (Arjovsky et al. 2017): the critic maximises E f(real) − E f(fake)."""
    return d_fake.mean(-1) - d_real.mean(-1), -d_fake.mean(-1)


def hinge_losses(d_real: torch.Tensor, d_fake: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Hinge losses as used with spectral normalisation (Miyato et al. 2018)."""
    discriminator = F.relu(1.0 - d_real).mean(-1) + F.relu(1.0 + d_fake).mean(-1)
    return discriminator, -d_fake.mean(-1)


def gaussian_kernel_sum(x: torch.Tensor, y: torch.Tensor, bandwidths: Sequence[float]) -> torch.Tensor:
    """Gram matrix of k(a, b) = Σ_σ exp(−‖a − b‖² / (2σ²)): the torch twin of ``metrics.gaussian_kernel_sum``.

    x (..., n, k) and y (..., m, k) give (..., n, m). Squared distances are expanded (‖a‖² + ‖b‖² − 2a·b, clamped
    at 0) rather than taken from ``torch.cdist``, whose square root has no finite gradient at coincident points.
    """
    squared = x.pow(2).sum(-1)[..., :, None] + y.pow(2).sum(-1)[..., None, :] - 2.0 * x @ y.transpose(-1, -2)
    squared = squared.clamp_min(0.0)
    return sum(torch.exp(-squared / (2.0 * s**2)) for s in bandwidths)


def mmd_squared(x: torch.Tensor, y: torch.Tensor, bandwidths: Sequence[float]) -> torch.Tensor:
    """Unbiased MMD² (Gretton et al. 2012, eq. 3), differentiable; same estimator as ``metrics.mmd_squared``.

    x (..., n, k) and y (..., m, k): one value per leading index. One Gram matrix of the pooled points gives the
    three blocks (fewer kernel calls than three separate Grams, which is what costs in small batches).
    """
    n, m = x.shape[-2], y.shape[-2]
    if n < 2 or m < 2:
        raise ValueError(f"mmd_squared needs at least 2 points per sample, got {n} and {m}")
    if len(bandwidths) == 0:
        raise ValueError("mmd_squared needs at least one bandwidth")
    pooled = torch.cat([x, y], dim=-2)
    gram = gaussian_kernel_sum(pooled, pooled, bandwidths)
    kxx, kyy, kxy = gram[..., :n, :n], gram[..., n:, n:], gram[..., :n, n:]

    def off_diagonal_mean(k: torch.Tensor, size: int) -> torch.Tensor:
        return (k.sum((-2, -1)) - k.diagonal(dim1=-2, dim2=-1).sum(-1)) / (size * (size - 1))

    return off_diagonal_mean(kxx, n) + off_diagonal_mean(kyy, m) - 2.0 * kxy.mean((-2, -1))


def mmd_losses(
    features_real: torch.Tensor, features_fake: torch.Tensor, bandwidths: Sequence[float] = MMD_BANDWIDTHS
) -> tuple[torch.Tensor, torch.Tensor]:
    """MMD-GAN losses on discriminator features (Li et al. 2017): the discriminator maximises MMD², G minimises it."""
    distance = mmd_squared(features_real, features_fake, bandwidths)
    return -distance, distance


def smoothed_losses(
    d_real: torch.Tensor, d_fake: torch.Tensor, rkhs_norm_squared: torch.Tensor, smoothing: float = SMOOTHING_LAMBDA
) -> tuple[torch.Tensor, torch.Tensor]:
    """Smoothed Wasserstein losses (ours): the Wasserstein losses plus (λ/2)·‖f‖²_H on the discriminator.

    (λ/2)·‖f‖²_H is the convex conjugate of the smoothing term (1/(2λ))·MMD² inf-convolved with W1; see
    ``docs/gan_smoothed_objective.md``. The generator's loss is unchanged, since the penalty does not depend on it.
    """
    discriminator, generator = wasserstein_losses(d_real, d_fake)
    return discriminator + 0.5 * smoothing * rkhs_norm_squared, generator


def gradient_penalty(
    discriminator: nn.Module,
    real: torch.Tensor,
    fake: torch.Tensor,
    generator: torch.Generator | None = None,
    weight: float = GRADIENT_PENALTY_WEIGHT,
) -> torch.Tensor:
    """WGAN-GP's penalty λ·E (‖∇ₓD(x̂)‖ − 1)² at x̂ = εx_real + (1 − ε)x_fake, ε ~ U[0, 1] per sample.

    Gulrajani et al. 2017, λ = 10. ``generator`` draws ε (reproducibility); the graph is kept, so the penalty can
    be back-propagated into the discriminator's parameters.
    """
    if real.shape != fake.shape:
        raise ValueError(f"gradient_penalty needs real and fake of the same shape, got {real.shape} and {fake.shape}")
    shape = (len(real),) + (1,) * (real.dim() - 1)
    epsilon = torch.rand(shape, generator=generator, dtype=real.dtype, device=real.device)
    interpolates = (epsilon * real.detach() + (1.0 - epsilon) * fake.detach()).requires_grad_(True)
    outputs = discriminator(interpolates)
    (gradients,) = torch.autograd.grad(outputs.sum(), interpolates, create_graph=True)
    norms = gradients.reshape(len(real), -1).norm(dim=1)
    return weight * (norms - 1.0).pow(2).mean()


def r1_penalty(discriminator: nn.Module, real: torch.Tensor, weight: float = R1_WEIGHT) -> torch.Tensor:
    """R1 = (γ/2)·E_data ‖∇ₓD(x)‖², the zero-centred gradient penalty on the real samples (Mescheder, Geiger &
    Nowozin, ICML 2018, Sec. 4.1); the graph is kept, so it can be back-propagated into the discriminator."""
    inputs = real.detach().requires_grad_(True)
    (gradients,) = torch.autograd.grad(discriminator(inputs).sum(), inputs, create_graph=True)
    return 0.5 * weight * gradients.reshape(len(real), -1).pow(2).sum(dim=1).mean()


def clip_weights_(module: nn.Module, clip: float = WEIGHT_CLIP) -> nn.Module:
    """Clamp every parameter of ``module`` to [−clip, clip] in place (WGAN, Arjovsky et al. 2017); returns it."""
    with torch.no_grad():
        for parameter in module.parameters():
            parameter.clamp_(-clip, clip)
    return module


_NORMALISED_LAYERS = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)


def spectrally_normalise(module: nn.Module) -> nn.Module:
    """Apply ``torch.nn.utils.parametrizations.spectral_norm`` to every Linear/Conv layer (Miyato et al. 2018).

    Each weight is divided by its largest singular value, estimated by power iteration (one per forward pass in
    training mode). For convolutions this normalises the reshaped kernel, as Miyato et al. do, not the operator.
    Returns ``module``, changed in place. ``RandomFeatureCritic``'s readout is a bare parameter and is left alone.
    """
    layers = [layer for layer in module.modules() if isinstance(layer, _NORMALISED_LAYERS)]
    for layer in layers:
        nn.utils.parametrizations.spectral_norm(layer)
    return module


class RandomFeatureCritic(nn.Module):
    """The smoothed GAN's discriminator (ours): f(x) = aᵀψ(h(x)), ψ a random Fourier feature map.

    ``features`` is h: a network the caller makes Lipschitz (``spectrally_normalise``) and smooth (ELU/softplus).
    ψ(u) = √(2/D) cos(Ωu/σ + b) with Ω ~ N(0, I) and b ~ U[0, 2π) fixed at construction (Rahimi & Recht 2007), so
    ψ(u)ᵀψ(v) ≈ exp(−‖u − v‖²/(2σ²)). f lies in the RKHS H of the kernel k̂(x, y) = ψ(h(x))ᵀψ(h(y)), where
    ‖f‖²_H ≤ ‖a‖², with equality when a is in the span of the ψ(h(z_j)) (always, once D ≤ the number of distinct
    points): ``rkhs_norm_squared`` returns ‖a‖². The RKHS is that of the current h; h itself is learned, as in
    MMD-GAN, and is not penalised by this term.
    """

    def __init__(
        self,
        features: nn.Module,
        feature_dim: int,
        num_features: int = RANDOM_FEATURES,
        bandwidth: float = SMOOTHING_BANDWIDTH,
        generator: torch.Generator | None = None,
    ):
        super().__init__()
        self.features = features
        self.bandwidth = bandwidth
        self.register_buffer("frequencies", torch.randn(num_features, feature_dim, generator=generator))
        self.register_buffer("phases", 2.0 * math.pi * torch.rand(num_features, generator=generator))
        bound = 1.0 / math.sqrt(num_features)
        self.readout = nn.Parameter(bound * (2.0 * torch.rand(num_features, generator=generator) - 1.0))

    def random_features(self, x: torch.Tensor) -> torch.Tensor:
        """ψ(h(x)): shape (n, D)."""
        u = self.features(x)
        scale = math.sqrt(2.0 / len(self.phases))
        return scale * torch.cos(u @ self.frequencies.T / self.bandwidth + self.phases)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.random_features(x) @ self.readout

    def rkhs_norm_squared(self) -> torch.Tensor:
        """‖a‖², the squared RKHS norm of f in the random-feature RKHS (see the class docstring)."""
        return self.readout.pow(2).sum()


def variant_losses(
    variant: str | GanVariant,
    discriminator: nn.Module,
    real: torch.Tensor,
    fake: torch.Tensor,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """(discriminator loss, generator loss) of ``variant`` with its penalties, from the batches ``real``, ``fake``.

    For ``mmd_gan`` the discriminator's outputs are feature vectors; for ``smoothed`` the discriminator must be a
    ``RandomFeatureCritic``. Spectral normalisation and weight clipping act on the module, not the loss: apply
    ``spectrally_normalise`` once at construction and ``clip_weights_`` after each discriminator step.
    """
    config = get_variant(variant) if isinstance(variant, str) else variant
    d_real, d_fake = discriminator(real), discriminator(fake)
    if config.loss == "non_saturating":
        losses = non_saturating_losses(d_real, d_fake)
    elif config.loss == "wasserstein":
        losses = wasserstein_losses(d_real, d_fake)
    elif config.loss == "hinge":
        losses = hinge_losses(d_real, d_fake)
    elif config.loss == "mmd":
        losses = mmd_losses(d_real, d_fake, config.bandwidths)
    elif config.loss == "smoothed":
        if not isinstance(discriminator, RandomFeatureCritic):
            raise ValueError("the smoothed variant needs a RandomFeatureCritic discriminator")
        losses = smoothed_losses(d_real, d_fake, discriminator.rkhs_norm_squared(), config.smoothing)
    else:
        raise ValueError(f"unknown loss {config.loss!r} in variant {config.name!r}")
    if config.gradient_penalty:
        penalty = gradient_penalty(discriminator, real, fake, generator, config.gradient_penalty_weight)
        losses = (losses[0] + penalty, losses[1])
    if config.r1_penalty:
        losses = (losses[0] + r1_penalty(discriminator, real, config.r1_weight), losses[1])
    return losses
