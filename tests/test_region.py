"""The (alpha, beta) phase diagram of JMLR 2022: hand-checked region points, the configured grid, one-sided cell
verdicts with t-intervals, the did-it-learn guard, claims and figures."""

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import yaml

from dltheory.config import family_settings
from dltheory.nonsmooth.experiment import RUN_COLUMNS
from dltheory.nonsmooth.figures import plot_region_map, plot_theory_region
from dltheory.nonsmooth.region import (
    JMLR_FIG2_DIGITIZED,
    agreement_fraction,
    cell_diagnosis,
    diagnose_cell,
    octave_energy,
    predicted_difference,
    region_cells,
    region_claims,
)
from dltheory.nonsmooth.theory import corollary20_condition, dnn_beats_linear, dnn_region_boundary
from dltheory.stats import slope_difference_interval

ROOT = Path(__file__).resolve().parents[1]
SIZES = np.array([250, 500, 1000, 2000, 4000])
REPLICATES = 6


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


def test_predicted_difference_by_hand():
    # D = 5, alpha = 5, beta = 2.5: DNN min(5/10, 5/9) = 0.5, linear min(5/14, 0.5) = 0.357: -0.143.
    assert predicted_difference(5.0, 2.5, 5) == pytest.approx(-(0.5 - 5 / 14))
    # alpha = 5, beta = 1 (same rate): both 2/7.
    assert predicted_difference(5.0, 1.0, 5) == 0.0


# --- The configured grids ---------------------------------------------------------------------------------


def _merged(base: dict, overlay: dict) -> dict:
    out = dict(base)
    for key, value in overlay.items():
        out[key] = _merged(base[key], value) if isinstance(value, dict) and isinstance(base.get(key), dict) else value
    return out


def _region_settings(*names):
    section = {}
    for name in names:
        section = _merged(section, yaml.safe_load((ROOT / f"config/{name}.yaml").read_text())["region"])
    return family_settings("region", section)


@pytest.mark.parametrize("configs", [("config",), ("config", "paper")])
def test_every_configured_cell_is_inside_the_hypotheses_with_cells_on_both_sides(configs):
    settings = _region_settings(*configs)
    cells = settings.cell_specs().values()
    assert settings.dim >= 4 and settings.outside_hypotheses() == []
    assert all(c["alpha"] >= 1 and c["beta"] >= 1 for c in cells)
    inside = [dnn_beats_linear(c["alpha"], c["beta"], c["dim"]) for c in cells]
    assert 2 <= sum(inside) and 2 <= len(inside) - sum(inside)
    # At least one cell within 0.15 of the boundary in beta, on either side.
    assert min(abs(c["beta"] - dnn_region_boundary(c["alpha"], c["dim"])) for c in cells) <= 0.15
    # Same-rate cells predict no difference; win cells a strictly negative one.
    for c, win in zip(cells, inside, strict=True):
        assert (predicted_difference(c["alpha"], c["beta"], c["dim"]) < 0) is win


def test_paper_grid_extends_the_default_one():
    default, paper = _region_settings("config"), _region_settings("config", "paper")
    assert set(default.cell_specs()) <= set(paper.cell_specs()) and max(paper.sizes) > max(default.sizes)
    assert paper.replicates >= default.replicates


def test_rougher_pieces_keep_more_energy_beyond_the_first_octave():
    spec = {"dim": 5, "alpha": 2.0, "beta": 1.0, "amplitude": 0.5}
    rough, smooth = octave_energy(spec), octave_energy({**spec, "beta": 2.5})
    assert rough["piece_tail"] > 3 * smooth["piece_tail"]
    # a_j = 2^-j / sum_i 2^-i over 8 octaves: the tail beyond octave 0 is sum_{j>=1} (0.25 a_j^2 / 2).
    weights = 2.0 ** -np.arange(8) / np.sum(2.0 ** -np.arange(8))
    assert rough["piece_tail"] == pytest.approx(0.25 * np.sum(weights[1:] ** 2) / 2)
    assert octave_energy({**spec, "amplitude": 1.0})["piece_tail"] == pytest.approx(4 * rough["piece_tail"])


# --- Cells from a synthetic run table ---------------------------------------------------------------------


def _rows(target, alpha, beta, method, errors, metric="mse"):
    return [{"family": "region", "target": target, "dim": 5, "alpha": alpha, "beta": beta, "pieces": 2,
             "method": method, "n": int(n), "replicate": r, "seed": 0, "metric": metric,
             "value": float(errors[r, k]), "hyperparameters": "{}", "diverged": False, "diverged_step": -1}
            for r in range(errors.shape[0]) for k, n in enumerate(SIZES)]


def synthetic_table(cells: dict) -> pd.DataFrame:
    """Errors 0.3 (n / 250)^slope with log-normal replicate noise (SD 0.03) under a constant predictor's error of
    1 (Var f), so every run learned unless a test raises it."""
    rng = np.random.default_rng(0)
    rows = []
    for target, (alpha, beta, slopes) in cells.items():
        rows += _rows(target, alpha, beta, "constant", np.ones((REPLICATES, SIZES.size)))
        for method, slope in slopes.items():
            errors = 0.3 * (SIZES / SIZES[0]) ** slope * np.exp(0.03 * rng.standard_normal((REPLICATES, SIZES.size)))
            rows += _rows(target, alpha, beta, method, errors)
    table = pd.DataFrame(rows, columns=RUN_COLUMNS)
    # Other metrics share the table and must be ignored.
    return pd.concat([table, table.assign(metric="val_mse", value=1.0)], ignore_index=True)


# D = 5; boundary 5 alpha / (2 (alpha + 4)): 0.83 at alpha = 2, 1.17 at 3.5, 1.39 at 5.
CELLS = {
    "win_inside": (3.5, 2.5, {"dnn": -0.6, "fourier": -0.3, "kernel_ridge": -0.4}),
    "tie_same": (5.0, 1.0, {"dnn": -0.4, "fourier": -0.4, "spline": -0.35}),
    "win_same": (5.0, 1.25, {"dnn": -0.6, "fourier": -0.4}),
    "flat_inside": (2.0, 1.5, {"dnn": -0.4, "fourier": -0.41}),
    "slower_same": (3.5, 1.0, {"dnn": -0.2, "fourier": -0.4}),  # DNN significantly *slower*
    "unlearned": (2.0, 2.5, {"dnn": -0.6, "fourier": -0.4}),  # one DNN run above half of Var f
    "untestable": (5.0, 2.5, {"dnn": -0.6, "fourier": -0.4}),  # only one replicate learned
}


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    table = synthetic_table(CELLS)
    mse = table.metric == "mse"
    dnn = mse & (table.method == "dnn")
    table.loc[dnn & (table.target == "unlearned") & (table.n == 4000) & (table.replicate == 2), "value"] = 0.5
    # A diverged DNN (NaN) counts as unlearned too: replicates 1-5 of the untestable cell fail at n = 250.
    broken = dnn & (table.target == "untestable") & (table.n == 250) & (table.replicate > 0)
    table.loc[broken & (table.replicate == 1), "value"] = np.nan
    table.loc[broken & (table.replicate > 1), "value"] = 0.6
    return table


@pytest.fixture(scope="module")
def cells(table) -> pd.DataFrame:
    return region_cells(table, confidence=0.95).set_index("target")


def test_region_cells_recover_slopes_and_pick_the_steepest_linear_method(cells):
    assert cells.loc["win_inside", "linear_method"] == "kernel_ridge"  # -0.4 is steeper than fourier's -0.3
    assert cells.loc["tie_same", "linear_method"] == "fourier"  # -0.4 is steeper than spline's -0.35
    for target in ("win_inside", "tie_same", "win_same", "slower_same"):
        slopes = CELLS[target][2]
        row = cells.loc[target]
        assert row.dnn_slope == pytest.approx(slopes["dnn"], abs=0.03)
        assert row.linear_slope == pytest.approx(slopes[row.linear_method], abs=0.03)
        assert row.difference == pytest.approx(row.dnn_slope - row.linear_slope, abs=1e-9)
        assert row.low < row.difference < row.high and row.replicates == REPLICATES


def test_the_interval_is_the_t_interval_over_paired_replicates(table, cells):
    rows = table[(table.target == "win_inside") & (table.metric == "mse")]
    dnn, ridge = (rows[rows.method == m].pivot(index="replicate", columns="n", values="value").to_numpy()
                  for m in ("dnn", "kernel_ridge"))
    expected = slope_difference_interval(dnn, ridge, SIZES, 0.95)
    assert cells.loc["win_inside", ["difference", "low", "high"]].tolist() == pytest.approx(
        [expected["difference"], expected["low"], expected["high"]])


def test_verdicts_are_one_sided(cells):
    # Inside the region the DNN must be significantly steeper; on the same-rate side it must not be. A DNN that
    # is significantly *slower* in a same-rate cell agrees with theory (the theory says "not faster").
    assert cells.loc["slower_same", "low"] > 0 and cells.loc["slower_same", "verdict"] == "DNN not steeper"
    assert cells.loc["tie_same", "low"] < 0 < cells.loc["tie_same", "high"]
    assert cells.dnn_wins.to_dict() == {"flat_inside": False, "unlearned": True, "slower_same": False,
                                        "win_inside": True, "tie_same": False, "win_same": True,
                                        "untestable": False}
    assert cells.agrees.to_dict() == {"flat_inside": False, "unlearned": True, "slower_same": True,
                                      "win_inside": True, "tie_same": True, "win_same": False, "untestable": False}


def test_the_guard_drops_an_unlearned_replicate_and_counts_it(table, cells):
    row = cells.loc["unlearned"]
    assert (row.replicates, row.replicates_run, row.unlearned_runs) == (REPLICATES - 1, REPLICATES, 1)
    rows = table[(table.target == "unlearned") & (table.metric == "mse")]
    dnn, fourier = (rows[rows.method == m].pivot(index="replicate", columns="n", values="value").to_numpy()
                    for m in ("dnn", "fourier"))
    kept = np.arange(REPLICATES) != 2
    assert row.difference == pytest.approx(slope_difference_interval(dnn[kept], fourier[kept], SIZES, 0.95)
                                           ["difference"])


def test_a_cell_with_fewer_than_two_learned_replicates_is_not_testable(cells):
    row = cells.loc["untestable"]
    assert not row.testable and row.verdict == "not testable" and (row.replicates, row.unlearned_runs) == (1, 5)
    assert np.isnan([row.dnn_slope, row.linear_slope, row.difference, row.low, row.high]).all()


def test_agreement_fraction_counts_testable_cells_only(cells):
    assert agreement_fraction(cells.reset_index()) == pytest.approx(4 / 6)


def test_region_claims(cells):
    inside_only, agreement = region_claims(cells.reset_index(), target_fraction=0.8, pilots="grid after a pilot")
    assert not inside_only.holds and inside_only.measured.startswith("1/3 same-rate cells")
    assert "R = 5/6" in inside_only.measured
    assert "(5, 1.25) same rate: " in inside_only.detail and "(R=6)" in inside_only.detail
    assert agreement.measured == "0.6667 (4/6 testable cells)" and not agreement.holds  # 4/6 < 0.8
    assert "(2, 1.5) inside" in agreement.detail and "(5, 1.25) same rate" in agreement.detail
    assert "1 cell(s) not testable" in agreement.detail and "6 unlearned run(s) in 2 cell(s)" in agreement.detail
    assert "chosen after pilots: grid after a pilot" in agreement.detail
    assert region_claims(cells.reset_index(), target_fraction=0.6)[1].holds
    consistent = region_claims(cells.drop(index=["win_same", "flat_inside"]).reset_index(), target_fraction=0.8)
    assert consistent[0].holds and consistent[1].holds and consistent[1].measured.startswith("1.0 (4/4")


def test_the_inside_claim_fails_when_the_dnn_wins_nowhere(cells):
    quiet = cells.drop(index=["win_inside", "win_same", "unlearned"]).reset_index()
    claim = region_claims(quiet, target_fraction=0.8)[0]
    assert not claim.holds and claim.detail.startswith("scale: the DNN is significantly steeper in no cell")


def test_diagnoses_name_scale_when_the_interval_cannot_resolve_the_prediction():
    base = {"alpha": 3.5, "beta": 1.25, "inside_theory": True, "testable": True, "replicates": 3,
            "predicted_difference": -0.015, "difference": -0.02, "low": -0.12, "high": 0.08, "dnn_slope": -0.3,
            "dnn_theory_slope": -0.333, "linear_slope": -0.28, "linear_theory_slope": -0.318,
            "linear_method": "fourier"}
    assert ": scale (the predicted difference is within" in diagnose_cell(SimpleNamespace(**base))
    resolvable = SimpleNamespace(**{**base, "predicted_difference": -0.15})
    assert ": finding (the predicted difference exceeds" in diagnose_cell(resolvable)
    # The linear estimator beat J's worst-case linear rate on this one target: the gap need not open.
    easy = SimpleNamespace(**{**base, "predicted_difference": -0.15, "linear_slope": -0.45})
    assert ": design (on this fixed target fourier's slope -0.450 is steeper than" in diagnose_cell(easy)
    # Same-rate cell, DNN significantly steeper and steeper than its own theory rate: pre-asymptotic.
    same = SimpleNamespace(**{**base, "alpha": 5.0, "beta": 1.0, "inside_theory": False, "predicted_difference": 0.0,
                              "difference": -0.2, "low": -0.25, "high": -0.15, "dnn_slope": -0.5,
                              "dnn_theory_slope": -0.286, "linear_slope": -0.3, "linear_theory_slope": -0.286})
    assert "scale (pre-asymptotic: the DNN's slope -0.500 is steeper than its own theory rate" in diagnose_cell(same)


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


def test_region_map_prints_replicates_and_marks_unlearned_cells(cells, tmp_path):
    figure = plot_region_map(cells.reset_index())
    figure.savefig(tmp_path / "region_map.png")
    axis = figure.axes[0]
    # Equal tiles at the grid values; the boundary passes each tile centre on the side its (alpha, beta) lies.
    alphas, betas = np.sort(cells.alpha.unique()), np.sort(cells.beta.unique())
    assert [t.get_text() for t in axis.get_xticklabels()] == ["2", "3.5", "5"]
    assert [t.get_text() for t in axis.get_yticklabels()] == ["1", "1.25", "1.5", "2.5"]
    (line,) = _boundary_lines(axis)
    x, y = line.get_data()
    for cell in cells.itertuples():
        i, j = np.searchsorted(alphas, cell.alpha), np.searchsorted(betas, cell.beta)
        assert bool(j > np.interp(i, x, y)) == cell.inside_theory
    assert np.interp(2, x, y) == pytest.approx(np.interp(dnn_region_boundary(5.0, 5), betas, range(4)), abs=1e-4)
    assert "67%" in axis.get_title() and "R = 5/6" in axis.get_title()
    labels = [text.get_text() for text in axis.texts]
    assert sum("R=6" in label for label in labels) == 5
    assert sum("R=5 (1 unlearned runs)" in label for label in labels) == 1
    assert any(label.startswith("not testable\n1 of 6 replicates learned") for label in labels)
    dotted = [p for p in axis.patches if p.get_edgecolor()[:3] == pytest.approx((1.0, 0.549, 0.0), abs=0.01)]
    assert len(dotted) == 2  # the unlearned and the untestable cells


def test_region_claims_carry_replicates_and_the_diagnosis_their_cells_decide(cells):
    testable = cells[cells.testable]
    inside_only, agreement = region_claims(cells.reset_index(), target_fraction=0.8)
    # Counts and fractions of cells: no interval; the fewest paired replicates a testable cell rests on.
    assert inside_only.interval is None and agreement.interval is None
    assert inside_only.replicates == agreement.replicates == testable.replicates.min() == REPLICATES - 1
    # The one wrongly winning same-rate cell decides the inside claim's diagnosis, as its detail says.
    (wrong,) = testable[~testable.inside_theory & testable.dnn_wins].reset_index().itertuples()
    assert inside_only.diagnosis == cell_diagnosis(wrong)[0] == "scale"
    assert diagnose_cell(wrong) in inside_only.detail and ": scale (" in diagnose_cell(wrong)
    # Disagreeing cells of mixed categories (scale and design here): the first in DIAGNOSES order.
    categories = {cell_diagnosis(c)[0] for c in testable[~testable.agrees].reset_index().itertuples()}
    assert categories == {"scale", "design"} and agreement.diagnosis == "scale"
    # One disagreeing cell (flat_inside, design), or no winning cell at all (scale).
    quiet = region_claims(cells.drop(index=["win_inside", "win_same", "unlearned"]).reset_index(), 0.8)
    assert quiet[0].diagnosis == "scale" and quiet[1].diagnosis == "design" and ": design (" in quiet[1].detail
    assert quiet[0].replicates == REPLICATES
    # A held claim carries none.
    held = region_claims(cells.reset_index(), target_fraction=0.6)[1]
    assert held.holds and held.diagnosis == "" and held.to_dict()["diagnosis"] == ""
