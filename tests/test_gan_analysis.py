"""GAN analysis (issue 18): the scale-free convergence rule, the maps' seed counts, the claims and where they read."""

import types

import numpy as np
import pandas as pd
import pytest

from dltheory.gan.analysis import (
    converged,
    converged_fractions,
    descent_lemma_table,
    gan_claims,
    sanity_claim,
    stability_map,
    stable_cells,
)

CLAIMS = types.SimpleNamespace(majority=0.5, min_seeds=5, sn_margin=0.4, pilots="")
RATES = (0.01, 0.1)
MEETS_ALL = {("smoothed", "elu")}


def _metrics(w1_start, w1_late, coverage, grad_early, grad_late, scale=1.0, critic=1.0, diverged=False):
    """One ring run's tidy metrics over 1,000 steps, evaluated every 100: W1 (times ``scale``, the data's size) at
    step 0 and in the last 10 %, coverage there, and gradient norms (times ``critic``, the critic's scale)."""
    rows = []
    for step in range(0, 1001, 100):
        values = {}
        if step > 0:
            values["generator_grad_norm"] = critic * (grad_early if step <= 200 else grad_late)
        if step == 0:
            values["wasserstein1"] = scale * w1_start
        if step >= 900:
            values.update(wasserstein1=scale * w1_late, mode_coverage=coverage, high_quality_fraction=0.5)
        rows += [{"dataset": "ring", "variant": "sn_gp", "activation": "elu", "optimizer": "sgd",
                  "learning_rate": 0.1, "seed": 0, "step": step, "metric": name, "value": value,
                  "diverged": diverged, "diverged_step": 500 if diverged else -1} for name, value in values.items()]
    return pd.DataFrame(rows)


def _verdict(table):
    row = converged(table, {"ring": 0.25}, {"ring": 0.75}, 0.5).iloc[0]
    return bool(row["learned"]), bool(row["stationary"]), bool(row["converged"])


@pytest.mark.parametrize("case, expected", [
    (dict(w1_start=2.0, w1_late=0.3, coverage=1.0, grad_early=1.0, grad_late=0.1), (True, True, True)),
    (dict(w1_start=2.0, w1_late=0.3, coverage=1.0, grad_early=1.0, grad_late=0.9), (True, False, False)),
    (dict(w1_start=2.0, w1_late=0.6, coverage=1.0, grad_early=1.0, grad_late=0.1), (False, True, False)),
    (dict(w1_start=2.0, w1_late=0.3, coverage=0.5, grad_early=1.0, grad_late=0.1), (False, True, False)),
])
def test_the_rule_is_relative_to_each_runs_start_and_ignores_the_data_and_critic_scales(case, expected):
    assert _verdict(_metrics(**case)) == expected
    # The ring at radius 5 (W1 x 2.5) and a critic 100 x stronger (gradients x 100): the same verdicts.
    assert _verdict(_metrics(**case, scale=2.5, critic=100.0)) == expected
    assert _verdict(_metrics(**case, scale=0.4, critic=1e-5)) == expected


def test_a_diverged_run_has_neither_learned_nor_converged():
    ok = dict(w1_start=2.0, w1_late=0.3, coverage=1.0, grad_early=1.0, grad_late=0.1)
    assert _verdict(_metrics(**ok, diverged=True)) == (False, False, False)


def _runs(pattern: dict[tuple[str, str, str], list[tuple[int, int]]], seeds: int = 5) -> pd.DataFrame:
    """Runs table: per (variant, activation, optimizer), (learned, converged) seed counts at each rate of RATES."""
    rows = []
    for (variant, activation, optimizer), counts in pattern.items():
        for rate, (learned, converged_count) in zip(RATES, counts, strict=True):
            for seed in range(seeds):
                rows.append({"dataset": "ring", "variant": variant, "activation": activation, "optimizer": optimizer,
                             "learning_rate": rate, "seed": seed, "diverged": False, "w1_ratio": 0.1,
                             "coverage": 1.0, "grad_ratio": 0.1, "high_quality": 0.5, "learned": seed < learned,
                             "stationary": seed < converged_count, "converged": seed < converged_count})
    return pd.DataFrame(rows)


PATTERN = {
    ("sn_gp", "relu", "sgd"): [(5, 2), (4, 1)], ("sn_gp", "elu", "sgd"): [(5, 4), (5, 3)],
    ("sn_wasserstein", "relu", "sgd"): [(1, 0), (0, 0)], ("sn_wasserstein", "elu", "sgd"): [(1, 1), (0, 0)],
    ("smoothed", "relu", "sgd"): [(5, 2), (3, 1)], ("smoothed", "elu", "sgd"): [(5, 5), (5, 4)],
    ("non_saturating", "relu", "sgd"): [(0, 0), (0, 0)], ("non_saturating", "elu", "sgd"): [(0, 0), (0, 0)],
}


def test_maps_count_seeds_per_cell():
    cells = stability_map(_runs(PATTERN)).set_index(["variant", "activation", "optimizer", "learning_rate"])
    assert cells.loc[("sn_gp", "elu", "sgd", 0.1), "learned"] == 1.0
    assert cells.loc[("sn_gp", "elu", "sgd", 0.1), "converged"] == pytest.approx(0.6)
    assert (cells["runs"] == 5).all()
    fractions = converged_fractions(_runs(PATTERN))
    assert fractions.loc[("smoothed", "elu"), "converged_runs"] == 9
    stable = stable_cells(stability_map(_runs(PATTERN)), 0.5, 5).set_index(["variant", "activation"])
    assert stable.loc[("smoothed", "elu"), "n_stable"] == 2 and stable.loc[("smoothed", "relu"), "n_stable"] == 0
    assert stable.loc[("sn_gp", "elu"), "largest"] == 0.1


def test_claims_hold_on_a_table_built_to_satisfy_them():
    claims = {c.id: c for c in gan_claims(_runs(PATTERN), CLAIMS, MEETS_ALL)}
    assert set(claims) == {"gan.sn_alone_fails", "gan.smooth_activations_help", "gan.eventual_stationarity"}
    assert all(c.holds and c.ours for c in claims.values()), {k: c.measured for k, c in claims.items()}
    assert "ring/elu/sgd lr 0.1: SN + GP 100%, SN alone 0%" in claims["gan.sn_alone_fails"].measured
    assert "9/10 learned runs stationary" in claims["gan.eventual_stationarity"].measured


def test_claims_fail_with_a_diagnosis_when_the_measurements_say_otherwise():
    reversed_pattern = {**PATTERN, ("sn_wasserstein", "relu", "sgd"): [(5, 0), (4, 0)],
                        ("smoothed", "elu", "sgd"): [(5, 0), (5, 0)], ("sn_gp", "elu", "sgd"): [(5, 0), (5, 0)]}
    claims = {c.id: c for c in gan_claims(_runs(reversed_pattern), CLAIMS, MEETS_ALL)}
    assert not claims["gan.sn_alone_fails"].holds and "Finding" in claims["gan.sn_alone_fails"].detail
    assert not claims["gan.smooth_activations_help"].holds
    assert not claims["gan.eventual_stationarity"].holds
    assert "kept moving" in claims["gan.eventual_stationarity"].detail


def test_claims_read_only_cells_with_enough_seeds():
    # Every cell has 4 seeds, below min_seeds = 5: nothing can be read, and each claim says so.
    claims = {c.id: c for c in gan_claims(_runs(PATTERN, seeds=4), CLAIMS, MEETS_ALL)}
    assert not claims["gan.sn_alone_fails"].holds and "Not testable" in claims["gan.sn_alone_fails"].detail
    assert not claims["gan.smooth_activations_help"].holds


def test_claims_whose_variants_did_not_run_are_skipped():
    only = {k: v for k, v in PATTERN.items() if k[0] in ("sn_gp", "non_saturating")}
    ids = {c.id for c in gan_claims(_runs(only), CLAIMS, MEETS_ALL)}
    assert ids == {"gan.smooth_activations_help"}


def test_the_sanity_claim_needs_most_seeds_on_the_modes():
    sanity = types.SimpleNamespace(min_high_quality=0.8, min_coverage=1.0, min_fraction=0.6, discriminator_steps=5,
                                   learning_rate=1e-4, lr_decay="none")

    def runs(quality, w1=0.4):
        return pd.DataFrame({"seed": range(5), "high_quality": quality, "coverage": 1.0, "diverged": False,
                             "w1_ratio": w1})

    held = sanity_claim(runs([0.9, 0.85, 0.81, 0.5, 0.2]), sanity)
    # 3 of 5 seeds: the 95% Wilson interval over the seeds
    assert held.holds and held.interval == pytest.approx((0.2307, 0.8824), abs=1e-4) and held.replicates == 5
    failed = sanity_claim(runs([0.9, 0.85, 0.79, 0.5, 0.2]), sanity)
    assert not failed.holds and failed.measured.startswith("2/5 seeds")
    # the samples moved towards the ring (W1 ratio 0.4): too few steps; not at all (1.1): our code
    assert failed.diagnosis == "scale" and failed.detail.startswith("Scale: the seeds' median W1 ratio is 0.40")
    assert sanity_claim(runs([0.9, 0.85, 0.79, 0.5, 0.2], w1=1.1), sanity).diagnosis == "bug"


def test_descent_lemma_table_reads_the_smoothness_at_the_smallest_rate():
    cells = stability_map(_runs({("smoothed", "elu", "sgd"): [(5, 5), (5, 1)]}))
    measured = pd.DataFrame({"dataset": "ring", "variant": "smoothed", "activation": "elu", "optimizer": "sgd",
                             "learning_rate": list(RATES), "critic_lipschitz": 1.0, "critic_smoothness": 0.5,
                             "generator_smoothness": [4.0, 40.0], "seeds": 5})
    row = descent_lemma_table(cells, measured, 0.5, 5).iloc[0]
    assert row["predicted"] == pytest.approx(0.5) and row["largest_stable"] == 0.01
    assert row["largest_finite"] == 0.1 and np.isfinite(row["generator_smoothness"])


def test_settings_chosen_after_pilots_are_named_in_every_stability_claim():
    noted = types.SimpleNamespace(**{**vars(CLAIMS), "pilots": "the toy steps (2,000)"})
    claims = gan_claims(_runs(PATTERN), noted, MEETS_ALL)
    assert claims and all(c.detail.endswith("Chosen after pilots: the toy steps (2,000)") for c in claims)


def test_claims_record_their_replicates_and_a_finding_only_where_the_detail_states_one():
    # PATTERN: 5 seeds per cell. sn_alone_fails reads the four cells where SN + GP learns (relu and elu at both
    # rates), each for both variants: 8 cells x 5 seeds; smooth_activations_help the cells of the variants that learn
    # (sn_gp, smoothed) with either activation: 8 x 5; stationarity the learned runs of smoothed/elu: 10, 9 of 10
    # stationary, with its Wilson interval; the per-cell fractions and cell counts have none.
    claims = {c.id: c for c in gan_claims(_runs(PATTERN), CLAIMS, MEETS_ALL)}
    assert {k: c.replicates for k, c in claims.items()} == {
        "gan.sn_alone_fails": 40, "gan.smooth_activations_help": 40, "gan.eventual_stationarity": 10}
    stationarity = claims.pop("gan.eventual_stationarity")
    assert stationarity.interval == pytest.approx((0.5958, 0.9821), abs=1e-4)
    assert stationarity.interval_kind == "95% Wilson over learned runs"
    assert all(c.interval is None and c.interval_kind == "" and c.diagnosis == "" for c in claims.values())
    # Reversed: the two claims whose detail says "Finding" carry it as their category; the smooth-activation claim,
    # where no variant converges in any cell with either activation, is scale.
    reversed_pattern = {**PATTERN, ("sn_wasserstein", "relu", "sgd"): [(5, 0), (4, 0)],
                        ("smoothed", "elu", "sgd"): [(5, 0), (5, 0)], ("sn_gp", "elu", "sgd"): [(5, 0), (5, 0)]}
    failed = {c.id: c for c in gan_claims(_runs(reversed_pattern), CLAIMS, MEETS_ALL)}
    assert {k: (c.holds, c.diagnosis) for k, c in failed.items()} == {
        "gan.sn_alone_fails": (False, "finding"), "gan.smooth_activations_help": (False, "scale"),
        "gan.eventual_stationarity": (False, "finding")}
    # ReLU stable at both rates for two of the three variants that learn, elu nowhere: a finding.
    relu_wins = {**reversed_pattern, ("smoothed", "relu", "sgd"): [(5, 5), (5, 5)],
                 ("sn_gp", "relu", "sgd"): [(5, 5), (5, 5)]}
    smooth = {c.id: c for c in gan_claims(_runs(relu_wins), CLAIMS, MEETS_ALL)}["gan.smooth_activations_help"]
    assert smooth.diagnosis == "finding"
    assert smooth.detail.startswith("Finding at this scale: ReLU is stable over more cells than elu for 2 of 3")
    assert failed["gan.eventual_stationarity"].replicates == 10
    assert failed["gan.eventual_stationarity"].to_dict()["diagnosis"] == "finding"
    # Too few seeds everywhere: nothing tested, no replicates where nothing was read, and no diagnosis recorded.
    untested = {c.id: c for c in gan_claims(_runs(PATTERN, seeds=4), CLAIMS, MEETS_ALL)}
    assert untested["gan.sn_alone_fails"].replicates is None
    assert untested["gan.smooth_activations_help"].replicates is None
    assert all(c.to_dict()["diagnosis"] == "" for c in untested.values() if not c.tested)


def test_the_sanity_claim_counts_the_seeds_its_fraction_rests_on():
    sanity = types.SimpleNamespace(min_high_quality=0.8, min_coverage=1.0, min_fraction=0.6, discriminator_steps=5,
                                   learning_rate=1e-4, lr_decay="none")
    runs = pd.DataFrame({"seed": range(5), "high_quality": [0.9, 0.85, 0.79, 0.5, 0.2], "coverage": 1.0,
                         "diverged": [False, False, False, False, True], "w1_ratio": [0.2, 0.3, 0.5, 0.9, 2.0]})
    claim = sanity_claim(runs, sanity)
    assert claim.measured.startswith("2/4 seeds") and claim.replicates == 4  # the diverged seed is left out
    assert claim.interval == pytest.approx((0.1500, 0.8500), abs=1e-4) and claim.diagnosis == "scale"
    every = sanity_claim(runs.assign(diverged=True), sanity)
    assert not every.tested and every.replicates == 5 and every.to_dict()["diagnosis"] == ""
