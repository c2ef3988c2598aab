"""The GAN variants of issue 4, by name: each one's loss and the constraints placed on its discriminator, with their
constants. Torch-free, so that the analysis (the conditions table) can name the variants without loading torch; the
losses themselves are in ``dltheory.gan.objectives``."""

from dataclasses import dataclass

GRADIENT_PENALTY_WEIGHT = 10.0  # Gulrajani et al. 2017; issue 4
R1_WEIGHT = 10.0  # γ of R1 (Mescheder, Geiger & Nowozin, ICML 2018, use γ = 10 in most of their experiments)
WEIGHT_CLIP = 0.01  # Arjovsky et al. 2017
MMD_BANDWIDTHS = (1.0, 2.0, 4.0, 8.0, 16.0)  # Li et al. 2017 (recalled, unverified)
SMOOTHING_LAMBDA = 1.0  # ours, chosen before any run, not tuned
SMOOTHING_SWEEP = (0.01, 0.1, 10.0)  # the smoothed GAN's λ beside 1 (ours): variants smoothed_lambda_<λ>
SMOOTHING_BANDWIDTH = 1.0  # ours: the Gaussian kernel of the RKHS on the smoothed critic's features
RANDOM_FEATURES = 256  # ours: D in the random Fourier feature map ψ: R^d → R^D


@dataclass(frozen=True)
class GanVariant:
    """One named GAN variant of issue 4: its loss and the constraints placed on the discriminator."""

    name: str
    loss: str  # "non_saturating", "wasserstein", "hinge", "mmd" or "smoothed"
    spectral_norm: bool = False
    weight_clipping: bool = False
    gradient_penalty: bool = False
    gradient_penalty_weight: float = GRADIENT_PENALTY_WEIGHT
    r1_penalty: bool = False  # (γ/2)·E_data ‖∇ₓD‖², zero-centred on the data (Mescheder et al. 2018)
    r1_weight: float = R1_WEIGHT
    clip: float = WEIGHT_CLIP
    bandwidths: tuple[float, ...] = ()
    smoothing: float = 0.0


VARIANTS: dict[str, GanVariant] = {
    variant.name: variant
    for variant in (
        GanVariant("non_saturating", "non_saturating"),
        GanVariant("wgan_clip", "wasserstein", weight_clipping=True),
        GanVariant("wgan_gp", "wasserstein", gradient_penalty=True),
        GanVariant("sn_hinge", "hinge", spectral_norm=True),
        GanVariant("sn_wasserstein", "wasserstein", spectral_norm=True),
        GanVariant("sn_gp", "wasserstein", spectral_norm=True, gradient_penalty=True),
        # Li et al. 2017 clip the feature network's weights (recalled). With the clip 0.01 of WGAN every feature
        # shrank to ~0 in our 2-D runs, the kernel went flat and the generator never moved (step size exactly 0
        # at every learning rate, measured): ours, spectral normalisation keeps the features Lipschitz instead.
        GanVariant("mmd_gan", "mmd", spectral_norm=True, bandwidths=MMD_BANDWIDTHS),
        # Mescheder, Geiger & Nowozin (ICML 2018): the non-saturating loss with the R1 penalty, locally convergent
        # on the Dirac-GAN (dltheory.gan.dirac) where the unregularised loss is not.
        GanVariant("r1", "non_saturating", r1_penalty=True),
        GanVariant(
            "smoothed", "smoothed", spectral_norm=True, bandwidths=(SMOOTHING_BANDWIDTH,), smoothing=SMOOTHING_LAMBDA
        ),
        # The smoothed GAN as a family (issue 18): its λ swept around 1; as λ → 0 the readout's penalty vanishes and
        # the critic approaches an unregularised Wasserstein-type critic on the same features.
        *(GanVariant(f"smoothed_lambda_{value:g}", "smoothed", spectral_norm=True, bandwidths=(SMOOTHING_BANDWIDTH,),
                     smoothing=value) for value in SMOOTHING_SWEEP),
    )
}


def get_variant(name: str) -> GanVariant:
    """The registered variant called ``name``; ValueError naming the known ones otherwise."""
    if name not in VARIANTS:
        raise ValueError(f"unknown GAN variant {name!r}; known: {', '.join(VARIANTS)}")
    return VARIANTS[name]
