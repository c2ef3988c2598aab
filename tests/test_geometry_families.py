"""The batch-norm and natural-gradient families: settings, data, outcomes and claims on small runs."""

import dataclasses
import itertools
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import yaml

from dltheory.geometry import batchnorm, batchnorm_measure, natgrad, natgrad_train
from dltheory.geometry.mlp import MlpSpec, forward, init_params
from dltheory.geometry.settings import BatchnormSettings, IsometrySettings, NatgradSettings, SpectraSettings
from dltheory.settings import SettingsError, analysis_keys, from_config, job_config, schema_mismatches

SCHEMA = yaml.safe_load((Path(__file__).parents[1] / "workflow/schemas/config.schema.yaml").read_text())
FAMILIES = {"batchnorm": BatchnormSettings, "natgrad": NatgradSettings, "spectra": SpectraSettings,
            "isometry": IsometrySettings}

SMALL_BATCHNORM = {"widths": [16, 32], "samples_per_width": 0.5, "input_dim_per_width": 0.5, "replicates": 3,
                   "coupled_max_width": 16, "diagram": {"samples": [4, 8, 16]},
                   "gd": {"widths": [16], "steps": 8, "first_steps": 8,
                          "rate_multiples": {"min": 0.5, "max": 8.0, "count": 5}}}


@pytest.mark.parametrize("family", FAMILIES)
def test_settings_and_schema_list_the_same_keys_and_claims_are_analysis_only(family):
    cls = FAMILIES[family]
    assert schema_mismatches(cls, SCHEMA["properties"][family], family, SCHEMA.get("definitions")) == []
    assert "claims" in analysis_keys(cls)
    assert "claims" not in job_config(cls()) and "claims" in dataclasses.asdict(cls())
    assert cls().figure_names() == {"batchnorm": ("fisher_vs_width", "tm_diagram", "gd_grid"),
                                    "natgrad": ("loss_vs_step", "exact_vs_width", "one_step_vs_width"),
                                    "spectra": ("histograms", "outliers_vs_width", "input_metric_vs_dim"),
                                    "isometry": ("spectra", "max_and_edge_vs_depth", "spread_vs_depth",
                                                 "sgd_grid")}[family]


def test_the_settings_module_does_not_import_torch():
    code = "import sys, dltheory.geometry.settings; assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_batchnorm_settings_name_a_bad_key_or_variant():
    with pytest.raises(SettingsError, match=r"^batchnorm\.width: no such setting"):
        batchnorm_measure.run_spectra({"width": 3}, seed=0)
    with pytest.raises(SettingsError, match=r"^batchnorm\.gd\.variants: unknown name 'batch'"):
        from_config(BatchnormSettings, {"gd": {"variants": ["batch"]}}, "batchnorm")
    with pytest.raises(SettingsError, match=r"^batchnorm\.gd\.rate_multiples: needs min < max"):
        from_config(BatchnormSettings, {"gd": {"rate_multiples": {"min": 2.0, "max": 1.0, "count": 3}}}, "batchnorm")
    with pytest.raises(SettingsError, match=r"first_steps \(9\) exceeds steps \(4\)"):
        from_config(BatchnormSettings, {"gd": {"steps": 4, "first_steps": 9}}, "batchnorm")
    settings = from_config(BatchnormSettings, {"samples_per_width": 0.25, "input_dim_per_width": 2}, "batchnorm")
    assert (settings.samples(512), settings.input_dim(512)) == (128, 1024)


def test_mean_eigenvalue_is_the_trace_over_the_number_of_weights():
    spec = MlpSpec(input_dim=4, width=6, hidden_layers=2, output_dim=1)
    params = init_params(spec, torch.Generator().manual_seed(0))
    x = torch.randn(5, 4, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    from dltheory.geometry.jacobian import layer_grams, ntk, parameter_jacobian

    jacobian = torch.cat(list(parameter_jacobian(spec, params, x).values()), dim=1)
    fisher = jacobian.T @ jacobian / 5
    summary = batchnorm_measure.fisher_summary(ntk(layer_grams(spec, params, x)) / 5, batchnorm.number_of_weights(spec))
    assert summary["mean_eigenvalue"] == pytest.approx(float(torch.trace(fisher)) / fisher.shape[0], rel=1e-12)
    assert summary["lambda_max"] == pytest.approx(float(torch.linalg.eigvalsh(fisher)[-1]), rel=1e-10)


def test_last_layer_normalizations_follow_from_the_unnormalized_ntk():
    from dltheory.geometry.jacobian import layer_grams, ntk, parameter_jacobian

    x = torch.randn(6, 4, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    base = MlpSpec(input_dim=4, width=5, hidden_layers=2)
    params = init_params(base, torch.Generator().manual_seed(0))
    kernel, outputs = ntk(layer_grams(base, params, x)), forward(base, params, x)
    for variant in ("last_batch_norm", "last_batch_norm_full"):
        spec = dataclasses.replace(base, normalization=variant)
        jacobian = torch.cat(list(parameter_jacobian(spec, params, x).values()), dim=1)
        torch.testing.assert_close(batchnorm_measure.normalized_kernel(kernel, outputs, variant), jacobian @ jacobian.T)
    standardized = forward(dataclasses.replace(base, normalization="last_batch_norm_full"), params, x)
    assert float(standardized.mean()) == pytest.approx(0.0, abs=1e-12)
    assert float((standardized**2).mean()) == pytest.approx(1.0, rel=1e-12)


def test_closed_form_kappas_of_the_relu_kernel():
    # He initialization keeps every diagonal order parameter at 1: kappa_1 = D/M + L.
    kappas = batchnorm.kernel_kappas(3, 2.0, input_ratio=1.0)
    assert kappas["kappa1"] == pytest.approx(4.0, rel=1e-12)
    # Independent inputs: c_1 = 1/pi, c_2 = 0.4937, c_3 = 0.6048 (arc-cosine map); backward P(u > 0, u' > 0) factors.
    c1 = 1 / np.pi
    c2 = (np.sqrt(1 - c1**2) + (np.pi - np.arccos(c1)) * c1) / np.pi
    c3 = (np.sqrt(1 - c2**2) + (np.pi - np.arccos(c2)) * c2) / np.pi
    back3 = 1 - np.arccos(c2) / np.pi
    back2 = back3 * (1 - np.arccos(c1) / np.pi)
    assert kappas["kappa2"] == pytest.approx(c3 + back3 * c2 + back2 * c1, rel=1e-9)
    assert kappas["kappa2"] == pytest.approx(1.060, abs=1e-3)
    assert batchnorm.lambda_max_theory(512, 256, kappas) == pytest.approx(512 * (255 / 256 * 1.0601 + 4 / 256),
                                                                          rel=1e-3)


def test_lambda_max_at_large_width_matches_the_closed_form_theory():
    # M = 512, T = 128, D = 512, 3 seeds: the mean of lambda_max / (M((T-1)/T kappa_2 + kappa_1/T)) is near 1 (seed
    # spread about 15%: the common direction's random gain).
    section = {"widths": [512], "samples_per_width": 0.25, "replicates": 3, "diagram": {"samples": [128]},
               "variants": ["none"]}
    table = batchnorm_measure.run_spectra(section, seed=5)
    measured = table[(table["grid"] == "sweep") & (table["metric"] == "lambda_max")]["value"].to_numpy()
    predicted = batchnorm.theory_table(section)["none"].iloc[0]
    assert 0.8 <= measured.mean() / predicted <= 1.25
    centred = table[(table["grid"] == "diagram") & (table["variant"] == "last_batch_norm")]["value"].to_numpy()
    assert np.all(centred < measured / 10)  # mean subtraction removes the kappa_2 M outlier


def test_gd_outcomes_count_a_catapult_as_unstable():
    losses = np.array([[1.0, 1.0, 1.0, 1.0, 1.0],
                       [0.5, 2.0, 5.0, np.nan, 0.9],
                       [0.2, 0.5, 1e9, np.nan, 0.95],
                       [0.1, 0.3, 1e9, np.nan, 0.5]])
    outcome = batchnorm.gd_outcomes(losses, first_steps=3)
    assert outcome["stable"].tolist() == [True, False, False, False, False]
    assert outcome["diverged"].tolist() == [False, False, True, True, False]
    assert outcome["first_rise"].tolist() == [-1, 1, 1, 1, 2]
    assert outcome["final_loss"][1] == 0.3  # the catapult rose, then ended below its start: still unstable
    late = batchnorm.gd_outcomes(losses[:, 4:], first_steps=1)
    assert late["stable"].tolist() == [True]  # its rise at step 2 is outside a window of 1 step


def test_gd_edge_of_the_unnormalized_network_is_near_two_over_lambda_max():
    section = {**SMALL_BATCHNORM, "widths": [64, 128], "input_dim_per_width": 1.0, "gd": {**SMALL_BATCHNORM["gd"],
                                                                                          "widths": [64]}}
    table = batchnorm_measure.run_gd(section, seed=1)
    assert set(table["variant"]) == {"none", "last_batch_norm"}
    grid = table[(table["metric"] == "final_loss") & (table["variant"] == "none")]
    assert len(grid) == 5 * 3 and (~grid["stable"]).any() and grid["stable"].any()
    edges = batchnorm.gd_edges(table)
    none = edges[edges["variant"] == "none"]
    assert np.all((none["edge_multiple"] >= 0.7) & (none["edge_multiple"] <= 2.0))  # grid ratio 2
    assert np.all(none["hessian_lambda_max"] >= 0.9 * none["lambda_max"])
    # What a job gets: the settings without the analysis-only claims, as plain data.
    rerun = batchnorm_measure.run_gd(job_config(from_config(BatchnormSettings, section, "batchnorm")), seed=1)
    pd.testing.assert_frame_equal(table, rerun, check_exact=True)


def test_spectra_parts_cut_the_pairs_in_order_with_the_least_largest_work():
    settings = from_config(BatchnormSettings, {**SMALL_BATCHNORM, "widths": [8, 16, 32], "spectra_jobs": 4},
                           "batchnorm")
    parts = settings.spectra_parts()
    pairs = [(width, replicate) for width in (8, 16, 32) for replicate in range(3)]
    assert [pair for run in parts.values() for pair in run] == pairs  # every pair once, in the one job's order
    assert len(parts) == 4 and all(parts.values())
    for name, run in parts.items():  # the name says its first and last pair
        (w0, r0), (w1, r1) = run[0], run[-1]
        assert name == (f"spectra_m{w0}r{r0}" if len(run) == 1 else f"spectra_m{w0}r{r0}-m{w1}r{r1}")
    work = [settings.spectra_work(width) for width, _ in pairs]
    assert work[0] < work[3] < work[6]  # the work grows with the width

    def largest(cuts):
        bounds = [0, *cuts, len(work)]
        return max(sum(work[a:b]) for a, b in itertools.pairwise(bounds))

    best = min(largest(cuts) for cuts in itertools.combinations(range(1, len(work)), 3))  # every cut into 4
    assert largest(list(itertools.accumulate(len(run) for run in parts.values()))[:-1]) == pytest.approx(best)
    assert from_config(BatchnormSettings, SMALL_BATCHNORM, "batchnorm").spectra_parts() == {"spectra": tuple(
        (width, replicate) for width in (16, 32) for replicate in range(3))}
    every = from_config(BatchnormSettings, {**SMALL_BATCHNORM, "spectra_jobs": 6}, "batchnorm").spectra_parts()
    assert list(every) == [f"spectra_m{w}r{r}" for w in (16, 32) for r in range(3)]
    with pytest.raises(SettingsError, match=r"^batchnorm\.spectra_jobs: 7 jobs for 6 \(width, replicate\) pairs "
                                            r"\(2 widths x 3 replicates\); at most 6$"):
        from_config(BatchnormSettings, {**SMALL_BATCHNORM, "spectra_jobs": 7}, "batchnorm")


def test_split_spectra_give_the_one_jobs_table():
    section = {**SMALL_BATCHNORM, "widths": [8, 16], "replicates": 2, "diagram": {"samples": [4, 8]},
               "spectra_jobs": 3}
    whole = batchnorm_measure.run_spectra({**section, "spectra_jobs": 1}, seed=4)
    parts = from_config(BatchnormSettings, section, "batchnorm").spectra_parts()
    split = pd.concat([batchnorm_measure.run_spectra(section, seed=4, pairs=pairs) for pairs in parts.values()],
                      ignore_index=True)
    assert len(parts) == 3 and whole["replicate"].nunique() == 2 and len(whole) > 0
    pd.testing.assert_frame_equal(split, whole, check_exact=True)
    # A pair's rows are its own seed's: measured alone (as plain lists, as a job gets them) they are the same rows.
    alone = batchnorm_measure.run_spectra(section, seed=4, pairs=[[16, 1]])
    pd.testing.assert_frame_equal(alone, whole[(whole["width"] == 16) & (whole["replicate"] == 1)].reset_index(
        drop=True), check_exact=True)
    with pytest.raises(ValueError, match=r"^pairs: \(width, replicate\) \(16, 2\) is not in the sweep \(widths "
                                         r"\[8, 16\], replicates 0\.\.1\)$"):
        batchnorm_measure.run_spectra(section, seed=4, pairs=[(8, 0), (16, 2)])


def test_batchnorm_claims_on_a_small_run():
    table = pd.concat([batchnorm_measure.run_spectra(SMALL_BATCHNORM, seed=2),
                       batchnorm_measure.run_gd(SMALL_BATCHNORM, seed=2)], ignore_index=True)
    claims = {c.id: c for c in batchnorm.batchnorm_claims(table, SMALL_BATCHNORM)}
    assert set(claims) == {"batchnorm.lambda_max_grows_with_width", "batchnorm.mean_eigenvalue_shrinks_with_width",
                           "batchnorm.lambda_max_matches_mean_field_theory",
                           "batchnorm.last_layer_bn_bounds_lambda_max",
                           "batchnorm.full_bn_bounds_lambda_max", "batchnorm.last_layer_bn_needs_t_growing_with_m",
                           "batchnorm.layer_norm_keeps_sharpness", "batchnorm.gd_edge_at_two_over_lambda_max",
                           "batchnorm.last_layer_bn_edge_at_larger_rates"}  # hidden BN: one width, no slope
    from dltheory.stats import mean_interval

    lambdas = batchnorm.sweep_table(table).loc["none"]
    slopes = np.log(lambdas[32] / lambdas[16]) / np.log(2)
    interval = mean_interval(slopes, 0.95)
    grows = claims["batchnorm.lambda_max_grows_with_width"]
    assert grows.measured == pytest.approx(interval["mean"], abs=1e-3)
    assert grows.holds == (0.85 <= interval["low"] and interval["high"] <= 1.15)
    assert "R=3" in grows.detail
    assert grows.interval == pytest.approx((interval["low"], interval["high"])) and grows.replicates == 3
    assert grows.interval_kind == "95% t-interval over seeds"


WIDER = {**SMALL_BATCHNORM, "widths": [16, 32, 64]}


def _synthetic_sweep(slopes: dict[str, list[float]]) -> pd.DataFrame:
    """The sweep of the unnormalized network at widths 16, 32 and 64 (:data:`WIDER`), one replicate per slope: each
    metric c M^slope, so each seed's log-log slope is its number."""
    return pd.DataFrame([{"grid": "sweep", "variant": "none", "metric": metric, "replicate": replicate,
                          "width": width, "value": 3.0 * width ** slope}
                         for metric, per_seed in slopes.items() for replicate, slope in enumerate(per_seed)
                         for width in (16, 32, 64)])


def test_batchnorm_claims_fill_interval_replicates_and_diagnosis_from_their_own_numbers():
    from dltheory.stats import mean_interval

    # lambda_max: mean slope 1.0 inside 1 +- 0.15, interval (R=3, sd 0.2) is not -> scale; the mean eigenvalue's
    # slopes sit around -1.5, outside -1 +- 0.15 -> finding; both fail.
    slopes = {"lambda_max": [0.8, 1.0, 1.2], "mean_eigenvalue": [-1.5, -1.55, -1.6]}
    claims = {c.id: c for c in batchnorm.batchnorm_claims(_synthetic_sweep(slopes), WIDER)}
    grows, shrinks = (claims[f"batchnorm.{name}"] for name in ("lambda_max_grows_with_width",
                                                                "mean_eigenvalue_shrinks_with_width"))
    for claim, per_seed in ((grows, slopes["lambda_max"]), (shrinks, slopes["mean_eigenvalue"])):
        interval = mean_interval(per_seed, 0.95)
        assert claim.measured == pytest.approx(interval["mean"], abs=1e-3) and not claim.holds
        assert claim.interval == pytest.approx((interval["low"], interval["high"]))
        assert claim.replicates == 3 and claim.interval_kind == "95% t-interval over seeds"
    assert grows.diagnosis == "scale" and "Diagnosis (scale)" in grows.detail
    assert shrinks.diagnosis == "finding" and "the whole interval lies outside" in shrinks.detail
    held = {c.id: c for c in batchnorm.batchnorm_claims(
        _synthetic_sweep({"lambda_max": [0.99, 1.0, 1.01], "mean_eigenvalue": [-0.99, -1.0, -1.01]}), WIDER)}
    assert held["batchnorm.lambda_max_grows_with_width"].holds
    assert held["batchnorm.lambda_max_grows_with_width"].diagnosis == ""
    assert held["batchnorm.lambda_max_grows_with_width"].to_dict()["interval"] == pytest.approx(
        list(mean_interval([0.99, 1.0, 1.01], 0.95)[k] for k in ("low", "high")))


def test_digits_are_two_classes_of_unit_norm_with_labels_half():
    x_train, y_train, x_test, y_test = natgrad_train.digits_two_classes([0, 1], 100, 50, seed=0)
    assert x_train.shape == (100, 64) and x_test.shape == (50, 64)
    torch.testing.assert_close(x_train.norm(dim=1), torch.ones(100, dtype=torch.float64))
    assert set(y_train[:, 0].tolist()) == {-0.5, 0.5}
    with pytest.raises(ValueError, match="exceeds the 360 digits"):
        natgrad_train.digits_two_classes([0, 1], 300, 100, seed=0)


def test_natgrad_settings_name_a_bad_key_or_method():
    with pytest.raises(SettingsError, match=r"^natgrad\.depth: no such setting"):
        natgrad_train.run_method("exact", {"depth": 3}, seed=0)
    with pytest.raises(SettingsError, match=r"^natgrad\.methods: unknown name 'adam'"):
        from_config(NatgradSettings, {"methods": ["adam"]}, "natgrad")
    with pytest.raises(SettingsError, match=r"^natgrad\.learning_rates: unknown name 'adam'"):
        from_config(NatgradSettings, {"learning_rates": {"exact": 0.5, "adam": 1.0}}, "natgrad")
    with pytest.raises(SettingsError, match=r"^natgrad\.claims\.gd_steps: no such setting"):
        from_config(NatgradSettings, {"claims": {"gd_steps": 3}}, "natgrad")


def test_divergent_training_is_a_recorded_outcome():
    data = natgrad_train.digits_two_classes([0, 1], 10, 5, seed=0)
    spec = natgrad.network_spec({"width": 16, "train_size": 10, "test_size": 5}, 64)
    params = init_params(spec, torch.Generator().manual_seed(0))
    table = natgrad_train.train("gd", spec, params, data, learning_rate=1e6, steps=20, pinv_rtol=1e-6)
    assert table["diverged"].all()
    assert table["step"].max() < 20


def test_natgrad_claims_measure_the_runs():
    section = {"width": 128, "train_size": 30, "test_size": 10, "steps": 2,
               "gd": {"steps": 30, "rate_multiples": [1.9]}}
    table = pd.concat([natgrad_train.run_method(m, section, seed=3) for m in natgrad.METHODS], ignore_index=True)
    train = table[(table["split"] == "train") & (table["metric"] == "loss")]
    exact = train[train["method"] == "exact"].set_index("step")["value"]
    assert exact[1] < exact[0] / 5  # one step of exact NGD fits most of the training set (M = 128: far from 100x)
    claims = {c.id: c for c in natgrad.natgrad_claims(table, section)}
    assert claims["natgrad.exact_ngd_fits_in_one_step"].measured == pytest.approx(exact[0] / exact[1], rel=1e-2)
    gd_claim = claims["natgrad.gd_needs_many_more_steps"]
    gd = train[train["method"] == "gd"]
    reached = gd[gd["value"] <= exact[1]]["step"]
    assert gd_claim.measured == (float(reached.min()) if len(reached) else f"> {gd['step'].max()} (not reached)")


def test_analytical_relu_ntk_is_the_wide_networks_empirical_ntk():
    from dltheory.geometry.jacobian import layer_grams, ntk

    x = natgrad_train.digits_two_classes([0, 1], 20, 5, seed=0)[0]
    analytical = natgrad_train.relu_ntk(x, x, layers=3, sigma_w2=2.0)
    # unit-norm inputs: Sigma_1 = 2/64 on the diagonal, and each ReLU layer adds the same again
    torch.testing.assert_close(torch.diagonal(analytical), torch.full((20,), 3 * 2 / 64, dtype=torch.float64))
    errors = {}
    for width in (128, 4096):
        spec = natgrad.network_spec({"width": width}, 64)
        empirical = ntk(layer_grams(spec, init_params(spec, torch.Generator().manual_seed(1)), x))
        errors[width] = float((empirical - analytical).norm() / analytical.norm())
    assert errors[4096] < 0.08 and errors[4096] < errors[128] / 2  # fluctuations shrink like 1/sqrt(M)
    cross = natgrad_train.relu_ntk(x[:3], x, layers=3, sigma_w2=2.0)
    torch.testing.assert_close(cross, analytical[:3])


def test_ntk_limit_prediction_removes_the_residual_at_the_rate_and_moves_the_test_outputs_by_the_kernel():
    data = natgrad_train.digits_two_classes([0, 1], 12, 6, seed=2)
    spec = natgrad.network_spec(NatgradSettings(width=32), 64)
    params = init_params(spec, torch.Generator().manual_seed(0))
    half = natgrad_train.ntk_limit_prediction(spec, params, data, learning_rate=0.5, steps=3)
    train = half[(half["split"] == "train") & (half["metric"] == "loss")]["value"].to_numpy()
    np.testing.assert_allclose(train[1:] / train[:-1], 0.25, rtol=1e-10)  # residual halves, loss quarters
    full = natgrad_train.ntk_limit_prediction(spec, params, data, learning_rate=1.0, steps=1)
    x_train, y_train, x_test, y_test = data
    kernel, cross = (natgrad_train.relu_ntk(a, x_train, 3, 2.0) for a in (x_train, x_test))
    f0_train, f0_test = (forward(spec, params, a) for a in (x_train, x_test))
    f1_test = f0_test - cross @ torch.linalg.inv(kernel) @ (f0_train - y_train)
    loss = full[(full["step"] == 1) & (full["metric"] == "loss")].set_index("split")["value"]
    assert loss["train"] == 0.0
    assert loss["test"] == pytest.approx(float(0.5 * ((f1_test - y_test) ** 2).mean()), rel=1e-10)


def test_exact_job_holds_the_prediction_and_the_claim_compares_test_losses():
    section = {"width": 128, "train_size": 30, "test_size": 10, "steps": 2}
    table = natgrad_train.run_method("exact", section, seed=3)
    assert set(table["method"]) == {"exact", natgrad.PREDICTION}
    test = table[(table["split"] == "test") & (table["metric"] == "loss") & (table["step"] == 1)]
    losses = test.set_index("method")["value"]
    claim = {c.id: c for c in natgrad.natgrad_claims(table, section)}["natgrad.exact_ngd_follows_the_ntk_limit"]
    ratio = max(losses["exact"] / losses[natgrad.PREDICTION], losses[natgrad.PREDICTION] / losses["exact"])
    assert claim.measured == pytest.approx(ratio, abs=1e-3) and claim.holds == (ratio <= 1.5)
    without = natgrad_train.run_method("exact", {**section, "ntk_prediction": False}, seed=3)
    assert set(without["method"]) == {"exact"}
