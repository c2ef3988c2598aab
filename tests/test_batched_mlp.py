"""The batched MLP computes exactly the MLPs it stands for, and trains them independently."""

import numpy as np
import torch

from dltheory.nn.batched_mlp import BatchedArchitecture, BatchedMLP
from dltheory.nn.training import TrainingSettings, predict_batched, train_batched_regression


def _architecture():
    return BatchedArchitecture(in_dim=3, widths=(5, 12, 8), depths=(1, 3, 2))


def test_padded_models_equal_their_standalone_mlps():
    model = BatchedMLP(_architecture(), torch.Generator().manual_seed(0), dtype=torch.float64)
    inputs = torch.rand(50, 3, dtype=torch.float64)
    batched = predict_batched(model, inputs)
    for index in range(3):
        alone = model.standalone(index)(inputs).squeeze(-1)
        torch.testing.assert_close(batched[index], alone.detach(), rtol=0, atol=1e-12)


def test_parameter_counts_match_the_standalone_modules():
    model = BatchedMLP(_architecture(), torch.Generator().manual_seed(0))
    for index, count in enumerate(_architecture().parameter_counts()):
        assert count == sum(p.numel() for p in model.standalone(index).parameters())


def _training_data(n_models, n, generator):
    x = torch.rand(n_models, n, 2, generator=generator)
    y = torch.sin(3 * x[..., 0]) + (x[..., 1] > 0.5).float()
    return x, y


def _train(architecture, seed, x, y, n_train, steps=60):
    model = BatchedMLP(architecture, torch.Generator().manual_seed(seed))
    settings = TrainingSettings(max_steps=steps, eval_every=20, batch_size=16)
    outcome = train_batched_regression(
        model, x, y, n_train, x, y, n_train, settings, torch.Generator().manual_seed(seed + 1)
    )
    return model, outcome


def test_training_reduces_validation_error_and_keeps_the_best_checkpoint():
    architecture = BatchedArchitecture(in_dim=2, widths=(16, 32), depths=(2, 3))
    x, y = _training_data(2, 200, torch.Generator().manual_seed(3))
    n = torch.tensor([100, 200])
    start = BatchedMLP(architecture, torch.Generator().manual_seed(1))
    with torch.no_grad():
        initial = ((start(x) - y) ** 2).mean(dim=1)
    model, outcome = _train(architecture, 1, x, y, n, steps=300)
    assert np.all(outcome.best_val_mse < 0.5 * initial.numpy())
    assert np.all(outcome.best_step > 0) and not outcome.diverged.any()


def test_a_diverging_model_is_recorded_and_does_not_disturb_the_others():
    architecture = BatchedArchitecture(in_dim=2, widths=(16, 16), depths=(2, 2))
    x, y = _training_data(2, 100, torch.Generator().manual_seed(4))
    y_bad = y.clone()
    y_bad[1, 5] = float("nan")  # model 1 sees a NaN target: its loss becomes NaN
    n = torch.tensor([100, 100])
    _, clean = _train(architecture, 2, x, y, n)
    _, mixed = _train(architecture, 2, x, y_bad, n)
    assert mixed.diverged.tolist() == [False, True]
    assert mixed.diverged_step[1] >= 1
    assert mixed.best_val_mse[0] == clean.best_val_mse[0]


def test_padded_weights_stay_exactly_zero_through_training():
    # The padding needs no mask because these weights start at zero and never receive gradient.
    architecture = BatchedArchitecture(in_dim=2, widths=(6, 20), depths=(1, 3))
    x, y = _training_data(2, 100, torch.Generator().manual_seed(5))
    model, _ = _train(architecture, 3, x, y, torch.tensor([100, 100]), steps=100)
    assert torch.count_nonzero(model.input_weight[0, :, 6:]) == 0
    assert torch.count_nonzero(model.input_bias[0, 6:]) == 0
    assert torch.count_nonzero(model.output_weight[0, 6:]) == 0
    assert torch.count_nonzero(model.input_weight[1]) > 0
