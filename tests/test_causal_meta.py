"""Meta-CGNN (issue 5): the encoder, FiLM conditioning, the linear-time MMD, meta-training and scoring."""

import numpy as np
import pytest
import torch

from dltheory.causal.meta import (
    MetaCgnn,
    MetaCgnnSettings,
    derive_validation_seed,
    meta_scores,
    meta_train,
    random_feature_map,
    random_feature_mmd_squared,
    validation_accuracy,
)
from dltheory.causal.mmd import CGNN_GAMMAS, mmd_squared

SMALL = MetaCgnnSettings(encoder_width=16, task_dim=4, generator_width=8, meta_steps=60, tasks_per_step=8,
                         train_sizes=(20, 60), score_draws=2)


def test_encoder_is_invariant_to_the_order_of_the_points():
    torch.manual_seed(0)
    model = MetaCgnn(SMALL)
    points = torch.randn(3, 50, 2)
    shuffled = points[:, torch.randperm(50)]
    torch.testing.assert_close(model.encode(points), model.encode(shuffled))


def test_film_conditioning_changes_the_generated_effect_with_the_task_vector():
    torch.manual_seed(0)
    model = MetaCgnn(SMALL)
    cause, noise = torch.randn(1, 40, 1), torch.randn(1, 40, 1)
    first = model.generate(cause, torch.zeros(1, SMALL.task_dim), noise)
    second = model.generate(cause, torch.ones(1, SMALL.task_dim), noise)
    assert (first - second).abs().max() > 1e-3
    # ...and a task vector of zeros through a FiLM layer of zeros is the plain network.
    with torch.no_grad():
        model.film.weight.zero_()
        model.film.bias.zero_()
    plain = torch.relu(model.hidden[1](torch.relu(model.hidden[0](torch.cat([cause, noise], -1)))))
    torch.testing.assert_close(model.generate(cause, torch.randn(1, SMALL.task_dim), noise), model.output(plain))


def test_random_feature_mmd_approaches_the_exact_biased_mmd():
    rng = np.random.default_rng(0)
    a = torch.tensor(rng.standard_normal((400, 2)), dtype=torch.float64)
    b = torch.tensor(rng.standard_normal((400, 2)) + [0.7, 0.0], dtype=torch.float64)
    exact = float(mmd_squared(a, b, CGNN_GAMMAS))
    omegas, phases = random_feature_map(CGNN_GAMMAS, 2, 4000, torch.Generator().manual_seed(1))
    approx = float(random_feature_mmd_squared(a, b, omegas.double(), phases.double(), 4000))
    assert exact > 0.05
    assert approx == pytest.approx(exact, rel=0.1)


def test_meta_training_lowers_the_fit_error_and_is_deterministic():
    rng = np.random.default_rng(0)
    cause = rng.standard_normal((64, 80))
    pool = np.stack([cause, np.tanh(2.0 * cause) + 0.1 * rng.standard_normal(cause.shape)], axis=-1)
    model, history = meta_train(pool, SMALL, seed=3, log_every=10)
    assert list(history["step"]) == list(range(10, 61, 10))
    assert history["loss"].iloc[-2:].mean() < history["loss"].iloc[:2].mean()
    again, history_again = meta_train(pool, SMALL, seed=3, log_every=10)
    assert history["loss"].tolist() == history_again["loss"].tolist()
    pairs = [(pool[i, :50, 0], pool[i, :50, 1]) for i in range(4)]
    scores = meta_scores(model, pairs, seed=0)
    assert scores.shape == (4,) and np.all(np.abs(scores) <= 1.0)
    np.testing.assert_array_equal(scores, meta_scores(again, pairs, seed=0))


def test_meta_scores_refuse_pairs_of_different_sizes():
    model = MetaCgnn(SMALL)
    with pytest.raises(ValueError, match=r"one size, got sizes \[30, 40\]"):
        meta_scores(model, [(np.zeros(30), np.ones(30)), (np.zeros(40), np.ones(40))], seed=0)


def test_saved_model_scores_like_the_trained_one_and_bad_files_are_named(tmp_path):
    from dltheory.causal.meta import load_meta_model, save_meta_model

    rng = np.random.default_rng(0)
    cause = rng.normal(size=(12, 60))
    pool = np.stack([cause, np.tanh(cause) + 0.3 * rng.normal(size=cause.shape)], axis=-1)
    model, _ = meta_train(pool, MetaCgnnSettings(**{**SMALL.__dict__, "meta_steps": 3}), seed=1)
    save_meta_model(model, tmp_path / "model.pt")
    pairs = [(rng.normal(size=30), rng.normal(size=30)) for _ in range(4)]
    np.testing.assert_array_equal(meta_scores(load_meta_model(tmp_path / "model.pt"), pairs, seed=2),
                                  meta_scores(model, pairs, seed=2))
    (tmp_path / "broken.pt").write_text("not a model")
    with pytest.raises(ValueError, match="broken.pt"):
        load_meta_model(tmp_path / "broken.pt")


def test_settings_from_a_config_mapping_reject_unknown_keys():
    from dltheory.causal.meta import settings_from_mapping

    assert settings_from_mapping({"train_sizes": [10, 20]}).train_sizes == (10, 20)
    with pytest.raises(ValueError, match="Meta-CGNN.hidden: no such setting"):
        settings_from_mapping({"hidden": 3})


def test_the_direction_term_is_the_softplus_of_the_sharpened_score():
    from dltheory.causal.meta import meta_loss

    settings = MetaCgnnSettings(**{**SMALL.__dict__, "contrast_weight": 0.5, "contrast_sharpness": 4.0})
    torch.manual_seed(0)
    model = MetaCgnn(settings)
    points = torch.randn(3, 40, 2)
    loss = meta_loss(model, points, torch.Generator().manual_seed(5))
    errors = model.fit_error(torch.cat([points, points.flip(-1)]), torch.Generator().manual_seed(5))
    forward, backward = errors[:3], errors[3:]
    score = (backward - forward) / (backward + forward)
    expected = forward.mean() + 0.5 * torch.nn.functional.softplus(-4.0 * score).mean()
    torch.testing.assert_close(loss, expected)
    # without the term, the loss is the causal reading's fit alone
    plain = MetaCgnn(SMALL)
    plain.load_state_dict(model.state_dict())
    torch.testing.assert_close(meta_loss(plain, points, torch.Generator().manual_seed(5)),
                               plain.fit_error(points, torch.Generator().manual_seed(5)).mean())


def _tanh_pool(seed: int, datasets: int = 32, points: int = 80) -> np.ndarray:
    rng = np.random.default_rng(seed)
    cause = rng.standard_normal((datasets, points))
    return np.stack([cause, np.tanh(2.0 * cause) + 0.1 * rng.standard_normal(cause.shape)], axis=-1)


def test_meta_training_gives_the_same_numbers_at_one_and_two_threads():
    # Issue 21: at 2 threads the summation order changed and so did the trained model; training and scoring now
    # run on one torch thread whatever the job's count.
    pool, settings = _tanh_pool(1), MetaCgnnSettings(**{**SMALL.__dict__, "meta_steps": 20})
    pairs = [(pool[i, :, 0], pool[i, :, 1]) for i in range(4)]
    results = []
    for threads in (1, 2):
        before = torch.get_num_threads()
        torch.set_num_threads(threads)
        try:
            model, history = meta_train(pool, settings, seed=5, log_every=5)
            results.append((model.state_dict(), history["loss"].to_numpy(), meta_scores(model, pairs, seed=2)))
        finally:
            torch.set_num_threads(before)
    (state1, loss1, scores1), (state2, loss2, scores2) = results
    np.testing.assert_array_equal(loss1, loss2)
    np.testing.assert_array_equal(scores1, scores2)
    for key in state1:
        torch.testing.assert_close(state1[key], state2[key], rtol=0, atol=0)


def test_the_checkpoint_of_highest_validation_accuracy_is_kept():
    pool = _tanh_pool(2)
    rng = np.random.default_rng(9)
    validation = []
    for i in range(12):
        x = rng.standard_normal(40)
        y = np.tanh(2.0 * x) + 0.1 * rng.standard_normal(40)
        validation.append((x, y, 1) if i % 2 else (y, x, -1))
    settings = MetaCgnnSettings(**{**SMALL.__dict__, "meta_steps": 12})
    model, history = meta_train(pool, settings, seed=4, log_every=100, validation=validation, validate_every=4)
    checked = history.dropna(subset=["validation_accuracy"])
    assert checked["step"].tolist() == [4, 8, 12] and history["chosen"].sum() == 1
    chosen = history[history["chosen"]].iloc[0]
    best = checked["validation_accuracy"].max()
    assert chosen["validation_accuracy"] == best
    assert chosen["step"] == checked.loc[checked["validation_accuracy"] == best, "step"].max()  # ties: the later
    assert validation_accuracy(model, validation, derive_validation_seed(4)) == best  # the model is that checkpoint
