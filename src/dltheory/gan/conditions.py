"""Sufficient conditions for eventual stationarity (Chu, Minami & Fukumizu, ICLR 2020) and which variant meets them.

What is sourced (``shared/papers/gan.md``): the paper derives conditions "that must be satisfied by the divergence
that is minimized by the GAN and the generator's architecture", existing variants meet "some, but not all" of them
[abstract]; it explains Lipschitz constraints, gradient penalties and smooth activations [abstract], and asks why
spectral normalisation alone with the Wasserstein loss fails while gradient penalty plus spectral normalisation
helps [intro, §1]. What is not: the conditions' exact statements, constants and numbering, and the paper's own
table of variants (gan.md, "Unknown"). The four conditions below are the reconstruction gan.md lists as
[unverified] plus the issue's wording, and every verdict in ``VARIANT_CONDITIONS`` is ours, reasoned from them.
In our reading only the smoothed GAN with a smooth activation meets all four, as the abstract's "some, but not all"
of the existing variants suggests. The two-sided gradient penalty of WGAN-GP and SN + GP is not convex in the
critic, so it does not supply the strongly concave term (an earlier reading said it did); whether the trained
critics meet the conditions is to be measured (issue 18).
"""

from dataclasses import dataclass

import pandas as pd

from dltheory.gan.variants import VARIANTS


@dataclass(frozen=True)
class Condition:
    """One sufficient condition for eventual stationarity, as far as it is known."""

    name: str
    statement: str
    source: str


LIPSCHITZ_DISCRIMINATOR = Condition(
    "lipschitz_discriminator",
    "The divergence J is Lipschitz w.r.t. Wasserstein-1: the discriminator is Lipschitz in x.",
    "gan.md, recalled [unverified]; Lipschitz constraints are named in the abstract",
)
SMOOTH_DISCRIMINATOR = Condition(
    "smooth_discriminator",
    "J is smooth: the discriminator's gradient ∇ₓφ is Lipschitz in x.",
    "gan.md, recalled [unverified]; smooth activations are named in the abstract",
)
SMOOTH_IN_DISTRIBUTION = Condition(
    "smooth_in_distribution",
    "The discriminator's gradient ∇ₓφ_μ varies Lipschitz-continuously with the generated distribution μ.",
    "issue 4's summary of the paper; exact statement unknown (gan.md, 'Unknown')",
)
SMOOTH_GENERATOR = Condition(
    "smooth_generator",
    "The generator G_θ(z) is Lipschitz and smooth in θ (on bounded parameter sets).",
    "gan.md, recalled [unverified]; the abstract puts conditions on the generator's architecture",
)
CONDITIONS = (LIPSCHITZ_DISCRIMINATOR, SMOOTH_DISCRIMINATOR, SMOOTH_IN_DISTRIBUTION, SMOOTH_GENERATOR)

SMOOTH_ACTIVATIONS = ("elu", "softplus")
ACTIVATIONS = ("relu", *SMOOTH_ACTIVATIONS)


@dataclass(frozen=True)
class Verdict:
    """Whether a variant meets a condition, and why (one line, ours unless it cites a source)."""

    met: bool
    reason: str


_RELU_NOT_SMOOTH = "ReLU's derivative jumps at 0, so the gradient is not Lipschitz (abstract: smooth activations)"
_SMOOTH_ACTIVATION = "bounded weights and a smooth activation bound the network's second derivative (ours)"
_NOT_STRONGLY_CONCAVE = (
    "no strongly concave term on the discriminator, so its maximiser need not be unique nor move smoothly with μ "
    "(ours, via gan.md item 4: R* = 0)"
)

# Per variant: (lipschitz_discriminator, smooth_in_distribution) verdicts; the two activation-dependent conditions
# are filled in by ``_verdicts``.
_DISCRIMINATOR_VERDICTS: dict[str, tuple[Verdict, Verdict]] = {
    "non_saturating": (
        Verdict(False, "unconstrained discriminator; JS-type losses are not W1-Lipschitz (WGAN motivation, intro)"),
        Verdict(False, "the optimal discriminator log p/(p+q) jumps as supports separate (intro: mismatched supports)"),
    ),
    "wgan_clip": (
        Verdict(True, "clipped weights bound the Lipschitz constant (Arjovsky et al. 2017, cited in the intro)"),
        Verdict(False, _NOT_STRONGLY_CONCAVE),
    ),
    "wgan_gp": (
        Verdict(False, "GP pulls ‖∇ₓD‖ toward 1 only at sampled interpolates, softly: no global bound (ours)"),
        Verdict(False, "the two-sided penalty (‖∇ₓD‖ − 1)² is not convex in D (its minimisers form a sphere of "
                       "gradients), so it is no strongly concave conjugate term; on the Dirac-GAN WGAN-GP is not "
                       "locally convergent (Mescheder et al. 2018, Sec. 3; dltheory.gan.dirac)"),
    ),
    "sn_hinge": (
        Verdict(True, "spectral normalisation makes each layer 1-Lipschitz (Miyato et al. 2018, cited in the intro)"),
        Verdict(False, _NOT_STRONGLY_CONCAVE),
    ),
    "sn_wasserstein": (
        Verdict(True, "spectral normalisation makes each layer 1-Lipschitz (Miyato et al. 2018, cited in the intro)"),
        Verdict(False, "intro: SN alone with the Wasserstein loss fails; which condition it fails is our inference"),
    ),
    "sn_gp": (
        Verdict(True, "spectral normalisation makes each layer 1-Lipschitz (Miyato et al. 2018, cited in the intro)"),
        Verdict(False, "the intro says GP with SN helps, but the two-sided GP is not convex in D, so not a strongly "
                       "concave term either (ours; which condition it restores is left to the measured conditions)"),
    ),
    "mmd_gan": (
        Verdict(True, "a Gaussian kernel on spectrally normalised features gives a Lipschitz witness (ours)"),
        Verdict(
            False, "MMD² is smooth in μ for fixed features, but the adversarial features are not regularised (ours)"
        ),
    ),
    "r1": (
        Verdict(False, "R1 penalises ‖∇ₓD‖² on the data only: no global bound on the Lipschitz constant (ours)"),
        Verdict(True, "(γ/2)·E_data ‖∇ₓD‖² is a convex quadratic in D, zero-centred: locally convergent on the "
                      "Dirac-GAN (Mescheder et al. 2018, Theorem 4.1); a strongly concave term is our reading"),
    ),
    "smoothed": (
        Verdict(True, "spectrally normalised feature network and a penalised RKHS readout (ours)"),
        Verdict(True, "(λ/2)‖f‖²_H is strongly concave in f: the maximiser moves 1/λ-Lipschitz in μ (ours, gan.md)"),
    ),
}


def _verdicts(variant: str, activation: str) -> dict[str, Verdict]:
    if activation not in ACTIVATIONS:
        raise ValueError(f"unknown activation {activation!r}; known: {', '.join(ACTIVATIONS)}")
    smooth = activation in SMOOTH_ACTIVATIONS
    # The λ sweep of the smoothed GAN: every λ > 0 gives a strongly concave term, with a 1/λ-Lipschitz maximiser.
    family = "smoothed" if variant.startswith("smoothed_lambda_") else variant
    lipschitz, in_distribution = _DISCRIMINATOR_VERDICTS[family]
    if variant == "non_saturating":
        smooth_discriminator = Verdict(False, "unconstrained weights leave the discriminator's curvature unbounded")
    elif smooth:
        smooth_discriminator = Verdict(True, _SMOOTH_ACTIVATION)
    else:
        smooth_discriminator = Verdict(False, _RELU_NOT_SMOOTH)
    smooth_generator = (
        Verdict(True, f"{activation} is C¹ with bounded derivative (ours)")
        if smooth
        else Verdict(False, _RELU_NOT_SMOOTH)
    )
    return {
        LIPSCHITZ_DISCRIMINATOR.name: lipschitz,
        SMOOTH_DISCRIMINATOR.name: smooth_discriminator,
        SMOOTH_IN_DISTRIBUTION.name: in_distribution,
        SMOOTH_GENERATOR.name: smooth_generator,
    }


VARIANT_CONDITIONS: dict[tuple[str, str], dict[str, Verdict]] = {
    (variant, activation): _verdicts(variant, activation) for variant in VARIANTS for activation in ACTIVATIONS
}


def conditions_table(activations: tuple[str, ...] = ("relu", "softplus")) -> pd.DataFrame:
    """One row per (variant, activation): a boolean column per condition, ``meets_all``, and the reasons."""
    rows = []
    for variant in VARIANTS:
        for activation in activations:
            verdicts = _verdicts(variant, activation)
            row = {"variant": variant, "activation": activation}
            row.update({name: verdict.met for name, verdict in verdicts.items()})
            row["meets_all"] = all(verdict.met for verdict in verdicts.values())
            row["reasons"] = "; ".join(f"{name}: {verdict.reason}" for name, verdict in verdicts.items())
            rows.append(row)
    return pd.DataFrame(rows)
