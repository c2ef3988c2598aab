"""Slopes, gaps and claims of Nakada & Imaizumi's Sims 6.1 and 6.2, on synthetic run tables with known answers."""

import numpy as np
import pandas as pd
import pytest

from dltheory.intrinsic.analysis import (
    ball_claims,
    ball_gaps,
    intrinsic_rate_exponent,
    sphere_claims,
    sphere_slopes,
)
from dltheory.intrinsic.figures import method_label, plot_ball_curves, plot_sphere_curves
from dltheory.plotting import use_style

COLUMNS = ["family", "simulation", "setting", "ambient_dim", "intrinsic_dim", "beta", "method", "n", "replicate",
           "seed", "metric", "value", "hyperparameters", "diverged", "diverged_step"]
SPHERE_SIZES = np.arange(100, 1001, 100)
# d -> (scale c, slope s): error c n^s. At n = 1000: 0.0032, 0.050, 0.26, 0.38, increasing in d.
SPHERE = {4: (0.1, -0.5), 16: (0.2, -0.2), 64: (0.4, -0.06), 100: (0.5, -0.04)}


def row(simulation, setting, ambient_dim, intrinsic_dim, beta, method, n, replicate, value, metric="mse"):
    return {"family": "intrinsic", "simulation": simulation, "setting": setting, "ambient_dim": ambient_dim,
            "intrinsic_dim": intrinsic_dim, "beta": beta, "method": method, "n": int(n), "replicate": replicate,
            "seed": 0, "metric": metric, "value": value, "hyperparameters": "{}", "diverged": False,
            "diverged_step": -1}


def sphere_table(curves=SPHERE, replicates: int = 5) -> pd.DataFrame:
    """Errors c n^s times replicate noise whose log is centred over replicates at every n: the slope of the
    replicate-averaged log error is exactly s, while bootstrap resamples still vary."""
    rng = np.random.default_rng(0)
    rows = []
    for d, (scale, slope) in curves.items():
        log_noise = 0.05 * rng.standard_normal((replicates, SPHERE_SIZES.size))
        log_noise -= log_noise.mean(axis=0)
        errors = scale * SPHERE_SIZES**slope * np.exp(log_noise)
        for r in range(replicates):
            for k, n in enumerate(SPHERE_SIZES):
                rows.append(row("sphere", f"sphere_d{d}", 128, d, 2, "dnn", n, r, errors[r, k]))
                rows.append(row("sphere", f"sphere_d{d}", 128, d, 2, "dnn", n, r, 7.0, metric="val_mse"))
    return pd.DataFrame(rows, columns=COLUMNS)


def slopes_of(table):
    return sphere_slopes(table, seed=0, resamples=200, confidence=0.95).set_index("intrinsic_dim")


# --- Sim 6.1 ------------------------------------------------------------------------------------------------


def test_intrinsic_rate_exponent_is_2beta_over_2beta_plus_d():
    assert intrinsic_rate_exponent(2, 4) == pytest.approx(0.5)
    assert intrinsic_rate_exponent(1, 2) == pytest.approx(0.5)
    assert intrinsic_rate_exponent(2, 100) == pytest.approx(4 / 104)


def test_sphere_slopes_recover_the_known_slopes_and_theory():
    slopes = slopes_of(sphere_table())
    assert list(slopes.index) == [4, 16, 64, 100]
    for d, (scale, slope) in SPHERE.items():
        assert slopes.loc[d, "slope"] == pytest.approx(slope, abs=1e-6)
        assert slopes.loc[d, "low"] <= slopes.loc[d, "slope"] <= slopes.loc[d, "high"]
        assert slopes.loc[d, "error_at_largest_n"] == pytest.approx(scale * 1000.0**slope, rel=1e-9)
    assert slopes.theory_slope.tolist() == pytest.approx([-0.5, -0.2, -4 / 68, -4 / 104])
    assert slopes.complete.all() and (slopes.largest_n == 1000).all()


def test_sphere_slopes_are_reproducible_from_the_seed():
    table = sphere_table()
    assert slopes_of(table).equals(slopes_of(table))


def test_sphere_claims_hold_when_error_and_rate_order_with_d():
    error_claim, rate_claim = sphere_claims(slopes_of(sphere_table()).reset_index())
    assert error_claim.holds and rate_claim.holds
    assert rate_claim.statement.startswith("(ii) The convergence rates with d in {4, 16} are faster")
    assert rate_claim.measured == "max slope over d in {4, 16}: -0.200; min slope over d in {64, 100}: -0.060"
    assert error_claim.ours and "sphere placement, epochs and batch size are ours" in error_claim.detail


def test_error_claim_fails_when_larger_d_has_lower_error():
    # d = 100 at scale 0.05: error 0.038 at n = 1000, below d = 64's 0.26. The rates still order.
    error_claim, rate_claim = sphere_claims(slopes_of(sphere_table({**SPHERE, 100: (0.05, -0.04)})).reset_index())
    assert not error_claim.holds
    assert rate_claim.holds


def test_rate_claim_fails_when_a_small_d_is_slower_than_a_large_d():
    # d = 16 at slope -0.05 is slower than d = 64's -0.06; errors at n = 1000 still increase (0.14 < 0.26).
    error_claim, rate_claim = sphere_claims(slopes_of(sphere_table({**SPHERE, 16: (0.2, -0.05)})).reset_index())
    assert error_claim.holds
    assert not rate_claim.holds
    assert "-0.050" in rate_claim.measured


def test_groups_split_at_the_median_for_an_odd_grid():
    curves = {4: SPHERE[4], 16: SPHERE[16], 64: SPHERE[64]}
    _, rate_claim = sphere_claims(slopes_of(sphere_table(curves)).reset_index())
    assert "with d in {4} are faster than those with d in {16, 64}" in rate_claim.statement
    assert rate_claim.holds


def test_a_nan_error_marks_the_slope_incomplete_without_crashing():
    table = sphere_table()
    lost = (table.intrinsic_dim == 64) & (table.n == 500) & (table.replicate == 2) & (table.metric == "mse")
    table.loc[lost, ["value", "diverged"]] = [np.nan, True]
    slopes = slopes_of(table)
    assert not slopes.loc[64, "complete"]
    assert np.isnan(slopes.loc[64, ["slope", "low", "high"]].astype(float)).all()
    assert slopes.loc[64, "nonfinite"] == 1 and slopes.loc[64, "diverged"] == 1
    assert slopes.loc[64, "error_at_largest_n"] == pytest.approx(0.4 * 1000**-0.06)  # n = 1000 is untouched
    assert slopes.drop(64).complete.all()
    error_claim, rate_claim = sphere_claims(slopes.reset_index())
    assert error_claim.holds
    assert not rate_claim.holds
    assert "d=64: 1 non-finite, 1 diverged" in rate_claim.detail


# --- Sim 6.2 ------------------------------------------------------------------------------------------------


def ball_table(log_errors: dict[tuple[int, str], list[float]], setting="balls_D5_d2", dims=(5, 2)) -> pd.DataFrame:
    """mse = exp(given log error) per replicate, so mean log errors are known exactly."""
    rows = [row("balls", setting, *dims, 1, method, n, r, np.exp(value))
            for (n, method), values in log_errors.items() for r, value in enumerate(values)]
    return pd.DataFrame(rows, columns=COLUMNS)


TINY = {
    (20, "dnn_l2w36"): [-5.0, -3.0], (20, "knn"): [1.0, 2.0], (20, "nadaraya_watson"): [0.0, 1.0],
    (40, "dnn_l2w36"): [-6.0, -4.0], (40, "knn"): [0.0, 0.0], (40, "nadaraya_watson"): [1.0, 1.0],
}


def test_ball_gaps_by_hand():
    gaps = ball_gaps(ball_table(TINY)).set_index("n")
    # n = 20: DNN mean -4, k-NN 1.5, NW 0.5 -> best NW, gap -4.5. n = 40: DNN -5, k-NN 0, NW 1 -> best k-NN, gap -5.
    assert gaps.dnn_log_error.tolist() == pytest.approx([-4.0, -5.0])
    assert gaps.knn_log_error.tolist() == pytest.approx([1.5, 0.0])
    assert gaps.nadaraya_watson_log_error.tolist() == pytest.approx([0.5, 1.0])
    assert gaps.best_baseline.tolist() == ["nadaraya_watson", "knn"]
    assert gaps.gap.tolist() == pytest.approx([-4.5, -5.0])
    assert (gaps.ambient_dim == 5).all() and (gaps.intrinsic_dim == 2).all() and gaps.complete.all()
    (claim,) = ball_claims(gaps.reset_index())
    assert claim.holds
    assert claim.id == "intrinsic.balls.balls_D5_d2.dnns_beat_baselines"
    assert claim.measured == "gap -5.00…-4.50; DNN log error -5.00…-4.00; baseline log error +0.00…+1.50"
    assert "-6 to -4" in claim.expected and "+1 to +2" in claim.expected


def test_a_dnn_losing_at_one_n_fails_the_claim_and_is_named():
    # The deep net at n = 40: mean log error 0.3 against k-NN's 0 -> gap +0.3; at n = 20: -2 vs 0.5 -> -2.5.
    table = ball_table({**TINY, (20, "dnn_l8w216"): [-2.0, -2.0], (40, "dnn_l8w216"): [0.2, 0.4]})
    gaps = ball_gaps(table)
    deep = gaps[gaps.method == "dnn_l8w216"].set_index("n")
    assert deep.gap.tolist() == pytest.approx([-2.5, 0.3])
    (claim,) = ball_claims(gaps)
    assert not claim.holds
    assert "DNN loses at: n=40 dnn_l8w216 (gap +0.30 vs knn)" in claim.detail
    assert "n=20" not in claim.detail.split("DNN loses at:")[1].split(";")[0]


def test_one_claim_per_setting_and_a_nan_baseline_is_incomplete():
    other = ball_table(TINY, setting="balls_D5_d4", dims=(5, 4))
    other.loc[(other.method == "knn") & (other.n == 20) & (other.replicate == 0), "value"] = np.nan
    gaps = ball_gaps(pd.concat([ball_table(TINY), other], ignore_index=True))
    claims = {c.id: c for c in ball_claims(gaps)}
    assert list(claims) == ["intrinsic.balls.balls_D5_d2.dnns_beat_baselines",
                            "intrinsic.balls.balls_D5_d4.dnns_beat_baselines"]
    assert claims["intrinsic.balls.balls_D5_d2.dnns_beat_baselines"].holds
    broken = claims["intrinsic.balls.balls_D5_d4.dnns_beat_baselines"]
    assert not broken.holds and "incomplete (non-finite or missing errors): n=20 dnn_l2w36" in broken.detail


def test_method_labels_follow_the_papers_legend():
    assert method_label("dnn_l2w36") == "DNN L=2, W=36"
    assert method_label("dnn_l8w216") == "DNN L=8, W=216"


# --- Figures ------------------------------------------------------------------------------------------------


def test_figures_render_to_png(tmp_path):
    use_style()
    table = sphere_table()
    table.loc[(table.intrinsic_dim == 100) & (table.n == 300) & (table.metric == "mse"), "value"] = np.nan
    slopes = sphere_slopes(table, seed=0, resamples=100, confidence=0.95)
    assert not slopes.set_index("intrinsic_dim").loc[100, "complete"]
    plot_sphere_curves(table, slopes).savefig(tmp_path / "sphere.png")
    balls = pd.concat([ball_table({**TINY, (20, "dnn_l8w216"): [-2.0, -2.0], (40, "dnn_l8w216"): [0.2, 0.4]}),
                       ball_table(TINY, setting="balls_D5_d4", dims=(5, 4))], ignore_index=True)
    figure = plot_ball_curves(balls)
    low, high = figure.axes[0].get_ylim()
    assert low < -6 and high > 2  # both the paper's bands and our data
    figure.savefig(tmp_path / "balls.png")
    assert (tmp_path / "sphere.png").stat().st_size > 10_000 and (tmp_path / "balls.png").stat().st_size > 10_000
