"""Batched GAN training (issue 4): batched networks and optimisers, divergence, the tidy tables, convergence."""

import functools

import numpy as np
import pandas as pd
import pytest
import torch

from dltheory.gan import objectives
from dltheory.gan.analysis import MODEL_KEYS
from dltheory.gan.batched import BatchedAdam, BatchedGanMLP, BatchedSGD, batched_optimizer
from dltheory.gan.classifier import train_digits_classifier
from dltheory.gan.settings import run_settings
from dltheory.gan.smoothness import CONDITION_METRICS, measure_conditions
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
    learning_rates={"sgd": (0.05, 0.01)},
    seeds=(0, 1),
    steps=60,
    batch_size=32,
    eval_every=20,
    n_eval=256,
    width=16,
    depth=2,
    trajectory=("ring", "sgd", 0.05),
    samples_saved=10,
)
COLUMNS = ["dataset", "variant", "activation", "optimizer", "learning_rate", "seed", "step", "metric", "value",
           "diverged", "diverged_step"]
MIXTURE_METRICS = (*TRAINING_METRICS, *DISTANCE_METRICS, "high_quality_fraction", "mode_coverage")


@pytest.fixture(scope="module")
def tiny_result():
    return train_gan_batch(TINY, seed=7)


def test_table_has_one_row_per_model_step_and_metric(tiny_result):
    table = tiny_result.metrics
    assert list(table.columns) == COLUMNS
    # 16 models × evaluations at steps 0, 20, 40, 60 × 8 metrics, and the 3 measured conditions at the last step
    assert len(table) == 16 * 4 * len(MIXTURE_METRICS) + 16 * len(CONDITION_METRICS) == 560
    assert sorted(table["step"].unique()) == [0, 20, 40, 60]
    assert set(table["dataset"]) == {"ring", "grid"} and set(table["activation"]) == {"relu", "elu"}
    assert not table["diverged"].any()
    last = table[table["step"] == 60]
    assert np.isfinite(last["value"]).all()


def test_distances_are_logged_throughout_on_the_trajectory_and_in_the_window_elsewhere(tiny_result):
    w1 = tiny_result.metrics[tiny_result.metrics["metric"] == "wasserstein1"].dropna()
    on_path = (w1["dataset"] == "ring") & (w1["learning_rate"] == 0.05)
    # every second evaluation (steps 0, 40) and the last step (60)
    assert sorted(w1.loc[on_path, "step"].unique()) == [0, 40, 60]
    # Step 0 (every W1 is judged against it) and the last step.
    assert sorted(w1.loc[~on_path, "step"].unique()) == [0, 60]
    # Models that share a seed and an activation start alike, whatever their rate: one W1 at step 0.
    start = w1[w1["step"] == 0].groupby(["dataset", "activation", "seed"])["value"].nunique()
    assert (start == 1).all()


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


def test_w1_on_three_threads_gives_the_serial_tables(tiny_result):
    # 8 distinct (dataset, seed, activation) starts share step 0's W1s: several solves run at once
    threaded = train_gan_batch(TINY, seed=7, threads=3)
    pd.testing.assert_frame_equal(threaded.metrics, tiny_result.metrics, check_exact=True)


def test_models_numbers_do_not_change_when_a_learning_rate_is_added():
    # Exact up to float rounding in the batched kernels (~1e-7 here). With kinks (ReLU, the hinge) a rounding
    # difference can flip a sample across a kink, and the trajectories then part: hence a smooth variant.
    settings = GanRunSettings(
        variant="wgan_gp", activations=("elu",), learning_rates={"sgd": (0.01,)}, seeds=(3,), steps=40, batch_size=32,
        eval_every=20, n_eval=256, width=16, depth=2, trajectory=("ring", "sgd", 0.01),
    )
    alone = train_gan_batch(settings, seed=1).metrics
    # More rates, an Adam model and another activation in the batch: the SGD model's numbers stay.
    wider = settings.__class__(**{**settings.__dict__, "learning_rates": {"sgd": (0.01, 0.1), "adam": (0.001,)},
                                  "activations": ("relu", "elu")})
    shared = train_gan_batch(wider, seed=1).metrics
    shared = shared[(shared["learning_rate"] == 0.01) & (shared["activation"] == "elu")
                    & (shared["optimizer"] == "sgd")].reset_index(drop=True)
    np.testing.assert_allclose(shared["value"], alone["value"], rtol=1e-4, atol=1e-6)


def test_huge_learning_rate_diverges_while_the_sane_model_goes_on():
    settings = GanRunSettings(
        variant="non_saturating", activations=("relu",), learning_rates={"sgd": (1e-2, 1e4)}, seeds=(0,), steps=40,
        batch_size=32, eval_every=10, n_eval=256, width=16, depth=2, divergence_threshold=1e3,
        trajectory=("ring", "sgd", 1e-2),
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
        variant="sn_gp", datasets=("digits",), activations=("elu",), learning_rates={"sgd": (0.05,)}, seeds=(0,),
        steps=10,
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
        "variants": ["smoothed"], "activations": ["relu", "elu"], "learning_rates": {"sgd": [0.01, 0.1],
                                                                                      "adam": [0.001]},
        "seeds": 3, "discriminator_steps": 2, "random_features": 32, "betas": [0.5, 0.8],
        "convergence": {"window": 0.2, "w1_ratio": {"grid": 0.25}, "coverage": {"grid": 0.75}},
        "toy": {"datasets": ["grid"], "steps": 100, "batch_size": 8, "width": 4, "depth": 1, "latent_dim": 2,
                "eval_every": 10, "n_eval": 50, "samples_saved": 5,
                "trajectory": {"dataset": "grid", "optimizer": "sgd", "learning_rate": 0.1}},
        "sanity": {"steps": 7, "batch_size": 4, "width": 3, "depth": 1, "learning_rate": 0.002, "seeds": 2,
                   "gradient_penalty_weight": 0.1, "lr_decay": "linear"},
    }
    settings = run_settings(section, "toy", "smoothed")
    assert settings.datasets == ("grid",) and settings.seeds == (0, 1, 2) and settings.n_models == 18
    assert settings.schedules == [("sgd", 0.01), ("sgd", 0.1), ("adam", 0.001)] and settings.betas == (0.5, 0.8)
    assert settings.trajectory == ("grid", "sgd", 0.1)
    assert settings.discriminator_steps == 2 and settings.random_features == 32 and settings.steps == 100
    sanity = run_settings(section, "sanity", "ignored")
    assert sanity.variant == "wgan_gp" and sanity.schedules == [("adam", 0.002)] and sanity.n_models == 2
    assert sanity.discriminator_optimizer is None and sanity.discriminator_steps == 5 and sanity.betas == (0.5, 0.9)
    assert sanity.gradient_penalty_weight == 0.1 and sanity.lr_decay == "linear" and sanity.steps == 7


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


def test_a_mixed_batch_gives_sgd_models_plain_steps_and_adam_models_adams():
    torch.manual_seed(3)
    start = torch.randn(2, 4, dtype=torch.float64)
    gradient = torch.randn(2, 4, dtype=torch.float64)
    parameter = start.clone().requires_grad_(True)
    mixed = batched_optimizer([parameter], ["sgd", "adam"], torch.tensor([0.1, 0.01], dtype=torch.float64))
    adam_alone = start[1:].clone().requires_grad_(True)
    reference = BatchedAdam([adam_alone], [0.01])
    for k in range(1, 4):
        mixed.scale = reference.scale = 1.0 / k  # a schedule multiplies every rate
        parameter.grad, adam_alone.grad = gradient.clone(), gradient[1:].clone()
        mixed.step()
        reference.step()
    torch.testing.assert_close(parameter[0].detach(), start[0] - 0.1 * (1 + 1 / 2 + 1 / 3) * gradient[0])
    torch.testing.assert_close(parameter[1].detach(), adam_alone[0].detach())
    assert isinstance(batched_optimizer([parameter], ["sgd", "sgd"], [0.1, 0.1]), BatchedSGD)
    with pytest.raises(ValueError, match="unknown optimizer 'rmsprop'"):
        batched_optimizer([parameter], ["sgd", "rmsprop"], [0.1, 0.1])


def test_measured_conditions_equal_explicit_derivatives_on_one_model():
    torch.manual_seed(0)
    generator = BatchedGanMLP(2, 2, 2, 5, 1, "elu", torch.Generator().manual_seed(1)).double()
    critic = BatchedGanMLP(2, 2, 1, 6, 1, "softplus", torch.Generator().manual_seed(2)).double()
    real, latents = torch.randn(2, 8, 2, dtype=torch.float64), torch.randn(2, 8, 2, dtype=torch.float64)
    variant = objectives.get_variant("wgan_gp")
    loss = functools.partial(_generator_losses, variant)
    measured = measure_conditions(loss, generator, critic, real, latents, iterations=200)
    b = 1
    with torch.no_grad():
        fake = generator(latents)
    t = torch.linspace(0, 1, 8, dtype=torch.float64)[:, None]
    points = torch.cat([real[b], fake[b], t * real[b] + (1 - t) * fake[b]])

    def critic_b(x):
        return critic(x.expand(2, 1, 2))[b, 0]

    gradients = [torch.autograd.functional.jacobian(critic_b, x[None]).reshape(2) for x in points]
    hessians = [torch.autograd.functional.hessian(critic_b, x[None]).reshape(2, 2) for x in points]
    assert measured["critic_lipschitz"][b] == pytest.approx(max(float(g.norm()) for g in gradients), rel=1e-9)
    curvature = max(float(torch.linalg.eigvalsh(h).abs().max()) for h in hessians)
    assert measured["critic_smoothness"][b] == pytest.approx(curvature, rel=1e-9) and curvature > 0
    # The generator loss's Hessian in model b's parameters, explicitly: its largest |eigenvalue|.
    shapes = [p.shape[1:] for p in generator.parameters()]
    flat = torch.cat([p.detach()[b].reshape(-1) for p in generator.parameters()])

    def loss_of(theta):
        pieces, offset = [], 0
        for p, shape in zip(generator.parameters(), shapes, strict=True):
            size = int(np.prod(shape))
            own = theta[offset:offset + size].reshape(shape)
            pieces.append(torch.stack([own if k == b else p.detach()[k] for k in range(2)]))
            offset += size
        h, layers = latents, len(pieces) // 2  # parameters(): every weight, then every bias
        for layer in range(layers):
            h = torch.baddbmm(pieces[layers + layer][:, None, :], h, pieces[layer])
            if layer < layers - 1:
                h = torch.nn.functional.elu(h)
        return loss(critic, real, h)[b]

    hessian = torch.autograd.functional.hessian(loss_of, flat)
    largest = float(torch.linalg.eigvalsh(hessian).abs().max())
    assert measured["generator_smoothness"][b] == pytest.approx(largest, rel=1e-3)


def test_a_relu_critic_has_no_measurable_curvature():
    generator = BatchedGanMLP(1, 2, 2, 5, 1, "relu", torch.Generator().manual_seed(1))
    critic = BatchedGanMLP(1, 2, 1, 6, 2, "relu", torch.Generator().manual_seed(2))
    measured = measure_conditions(functools.partial(_generator_losses, objectives.get_variant("wgan_gp")),
                                  generator, critic, torch.randn(1, 16, 2), torch.randn(1, 16, 2))
    assert measured["critic_smoothness"][0] == 0.0 and measured["critic_lipschitz"][0] > 0


def test_smoothed_gan_moves_the_generator_toward_the_ring():
    # The default's optimisers: gradient descent for the generator, Adam (lr 0.001) for the critic.
    settings = GanRunSettings(
        variant="smoothed", activations=("elu",), learning_rates={"sgd": (0.215,)}, seeds=(0,), steps=400,
        batch_size=32, eval_every=400, n_eval=1000, width=32, depth=2, trajectory=("ring", "sgd", 0.215),
        discriminator_optimizer="adam",
    )
    w1 = train_gan_batch(settings, seed=0).metrics
    w1 = w1[w1["metric"] == "wasserstein1"].set_index("step")["value"]
    assert w1[400] < 0.8 * w1[0]


def test_batched_adams_one_pass_update_is_the_per_parameter_update_bit_for_bit():
    # BatchedAdam updates all parameters with torch's _foreach ops when no model is frozen; each element must get
    # exactly the arithmetic of the per-parameter formula below (Adam for some models, plain steps for others).
    models, betas, eps = 6, (0.5, 0.9), 1e-8
    shapes = [(models, 2, 5), (models, 5), (models, 5, 1), (models, 1)]
    generator = torch.Generator().manual_seed(0)
    start = [torch.randn(*shape, generator=generator) for shape in shapes]
    rates = torch.rand(models, generator=generator) * 1e-2
    plain = torch.arange(models) % 3 == 0
    grads = [[torch.randn(*shape, generator=generator) for shape in shapes] for _ in range(30)]

    params = [torch.nn.Parameter(p.clone()) for p in start]
    optimizer = BatchedAdam(params, rates, betas, eps, plain=plain)
    reference = [p.clone() for p in start]
    moments, squares = [torch.zeros_like(p) for p in start], [torch.zeros_like(p) for p in start]
    for t, step_grads in enumerate(grads, start=1):
        optimizer.scale = 1.0 - (t - 1) / len(grads)
        for p, g in zip(params, step_grads, strict=True):
            p.grad = g
        optimizer.step()
        scaled = rates * optimizer.scale
        steps = torch.full((models,), float(t))
        step_sizes = scaled / (1 - betas[0] ** steps)
        root = (1 - betas[1] ** steps).sqrt()
        for p, m, v, g in zip(reference, moments, squares, step_grads, strict=True):
            shape = (-1,) + (1,) * (p.dim() - 1)
            m.mul_(betas[0]).add_(g, alpha=1 - betas[0])
            v.mul_(betas[1]).addcmul_(g, g, value=1 - betas[1])
            update = step_sizes.view(shape) * m / (v.sqrt() / root.view(shape)).add_(eps)
            p.sub_(torch.where(plain.view(shape), scaled.view(shape) * g, update))
    assert all(torch.equal(p.detach(), r) for p, r in zip(params, reference, strict=True))
    assert not torch.equal(params[0].detach(), start[0])
