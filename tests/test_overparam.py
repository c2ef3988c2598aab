"""The overparam family's mechanics on tiny cases: the min-norm fit, the ridge, label noise without shared state,
the parallel average, multi-output batched networks, the claims' helpers, and config errors. No pipeline run."""

import copy
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from dltheory.config import FAMILIES, ConfigError, load_schema, validate_config
from dltheory.nn.batched_mlp import BatchedArchitecture, BatchedMLP
from dltheory.overparam.analysis import gap_slope, interior_local_maxima, interpolation_index
from dltheory.overparam.data import DigitsSplit, noisy_labels, split_digits
from dltheory.overparam.mlp import build_networks, parallel_average, parameter_count
from dltheory.overparam.random_features import min_norm_solution, ridge_solution, spectral_fits

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = load_schema(ROOT / "workflow/schemas/config.schema.yaml")


@pytest.mark.parametrize("shape", [(30, 12), (12, 30), (20, 20)])  # under-, over-parameterised and square
def test_min_norm_solution_equals_numpy_lstsq(shape):
    rng = np.random.default_rng(0)
    features, targets = rng.standard_normal(shape), rng.standard_normal((shape[0], 3))
    ours = min_norm_solution(features, targets)
    reference = np.linalg.lstsq(features, targets, rcond=1e-12)[0]
    np.testing.assert_allclose(ours, reference, atol=1e-9)
    if shape[1] > shape[0]:  # past the threshold it interpolates, with the smallest norm of all interpolants
        np.testing.assert_allclose(features @ ours, targets, atol=1e-9)
        other = ours + np.linalg.svd(features)[2][-1][:, None]  # add a null-space direction
        np.testing.assert_allclose(features @ other, targets, atol=1e-9)
        assert np.linalg.norm(ours) < np.linalg.norm(other)


def test_one_svd_gives_the_ridgeless_and_every_ridge_fit():
    rng = np.random.default_rng(1)
    features, targets = rng.standard_normal((15, 25)), rng.standard_normal((15, 4))
    fits = spectral_fits(features, {"y": targets}, [1e-3, 0.5], rcond=1e-12)
    np.testing.assert_allclose(fits[("y", 0.0)], min_norm_solution(features, targets), atol=1e-9)
    for penalty in (1e-3, 0.5):
        np.testing.assert_allclose(fits[("y", penalty)], ridge_solution(features, targets, penalty), atol=1e-9)


def _split(rng) -> DigitsSplit:
    inputs = rng.random((300, 4))
    labels = np.repeat(np.arange(10), 30)
    return split_digits(inputs, labels, train=100, validation=50, rng=rng)


def test_label_noise_leaves_the_clean_labels_unchanged():
    rng = np.random.default_rng(2)
    clean = _split(rng)
    before = (clean.train_y.copy(), clean.validation_y.copy(), clean.test_y.copy())
    noisy = clean.with_noise(0.5, np.random.default_rng(3))
    # the clean split's labels are the same arrays with the same values after the noisy split was made
    for kept, label in zip(before, (clean.train_y, clean.validation_y, clean.test_y), strict=True):
        np.testing.assert_array_equal(kept, label)
    assert noisy.train_y is not clean.train_y and not np.shares_memory(noisy.train_y, clean.train_y)
    assert noisy.test_y is clean.test_y  # test labels stay clean
    flipped = noisy.train_y != clean.train_y
    assert 0.3 < flipped.mean() < 0.7  # rate 0.5 on 100 labels
    assert np.bincount(clean.train_y, minlength=10).tolist() == [10] * 10  # class-balanced


def test_a_noisy_label_is_always_another_class():
    labels = np.arange(10).repeat(100)
    noisy = noisy_labels(labels, 1.0, np.random.default_rng(4))
    assert np.all(noisy != labels) and set(np.unique(noisy)) == set(range(10))
    np.testing.assert_array_equal(noisy_labels(labels, 0.0, np.random.default_rng(4)), labels)


def test_the_parallel_average_is_the_mean_of_the_members_predictions():
    architecture = BatchedArchitecture(5, (3, 3, 3, 3), (1, 1, 1, 1), outputs=10)
    model = BatchedMLP(architecture, torch.Generator().manual_seed(5), dtype=torch.float64)
    inputs = torch.randn(7, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(6))
    with torch.no_grad():
        outputs = model(inputs.expand(4, 7, 5))
        members = [model.standalone(i)(inputs) for i in range(4)]
    averages = parallel_average(outputs, [1, 2, 4])
    assert outputs.shape == (4, 7, 10)
    for m in (1, 2, 4):
        torch.testing.assert_close(averages[m], torch.stack(members[:m]).mean(dim=0))


def test_a_network_starts_from_the_same_weights_whatever_its_batch():
    alone = build_networks(6, 4, [(0, 4, 0)], seed=1, device="cpu")
    batch = build_networks(6, 4, [(1, 4, 0), (0, 4, 0)], seed=1, device="cpu")
    torch.testing.assert_close(batch.input_weight[1], alone.input_weight[0])
    torch.testing.assert_close(batch.output_weight[1], alone.output_weight[0])
    assert not torch.equal(batch.input_weight[0], batch.input_weight[1])
    assert parameter_count(64, 8) == 65 * 8 + 9 * 10 == architecture_count(64, 8)


def architecture_count(dim, width):
    return BatchedArchitecture(dim, (width,), (1,), outputs=10).parameter_counts()[0]


def test_claim_helpers_find_the_interior_peak_and_the_interpolation_width():
    assert interior_local_maxima([0.6, 0.34, 0.36, 0.35, 0.3, 0.31, 0.2]) == [2, 5]  # the ends never count
    assert interpolation_index([0.5, 0.06, 0.001, 0.0], 0.01) == 2
    assert interpolation_index([0.5, 0.2], 0.01) is None
    assert gap_slope([100, 1000, 10000], [0.3, 0.2, 0.1]) == pytest.approx(-0.1)


def _default():
    """The default config with only overparam enabled (the other families' checks are not under test)."""
    config = yaml.safe_load((ROOT / "config/config.yaml").read_text())
    for family in FAMILIES:
        if family != "overparam" and family in config:
            config[family]["enabled"] = False
    return config


@pytest.mark.parametrize("edit, named", [
    (lambda c: c.update(train=405), "overparam.train"),
    (lambda c: c["random_features"].update(sanity_ratios=[0.6]), "overparam.random_features.sanity_ratios"),
    (lambda c: c["claims"].update(confidence=1.0), "overparam.claims.confidence"),
    (lambda c: c["claims"].update(peak_low=1.5), "overparam.claims.peak_low"),
    (lambda c: c["mlp"].update(steps=0), "overparam.mlp.steps"),
    (lambda c: c["parallel"].update(members=[4]), "overparam.parallel.members"),
    (lambda c: c["mlp"].update(depth=2), "'depth' was unexpected"),
])
def test_a_bad_overparam_config_is_rejected_naming_the_key(edit, named):
    config = copy.deepcopy(_default())
    assert validate_config(config, SCHEMA)["overparam"].train == 400
    edit(config["overparam"])
    with pytest.raises(ConfigError) as error:
        validate_config(config, SCHEMA)
    assert named in str(error.value)
