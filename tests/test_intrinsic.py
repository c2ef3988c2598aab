"""Specifications of the supports, targets and baselines of Nakada & Imaizumi, JMLR 21(174), 2020, Sec. 6.

Sim 6.1 draws X uniformly on a d-sphere in [0, 1]^128; Sim 6.2 on a union of an l^{1/2} ball and an l^2
ball in [0, 1]^5, which is not a manifold. The supports must be what they claim (on the set, in the
cube, of dimension d), the targets must be the paper's formulas, and the Nadaraya-Watson baseline must
tune its bandwidth by exact leave-one-out CV.
"""

import math

import numpy as np
import pytest

from dltheory.intrinsic.dimension import mle_intrinsic_dimension, two_nn_intrinsic_dimension
from dltheory.intrinsic.estimators import (
    PAPER_BANDWIDTHS,
    NadarayaWatsonRegressor,
    make_intrinsic_baseline,
)
from dltheory.intrinsic.supports import (
    BallUnion,
    EmbeddedSphere,
    lp_quasi_norm,
    uniform_lp_ball,
)
from dltheory.intrinsic.targets import (
    TARGETS,
    make_target,
    nakada_ball_piece,
    nakada_ball_target,
    nakada_sphere_piece,
    nakada_sphere_target,
)
from dltheory.nonsmooth.estimators import KNearestNeighborsRegressor

SPHERE_DIMS = [4, 16, 64, 100]  # N Sim 6.1, D = 128
BALL_DIMS = [(5, 2), (5, 4)]  # N Sim 6.2


def rng(seed=0):
    return np.random.default_rng(seed)


# --- Sim 6.1: the embedded sphere --------------------------------------------------------------------------


@pytest.mark.parametrize("d", SPHERE_DIMS)
def test_sphere_points_lie_on_the_d_sphere_inside_the_cube(d):
    sphere = EmbeddedSphere.from_seed(128, d, seed=d)
    X = sphere.sample(2000, rng(1))
    assert X.shape == (2000, 128)
    assert np.max(sphere.distance_to_support(X)) <= 1e-9
    assert X.min() >= 0.0 and X.max() <= 1.0
    # The frame is a random rotation, so every coordinate varies (none is stuck at the centre 0.5).
    assert np.min(X.std(axis=0)) > 0.01


def test_sphere_distance_is_zero_only_on_the_sphere():
    sphere = EmbeddedSphere.from_seed(128, 4, seed=0)
    on = sphere.sample(10, rng(1))
    # Pushed 0.1 outward along the radius, or 0.1 off the flat in a normal direction: distance 0.1.
    outward = sphere.centre + (on - sphere.centre) * (1 + 0.1 / sphere.radius)
    normal = np.linalg.qr(np.column_stack([sphere.frame, rng(2).standard_normal(128)]))[0][:, -1]
    assert np.allclose(sphere.distance_to_support(outward), 0.1, atol=1e-12)
    assert np.allclose(sphere.distance_to_support(on + 0.1 * normal), 0.1, atol=1e-12)
    assert sphere.distance_to_support(sphere.centre[None])[0] == pytest.approx(0.5, abs=1e-12)


def test_sphere_is_uniform_second_moment_of_coordinates_is_identity_over_d_plus_1():
    sphere = EmbeddedSphere.from_seed(128, 4, seed=0)
    u = (sphere.sample(20000, rng(1)) - sphere.centre) @ sphere.frame / sphere.radius
    # Uniform on S^4: E u = 0 and E u u' = I / 5. At n = 20,000 the SD of each mean is sqrt(0.2 / n) =
    # 0.0032 and of each second moment <= 0.0015; the bounds are 5 and 6.5 SDs.
    assert np.max(np.abs(u.T @ u / len(u) - np.eye(5) / 5)) < 0.01
    assert np.max(np.abs(u.mean(axis=0))) < 0.016


def test_sphere_frame_is_orthonormal_and_fixed_by_the_seed():
    a, b = EmbeddedSphere.from_seed(128, 16, seed=3), EmbeddedSphere.from_seed(128, 16, seed=3)
    assert np.array_equal(a.frame, b.frame)
    assert np.allclose(a.frame.T @ a.frame, np.eye(17), atol=1e-12)
    assert not np.allclose(a.frame, EmbeddedSphere.from_seed(128, 16, seed=4).frame)


def test_sphere_needs_d_plus_1_at_most_D():
    with pytest.raises(ValueError, match="intrinsic_dim"):
        EmbeddedSphere.from_seed(128, 128, seed=0)
    with pytest.raises(ValueError, match="intrinsic_dim"):
        EmbeddedSphere(5, 5, np.eye(5))
    EmbeddedSphere.from_seed(128, 127, seed=0)  # S^127 in R^128 fits exactly
    # Coordinate i moves by at most radius |q_i| (q_i the frame's row): a random frame's rows are short (~0.2 for
    # d = 4 in R^128), so radius 0.6 still fits, 5 does not; repeated axes move each coordinate by the full radius.
    EmbeddedSphere.from_seed(128, 4, seed=0, radius=0.6)
    with pytest.raises(ValueError, match="radius"):
        EmbeddedSphere.from_seed(128, 4, seed=0, radius=5.0)
    with pytest.raises(ValueError, match="radius"):
        EmbeddedSphere.repeated_axes(128, 4, radius=0.6)


@pytest.mark.parametrize("D, d", [(128, 4), (16, 4), (128, 8), (10, 2)])
def test_repeated_axes_sphere_is_round_inside_the_cube_and_every_embedded_axis_crosses_one_half(D, d):
    sphere = EmbeddedSphere.repeated_axes(D, d, radius=0.5)
    copies = D // (d + 1)
    assert np.allclose(sphere.frame.T @ sphere.frame, np.eye(d + 1))
    assert sphere.radius == pytest.approx(0.5 * np.sqrt(copies))
    X = sphere.sample(4000, rng(1))
    assert np.max(sphere.distance_to_support(X)) <= 1e-9 and X.min() >= 0 and X.max() <= 1
    carried = copies * (d + 1)
    # Embedded coordinate j is 0.5 + 0.5 u_{j mod (d+1)}: copies agree, and each spreads over both sides of 0.5.
    np.testing.assert_allclose(X[:, :carried], np.tile(X[:, : d + 1], copies), atol=1e-12)
    assert np.all((X[:, :carried] < 0.5).mean(axis=0) > 0.4) and np.all((X[:, :carried] > 0.5).mean(axis=0) > 0.4)
    assert np.allclose(X[:, carried:], 0.5)


# Levina-Bickel MLE (k = 10..20) on n = 3,000 points, seeds 0-2: S^4 gives 3.96-3.98; S^16 gives 13.3-13.4.
# The S^16 value is biased low by curvature, not by an error: 3,000 points put the 10th-20th neighbours
# 0.9-1.0 rad apart on S^16, where a cap's area grows like chord^12.8-13.2 (the exponent the estimator
# measures). The window [12.8, 14.0] still fails for a sphere of the wrong dimension: S^14 gives 12.1 and
# S^18 gives 14.7. S^64 and S^100 (36 and 48 at n = 4,000) are not tested: no tolerance would be honest.
@pytest.mark.parametrize("d, low, high", [(4, 3.7, 4.3), (16, 12.8, 14.0)])
def test_nn_dimension_of_the_sphere_is_d_for_small_d(d, low, high):
    X = EmbeddedSphere.from_seed(128, d, seed=0).sample(3000, rng(0))
    assert low <= mle_intrinsic_dimension(X) <= high


def test_two_nn_dimension_of_the_4_sphere_is_4():
    # Measured 3.88-4.14 over 10 draws of 2,000-4,000 points: SD ~0.1 from using two neighbours only.
    X = EmbeddedSphere.from_seed(128, 4, seed=0).sample(3000, rng(0))
    assert abs(two_nn_intrinsic_dimension(X) - 4) <= 0.4


# --- Sim 6.2: the union of an l^{1/2} ball and an l^2 ball ------------------------------------------------


@pytest.mark.parametrize("p", [0.5, 2.0])
@pytest.mark.parametrize("d", [2, 4])
def test_lp_sampler_is_uniform_mass_of_the_half_size_ball_is_half_to_the_d(p, d):
    T = uniform_lp_ball(40000, d, p, rng(d))
    radius = lp_quasi_norm(T, p)
    assert radius.max() <= 1.0 + 1e-12
    # Volume scales like r^d: 0.25 for d = 2, 0.0625 for d = 4 (binomial SD <= 0.0022 at n = 40,000).
    assert np.mean(radius <= 0.5) == pytest.approx(0.5**d, abs=0.015)


def test_lp_sampler_is_uniform_in_angle_for_the_half_ball():
    # In the 2-d l^{1/2} ball {sqrt|t1| + sqrt|t2| <= 1} of area 2/3, the part with |t1| > 1/4 has area
    # 4 * int_{1/4}^1 (1 - sqrt s)^2 ds = 5/24: a uniform point falls there with probability 5/16.
    T = uniform_lp_ball(40000, 2, 0.5, rng(0))
    assert np.mean(np.abs(T[:, 0]) > 0.25) == pytest.approx(5 / 16, abs=0.012)


@pytest.mark.parametrize("D, d", BALL_DIMS)
def test_ball_union_points_lie_in_one_ball_inside_the_cube(D, d):
    union = BallUnion.from_seed(D, d, seed=0)
    X, component = union.sample_with_components(4000, rng(1))
    inside = union.membership(X, tol=1e-9)
    assert np.all(inside.any(axis=1))
    assert np.all(inside[np.arange(4000), component])  # each point is in the ball it was drawn from
    assert np.max(union.distance_to_support(X)) <= 1e-9
    assert X.min() >= 0.0 and X.max() <= 1.0
    # Equal mixture weights: binomial SD 0.008 at n = 4,000. Each ball's flat has measure zero in the
    # other's, so almost no point is in both.
    assert np.mean(component == 0) == pytest.approx(0.5, abs=0.04)
    assert np.mean(inside[:, 0]) == pytest.approx(0.5, abs=0.04)
    assert np.mean(inside.all(axis=1)) < 0.01


@pytest.mark.parametrize("D, d", BALL_DIMS)
def test_ball_union_balls_are_an_l_half_ball_and_an_l2_ball(D, d):
    union = BallUnion.from_seed(D, d, seed=0)
    assert [ball.p for ball in union.balls] == [0.5, 2.0]
    X = union.balls[0].sample(2000, rng(2))
    residual, half_norm = union.balls[0].coordinates(X)
    assert np.max(residual) < 1e-12 and np.max(half_norm) <= 1 + 1e-12
    # The l^{1/2} ball is a star with cusps on the axes, inside the l^1 ball (|t|_1 <= |t|_{1/2}); the l^2
    # ball is not: a fraction 1 - 2/pi = 0.36 (d = 2) or 1 - (2/3)/(pi^2/2) = 0.86 (d = 4) lies outside it.
    t_half = (X - union.balls[0].centre) @ union.balls[0].frame / union.balls[0].radius
    Y = union.balls[1].sample(2000, rng(3))
    t_two = (Y - union.balls[1].centre) @ union.balls[1].frame / union.balls[1].radius
    assert np.max(lp_quasi_norm(t_half, 1.0)) <= 1 + 1e-12
    assert np.mean(lp_quasi_norm(t_two, 1.0) > 1) > 0.3


@pytest.mark.parametrize("D, d, crossing_dim", [(5, 2, 0), (5, 4, 3)])
def test_ball_union_balls_intersect_so_the_union_is_not_a_manifold(D, d, crossing_dim):
    union = BallUnion.from_seed(D, d, seed=0)
    centre = union.balls[0].centre
    assert union.membership(centre[None]).tolist() == [[True, True]]
    # The two d-flats through the centre cross in a flat of dimension 2d - D (or 0): a point at 0.02 from
    # the centre along it lies in both balls, when that flat is not just the centre (in ball coordinates
    # |t|_2 = 0.04, so |t|_{1/2} <= d^{3/2} |t|_2 = 0.32 < 1).
    frames = np.column_stack([union.balls[0].frame, -union.balls[1].frame])
    singular = np.linalg.svd(frames, compute_uv=True)
    null_dim = 2 * d - int(np.sum(singular[1] > 1e-10))
    assert null_dim == crossing_dim
    if crossing_dim:
        a = singular[2][-1, :d]  # coordinates, in the first frame, of a unit-speed direction of the crossing
        point = centre + 0.02 * union.balls[0].frame @ (a / np.linalg.norm(a))
        assert union.membership(point[None]).tolist() == [[True, True]]


# Levina-Bickel MLE (k = 10..20), n = 3,000, seeds 0-4, n = 1,000-4,000: (5, 2) gives 1.93-1.98 and
# (5, 4) gives 3.57-3.72. Both are low because points within a neighbourhood radius of a ball's boundary
# see less volume than r^d, and in d = 4 with 1,500 points per ball that boundary layer is a large share;
# the l^{1/2} ball adds its cusps, thin spikes that look lower-dimensional (3.55 on its own for d = 4,
# against 3.70 for the l^2 ball). The windows exclude d - 1 on the low side.
@pytest.mark.parametrize("D, d, low, high", [(5, 2, 1.85, 2.15), (5, 4, 3.45, 4.15)])
def test_nn_dimension_of_the_ball_union_is_d(D, d, low, high):
    X = BallUnion.from_seed(D, d, seed=0).sample(3000, rng(0))
    assert low <= mle_intrinsic_dimension(X) <= high


def test_ball_union_needs_d_at_most_D():
    with pytest.raises(ValueError, match="intrinsic_dim"):
        BallUnion.from_seed(5, 6, seed=0)
    with pytest.raises(ValueError, match="intrinsic_dim"):
        BallUnion.from_seed(5, 0, seed=0)


def test_dimension_estimator_refuses_duplicates_and_bad_k():
    X = rng(0).uniform(size=(100, 3))
    with pytest.raises(ValueError, match="duplicate"):
        mle_intrinsic_dimension(np.vstack([X, X[:1]]))
    with pytest.raises(ValueError, match="k"):
        mle_intrinsic_dimension(X, k=(20, 10))


# --- targets ---------------------------------------------------------------------------------------------


def test_sphere_target_at_hand_checked_points():
    # All coordinates 0.5: neighbour products 1/4 each, pieces 2 sin(pi) = 0, so f = 0.25.
    assert nakada_sphere_target(np.full((1, 128), 0.5))[0] == pytest.approx(0.25, abs=1e-12)
    # x = (0, 1, 1): products (0 + 1)/2 = 0.5; pieces 0, pi(sqrt2-1), pi(sqrt2-1) (the right formula at 1 is
    # 4pi/(sqrt2-1) (sqrt2-1)^2/2 - pi(sqrt2-1)); mean 2 pi (sqrt2-1)/3; f = 0.5 + 0.867526 = 1.367526.
    expected = 0.5 + 2 * math.pi * (math.sqrt(2) - 1) / 3
    assert expected == pytest.approx(1.367526, abs=1e-6)
    assert nakada_sphere_target(np.array([[0.0, 1.0, 1.0]]))[0] == pytest.approx(expected, abs=1e-12)
    # x = 0.25: 2 sin(pi/2) = 2 (one coordinate, so no products).
    assert nakada_sphere_target(np.array([[0.25]]))[0] == pytest.approx(2.0, abs=1e-12)


def test_ball_target_at_hand_checked_points():
    assert nakada_ball_target(np.full((1, 5), 0.5))[0] == pytest.approx(0.25, abs=1e-12)
    # (0, 1, 1): (0 + (-1/4) + (-1/4)) / 3 = -1/6.
    assert nakada_ball_target(np.array([[0.0, 1.0, 1.0]]))[0] == pytest.approx(-1 / 6, abs=1e-12)


def one_sided_slopes(piece, t=0.5, h=1e-6):
    return (piece(t) - piece(t - h)) / h, (piece(t + h) - piece(t)) / h


def test_sphere_piece_is_c1_at_one_half_value_0_slope_minus_4pi():
    right_formula_at_half = nakada_sphere_piece(0.5 + 1e-15)
    assert nakada_sphere_piece(0.5) == pytest.approx(0.0, abs=1e-12)
    assert right_formula_at_half == pytest.approx(0.0, abs=1e-12)
    left, right = one_sided_slopes(nakada_sphere_piece)
    # Finite-difference error <= 4pi/(sqrt2-1) h = 3e-5 (the right piece's curvature).
    assert left == pytest.approx(-4 * math.pi, abs=1e-4)
    assert right == pytest.approx(-4 * math.pi, abs=1e-4)


def test_ball_piece_is_continuous_at_one_half_with_a_kink():
    assert nakada_ball_piece(0.5) == pytest.approx(0.25, abs=1e-15)
    assert nakada_ball_piece(0.5 + 1e-15) == pytest.approx(0.25, abs=1e-12)
    left, right = one_sided_slopes(nakada_ball_piece)
    assert left == pytest.approx(1.0, abs=1e-5)
    assert right == pytest.approx(-1.0, abs=1e-5)


def test_make_target_scales_and_names_unknown_targets():
    X = rng(0).uniform(size=(10, 5))
    assert set(TARGETS) == {"nakada_sphere", "nakada_ball"}
    assert np.allclose(make_target("nakada_ball", scale=3.0)(X), 3.0 * nakada_ball_target(X))
    assert np.array_equal(make_target("nakada_sphere")(X), nakada_sphere_target(X))
    with pytest.raises(ValueError, match="'nakada_cube'.*nakada_sphere, nakada_ball"):
        make_target("nakada_cube")


# --- Nadaraya-Watson and the k-NN baseline ----------------------------------------------------------------


def noisy_sine(n, seed):
    generator = rng(seed)
    x = generator.uniform(0, 10, size=(n, 1))
    return x, np.sin(x[:, 0]) + 0.5 * generator.standard_normal(n)


def test_nadaraya_watson_cv_picks_an_interior_bandwidth_and_beats_the_mean_20_fold():
    x, y = noisy_sine(400, seed=0)
    model = NadarayaWatsonRegressor().fit(x, y)
    assert PAPER_BANDWIDTHS[0] < model.bandwidth_ < PAPER_BANDWIDTHS[-1]  # 0.32 here (0.24-0.32 on seeds 0-5)
    assert model.cv_scores_.shape == (91,)
    x_test = rng(1).uniform(0, 10, size=(2000, 1))
    truth = np.sin(x_test[:, 0])
    # Measured: 40-110 times smaller than the mean predictor's error over seeds 0-5.
    assert np.mean((model.predict(x_test) - truth) ** 2) < np.mean((y.mean() - truth) ** 2) / 20


def test_nadaraya_watson_cv_is_exact_leave_one_out():
    x, y = noisy_sine(200, seed=2)
    model = NadarayaWatsonRegressor(bandwidths=[0.2, 0.5]).fit(x, y)
    for h, score in zip(model.bandwidths_, model.cv_scores_, strict=True):
        weights = np.exp(-((x - x.T) ** 2) / (2 * h**2))
        np.fill_diagonal(weights, 0.0)
        assert score == pytest.approx(np.mean((y - weights @ y / weights.sum(axis=1)) ** 2), rel=1e-10)


def test_nadaraya_watson_tiny_bandwidth_falls_back_to_the_nearest_neighbour():
    # exp(-1 / (2 * 1e-6)) underflows to 0 for every pair: without the log-sum-exp shift every weight
    # row would be 0/0; with it the estimate is the nearest training response.
    x = np.array([[0.0], [1.0], [2.0]])
    y = np.array([1.0, 2.0, 3.0])
    model = NadarayaWatsonRegressor(bandwidths=[1e-3]).fit(x, y)
    assert np.isfinite(model.cv_score_)
    # LOO: the middle point's two neighbours tie (mean 2, error 0); each end gets the middle's 2 (error 1).
    assert model.cv_score_ == pytest.approx(2 / 3)
    assert model.predict(np.array([[0.1], [1.9]])).tolist() == [1.0, 3.0]


@pytest.mark.parametrize("bandwidths", [[], [0.1, -0.2], [0.0], [np.nan], "wide"])
def test_nadaraya_watson_rejects_bad_bandwidth_grids(bandwidths):
    x, y = noisy_sine(20, seed=0)
    with pytest.raises(ValueError, match="bandwidths"):
        NadarayaWatsonRegressor(bandwidths=bandwidths).fit(x, y)


def test_make_intrinsic_baseline_reuses_knn_with_k_up_to_50():
    knn = make_intrinsic_baseline("knn", {})
    assert isinstance(knn, KNearestNeighborsRegressor) and knn.max_neighbors == 50
    assert make_intrinsic_baseline("knn", {"max_neighbors": 10}).max_neighbors == 10
    nw = make_intrinsic_baseline("nadaraya_watson", {"bandwidths": [0.2, 0.3]})
    assert isinstance(nw, NadarayaWatsonRegressor) and list(nw.bandwidths) == [0.2, 0.3]


def test_make_intrinsic_baseline_names_bad_names_and_params():
    with pytest.raises(ValueError, match="'svm'"):
        make_intrinsic_baseline("svm", {})
    with pytest.raises(ValueError, match="'kernel'"):
        make_intrinsic_baseline("nadaraya_watson", {"kernel": "epanechnikov"})
    with pytest.raises(ValueError, match="'bandwidth'"):
        make_intrinsic_baseline("knn", {"bandwidth": 0.1})
    with pytest.raises(ValueError, match="bandwidths"):
        make_intrinsic_baseline("nadaraya_watson", {"bandwidths": []})
