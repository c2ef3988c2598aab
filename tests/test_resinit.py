"""resinit (issue 25, M11): the variance recursions of the block forms against their closed forms, the sanity
identities (Taki's init is rescaled He; Fixup, SkipInit and ReZero start as the identity), batched training equal to
training alone, and config errors that name the key. Small float64 nets, many seeds in one batch: a few seconds."""

import copy
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import yaml

from dltheory.config import FAMILIES, ConfigError, load_schema, validate_config
from dltheory.resinit.networks import block_variance, init_blocks
from dltheory.resinit.settings import SweepSettings
from dltheory.resinit.statistics import signal_statistics, taki_rescaling_check
from dltheory.resinit.theory import batch_norm_growth, residual_growth, taki_bound, taki_growth
from dltheory.resinit.training import minibatches, seed_layers, train_networks

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = load_schema(ROOT / "workflow/schemas/config.schema.yaml")
DTYPE = torch.float64
MODELS, WIDTH, BATCH = 4000, 16, 4


def _draws(depth: int, seed: int = 0, models: int = MODELS):
    generator = torch.Generator().manual_seed(seed)
    x0 = torch.randn(1, BATCH, WIDTH, generator=generator, dtype=DTYPE).expand(models, -1, -1)
    normals = torch.randn(models, depth, WIDTH, WIDTH, generator=generator, dtype=DTYPE)
    return x0, normals


def _mean_square(x):
    return x.pow(2).mean(dim=(1, 2))


def _within(samples, expected, sds: float = 5.0):
    error = samples.std() / math.sqrt(len(samples))
    return abs(float(samples.mean()) - expected) <= sds * float(error)


@pytest.mark.parametrize("variant, scale", [("plain_he", 1.0), ("plain_he", 0.7), ("plain_default", 1.0)])
def test_plain_mean_square_follows_sigma2_over_2_per_layer(variant, scale):
    """E q_L = sigma^2 mean relu(x_0)^2 (sigma^2 / 2)^(L - 1) for x_{l+1} = W relu(x_l): exact, since every x_l with
    l >= 1 is sign-symmetric (the mean-field recursion; He's sigma^2 = 2 keeps q constant)."""
    depth = 3
    x0, normals = _draws(depth)
    sigma2 = block_variance(variant, depth) * scale**2
    x_last = init_blocks(variant, normals, torch.full((MODELS,), scale, dtype=DTYPE), depth).forward(x0)
    expected = sigma2 * float(torch.relu(x0[0]).pow(2).mean()) * (sigma2 / 2) ** (depth - 1)
    assert _within(_mean_square(x_last), expected)


@pytest.mark.parametrize("variant", ["res_he", "res_taki", "res_default", "res_bn"])
def test_a_residual_block_adds_sigma2_times_its_branch_input(variant):
    """E_W q_1 = q_0 + sigma^2 mean relu(h)^2 for x_1 = x_0 + W relu(h), h = x_0 or BN(x_0): the cross term has mean
    0. Its average over inputs gives the recursions 2^L (He), (1 + c/(2L))^L (Taki) and 1 + L (batch norm)."""
    x0, normals = _draws(1, seed=1)
    blocks = init_blocks(variant, normals, torch.ones(MODELS, dtype=DTYPE), 1, c=2.0)
    h = x0[:1] if variant != "res_bn" else (x0[:1] - x0[:1].mean(1, keepdim=True)) / torch.sqrt(
        x0[:1].var(1, unbiased=False, keepdim=True) + 1e-5)
    expected = float(_mean_square(x0[:1])[0]) + block_variance(variant, 1, 2.0) * float(torch.relu(h).pow(2).mean())
    assert _within(_mean_square(blocks.forward(x0)), expected)


def test_theory_lines_have_their_closed_forms():
    assert residual_growth(10, 2.0) == 2.0**10
    assert taki_growth(1, 2.0) == 2.0 and taki_growth(1e6, 2.0) < taki_bound(2.0) == pytest.approx(math.e)
    assert batch_norm_growth(64, 1.0) == 65.0


def test_taki_init_is_he_rescaled_by_sqrt_c_over_2L():
    x0, normals = _draws(16, seed=2, models=3)
    for c in (1.0, 2.0):
        difference, identical = taki_rescaling_check(x0, normals, c)
        assert difference.max() <= 1e-12 and identical.shape == (3,)


@pytest.mark.parametrize("variant", ["fixup", "skipinit", "rezero"])
def test_zero_branch_variants_start_as_the_identity(variant):
    x0, normals = _draws(8, seed=3, models=3)
    readout = torch.randn(3, BATCH, WIDTH, dtype=DTYPE)
    stats = signal_statistics(variant, x0, readout, normals, torch.full((3,), 2.0, dtype=DTYPE))
    assert (stats["forward_ratio"] == 1.0).all() and (stats["backward_ratio"] == 1.0).all()
    if variant == "fixup":  # the zero last layers get the gradient, the first layers none
        assert (stats["block_gradient_norm"] > 0).all()
    else:  # the weights get none while the gates are 0; the gates do
        assert (stats["block_gradient_norm"] == 0).all() and (stats["gate_gradient"] > 0).all()


def test_batched_variants_train_as_they_would_alone():
    """One batched model of two variants x two scales x one seed follows each network's own trajectory."""
    sweep = SweepSettings(width=4, steps=3, batch=8, replicates=1)
    rng = np.random.default_rng(0)
    data = [(rng.normal(size=(32, 6)), rng.integers(0, 10, 32), rng.normal(size=(8, 6)), rng.integers(0, 10, 8))]
    batches = [minibatches(0, 0, 32, sweep.steps, sweep.batch)]
    layers = [seed_layers(0, 0, 2, 6, sweep.width)]
    models = [(v, s, 0) for v in ("res_he", "skipinit") for s in (0.5, 1.0)]
    together = train_networks(models, 2, data, layers, batches, sweep, torch.device("cpu"))
    for index, model in enumerate(models):
        alone = train_networks([model], 2, data, layers, batches, sweep, torch.device("cpu"))
        assert alone["final_loss"][0] == pytest.approx(together["final_loss"][index], rel=1e-5)


def _default():
    config = yaml.safe_load((ROOT / "config/config.yaml").read_text())
    for family in FAMILIES:
        if family != "resinit" and family in config:
            config[family]["enabled"] = False
    return config


@pytest.mark.parametrize("edit, named", [
    (lambda c: c.update(profile_depth=5), "resinit.profile_depth"),
    (lambda c: c.update(variants=["res_he", "resnet"]), "resinit.variants"),
    (lambda c: c["sweep"].update(taki_c=3), "resinit.sweep.taki_c"),
    (lambda c: c["sweep"].update(steps=0), "resinit.sweep.steps"),
    (lambda c: c["claims"].update(growth_slope_low=1.2), "resinit.claims.growth_slope_low"),
    (lambda c: c.update(batch=1), "resinit.batch"),
])
def test_a_bad_resinit_config_is_rejected_naming_the_key(edit, named):
    config = copy.deepcopy(_default())
    assert validate_config(config, SCHEMA)["resinit"].width == 64
    edit(config["resinit"])
    with pytest.raises(ConfigError) as error:
        validate_config(config, SCHEMA)
    assert named in str(error.value)


def test_a_growth_claim_with_its_mean_inside_but_its_interval_across_the_bound_does_not_hold():
    from dltheory.resinit.analysis import growth_claims
    from dltheory.resinit.settings import ResinitClaims

    # Per-seed log2 slopes 1.0, 1.04 and 1.10: mean 1.047 <= 1.05, t-interval up to ~1.17.
    rows = [{"variant": "res_he", "depth": depth, "replicate": seed, "forward_ratio": 2.0 ** (s * depth),
             "backward_ratio": 2.0 ** depth} for seed, s in enumerate([1.0, 1.04, 1.10]) for depth in (2, 4, 8)]
    forward, backward = growth_claims(pd.DataFrame(rows), ResinitClaims())
    assert forward.measured == pytest.approx(1.0467, abs=1e-3) and forward.interval[1] > 1.05
    assert not forward.holds and forward.diagnosis == "scale"
    assert "alone would pass" in forward.detail
    assert backward.holds and backward.diagnosis == ""
