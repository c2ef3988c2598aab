"""Slopes, gaps, the did-it-learn guard and the claims of Nakada & Imaizumi's Sims 6.1 and 6.2, on synthetic run
tables with known answers."""

import numpy as np
import pandas as pd
import pytest

from dltheory.intrinsic.analysis import (
    ball_claims,
    ball_gaps,
    intrinsic_rate_exponent,
    sphere_claims,
    sphere_slopes,
    t_interval,
)
from dltheory.intrinsic.experiment import RUN_COLUMNS
from dltheory.intrinsic.figures import method_label, plot_ball_curves, plot_sphere_curves
from dltheory.plotting import use_style

SIZES = np.array([250, 400, 630, 1000])
VARIANCE = {2: 0.3, 4: 0.2, 8: 0.15}  # Var f per d, the constant predictor's error
# (D, d) -> (scale c, slope s): error c n^s, below Var f / 2 from n = 250. Relative errors at n = 1000 (c n^s / Var f):
# 0.033, 0.16, 0.27.
SPHERE = {(128, 2): (1.0, -0.67), (128, 4): (1.0, -0.5), (128, 8): (0.4, -0.33), (16, 4): (1.0, -0.5)}
CONTROL = {"intrinsic_dim": 4, "ambient_dims": [16, 128]}


def row(simulation, setting, ambient_dim, intrinsic_dim, beta, method, n, replicate, value, metric="mse",
        learned=True):
    return {"family": "intrinsic", "simulation": simulation, "setting": setting, "ambient_dim": ambient_dim,
            "intrinsic_dim": intrinsic_dim, "beta": beta, "method": method, "n": int(n), "replicate": replicate,
            "seed": 0, "metric": metric, "value": value, "hyperparameters": "{}", "diverged": False,
            "diverged_step": -1, "learned": learned}


def sphere_table(curves=SPHERE, replicates: int = 5, noise: float = 0.05, seed: int = 0) -> pd.DataFrame:
    """DNN errors c n^s times log-normal replicate noise, with the constant (Var f) and ridge (Var f / 3) rows and
    learned = error < Var f / 2, as the experiment writes them."""
    rng = np.random.default_rng(seed)
    rows = []
    for (D, d), (scale, slope) in curves.items():
        setting, variance = f"sphere_D{D}_d{d}", VARIANCE[d]
        errors = scale * SIZES**slope * np.exp(noise * rng.standard_normal((replicates, SIZES.size)))
        for r in range(replicates):
            for k, n in enumerate(SIZES):
                rows.append(row("sphere", setting, D, d, 2, "dnn", n, r, errors[r, k],
                                learned=bool(errors[r, k] < variance / 2)))
                rows.append(row("sphere", setting, D, d, 2, "dnn", n, r, 1.0, metric="stopped_early"))
                rows.append(row("sphere", setting, D, d, 2, "dnn", n, r, 300.0, metric="best_step"))
                rows.append(row("sphere", setting, D, d, 2, "constant", n, r, variance, learned=False))
                rows.append(row("sphere", setting, D, d, 2, "ridge", n, r, variance / 3))
    return pd.DataFrame(rows, columns=RUN_COLUMNS)


def claims_of(table, **overrides):
    slopes = sphere_slopes(table, confidence=0.95)
    arguments = {"ambient_dim": 128, "small_dims": [2, 4], "confidence": 0.95, "min_replicates": 3,
                 "control": CONTROL, "control_tolerance": 0.15, **overrides}
    return {c.id.split(".")[-1]: c for c in sphere_claims(table, slopes, **arguments)}


# --- Sim 6.1 ------------------------------------------------------------------------------------------------


def test_intrinsic_rate_exponent_is_2beta_over_2beta_plus_d():
    assert intrinsic_rate_exponent(2, 4) == pytest.approx(0.5)
    assert intrinsic_rate_exponent(1, 2) == pytest.approx(0.5)
    assert intrinsic_rate_exponent(2, 100) == pytest.approx(4 / 104)


def test_t_interval_is_mean_plus_minus_t_sd_over_root_r():
    interval = t_interval([1.0, 2.0, 3.0], 0.95)
    # mean 2, sd 1, t_2(0.975) = 4.303: half-width 4.303 / sqrt(3) = 2.484.
    assert interval["difference"] == pytest.approx(2.0)
    assert (interval["low"], interval["high"]) == pytest.approx((2 - 2.4843, 2 + 2.4843), abs=1e-3)
    assert interval["replicates"] == 3 and np.isnan(t_interval([1.0], 0.95)["low"])


def test_sphere_slopes_recover_the_known_slopes_with_t_intervals_and_references():
    slopes = sphere_slopes(sphere_table(noise=0.0), confidence=0.95).set_index("setting")
    for (D, d), (scale, slope) in SPHERE.items():
        fit = slopes.loc[f"sphere_D{D}_d{d}"]
        assert fit.slope == pytest.approx(slope, abs=1e-9)
        assert fit.error == pytest.approx(scale * 1000.0**slope)
        assert fit.relative_error == pytest.approx(scale * 1000.0**slope / VARIANCE[d])
        assert fit.ridge_error == pytest.approx(VARIANCE[d] / 3) and fit.variance == pytest.approx(VARIANCE[d])
        assert fit.replicates == 5 and fit.stopped_early == 1.0
    noisy = sphere_slopes(sphere_table(), confidence=0.95).set_index("setting")
    assert (noisy.low < noisy.slope).all() and (noisy.slope < noisy.high).all()
    assert noisy.loc["sphere_D128_d2", "theory_slope"] == pytest.approx(-2 / 3)


def test_sphere_claims_hold_when_error_and_rate_order_with_d_and_d_not_D():
    claims = claims_of(sphere_table())
    assert [claims[k].holds for k in ("error_lower_with_fewer_d", "rates_faster_with_small_d",
                                      "dnn_beats_references_at_small_d", "rate_independent_of_ambient_dim")] == [
        True, True, True, True]
    assert claims["rates_faster_with_small_d"].statement.startswith("(ii) The convergence rates with d in {2, 4} are "
                                                                    "faster than those with d in {8}")
    # Every interval says how many replicates it rests on.
    assert "t-interval over 5 replicates" in claims["rates_faster_with_small_d"].measured
    assert "t-interval over 5 replicates" in claims["rate_independent_of_ambient_dim"].measured


def test_the_ambient_control_fails_when_the_slopes_differ_by_more_than_the_tolerance():
    # D = 16 at slope -0.8 against D = 128's -0.5: a difference of -0.3, twice the tolerance.
    claims = claims_of(sphere_table({**SPHERE, (16, 4): (1.0, -0.8)}))
    control = claims["rate_independent_of_ambient_dim"]
    assert not control.holds and control.tolerance == 0.15
    assert control.measured.startswith("slope(D=128) - slope(D=16): +0.2")
    assert "[+0.19" in control.measured  # the whole interval above +0.15
    assert "diagnosis: finding" in control.detail


def test_the_ambient_control_fails_when_its_interval_is_too_wide():
    # Same mean slope, but replicate noise 0.5 in log error: the interval straddles the band's edges.
    claims = claims_of(sphere_table(noise=0.5, seed=3))
    assert not claims["rate_independent_of_ambient_dim"].holds


def test_rate_claim_fails_when_the_large_d_group_is_as_fast():
    # d = 8 at slope -0.6 (scale 1.8: still the largest relative error, 0.19 at n = 1000).
    claims = claims_of(sphere_table({**SPHERE, (128, 8): (1.8, -0.6)}))
    assert not claims["rates_faster_with_small_d"].holds
    assert claims["error_lower_with_fewer_d"].holds


def test_an_unlearned_run_is_ignored_and_too_few_learned_replicates_make_a_claim_not_testable():
    table = sphere_table()
    # Replicates 0-2 of d = 8 fail to learn at n = 250 (error at Var f): only 2 of 5 replicates are left.
    lost = ((table.setting == "sphere_D128_d8") & (table.method == "dnn") & (table.metric == "mse")
            & (table.n == 250) & (table.replicate < 3))
    table.loc[lost, ["value", "learned"]] = [VARIANCE[8], False]
    slopes = sphere_slopes(table, confidence=0.95).set_index("setting")
    assert slopes.loc["sphere_D128_d8", "replicates"] == 2
    assert slopes.loc["sphere_D128_d8", "learned_runs"] == 17
    claims = claims_of(table)
    for key in ("error_lower_with_fewer_d", "rates_faster_with_small_d"):
        assert not claims[key].holds
        assert "not testable (scale): only 2 of 5 replicates learned" in claims[key].detail
    # The control and the references read d = 2 and 4 only: untouched.
    assert claims["rate_independent_of_ambient_dim"].holds and claims["dnn_beats_references_at_small_d"].holds
    # d = 8's slope rests on the two learned replicates (their slope -0.33), not on the lost runs.
    assert slopes.loc["sphere_D128_d8", "slope"] == pytest.approx(-0.33, abs=0.1)


def test_the_dnn_must_beat_ridge_at_small_d():
    table = sphere_table()
    worse = (table.setting == "sphere_D128_d4") & (table.method == "ridge")
    table.loc[worse, "value"] = 0.001  # ridge far below the DNN's 0.032 at n = 1000
    claim = claims_of(table)["dnn_beats_references_at_small_d"]
    assert not claim.holds and "d=4: log(DNN / ridge) +3." in claim.measured


# --- Sim 6.2 ------------------------------------------------------------------------------------------------


def ball_table(log_errors: dict[tuple[int, str], list[float]], setting="balls_D5_d2", dims=(5, 2),
               variance: float = 1.0) -> pd.DataFrame:
    """mse = exp(given log error) per replicate, learned = mse < variance / 2, and the constant's rows."""
    rows = [row("balls", setting, *dims, 1, method, n, r, np.exp(value), learned=bool(np.exp(value) < variance / 2))
            for (n, method), values in log_errors.items() for r, value in enumerate(values)]
    sizes = sorted({n for n, _ in log_errors})
    replicates = len(next(iter(log_errors.values())))
    rows += [row("balls", setting, *dims, 1, "constant", n, r, variance, learned=False) for n in sizes
             for r in range(replicates)]
    return pd.DataFrame(rows, columns=RUN_COLUMNS)


TINY = {
    (20, "dnn_l2w36"): [-5.0, -3.0, -4.0], (20, "knn"): [-1.0, -2.0, -1.5], (20, "nadaraya_watson"): [-2.0, -1.0, -1.5],
    (40, "dnn_l2w36"): [-6.0, -4.0, -5.0], (40, "knn"): [-3.0, -3.0, -3.0], (40, "nadaraya_watson"): [-1.0, -1.0, -1.0],
}


def test_ball_gaps_by_hand():
    gaps = ball_gaps(ball_table(TINY)).set_index("n")
    # n = 20: DNN -4, k-NN -1.5, NW -1.5 (tie: k-NN first) -> gap -2.5; n = 40: DNN -5, k-NN -3 -> gap -2.
    assert gaps.dnn_log_error.tolist() == pytest.approx([-4.0, -5.0])
    assert gaps.best_baseline.tolist() == ["knn", "knn"]
    assert gaps.gap.tolist() == pytest.approx([-2.5, -2.0])
    assert (gaps.replicates == 3).all() and gaps.complete.all()
    (claim,) = ball_claims(gaps.reset_index(), min_replicates=3)
    assert claim.holds and claim.id == "intrinsic.balls.balls_D5_d2.dnns_beat_baselines"
    assert "t-interval over 3 replicates" in claim.detail


def test_a_dnn_losing_at_one_n_fails_the_claim_and_is_named():
    table = ball_table({**TINY, (40, "dnn_l2w36"): [-2.5, -2.5, -2.5]})
    (claim,) = ball_claims(ball_gaps(table), min_replicates=3)
    assert not claim.holds
    assert "DNN loses at: n=40 dnn_l2w36 (gap +0.50 vs knn)" in claim.detail


def test_an_n_where_the_baselines_did_not_learn_is_not_testable():
    # At n = 20 k-NN's errors exp(-0.5) = 0.61 are above Var f / 2 = 0.5: nothing there counts as evidence.
    table = ball_table({**TINY, (20, "knn"): [-0.5, -0.5, -0.5], (20, "dnn_l2w36"): [-0.1, -0.1, -0.1]})
    gaps = ball_gaps(table).set_index("n")
    assert gaps.loc[20, "replicates"] == 0 and gaps.loc[40, "replicates"] == 3
    (claim,) = ball_claims(gaps.reset_index(), min_replicates=3)
    # Only n = 40 is testable: fewer than two n, so the claim is not testable although the DNN loses nowhere.
    assert not claim.holds and "n=20 dnn_l2w36 (0/3)" in claim.detail and "not testable (scale)" in claim.detail


def test_method_labels_follow_the_papers_legend():
    assert method_label("dnn_l2w36") == "DNN L=2, W=36"
    assert method_label("dnn_l8w216") == "DNN L=8, W=216"


# --- Figures ------------------------------------------------------------------------------------------------


def test_figures_render_to_png(tmp_path):
    use_style()
    table = sphere_table()
    table.loc[(table.setting == "sphere_D128_d8") & (table.n == 250) & (table.metric == "mse")
              & (table.method == "dnn"), "learned"] = False
    slopes = sphere_slopes(table, confidence=0.95)
    plot_sphere_curves(table, slopes, 128, 4).savefig(tmp_path / "sphere.png")
    figure = plot_ball_curves(pd.concat([ball_table(TINY), ball_table(TINY, "balls_D5_d4", (5, 4))]))
    low, high = figure.axes[0].get_ylim()
    assert low < -6 and high > 2  # both the paper's bands and our data
    figure.savefig(tmp_path / "balls.png")
    assert (tmp_path / "sphere.png").stat().st_size > 10_000 and (tmp_path / "balls.png").stat().st_size > 10_000


# --- Captions -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("config_file, replicates", [("config/config.yaml", 5), ("config/paper.yaml", 100)])
def test_captions_quote_the_config_they_are_rendered_with(config_file, replicates):
    from pathlib import Path

    import yaml

    from dltheory.captions import caption_source
    from dltheory.config import load_schema, validate_config
    from dltheory.settings import to_config

    root = Path(__file__).resolve().parents[1]
    raw = yaml.safe_load((root / config_file).read_text())
    settings = validate_config(raw, load_schema(root / "workflow/schemas/config.schema.yaml"))["intrinsic"]
    config = {"seed": 0, "intrinsic": to_config(settings)}
    sphere, balls = (" ".join(caption_source(root / f"report/captions/intrinsic_{name}.rst", config).split())
                     for name in ("sphere_error_vs_n", "balls_error_vs_n"))
    assert f"over {replicates} replicates" in sphere and "{{" not in sphere + balls
    assert f"over {settings.balls.replicates} replicates" in balls
    assert r"d \in \{ " + ", ".join(map(str, settings.sphere.intrinsic_dims)) + r" \}" in sphere


def _estimate(measured: str) -> float:
    """The estimate a measured text prints before its interval: '... -0.227 [-0.349, -0.106], ...'."""
    return float(measured.split(" [", 1)[0].split()[-1])


def test_sphere_claims_carry_the_interval_its_kind_replicates_and_diagnosis():
    claims = claims_of(sphere_table(replicates=5))
    for key in ("rates_faster_with_small_d", "rate_independent_of_ambient_dim"):  # one estimate each
        claim = claims[key]
        low, high = claim.interval
        assert low < _estimate(claim.measured) < high and f"[{low:+.3f}, {high:+.3f}]" in claim.measured
        assert claim.interval_kind == "95% t-interval over paired replicates" and claim.replicates == 5
    # One interval per pair of d, or per small d: not one estimate, so no interval, but the replicate count.
    for key in ("error_lower_with_fewer_d", "dnn_beats_references_at_small_d"):
        assert claims[key].interval is None and claims[key].replicates == 5
    # With one small d, the DNN-vs-ridge claim is one interval.
    single = claims_of(sphere_table(replicates=5), small_dims=[2])["dnn_beats_references_at_small_d"]
    assert single.interval[0] < _estimate(single.measured) < single.interval[1]
    assert single.interval_kind == "95% t-interval of log(DNN / ridge) over replicates" and single.replicates == 5
    assert all(c.diagnosis == "" for c in claims.values())  # all held
    # The diagnosis the detail states, as a field: outside the band (finding), across 0 (scale).
    control = claims_of(sphere_table({**SPHERE, (16, 4): (1.0, -0.8)}))["rate_independent_of_ambient_dim"]
    assert control.diagnosis == "finding" and "diagnosis: finding" in control.detail
    rate = claims_of(sphere_table({**SPHERE, (128, 8): (1.8, -0.6)}))["rates_faster_with_small_d"]
    assert rate.diagnosis == "scale" and "diagnosis: scale at the group difference" in rate.detail
    # Not testable: no diagnosis, and the count of the replicates left.
    table = sphere_table()
    lost = ((table.setting == "sphere_D128_d8") & (table.method == "dnn") & (table.metric == "mse")
            & (table.n == 250) & (table.replicate < 3))
    table.loc[lost, ["value", "learned"]] = [VARIANCE[8], False]
    untested = claims_of(table)["rates_faster_with_small_d"]
    assert not untested.tested and untested.diagnosis == "" and untested.replicates == 2


def test_ball_claims_carry_replicates_and_the_sign_diagnosis():
    (held,) = ball_claims(ball_gaps(ball_table(TINY)), min_replicates=3)
    assert held.interval is None and held.replicates == 3 and held.diagnosis == ""
    # The DNN's gap at n = 40 is +0.50 in every replicate: its interval is above 0, a finding.
    (lost,) = ball_claims(ball_gaps(ball_table({**TINY, (40, "dnn_l2w36"): [-2.5, -2.5, -2.5]})), min_replicates=3)
    assert lost.diagnosis == "finding" and "finding at n=40 dnn_l2w36" in lost.detail and lost.replicates == 3
    # Across 0: scale.
    (close,) = ball_claims(ball_gaps(ball_table({**TINY, (40, "dnn_l2w36"): [-4.0, -2.0, -2.5]})), min_replicates=3)
    assert not close.holds and close.diagnosis == "scale" and "scale at n=40 dnn_l2w36" in close.detail
