"""Pathological spectra (Karakida, Akaho & Amari 2021): the run table against explicit Fisher matrices built from
autograd Jacobians, the mean-gradient overlap, the mean-field closed form, the outlier count, and the claims on small
runs (with a centred-network control on which they must fail)."""

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
from torch.func import jacrev  # noqa: E402

from dltheory.geometry.mlp import activate  # noqa: E402
from dltheory.geometry.settings import SpectraClaims, SpectraSettings  # noqa: E402
from dltheory.geometry.spectra import (  # noqa: E402
    mean_field_mean_eigenvalue,
    n_parameters,
    outlier_count,
    spectra_claims,
    spectra_summary,
    top_spread,
)
from dltheory.geometry.spectra_figures import (  # noqa: E402
    plot_histograms,
    plot_input_metric_vs_dim,
    plot_outliers_vs_width,
)
from dltheory.geometry.spectra_measure import (  # noqa: E402
    draw_network,
    network_spectra,
    run_spectra,
)
from dltheory.settings import SettingsError, from_config, job_config  # noqa: E402
from dltheory.stats import mean_interval  # noqa: E402

SCHEMA = yaml.safe_load((Path(__file__).parents[1] / "workflow/schemas/config.schema.yaml").read_text())

TINY = {"widths": [6, 8], "hidden_layers": 2, "outputs": 3, "samples": 5, "replicates": 2,
        "input_metric": {"width": 8, "input_dims": [3, 4]}}
# Small enough for a test, wide enough that the C = 10 outliers of both activations stand clear of the bulk.
SMALL = {"widths": [64, 128], "samples": 40, "outputs": 10, "replicates": 3,
         "input_metric": {"width": 128, "input_dims": [25, 100]}}


@pytest.fixture(scope="module")
def tiny_table():
    return run_spectra(TINY, seed=3)


@pytest.fixture(scope="module")
def small_table():
    return run_spectra(SMALL, seed=0)


def _explicit_fisher(activation):
    """The P x P FIMs (linear, softmax) and the per-sample Jacobians of TINY's width-8 network, by autograd."""
    weights, biases, x = draw_network(TINY, activation, 8, 8, 0, seed=3)
    flat = [*weights, *biases]

    def outputs(*params):
        h = x
        count = len(weights)
        for layer in range(count):
            h = h @ params[layer].T + params[count + layer]
            if layer < count - 1:
                h = activate(h, activation)
        return h

    with torch.no_grad():
        p = torch.softmax(outputs(*flat), dim=-1)
    jacobian = torch.cat([j.reshape(5, 3, -1) for j in jacrev(outputs, argnums=tuple(range(len(flat))))(*flat)],
                         dim=-1)  # (N, C, P)
    lam = torch.diag_embed(p) - p[:, :, None] * p[:, None, :]
    fisher = {"fim_linear": torch.einsum("sap,saq->pq", jacobian, jacobian) / 5,
              "fim_softmax": torch.einsum("sap,sab,sbq->pq", jacobian, lam, jacobian) / 5}
    return (weights, biases, x), jacobian, fisher


def _values(table, matrix, activation="tanh", width=8, part="width"):
    rows = table[(table["matrix"] == matrix) & (table["activation"] == activation) & (table["width"] == width)
                 & (table["part"] == part) & (table["replicate"] == 0) & (table["quantity"] == "eigenvalue")]
    return rows.sort_values("rank")["value"].to_numpy()


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_fim_eigenvalues_equal_the_explicit_p_by_p_fisher_with_biases(tiny_table, activation):
    _, _, fisher = _explicit_fisher(activation)
    size = n_parameters(8, 8, 2, 3, biases=True)
    assert size == 8 * 9 + 8 * 9 + 3 * 9 == 171  # weights and biases
    for matrix, explicit in fisher.items():
        full = np.sort(np.linalg.eigvalsh(explicit.numpy()))[::-1]
        ours = _values(tiny_table, matrix, activation)
        assert explicit.shape == (size, size) and len(ours) == 5 * 3  # N*C: the whole non-zero spectrum
        np.testing.assert_allclose(ours, full[:15], rtol=0, atol=1e-10 * full[0])
        assert np.all(np.abs(full[15:]) < 1e-10 * full[0])
    softmax = _values(tiny_table, "fim_softmax", activation)
    assert np.sum(softmax > 1e-10 * softmax[0]) == 5 * 2  # diag p - p p^T has rank C - 1


def test_mean_is_trace_over_p_and_overlap_is_the_principal_angle_cosine(tiny_table):
    _, jacobian, fisher = _explicit_fisher("tanh")
    summary = spectra_summary(tiny_table)
    row = summary[(summary["matrix"] == "fim_linear") & (summary["activation"] == "tanh") & (summary["width"] == 8)
                  & (summary["replicate"] == 0)].iloc[0]
    assert row["size"] == 171
    assert row["mean"] == pytest.approx(float(torch.trace(fisher["fim_linear"])) / 171, rel=1e-10)
    # P-space: top-C eigenvectors of the explicit FIM against the orthonormalised mean gradients.
    _, vectors = torch.linalg.eigh(fisher["fim_linear"])
    top = vectors[:, -3:]
    means, _ = torch.linalg.qr(jacobian.mean(dim=0).T)  # (P, C)
    explicit = float(torch.linalg.norm(top.T @ means) ** 2 / 3)
    assert row["overlap"] == pytest.approx(explicit, abs=1e-9)
    assert 0.0 < row["overlap"] <= 1.0 + 1e-12


def test_input_metric_eigenvalues_equal_the_explicit_metric(tiny_table):
    weights, biases, x = draw_network(TINY, "relu", 8, 4, 0, seed=3, part="input_dim")

    def output(sample):
        h = sample
        for layer, (weight, bias) in enumerate(zip(weights, biases, strict=True)):
            h = h @ weight.T + bias
            if layer < len(weights) - 1:
                h = activate(h, "relu")
        return h

    jacobians = torch.stack([torch.autograd.functional.jacobian(output, s) for s in x])  # (N, C, D)
    p = torch.softmax(output(x), dim=-1).detach()
    weights_of = {"input_linear": torch.eye(3, dtype=x.dtype).expand(5, 3, 3),
                  "input_softmax": torch.diag_embed(p) - p[:, :, None] * p[:, None, :]}
    for matrix, weight in weights_of.items():
        metric = torch.einsum("sci,scd,sdj->ij", jacobians, weight, jacobians) / 5
        explicit = np.sort(np.linalg.eigvalsh(metric.numpy()))[::-1]
        rows = tiny_table[(tiny_table["part"] == "input_dim") & (tiny_table["matrix"] == matrix)
                          & (tiny_table["activation"] == "relu") & (tiny_table["input_dim"] == 4)
                          & (tiny_table["replicate"] == 0)]
        ours = rows.sort_values("rank")["value"].to_numpy()
        assert len(ours) == 4  # all D eigenvalues
        np.testing.assert_allclose(ours, explicit, rtol=0, atol=1e-12 * explicit[0])


def test_table_is_tidy_with_the_promised_rows(tiny_table):
    assert list(tiny_table.columns[:9]) == ["part", "matrix", "quantity", "activation", "width", "input_dim",
                                            "replicate", "rank", "value"]
    counts = tiny_table.groupby(["part", "matrix", "quantity"]).size().to_dict()
    # width part: 2 activations x 2 widths x 2 seeds; input_dim part: 2 activations x 2 dims x 2 seeds
    assert counts == {("width", "fim_linear", "eigenvalue"): 8 * 15, ("width", "fim_softmax", "eigenvalue"): 8 * 15,
                      ("width", "fim_linear", "mean_gradient_overlap"): 8,
                      ("width", "input_linear", "eigenvalue"): 4 * (6 + 8),
                      ("width", "input_softmax", "eigenvalue"): 4 * (6 + 8),
                      ("input_dim", "input_linear", "eigenvalue"): 4 * (3 + 4),
                      ("input_dim", "input_softmax", "eigenvalue"): 4 * (3 + 4)}
    sigma = tiny_table.groupby("activation")["sigma_w2"].first().to_dict()
    assert sigma == {"relu": 2.0, "tanh": 1.0} and (tiny_table["sigma_b2"] == 0.5).all()


def test_mean_field_closed_form():
    # Linear activation, no biases: trace per (sample, output) = sum_l sigma_w^(2(L-l)) * (fan-in sizes), exactly.
    width, dim = 50, 20
    expected = 3 * (width * 1.0 + 1.0 * width * 1.0 + 1.0 * dim) / n_parameters(width, dim, 2, 3, biases=False)
    assert mean_field_mean_eigenvalue("linear", 1.0, 0.0, width, dim, 2, 3) == pytest.approx(expected)
    # ReLU at sigma_w^2 = 2 (He): q_l = 2, A_l = M q_l / 2 = M and chi = sigma_w^2 / 2 = 1 in every layer.
    relu = mean_field_mean_eigenvalue("relu", 2.0, 0.0, width, dim, 2, 3)
    assert relu == pytest.approx(3 * (width + width + dim) / n_parameters(width, dim, 2, 3, False))
    # tanh at width 256 with biases: the measured mean over 4 seeds within 3% of the closed form.
    section = {"activations": ["tanh"], "samples": 40}
    ratios = []
    for replicate in range(4):
        weights, biases, x = draw_network(section, "tanh", 256, 256, replicate, seed=1)
        values = network_spectra(weights, biases, "tanh", x)["fim_linear"]
        ratios.append(values.sum() / n_parameters(256, 256, 2, 10, True)
                      / mean_field_mean_eigenvalue("tanh", 1.0, 0.5, 256, 256, 2, 10))
    assert np.mean(ratios) == pytest.approx(1.0, abs=0.03)


def test_outlier_count_finds_the_widest_gap_in_the_upper_half():
    rng = np.random.default_rng(0)
    spectrum = np.concatenate([100.0 * (1 + 0.1 * rng.random(5)), rng.uniform(0.5, 2.0, 200)])
    count, gap = outlier_count(rng.permutation(spectrum))
    assert count == 5
    assert gap == pytest.approx(np.sort(spectrum)[-5] / np.sort(spectrum)[-6]) and gap > 50
    # A steep drop at the bottom of the spectrum is not an outlier edge: only the upper half is searched.
    bottom = np.concatenate([np.linspace(2.0, 1.0, 50), [1e-6]])
    count, gap = outlier_count(bottom)
    assert count <= 25 and gap < 1.05  # not the drop to 1e-6 at k = 50
    # Numerical zeros are raised to lambda_1 * 1e-10 and kept: a rank-3 spectrum of 8 has its widest gap at k = 3.
    assert outlier_count([30.0, 29.0, 28.0, 1.0, 0.9, 0.8, 1e-18, -1e-17]) == (3, pytest.approx(28.0))
    assert outlier_count([5.0, 4.0, 3.0] + [1e-17] * 10) == (3, pytest.approx(3.0 / 5e-10))
    with pytest.raises(ValueError, match="positive largest"):
        outlier_count([0.0, 0.0])


def test_top_spread_is_log10_of_first_over_cth():
    assert top_spread([8.0, 1.0, 4.0, 2.0], count=3) == pytest.approx(np.log10(8.0 / 2.0))
    assert top_spread(np.ones(10), count=10) == 0.0


def test_linear_fim_has_c_outliers_on_mean_gradients_and_softmax_spreads_them(small_table):
    summary = spectra_summary(small_table)
    linear = summary[(summary["part"] == "width") & (summary["matrix"] == "fim_linear")]
    assert (linear["outliers"] == 10).all() and (linear["overlap"] > 0.99).all()
    claims = {c.id: c for c in spectra_claims(small_table, SMALL)}
    assert set(claims) == {"spectra.linear_c_outliers", "spectra.outliers_grow_like_width",
                           "spectra.top_space_is_mean_gradients", "spectra.sanity_mean_eigenvalue_closed_form",
                           "spectra.softmax_disperses_outliers", "spectra.input_metric_follows_input_dim"}
    assert claims["spectra.linear_c_outliers"].holds and claims["spectra.linear_c_outliers"].measured == 1.0
    assert claims["spectra.top_space_is_mean_gradients"].holds
    assert claims["spectra.softmax_disperses_outliers"].holds
    assert all(c.source.startswith("Karakida, Akaho & Amari") and c.ours for c in claims.values())
    assert all("t-interval, R=3" in c.detail for c in claims.values() if c.id != "spectra.linear_c_outliers")
    assert "M=128" in claims["spectra.linear_c_outliers"].detail


def test_centred_tanh_network_has_no_mean_gradient_outliers():
    # Control: without biases, tanh on zero-mean inputs is centred; the C outliers and their eigenspace vanish.
    section = {**SMALL, "activations": ["tanh"], "sigma_b2": 0.0}
    table = run_spectra(section, seed=0)
    linear = spectra_summary(table).query("part == 'width' and matrix == 'fim_linear'")
    assert (linear["gap_c"] < 1.5).all() and (linear["overlap"] < 0.9).all()
    claims = {c.id: c for c in spectra_claims(table, section)}
    assert not claims["spectra.linear_c_outliers"].holds
    assert not claims["spectra.top_space_is_mean_gradients"].holds


def test_claims_fail_on_flat_spectra(small_table):
    flat = small_table.copy()
    eigen = flat["quantity"] == "eigenvalue"
    flat.loc[eigen, "value"] = 1.02 ** -flat.loc[eigen, "rank"].astype(float)  # no gap, spread or growth
    flat.loc[~eigen, "value"] = 0.1
    claims = {c.id: c for c in spectra_claims(flat, SMALL)}
    assert not any(c.holds for c in claims.values())
    assert claims["spectra.softmax_disperses_outliers"].measured == pytest.approx(0.0, abs=1e-12)
    # The fields: every claim rests on the 3 seeds; the interval where the measured number is one interval's end
    # (its lower end), none where it is a count's fraction or a distance from theory; the diagnosis category where
    # the detail names one, by the same condition.
    assert all(c.replicates == 3 for c in claims.values())
    for name in ("top_space_is_mean_gradients", "softmax_disperses_outliers"):
        claim = claims[f"spectra.{name}"]
        assert claim.interval[0] == claim.measured and claim.interval[1] >= claim.interval[0]
        assert claim.interval_kind.startswith("95% t-interval over seeds, ")
        # the weakest interval lies wholly below its margin
        assert claim.diagnosis == "finding" and "Finding at this scale: the whole interval" in claim.detail
    for name, diagnosis in (("outliers_grow_like_width", "scale"), ("sanity_mean_eigenvalue_closed_form", "design"),
                            ("input_metric_follows_input_dim", "scale")):
        claim = claims[f"spectra.{name}"]
        assert claim.interval is None and claim.diagnosis == diagnosis and f"diagnosis ({diagnosis})" in claim.detail
    counts = claims["spectra.linear_c_outliers"]  # no case has the C outliers
    assert counts.diagnosis == "finding" and "Finding at this scale: only 0% of the cases" in counts.detail
    overlap = spectra_summary(flat).query("part == 'width' and matrix == 'fim_linear'")
    lows = [mean_interval(g["overlap"], 0.95) for _, g in overlap.groupby(["activation", "width"])]
    assert claims["spectra.top_space_is_mean_gradients"].interval == pytest.approx(
        min(((i["low"], i["high"]) for i in lows), key=lambda i: i[0]))


@pytest.mark.parametrize("section, named", [
    ({"width": [10]}, r"^spectra\.width: no such setting"),
    ({"claims": {"gapmin": 3.0}}, r"^spectra\.claims\.gapmin: no such setting"),
    ({"activations": ["sigmoid"]}, r"^spectra\.activations: unknown name 'sigmoid'"),
    ({"sigma_w2": {"relu": 2.0}, "activations": ["tanh"]}, r"^spectra\.sigma_w2: unknown name 'relu'"),
])
def test_bad_section_raises_naming_the_key(section, named):
    with pytest.raises(SettingsError, match=named):
        run_spectra(section, seed=0)


@pytest.mark.parametrize("section, key", [
    ({"widths": []}, "widths"),
    ({"samples": 0}, "samples"),
    ({"outputs": 1}, "outputs"),
    ({"activations": ["sigmoid"]}, "activations.0"),
    ({"sigma_b2": -1.0}, "sigma_b2"),
    ({"replicates": 1}, "replicates"),
    ({"input_metric": {"input_dims": [4]}}, "input_metric.input_dims"),
    ({"claims": {"overlap_min": 1.5}}, "claims.overlap_min"),
])
def test_schema_rejects_a_bad_value_naming_the_key(section, key):
    validator = jsonschema.Draft7Validator(SCHEMA["properties"]["spectra"])
    assert not list(validator.iter_errors({"enabled": True, "sigma_w2": {"tanh": 1.5}}))
    error = jsonschema.exceptions.best_match(validator.iter_errors({"enabled": True, **section}))
    assert error is not None and ".".join(map(str, error.absolute_path)) == key


def test_defaults_are_documented_and_resolved():
    settings = SpectraSettings()
    assert settings.widths == (100, 200, 400) and settings.activations == ("tanh", "relu")
    assert settings.sigma_w2 == {"tanh": 1.0, "relu": 2.0}  # critical values
    assert from_config(SpectraSettings, {"sigma_w2": {"tanh": 3}}, "spectra").sigma_w2 == {"tanh": 3.0, "relu": 2.0}
    assert from_config(SpectraSettings, {"widths": [400, 100]}, "spectra").widths == (100, 400)
    assert settings.input_dim(200) == 200 and from_config(SpectraSettings, {"input_ratio": 0.5},
                                                          "spectra").input_dim(200) == 100
    assert settings.claims == SpectraClaims(width_slope_tolerance=0.15, overlap_min=0.9, mean_field_tolerance=0.05,
                                            spread_margin=0.3, input_slope_tolerance=0.15, confidence=0.95)
    job = job_config(settings)
    assert "claims" not in job and job["sigma_w2"] == {"tanh": 1.0, "relu": 2.0}


def test_same_seed_same_table_other_seed_other_table(tiny_table):
    pd.testing.assert_frame_equal(tiny_table, run_spectra(TINY, seed=3))
    other = run_spectra(TINY, seed=4)
    assert not np.allclose(other["value"].to_numpy(), tiny_table["value"].to_numpy())


def test_figures_have_their_panels(small_table):
    figure = plot_histograms(small_table, SMALL)
    assert len(figure.axes) == 4 * 2  # (tanh, relu) x (linear, softmax) rows, 2 widths
    assert "M = D = 128" in figure.axes[1].get_title()
    plt.close(figure)
    figure = plot_outliers_vs_width(spectra_summary(small_table), SMALL)
    labels = figure.axes[1].get_legend_handles_labels()[1]
    assert "mean-field closed form" in labels and any("1/M" in label for label in labels)
    plt.close(figure)
    figure = plot_input_metric_vs_dim(small_table, SMALL)
    assert len(figure.axes) == 3 and "C = 10" in figure.axes[2].get_legend_handles_labels()[1]
    plt.close(figure)


def test_softmax_claim_is_not_fooled_by_the_class_mean_direction(small_table):
    # A softmax FIM that is the linear one with its C-th outlier dropped into the bulk (what diag p - p p^T does to
    # the class-mean direction at uniform p) has no dispersion: the claim over the top C - 1 must fail.
    fake = small_table.copy()
    for key, group in fake[(fake["matrix"] == "fim_linear") & (fake["quantity"] == "eigenvalue")].groupby(
            ["part", "activation", "width", "input_dim", "replicate"]):
        values = group.sort_values("rank")["value"].to_numpy().copy()
        values[9] = values[10]  # the C-th eigenvalue joins the bulk
        target = ((fake["matrix"] == "fim_softmax") & (fake["part"] == key[0]) & (fake["activation"] == key[1])
                  & (fake["width"] == key[2]) & (fake["replicate"] == key[4]))
        fake.loc[target, "value"] = values / 10.0
    claims = {c.id: c for c in spectra_claims(fake, SMALL)}
    assert not claims["spectra.softmax_disperses_outliers"].holds
    assert claims["spectra.softmax_disperses_outliers"].measured < 0.05
