"""The ReLU DNN estimator: recovers what a ReLU net represents, sizes itself by the JMLR guideline,
and its batched training gives each model the numbers it would get alone."""

import numpy as np
import pytest
import torch

from dltheory.nonsmooth.dnn import DNNRegressor, DNNSettings, predict_dnn_batch, train_dnn_batch
from dltheory.runtime import resolve_device


def _relu_target(x):
    # Exactly a width-3, one-hidden-layer ReLU network: a kinked, piecewise-linear function.
    return np.maximum(x[:, 0] - 0.5, 0) - 2 * np.maximum(0.3 - x[:, 1], 0) + 0.5 * np.maximum(x[:, 0] + x[:, 1] - 1, 0)


def test_dnn_recovers_a_function_a_relu_network_represents():
    rng = np.random.default_rng(0)
    x = rng.uniform(size=(2000, 2))
    settings = DNNSettings(learning_rate=3e-3, max_steps=1500, eval_every=50, patience=100)
    model = DNNRegressor(depth=2, width=32, settings=settings, random_state=0).fit(x, _relu_target(x))
    test = rng.uniform(size=(5000, 2))
    mse = np.mean((model.predict(test) - _relu_target(test)) ** 2)
    signal_variance = np.var(_relu_target(test))  # about 0.105
    assert mse < 0.003 * signal_variance


def test_guideline_depth_and_width_grow_with_n_and_config_overrides_them():
    settings = DNNSettings()
    small, large = settings.architecture_for(256, 2, 2.0, 2.0, 3), settings.architecture_for(8192, 2, 2.0, 2.0, 3)
    assert small == (3, 26) and large == (5, 56)
    assert DNNSettings(width=100, depth=2).architecture_for(8192, 2, 2.0, 2.0, 3) == (2, 100)


def test_a_models_result_does_not_depend_on_the_other_models_in_its_batch():
    rng = np.random.default_rng(1)
    x0, x1 = rng.uniform(size=(100, 2)), rng.uniform(size=(200, 2))
    y1 = np.sin(4 * x1[:, 0])
    test_x = rng.uniform(size=(50, 2))
    settings = DNNSettings(max_steps=100, eval_every=10)
    architectures = [(2, 8), (3, 16)]
    fits = [
        train_dnn_batch([(x0, y0), (x1, y1)], architectures, settings, 5, torch.device("cpu"))
        for y0 in (rng.normal(size=100), 10 * rng.normal(size=100))
    ]
    predictions = [predict_dnn_batch(model, test_x) for model, _ in fits]
    # Model 0 saw different data in the two batches; model 1's numbers are untouched by that.
    assert not np.allclose(predictions[0][0], predictions[1][0])
    np.testing.assert_allclose(predictions[0][1], predictions[1][1], rtol=0, atol=1e-6)
    assert fits[0][1].best_step.min() > 0


def test_cuda_without_a_gpu_is_a_clear_error():
    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    with pytest.raises(RuntimeError, match="config device is 'cuda' but torch sees no CUDA device"):
        resolve_device("cuda")
