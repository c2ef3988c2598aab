"""Specification of the piecewise-smooth targets (Imaizumi & Fukumizu, JMLR 23(111) 2022, p. 8)."""

import itertools
import math

import numpy as np
import pytest

from dltheory.nonsmooth.targets import (
    BOUNDARY_CENTRE,
    BOUNDARY_HALF_WIDTH,
    PiecewiseSmoothTarget,
    estimate_holder_exponent,
    lacunary_holder_function,
    lacunary_scale_window,
    target_from_config,
)

# An 8-term series shows its exponent over only four octaves (2^-3 .. 2^-7), and the maximum of a
# finite difference ripples log-periodically with the lacunary frequencies, so a fitted slope
# scatters by about +-0.1 around the true exponent (worst 0.16 over seeds 0-3 of all cases below).
EXPONENT_TOLERANCE = 0.2

MAIN_TARGETS = [
    {"name": "jump2d_m3", "dim": 2, "alpha": 2.0, "beta": 2.0, "pieces": 3, "seed": 1},
    {"name": "jump2d_m2", "dim": 2, "alpha": 2.0, "beta": 2.0, "pieces": 2, "seed": 1},
    {"name": "jump3d_m2", "dim": 3, "alpha": 2.0, "beta": 2.0, "pieces": 2, "seed": 1},
]
MAIN_IDS = [spec["name"] for spec in MAIN_TARGETS]

SMOOTHNESS_CASES = [(2.0, 2.0), (1.5, 0.75), (3.0, 1.0), (0.5, 2.5)]


def uniform_points(n, dim, seed=0):
    return np.random.default_rng(seed).uniform(size=(n, dim))


def straddling_points(target, j, n, eps=1e-7, seed=0):
    """Pairs of points just above / below boundary j, at uniform x_{-d_j}."""
    d = target.boundary_axis(j)
    u = uniform_points(n, target.dim - 1, seed)
    h = target.boundary(j, u)
    return np.insert(u, d, h + eps, axis=1), np.insert(u, d, h - eps, axis=1)


# --- smoothness: alpha for boundaries, beta for pieces ---------------------------------------------------


@pytest.mark.parametrize("dim", [2, 3])
@pytest.mark.parametrize("alpha, beta", SMOOTHNESS_CASES)
def test_boundaries_are_holder_alpha_and_pieces_holder_beta(alpha, beta, dim):
    target = PiecewiseSmoothTarget("smoothness", dim, alpha, beta, pieces=4, seed=1)
    scales = lacunary_scale_window(target.n_terms)
    boundary_exponents = [
        estimate_holder_exponent(target.boundary_function(j), dim - 1, scales)
        for j in range(target.n_boundaries)
    ]
    piece_exponents = [
        estimate_holder_exponent(target.piece_function(m), dim, scales) for m in range(target.pieces)
    ]
    assert target.n_boundaries == 2
    assert np.allclose(boundary_exponents, alpha, atol=EXPONENT_TOLERANCE), (
        f"alpha={alpha}: estimated {np.round(boundary_exponents, 2)}, tolerance {EXPONENT_TOLERANCE}"
    )
    assert np.allclose(piece_exponents, beta, atol=EXPONENT_TOLERANCE), (
        f"beta={beta}: estimated {np.round(piece_exponents, 2)}, tolerance {EXPONENT_TOLERANCE}"
    )


def test_longer_series_keeps_its_exponent_over_a_wider_window():
    def weierstrass(u):
        return lacunary_holder_function(u, 1.25, seed=3, n_terms=12)

    estimate = estimate_holder_exponent(weierstrass, 1, lacunary_scale_window(12))
    assert abs(estimate - 1.25) <= EXPONENT_TOLERANCE, estimate


def test_estimator_reads_the_difference_order_on_an_analytic_function():
    # A C^infinity function has |Delta_h^r f| ~ h^r: the estimator saturates at the order, r = 6.
    estimate = estimate_holder_exponent(lambda x: np.sin(2.0 * x[:, 0] + x[:, 1]), 2)
    assert abs(estimate - 6.0) <= 0.3, estimate


# --- determinism -----------------------------------------------------------------------------------------


def test_same_spec_gives_bitwise_identical_function():
    X = uniform_points(2000, 2)
    first, second = target_from_config(MAIN_TARGETS[0]), target_from_config(dict(MAIN_TARGETS[0]))
    assert first == second
    assert np.array_equal(first(X), second(X))
    assert np.array_equal(first.piece_index(X), second.piece_index(X))


def test_name_is_a_label_and_does_not_change_the_function():
    X = uniform_points(2000, 2)
    renamed = target_from_config({**MAIN_TARGETS[0], "name": "other"})
    assert np.array_equal(target_from_config(MAIN_TARGETS[0])(X), renamed(X))


def test_different_seed_gives_different_function():
    X = uniform_points(2000, 2)
    u = uniform_points(500, 1)
    base = target_from_config(MAIN_TARGETS[0])
    other = target_from_config({**MAIN_TARGETS[0], "seed": 2})
    assert np.max(np.abs(base(X) - other(X))) > 0.5
    assert np.max(np.abs(base.boundary(0, u) - other.boundary(0, u))) > 0.05


# --- structure of the partition ---------------------------------------------------------------------------


@pytest.mark.parametrize("dim, pieces", [(2, 1), (2, 2), (2, 3), (2, 4), (3, 5), (3, 8), (5, 17)])
def test_partition_has_ceil_log2_m_boundaries_on_distinct_axes_and_m_groups(dim, pieces):
    target = PiecewiseSmoothTarget("structure", dim, 2.0, 2.0, pieces, seed=0)
    n_boundaries = math.ceil(math.log2(pieces))
    assert target.n_boundaries == n_boundaries
    assert len(set(target.boundary_axes)) == n_boundaries
    groups = target.pattern_groups
    assert len(groups) == pieces and all(len(group) >= 1 for group in groups)
    all_patterns = ["".join(signs) for signs in itertools.product("+-", repeat=n_boundaries)]
    assert sorted(p for group in groups for p in group) == sorted(all_patterns)


@pytest.mark.parametrize("spec", MAIN_TARGETS, ids=MAIN_IDS)
def test_boundaries_stay_in_0_3_to_0_7(spec):
    target = target_from_config(spec)
    for j in range(target.n_boundaries):
        h = target.boundary(j, uniform_points(20_000, target.dim - 1))
        assert h.min() >= BOUNDARY_CENTRE - BOUNDARY_HALF_WIDTH == 0.3
        assert h.max() <= BOUNDARY_CENTRE + BOUNDARY_HALF_WIDTH == 0.7


@pytest.mark.parametrize("spec", MAIN_TARGETS, ids=MAIN_IDS)
def test_each_piece_fills_at_least_10_percent_of_the_cube(spec):
    target = target_from_config(spec)
    index = target.piece_index(uniform_points(100_000, target.dim))
    volumes = np.bincount(index, minlength=target.pieces) / index.size
    assert volumes.size == target.pieces
    assert volumes.min() >= 0.10, volumes


# --- the singularity --------------------------------------------------------------------------------------


@pytest.mark.parametrize("jump", [1.0, 2.0])
@pytest.mark.parametrize("spec", MAIN_TARGETS, ids=MAIN_IDS)
def test_every_boundary_carries_a_jump_of_at_least_half_the_jump(spec, jump):
    target = target_from_config({**spec, "jump": jump})
    for j in range(target.n_boundaries):
        above, below = straddling_points(target, j, 20_000, seed=j)
        gap = np.abs(target(above) - target(below))
        # Parity grouping puts the two sides of any single boundary in different pieces.
        assert np.mean(target.piece_index(above) != target.piece_index(below)) >= 0.999
        assert gap.mean() >= 0.5 * jump, (j, gap.mean())
        # offsets differ by jump and each smooth part moves by at most amplitude = 0.25
        assert gap.min() >= jump - 2 * target.amplitude - 1e-5, (j, gap.min())


@pytest.mark.parametrize("beta", [0.5, 2.0])
def test_single_piece_is_the_smooth_control_without_jumps(beta):
    target = PiecewiseSmoothTarget("control", 2, 2.0, beta, pieces=1, seed=1)
    X = uniform_points(20_000, 2)
    rng = np.random.default_rng(1)
    step = rng.standard_normal(X.shape)
    step *= rng.uniform(0, 1e-4, (X.shape[0], 1)) / np.linalg.norm(step, axis=1, keepdims=True)
    assert target.n_boundaries == 0
    assert np.all(target.piece_index(X) == 0)
    assert np.max(np.abs(target(X) - target(X + step))) < 0.01


@pytest.mark.parametrize("spec", MAIN_TARGETS, ids=MAIN_IDS)
def test_values_are_bounded_by_half_jump_plus_amplitude(spec):
    target = target_from_config(spec)
    values = target(uniform_points(100_000, target.dim))
    assert values.shape == (100_000,) and values.dtype == np.float64
    assert np.abs(values).max() <= 0.75  # jump/2 + amplitude at the defaults


# --- configuration ----------------------------------------------------------------------------------------


def test_config_optional_keys_reach_the_fields():
    target = target_from_config({**MAIN_TARGETS[0], "jump": 2, "n_terms": 10, "amplitude": 0.1})
    assert (target.jump, target.n_terms, target.amplitude) == (2.0, 10, 0.1)
    assert isinstance(target.alpha, float) and isinstance(target.jump, float)


@pytest.mark.parametrize(
    "change, key",
    [
        ({"alpha": None}, "alpha"),
        ({"dim": 1}, "dim"),
        ({"dim": 11}, "dim"),
        ({"alpha": -1.0}, "alpha"),
        ({"beta": 0}, "beta"),
        ({"pieces": 0}, "pieces"),
        ({"pieces": 5}, "pieces"),  # > 2**dim for dim = 2
        ({"seed": -3}, "seed"),
        ({"jump": -1.0}, "jump"),
        ({"n_terms": 0}, "n_terms"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_invalid_config_raises_value_error_naming_the_key(change, key):
    spec = {**MAIN_TARGETS[0], **change}
    spec = {k: v for k, v in spec.items() if v is not None}  # None marks a removed key
    with pytest.raises(ValueError, match=f"'{key}'"):
        target_from_config(spec)


def test_direct_construction_is_validated_too():
    with pytest.raises(ValueError, match="'pieces'"):
        PiecewiseSmoothTarget("bad", 2, 2.0, 2.0, pieces=0, seed=0)
