"""dltheory.nn.optim against torch.optim: bitwise the same parameters on the CPU, and no torch._dynamo import."""

import math
import subprocess
import sys

import pytest
import torch

from dltheory.nn import optim, training
from dltheory.nn.batched_mlp import BatchedArchitecture, BatchedMLP, BucketedMLP
from dltheory.nn.training import TrainingSettings, train_batched_regression


def _leaves(seed, dtype=torch.float32):
    """Parameters shaped like the call sites': a leading model axis (batched MLP weights, biases), a plain matrix
    and a scalar."""
    generator = torch.Generator().manual_seed(seed)
    shapes = [(4, 3, 7), (4, 7), (4, 1, 7), (4, 1), (3, 5), ()]
    return [torch.randn(shape, generator=generator, dtype=dtype).requires_grad_() for shape in shapes]


def _loss(leaves, step):
    generator = torch.Generator().manual_seed(1000 + step)
    x = torch.randn(4, 9, 3, generator=generator, dtype=leaves[0].dtype)
    hidden = torch.tanh(x @ leaves[0] + leaves[1][:, None, :])
    out = (hidden * leaves[2]).sum(-1) + leaves[3]
    other = torch.sin(x[0] @ leaves[4]).pow(2).mean() * leaves[5]
    return (out - x[..., 0]).pow(2).mean(dim=1).sum() + other


def _run(factory, steps, dtype, schedule=None, set_lr=None, skip_every=0):
    leaves = _leaves(0, dtype)
    optimizer = factory(leaves)
    scheduler = schedule(optimizer) if schedule else None
    for step in range(steps):
        if set_lr is not None:
            for group in optimizer.param_groups:
                group["lr"] = set_lr(step)
        optimizer.zero_grad(set_to_none=True)
        _loss(leaves, step).backward()
        if skip_every and step % skip_every == 0:
            leaves[5].grad = None  # a parameter without a gradient is skipped (its Adam step not counted)
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
    return leaves


@pytest.mark.parametrize(("dtype", "kwargs"), [
    (torch.float32, {"lr": 3e-3}),
    (torch.float64, {"lr": 3e-3}),
    (torch.float32, {"lr": 0.02, "betas": (0.8, 0.99), "eps": 1e-6, "weight_decay": 1e-3}),
])
def test_adam_is_bitwise_torch_adam(dtype, kwargs):
    ours = _run(lambda p: optim.Adam(p, **kwargs), 300, dtype, skip_every=7)
    theirs = _run(lambda p: torch.optim.Adam(p, **kwargs), 300, dtype, skip_every=7)
    for a, b in zip(ours, theirs, strict=True):
        assert torch.equal(a, b)


@pytest.mark.parametrize("kwargs", [{"lr": 0.01, "momentum": 0.9},
                                    {"lr": 0.01, "momentum": 0.9, "nesterov": True, "weight_decay": 5e-4},
                                    {"lr": 0.01, "momentum": 0.5, "dampening": 0.1, "weight_decay": 1e-3}])
def test_sgd_is_bitwise_torch_sgd(kwargs):
    def cosine(step):  # selfpaced sets each group's lr before every step
        return 0.01 * 0.5 * (1 + math.cos(math.pi * step / 200))

    ours = _run(lambda p: optim.SGD(p, **kwargs), 200, torch.float32, set_lr=cosine)
    theirs = _run(lambda p: torch.optim.SGD(p, **kwargs), 200, torch.float32, set_lr=cosine)
    for a, b in zip(ours, theirs, strict=True):
        assert torch.equal(a, b)


def _cosine(step):
    return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * step / 50))


def test_lambda_lr_gives_torch_lambda_lr_sequence():
    sequences = []
    for module, scheduler in ((optim, optim.LambdaLR), (torch.optim, torch.optim.lr_scheduler.LambdaLR)):
        optimizer = module.Adam([torch.zeros(2, requires_grad=True)], lr=0.03)
        schedule = scheduler(optimizer, _cosine)
        lrs = [optimizer.param_groups[0]["lr"]]
        for _ in range(60):
            optimizer.step()  # no gradients: nothing moves
            schedule.step()
            lrs.append(optimizer.param_groups[0]["lr"])
        sequences.append((lrs, optimizer.param_groups[0]["initial_lr"], schedule.get_last_lr()))
    assert sequences[0] == sequences[1]


def test_adam_with_lambda_lr_is_bitwise_torch():
    ours = _run(lambda p: optim.Adam(p, lr=0.01), 200, torch.float32,
                schedule=lambda o: optim.LambdaLR(o, _cosine))
    theirs = _run(lambda p: torch.optim.Adam(p, lr=0.01), 200, torch.float32,
                  schedule=lambda o: torch.optim.lr_scheduler.LambdaLR(o, _cosine))
    for a, b in zip(ours, theirs, strict=True):
        assert torch.equal(a, b)


@pytest.mark.parametrize("layout", [BatchedMLP, BucketedMLP])
def test_batched_training_with_compaction_is_bitwise_torch(monkeypatch, layout):
    """train_batched_regression, its buckets cut down to the live models (``_compact`` re-slicing the Adam state),
    gives the same parameters and outcome with these classes as with torch.optim's."""
    architecture = BatchedArchitecture(in_dim=2, widths=(4, 4, 4, 8, 8, 8), depths=(1, 1, 1, 2, 2, 2))
    generator = torch.Generator().manual_seed(7)
    x = torch.rand(6, 60, 2, generator=generator)
    y = torch.sin(3 * x).sum(-1) + 0.3 * torch.randn(6, 60, generator=generator)
    settings = TrainingSettings(max_steps=200, eval_every=5, batch_size=8, patience=1, learning_rate=0.03)
    cuts = []
    compact = training._compact
    monkeypatch.setattr(training, "_compact", lambda *args: (cuts.append(len(args[1])), compact(*args)))
    results = []
    for adam, scheduler in ((optim.Adam, optim.LambdaLR), (torch.optim.Adam, torch.optim.lr_scheduler.LambdaLR)):
        monkeypatch.setattr(training, "Adam", adam)
        monkeypatch.setattr(training, "LambdaLR", scheduler)
        model = layout(architecture, torch.Generator().manual_seed(5))
        outcome = train_batched_regression(model, x, y, torch.full((6,), 20), x[:, 20:], y[:, 20:],
                                           torch.full((6,), 40), settings, torch.Generator().manual_seed(1))
        results.append((model, outcome))
    assert any(kept > 0 for kept in cuts)  # a bucket was cut to live models, moments re-sliced
    (ours, ours_outcome), (theirs, theirs_outcome) = results
    assert ours_outcome.steps_run == theirs_outcome.steps_run
    assert (ours_outcome.best_step == theirs_outcome.best_step).all()
    assert (ours_outcome.best_val_mse == theirs_outcome.best_val_mse).all()
    for a, b in zip(ours.parameters(), theirs.parameters(), strict=True):
        assert torch.equal(a, b)


def test_training_does_not_import_dynamo():
    script = """
import sys
import torch
from dltheory.nn.batched_mlp import BatchedArchitecture, BatchedMLP
from dltheory.nn.training import TrainingSettings, train_batched_regression
model = BatchedMLP(BatchedArchitecture(in_dim=2, widths=(4,), depths=(1,)), torch.Generator().manual_seed(0))
x, y = torch.rand(1, 20, 2), torch.rand(1, 20)
n = torch.tensor([10])
train_batched_regression(model, x, y, n, x, y, n, TrainingSettings(max_steps=3, eval_every=1, batch_size=4),
                         torch.Generator().manual_seed(0))
print(sorted(name for name in ("torch._dynamo", "sympy") if name in sys.modules))
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
