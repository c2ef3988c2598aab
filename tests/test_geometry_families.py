"""The batch-norm and natural-gradient families: settings, data, outcomes and claims on small runs."""

import dataclasses
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import yaml

from dltheory.geometry import batchnorm, natgrad
from dltheory.geometry.mlp import MlpSpec, forward, init_params
from dltheory.geometry.settings import BatchnormSettings, IsometrySettings, NatgradSettings, SpectraSettings
from dltheory.settings import SettingsError, analysis_keys, from_config, job_config, schema_mismatches

SCHEMA = yaml.safe_load((Path(__file__).parents[1] / "workflow/schemas/config.schema.yaml").read_text())
FAMILIES = {"batchnorm": BatchnormSettings, "natgrad": NatgradSettings, "spectra": SpectraSettings,
            "isometry": IsometrySettings}

SMALL_BATCHNORM = {"widths": [16, 32], "samples": 12, "input_dim": 8, "replicates": 1,
                   "gd": {"widths": [16], "steps": 8, "rate_multiples": {"min": 0.5, "max": 8.0, "count": 5}}}


@pytest.mark.parametrize("family", FAMILIES)
def test_settings_and_schema_list_the_same_keys_and_claims_are_analysis_only(family):
    cls = FAMILIES[family]
    assert schema_mismatches(cls, SCHEMA["properties"][family], family, SCHEMA.get("definitions")) == []
    assert "claims" in analysis_keys(cls)
    assert "claims" not in job_config(cls()) and "claims" in dataclasses.asdict(cls())
    assert cls().figure_names() == {"batchnorm": ("fisher_vs_width", "gd_grid"),
                                    "natgrad": ("loss_vs_step", "exact_vs_width"),
                                    "spectra": ("histograms", "outliers_vs_width"),
                                    "isometry": ("spectra", "max_and_edge_vs_depth", "sgd_grid")}[family]


def test_the_settings_module_does_not_import_torch():
    code = "import sys, dltheory.geometry.settings; assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_batchnorm_settings_name_a_bad_key_or_variant():
    with pytest.raises(SettingsError, match=r"^batchnorm\.width: no such setting"):
        batchnorm.run_variant({"width": 3}, "none", seed=0)
    with pytest.raises(SettingsError, match=r"^batchnorm\.gd\.variants: unknown name 'batch'"):
        from_config(BatchnormSettings, {"gd": {"variants": ["batch"]}}, "batchnorm")
    with pytest.raises(SettingsError, match=r"^batchnorm\.gd\.rate_multiples: needs min < max"):
        from_config(BatchnormSettings, {"gd": {"rate_multiples": {"min": 2.0, "max": 1.0, "count": 3}}}, "batchnorm")


def test_mean_eigenvalue_is_the_trace_over_the_number_of_weights():
    spec = MlpSpec(input_dim=4, width=6, hidden_layers=2, output_dim=1)
    params = init_params(spec, torch.Generator().manual_seed(0))
    x = torch.randn(5, 4, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    from dltheory.geometry.jacobian import parameter_jacobian

    jacobian = torch.cat(list(parameter_jacobian(spec, params, x).values()), dim=1)
    fisher = jacobian.T @ jacobian / 5
    summary = batchnorm.fisher_summary(spec, params, x)
    assert summary["mean_eigenvalue"] == pytest.approx(float(torch.trace(fisher)) / fisher.shape[0], rel=1e-12)
    assert summary["lambda_max"] == pytest.approx(float(torch.linalg.eigvalsh(fisher)[-1]), rel=1e-10)


def test_gd_outcomes_tell_stable_risen_and_diverged_runs_apart():
    losses = np.array([[1.0, 1.0, 1.0, 1.0],
                       [0.5, 2.0, 5.0, np.nan],
                       [0.2, 0.5, 1e9, np.nan]])
    outcome = batchnorm.gd_outcomes(losses)
    assert outcome["stable"].tolist() == [True, False, False, False]
    assert outcome["diverged"].tolist() == [False, False, True, True]
    assert outcome["final_loss"][1] == 0.5  # the catapult: it rose, then ended below its start


def test_gd_beyond_the_edge_is_recorded_not_raised_and_the_edge_is_near_two_over_lambda_max():
    table = batchnorm.run_variant(SMALL_BATCHNORM, "none", seed=1)
    assert set(table["variant"]) == {"none"}
    grid = table[table["metric"] == "final_loss"]
    assert len(grid) == 5 and grid["diverged"].any() and grid["stable"].any()
    edge = batchnorm.gd_edges(table)
    assert 0.5 <= edge["edge_multiple"].iloc[0] <= 2.0
    # What a job gets: the settings without the analysis-only claims, as plain data.
    rerun = batchnorm.run_variant(job_config(from_config(BatchnormSettings, SMALL_BATCHNORM, "batchnorm")), "none",
                                  seed=1)
    pd.testing.assert_frame_equal(table, rerun, check_exact=True)


def test_batchnorm_claims_on_a_small_run():
    table = pd.concat([batchnorm.run_variant(SMALL_BATCHNORM, v, seed=2) for v in ("none", "last_batch_norm")])
    claims = {c.id: c for c in batchnorm.batchnorm_claims(table, SMALL_BATCHNORM)}
    assert set(claims) == {"batchnorm.lambda_max_grows_with_width", "batchnorm.mean_eigenvalue_shrinks_with_width",
                           "batchnorm.last_layer_bn_cuts_lambda_max", "batchnorm.gd_edge_at_two_over_lambda_max"}
    cut = claims["batchnorm.last_layer_bn_cuts_lambda_max"]
    fisher = batchnorm.fisher_table(table).pivot(index="width", columns="variant", values="lambda_max")
    assert cut.measured == pytest.approx(fisher.loc[32, "none"] / fisher.loc[32, "last_batch_norm"], rel=1e-2)
    assert cut.holds == (cut.measured >= 5.0)


def test_digits_are_two_classes_of_unit_norm_with_labels_half():
    x_train, y_train, x_test, y_test = natgrad.digits_two_classes([0, 1], 100, 50, seed=0)
    assert x_train.shape == (100, 64) and x_test.shape == (50, 64)
    torch.testing.assert_close(x_train.norm(dim=1), torch.ones(100, dtype=torch.float64))
    assert set(y_train[:, 0].tolist()) == {-0.5, 0.5}
    with pytest.raises(ValueError, match="exceeds the 360 digits"):
        natgrad.digits_two_classes([0, 1], 300, 100, seed=0)


def test_natgrad_settings_name_a_bad_key_or_method():
    with pytest.raises(SettingsError, match=r"^natgrad\.depth: no such setting"):
        natgrad.run_method("exact", {"depth": 3}, seed=0)
    with pytest.raises(SettingsError, match=r"^natgrad\.methods: unknown name 'adam'"):
        from_config(NatgradSettings, {"methods": ["adam"]}, "natgrad")
    with pytest.raises(SettingsError, match=r"^natgrad\.learning_rates: unknown name 'adam'"):
        from_config(NatgradSettings, {"learning_rates": {"exact": 0.5, "adam": 1.0}}, "natgrad")
    with pytest.raises(SettingsError, match=r"^natgrad\.claims\.gd_steps: no such setting"):
        from_config(NatgradSettings, {"claims": {"gd_steps": 3}}, "natgrad")


def test_divergent_training_is_a_recorded_outcome():
    data = natgrad.digits_two_classes([0, 1], 10, 5, seed=0)
    spec = natgrad.network_spec({"width": 16, "train_size": 10, "test_size": 5}, 64)
    params = init_params(spec, torch.Generator().manual_seed(0))
    table = natgrad.train("gd", spec, params, data, learning_rate=1e6, steps=20, pinv_rtol=1e-6)
    assert table["diverged"].all()
    assert table["step"].max() < 20


def test_natgrad_claims_measure_the_runs():
    section = {"width": 128, "train_size": 30, "test_size": 10, "steps": 2,
               "gd": {"steps": 30, "rate_multiples": [1.9]}}
    table = pd.concat([natgrad.run_method(m, section, seed=3) for m in natgrad.METHODS], ignore_index=True)
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

    x = natgrad.digits_two_classes([0, 1], 20, 5, seed=0)[0]
    analytical = natgrad.relu_ntk(x, x, layers=3, sigma_w2=2.0)
    # unit-norm inputs: Sigma_1 = 2/64 on the diagonal, and each ReLU layer adds the same again
    torch.testing.assert_close(torch.diagonal(analytical), torch.full((20,), 3 * 2 / 64, dtype=torch.float64))
    errors = {}
    for width in (128, 4096):
        spec = natgrad.network_spec({"width": width}, 64)
        empirical = ntk(layer_grams(spec, init_params(spec, torch.Generator().manual_seed(1)), x))
        errors[width] = float((empirical - analytical).norm() / analytical.norm())
    assert errors[4096] < 0.08 and errors[4096] < errors[128] / 2  # fluctuations shrink like 1/sqrt(M)
    cross = natgrad.relu_ntk(x[:3], x, layers=3, sigma_w2=2.0)
    torch.testing.assert_close(cross, analytical[:3])


def test_ntk_limit_prediction_removes_the_residual_at_the_rate_and_moves_the_test_outputs_by_the_kernel():
    data = natgrad.digits_two_classes([0, 1], 12, 6, seed=2)
    spec = natgrad.network_spec(NatgradSettings(width=32), 64)
    params = init_params(spec, torch.Generator().manual_seed(0))
    half = natgrad.ntk_limit_prediction(spec, params, data, learning_rate=0.5, steps=3)
    train = half[(half["split"] == "train") & (half["metric"] == "loss")]["value"].to_numpy()
    np.testing.assert_allclose(train[1:] / train[:-1], 0.25, rtol=1e-10)  # residual halves, loss quarters
    full = natgrad.ntk_limit_prediction(spec, params, data, learning_rate=1.0, steps=1)
    x_train, y_train, x_test, y_test = data
    kernel, cross = (natgrad.relu_ntk(a, x_train, 3, 2.0) for a in (x_train, x_test))
    f0_train, f0_test = (forward(spec, params, a) for a in (x_train, x_test))
    f1_test = f0_test - cross @ torch.linalg.inv(kernel) @ (f0_train - y_train)
    loss = full[(full["step"] == 1) & (full["metric"] == "loss")].set_index("split")["value"]
    assert loss["train"] == 0.0
    assert loss["test"] == pytest.approx(float(0.5 * ((f1_test - y_test) ** 2).mean()), rel=1e-10)


def test_exact_job_holds_the_prediction_and_the_claim_compares_test_losses():
    section = {"width": 128, "train_size": 30, "test_size": 10, "steps": 2}
    table = natgrad.run_method("exact", section, seed=3)
    assert set(table["method"]) == {"exact", natgrad.PREDICTION}
    test = table[(table["split"] == "test") & (table["metric"] == "loss") & (table["step"] == 1)]
    losses = test.set_index("method")["value"]
    claim = {c.id: c for c in natgrad.natgrad_claims(table, section)}["natgrad.exact_ngd_follows_the_ntk_limit"]
    ratio = max(losses["exact"] / losses[natgrad.PREDICTION], losses[natgrad.PREDICTION] / losses["exact"])
    assert claim.measured == pytest.approx(ratio, abs=1e-3) and claim.holds == (ratio <= 1.5)
    without = natgrad.run_method("exact", {**section, "ntk_prediction": False}, seed=3)
    assert set(without["method"]) == {"exact"}
