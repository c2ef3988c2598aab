"""The trainability sweep: every variant trained from init scales s over depths, on digits (our setting; the digest's
probe, ../shared/papers/resinit.md, "Training probe").

Taki's abstract: ResNets are "relatively insensitive to choice of initial weights", and batch normalization improves
backpropagation of deep ResNets "without tuning initial values of weights". A network is d -> n (input layer,
PyTorch's default init) -> L blocks of its variant (dltheory.resinit.networks, block std times s) -> 10 (read-out,
PyTorch's default init), trained by minibatch SGD with momentum on cross-entropy for a fixed number of steps. For one
depth, every (variant, scale, seed) network of one block form trains as one batched model: the loss is the sum of
the networks' losses and SGD acts element-wise, so each network follows the trajectory it would follow alone.
Networks of one seed share their input and read-out layers, their block normals and their minibatches (common random
numbers), so scales and variants differ only by what they are named for. Batch norm uses the minibatch's statistics
in training and the training set's at evaluation. Divergence (a non-finite loss) is recorded with its step, never
raised.
"""

import numpy as np
import pandas as pd
import torch

from dltheory.nn.optim import SGD
from dltheory.resinit.data import CLASSES, constant_loss, digits_split, majority_accuracy
from dltheory.resinit.networks import BlockStack, form, init_blocks
from dltheory.resinit.settings import FAMILY, ResinitSettings, SweepSettings
from dltheory.seeds import derive_seed, rng_for
from dltheory.settings import from_config


def minibatches(seed: int, replicate: int, points: int, steps: int, batch: int) -> np.ndarray:
    """(steps, batch) training-set indices: shuffled epochs, one generator per seed."""
    rng = rng_for(seed, FAMILY, "sweep_batches", replicate)
    epochs = -(-steps * batch // points)
    order = np.concatenate([rng.permutation(points) for _ in range(epochs)])
    return order[: steps * batch].reshape(steps, batch)


def _uniform(shape, bound: float, generator) -> torch.Tensor:
    return (torch.rand(shape, generator=generator) * 2 - 1) * bound


def seed_layers(seed: int, replicate: int, depth: int, dim: int, width: int) -> dict:
    """One seed's input and read-out layers (PyTorch nn.Linear's default: U(+-1/sqrt(fan_in))) and block normals."""
    generator = torch.Generator().manual_seed(derive_seed(seed, FAMILY, "sweep_layers", replicate, depth))
    return {
        "input_weight": _uniform((dim, width), dim**-0.5, generator),
        "input_bias": _uniform((width,), dim**-0.5, generator),
        "output_weight": _uniform((width, CLASSES), width**-0.5, generator),
        "output_bias": _uniform((CLASSES,), width**-0.5, generator),
        "normals": torch.randn(depth, width, width, generator=generator),
    }


def network_logits(params: dict, blocks: BlockStack, x: torch.Tensor, stat_rows: int | None = None) -> torch.Tensor:
    x = x @ params["input_weight"] + params["input_bias"].unsqueeze(1)
    x = blocks.forward(x, stat_rows)
    return x @ params["output_weight"] + params["output_bias"].unsqueeze(1)


def _cross_entropy(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    models, points = labels.shape
    return torch.nn.functional.cross_entropy(logits.reshape(models * points, CLASSES), labels.reshape(-1),
                                             reduction="none").view(models, points).mean(dim=1)


def train_networks(models: list[tuple[str, float, int]], depth: int, data: list, layers: list, batches: list,
                   sweep: SweepSettings, device) -> dict[str, np.ndarray]:
    """Train the networks ``models`` = [(variant, scale, seed)] of one block form at one depth as one batched model
    (batching the variants as well as the scales and seeds: at these sizes a step costs about as much for 15
    networks as for 75); per network: initial and final training loss, train and test accuracy, the step at which
    it diverged (-1: never)."""
    seed_of = torch.tensor([r for _, _, r in models])
    scale_of = torch.tensor([s for _, s, _ in models], dtype=torch.float32)
    stack = {name: torch.stack([layer[name] for layer in layers])[seed_of] for name in layers[0]}
    params = {name: stack[name].clone().to(device).requires_grad_() for name in
              ("input_weight", "input_bias", "output_weight", "output_bias")}
    blocks = init_blocks([v for v, _, _ in models], stack["normals"].to(device), scale_of.to(device), depth,
                         sweep.taki_c).requires_grad_()
    gated = blocks.gated.to(blocks.parameters["gate"].dtype).unsqueeze(1)
    blocks.parameters["gate"].register_hook(lambda grad: grad * gated)  # only SkipInit's and ReZero's gates train
    leaves = list(params.values()) + list(blocks.parameters.values())
    train_x = torch.tensor(np.stack([d[0] for d in data]), dtype=torch.float32, device=device)[seed_of]
    train_y = torch.tensor(np.stack([d[1] for d in data]), device=device)[seed_of]
    order = torch.tensor(np.stack(batches), device=device)[seed_of]  # (M, steps, batch)
    rows = torch.arange(len(models), device=device).unsqueeze(1)
    optimizer = SGD(leaves, lr=sweep.learning_rate, momentum=sweep.momentum)
    diverged = torch.full((len(models),), -1, dtype=torch.long, device=device)
    initial = None
    for step in range(sweep.steps):
        index = order[:, step]
        losses = _cross_entropy(network_logits(params, blocks, train_x[rows, index]), train_y[rows, index])
        if initial is None:
            initial = losses.detach().clone()
        diverged[~torch.isfinite(losses.detach()) & (diverged < 0)] = step
        optimizer.zero_grad(set_to_none=True)
        losses.sum().backward()
        optimizer.step()
    with torch.no_grad():
        test_x = torch.tensor(np.stack([d[2] for d in data]), dtype=torch.float32, device=device)[seed_of]
        test_y = torch.tensor(np.stack([d[3] for d in data]), device=device)[seed_of]
        points = train_x.shape[1]
        logits = network_logits(params, blocks, torch.cat([train_x, test_x], dim=1), stat_rows=points)
        final = _cross_entropy(logits[:, :points], train_y)
        train_accuracy = (logits[:, :points].argmax(-1) == train_y).float().mean(dim=1)
        test_accuracy = (logits[:, points:].argmax(-1) == test_y).float().mean(dim=1)
    diverged[~torch.isfinite(final) & (diverged < 0)] = sweep.steps
    return {"initial_loss": initial.cpu().numpy(), "final_loss": final.cpu().numpy(),
            "train_accuracy": train_accuracy.cpu().numpy(), "test_accuracy": test_accuracy.cpu().numpy(),
            "diverged_step": diverged.cpu().numpy()}


def run_sweep(section, seed: int, device) -> pd.DataFrame:
    """The sweep of every variant x depth x scale x seed (settings: the resinit section as the job gets it); tidy
    rows with the did-it-learn references (majority-class accuracy, the constant predictor's loss) per seed."""
    settings = from_config(ResinitSettings, section, FAMILY)
    sweep = settings.sweep
    data = [digits_split(seed, r) for r in range(sweep.replicates)]
    batches = [minibatches(seed, r, len(d[1]), sweep.steps, sweep.batch) for r, d in enumerate(data)]
    rows = []
    for depth in sweep.depths:
        layers = [seed_layers(seed, r, depth, data[r][0].shape[1], sweep.width) for r in range(sweep.replicates)]
        forms: dict[str, list] = {}
        for variant in sweep.variants:
            forms.setdefault(form(variant), []).append(variant)
        for variants in forms.values():
            models = [(v, s, r) for v in variants for s in sweep.scales for r in range(sweep.replicates)]
            result = train_networks(models, depth, data, layers, batches, sweep, device)
            for index, (variant, scale, replicate) in enumerate(models):
                base = {"part": "sweep", "variant": variant, "depth": depth, "scale": scale,
                        "replicate": replicate}
                rows += [{**base, "metric": name, "value": float(values[index])} for name, values in result.items()]
                rows += [{**base, "metric": "majority_accuracy",
                          "value": majority_accuracy(data[replicate][1], data[replicate][3])},
                         {**base, "metric": "constant_loss", "value": constant_loss(data[replicate][1])}]
    return pd.DataFrame(rows)
