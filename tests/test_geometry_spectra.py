"""Pathological spectra (Karakida, Akaho & Amari 2021): the run table against explicit Fisher matrices, the outlier
count, and the claims on small runs."""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import jsonschema  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
import yaml  # noqa: E402

from dltheory.geometry.jacobian import parameter_jacobian  # noqa: E402
from dltheory.geometry.mlp import forward  # noqa: E402
from dltheory.geometry.settings import SpectraClaims, SpectraSettings  # noqa: E402
from dltheory.geometry.spectra import (  # noqa: E402
    draw_network,
    n_parameters,
    outlier_count,
    run_spectra,
    spectra_claims,
    spectra_summary,
    top_spread,
)
from dltheory.geometry.spectra_figures import plot_histograms, plot_outliers_vs_width  # noqa: E402
from dltheory.settings import SettingsError, from_config, job_config  # noqa: E402

SCHEMA = yaml.safe_load((Path(__file__).parents[1] / "workflow/schemas/config.schema.yaml").read_text())

TINY = {"widths": [8], "hidden_layers": 2, "outputs": 3, "samples": 5, "input_dim": 4, "replicates": 1}
# Small enough for a test, large enough that ReLU's C = 10 outliers stand clear of the bulk (gap ≥ 3 on every seed
# we tried); the gap threshold is lowered accordingly, since the gap grows with N and M.
SMALL = {"widths": [128, 256], "samples": 40, "input_dim": 40, "outputs": 10, "replicates": 2,
         "claims": {"gap_min": 2.0}}


@pytest.fixture(scope="module")
def tiny_table():
    return run_spectra(TINY, seed=3)


@pytest.fixture(scope="module")
def small_table():
    return run_spectra(SMALL, seed=0)


def _explicit(tiny_table):
    spec, params, x = draw_network(TINY, 8, 0, seed=3)
    jacobian = torch.cat(list(parameter_jacobian(spec, params, x).values()), dim=1)  # (N*C, P)
    n_samples, n_outputs = x.shape[0], spec.output_dim
    per_sample = jacobian.reshape(n_samples, n_outputs, -1)
    with torch.no_grad():
        p = torch.softmax(forward(spec, params, x), dim=-1)
    weights = torch.diag_embed(p) - p[:, :, None] * p[:, None, :]
    fisher = {
        "fim_linear": jacobian.T @ jacobian / n_samples,
        "fim_softmax": torch.einsum("sap,sab,sbq->pq", per_sample, weights, per_sample) / n_samples,
    }
    return spec, params, x, fisher


def _values(table, matrix):
    return table[table["matrix"] == matrix].sort_values("rank")["value"].to_numpy()


def test_fim_eigenvalues_equal_the_explicit_p_by_p_fisher(tiny_table):
    _, _, _, fisher = _explicit(tiny_table)
    for matrix, explicit in fisher.items():
        full = np.sort(np.linalg.eigvalsh(explicit.numpy()))[::-1]
        ours = _values(tiny_table, matrix)
        assert len(ours) == 5 * 3  # N*C: the Fisher's whole non-zero spectrum
        assert full.shape == (n_parameters(8, 4, 2, 3),) == (4 * 8 + 8 * 8 + 8 * 3,)
        np.testing.assert_allclose(ours, full[:15], rtol=0, atol=1e-10 * full[0])
        assert np.all(np.abs(full[15:]) < 1e-10 * full[0])
    # softmax: diag p - p p^T has rank C - 1, so exactly N of the N*C dual eigenvalues are zero
    softmax = _values(tiny_table, "fim_softmax")
    assert np.sum(softmax > 1e-10 * softmax[0]) == 5 * 2


def test_mean_eigenvalue_is_trace_over_p(tiny_table):
    _, _, _, fisher = _explicit(tiny_table)
    summary = spectra_summary(tiny_table).set_index("matrix")
    for matrix, explicit in fisher.items():
        p = explicit.shape[0]
        assert summary.loc[matrix, "n_parameters"] == p == 120
        assert summary.loc[matrix, "mean"] == pytest.approx(float(torch.trace(explicit)) / p, rel=1e-10)


def test_input_metric_eigenvalues_equal_the_explicit_metric(tiny_table):
    spec, params, x, _ = _explicit(tiny_table)
    jacobians = torch.stack([torch.autograd.functional.jacobian(lambda s: forward(spec, params, s[None])[0], s)
                             for s in x])  # (N, C, D)
    p = torch.softmax(forward(spec, params, x), dim=-1).detach()
    weights = {"input_linear": torch.eye(3, dtype=x.dtype).expand(5, 3, 3),
               "input_softmax": torch.diag_embed(p) - p[:, :, None] * p[:, None, :]}
    for matrix, weight in weights.items():
        metric = torch.einsum("sci,scd,sdj->ij", jacobians, weight, jacobians) / 5
        explicit = np.sort(np.linalg.eigvalsh(metric.numpy()))[::-1]
        ours = _values(tiny_table, matrix)
        assert len(ours) == 4  # all input_dim eigenvalues
        np.testing.assert_allclose(ours, explicit, rtol=0, atol=1e-12 * explicit[0])


def test_table_is_tidy_with_the_promised_columns(tiny_table):
    assert {"matrix", "activation", "width", "replicate", "rank", "value", "n_samples", "n_outputs", "input_dim",
            "hidden_layers"} <= set(tiny_table.columns)
    counts = tiny_table.groupby("matrix").size().to_dict()
    assert counts == {"fim_linear": 15, "fim_softmax": 15, "input_linear": 4, "input_softmax": 4}
    assert (tiny_table["activation"] == "relu").all() and (tiny_table["sigma_w2"] == 2.0).all()


def test_outlier_count_finds_a_known_gap():
    rng = np.random.default_rng(0)
    spectrum = np.concatenate([100.0 * (1 + 0.1 * rng.random(5)), rng.uniform(0.5, 2.0, 200)])
    count, gap = outlier_count(rng.permutation(spectrum), max_outliers=20)
    assert count == 5
    assert gap == pytest.approx(np.sort(spectrum)[-5] / np.sort(spectrum)[-6])
    assert gap > 50
    # A smooth geometric spectrum has no gap beyond its constant ratio 1.05.
    count, gap = outlier_count(1.05 ** -np.arange(100.0), max_outliers=20)
    assert gap == pytest.approx(1.05)
    # A rank-3 spectrum (numerical zeros below) has its widest gap at its rank.
    assert outlier_count([3.0, 2.0, 1.0, 1e-18, -1e-17], max_outliers=4)[0] == 3


def test_top_spread_is_log10_of_first_over_cth():
    assert top_spread([8.0, 1.0, 4.0, 2.0], count=3) == pytest.approx(np.log10(8.0 / 2.0))
    assert top_spread(np.ones(10), count=10) == 0.0


def test_linear_fim_has_exactly_c_outliers_and_softmax_spreads_them(small_table):
    summary = spectra_summary(small_table)
    linear = summary[summary["matrix"] == "fim_linear"]
    assert (linear["outliers"] == 10).all()
    assert (linear["gap"] >= 2.0).all()
    claims = {c.id: c for c in spectra_claims(small_table, SMALL)}
    assert set(claims) == {"spectra.linear_c_outliers", "spectra.linear_outliers_grow_with_width",
                           "spectra.softmax_spreads_outliers", "spectra.input_metric_few_outliers"}
    assert claims["spectra.linear_c_outliers"].holds
    assert claims["spectra.softmax_spreads_outliers"].holds
    assert claims["spectra.softmax_spreads_outliers"].measured >= 0.3
    assert all(c.source.startswith("Karakida, Akaho & Amari") and c.ours for c in claims.values())
    assert "M=128" in claims["spectra.linear_c_outliers"].detail


def test_centred_tanh_network_has_no_linear_outliers():
    # Without biases, tanh on zero-mean inputs is a centred network: no mean gradient, hence no C outliers.
    section = {**SMALL, "widths": [256], "replicates": 1, "activation": "tanh"}
    table = run_spectra(section, seed=0)
    linear = spectra_summary(table).query("matrix == 'fim_linear'")
    assert (linear["gap"] < 1.5).all()
    claims = {c.id: c for c in spectra_claims(table, section)}
    assert not claims["spectra.linear_c_outliers"].holds
    assert claims["spectra.linear_outliers_grow_with_width"].measured == "fewer than two widths"
    assert not claims["spectra.linear_outliers_grow_with_width"].holds


def test_claims_fail_on_flat_spectra(small_table):
    flat = small_table.copy()
    flat["value"] = 1.02 ** -flat["rank"].astype(float)  # no gap, no spread, no growth with M
    claims = {c.id: c for c in spectra_claims(flat, SMALL)}
    assert not any(c.holds for c in claims.values())
    assert claims["spectra.softmax_spreads_outliers"].measured == pytest.approx(0.0)
    assert claims["spectra.linear_outliers_grow_with_width"].measured == pytest.approx(0.0)


@pytest.mark.parametrize("section, named", [
    ({"width": [10]}, r"^spectra\.width: no such setting"),
    ({"claims": {"gapmin": 3.0}}, r"^spectra\.claims\.gapmin: no such setting"),
    ({"activation": "sigmoid"}, r"^spectra\.activation: 'sigmoid'"),
])
def test_bad_section_raises_naming_the_key(section, named):
    with pytest.raises(SettingsError, match=named):
        run_spectra(section, seed=0)


@pytest.mark.parametrize("section, key", [
    ({"widths": []}, "widths"),
    ({"samples": 0}, "samples"),
    ({"outputs": 1}, "outputs"),
    ({"activation": "sigmoid"}, "activation"),
    ({"sigma_w2": -1.0}, "sigma_w2"),
    ({"claims": {"gap_min": 0}}, "claims.gap_min"),
])
def test_schema_rejects_a_bad_value_naming_the_key(section, key):
    validator = jsonschema.Draft7Validator(SCHEMA["properties"]["spectra"])
    assert not list(validator.iter_errors({"enabled": True, "sigma_w2": None}))
    error = jsonschema.exceptions.best_match(validator.iter_errors({"enabled": True, **section}))
    assert error is not None and ".".join(map(str, error.absolute_path)) == key


def test_defaults_are_documented_and_resolved():
    settings = SpectraSettings()
    assert settings.widths == (100, 200, 400)
    assert settings.sigma_w2 == 2.0  # relu's critical value
    assert from_config(SpectraSettings, {"activation": "tanh"}, "spectra").sigma_w2 == 1.0
    assert from_config(SpectraSettings, {"sigma_w2": 3}, "spectra").sigma_w2 == 3.0
    assert from_config(SpectraSettings, {"widths": [400, 100]}, "spectra").widths == (100, 400)
    assert settings.claims == SpectraClaims(gap_min=10.0, slope_tolerance=0.2, spread_margin=0.3)
    job = job_config(settings)
    assert "claims" not in job and job["sigma_w2"] == 2.0  # a job gets the resolved value


def test_same_seed_same_table_other_seed_other_table(tiny_table):
    pd.testing.assert_frame_equal(tiny_table, run_spectra(TINY, seed=3))
    other = run_spectra(TINY, seed=4)
    assert not np.allclose(other["value"].to_numpy(), tiny_table["value"].to_numpy())


def test_figures_have_a_panel_per_matrix_and_width(small_table):
    figure = plot_histograms(small_table, SMALL)
    assert len(figure.axes) == 3 * 2
    assert "M = 256" in figure.axes[1].get_title()
    plt.close(figure)
    figure = plot_outliers_vs_width(spectra_summary(small_table))
    labels = figure.axes[0].get_legend_handles_labels()[1]
    assert any("slope" in label for label in labels) and any("M^+1" in label for label in labels)
    plt.close(figure)
