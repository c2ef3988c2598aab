"""The batched MLP computes exactly the MLPs it stands for, and trains them independently."""

import numpy as np
import pytest
import torch

from dltheory.nn import training
from dltheory.nn.batched_mlp import BatchedArchitecture, BatchedMLP, BucketedMLP
from dltheory.nn.training import TrainingSettings, float32_matmul_precision, predict_batched, train_batched_regression


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


def _train(architecture, seed, x, y, n_train, steps=60, layout=BatchedMLP, compact=True, dtype=torch.float32,
           patience=10):
    model = layout(architecture, torch.Generator().manual_seed(seed), dtype=dtype)
    settings = TrainingSettings(max_steps=steps, eval_every=20, batch_size=16, patience=patience)
    outcome = train_batched_regression(
        model, x, y, n_train, x, y, n_train, settings, torch.Generator().manual_seed(seed + 1), compact=compact
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


# Four architectures, two models each, interleaved as the region cells are.
_MIXED = BatchedArchitecture(in_dim=2, widths=(6, 20, 6, 12, 20, 12, 6, 6), depths=(1, 3, 1, 2, 3, 2, 2, 2))


def test_bucketed_models_start_as_the_padded_batch_and_compute_the_same_functions():
    padded = BatchedMLP(_MIXED, torch.Generator().manual_seed(0), dtype=torch.float64)
    bucketed = BucketedMLP(_MIXED, torch.Generator().manual_seed(0), dtype=torch.float64)
    assert len(bucketed.buckets) == 4 and max(b.architecture.max_width for b in bucketed.buckets[:1]) == 6
    inputs = torch.rand(40, 2, dtype=torch.float64)
    torch.testing.assert_close(predict_batched(bucketed, inputs), predict_batched(padded, inputs), rtol=0, atol=1e-12)


def test_bucketed_training_matches_padded_training_per_model():
    # Float64, so that the only difference (the order of sums inside the unpadded and padded matmuls, ~1e-16)
    # stays at rounding through 200 Adam steps: predictions agree within 1e-9.
    x, y = _training_data(8, 120, torch.Generator().manual_seed(6))
    x, y = x.double(), y.double()
    n = torch.tensor([120, 60, 100, 120, 80, 120, 90, 120])
    padded, padded_outcome = _train(_MIXED, 4, x, y, n, steps=200, compact=False, dtype=torch.float64)
    bucketed, bucketed_outcome = _train(_MIXED, 4, x, y, n, steps=200, layout=BucketedMLP, dtype=torch.float64)
    np.testing.assert_allclose(bucketed_outcome.best_val_mse, padded_outcome.best_val_mse, rtol=1e-9)
    np.testing.assert_array_equal(bucketed_outcome.best_step, padded_outcome.best_step)
    inputs = torch.rand(50, 2, dtype=torch.float64)
    torch.testing.assert_close(predict_batched(bucketed, inputs), predict_batched(padded, inputs), rtol=0, atol=1e-9)


@pytest.mark.parametrize("layout", [BatchedMLP, BucketedMLP])
def test_compaction_gives_the_same_final_parameters_as_no_compaction(layout, monkeypatch):
    # 20 noisy training points against 100 validation points: the models overfit and stop at different steps, so
    # the batches are cut (narrower and shallower, when padded). Cutting changes the matmuls' shapes and so the
    # order of their sums: in float64 the parameters agree within 1e-10.
    architecture = BatchedArchitecture(in_dim=2, widths=(6, 12) * 4, depths=(1, 2) * 4)
    x, y = _training_data(8, 120, torch.Generator().manual_seed(7))
    x, y = x.double(), y.double()
    y = y + 0.3 * torch.randn(y.shape, generator=torch.Generator().manual_seed(1), dtype=y.dtype)
    settings = TrainingSettings(max_steps=300, eval_every=10, batch_size=16, patience=2, learning_rate=0.03)
    cuts = []
    compact = training._compact

    def counted(bucket, keep, optimizer):
        cuts.append(len(keep))
        compact(bucket, keep, optimizer)

    monkeypatch.setattr(training, "_compact", counted)
    results = {}
    for cut in (False, True):
        model = layout(architecture, torch.Generator().manual_seed(5), dtype=torch.float64)
        outcome = train_batched_regression(model, x, y, torch.full((8,), 20), x[:, 20:], y[:, 20:],
                                           torch.full((8,), 100), settings, torch.Generator().manual_seed(1),
                                           compact=cut)
        results[cut] = model, outcome
    assert cuts and any(kept > 0 for kept in cuts)  # a batch was cut to live models, not only dropped
    (kept, kept_outcome), (cut, cut_outcome) = results[False], results[True]
    np.testing.assert_array_equal(cut_outcome.best_step, kept_outcome.best_step)
    np.testing.assert_allclose(cut_outcome.best_val_mse, kept_outcome.best_val_mse, rtol=1e-10)
    for a, b in zip(cut.parameters(), kept.parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-10)


def test_matmul_precision_is_left_alone_on_the_cpu():
    with float32_matmul_precision("high", torch.device("cpu")):
        assert torch.get_float32_matmul_precision() == "highest"


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_matmul_precision_applies_on_cuda_and_is_restored():
    with float32_matmul_precision("high", torch.device("cuda")):
        assert torch.get_float32_matmul_precision() == "high"
    assert torch.get_float32_matmul_precision() == "highest"
