"""The Dirac-GAN (Mescheder, Geiger & Nowozin, ICML 2018): the update's Jacobian against closed forms, and the
published verdicts reproduced from our code."""

import numpy as np
import pytest

from dltheory.gan import dirac

RATES = np.geomspace(1e-3, 0.1, 5)


def test_the_unregularised_field_has_imaginary_eigenvalues_at_the_equilibrium():
    # Lemma 2.2: eigenvalues ±f'(0)i, f'(0) = 1/2 for the (non-saturating) GAN loss; simultaneous GD's update is
    # I + hJ, so its eigenvalues are 1 ± h/2 i and its spectral radius sqrt(1 + h²/4) > 1.
    for rate in RATES:
        jacobian = dirac.update_jacobian(dirac.VARIANTS["non_saturating"], rate)
        np.testing.assert_allclose(jacobian, [[1.0, rate / 2], [-rate / 2, 1.0]], atol=1e-9)
        assert dirac.spectral_radius(dirac.VARIANTS["non_saturating"], rate) == pytest.approx(
            np.sqrt(1 + rate**2 / 4), abs=1e-9)
        # Lemma 2.4: alternating GD keeps the eigenvalues on the unit circle.
        assert dirac.spectral_radius(dirac.VARIANTS["non_saturating"], rate, "alternating") == pytest.approx(1.0,
                                                                                                           abs=1e-8)


def test_r1_moves_the_eigenvalues_into_the_left_half_plane():
    # J = [[0, 1/2], [-1/2, -γ]]: eigenvalues (-γ ± sqrt(γ² - 1)) / 2, both negative; I + hJ contracts for small h.
    gamma = dirac.R1_WEIGHT
    rate = 1e-2
    jacobian = dirac.update_jacobian(dirac.VARIANTS["r1"], rate)
    field = (jacobian - np.eye(2)) / rate
    np.testing.assert_allclose(field, [[0.0, 0.5], [-0.5, -gamma]], atol=1e-7)
    expected = 1 + rate * (-gamma + np.sqrt(gamma**2 - 1)) / 2
    assert dirac.spectral_radius(dirac.VARIANTS["r1"], rate) == pytest.approx(expected, abs=1e-9)
    assert dirac.spectral_radius(dirac.VARIANTS["r1"], 0.5) > 1  # too large a rate: 1 - hγ < -1


def test_trajectories_match_the_published_pictures():
    steps = 3000
    # Unregularised: simultaneous GD never reaches the data. (The non-saturating loss damps large orbits, so from
    # (1, 1) it spirals in, onto a cycle where that damping and the update's expansion balance.)
    ns = dirac.trajectory(dirac.VARIANTS["non_saturating"], 0.1, steps)
    assert not dirac.converges(ns, 1e-3) and np.linalg.norm(ns[-500:], axis=1).min() > 0.1
    # R1 converges at a small rate; the smoothed GAN (R1-like on the Wasserstein loss) too.
    assert dirac.converges(dirac.trajectory(dirac.VARIANTS["r1"], 0.1, steps), 1e-3)
    assert dirac.converges(dirac.trajectory(dirac.VARIANTS["smoothed"], 0.1, steps), 1e-3)
    # WGAN-GP overshoots: the critic is pushed to |ψ| = 1, the generator runs past the data and does not come back.
    gp = dirac.trajectory(dirac.VARIANTS["wgan_gp"], 0.01, steps, mode="alternating", critic_steps=5)
    assert not dirac.converges(gp, 1e-3) and abs(gp[-1, 0]) > 1
    # Spectral normalisation alone: the critic gets no gradient, the generator moves at unit speed for ever.
    sn = dirac.trajectory(dirac.VARIANTS["sn_wasserstein"], 0.1, 100)
    assert sn[-1, 0] == pytest.approx(1.0 + 10.0) and sn[-1, 1] == 1.0


def test_weight_clipping_keeps_the_critic_in_its_box():
    points = dirac.trajectory(dirac.VARIANTS["wgan_clip"], 0.1, 500, mode="alternating")
    assert np.abs(points[:, 1]).max() <= dirac.WEIGHT_CLIP and not dirac.converges(points, 1e-3)


def test_a_blown_up_trajectory_is_frozen_not_raised():
    points = dirac.trajectory(dirac.VARIANTS["r1"], 1.0, 2000)
    assert np.isfinite(points).all() and np.abs(points[-1]).max() > 1e5
    with pytest.raises(ValueError, match="mode is 'jacobi'"):
        dirac.step(dirac.VARIANTS["r1"], 0.0, 0.0, 0.1, mode="jacobi")


def test_dirac_claims_are_closed_form_verdicts_without_interval_or_replicates():
    table = dirac.dirac_table([1e-3, 0.1], 200, 1e-3, variants=["non_saturating", "r1"])
    claims = {c.id: c for c in dirac.dirac_claims(table, 200)}
    assert set(claims) == {"gan.dirac.non_saturating", "gan.dirac.r1"} and all(c.holds for c in claims.values())
    assert all(c.interval is None and c.replicates is None and c.diagnosis == "" for c in claims.values())
