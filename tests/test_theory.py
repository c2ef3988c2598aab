"""Rates and network sizes of JMLR 2022 against values computed by hand."""

import math

import pytest

from dltheory.nonsmooth.theory import (
    dnn_rate_exponent,
    jmlr_depth,
    jmlr_network_size,
    jmlr_parameter_count,
    linear_rate_exponent,
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
