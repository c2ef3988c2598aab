"""The Nakada-Imaizumi experiment layer: data on the intended support, paired samples, recorded divergence."""

import numpy as np
import pytest
import torch

from dltheory.intrinsic.experiment import RUN_COLUMNS, make_support, run_baseline, run_dnn, simulate_setting
from dltheory.intrinsic.targets import make_target
from dltheory.nonsmooth.dnn import DNNSettings

SPHERE = {"name": "sphere_d4", "simulation": "sphere", "ambient_dim": 128, "intrinsic_dim": 4, "radius": 0.5,
          "target": {"name": "nakada_sphere", "scale": 10.0}}
BALLS = {"name": "balls_D5_d2", "simulation": "balls", "ambient_dim": 5, "intrinsic_dim": 2,
         "target": {"name": "nakada_ball", "scale": 10.0}}


@pytest.mark.parametrize("setting", [SPHERE, BALLS], ids=["sphere", "balls"])
def test_simulated_points_lie_on_the_support_with_noise_of_the_configured_variance(setting):
    data = simulate_setting(setting, max_n=400, replicates=2, noise_variance=0.1, n_test=300, seed=3)
    support = make_support(setting, seed=3)
    assert data["train_x"].shape == (2, 400, setting["ambient_dim"])
    for points in (data["train_x"].reshape(-1, setting["ambient_dim"]), data["test_x"]):
        assert np.max(support.distance_to_support(points)) < 1e-9
    target = make_target(setting["target"]["name"], setting["target"]["scale"])
    noise = data["train_y"] - target(data["train_x"].reshape(-1, setting["ambient_dim"])).reshape(2, 400)
    assert abs(noise.var() - 0.1) < 0.015  # 800 draws: the sample variance's SD is about 0.005
    np.testing.assert_array_equal(data["test_f"], target(data["test_x"]))


def test_same_seed_same_data_and_a_different_seed_a_different_rotation():
    first = simulate_setting(SPHERE, 50, 2, 0.1, 10, seed=1)
    again = simulate_setting(SPHERE, 50, 2, 0.1, 10, seed=1)
    other = simulate_setting(SPHERE, 50, 2, 0.1, 10, seed=2)
    np.testing.assert_array_equal(first["train_x"], again["train_x"])
    assert not np.allclose(make_support(SPHERE, 1).frame, make_support(SPHERE, 2).frame)
    assert not np.allclose(first["train_x"], other["train_x"])


def test_baselines_fit_every_size_and_replicate_on_the_same_nested_samples():
    data = simulate_setting(BALLS, 60, 2, 0.1, 200, seed=0)
    table = run_baseline(BALLS, data, "knn", {"max_neighbors": 10}, [20, 60], seed=0)
    assert list(table.columns) == RUN_COLUMNS
    assert len(table) == 4 and set(table.n) == {20, 60} and (table.value > 0).all()
    assert set(table.beta) == {1.0} and set(table.intrinsic_dim) == {2}


def test_paper_initialisation_diverges_and_is_recorded_not_raised():
    # N(0, 1) weights at width 128 (N Sec. 6.1) start with losses far above the divergence threshold.
    data = simulate_setting(SPHERE, 100, 2, 0.1, 100, seed=0)
    training = dict(learning_rate=1e-3, batch_size=16, max_steps=5, eval_every=5, divergence_threshold=1e3)
    settings = DNNSettings(width=128, depth=4, init="standard_normal", **training)
    table = run_dnn(SPHERE, data, "dnn", settings, [50, 100], seed=0, device=torch.device("cpu"))
    mse = table[table.metric == "mse"]
    assert mse.diverged.all() and (mse.diverged_step == 1).all() and mse.value.isna().all()
    he = run_dnn(SPHERE, data, "dnn", DNNSettings(width=16, depth=2, **training), [50, 100], seed=0,
                 device=torch.device("cpu"))
    assert not he.diverged.any() and np.isfinite(he[he.metric == "mse"].value).all()
