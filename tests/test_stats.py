"""Slopes and bootstrap intervals on curves whose slopes are known."""

import numpy as np
import pytest

from dltheory.stats import bootstrap_slope_difference, loglog_slope, replicate_slopes

SIZES = np.array([256, 512, 1024, 2048, 4096])


def test_loglog_slope_recovers_a_power_law():
    assert loglog_slope(SIZES, 3.0 * SIZES**-0.4) == pytest.approx(-0.4)


def test_a_nan_error_gives_no_slope():
    errors = 3.0 * SIZES**-0.4
    errors[2] = np.nan
    assert np.isnan(loglog_slope(SIZES, errors))


def test_bootstrap_interval_excludes_zero_for_clearly_different_slopes():
    rng = np.random.default_rng(0)
    noise = np.exp(0.05 * rng.standard_normal((5, SIZES.size)))
    steep, shallow = SIZES**-0.66 * noise, SIZES**-0.33 * noise[::-1]
    result = bootstrap_slope_difference(steep, shallow, SIZES, 1000, 0.95, np.random.default_rng(1))
    assert result["difference"] == pytest.approx(-0.33, abs=0.03)
    assert result["high"] < 0


def test_bootstrap_interval_contains_zero_for_equal_slopes():
    rng = np.random.default_rng(2)
    a = SIZES**-0.5 * np.exp(0.1 * rng.standard_normal((5, SIZES.size)))
    b = 2 * SIZES**-0.5 * np.exp(0.1 * rng.standard_normal((5, SIZES.size)))
    result = bootstrap_slope_difference(a, b, SIZES, 1000, 0.95, np.random.default_rng(3))
    assert result["low"] <= 0 <= result["high"]
    assert replicate_slopes(a, SIZES) == pytest.approx(-0.5, abs=0.05)
