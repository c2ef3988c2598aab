"""The natural-gradient family's width sweep, seeds, intervals and K-FAC conventions (issue 20)."""

import dataclasses

import numpy as np
import pandas as pd
import pytest
import torch
from scipy import stats

from dltheory.geometry import jacobian as jc
from dltheory.geometry import natgrad, natgrad_train
from dltheory.geometry.mlp import forward, init_params


def small_problem(n=4):
    """N = 4 samples with every fan-in >= N, so every input Gram (and delta Gram) has full rank."""
    spec = dataclasses.replace(natgrad.network_spec({"width": 12, "layers": 4}, 9), width=12)
    generator = torch.Generator().manual_seed(7)
    params = init_params(spec, generator)
    x = torch.randn(n, 9, generator=generator, dtype=torch.float64)
    x = x / x.norm(dim=1, keepdim=True)
    y = torch.tensor([[0.5], [-0.5]] * (n // 2), dtype=torch.float64)
    return spec, params, x, y


def test_kfac_in_the_paper_convention_moves_every_layer_by_n_r_and_fits_in_one_linearised_step():
    """Textbook K-FAC moves the output layer by r, the paper's convention by N r like every full-rank hidden layer,
    so at the paper's rate 1/(NL) the linearised outputs move by exactly -r (the training set is fitted)."""
    spec, params, x, y = small_problem()
    n, layers = x.shape[0], len(spec.names)
    residual = (forward(spec, params, x) - y)[:, 0]
    parts = jc.parameter_jacobian(spec, params, x)
    textbook = natgrad_train.update_direction("kfac", spec, params, x, y, pinv_rtol=1e-12)
    paper = natgrad_train.update_direction(natgrad.KFAC_PAPER, spec, params, x, y, pinv_rtol=1e-12)
    *hidden, output = spec.names
    for name in hidden:
        torch.testing.assert_close(paper[name], textbook[name])
        torch.testing.assert_close(parts[name] @ paper[name].reshape(-1), n * residual, rtol=1e-6, atol=1e-9)
    torch.testing.assert_close(parts[output] @ textbook[output].reshape(-1), residual, rtol=1e-6, atol=1e-9)
    torch.testing.assert_close(parts[output] @ paper[output].reshape(-1), n * residual, rtol=1e-6, atol=1e-9)
    rate = natgrad.paper_learning_rate(natgrad.KFAC_PAPER, layers, n, spec.width)
    total = sum(parts[name] @ paper[name].reshape(-1) for name in spec.names)
    torch.testing.assert_close(rate * total, residual, rtol=1e-6, atol=1e-9)


def test_block_tridiagonal_at_four_layers_moves_the_first_and_last_layers():
    np.testing.assert_allclose(natgrad.tridiagonal_coefficients(4), [1, 0, 0, 1], atol=1e-12)
    spec, params, x, y = small_problem()
    direction = natgrad_train.update_direction("block_tridiagonal", spec, params, x, y, pinv_rtol=1e-12)
    norms = [float(direction[name].norm()) for name in spec.names]
    assert norms[0] > 0 and norms[3] > 0 and norms[1] == norms[2] == 0


def test_t_interval_is_the_student_t_interval_and_the_geometric_one_is_its_exponential():
    interval = natgrad.t_interval([1.0, 2.0, 3.0], 0.95)
    half = stats.t.ppf(0.975, 2) / np.sqrt(3)
    assert interval == pytest.approx({"mean": 2.0, "low": 2 - half, "high": 2 + half, "replicates": 3})
    geometric = natgrad.geometric_interval(np.exp([1.0, 2.0, 3.0]), 0.95)
    assert geometric["mean"] == pytest.approx(np.exp(2.0)) and geometric["low"] == pytest.approx(np.exp(2 - half))
    assert np.isnan(natgrad.t_interval([1.0], 0.95)["low"])


def test_the_exact_job_sweeps_widths_over_seeds_and_the_claims_use_the_interval_at_the_largest():
    section = {"width": 32, "widths": [16, 64], "approximation_widths": [16], "replicates": 3, "layers": 4,
               "train_size": 10, "test_size": 8, "steps": 1, "gd": {"steps": 5, "rate_multiples": [1.0]}}
    table = pd.concat([natgrad_train.run_method(m, section, seed=1) for m in ("gd", "exact", "kfac")],
                      ignore_index=True)
    exact = table[table["method"] == "exact"]
    assert sorted(exact.groupby(["width", "replicate"]).groups) == [(w, r) for w in (16, 32, 64) for r in range(3)]
    assert set(table[table["method"] == "gd"]["width"]) == {32}  # GD runs at width only
    # the approximations also run at approximation_widths
    assert set(table[table["method"] == natgrad.KFAC_PAPER]["width"]) == {16, 32}
    assert {"kfac", natgrad.KFAC_PAPER, natgrad.PREDICTION} <= set(table["method"])
    # every method starts from the same network and data in a replicate; replicates differ
    start = table[(table["step"] == 0) & (table["split"] == "train") & (table["metric"] == "loss")
                  & (table["width"] == 32)].groupby(["replicate", "method"])["value"].first().unstack()
    assert np.allclose(start.to_numpy(), start[["exact"]].to_numpy()) and start["exact"].nunique() == 3
    per_width = natgrad.exact_by_width(table)
    largest = per_width[per_width["width"] == 64]
    claims = {c.id: c for c in natgrad.natgrad_claims(table, section)}
    drop = natgrad.geometric_interval(largest["drop"], 0.95)
    claim = claims["natgrad.exact_ngd_fits_in_one_step"]
    assert claim.measured == pytest.approx(drop["mean"], abs=0.06)
    assert claim.holds == (drop["low"] >= 100.0)
    ratio = claims["natgrad.exact_ngd_follows_the_ntk_limit"]
    assert ratio.measured == pytest.approx(natgrad.geometric_interval(largest["ntk_ratio"], 0.95)["high"], rel=1e-3)
    assert "(n = 3)" in ratio.detail and "M = 16" in ratio.detail
    assert "K-FAC (paper's convention)" in claims["natgrad.approximations_match_exact_ngd"].detail
    test = table[(table["split"] == "test") & (table["metric"] == "loss") & (table["step"] == 1)
                 & (table["width"] == 32)].groupby(["method", "replicate"])["value"].first()
    kfac = test[natgrad.KFAC_PAPER] / test["exact"]
    interval = natgrad.geometric_interval(np.maximum(kfac, 1 / kfac), 0.95)
    predict = claims["natgrad.approximations_predict_as_exact_ngd"]
    assert predict.measured >= round(interval["high"], 2) - 0.01  # the largest upper end over the approximations
    assert predict.holds == (predict.measured <= 1.5)

    # the one-step loss against width: one slope per seed from the fractions, judged at the interval's upper end
    fractions = natgrad.one_step_fractions(table)
    kfac_rows = fractions[fractions["method"] == natgrad.KFAC_PAPER].pivot(index="replicate", columns="width",
                                                                              values="fraction")
    slopes = natgrad.width_slopes(fractions)
    np.testing.assert_allclose(slopes[natgrad.KFAC_PAPER], np.log(kfac_rows[32] / kfac_rows[16]) / np.log(2))
    assert set(slopes) == {"exact", "kfac", natgrad.KFAC_PAPER}  # methods at one width only have no slope
    vanish = claims["natgrad.one_step_loss_vanishes_with_width"]
    highest = max(natgrad.t_interval(slopes[m], 0.95)["high"] for m in ("exact", natgrad.KFAC_PAPER))
    assert vanish.measured == pytest.approx(highest, abs=0.006) and vanish.holds == (highest <= -0.5)
    assert "not judged, K-FAC in the textbook convention" in vanish.detail and "(n = 3)" in vanish.detail


def test_forster_transform_puts_the_digits_in_radial_isotropic_position_and_maps_the_test_set_alike():
    """The digits 0/1 at N = 100 span fewer dimensions than N: after the transform the rows have unit norm and
    (r/N) Z^T Z is within the code's stalling deviation of the identity on the span, as the returned deviation says."""
    x, y, x_test, _ = natgrad_train.digits_two_classes((0, 1), 100, 20, seed=3, input_transform="forster")
    raw, *_ = natgrad_train.digits_two_classes((0, 1), 100, 20, seed=3)
    transform, deviation = natgrad.forster_transform(raw.numpy())
    rank = transform.shape[1]
    assert rank == np.linalg.matrix_rank(raw.numpy()) < 64 and x.shape == (100, rank) and x_test.shape == (20, rank)
    np.testing.assert_allclose(x.norm(dim=1).numpy(), 1.0)
    np.testing.assert_allclose(x_test.norm(dim=1).numpy(), 1.0)
    moment = x.numpy().T @ x.numpy() * rank / 100
    assert np.linalg.norm(moment - np.eye(rank), 2) == pytest.approx(deviation, rel=1e-6, abs=1e-9)
    assert deviation < 0.05 < np.linalg.norm(raw.numpy().T @ raw.numpy() * 64 / 100 - np.eye(64), 2)
    # points in general position reach the tolerance
    points = np.random.default_rng(0).standard_normal((30, 5)) * [1, 2, 4, 8, 16]
    assert natgrad.forster_transform(points)[1] < 1e-3
    with pytest.raises(ValueError, match="input_transform"):
        natgrad_train.digits_two_classes((0, 1), 10, 5, seed=0, input_transform="whiten")


def _synthetic_losses(kfac_factor: float) -> pd.DataFrame:
    """Exact NGD and K-FAC (paper's convention) at widths 16 and 32 over three seeds: train and test loss 1 at step
    0; after one step exact NGD's train loss is 1e-3 times a seed factor (halved at the wider network) and K-FAC's
    ``kfac_factor`` times exact NGD's; the test losses are the same with 0.5 added."""
    rows = []
    for replicate, factor in enumerate((1.0, 1.3, 0.8)):
        for width in (16, 32):
            exact = 1e-3 * factor * 16 / width
            after = {"exact": exact, natgrad.KFAC_PAPER: kfac_factor * exact * (1.0 + 0.1 * replicate)}
            for method, loss in after.items():
                for split, offset in (("train", 0.0), ("test", 0.5)):
                    rows += [{"method": method, "width": width, "replicate": replicate, "split": split,
                              "metric": "loss", "step": step, "value": value, "diverged": False,
                              "rate_multiple": 1.0}
                             for step, value in ((0, 1.0), (1, loss + offset))]
    return pd.DataFrame(rows)


def test_claims_carry_the_interval_they_print_with_its_seeds_and_the_design_diagnosis():
    section = {"width": 32, "widths": [16, 32], "replicates": 3}
    table = _synthetic_losses(kfac_factor=20.0)
    claims = {c.id: c for c in natgrad.natgrad_claims(table, section)}
    fits = claims["natgrad.exact_ngd_fits_in_one_step"]
    drop = natgrad.geometric_interval(natgrad.exact_by_width(table).query("width == 32")["drop"], 0.95)
    assert fits.interval == pytest.approx((drop["low"], drop["high"]))
    assert fits.replicates == 3 and fits.interval_kind.startswith("95% t-interval of the log over seeds")
    assert fits.diagnosis == ""
    match = claims["natgrad.approximations_match_exact_ngd"]
    assert not match.holds and match.diagnosis == "design" and "diagnosis (design)" in match.detail
    assert match.interval[1] == pytest.approx(match.measured, abs=0.005)  # measured: the upper end
    assert match.replicates == 3 and "K-FAC (paper's convention)" in match.interval_kind
    vanish = claims["natgrad.one_step_loss_vanishes_with_width"]
    assert vanish.replicates == 3 and vanish.interval[1] == pytest.approx(vanish.measured, abs=0.005)
    close = {c.id: c for c in natgrad.natgrad_claims(_synthetic_losses(kfac_factor=2.0), section)}
    assert close["natgrad.approximations_match_exact_ngd"].holds
    assert close["natgrad.approximations_match_exact_ngd"].diagnosis == ""
    one_seed = {c.id: c for c in natgrad.natgrad_claims(table[table["replicate"] == 0], section)}
    fits = one_seed["natgrad.exact_ngd_fits_in_one_step"]
    assert fits.interval is None and fits.interval_kind == "" and fits.replicates == 1
