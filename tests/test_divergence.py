"""Divergence is a result, not a crash (issue 22): each family's claims and figures on tables with diverged runs.

A claim resting only on diverged runs is not tested and says how many diverged; with some runs diverged, those are
left out and counted; no figure raises on all-NaN or all-diverged cells.
"""

import io

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib import pyplot as plt  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _texts(figure) -> str:
    """Every piece of text a figure shows: titles, annotations, legend entries."""
    return " ".join(t.get_text() for t in figure.findobj(matplotlib.text.Text))


def _drawn(figure) -> str:
    """Draw the figure (where a log axis with nothing positive would raise), at a low resolution to keep the test
    fast, and return its text."""
    figure.savefig(io.BytesIO(), format="png", dpi=20)
    return _texts(figure)


# --- nonsmooth ----------------------------------------------------------------------------------------------

NONSMOOTH_SIZES = [256, 512, 1024, 2048]


def _nonsmooth_table(diverged_runs=(), replicates=4, all_dnn_diverged=False):
    """DNN (slope -0.7), spline (slope -0.3), and the references (constant 1.0, ridge 0.6) per (n, replicate);
    a DNN run in ``diverged_runs`` ((n, replicate)) diverged before any good checkpoint: error NaN, flag set."""
    from dltheory.nonsmooth.experiment import RUN_COLUMNS

    rng = np.random.default_rng(0)
    rows = []
    for method, slope, level in (("dnn", -0.7, 2.0), ("spline", -0.3, 0.0), ("constant", 0, 0), ("ridge", 0, 0)):
        for replicate in range(replicates):
            for n in NONSMOOTH_SIZES:
                value = {"constant": 1.0, "ridge": 0.6}.get(
                    method, float(np.exp(level + slope * np.log(n) + 0.02 * rng.standard_normal())))
                lost = method == "dnn" and (all_dnn_diverged or (n, replicate) in diverged_runs)
                rows.append({"family": "nonsmooth", "target": "t", "dim": 2, "alpha": 2.0, "beta": 2.0, "pieces": 2,
                             "method": method, "n": n, "replicate": replicate, "seed": 0, "metric": "mse",
                             "value": np.nan if lost else value, "hyperparameters": "{}", "diverged": lost,
                             "diverged_step": 3 if lost else -1})
    return pd.DataFrame(rows, columns=RUN_COLUMNS)


def test_nonsmooth_leaves_diverged_replicates_out_and_counts_them():
    from dltheory.nonsmooth.analysis import target_claims
    from dltheory.nonsmooth.figures import plot_error_curves

    table = _nonsmooth_table(diverged_runs={(256, 1), (2048, 2)})
    claims = {c.id: c.to_dict() for c in target_claims(table, "t", 0.95, 0.05, critical=True)}
    steeper = claims["nonsmooth.t.dnn_steeper_than_spline"]
    assert steeper["tested"] and steeper["holds"]
    assert "R=2" in steeper["measured"] and "nan" not in steeper["measured"]
    assert "2 of 4 replicates diverged" in steeper["detail"]
    learns = claims["nonsmooth.t.dnn_learns"]
    assert learns["tested"] and learns["holds"] and learns["measured"].startswith("14/14 runs learned")
    assert "2 of 16 DNN runs diverged" in learns["detail"]
    assert claims["nonsmooth.t.spline_no_faster_than_linear_bound"]["tested"]  # spline did not diverge
    assert "diverged" in _drawn(plot_error_curves(table, ["t"]))


def test_nonsmooth_claims_on_diverged_runs_alone_are_not_tested():
    from dltheory.nonsmooth.analysis import target_claims
    from dltheory.nonsmooth.figures import plot_error_curves

    few = {c.id: c.to_dict() for c in target_claims(_nonsmooth_table(diverged_runs={(256, 0), (256, 1), (512, 2)}),
                                                    "t", 0.95, 0.05)}
    steeper = few["nonsmooth.t.dnn_steeper_than_spline"]  # one replicate left: no interval
    assert not steeper["tested"] and not steeper["holds"] and "nan" not in steeper["measured"]
    assert steeper["detail"].startswith("not tested") and "3 of 4 replicates diverged" in steeper["detail"]

    table = _nonsmooth_table(all_dnn_diverged=True)
    claims = [c.to_dict() for c in target_claims(table, "t", 0.95, 0.05)]
    assert [c["id"] for c in claims] == ["nonsmooth.t.dnn_learns", "nonsmooth.t.dnn_steeper_than_spline"]
    for claim in claims:
        assert not claim["tested"] and not claim["holds"] and "nan" not in claim["measured"], claim
        assert claim["detail"].startswith("not tested")
    assert "16 DNN runs diverged" in claims[0]["measured"] and "4 of 4 replicates diverged" in claims[1]["detail"]
    assert "16 of 16 runs diverged" in _drawn(plot_error_curves(table, ["t"]))
    every = table.assign(value=np.nan)  # nothing finite at all: the panel says so instead of a log axis
    assert "every run diverged" in _drawn(plot_error_curves(every, ["t"]))


# --- region (the (alpha, beta) map of the nonsmooth family) -----------------------------------------------------


def _region_table(lost_dnn_runs=None):
    """Two D = 5 cells, one inside J's region (alpha 3.5, beta 2.5: the DNN steeper) and one on the same-rate side
    (alpha 5, beta 1: equal slopes), with the constant predictor's error 1; ``lost_dnn_runs``: a boolean mask over
    the DNN rows that diverged (error NaN), or None."""
    from dltheory.nonsmooth.experiment import RUN_COLUMNS

    rng = np.random.default_rng(1)
    rows = []
    for target, alpha, beta, slopes in (("inside", 3.5, 2.5, {"dnn": -0.6, "fourier": -0.3}),
                                        ("same", 5.0, 1.0, {"dnn": -0.4, "fourier": -0.4})):
        for method, slope in {**slopes, "constant": 0.0}.items():
            for replicate in range(4):
                for n in NONSMOOTH_SIZES:
                    value = 1.0 if method == "constant" else float(
                        0.3 * (n / 256) ** slope * np.exp(0.03 * rng.standard_normal()))
                    rows.append({"family": "region", "target": target, "dim": 5, "alpha": alpha, "beta": beta,
                                 "pieces": 2, "method": method, "n": n, "replicate": replicate, "seed": 0,
                                 "metric": "mse", "value": value, "hyperparameters": "{}", "diverged": False,
                                 "diverged_step": -1})
    table = pd.DataFrame(rows, columns=RUN_COLUMNS)
    if lost_dnn_runs is not None:
        lost = (table.method == "dnn").to_numpy() & lost_dnn_runs(table)
        table.loc[lost, ["value", "diverged", "diverged_step"]] = [np.nan, True, 3]
    return table


def test_region_counts_diverged_runs_and_a_map_of_diverged_cells_is_not_tested():
    from dltheory.nonsmooth.figures import plot_region_map
    from dltheory.nonsmooth.region import region_cells, region_claims

    one = _region_table(lambda t: ((t.target == "inside") & (t.replicate == 0) & (t.n == 512)).to_numpy())
    cells = region_cells(one, 0.95).set_index("target")
    assert cells.loc["inside", "testable"] and cells.loc["inside", "replicates"] == 3
    assert cells.loc["inside", "diverged_runs"] == 1 and cells.loc["same", "diverged_runs"] == 0
    claims = [c.to_dict() for c in region_claims(cells.reset_index(), 0.8)]
    assert all(c["tested"] and c["holds"] for c in claims), claims
    assert "1 unlearned run(s) in 1 cell(s) left out by the did-it-learn guard (1 of them diverged" in claims[0][
        "detail"]

    every = _region_table(lambda t: np.ones(len(t), bool))
    cells = region_cells(every, 0.95)
    assert not cells.testable.any() and list(cells.diverged_runs) == [16, 16]
    claims = [c.to_dict() for c in region_claims(cells, 0.8)]
    for claim in claims:
        assert not claim["tested"] and not claim["holds"] and "nan" not in claim["measured"], claim
        assert "32 of them diverged" in claim["detail"]
    assert "16 run(s) diverged" in _drawn(plot_region_map(cells))


# --- intrinsic ----------------------------------------------------------------------------------------------


def _intrinsic_table(lost=lambda row: False):
    """The intrinsic family's run table: Sim 6.1 on d = 2 and 8 spheres in D = 16 (DNN slopes -0.5 and -0.2,
    ridge 0.4, Var f 1) and Sim 6.2 at (D, d) = (16, 2) (the DNN at 0.01 of both baselines' 0.3), three replicates;
    a DNN run where ``lost(row)`` diverged before any good checkpoint: error NaN, not learned, flagged."""
    from dltheory.intrinsic.experiment import RUN_COLUMNS

    rng = np.random.default_rng(2)
    rows = []
    plan = [("sphere", "sphere_D16_d2", 2, {"dnn": (0.2, -0.5), "constant": (1.0, 0), "ridge": (0.4, 0)}),
            ("sphere", "sphere_D16_d8", 8, {"dnn": (0.3, -0.2), "constant": (1.0, 0), "ridge": (0.4, 0)}),
            ("balls", "balls_D16_d2", 2, {"dnn": (0.01, 0), "knn": (0.3, 0), "nadaraya_watson": (0.3, 0),
                                          "constant": (1.0, 0), "ridge": (0.4, 0)})]
    for simulation, setting, d, methods in plan:
        for method, (level, slope) in methods.items():
            for replicate in range(3):
                for n in NONSMOOTH_SIZES:
                    row = {"family": "intrinsic", "simulation": simulation, "setting": setting, "ambient_dim": 16,
                           "intrinsic_dim": d, "beta": 2.0, "method": method, "n": n, "replicate": replicate,
                           "seed": 0, "metric": "mse", "hyperparameters": "{}", "diverged": False,
                           "diverged_step": -1}
                    value = level * (n / 256) ** slope * (1 if method == "constant" else
                                                          np.exp(0.02 * rng.standard_normal()))
                    if method == "dnn" and lost(row):
                        row.update(diverged=True, diverged_step=3)
                        value = np.nan
                    rows.append({**row, "value": value, "learned": bool(np.isfinite(value) and value < 0.5)})
    return pd.DataFrame(rows, columns=RUN_COLUMNS)


def _intrinsic_analysis(table):
    from dltheory.intrinsic.analysis import ball_claims, ball_gaps, sphere_claims, sphere_slopes
    from dltheory.intrinsic.figures import plot_ball_curves, plot_sphere_curves

    slopes = sphere_slopes(table, 0.95)
    claims = sphere_claims(table, slopes, 16, [2], 0.95, 2) + ball_claims(ball_gaps(table), 2)
    figures = [plot_sphere_curves(table, slopes, 16), plot_ball_curves(table)]
    return {c.id: c.to_dict() for c in claims}, " ".join(map(_drawn, figures))


def test_intrinsic_leaves_diverged_replicates_out_and_counts_them():
    claims, _ = _intrinsic_analysis(_intrinsic_table(lambda row: row["replicate"] == 0 and row["n"] == 512))
    assert set(claims) == {"intrinsic.sphere.error_lower_with_fewer_d", "intrinsic.sphere.rates_faster_with_small_d",
                           "intrinsic.sphere.dnn_beats_references_at_small_d",
                           "intrinsic.balls.balls_D16_d2.dnns_beat_baselines"}
    for claim in claims.values():
        assert claim["tested"] and claim["holds"], claim
    assert "2 of 24 DNN runs diverged, left out" in claims["intrinsic.sphere.error_lower_with_fewer_d"]["detail"]
    assert "over 2 replicates" in claims["intrinsic.sphere.rates_faster_with_small_d"]["measured"]
    assert "1 of 12 DNN runs diverged" in claims["intrinsic.balls.balls_D16_d2.dnns_beat_baselines"]["detail"]


def test_intrinsic_claims_on_diverged_runs_alone_are_not_tested():
    claims, texts = _intrinsic_analysis(_intrinsic_table(lambda row: True))
    for claim in claims.values():
        assert not claim["tested"] and not claim["holds"] and "nan" not in claim["measured"], claim
    assert "24 of 24 DNN runs diverged" in claims["intrinsic.sphere.error_lower_with_fewer_d"]["detail"]
    assert "12 of 12 DNN runs diverged" in claims["intrinsic.balls.balls_D16_d2.dnns_beat_baselines"]["detail"]
    assert "every run diverged (not drawn)" in texts


# --- natgrad (geometry) ---------------------------------------------------------------------------------------


def _natgrad_table(diverged=lambda method, width, replicate: False):
    """The natgrad family's collected table: exact NGD, block-diagonal NGD and the NTK-limit prediction one step at
    widths 32 and 64, GD for 6 steps, three seeds. Exact NGD leaves 1 % of the loss (2 % at width 32), block-diagonal
    1.5 times that; GD halves it per step. A run ``diverged`` names ends as the training loop ends it: its step-1
    loss NaN, the run flagged."""
    rows = []
    for method, rate, steps in (("gd", 16.0, 6), ("exact", 1.0, 2), ("block_diagonal", 1.0, 2), ("ntk_limit", 1.0, 2)):
        for width in (32, 64):
            for replicate in range(3):
                lost = method != "ntk_limit" and diverged(method, width, replicate)  # the prediction is not trained
                residual = {"exact": 1.0, "block_diagonal": 1.5, "ntk_limit": 1.0}.get(method, 0.0) * 0.64 / width
                for step in range(steps):
                    for split in ("train", "test"):
                        value = (0.5 ** step if method == "gd" else (1.0 if step == 0 else residual))
                        value *= 1.0 + 0.05 * replicate + (0.5 if split == "test" else 0.0)
                        if method == "ntk_limit" and split == "train" and step == 1:
                            value = 0.0  # the NTK limit fits the training set exactly
                        rows.append({"step": step, "split": split, "metric": "loss",
                                     "value": np.nan if lost and step >= 1 else value, "diverged": lost,
                                     "learning_rate": rate, "rate_multiple": 1.0, "lambda_max": 0.06, "method": method,
                                     "width": width, "layers": 4, "train_size": 20, "test_size": 10,
                                     "replicate": replicate})
    return pd.DataFrame(rows)


def _natgrad_analysis(table, every_figure=True):
    from dltheory.geometry.natgrad import natgrad_claims
    from dltheory.geometry.natgrad_figures import plot_exact_vs_width, plot_loss_vs_step, plot_one_step_vs_width

    section = {"width": 64, "widths": [32, 64], "layers": 4, "train_size": 20, "test_size": 10, "replicates": 3}
    claims = natgrad_claims(table, section)
    figures = [plot_one_step_vs_width(table, 0.95)] + ([plot_loss_vs_step(table, 64),
                                                        plot_exact_vs_width(table, 10.0, 1.5, 0.95)]
                                                       if every_figure else [])
    return {c.id: c.to_dict() for c in claims}, " ".join(map(_drawn, figures))


def test_natgrad_leaves_diverged_seeds_out_and_counts_them():
    claims, texts = _natgrad_analysis(_natgrad_table(lambda m, w, r: m == "block_diagonal" and r == 0),
                                      every_figure=False)
    match = claims["natgrad.approximations_match_exact_ngd"]
    assert match["tested"] and match["holds"] and match["measured"] == pytest.approx(1.5, rel=0.01)
    assert "(n = 2; 1 of 3 diverged, left out)" in match["detail"]
    assert claims["natgrad.exact_ngd_fits_in_one_step"]["tested"]
    ntk = claims["natgrad.exact_ngd_follows_the_ntk_limit"]  # exact NGD did not diverge: untouched
    assert ntk["tested"] and ntk["holds"] and "diverged" not in ntk["detail"]
    assert "diverged runs left out" in texts


def test_natgrad_claims_on_diverged_runs_alone_are_not_tested():
    claims, texts = _natgrad_analysis(_natgrad_table(lambda m, w, r: m != "gd"))
    assert "natgrad.exact_ngd_follows_the_ntk_limit" in claims
    for claim in claims.values():
        assert not claim["tested"] and not claim["holds"], claim
    assert "3 of 3 diverged, left out" in claims["natgrad.exact_ngd_fits_in_one_step"]["detail"]
    assert claims["natgrad.gd_needs_many_more_steps"]["measured"] == "every one of 3 seeds' exact NGD diverged"
    assert "every run diverged" in texts


# --- isometry (geometry): the SGD stability grid ---------------------------------------------------------------


def _isometry_sgd(diverged=lambda depth, rate, seed: False):
    """The isometry family's SGD part (columns of its collected table's "sgd" rows): depths 2 and 4, rates 0.01 to
    1, two seeds, records at steps 0, 16 and 32; a diverged run's later losses are NaN and it is flagged from then."""
    rows = []
    for depth in (2, 4):
        for rate in (0.01, 0.1, 1.0):
            for seed in (0, 1):
                lost = diverged(depth, rate, seed)
                for step in (0, 16, 32):
                    loss = 0.01 * (1.0 if step == 0 else 0.5 ** (step / 16))
                    rows.append({"condition": "main", "depth": depth, "teacher": "near", "learning_rate": rate,
                                 "seed": float(seed), "step": float(step),
                                 "loss": np.nan if lost and step else loss,
                                 "online_loss": np.nan if lost or not step else loss,
                                 "diverged": bool(lost and step), "initial_loss": 0.01,
                                 "initial_gradient_norm": 0.3, "peak_online_loss": 0.011})
    return pd.DataFrame(rows)


def test_isometry_stability_grid_draws_diverged_cells_and_has_no_edge_where_all_diverged():
    from dltheory.geometry.isometry import stability_edge
    from dltheory.geometry.isometry_figures import plot_sgd_grid

    some = _isometry_sgd(lambda depth, rate, seed: rate == 1.0 or (depth == 4 and rate == 0.1 and seed == 0))
    edges = stability_edge(some).set_index("depth")["edge"]
    assert edges[2] == pytest.approx(0.1) and edges[4] == pytest.approx(0.01)  # one diverged seed makes a rate unstable
    every = _isometry_sgd(lambda depth, rate, seed: True)
    assert stability_edge(every)["edge"].isna().all()
    for table in (some, every):
        assert "×" in _drawn(plot_sgd_grid(table))


# --- batchnorm (geometry): the GD stability grid --------------------------------------------------------------


def _batchnorm_gd(diverged=lambda variant, width, replicate, multiple: False):
    """The batchnorm family's GD grid rows (its collected table's "gd" part): two variants, widths 16 and 32, two
    seeds, rates 0.5 to 4 times 2 / lambda_max; runs at 2 and above diverge anyway (NaN losses, unstable), others
    where ``diverged`` says so."""
    rows = []
    for variant in ("none", "last_batch_norm"):
        for width in (16, 32):
            for replicate in (0, 1):
                for multiple in (0.5, 1.0, 2.0, 4.0):
                    lost = multiple >= 2.0 or diverged(variant, width, replicate, multiple)
                    for metric, value in (("initial_loss", 0.2), ("final_loss", 0.05), ("max_loss", 0.2)):
                        rows.append({"width": width, "replicate": replicate, "grid": "gd", "variant": variant,
                                     "metric": metric, "value": np.nan if lost and metric != "initial_loss" else value,
                                     "part": "gd", "rate_multiple": multiple, "learning_rate": multiple * 2 / 20.0,
                                     "lambda_max": 20.0, "hessian_lambda_max": 19.0, "final_lambda_max": 21.0,
                                     "diverged": lost, "first_rise": -1.0, "stable": not lost, "steps": 4.0,
                                     "first_steps": 4.0})
    return pd.DataFrame(rows)


def test_batchnorm_gd_grid_draws_diverged_runs_and_has_no_edge_where_all_diverged():
    from dltheory.geometry.batchnorm import gd_edges
    from dltheory.geometry.batchnorm_figures import plot_gd_grid

    some = _batchnorm_gd()
    assert np.allclose(gd_edges(some)["edge_multiple"], np.sqrt(2.0))  # between the last stable and first diverged
    every = _batchnorm_gd(lambda *run: True)
    assert gd_edges(every)["edge_multiple"].isna().all()
    assert "no edge: every run diverged" in _drawn(plot_gd_grid(every))


# --- GAN ----------------------------------------------------------------------------------------------------

GAN_VARIANTS = ["sn_wasserstein", "sn_gp", "smoothed"]
GAN_STEPS = (0, 10, 20, 30, 40)


def _gan_table(diverged_rates=(1000.0,), diverged_sanity_seeds=(1,)):
    """The collected GAN table (``results/gan/gan.parquet``'s columns): ring runs of three variants, two
    activations, gradient descent at rates 0.1 and 1000, two seeds, evaluated every 10 of 40 steps, and the
    sanity baseline's two WGAN-GP seeds. At 0.1 SN + GP and the smoothed variant learn and become stationary, SN
    alone does not learn; a run at a rate in ``diverged_rates`` (or a sanity seed listed) diverges at step 10, as the
    training loop records it: every value from that step on NaN, the run flagged with its step."""
    from dltheory.gan.analysis import CONDITION_METRICS

    columns = ["part", "dataset", "variant", "activation", "optimizer", "learning_rate", "seed", "step", "metric",
               "value", "diverged", "diverged_step"]
    runs = [("toy", v, a, rate, seed) for v in GAN_VARIANTS for a in ("relu", "elu") for rate in (0.1, 1000.0)
            for seed in (0, 1)]
    runs += [("sanity", "wgan_gp", "relu", 1e-3, seed) for seed in (0, 1)]
    rows = []
    for part, variant, activation, rate, seed in runs:
        lost = rate in diverged_rates if part == "toy" else seed in diverged_sanity_seeds
        learns = variant != "sn_wasserstein"
        for step in GAN_STEPS:
            late = step >= 40
            values = {"wasserstein1": 1.0 if step == 0 or not learns else 0.1 * (1 + 0.01 * seed),
                      "mode_coverage": 1.0 if learns else 0.25, "high_quality_fraction": 0.9 if learns else 0.1}
            if step > 0:
                values["generator_grad_norm"] = 1.0 if step <= 10 else 0.1
            if late:
                values.update(zip(CONDITION_METRICS, (1.0, 2.0, 4.0), strict=True))
            rows += [(part, "ring", variant, activation, "sgd", rate, seed, step, metric,
                      np.nan if lost and step >= 10 else value, lost, 10 if lost else -1)
                     for metric, value in values.items()]
    return pd.DataFrame(rows, columns=columns)


def _gan_samples(table):
    """Final 2-D samples per run (``samples.parquet``'s columns); NaN for a diverged run."""
    keys = ["part", "dataset", "variant", "activation", "optimizer", "learning_rate", "seed"]
    runs = table.groupby(keys)["diverged"].any().reset_index()
    rng = np.random.default_rng(0)
    frames = [pd.DataFrame({**{k: getattr(r, k) for k in keys}, "sample": range(20),
                            "x0": np.nan if r.diverged else rng.normal(size=20),
                            "x1": np.nan if r.diverged else rng.normal(size=20)}) for r in runs.itertuples()]
    return pd.concat(frames, ignore_index=True)


def _gan_analysis(table, drawn=6):
    """The GAN notebook's analysis and its first ``drawn`` figures on ``table``: the claims as records, and each
    figure's text."""
    from dltheory.gan.analysis import (
        converged,
        converged_fractions,
        descent_lemma_table,
        gan_claims,
        measured_conditions,
        sanity_claim,
        stability_map,
    )
    from dltheory.gan.figures import (
        plot_conditions_table,
        plot_descent_lemma,
        plot_samples_2d,
        plot_sanity,
        plot_stability_maps,
        plot_trajectories,
    )
    from dltheory.gan.settings import GanClaims, GanSanity

    samples = _gan_samples(table)
    metrics, sanity_metrics = table[table.part != "sanity"], table[table.part == "sanity"]
    runs, sanity_runs = (converged(m, 0.25, 0.75, 0.5) for m in (metrics, sanity_metrics))
    cells = stability_map(runs)
    measured = measured_conditions(metrics)
    sanity = GanSanity(steps=40, batch_size=16, width=8, depth=1, learning_rate=1e-3, seeds=2)
    claims = [sanity_claim(sanity_runs, sanity), *gan_claims(runs, GanClaims(min_seeds=2), {("smoothed", "elu")})]
    figures = [lambda: plot_stability_maps(cells, GAN_VARIANTS),
               lambda: plot_sanity(samples[samples.part == "sanity"], sanity_runs, 0.5),
               lambda: plot_trajectories(metrics, "ring", "sgd", 1000.0, GAN_VARIANTS, 0.25, 0.5),
               lambda: plot_samples_2d(samples[samples.part != "sanity"], "sgd", 1000.0, 0, GAN_VARIANTS),
               lambda: plot_descent_lemma(descent_lemma_table(cells, measured, 0.5, 2)),
               lambda: plot_conditions_table(converged_fractions(runs), measured, ["relu", "elu"], GAN_VARIANTS)]
    return {c.id: c.to_dict() for c in claims}, [_drawn(draw()) for draw in figures[:drawn]]


def test_gan_partly_diverged_runs_are_an_outcome_and_counted():
    claims, texts = _gan_analysis(_gan_table(), drawn=2)
    sanity = claims["gan.sanity_baseline_learns"]
    assert sanity["tested"] and sanity["holds"] and sanity["measured"].startswith("1/1 seeds")
    assert "1 of 2 seeds diverged, left out" in sanity["detail"]
    # At rate 0.1 SN + GP learns and SN alone does not; at 1000 every seed diverged: not learned, not a NaN.
    assert claims["gan.sn_alone_fails"]["tested"] and claims["gan.sn_alone_fails"]["holds"]
    stationarity = claims["gan.eventual_stationarity"]
    assert stationarity["tested"] and stationarity["holds"] and "2/2 learned runs" in stationarity["measured"]
    stability, sanity_figure = texts
    assert "×" in stability and "seed 1: diverged" in sanity_figure and "seed 0: HQ 0.90" in sanity_figure


def test_gan_claims_on_diverged_runs_alone_are_not_tested():
    claims, texts = _gan_analysis(_gan_table(diverged_rates=(0.1, 1000.0), diverged_sanity_seeds=(0, 1)), drawn=5)
    for name in ("gan.sanity_baseline_learns", "gan.sn_alone_fails", "gan.smooth_activations_help",
                 "gan.eventual_stationarity"):
        claim = claims[name]
        assert not claim["tested"] and not claim["holds"], claim
        assert "nan" not in claim["measured"] + claim["detail"], claim
    assert "every one of 2 seeds diverged" in claims["gan.sanity_baseline_learns"]["measured"]
    assert "24 of 24 runs diverged" in claims["gan.smooth_activations_help"]["detail"]
    assert "4 of 4 runs diverged" in claims["gan.eventual_stationarity"]["detail"]
    _, sanity_figure, trajectories, samples, lemma = texts
    assert "seed 0: diverged" in sanity_figure and "diverged: no finite value" in trajectories
    assert "diverged" in samples and "no finite smoothness measured" in lemma
