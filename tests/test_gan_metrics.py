"""GAN stability data and metrics (issue 4): targets with known geometry, distances with known answers."""

import numpy as np
import pytest

from dltheory.gan.data import digits_images, grid_modes, grid_of_gaussians, ring_modes, ring_of_gaussians
from dltheory.gan.metrics import (
    frechet_distance,
    mmd_squared,
    mode_statistics,
    wasserstein1_assignment,
    wasserstein1_exact,
    wasserstein1_exact_many,
)


def test_ring_points_lie_at_radius_2_with_spread_0_02_around_their_modes():
    points, labels = ring_of_gaussians(8000, np.random.default_rng(0))
    offsets = points - ring_modes()[labels]
    assert points.shape == (8000, 2) and labels.shape == (8000,)
    assert np.linalg.norm(points, axis=1).mean() == pytest.approx(2.0, abs=0.01)
    assert offsets.std(axis=0) == pytest.approx([0.02, 0.02], rel=0.05)
    assert np.abs(offsets.mean(axis=0)).max() < 0.002


def test_ring_labels_are_balanced_within_3_percent_over_8000_samples():
    _, labels = ring_of_gaussians(8000, np.random.default_rng(1))
    counts = np.bincount(labels, minlength=8)
    assert np.all(np.abs(counts - 1000) <= 30)


def test_ring_modes_are_8_points_on_the_circle_of_radius_2():
    modes = ring_modes()
    assert modes.shape == (8, 2)
    assert np.linalg.norm(modes, axis=1) == pytest.approx(np.full(8, 2.0))
    assert modes[0] == pytest.approx([2.0, 0.0])


def test_the_same_generator_seed_gives_the_same_ring_sample():
    first = ring_of_gaussians(100, np.random.default_rng(7))[0]
    assert np.array_equal(first, ring_of_gaussians(100, np.random.default_rng(7))[0])


def test_grid_has_25_modes_at_minus_4_to_4_in_steps_of_2():
    modes = grid_modes()
    assert modes.shape == (25, 2)
    assert sorted(set(modes[:, 0])) == [-4.0, -2.0, 0.0, 2.0, 4.0]
    points, labels = grid_of_gaussians(2500, np.random.default_rng(2))
    assert np.bincount(labels, minlength=25).tolist() == [100] * 25
    assert np.linalg.norm(points - modes[labels], axis=1).max() < 0.05 * 6


def test_digits_are_1797_images_of_64_pixels_scaled_to_minus_1_plus_1():
    images, labels = digits_images()
    assert images.shape == (1797, 64) and images.dtype == np.float32
    assert images.min() == -1.0 and images.max() == 1.0
    assert labels.shape == (1797,) and set(labels.tolist()) == set(range(10))


def test_w1_of_a_sample_with_itself_is_0():
    x = np.random.default_rng(3).standard_normal((200, 2))
    assert wasserstein1_exact(x, x) == pytest.approx(0.0, abs=1e-12)


def test_w1_of_a_translated_sample_is_the_translation_length():
    x = np.random.default_rng(4).standard_normal((300, 2))
    assert wasserstein1_exact(x, x + np.array([0.7, 0.0])) == pytest.approx(0.7, abs=1e-12)
    assert wasserstein1_exact(x, x + np.array([-2.5, 0.0])) == pytest.approx(2.5, abs=1e-12)


def test_w1_is_symmetric_and_matches_a_hand_computed_pair():
    rng = np.random.default_rng(5)
    x, y = rng.standard_normal((150, 2)), rng.standard_normal((150, 2)) + 1.0
    assert wasserstein1_exact(x, y) == pytest.approx(wasserstein1_exact(y, x), abs=1e-12)
    # {0, 1} against {1, 3} on a line: best matching 0→1, 1→3 or 0→3, 1→1, both cost 3 in total.
    assert wasserstein1_exact([[0.0], [1.0]], [[3.0], [1.0]]) == pytest.approx(1.5)


def test_network_simplex_w1_equals_the_assignment_w1_on_a_drifted_generator():
    # The case where the assignment solver is slow (nearly tied costs): the two solvers must still agree.
    rng = np.random.default_rng(8)
    ring = ring_of_gaussians(1000, rng)[0]
    drifted = np.array([10.0, 10.0]) + 0.5 * rng.standard_normal((1000, 2))
    collapsed = 0.01 * rng.standard_normal((1000, 2))
    for fake in (drifted, collapsed):
        assert wasserstein1_exact(fake, ring) == pytest.approx(wasserstein1_assignment(fake, ring), rel=1e-10)
    assert wasserstein1_exact(collapsed, ring) == pytest.approx(2.0, abs=0.02)  # every point is 2 from the origin


@pytest.mark.parametrize("threads", [1, 2, 4])
def test_w1_of_many_pairs_on_threads_is_the_serial_w1_exactly(threads):
    rng = np.random.default_rng(12)
    pairs = [(rng.normal(size=(200, 2)), rng.normal(shift, 1.0, size=(200, 2))) for shift in (0.0, 0.5, 1.0, 3.0, 9.0)]
    serial = [wasserstein1_exact(x, y) for x, y in pairs]
    assert wasserstein1_exact_many(pairs, threads) == serial  # bitwise, in order
    assert serial[-1] == pytest.approx(9.0 * np.sqrt(2), rel=0.05)  # the far cloud: its shift's length, 12.7


def test_w1_of_unequal_sizes_raises_naming_both_sizes():
    with pytest.raises(ValueError, match="10 and 12"):
        wasserstein1_exact(np.zeros((10, 2)), np.zeros((12, 2)))


def test_mmd2_is_near_0_for_one_distribution_and_clearly_positive_for_a_shift():
    rng = np.random.default_rng(6)
    bandwidths = [0.5, 1.0, 2.0]
    x, y = rng.standard_normal((1500, 2)), rng.standard_normal((1500, 2))
    same = mmd_squared(x, y, bandwidths)
    shifted = mmd_squared(x, y + np.array([1.0, 0.0]), bandwidths)
    assert abs(same) < 0.005
    assert shifted > 0.1
    assert mmd_squared(x, x[::-1], bandwidths) == pytest.approx(mmd_squared(x[::-1], x, bandwidths))


def test_mode_statistics_of_points_at_the_modes_have_quality_1_and_coverage_1():
    modes = ring_modes()
    stats = mode_statistics(np.repeat(modes, 5, axis=0), modes, std=0.02)
    assert stats["high_quality_fraction"] == 1.0
    assert stats["modes_covered"] == 8 and stats["mode_coverage"] == 1.0
    assert stats["counts"].tolist() == [5] * 8


def test_mode_statistics_of_samples_from_3_modes_cover_3_of_8():
    rng = np.random.default_rng(8)
    modes = ring_modes()
    samples = modes[rng.integers(0, 3, 600)] + 0.02 * rng.standard_normal((600, 2))
    stats = mode_statistics(samples, modes, std=0.02)
    assert stats["modes_covered"] == 3
    assert stats["mode_coverage"] == pytest.approx(3 / 8)
    assert stats["high_quality_fraction"] > 0.98  # P(‖N(0, I₂)‖ ≤ 3) = 1 − e^{−4.5} ≈ 0.989
    assert stats["counts"][3:].sum() == 0


def test_mode_statistics_min_count_demands_that_many_good_samples():
    modes = ring_modes()
    samples = np.concatenate([np.repeat(modes[:2], 10, axis=0), modes[2:4]])
    assert mode_statistics(samples, modes, std=0.02)["modes_covered"] == 4
    assert mode_statistics(samples, modes, std=0.02, min_count=10)["modes_covered"] == 2


def test_mode_statistics_of_far_away_points_have_quality_0():
    stats = mode_statistics(np.full((50, 2), 10.0), ring_modes(), std=0.02)
    assert stats["high_quality_fraction"] == 0.0
    assert stats["modes_covered"] == 0 and stats["mode_coverage"] == 0.0


def test_frechet_distance_of_identical_features_is_0():
    features = np.random.default_rng(9).standard_normal((500, 8))
    assert frechet_distance(features, features) == pytest.approx(0.0, abs=1e-6)


def test_frechet_distance_of_unit_gaussians_is_the_squared_mean_shift():
    rng = np.random.default_rng(10)
    mu = np.array([1.0, -1.0, 0.5, 0.0])  # ‖μ‖² = 2.25
    a = rng.standard_normal((20000, 4))
    b = rng.standard_normal((20000, 4)) + mu
    assert frechet_distance(a, b) == pytest.approx(2.25, abs=0.05)
