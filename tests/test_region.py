"""The (alpha, beta) phase diagram of JMLR 2022: hand-checked region points, cell verdicts, figures."""

import numpy as np
import pandas as pd
import pytest

from dltheory.nonsmooth.experiment import RUN_COLUMNS
from dltheory.nonsmooth.region import (
    JMLR_FIG2_DIGITIZED,
    agreement_fraction,
    plot_region_map,
    plot_theory_region,
    region_cells,
    region_claims,
)
from dltheory.nonsmooth.theory import corollary20_condition, dnn_beats_linear, dnn_region_boundary

SIZES = np.array([250, 500, 1000, 2000, 4000])


# --- The theory region, by hand ---------------------------------------------------------------------------


@pytest.mark.parametrize(("dim", "alpha", "beta", "inside"), [
    # D = 2: boundary alpha / (alpha + 1).
    (2, 4.0, 0.75, False),  # 4/5 = 0.8 > 0.75
    (2, 2.5, 0.75, True),  # 2.5/3.5 = 0.714 < 0.75
    # D = 5: boundary 5 alpha / (2(alpha + 4)).
    (5, 4.0, 1.2, False),  # 20/16 = 1.25 > 1.2
    (5, 4.0, 1.3, True),  # 1.25 < 1.3
    (5, 2.0, 0.8, False),  # 10/12 = 0.833 > 0.8
    (5, 2.0, 0.9, True),
    # D = 10: boundary 5 alpha / (alpha + 9).
    (10, 3.0, 1.2, False),  # 15/12 = 1.25 > 1.2
    (10, 3.0, 1.3, True),
    (10, 9.0, 2.45, False),  # 45/18 = 2.5 > 2.45
    (10, 9.0, 2.55, True),
])
def test_dnn_region_points_checked_by_hand(dim, alpha, beta, inside):
    assert dnn_beats_linear(alpha, beta, dim) is inside
    assert (beta > dnn_region_boundary(alpha, dim)) is inside


def test_corollary20_is_stricter_than_the_exact_condition():
    # D = 5, alpha = 4, beta = 2: exact boundary 1.25 < 2 (inside), but Cor 20 needs alpha < 2*2*4/5 = 3.2.
    assert dnn_beats_linear(4.0, 2.0, 5)
    assert not corollary20_condition(4.0, 2.0, 5)
    # Sufficient: wherever Cor 20 holds, the exact condition holds too.
    alphas, betas = np.meshgrid(np.linspace(1, 6, 51), np.linspace(0.2, 5, 49))
    for dim in (2, 5, 10):
        assert np.all(dnn_beats_linear(alphas, betas, dim)[corollary20_condition(alphas, betas, dim)])


def test_digitized_fig2_points_follow_d10_not_d5():
    alphas, betas = np.array(JMLR_FIG2_DIGITIZED).T
    assert np.max(np.abs(betas - dnn_region_boundary(alphas, 10))) < 0.01
    assert np.min(np.abs(betas - dnn_region_boundary(alphas, 5))) > 0.05


# --- Cells from a synthetic run table ---------------------------------------------------------------------


def synthetic_table(cells: dict[str, tuple[float, float, dict[str, float]]], replicates: int = 6) -> pd.DataFrame:
    """Errors n^slope times replicate noise whose log is centred over replicates at every n, so the slope of
    the replicate-averaged log error is exactly ``slope`` while bootstrap resamples still vary."""
    rng = np.random.default_rng(0)
    rows = []
    for target, (alpha, beta, slopes) in cells.items():
        for method, slope in slopes.items():
            log_noise = 0.03 * rng.standard_normal((replicates, SIZES.size))
            log_noise -= log_noise.mean(axis=0)
            errors = SIZES ** slope * np.exp(log_noise)
            for replicate in range(replicates):
                for k, n in enumerate(SIZES):
                    rows.append({
                        "family": "nonsmooth", "target": target, "dim": 2, "alpha": alpha, "beta": beta,
                        "pieces": 2, "method": method, "n": int(n), "replicate": replicate, "seed": 0,
                        "metric": "mse", "value": errors[replicate, k], "hyperparameters": "{}",
                        "diverged": False, "diverged_step": -1,
                    })
    table = pd.DataFrame(rows, columns=RUN_COLUMNS)
    # Other metrics share the table and must be ignored.
    return pd.concat([table, table.assign(metric="val_mse", value=1.0)], ignore_index=True)


CELLS = {
    "win_inside": (2.5, 0.75, {"dnn": -0.6, "fourier": -0.3, "spline": -0.4}),  # boundary 0.714 < 0.75
    "tie_outside": (4.0, 0.75, {"dnn": -0.4, "fourier": -0.4, "spline": -0.35}),  # boundary 0.8 > 0.75
    "win_outside": (2.5, 0.5, {"dnn": -0.6, "kernel_ridge": -0.4}),  # boundary 0.714 > 0.5
    "diverged": (4.0, 1.5, {"dnn": -0.6, "spline": -0.4}),
}


@pytest.fixture(scope="module")
def cells() -> pd.DataFrame:
    table = synthetic_table(CELLS)
    lost = (table.target == "diverged") & (table.method == "dnn") & (table.n == 4000) & (table.replicate == 2)
    table.loc[lost & (table.metric == "mse"), "value"] = np.nan
    return region_cells(table, seed=0, resamples=500, confidence=0.95).set_index("target")


def test_region_cells_recover_slopes_and_pick_the_steepest_linear_method(cells):
    assert list(cells.columns[:3]) == ["dim", "alpha", "beta"]
    assert cells.loc["win_inside", "linear_method"] == "spline"  # -0.4 is steeper than fourier's -0.3
    assert cells.loc["tie_outside", "linear_method"] == "fourier"  # -0.4 is steeper than spline's -0.35
    assert cells.loc["win_outside", "linear_method"] == "kernel_ridge"
    for target in ("win_inside", "tie_outside", "win_outside"):
        _, _, slopes = CELLS[target]
        row = cells.loc[target]
        assert row.dnn_slope == pytest.approx(slopes["dnn"], abs=1e-6)
        assert row.linear_slope == pytest.approx(slopes[row.linear_method], abs=1e-6)
        assert row.difference == pytest.approx(row.dnn_slope - row.linear_slope, abs=1e-9)
        assert row.low <= row.difference <= row.high


def test_region_cells_mark_wins_and_agreement(cells):
    # -0.6 vs -0.4: interval around -0.2, excludes 0; equal slopes: interval straddles 0.
    assert cells.loc["win_inside", "high"] < 0
    assert cells.loc["tie_outside", "low"] < 0 < cells.loc["tie_outside", "high"]
    assert cells.dnn_wins.to_dict() == {"win_inside": True, "tie_outside": False, "win_outside": True,
                                        "diverged": False}
    assert cells.inside_theory.to_dict() == {"win_inside": True, "tie_outside": False, "win_outside": False,
                                             "diverged": True}
    assert cells.agrees.to_dict() == {"win_inside": True, "tie_outside": True, "win_outside": False,
                                      "diverged": False}


def test_a_cell_with_a_nan_dnn_error_is_incomplete(cells):
    row = cells.loc["diverged"]
    assert not row.complete
    assert np.isnan([row.dnn_slope, row.linear_slope, row.difference, row.low, row.high]).all()
    assert cells.complete.sum() == 3


def test_agreement_fraction_counts_complete_cells_only(cells):
    assert agreement_fraction(cells.reset_index()) == pytest.approx(2 / 3)


def test_region_claims(cells):
    inside_only, agreement = region_claims(cells.reset_index(), target_fraction=0.8)
    assert inside_only.measured == "1/2" and not inside_only.holds  # the win at (2.5, 0.5) is outside
    assert "(2.5, 0.5): win vs outside" in inside_only.detail
    assert agreement.measured == pytest.approx(0.6667) and not agreement.holds  # 2/3 < 0.8
    assert "(2.5, 0.5): win vs outside" in agreement.detail
    assert region_claims(cells.reset_index(), target_fraction=0.6)[1].holds
    consistent = region_claims(cells.drop(index="win_outside").reset_index(), target_fraction=0.8)
    assert consistent[0].measured == "1/1" and consistent[0].holds
    assert consistent[1].measured == 1.0 and consistent[1].holds


# --- Figures ----------------------------------------------------------------------------------------------


def _boundary_lines(axis):
    return [line for line in axis.lines if "boundary" in line.get_label()]


def test_theory_region_figure_draws_the_exact_boundary(tmp_path):
    dims = (2, 5, 10)
    figure = plot_theory_region(dims=dims)
    figure.savefig(tmp_path / "theory_region.png")
    assert (tmp_path / "theory_region.png").stat().st_size > 0
    for axis, dim in zip(figure.axes, dims, strict=False):
        (line,) = _boundary_lines(axis)
        x, y = line.get_data()
        np.testing.assert_allclose(y, dnn_region_boundary(x, dim), atol=1e-12)
    assert figure.axes[0].get_ylim()[0] == pytest.approx(0.2)  # D = 2: boundary below beta = 1 everywhere
    assert figure.axes[1].get_ylim()[0] == pytest.approx(1.0)
    markers = [line for line in figure.axes[2].lines if line.get_label().startswith("JMLR Fig. 2 curve")]
    np.testing.assert_allclose(np.column_stack(markers[0].get_data()), JMLR_FIG2_DIGITIZED)


def test_region_map_figure_draws_the_d2_boundary(cells, tmp_path):
    figure = plot_region_map(cells.reset_index())
    figure.savefig(tmp_path / "region_map.png")
    assert (tmp_path / "region_map.png").stat().st_size > 0
    (line,) = _boundary_lines(figure.axes[0])
    x, y = line.get_data()
    np.testing.assert_allclose(y, dnn_region_boundary(x, 2), atol=1e-12)
    assert "67%" in figure.axes[0].get_title()
