"""The selfpaced family's mechanics on tiny cases: the selection rule, tau = 0 equals augmenting everything, the
random control's rate matching, augmentations drawn afresh at every step, validation-only choices, config errors.
No pipeline run."""

import copy
import dataclasses
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn.functional as F
import yaml

from dltheory.config import FAMILIES, ConfigError, load_schema, validate_config
from dltheory.selfpaced.analysis import selected_runs
from dltheory.selfpaced.augment import (
    _affine,
    _matrices,
    flip_crop,
    horizontal_flip,
    matched_random_mask,
    mixup,
    randaugment,
    select_mixed,
    spa_mask,
    translate_rotate,
)
from dltheory.selfpaced.data import DigitsSplit
from dltheory.selfpaced.settings import (
    CA,
    NA,
    RA,
    RND,
    SPA,
    DataSettings,
    RandAugmentSettings,
    SelfpacedSettings,
    TrainingSettings,
)
from dltheory.selfpaced.train import (
    RunTable,
    augmentation_mask,
    augmented_inputs,
    batch_loss_variance,
    plan_runs,
    run_training,
    train_size,
)
from dltheory.settings import job_config

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = load_schema(ROOT / "workflow/schemas/config.schema.yaml")
TINY = SelfpacedSettings(enabled=True, train_sizes=(20, 30), validation=20, replicates=2, taus=(2.3,),
                         randaugment=RandAugmentSettings(ops=(2,), magnitudes=(9,)),
                         training=TrainingSettings(steps=8, batch_size=8, width=8, record_every=4, evaluate_every=4))


def test_spa_augments_exactly_the_samples_whose_clean_loss_reaches_tau():
    losses = torch.tensor([[0.0, 0.05, 0.1, 0.2, 2.0]])
    assert spa_mask(losses, 0.1).tolist() == [[False, False, True, True, True]]  # >= tau, as the authors' code
    logits = torch.randn(200, 10) * 30  # confident and wrong alike: every cross-entropy is >= 0
    ce = F.cross_entropy(logits, torch.randint(0, 10, (200,)), reduction="none")
    assert spa_mask(ce, 0.0).all()  # tau = 0 augments every sample


def _synthetic_split(seed, train, validation, replicate, data=None):
    """Random 'digits' (no scikit-learn import: the mechanics do not need the real images)."""
    rng = np.random.default_rng(100 * replicate + train)
    images = rng.random((train + validation + 30, 64)).astype(np.float32)
    labels = np.arange(len(images)) % 10
    return DigitsSplit(images[:train], labels[:train], images[train:train + validation],
                       labels[train:train + validation], images[train + validation:], labels[train + validation:])


def test_spa_at_tau_zero_trains_exactly_as_augment_all_and_a_positive_tau_does_not(monkeypatch):
    monkeypatch.setattr("dltheory.selfpaced.train.seed_split", _synthetic_split)
    table = train_size(TINY, 20, seed=3)
    final = table[table.part == "final"]
    zero = final[(final.method == SPA) & (final.tau == 0.0)].pivot_table(index="augmentation", columns="metric",
                                                                         values="value")
    assert len(zero) == 2  # both augmentations, on the first seed
    assert (zero.tau_zero_max_parameter_difference == 0.0).all() and (zero.tau_zero_max_logit_difference == 0).all()
    assert (zero.tau_zero_prediction_agreement == 1.0).all()
    fraction = final[final.metric == "augmented_fraction"]
    assert (fraction[fraction.method.isin([CA, RA])].value == 1.0).all() and (fraction[fraction.method == NA].value
                                                                              == 0.0).all()
    positive = fraction[(fraction.method == SPA) & (fraction.tau == 2.3)].value
    assert (positive < 1.0).all()  # tau = 2.3 (about ln 10) skips fitted samples: not an identity of the setting


def test_the_random_control_augments_as_many_samples_as_its_spa_partner_at_random_places():
    counts = torch.tensor([0, 3, 8, 5])
    generator = torch.Generator().manual_seed(0)
    masks = [matched_random_mask(counts, 8, generator) for _ in range(20)]
    for mask in masks:
        assert mask.sum(dim=1).tolist() == [0, 3, 8, 5]
    assert len({tuple(m[1].tolist()) for m in masks}) > 5  # the places change from step to step
    runs = plan_runs(TINY)
    table = RunTable(runs, TINY.augmentations)
    spa_losses = torch.rand(len(table.rows[SPA]), 8)
    mask = augmentation_mask(table, spa_losses, 8, [torch.Generator().manual_seed(r) for r in range(2)])
    spa_rows, random_rows = table.rows[SPA].tolist(), table.rows[RND].tolist()
    for row in random_rows:
        run = runs[row]
        partner = next(i for i in spa_rows if runs[i].replicate == run.replicate
                       and runs[i].augmentation == run.augmentation and runs[i].tau == run.tau)
        assert mask[row].sum() == mask[partner].sum()
        k = spa_rows.index(partner)
        assert mask[partner].tolist() == (spa_losses[k] >= run.tau).tolist()


def test_augmentations_are_drawn_afresh_at_every_step():
    runs = plan_runs(TINY)
    table = RunTable(runs, TINY.augmentations)
    per_seed = torch.rand(2, 8, 64)
    clean = per_seed[table.replicate]
    mask = torch.ones(len(runs), 8, dtype=torch.bool)
    mask[table.rows[NA]] = False
    generators = {name: [torch.Generator().manual_seed(10 * r + k) for r in range(2)]
                  for k, name in enumerate(("translate_rotate", "hflip", "randaugment"))}
    first = augmented_inputs(table, clean, mask, per_seed, generators, 2)
    second = augmented_inputs(table, clean, mask, per_seed, generators, 2)
    assert torch.equal(first[table.rows[NA]], clean[table.rows[NA]])
    for method in (CA, RA):
        rows = table.rows[method]
        assert not torch.equal(first[rows], second[rows]), method  # same images, new draws: not frozen
        assert not torch.equal(first[rows], clean[rows])
    # the runs of one seed share the draws (paired comparisons): CA and RND of a seed see the same images
    ca = next(i for i, r in enumerate(runs) if r.method == CA and r.augmentation == "translate_rotate")
    rnd = next(i for i, r in enumerate(runs) if r.method == RND and r.augmentation == "translate_rotate"
               and r.replicate == runs[ca].replicate)
    assert torch.equal(first[ca], first[rnd])


def test_the_augmentations_do_what_they_say():
    image = torch.zeros(1, 64)
    image[0, 8 * 3 + 1] = 1.0  # one lit pixel at row 3, column 1
    assert horizontal_flip(image.repeat(200, 1), torch.Generator().manual_seed(0))[:, 8 * 3 + 6].mean().item() \
        == pytest.approx(0.5, abs=0.12)  # mirrored (column 6) half of the time
    moved = translate_rotate(image.repeat(50, 1), torch.Generator().manual_seed(1))
    assert moved.sum(dim=1).max() <= 1.01 and not torch.equal(moved[0], moved[1])  # bilinear: mass about kept
    x = torch.rand(5, 64)
    matrices = _matrices(torch.rand(5), torch.rand(5), torch.rand(5), torch.rand(5) * 0.3, torch.rand(5) * 0.3)
    reference = F.grid_sample(x.view(5, 1, 8, 8), F.affine_grid(matrices, (5, 1, 8, 8), align_corners=False),
                              align_corners=False).view(5, 64)
    torch.testing.assert_close(_affine(x, matrices), reference)
    geometric = torch.tensor([[1, 2], [3, 5], [4, 0]])  # shears, translations, rotation, identity
    same = randaugment(x[:3], torch.full((3,), 2), torch.zeros(3), geometric, torch.ones(3, 2, dtype=torch.long))
    torch.testing.assert_close(same, x[:3])  # magnitude 0 changes nothing


def test_tau_and_randaugment_are_chosen_on_validation_never_on_test():
    rows = []
    for tau, validation, test in ((0.1, 0.9, 0.5), (0.3, 0.8, 0.99)):  # the test set would pick tau = 0.3
        for method in (SPA, RND):
            rows.append({"n": 20, "replicate": 0, "method": method, "augmentation": "hflip", "tau": tau,
                         "ra_ops": 0, "ra_magnitude": 0, "validation_accuracy": validation, "test_accuracy": test})
    rows += [{"n": 20, "replicate": 0, "method": m, "augmentation": a, "tau": math.nan, "ra_ops": k,
              "ra_magnitude": 9, "validation_accuracy": v, "test_accuracy": t}
             for m, a, k, v, t in ((NA, "", 0, 0.5, 0.5), (CA, "hflip", 0, 0.5, 0.5), (RA, "", 1, 0.7, 0.9),
                                   (RA, "", 2, 0.8, 0.1))]
    chosen = selected_runs(pd.DataFrame(rows), ["hflip"]).set_index("method")
    assert chosen.loc[SPA, "tau"] == 0.1 and chosen.loc[RND, "tau"] == 0.1  # RND is the chosen tau's partner
    assert chosen.loc[RA, "ra_ops"] == 2


def _default():
    """The default config with only selfpaced enabled (the other families' checks are not under test)."""
    config = yaml.safe_load((ROOT / "config/config.yaml").read_text())
    for family in FAMILIES:
        if family != "selfpaced" and family in config:
            config[family]["enabled"] = False
    return config


@pytest.mark.parametrize("edit, named", [
    (lambda c: c.update(train_sizes=[50, 105]), "selfpaced.train_sizes"),
    (lambda c: c.update(train_sizes=[1600, 50]), "selfpaced.validation"),
    (lambda c: c.update(augmentations=["mixup"]), "selfpaced.augmentations"),
    (lambda c: c.update(taus=[0.0]), "selfpaced.taus"),
    (lambda c: c["randaugment"].update(magnitudes=[31]), "selfpaced.randaugment.magnitudes"),
    (lambda c: c["training"].update(steps=0), "selfpaced.training.steps"),
    (lambda c: c["claims"].update(confidence=1.0), "selfpaced.claims.confidence"),
    (lambda c: c.update(augmentations=["translate_rotate"]), "selfpaced.augmentations"),
    (lambda c: c.update(mixup=True), "'mixup' was unexpected"),
])
def test_a_bad_selfpaced_config_is_rejected_naming_the_key(edit, named):
    config = copy.deepcopy(_default())
    assert validate_config(config, SCHEMA)["selfpaced"].replicates == 5
    edit(config["selfpaced"])
    with pytest.raises(ConfigError) as error:
        validate_config(config, SCHEMA)
    assert named in str(error.value)


def test_plan_has_every_method_per_seed():
    runs = plan_runs(TINY)
    assert {r.method for r in runs} == {NA, CA, SPA, RND, RA}
    # per seed: NA, 1 RA, and per augmentation CA, SPA at tau 2.3, RND at 2.3; tau = 0 on the first seed only
    assert len(runs) == 2 * (1 + 1 + 2 * 3) + 2
    assert np.isnan(runs[0].tau)


def test_sizes_per_job_groups_consecutive_training_sizes_into_jobs():
    one_each = SelfpacedSettings(train_sizes=(20, 40, 60))
    assert one_each.job_sizes() == [(20,), (40,), (60,)]  # the default: one cached table per n
    assert SelfpacedSettings(train_sizes=(20, 40, 60), sizes_per_job=2).job_sizes() == [(20, 40), (60,)]


def test_batch_loss_variance_is_the_population_variance_over_the_window_and_is_recorded(monkeypatch):
    losses = torch.tensor([[1.0, 2.0], [3.0, 2.0], [5.0, 2.0]])  # 3 steps x 2 runs
    assert batch_loss_variance(losses).tolist() == pytest.approx([8 / 3, 0.0])  # np.var, as flag_variance
    monkeypatch.setattr("dltheory.selfpaced.train.seed_split", _synthetic_split)
    table = train_size(TINY, 20, seed=3)
    recorded = table[(table.part == "trajectory") & (table.metric == "batch_loss_variance")]
    assert sorted(recorded.step.unique()) == [4, 8]  # every record_every = 4 of the 8 steps
    assert len(recorded) == 2 * len(plan_runs(TINY)) and (recorded.value > 0).all()


def test_mixup_mixes_only_the_selected_samples_and_each_label_goes_with_its_image():
    images, labels = torch.rand(6, 64), torch.tensor([3, 1, 4, 0, 5, 9])  # distinct labels name the images
    mixed, targets = mixup(images, labels, torch.Generator().manual_seed(0), 10)
    torch.testing.assert_close(targets.sum(dim=1), torch.ones(6))
    # each image is the mix of the images its target weights: sum_j target[k, label_j] x_j
    torch.testing.assert_close(mixed, targets[:, labels] @ images)
    assert (targets[torch.arange(6), labels] < 1).sum() >= 4  # mixed with a partner, not only with itself
    selected = torch.tensor([True, False, True, False, False, True])
    chosen_images, chosen_targets = select_mixed(images, labels, mixed, targets, selected)
    assert torch.equal(chosen_images[~selected], images[~selected])  # un-selected: image unchanged
    assert torch.equal(chosen_targets[~selected], F.one_hot(labels[~selected], 10).float())  # and its own label
    assert torch.equal(chosen_images[selected], mixed[selected])
    assert torch.equal(chosen_targets[selected], targets[selected])


def test_spa_with_mixup_at_tau_zero_is_augment_all_with_mixup(monkeypatch):
    monkeypatch.setattr("dltheory.selfpaced.train.seed_split", _synthetic_split)
    settings = dataclasses.replace(TINY, augmentations=("translate_rotate", "hflip", "mixup"))
    table = train_size(settings, 20, seed=3)
    # the mixup panel draws from its own streams: the other panels' runs are those of a run without it, bit for bit
    keys = ["replicate", "method", "augmentation", "tau", "ra_ops", "ra_magnitude", "part", "step", "metric"]
    without = train_size(TINY, 20, seed=3).merge(table, on=keys, how="left", suffixes=("", "_with"))
    assert (without.value == without.value_with).all()
    final = table[(table.part == "final") & (table.augmentation == "mixup")]
    identity = final[final.metric == "tau_zero_max_parameter_difference"]
    assert len(identity) == 1 and identity.value.iloc[0] == 0.0
    fraction = final[final.metric == "augmented_fraction"].set_index(["method", "tau"]).value
    assert (fraction[CA] == 1.0).all() and (fraction[SPA].loc[2.3] < 1.0).all()  # mixing every sample, or fewer


def _write_images(path, images, labels, **extra):
    np.savez(path, images=images, labels=labels, **extra)
    return str(path)


def _with_data(data):
    config = copy.deepcopy(_default())
    config["selfpaced"]["data"] = data
    return config


def test_a_missing_or_malformed_image_file_is_rejected_naming_the_key_and_the_file(tmp_path):
    good = np.zeros((40, 16, 16, 3), np.uint8), np.arange(40) % 10
    missing = str(tmp_path / "cifar.npz")
    not_npz = tmp_path / "text.npz"
    not_npz.write_text("not a zip archive")
    cases = [
        (missing, rf"config key 'selfpaced.data.path': images file {missing}: no such file"),
        (str(not_npz), rf"selfpaced.data.path': images file {not_npz}: not a readable npz file"),
    ]
    for path, message in cases:
        with pytest.raises(ConfigError, match=message):
            validate_config(_with_data({"source": "npz", "path": path}), SCHEMA)
    np.savez(tmp_path / "nolabels.npz", images=good[0], targets=good[1])
    floats = _write_images(tmp_path / "floats.npz", good[0].astype(np.float32), good[1])
    short = _write_images(tmp_path / "short.npz", good[0], good[1][:30])
    for path, message in ((str(tmp_path / "nolabels.npz"), "no array 'labels'"),
                          (floats, r"'images' must be uint8 of shape N x H x W or N x H x W x C, got float32"),
                          (short, r"'labels' must be 40 integers \(one per image\)")):
        with pytest.raises(ConfigError, match=rf"selfpaced.data.path': images file {path}: {message}"):
            validate_config(_with_data({"source": "npz", "path": path}), SCHEMA)
    with pytest.raises(ConfigError, match="selfpaced.data.path': required when source is npz"):
        validate_config(_with_data({"source": "npz"}), SCHEMA)
    path = _write_images(tmp_path / "good.npz", *good)
    assert validate_config(_with_data({"source": "npz", "path": path}), SCHEMA)["selfpaced"].data.path == path


def test_colour_images_from_a_user_file_train_a_small_cnn_with_flip_and_crop(tmp_path):
    rng = np.random.default_rng(0)
    labels = np.arange(120) % 10
    images = rng.integers(0, 256, (120, 12, 12, 3), dtype=np.uint8)
    images[..., 0] = (labels * 25)[:, None, None]  # the red channel tells the class
    path = _write_images(tmp_path / "colour.npz", images, labels)
    settings = dataclasses.replace(TINY, data=DataSettings("npz", path),
                                   augmentations=("translate_rotate", "hflip", "flip_crop"))
    table = train_size(settings, 20, seed=3)
    accuracy = table[(table.part == "final") & (table.metric == "test_accuracy")].value
    runs = plan_runs(settings)
    assert len(accuracy) == len(runs) and accuracy.between(0, 1).all()
    assert {r.augmentation for r in runs} == {"", "translate_rotate", "hflip", "flip_crop"}
    zero = table[table.metric == "tau_zero_max_parameter_difference"]
    assert len(zero) == 3 and (zero.value == 0).all()  # SPA at tau = 0 is CA, for the CNN too
    flat = torch.tensor(images[:4].transpose(0, 3, 1, 2).reshape(4, -1) / 255.0, dtype=torch.float32)
    flipped = horizontal_flip(flat, torch.Generator().manual_seed(0), (3, 12, 12), probability=1.0)
    assert torch.equal(flipped.view(4, 3, 12, 12), flat.view(4, 3, 12, 12).flip(-1))
    cropped = flip_crop(flat, torch.Generator().manual_seed(0), (3, 12, 12))
    assert cropped.shape == flat.shape and 0 <= cropped.min() and cropped.max() <= 1


def test_training_takes_the_configs_device_and_auto_without_a_gpu_is_the_cpu_bit_for_bit(monkeypatch):
    monkeypatch.setattr("dltheory.selfpaced.train.seed_split", _synthetic_split)
    section = job_config(TINY)
    pd.testing.assert_frame_equal(run_training(section, 3, 20, "auto" if not torch.cuda.is_available() else "cpu"),
                                  train_size(TINY, 20, seed=3))
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="config device is 'cuda' but torch sees no CUDA device"):
            run_training(section, 3, 20, "cuda")
