"""The Dirac-GAN: a GAN whose convergence is known (Mescheder, Geiger & Nowozin, ICML 2018, Sec. 2).

The data are a point mass at 0, the generator a point mass at θ, the discriminator linear, D_ψ(x) = ψ·x, so a GAN is
a two-dimensional dynamical system in (θ, ψ) with its equilibrium at (0, 0). What the paper proves there, and what
the claims check:

- unregularised GAN training (the standard and the non-saturating losses): the Jacobian of the gradient vector field
  at the equilibrium has eigenvalues ±f'(0)·i on the imaginary axis (Lemma 2.2); simultaneous gradient descent moves
  away from the equilibrium (Lemma 2.3) and alternating gradient descent circles it without converging (Lemma 2.4);
- WGAN (weight clipping) and WGAN-GP with a finite number of critic steps per generator step are not always locally
  convergent (Sec. 3);
- zero-centred gradient penalties, R1 = (γ/2)·E_data ‖∇ₓD‖² and R2, and instance noise make it locally convergent
  (Sec. 4, Theorem 4.1).

The variants are the project's (``dltheory.gan.variants``), written for this case by hand (ours): spectral
normalisation divides ψ by its spectral norm |ψ|, so the critic is D(x) = sign(ψ)·x and receives no gradient; the
MMD-GAN's feature is that normalised linear map and its kernel the variant's Gaussian mixture; the smoothed GAN's
penalty (λ/2)‖f‖²_H is (λ/2)·ψ², the squared RKHS norm of a linear critic under the linear kernel, which in this
case is the R1 penalty with γ = λ on the Wasserstein loss. Those verdicts have no published reference: they are ours.

Pure NumPy in float64: the vector fields are written out, the update's Jacobian is taken by central differences
(exact to ~1e-10 here, checked against the closed forms in the tests).
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from dltheory.claims import Claim
from dltheory.gan.variants import GRADIENT_PENALTY_WEIGHT, MMD_BANDWIDTHS, R1_WEIGHT, SMOOTHING_LAMBDA, WEIGHT_CLIP

SOURCE = "Mescheder, Geiger & Nowozin, ICML 2018, 'Which Training Methods for GANs do actually Converge?'"


def _sigmoid(t):
    return 0.5 * (1.0 + np.tanh(0.5 * t))


@dataclass(frozen=True)
class DiracVariant:
    """A GAN variant on the Dirac-GAN: its gradient field and, where the paper has one, the published verdict."""

    name: str
    # (θ, ψ) -> (dθ, dψ): minus the gradients of the generator's and the critic's losses (both minimised).
    field: Callable[[float, float], tuple[float, float]]
    critic_projection: Callable[[float], float] | None = None  # applied after every critic step (weight clipping)
    published_convergent: bool | None = None  # None: no published verdict (ours)
    published: str = ""
    # The field is differentiable at the equilibrium, so the update's Jacobian there (and its spectral radius) exists.
    # Not so where the critic's field holds sign(ψ) (spectral normalisation, the one-sided |ψ| of WGAN-GP's penalty).
    smooth_at_equilibrium: bool = True


def _non_saturating(theta, psi):
    # L_D = softplus(−D(0)) + softplus(D(θ)), L_G = softplus(−D(θ)); f'(0) = 1/2.
    return psi * _sigmoid(-psi * theta), -theta * _sigmoid(psi * theta)


def _wasserstein(theta, psi):
    # L_D = D(θ) − D(0) = ψθ, L_G = −ψθ.
    return psi, -theta


def _wgan_gp(theta, psi, weight=GRADIENT_PENALTY_WEIGHT):
    # The penalty λ·E(‖∇ₓD(x̂)‖ − 1)² is λ(|ψ| − 1)² at every interpolate x̂.
    return psi, -theta - 2.0 * weight * (np.abs(psi) - 1.0) * np.sign(psi)


def _spectrally_normalised(theta, psi):
    # D(x) = (ψ / |ψ|)·x: the critic's gradient in ψ is 0 (away from ψ = 0), the generator's step is constant.
    return np.sign(psi), 0.0 * psi


def _sn_hinge(theta, psi):
    # L_D = relu(1 − D(0)) + relu(1 + D(θ)), L_G = −D(θ), with D(x) = sign(ψ)·x: the same field as SN alone.
    return np.sign(psi), 0.0 * psi


def _mmd(theta, psi, bandwidths=MMD_BANDWIDTHS):
    # Feature h(x) = sign(ψ)·x (spectrally normalised), MMD² = Σ_σ 2(1 − exp(−θ²/(2σ²))), L_G = MMD², L_D = −MMD².
    gradient = sum(2.0 * theta / s**2 * np.exp(-theta**2 / (2.0 * s**2)) for s in bandwidths)
    return -gradient, 0.0 * psi


def _smoothed(theta, psi, weight=SMOOTHING_LAMBDA):
    # Wasserstein loss plus (λ/2)·ψ² on the critic.
    return psi, -theta - weight * psi


def _r1(theta, psi, weight=R1_WEIGHT):
    # Non-saturating loss plus R1 = (γ/2)·E_data ‖∇ₓD‖² = (γ/2)·ψ².
    d_theta, d_psi = _non_saturating(theta, psi)
    return d_theta, d_psi - weight * psi


VARIANTS = {
    "non_saturating": DiracVariant("non_saturating", _non_saturating, published_convergent=False,
                                   published="not convergent: Jacobian eigenvalues ±f'(0)i (Lemma 2.2), simultaneous "
                                             "GD diverges (Lemma 2.3), alternating GD circles (Lemma 2.4)"),
    "wgan_clip": DiracVariant("wgan_clip", _wasserstein, lambda psi: np.clip(psi, -WEIGHT_CLIP, WEIGHT_CLIP),
                              published_convergent=False,
                              published="not always convergent with finitely many critic steps (Sec. 3)"),
    "wgan_gp": DiracVariant("wgan_gp", _wgan_gp, published_convergent=False,
                            published="not always convergent with finitely many critic steps (Sec. 3)",
                            smooth_at_equilibrium=False),
    "sn_hinge": DiracVariant("sn_hinge", _sn_hinge, smooth_at_equilibrium=False),
    "sn_wasserstein": DiracVariant("sn_wasserstein", _spectrally_normalised, smooth_at_equilibrium=False),
    # |sign ψ| = 1, so the gradient penalty is 0: the same field as SN alone.
    "sn_gp": DiracVariant("sn_gp", _spectrally_normalised, smooth_at_equilibrium=False),
    "mmd_gan": DiracVariant("mmd_gan", _mmd),
    "smoothed": DiracVariant("smoothed", _smoothed),
    "r1": DiracVariant("r1", _r1, published_convergent=True,
                       published="locally convergent for small enough learning rates (Theorem 4.1)"),
}


def _project(variant: DiracVariant, psi):
    return variant.critic_projection(psi) if variant.critic_projection else psi


def step(variant: DiracVariant, theta: float, psi: float, rate: float, mode: str = "simultaneous",
         critic_steps: int = 1) -> tuple[float, float]:
    """One gradient-descent update of (θ, ψ): both players at once ("simultaneous"), or ``critic_steps`` critic steps
    followed by one generator step ("alternating"), every step of size ``rate``."""
    if mode == "simultaneous":
        d_theta, d_psi = variant.field(theta, psi)
        return theta + rate * d_theta, _project(variant, psi + rate * d_psi)
    if mode != "alternating":
        raise ValueError(f"mode is {mode!r}; known: simultaneous, alternating")
    for _ in range(critic_steps):
        psi = _project(variant, psi + rate * variant.field(theta, psi)[1])
    return theta + rate * variant.field(theta, psi)[0], psi


def update_jacobian(variant: DiracVariant, rate: float, mode: str = "simultaneous", critic_steps: int = 1,
                    at: tuple[float, float] = (0.0, 0.0), eps: float = 1e-6) -> np.ndarray:
    """The 2 x 2 Jacobian of :func:`step` at ``at`` (the equilibrium), by central differences in float64."""
    jacobian = np.empty((2, 2))
    for j in range(2):
        offset = np.zeros(2)
        offset[j] = eps
        plus = np.array(step(variant, *(np.array(at) + offset), rate, mode, critic_steps))
        minus = np.array(step(variant, *(np.array(at) - offset), rate, mode, critic_steps))
        jacobian[:, j] = (plus - minus) / (2.0 * eps)
    return jacobian


def spectral_radius(variant: DiracVariant, rate: float, mode: str = "simultaneous", critic_steps: int = 1) -> float:
    """ρ of the update's Jacobian at the equilibrium: < 1 locally convergent, = 1 circling, > 1 repelling."""
    return float(np.abs(np.linalg.eigvals(update_jacobian(variant, rate, mode, critic_steps))).max())


def trajectories(variant: DiracVariant, rates, steps: int, start: tuple[float, float] = (1.0, 1.0),
                 mode: str = "simultaneous", critic_steps: int = 1) -> np.ndarray:
    """The iterates (steps + 1, rates, 2) of (θ, ψ) from ``start``, one trajectory per learning rate (vectorised);
    a trajectory that blows up (non-finite, or beyond 1e6) is frozen at its last point, not raised."""
    rates = np.asarray(rates, dtype=float)
    points = np.empty((steps + 1, len(rates), 2))
    theta = np.full(len(rates), float(start[0]))
    psi = np.full(len(rates), float(start[1]))
    psi = _project(variant, psi)
    points[0, :, 0], points[0, :, 1] = theta, psi
    frozen = np.zeros(len(rates), dtype=bool)
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(1, steps + 1):
            new_theta, new_psi = step(variant, theta, psi, rates, mode, critic_steps)
            size = np.maximum(abs(new_theta), abs(new_psi))
            frozen |= ~(np.isfinite(new_theta) & np.isfinite(new_psi)) | (size > 1e6)
            theta, psi = np.where(frozen, theta, new_theta), np.where(frozen, psi, new_psi)
            points[t, :, 0], points[t, :, 1] = theta, psi
    return points


def trajectory(variant: DiracVariant, rate: float, steps: int, start: tuple[float, float] = (1.0, 1.0),
               mode: str = "simultaneous", critic_steps: int = 1) -> np.ndarray:
    """The iterates (steps + 1, 2) of (θ, ψ) from ``start`` at one learning rate (see :func:`trajectories`)."""
    return trajectories(variant, [rate], steps, start, mode, critic_steps)[:, 0]


def converges(points: np.ndarray, tolerance: float) -> bool:
    """The generator ends on the data (|θ| < ``tolerance``) and the last update moves neither player by more than
    ``tolerance``: a stationary point with the generator at the data. (Where the critic gets no gradient, as under
    spectral normalisation, ψ keeps its start value: the verdict is about θ and stationarity.)"""
    return bool(abs(points[-1, 0]) < tolerance and np.abs(points[-1] - points[-2]).max() < tolerance)


MODES = (("simultaneous", 1), ("alternating", 1), ("alternating", 5))  # (update, critic steps per generator step)
STABLE_MARGIN = 1e-9  # ρ below 1 − this counts as a contraction; ρ = 1 within rounding is circling


def dirac_table(rates, steps: int, tolerance: float, start=(1.0, 1.0), variants=None) -> pd.DataFrame:
    """Per (variant, update, critic steps, rate): the spectral radius of the update at the equilibrium (NaN where the
    field is not differentiable there), whether the trajectory from ``start`` converges within ``steps`` steps
    (:func:`converges` with ``tolerance``), its final distance to the data |θ| and whether it blew up."""
    rows = []
    for name in variants or VARIANTS:
        variant = VARIANTS[name]
        for mode, critic_steps in MODES:
            paths = trajectories(variant, rates, steps, start, mode, critic_steps)
            for i, rate in enumerate(rates):
                points = paths[:, i]
                rho = spectral_radius(variant, rate, mode, critic_steps) if variant.smooth_at_equilibrium else np.nan
                rows.append({"variant": name, "mode": mode, "critic_steps": critic_steps, "rate": float(rate),
                             "spectral_radius": rho, "converged": converges(points, tolerance),
                             "final_theta": float(abs(points[-1, 0])),
                             "blew_up": bool(np.abs(points[-1]).max() > 1e5)})
    return pd.DataFrame(rows)


def locally_convergent(rows: pd.DataFrame) -> pd.Series:
    """Per row: the update contracts at the equilibrium (ρ < 1); where ρ does not exist, the trajectory converged."""
    contracts = rows["spectral_radius"] < 1.0 - STABLE_MARGIN
    return contracts.where(rows["spectral_radius"].notna(), rows["converged"]).astype(bool)


def dirac_claims(table: pd.DataFrame, steps: int, start=(1.0, 1.0)) -> list[Claim]:
    """One claim per variant with a published verdict: our verdict on the Dirac-GAN equals the paper's.

    The verdicts, fixed before any run: "not convergent" holds when no (update, rate) of the grid is locally
    convergent (:func:`locally_convergent`); "not always convergent" when at least one is not; "convergent for small
    enough rates" when every update is locally convergent at the grid's smallest rate.
    """
    claims = []
    table = table.assign(local=locally_convergent(table))
    smallest = table["rate"].min()
    for name, variant in VARIANTS.items():
        if variant.published_convergent is None or name not in set(table["variant"]):
            continue
        rows = table[table["variant"] == name]
        settings = len(rows)
        convergent = int(rows["local"].sum())
        rho = rows["spectral_radius"]
        rho_text = (f"; spectral radius {rho.min():.6f} to {rho.max():.6f}" if rho.notna().any()
                    else "; no spectral radius (the field is not differentiable at the equilibrium)")
        measured = f"locally convergent in {convergent} of {settings} (update, rate) settings{rho_text}"
        if name == "r1":
            at_smallest = rows[rows["rate"] == smallest]
            holds = bool(at_smallest["local"].all())
            expected = f"locally convergent with every update at the smallest rate {smallest:g}"
        elif name == "wgan_gp":
            holds = convergent < settings
            expected = "not locally convergent in at least one (update, rate) setting"
        else:
            holds = convergent == 0
            expected = "not locally convergent in any (update, rate) setting"
        claims.append(Claim(
            id=f"gan.dirac.{name}",
            source=f"{SOURCE}, Dirac-GAN (Sec. 2-4)",
            statement=f"On the Dirac-GAN, {name.replace('_', ' ')}: {variant.published}.",
            measured=measured,
            expected=expected,
            tolerance=STABLE_MARGIN,
            holds=holds,
            # A deterministic verdict over the (update, rate) grid: no interval, no replicates. A known answer that
            # does not come out is a bug of ours until shown otherwise.
            diagnosis="" if holds else "bug",
            detail=("" if holds else "Bug: the published verdict does not come out of the written-out field. ")
                   + ("Known-answer case: the variants' fields are written out for a point-mass generator and a linear "
                    "critic; updates simultaneous, and alternating with 1 and 5 critic steps, from (θ, ψ) = "
                    f"{tuple(float(x) for x in start)}, {steps} steps (ours). ρ < 1 − {STABLE_MARGIN:g} counts as "
                    "a contraction; ρ = 1 within rounding (alternating updates) is circling. Chosen after a pilot "
                    "of this same computation: the rate grid, the trajectory tolerance 1e-3 (used from the first "
                    "pilot, never moved) and the verdict rules (written after the pilot's table had been seen)."),
        ))
    return claims

