"""Rates and network sizes of JMLR 2022 against values computed by hand."""

import math

import pytest

from dltheory.nonsmooth.theory import (
    corollary20_condition,
    curvelet_suboptimal,
    dnn_beats_linear,
    dnn_rate_exponent,
    dnn_region_boundary,
    jmlr_depth,
    jmlr_network_size,
    jmlr_parameter_count,
    linear_rate_exponent,
    wavelet_suboptimal,
    width_for_parameter_count,
)


def test_dnn_rate_for_alpha_beta_2_in_2d_is_two_thirds():
    # max(n^{-4/6}, n^{-2/3}): both terms give 2/3.
    assert dnn_rate_exponent(2, 2.0, 2.0) == pytest.approx(2 / 3)


def test_linear_bound_for_alpha_beta_2_in_2d_is_two_fifths():
    # alpha / (2 alpha + D - 1) = 2 / 5.
    assert linear_rate_exponent(2, 2.0, 2.0) == pytest.approx(0.4)


def test_rates_in_3d_boundary_term_dominates():
    # smooth 4/7 = 0.571 vs boundary 2/4 = 0.5: the slower (boundary) term wins; linear 2/6 = 1/3.
    assert dnn_rate_exponent(3, 2.0, 2.0) == pytest.approx(0.5)
    assert linear_rate_exponent(3, 2.0, 2.0) == pytest.approx(1 / 3)


def test_smooth_term_dominates_when_pieces_are_rough():
    # beta = 0.5, D = 2: 2 beta/(2 beta + D) = 1/3 < alpha/(alpha+1) = 3/4 for alpha = 3.
    assert dnn_rate_exponent(2, 3.0, 0.5) == pytest.approx(1 / 3)


def test_one_piece_gives_the_smooth_minimax_rate_for_both_families():
    assert dnn_rate_exponent(2, 2.0, 2.0, pieces=1) == pytest.approx(2 / 3)
    assert linear_rate_exponent(2, 2.0, 2.0, pieces=1) == pytest.approx(2 / 3)


def test_parameter_count_follows_theorem_7():
    # C (M n^{D/(2b+D)} + n^{(D-1)/(a+D-1)}) log^2 n with C=1, M=2, n=e^3, D=2, a=b=2:
    n = math.exp(3)
    expected = (2 * n ** (1 / 3) + n ** (1 / 3)) * 9
    assert jmlr_parameter_count(n, 2, 2.0, 2.0, 2, 1.0) == pytest.approx(expected)


def test_depth_grows_like_log_n():
    # 0.25 (1 + 2 + 2 + log2(256/2)) = 0.25 * 12 = 3; at 8192: 0.25 (5 + 12) = 4.25 -> 5.
    assert jmlr_depth(256, 2.0, 2.0, 2, 0.25) == 3
    assert jmlr_depth(8192, 2.0, 2.0, 2, 0.25) == 5


def test_width_inverts_the_parameter_count():
    # depth 3, D 2: 2 W^2 + 6 W + 1 parameters; W = 50 gives 5301.
    assert width_for_parameter_count(5301, dim=2, depth=3) == 50
    assert width_for_parameter_count(5301 + 20, dim=2, depth=3) == 50


def test_network_grows_with_n():
    small = jmlr_network_size(256, 2, 2.0, 2.0, 3, 4.0, 0.25)
    large = jmlr_network_size(8192, 2, 2.0, 2.0, 3, 4.0, 0.25)
    assert large[0] > small[0] and large[1] > small[1]


def test_parameter_count_keeps_the_boundary_term_for_one_piece():
    # As printed in Thm 7: M = 1 gives C (n^{1/3} + n^{1/3}) log^2 n at D = 2, alpha = beta = 2.
    n = math.exp(3)
    assert jmlr_parameter_count(n, 2, 2.0, 2.0, 1, 1.0) == pytest.approx(2 * n ** (1 / 3) * 9)


# Points read off the rendered JMLR 2022 Fig. 2 curve (shared/papers/nonsmooth.md, Sec. 3).
FIG2_POINTS = [(2.36, 1.04), (2.86, 1.21), (3.37, 1.37), (3.88, 1.51), (4.40, 1.65), (4.91, 1.77)]


def test_fig2_curve_is_the_d10_boundary_not_the_captions_d5():
    assert all(abs(dnn_region_boundary(a, 10) - b) <= 0.01 for a, b in FIG2_POINTS)
    assert max(abs(dnn_region_boundary(a, 5) - b) for a, b in FIG2_POINTS) > 0.1


@pytest.mark.parametrize(
    "alpha, beta, dim, inside",
    [
        (2.0, 2.0, 2, True),  # 2 (2 - 4) = -4 < 2*2*1 = 4
        (5.0, 0.2, 2, False),  # 5 (2 - 0.4) = 8 < 0.4? no (edge at beta = 10/12 = 0.833)
        (5.0, 1.0, 2, True),  # 5 (2 - 2) = 0 < 2
        (3.0, 1.0, 5, False),  # 3 (5 - 2) = 9 < 8? no
        (3.0, 1.2, 5, True),  # 3 (5 - 2.4) = 7.8 < 9.6
        (1.0, 1.0, 10, True),  # 1 (10 - 2) = 8 < 18
        (5.0, 1.0, 10, False),  # 5 (10 - 2) = 40 < 18? no
        (5.0, 2.0, 10, True),  # 5 (10 - 4) = 30 < 36
        (4.0, 3.0, 5, True),  # 2 beta = 6 >= D = 5: inside for every alpha
    ],
)
def test_dnn_region_against_hand_checked_points(alpha, beta, dim, inside):
    assert dnn_beats_linear(alpha, beta, dim) is inside
    assert (beta > dnn_region_boundary(alpha, dim)) is inside


def test_corollary_20_is_stricter_than_the_exact_condition():
    # alpha = 4, beta = 2, D = 10: exact 4 * 6 = 24 < 36 holds, Cor 20's 4 < 2*2*9/10 = 3.6 does not.
    assert dnn_beats_linear(4.0, 2.0, 10) and not corollary20_condition(4.0, 2.0, 10)
    assert corollary20_condition(2.0, 2.0, 10)


def test_wavelet_and_curvelet_conditions():
    assert wavelet_suboptimal(10.0, 6.0, 10) and not wavelet_suboptimal(5.0, 6.0, 10)  # needs alpha > 9
    assert curvelet_suboptimal(1.0, 1.0) and not curvelet_suboptimal(0.4, 1.0)  # needs alpha > 1/2
    with pytest.raises(ValueError, match="curvelets are defined for D = 2 only, got dim=3"):
        curvelet_suboptimal(1.0, 1.0, 3)
