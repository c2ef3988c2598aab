"""Batched GAN training (issue 4): batched networks and optimisers, divergence, the tidy tables, convergence."""

import functools

import numpy as np
import pandas as pd
import pytest
import torch

from dltheory.gan import objectives
from dltheory.gan.analysis import MODEL_KEYS, converged
from dltheory.gan.batched import BatchedAdam, BatchedGanMLP, BatchedSGD
from dltheory.gan.classifier import train_digits_classifier
from dltheory.gan.settings import run_settings
from dltheory.gan.training import (
    DISTANCE_METRICS,
    TRAINING_METRICS,
    GanRunSettings,
    _discriminator_losses,
    _generator_losses,
    train_gan_batch,
)

TINY = GanRunSettings(
    variant="wgan_gp",
    datasets=("ring", "grid"),
    activations=("relu", "elu"),
    learning_rates=(0.05, 0.01),
    seeds=(0, 1),
    steps=60,
    batch_size=32,
    eval_every=20,
    n_eval=256,
    width=16,
    depth=2,
    trajectory=("ring", 0.05),
    samples_saved=10,
)
COLUMNS = ["dataset", "variant", "activation", "learning_rate", "seed", "step", "metric", "value", "diverged",
           "diverged_step"]
MIXTURE_METRICS = (*TRAINING_METRICS, *DISTANCE_METRICS, "high_quality_fraction", "mode_coverage")


@pytest.fixture(scope="module")
def tiny_result():
    return train_gan_batch(TINY, seed=7)


def test_table_has_one_row_per_model_step_and_metric(tiny_result):
    table = tiny_result.metrics
    assert list(table.columns) == COLUMNS
    # 16 models × evaluations at steps 0, 20, 40, 60 × 8 metrics
    assert len(table) == 16 * 4 * len(MIXTURE_METRICS) == 512
    assert sorted(table["step"].unique()) == [0, 20, 40, 60]
    assert set(table["dataset"]) == {"ring", "grid"} and set(table["activation"]) == {"relu", "elu"}
    assert not table["diverged"].any()
    last = table[table["step"] == 60]
    assert np.isfinite(last["value"]).all()


def test_distances_are_logged_throughout_on_the_trajectory_and_in_the_window_elsewhere(tiny_result):
    w1 = tiny_result.metrics[tiny_result.metrics["metric"] == "wasserstein1"].dropna()
    on_path = (w1["dataset"] == "ring") & (w1["learning_rate"] == 0.05)
    # every second evaluation (steps 0, 40) and the window (step 60)
    assert sorted(w1.loc[on_path, "step"].unique()) == [0, 40, 60]
    # The window is the last 10 % of 60 steps: only the evaluation at step 60.
    assert sorted(w1.loc[~on_path, "step"].unique()) == [60]


def test_logged_step_size_is_learning_rate_times_gradient_norm_under_gradient_descent(tiny_result):
    # Under plain GD, ‖θ_{t+1} − θ_t‖ (measured from the parameters) equals η‖∇θ‖ (measured from the gradients).
    logged = tiny_result.metrics[(tiny_result.metrics["step"] > 0) & ~tiny_result.metrics["diverged"]]
    wide = logged.pivot_table(index=[*MODEL_KEYS, "step"], columns="metric", values="value").reset_index()
    assert len(wide) > 0
    np.testing.assert_allclose(wide["generator_step_size"], wide["learning_rate"] * wide["generator_grad_norm"],
                               rtol=1e-4)


def test_final_samples_are_kept_per_model(tiny_result):
    samples = tiny_result.samples
    assert len(samples) == 16 * 10
    assert list(samples.columns[-3:]) == ["sample", "x0", "x1"]
    assert np.isfinite(samples[["x0", "x1"]]).all().all()


def test_same_seed_gives_identical_tables(tiny_result):
    again = train_gan_batch(TINY, seed=7)
    pd.testing.assert_frame_equal(again.metrics, tiny_result.metrics)
    pd.testing.assert_frame_equal(again.samples, tiny_result.samples)


def test_models_numbers_do_not_change_when_a_learning_rate_is_added():
    # Exact up to float rounding in the batched kernels (~1e-7 here). With kinks (ReLU, the hinge) a rounding
    # difference can flip a sample across a kink, and the trajectories then part: hence a smooth variant.
    settings = GanRunSettings(
        variant="wgan_gp", activations=("elu",), learning_rates=(0.01,), seeds=(3,), steps=40, batch_size=32,
        eval_every=20, n_eval=256, width=16, depth=2, trajectory=("ring", 0.01),
    )
    alone = train_gan_batch(settings, seed=1).metrics
    wider = settings.__class__(**{**settings.__dict__, "learning_rates": (0.01, 0.1), "activations": ("relu", "elu")})
    shared = train_gan_batch(wider, seed=1).metrics
    shared = shared[(shared["learning_rate"] == 0.01) & (shared["activation"] == "elu")].reset_index(drop=True)
    np.testing.assert_allclose(shared["value"], alone["value"], rtol=1e-4, atol=1e-6)


def test_huge_learning_rate_diverges_while_the_sane_model_goes_on():
    settings = GanRunSettings(
        variant="non_saturating", activations=("relu",), learning_rates=(1e-2, 1e4), seeds=(0,), steps=40,
        batch_size=32, eval_every=10, n_eval=256, width=16, depth=2, divergence_threshold=1e3,
        trajectory=("ring", 1e-2),
    )
    table = train_gan_batch(settings, seed=0).metrics
    huge = table[table["learning_rate"] == 1e4]
    sane = table[table["learning_rate"] == 1e-2]
    step = int(huge["diverged_step"].iloc[0])
    assert huge["diverged"].all() and 1 <= step <= 40
    assert huge.loc[huge["step"] >= step, "value"].isna().all()
    assert not sane["diverged"].any() and (sane["diverged_step"] == -1).all()
    logged = sane[(sane["step"] > 0) & sane["metric"].isin(TRAINING_METRICS)]
    assert len(logged) == 4 * len(TRAINING_METRICS) and np.isfinite(logged["value"]).all()


def test_digits_runs_score_samples_with_the_classifier():
    classifier, report = train_digits_classifier(steps=30)
    assert 0.5 < report.test_accuracy <= 1.0 and report.n_train + report.n_test == 1797
    settings = GanRunSettings(
        variant="sn_gp", datasets=("digits",), activations=("elu",), learning_rates=(0.05,), seeds=(0,), steps=10,
        batch_size=16, eval_every=10, n_eval=100, width=16, depth=1, latent_dim=4, samples_saved=16,
    )
    result = train_gan_batch(settings, seed=0, classifier=classifier)
    last = result.metrics[result.metrics["step"] == 10].set_index("metric")["value"]
    assert 0.0 <= last["class_coverage"] <= 1.0 and 0.1 <= last["mean_confidence"] <= 1.0
    assert last["frechet_distance"] > 0 and last["wasserstein1"] > 0
    pixels = result.samples[[f"x{i}" for i in range(64)]].to_numpy()
    assert pixels.shape == (16, 64) and np.abs(pixels).max() < 1.0  # tanh output, like the data in [−1, 1]


def test_digits_without_a_classifier_fail_before_training():
    settings = GanRunSettings(datasets=("digits",), steps=10)
    with pytest.raises(ValueError, match="'digits' needs a classifier"):
        train_gan_batch(settings, seed=0)


def test_datasets_of_different_dimension_cannot_share_a_batch():
    with pytest.raises(ValueError, match="share their dimension"):
        train_gan_batch(GanRunSettings(datasets=("ring", "digits"), steps=1), seed=0,
                        classifier=train_digits_classifier(steps=1)[0])


def test_run_settings_read_every_key():
    section = {
        "variants": ["smoothed"], "activations": ["relu", "elu"], "learning_rates": [0.01, 0.1], "seeds": 3,
        "optimizer": "sgd", "discriminator_steps": 2, "random_features": 32,
        "convergence": {"window": 0.2, "step_size_threshold": {"grid": 0.01}, "w1_threshold": {"grid": 0.5}},
        "toy": {"datasets": ["grid"], "steps": 100, "batch_size": 8, "width": 4, "depth": 1, "latent_dim": 2,
                "eval_every": 10, "n_eval": 50, "samples_saved": 5, "trajectory": {"dataset": "grid",
                                                                              "learning_rate": 0.1}},
    }
    settings = run_settings(section, "toy", "smoothed")
    assert settings.datasets == ("grid",) and settings.seeds == (0, 1, 2) and settings.n_models == 12
    assert settings.trajectory == ("grid", 0.1) and settings.convergence_window == 0.2
    assert settings.discriminator_steps == 2 and settings.random_features == 32 and settings.steps == 100


def test_batched_sgd_is_gradient_descent_per_model_and_skips_frozen_ones():
    parameter = torch.ones(3, 2, requires_grad=True)
    optimizer = BatchedSGD([parameter], [0.1, 0.5, 1.0])
    optimizer.frozen = torch.tensor([False, False, True])
    parameter.grad = torch.tensor([[1.0, 2.0], [1.0, 2.0], [float("nan"), 1.0]])
    optimizer.step()
    torch.testing.assert_close(parameter.detach(), torch.tensor([[0.9, 0.8], [0.5, 0.0], [1.0, 1.0]]))


def test_batched_adam_equals_torch_adam_per_model():
    rates = [1e-3, 3e-2, 0.3]
    torch.manual_seed(0)
    weight0, bias0 = torch.randn(3, 4, 5, dtype=torch.float64), torch.randn(3, 5, dtype=torch.float64)
    inputs = torch.randn(3, 8, 4, dtype=torch.float64)

    def loss(weight, bias, x):
        return torch.sin(x @ weight + bias.unsqueeze(-2)).pow(2).sum() + weight.pow(4).sum()

    weight, bias = weight0.clone().requires_grad_(), bias0.clone().requires_grad_()
    optimizer = BatchedAdam([weight, bias], rates, betas=(0.5, 0.999))
    for _ in range(25):
        optimizer.zero_grad()
        loss(weight, bias, inputs).backward()
        optimizer.step()
    for b, rate in enumerate(rates):
        w, c = weight0[b].clone().requires_grad_(), bias0[b].clone().requires_grad_()
        reference = torch.optim.Adam([w, c], lr=rate, betas=(0.5, 0.999))
        for _ in range(25):
            reference.zero_grad()
            loss(w, c, inputs[b]).backward()
            reference.step()
        torch.testing.assert_close(weight[b].detach(), w.detach(), atol=1e-6, rtol=0)
        torch.testing.assert_close(bias[b].detach(), c.detach(), atol=1e-6, rtol=0)


def test_batched_adam_leaves_frozen_models_alone_even_with_nan_gradients():
    parameter = torch.ones(2, 3, requires_grad=True)
    optimizer = BatchedAdam([parameter], [0.1, 0.1])
    optimizer.frozen = torch.tensor([False, True])
    parameter.grad = torch.tensor([[1.0, 1.0, 1.0], [float("nan")] * 3])
    optimizer.step()
    torch.testing.assert_close(parameter[1].detach(), torch.ones(3))
    torch.testing.assert_close(parameter[0].detach(), torch.full((3,), 0.9))


def test_batched_spectral_norm_brings_every_models_largest_singular_value_to_one():
    network = BatchedGanMLP(3, 2, 1, 32, 2, "softplus", torch.Generator().manual_seed(0), spectral_norm=True)
    with torch.no_grad():
        for weight in network.weights:
            weight.mul_(torch.tensor([0.1, 1.0, 10.0])[:, None, None])
    x = torch.randn(3, 16, 2)
    for _ in range(100):
        network(x)
    for matrix in network.weight_matrices():
        sigma = torch.linalg.matrix_norm(matrix.detach(), ord=2)
        torch.testing.assert_close(sigma, torch.ones(3), atol=1e-2, rtol=0)


@pytest.mark.parametrize("name", ["non_saturating", "wgan_clip", "sn_hinge", "mmd_gan"])
def test_batched_losses_equal_the_objectives_on_each_model(name):
    variant = objectives.get_variant(name)
    out_dim = 4 if variant.loss == "mmd" else 1
    network = BatchedGanMLP(2, 2, out_dim, 16, 1, "relu", torch.Generator().manual_seed(1)).eval()
    real, fake = torch.randn(2, 32, 2), torch.randn(2, 32, 2)
    d_loss = _discriminator_losses(variant, network, real, fake, None)
    g_loss = _generator_losses(variant, network, real, fake)
    function = {"non_saturating": objectives.non_saturating_losses, "wgan_clip": objectives.wasserstein_losses,
                "sn_hinge": objectives.hinge_losses,
                "mmd_gan": functools.partial(objectives.mmd_losses, bandwidths=variant.bandwidths)}[name]
    assert d_loss.shape == g_loss.shape == (2,)
    for b in range(2):
        expected = function(network(real)[b], network(fake)[b])
        assert expected[0].shape == ()
        torch.testing.assert_close(d_loss[b], expected[0])
        torch.testing.assert_close(g_loss[b], expected[1])


def test_batched_r1_equals_the_objectives_penalty_on_each_model():
    variant = objectives.get_variant("r1")
    network = BatchedGanMLP(2, 2, 1, 16, 1, "elu", torch.Generator().manual_seed(2)).eval()
    real, fake = torch.randn(2, 32, 2), torch.randn(2, 32, 2)
    d_loss = _discriminator_losses(variant, network, real, fake, None)
    for b in range(2):
        def single(x, b=b):
            return network(x.unsqueeze(0).expand(2, -1, -1))[b]

        d_real, d_fake = network(real)[b], network(fake)[b]
        expected = objectives.non_saturating_losses(d_real, d_fake)[0] + objectives.r1_penalty(single, real[b])
        torch.testing.assert_close(d_loss[b], expected)
    assert (d_loss > _discriminator_losses(objectives.get_variant("non_saturating"), network, real, fake, None)).all()


def test_converged_needs_small_steps_and_small_w1_over_the_last_tenth():
    keys = {"dataset": "ring", "variant": "wgan_gp", "activation": "elu", "seed": 0}
    rows = []
    for rate, step_sizes, w1s, diverged in [
        (1e-4, [1.0, 0.01, 0.01], [3.0, 0.2, 0.1], False),  # converged
        (1e-3, [1.0, 0.01, 0.5], [3.0, 0.2, 0.1], False),  # still moving at the end
        (1e-2, [1.0, 0.01, 0.01], [3.0, 2.0, 1.5], False),  # stationary but far from the data
        (1e-1, [1.0, np.nan, np.nan], [3.0, np.nan, np.nan], True),  # diverged
    ]:
        for step, size, w1 in zip([0, 950, 1000], step_sizes, w1s, strict=True):
            for metric, value in (("generator_step_size", size), ("wasserstein1", w1)):
                rows.append({**keys, "learning_rate": rate, "step": step, "metric": metric, "value": value,
                             "diverged": diverged, "diverged_step": 900 if diverged else -1})
    result = converged(pd.DataFrame(rows), step_size_threshold=0.05, w1_threshold=0.5)
    assert result.set_index("learning_rate")["converged"].to_dict() == {1e-4: True, 1e-3: False, 1e-2: False,
                                                                          1e-1: False}
    # Per-dataset thresholds: a looser W1 limit for the ring lets the far-but-stationary run through.
    loose = converged(pd.DataFrame(rows), {"ring": 0.05}, {"ring": 2.5})
    assert loose.set_index("learning_rate")["converged"].to_dict()[1e-2] is True
    with pytest.raises(ValueError, match="no convergence threshold for dataset 'ring'"):
        converged(pd.DataFrame(rows), {"grid": 0.05}, 0.5)


def test_smoothed_gan_moves_the_generator_toward_the_ring():
    # The default's optimisers: gradient descent for the generator, Adam (lr 0.001) for the critic.
    settings = GanRunSettings(
        variant="smoothed", activations=("elu",), learning_rates=(0.215,), seeds=(0,), steps=400, batch_size=32,
        eval_every=400, n_eval=1000, width=32, depth=2, trajectory=("ring", 0.215), discriminator_optimizer="adam",
    )
    w1 = train_gan_batch(settings, seed=0).metrics
    w1 = w1[w1["metric"] == "wasserstein1"].set_index("step")["value"]
    assert w1[400] < 0.8 * w1[0]
