"""The dynamical-isometry family (Hayase & Karakida, AISTATS 2021): conditional-FIM spectra, batched online SGD, the
stability edge, the claims and the figures."""

import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import jsonschema  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
import yaml  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from dltheory.geometry.isometry import (  # noqa: E402
    _replicate_slopes,
    critical_sigma_w2,
    far_teacher_diagnosis,
    fim_mean_theory,
    fim_spread_theory,
    hard_tanh_critical_point,
    hard_tanh_fixed_point_on_critical_line,
    isometry_claims,
    isometry_spec,
    isometry_summary,
    layer_spread,
    learning_rate_grid,
    mean_field_chi,
    mean_field_fixed_point,
    mean_field_q_map,
    stability_edge,
)
from dltheory.geometry.isometry_figures import (  # noqa: E402
    plot_fim_max_vs_depth,
    plot_sgd_grid,
    plot_spectra,
    plot_spread_vs_depth,
)
from dltheory.geometry.isometry_measure import (  # noqa: E402
    conditional_fim_eigenvalues,
    conditional_fim_eigenvalues_with_biases,
    isometry_network,
    network_forward,
    run_isometry_sgd,
    run_isometry_spectra,
    sgd_initial_network,
    sgd_task,
    sphere_inputs,
)
from dltheory.geometry.mlp import MlpSpec, init_params  # noqa: E402
from dltheory.geometry.settings import IsometrySettings  # noqa: E402
from dltheory.settings import SettingsError, from_config  # noqa: E402
from dltheory.stats import mean_interval  # noqa: E402

SCHEMA = yaml.safe_load((Path(__file__).parents[1] / "workflow/schemas/config.schema.yaml").read_text())

TINY_SGD = {"learning_rates": {"min": 0.05, "max": 0.5, "count": 3}, "steps": 12, "seeds": 2, "record_every": 4,
            "eval_samples": 7, "dtype": "float64"}


def test_linear_orthogonal_network_has_every_fim_eigenvalue_at_depth_times_input_norm():
    section = {"depths": [3, 5], "width": 6, "activation": "linear", "input_scale": 0.5, "replicates": 2,
               "initializations": ["orthogonal"]}
    spectra = run_isometry_spectra(section, seed=1)
    assert len(spectra) == 2 * 2 * 6  # depths x replicates x M eigenvalues
    np.testing.assert_allclose(spectra["input_norm2"], 0.5 * 6, rtol=1e-12)  # |x|^2 = q M
    np.testing.assert_allclose(spectra["value"], spectra["depth"] * spectra["input_norm2"], rtol=0, atol=1e-8)
    assert set(spectra["rank"]) == set(range(6)) and (spectra["activation"] == "linear").all()


def test_tanh_at_small_input_is_nearly_isometric_and_gaussian_weights_are_not():
    settings = from_config(IsometrySettings, {"width": 16, "input_scale": 1e-3}, "isometry")
    x = sphere_inputs(1, 16, 1e-3, torch.Generator().manual_seed(0))[0]
    spec = isometry_spec(16, settings)
    orthogonal = conditional_fim_eigenvalues(spec, init_params(spec, torch.Generator().manual_seed(1)),
                                             x)
    linear_value = 16 * float(x @ x)
    assert 0.95 < orthogonal[0] / linear_value < 1.0  # mean field: q_l = q / (1 + 2 q l) shrinks slowly
    assert orthogonal[-1] / orthogonal[0] > 0.9
    gaussian_spec = MlpSpec(input_dim=16, width=16, hidden_layers=15, output_dim=16, activation="tanh",
                            sigma_w2=1.0, initialization="gaussian")
    gaussian = conditional_fim_eigenvalues(gaussian_spec, init_params(gaussian_spec, torch.Generator().manual_seed(1)),
                                           x)
    assert float((gaussian >= gaussian[0] / 2).double().mean()) < 0.5  # spread: the measure can fail


def test_summary_measures_concentration_per_replicate():
    spectra = pd.DataFrame({"depth": 4, "width": 4, "replicate": [0] * 4 + [1] * 4, "rank": [0, 1, 2, 3] * 2,
                            "value": [8.0, 6.0, 1.0, 1.0, 4.0, 3.0, 2.0, 1.0], "activation": "tanh",
                            "input_norm2": 1.0})
    row = isometry_summary(spectra).iloc[0]
    assert row["lambda_max"] == 6.0 and row["lambda_max_low"] == 4.0 and row["lambda_max_high"] == 8.0
    assert row["fraction_above_half"] == pytest.approx((0.5 + 0.75) / 2)
    assert row["mean_to_max"] == pytest.approx((16 / 4 / 8 + 10 / 4 / 4) / 2)
    assert row["linear_value"] == 4.0 and row["lambda_max_over_linear"] == pytest.approx(1.5)


def _plain_sgd_losses(settings, depth, seed, sgd_seed, rate, teacher):
    """One model, autograd, a Python loop: the reference for the batched run (biases included)."""
    weights, biases = sgd_initial_network(settings, depth, seed, sgd_seed)
    params = [p.clone().requires_grad_(True) for p in weights + biases]
    task = sgd_task(settings, seed, sgd_seed)
    if teacher == "near":
        with torch.no_grad():
            inputs, evals = task["inputs"], task["eval_inputs"]
            task["targets"] = network_forward(weights, biases, settings.activation, inputs) + \
                settings.sgd.teacher_eps * task["targets"]
            task["eval_targets"] = network_forward(weights, biases, settings.activation, evals) + \
                settings.sgd.teacher_eps * task["eval_targets"]

    def output(x):
        return network_forward(params[:depth], params[depth:], settings.activation, x)

    def test_loss():
        with torch.no_grad():
            error = output(task["eval_inputs"]) - task["eval_targets"]
            return float(0.5 * (error**2).sum(1).mean())

    losses, first_gradient = [test_loss()], None
    for step in range(settings.sgd.steps):
        error = output(task["inputs"][step][None])[0] - task["targets"][step]
        loss = 0.5 * (error**2).sum()
        grads = torch.autograd.grad(loss, params)
        if first_gradient is None:
            first_gradient = float(torch.sqrt(sum((g**2).sum() for g in grads)))
        with torch.no_grad():
            for param, grad in zip(params, grads, strict=True):
                param -= rate * grad
        if (step + 1) % settings.sgd.record_every == 0:
            losses.append(test_loss())
    return np.array(losses), first_gradient


@pytest.mark.parametrize("activation, teacher", [("tanh", "near"), ("tanh", "far"), ("hard_tanh", "near")])
def test_batched_sgd_with_biases_equals_a_plain_single_model_loop(activation, teacher):
    section = {"depths": [3], "width": 5, "activation": activation, "input_scale": 0.3, "sigma_b2": 0.05,
               "sgd": TINY_SGD}
    settings = from_config(IsometrySettings, section, "isometry")
    table = run_isometry_sgd(section, seed=4)
    rate = learning_rate_grid(settings)[1]
    batched = table[(table["seed"] == 1) & np.isclose(table["learning_rate"], rate)
                    & (table["teacher"] == teacher)].sort_values("step")
    assert list(batched["step"]) == [0, 4, 8, 12]
    plain, first_gradient = _plain_sgd_losses(settings, 3, seed=4, sgd_seed=1, rate=rate, teacher=teacher)
    np.testing.assert_allclose(batched["loss"], plain, rtol=1e-10)
    assert plain[-1] < plain[0] and not batched["diverged"].any()
    np.testing.assert_allclose(batched["initial_gradient_norm"], first_gradient, rtol=1e-10)
    assert (batched["peak_online_loss"] > 0).all() and (batched["condition"] == "main").all()


def test_the_near_teacher_starts_at_eps_squared_times_the_input_norm():
    section = {"depths": [4], "width": 6, "input_scale": 0.3, "sigma_b2": 0.05,
               "sgd": {**TINY_SGD, "teacher_eps": 0.1}}
    table = run_isometry_sgd(section, seed=2)
    start = table[(table["step"] == 0) & (table["teacher"] == "near")]["loss"]
    np.testing.assert_allclose(start, 0.5 * 0.01 * 0.3 * 6, rtol=1e-10)  # 1/2 eps^2 |Q x|^2, |x|^2 = q M
    far = table[(table["step"] == 0) & (table["teacher"] == "far")]["loss"]
    assert (far > 10 * start.max()).all()


def test_a_huge_learning_rate_is_recorded_as_diverged_and_leaves_its_batch_mates_alone():
    sgd = {**TINY_SGD, "learning_rates": {"min": 0.05, "max": 1e5, "count": 2}, "seeds": 1, "teachers": ["far"]}
    table = run_isometry_sgd({"depths": [3], "width": 5, "input_scale": 0.3, "sgd": sgd}, seed=0)
    final = table[table["step"] == 12].set_index("learning_rate")
    assert bool(final.loc[1e5, "diverged"]) and not bool(final.loc[0.05, "diverged"])
    assert np.isfinite(final.loc[0.05, "loss"])
    alone = run_isometry_sgd({"depths": [3], "width": 5, "input_scale": 0.3,
                              "sgd": {**sgd, "learning_rates": {"min": 0.05, "max": 0.05, "count": 1}}}, seed=0)
    np.testing.assert_allclose(table[table["learning_rate"] == 0.05]["loss"], alone["loss"], rtol=1e-12)
    edge = stability_edge(table).iloc[0]
    assert edge["edge"] == 0.05 and edge["first_unstable"] == 1e5


def test_stability_edge_is_the_largest_rate_below_which_every_rate_trains_for_every_seed():
    rows = []
    for rate, final_by_seed, diverged_by_seed in [(0.1, (0.5, 0.5), (False, False)), (0.2, (0.9, 0.8), (False, False)),
                                                  (0.4, (0.5, 1.2), (False, False)), (0.8, (0.1, 0.1), (False, False)),
                                                  (1.6, (0.1, 0.1), (True, False))]:
        for seed in (0, 1):
            rows.append({"depth": 4, "learning_rate": rate, "seed": seed, "step": 0, "loss": 1.0, "diverged": False})
            rows.append({"depth": 4, "learning_rate": rate, "seed": seed, "step": 10, "loss": final_by_seed[seed],
                         "diverged": diverged_by_seed[seed]})
    edge = stability_edge(pd.DataFrame(rows)).iloc[0]
    assert edge["edge"] == 0.2 and edge["first_unstable"] == 0.4  # 0.8 is stable again, but not contiguous
    assert edge["stable_rates"] == 3 and edge["best_rate"] == 0.8 and edge["seeds"] == 2


@pytest.mark.parametrize("section, key", [
    ({"widht": 8}, "widht"),
    ({"sgd": {"stepz": 3}}, "sgd.stepz"),
    ({"sgd": {"learning_rates": [0.1, 1.0]}}, "sgd.learning_rates"),
    ({"sgd": {"learning_rates": {"min": 1.0, "max": 0.1, "count": 3}}}, "sgd.learning_rates"),
    ({"sgd": {"learning_rates": {"min": 0.1, "max": 1.0, "count": 1}}}, "sgd.learning_rates"),
    ({"sgd": {"learning_rates": {"min": 0.1, "max": 1.0, "cnt": 3}}}, "sgd.learning_rates.cnt"),
    ({"sgd": {"divergence_threshold": 0.5}}, "sgd.divergence_threshold"),
    ({"claims": {"edge_slope_tol": 0.1}}, "claims.edge_slope_tol"),
])
def test_a_bad_section_key_raises_an_error_naming_the_key(section, key):
    with pytest.raises(SettingsError, match=rf"^isometry\.{re.escape(key)}:"):
        run_isometry_spectra(section, seed=0)


@pytest.mark.parametrize("section, key", [
    ({"activation": "relu"}, "activation"),
    ({"depths": [4, 0]}, "depths.1"),
    ({"depths": [4, 4]}, "depths"),
    ({"width": 2.5}, "width"),
    ({"sgd": {"dtype": "float16"}}, "sgd.dtype"),
    ({"sgd": {"divergence_threshold": 0.5}}, "sgd.divergence_threshold"),
    ({"sgd": {"learning_rates": {"min": 0.0, "max": 1.0, "count": 3}}}, "sgd.learning_rates.min"),
    ({"claims": {"edge_slope_tolerance": -1}}, "claims.edge_slope_tolerance"),
])
def test_the_schema_rejects_a_bad_value_naming_the_key(section, key):
    validator = jsonschema.Draft7Validator(SCHEMA["properties"]["isometry"])
    error = jsonschema.exceptions.best_match(validator.iter_errors({"enabled": True, **section}))
    assert error is not None and ".".join(map(str, error.absolute_path)) == key


def test_defaults_are_the_issue_depths_and_a_partial_grid_keeps_the_other_defaults():
    settings = from_config(IsometrySettings, {"sgd": {"steps": 3}}, "isometry")
    assert settings.depths == (4, 8, 16, 32, 64) and settings.sgd.steps == 3
    assert IsometrySettings().sgd.steps == 512
    grid = learning_rate_grid(settings)
    assert grid[0] == pytest.approx(0.2) and grid[-1] == pytest.approx(20.0) and len(grid) == 25
    assert len(learning_rate_grid({"sgd": {"learning_rates": {"count": 5}}})) == 5
    assert from_config(IsometrySettings, {"sigma_w2": 1, "sgd": {"learning_rates": {"min": 1, "max": 4, "count": 3}}},
                       "isometry").sgd.learning_rates.min == 1.0  # whole numbers read as floats


def test_the_same_seed_gives_identical_tables_and_another_seed_does_not():
    section = {"depths": [2, 3], "width": 4, "replicates": 2, "input_scale": 0.3,
               "sgd": {**TINY_SGD, "dtype": "float32"}}
    pd.testing.assert_frame_equal(run_isometry_spectra(section, 5), run_isometry_spectra(section, 5))
    pd.testing.assert_frame_equal(run_isometry_sgd(section, 5), run_isometry_sgd(section, 5))
    assert not run_isometry_spectra(section, 5)["value"].equals(run_isometry_spectra(section, 6)["value"])
    assert not run_isometry_sgd(section, 5)["loss"].equals(run_isometry_sgd(section, 6)["loss"])


def _cv(values) -> float:
    values = np.asarray(values, float)
    return float(values.std() / values.mean())


def _synthetic_tables(fim_power: float, edge_power: float, spectrum=(1.0, 0.9, 0.8), theory=(1.0, 0.9, 0.8)):
    """Three replicates (jittered by +-1 %) of orthogonal spectra growing like L^fim_power and a Gaussian one that
    spreads with depth, with the CV of ``theory`` as the predicted spread; three SGD seeds whose edge is
    8 L^edge_power, for both teachers."""
    depths, rates = [4, 8, 16, 32], np.geomspace(0.05, 5.0, 41)
    jitter = {0: 1.0, 1: 1.01, 2: 0.99}
    rows = []
    for replicate, factor in jitter.items():
        for d in depths:
            gaussian = [v if r == 0 else v / d for r, v in enumerate(spectrum)]
            for r, v in enumerate(spectrum):
                rows.append({"initialization": "orthogonal", "depth": d, "width": 3, "replicate": replicate,
                             "rank": r, "value": d**fim_power * v * factor, "activation": "tanh",
                             "input_norm2": 1.0, "mean_theory": d, "cv_theory": _cv(theory)})
                rows.append({"initialization": "gaussian", "depth": d, "width": 3, "replicate": replicate, "rank": r,
                             "value": d**fim_power * gaussian[r] * factor, "activation": "tanh",
                             "input_norm2": 1.0, "mean_theory": d, "cv_theory": _cv(gaussian)})
    spectra = pd.DataFrame(rows)
    rows = []
    for teacher in ("near", "far"):
        for seed, factor in jitter.items():
            for d in depths:
                for rate in rates:
                    stable = rate <= 8.0 * d**edge_power * factor
                    rows += [{"teacher": teacher, "depth": d, "learning_rate": rate, "seed": seed, "step": 0,
                              "loss": 1.0, "diverged": False},
                             {"teacher": teacher, "depth": d, "learning_rate": rate, "seed": seed, "step": 5,
                              "loss": 0.5 if stable else 1e9, "diverged": not stable}]
    return spectra, pd.DataFrame(rows)


def test_claims_hold_for_linear_growth_and_fail_for_square_root_growth_and_a_spread_spectrum():
    claims = {c.id: c for c in isometry_claims(*_synthetic_tables(1.0, -1.0), {})}
    assert set(claims) == {"isometry.fim_max_grows_linearly_in_depth", "isometry.learning_rate_falls_as_one_over_depth",
                           "isometry.spectrum_concentrates", "isometry.orthogonal_concentrates_more_than_gaussian",
                           "isometry.spread_follows_free_probability"}
    assert all(c.holds and c.ours for c in claims.values())
    assert claims["isometry.fim_max_grows_linearly_in_depth"].measured == pytest.approx(1.0, abs=0.01)
    assert claims["isometry.learning_rate_falls_as_one_over_depth"].measured == pytest.approx(-1.0, abs=0.05)
    assert claims["isometry.spread_follows_free_probability"].measured == pytest.approx(1.0, abs=1e-6)
    assert "L=32" in claims["isometry.spectrum_concentrates"].detail
    assert all("n = 3 seeds" in c.detail for c in claims.values())  # the replicate count beside every interval
    assert "stability rule" in claims["isometry.learning_rate_falls_as_one_over_depth"].detail
    bad = {c.id: c for c in isometry_claims(*_synthetic_tables(0.5, -0.5, spectrum=(1.0, 0.4, 0.3)), {})}
    assert not any(c.holds for c in bad.values() if c.id != "isometry.orthogonal_concentrates_more_than_gaussian")
    assert bad["isometry.fim_max_grows_linearly_in_depth"].measured == pytest.approx(0.5, abs=0.01)
    # (1, 0.4, 0.3) has CV 0.54 where the theory says 0.08: far outside 1 +- 0.25.
    assert bad["isometry.spread_follows_free_probability"].measured > 5

    # The fields: each claim's measured number with the t-interval it comes from (the detail's) and its 3 seeds; a
    # diagnosis category only on a failed claim, by the condition that writes the detail's diagnosis.
    for claim in [*claims.values(), *bad.values()]:
        assert claim.replicates == 3 and claim.interval_kind.startswith("95% ")
        assert claim.interval[0] - 1e-12 <= claim.measured <= claim.interval[1] + 1e-12
        assert (claim.diagnosis == "") if claim.holds else (claim.diagnosis in ("finding", "scale"))
    spectra, sgd = _synthetic_tables(1.0, -1.0)
    near = stability_edge(sgd[sgd["teacher"] == "near"], per_seed=True)
    edge = mean_interval(_replicate_slopes(near, "edge", "seed"), 0.95)
    assert claims["isometry.learning_rate_falls_as_one_over_depth"].interval == pytest.approx(
        (edge["low"], edge["high"]))
    assert bad["isometry.fim_max_grows_linearly_in_depth"].diagnosis == "finding"
    assert "diagnosis, finding" in bad["isometry.fim_max_grows_linearly_in_depth"].detail
    assert bad["isometry.spectrum_concentrates"].diagnosis == "finding"
    assert bad["isometry.spread_follows_free_probability"].diagnosis == "scale"  # finite width: M -> infinity
    assert bad["isometry.learning_rate_falls_as_one_over_depth"].diagnosis == "finding"  # the edge tracks 2/lambda_max


def test_one_replicate_gives_no_interval_and_no_holding_claim():
    spectra, sgd = _synthetic_tables(1.0, -1.0)
    claims = isometry_claims(spectra[spectra["replicate"] == 0], sgd[sgd["seed"] == 0], {})
    assert not any(c.holds for c in claims)
    assert all(c.interval is None and c.interval_kind == "" and c.replicates == 1 for c in claims)
    assert all(c.to_dict()["interval"] is None for c in claims)


def test_the_config_point_is_on_the_critical_line_with_its_fixed_point():
    config = yaml.safe_load((Path(__file__).parents[1] / "config/config.yaml").read_text())["isometry"]
    sigma_w2, sigma_b2 = config["sigma_w2"], config["sigma_b2"]
    q_star = mean_field_fixed_point(sigma_w2, sigma_b2)
    assert q_star > 0.1
    assert mean_field_q_map(q_star, sigma_w2, sigma_b2) == pytest.approx(q_star, rel=1e-10)  # a fixed point
    assert mean_field_chi(q_star, sigma_w2) == pytest.approx(1.0, abs=1e-9)  # chi = 1: critical
    assert critical_sigma_w2(sigma_b2) == pytest.approx(sigma_w2, rel=1e-9)
    # The input scale puts the first pre-activations at q*: sigma_w^2 |x|^2 / M + sigma_b^2 = q*.
    assert sigma_w2 * config["input_scale"] + sigma_b2 == pytest.approx(q_star, rel=1e-9)
    assert mean_field_chi(0.5, 1.0) < 1  # off the line without biases at q > 0
    for label in ("small_q", "hard_tanh"):
        point = config["conditions"][label]
        activation, q_first = point["activation"], point["sigma_w2"] * point["input_scale"] + point["sigma_b2"]
        assert mean_field_chi(q_first, point["sigma_w2"], activation) == pytest.approx(1.0, abs=1e-9)
        assert mean_field_q_map(q_first, point["sigma_w2"], point["sigma_b2"], activation) == pytest.approx(q_first,
                                                                                                             rel=1e-9)
    assert 0 < config["conditions"]["small_q"]["input_scale"] < 0.01  # q* > 0, small


def test_the_fim_with_biases_matches_an_autograd_jacobian_and_the_core_without_them():
    settings = from_config(IsometrySettings, {"width": 5, "sigma_b2": 0.1, "sigma_w2": 1.5}, "isometry")
    weights, biases = isometry_network(3, settings, "gaussian", torch.Generator().manual_seed(3))
    x = sphere_inputs(1, 5, 0.4, torch.Generator().manual_seed(4))[0]
    params = [p.clone() for p in weights + biases]
    jacobian = torch.autograd.functional.jacobian(
        lambda *p: network_forward(list(p[:3]), list(p[3:]), "tanh", x[None])[0], tuple(params))
    flat = torch.cat([j.reshape(5, -1) for j in jacobian], dim=1)
    expected = torch.linalg.eigvalsh(flat @ flat.T).flip(0)
    got = conditional_fim_eigenvalues_with_biases(weights, biases, "tanh", x, with_biases=True)
    np.testing.assert_allclose(got, expected, rtol=1e-10)
    spec = MlpSpec(input_dim=5, width=5, hidden_layers=2, output_dim=5, activation="tanh", sigma_w2=1.5,
                   initialization="gaussian")
    zeros = [torch.zeros(5, dtype=torch.float64)] * 3
    core = conditional_fim_eigenvalues(spec, dict(zip(spec.names, weights, strict=True)), x)
    np.testing.assert_allclose(conditional_fim_eigenvalues_with_biases(weights, zeros, "tanh", x, False), core,
                               rtol=1e-10)


def test_figures_are_returned_not_saved():
    spectra, sgd = _synthetic_tables(1.0, -1.0)
    figures = [plot_spectra(spectra), plot_fim_max_vs_depth(isometry_summary(spectra), stability_edge(sgd)),
               plot_sgd_grid(sgd)]
    figures.append(plot_spread_vs_depth(isometry_summary(spectra)))
    assert all(isinstance(f, Figure) for f in figures)
    # spectra: a row per initialization, a column per condition; max: a panel per condition and the edge's; grid: a
    # panel and its colour bar per condition; spread: a panel per condition.
    assert [len(f.axes) for f in figures] == [2, 2, 2, 1]
    matplotlib.pyplot.close("all")


def test_hard_tanh_critical_point_is_a_fixed_point_with_chi_one_by_quadrature():
    from scipy.integrate import quad

    q_star = hard_tanh_fixed_point_on_critical_line(0.01)
    sigma_w2, sigma_b2 = hard_tanh_critical_point(q_star)
    assert sigma_b2 == pytest.approx(0.01, rel=1e-10) and q_star == pytest.approx(0.2591462, rel=1e-6)

    def gauss(f):
        return quad(lambda z: f(z) * np.exp(-z * z / 2) / np.sqrt(2 * np.pi), -40, 40, points=[-1, 1], limit=200)[0]

    scale = np.sqrt(q_star)
    assert sigma_w2 * gauss(lambda z: float(abs(scale * z) < 1)) == pytest.approx(1.0, abs=1e-8)  # chi = 1
    assert sigma_w2 * gauss(lambda z: np.clip(scale * z, -1, 1) ** 2) + sigma_b2 == pytest.approx(q_star, rel=1e-8)
    assert critical_sigma_w2(0.01, "hard_tanh") == pytest.approx(sigma_w2, rel=1e-10)
    assert mean_field_chi(q_star, sigma_w2, "hard_tanh") == pytest.approx(1.0, abs=1e-12)
    assert layer_spread(q_star, "hard_tanh", "orthogonal") == pytest.approx(sigma_w2 - 1, rel=1e-10)  # 1/p - 1
    with pytest.raises(ValueError, match="needs biases"):
        hard_tanh_fixed_point_on_critical_line(0.0)


def test_fixed_point_iteration_without_biases_stops_with_an_error():
    # q* = 0 is approached like q / (1 + 2 q l): the guard raises instead of iterating for ever.
    with pytest.raises(RuntimeError, match="did not converge in 2000 iterations"):
        mean_field_fixed_point(1.0, 0.0, max_iterations=2000)


def test_free_probability_spread_and_mean_field_mean_match_a_tanh_network_on_the_critical_line():
    sigma_b2 = 0.01
    sigma_w2 = critical_sigma_w2(sigma_b2)
    q_star = mean_field_fixed_point(sigma_w2, sigma_b2)
    section = {"depths": [16], "width": 64, "activation": "tanh", "sigma_w2": sigma_w2, "sigma_b2": sigma_b2,
               "input_scale": (q_star - sigma_b2) / sigma_w2, "replicates": 3}
    summary = isometry_summary(run_isometry_spectra(section, seed=3)).set_index("initialization")
    assert fim_mean_theory(16, from_config(IsometrySettings, section, "isometry")) == pytest.approx(
        16 * (64 * section["input_scale"] + 1), rel=1e-9)  # L (q M + 1) at the fixed point
    for init in ("orthogonal", "gaussian"):
        row = summary.loc[init]
        assert row["mean_eigenvalue"] / row["mean_theory"] == pytest.approx(1.0, abs=0.15)
        assert row["cv"] / row["cv_theory"] == pytest.approx(1.0, abs=0.2)
    # v = 0.15 for orthogonal tanh at q* = 0.27, 1.15 for Gaussian: the predicted CVs differ about 2.7-fold.
    predicted = summary["cv_theory"]
    assert predicted["gaussian"] / predicted["orthogonal"] == pytest.approx(np.sqrt(1.1525 / 0.1525), rel=0.01)
    assert fim_spread_theory(1, 5.0) == 0.0 and fim_spread_theory(4, 0.0) == 0.0


def test_conditions_run_beside_the_main_point_without_changing_it():
    base = {"depths": [2, 3], "width": 6, "replicates": 2, "input_scale": 0.3, "sigma_b2": 0.05, "sigma_w2": 1.2,
            "sgd": {**TINY_SGD, "teachers": ["near"]}}
    conditions = {"linear": {"activation": "linear", "sigma_w2": 1.0, "sigma_b2": 0.0, "input_scale": 0.5},
                  "hard": {"activation": "hard_tanh", "sigma_w2": 1.1, "sigma_b2": 0.02, "input_scale": 0.2,
                           "sgd_teachers": ["near", "far"],
                           "learning_rates": {"min": 0.01, "max": 0.1, "count": 2}}}
    alone = run_isometry_spectra(base, seed=2)
    spectra = run_isometry_spectra({**base, "conditions": conditions}, seed=2)
    assert list(dict.fromkeys(spectra["condition"])) == ["main", "linear", "hard"]
    main = spectra[spectra["condition"] == "main"].reset_index(drop=True)
    pd.testing.assert_frame_equal(main, alone)
    linear = spectra[(spectra["condition"] == "linear") & (spectra["initialization"] == "orthogonal")]
    np.testing.assert_allclose(linear["value"], linear["depth"] * linear["input_norm2"], rtol=1e-10)
    sgd = run_isometry_sgd({**base, "conditions": conditions}, seed=2)
    runs = sgd.groupby("condition").agg(teachers=("teacher", lambda t: tuple(sorted(set(t)))),
                                        rates=("learning_rate", "nunique"))
    assert runs.loc["main", "teachers"] == ("near",) and runs.loc["main", "rates"] == 3
    assert runs.loc["hard", "teachers"] == ("far", "near") and runs.loc["hard", "rates"] == 2
    assert "linear" not in runs.index  # spectra only
    claims = {c.id for c in isometry_claims(spectra, sgd, {**base, "conditions": conditions})}
    assert {"isometry.hard.learning_rate_falls_as_one_over_depth", "isometry.hard.spectrum_concentrates",
            "isometry.linear.sanity_every_eigenvalue_is_depth_times_input_norm"} <= claims
    diagnosis = far_teacher_diagnosis(sgd[sgd["condition"] == "hard"]).set_index(["teacher", "depth"])
    assert (diagnosis.loc["far", "initial_loss"] > 10 * diagnosis.loc["near", "initial_loss"]).all()


@pytest.mark.parametrize("conditions, key", [
    ({"x": {"activation": "relu", "sigma_w2": 1.0, "sigma_b2": 0.0, "input_scale": 0.1}}, "conditions.x.activation"),
    ({"x": {"activation": "tanh", "sigma_w2": 1.0, "sigma_b2": 0.0}}, "conditions.x.input_scale"),
    ({"main": {"activation": "tanh", "sigma_w2": 1.0, "sigma_b2": 0.0, "input_scale": 0.1}}, "conditions"),
])
def test_a_bad_condition_raises_an_error_naming_it(conditions, key):
    with pytest.raises(SettingsError, match=rf"^isometry\.{re.escape(key)}"):
        from_config(IsometrySettings, {"conditions": conditions}, "isometry")
