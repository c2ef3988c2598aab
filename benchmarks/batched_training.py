"""Batched DNN training against a per-model Python loop and torch.func.vmap, at the default config's shapes.

The default config trains, per target, sizes x replicates MLPs (5 x 5 = 25 in the nonsmooth section of
config/config.yaml; the script reads them) whose widths and depths follow the JMLR guideline. Every side runs the
same number of Adam steps on the same mini-batch size: the padded batch (``BatchedMLP``, every model padded to the
widest and deepest); the bucketed batch (``BucketedMLP``, one unpadded batch per (depth, width), as the training jobs
run); the loop, each model an ordinary ``nn.Sequential`` of its own size (no padding); and vmap,
``torch.func.functional_call`` vmapped over the stacked parameters of the models that share an architecture (vmap
needs equal shapes), one call per architecture. Prints seconds and the ratios, measured in one run.

    python benchmarks/batched_training.py [--device cpu|cuda] [--steps 200] [--threads 2]
"""

import argparse
import functools
import time

import torch
import yaml
from torch.func import functional_call, stack_module_state, vmap

from dltheory.nn.batched_mlp import BatchedArchitecture, BatchedMLP, BucketedMLP
from dltheory.nonsmooth.dnn import DNNSettings
from dltheory.nonsmooth.targets import target_from_config


def default_shapes():
    config = yaml.safe_load(open("config/config.yaml"))
    section = config["nonsmooth"]
    target = target_from_config(section["targets"][0])
    settings = DNNSettings.from_config(section["dnn"])
    jobs = [n for _ in range(section["replicates"]) for n in section["sizes"]]
    architectures = [settings.architecture_for(n, target.dim, target.alpha, target.beta, target.pieces)
                     for n in jobs]
    return target.dim, jobs, architectures, settings.training.batch_size


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def time_batched(dim, jobs, architectures, batch, steps, device, layout=BatchedMLP):
    architecture = BatchedArchitecture(dim, tuple(w for _, w in architectures), tuple(d for d, _ in architectures))
    model = layout(architecture, torch.Generator().manual_seed(0)).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    data_x = torch.rand(len(jobs), max(jobs), dim, device=device)
    data_y = torch.rand(len(jobs), max(jobs), device=device)
    sizes = torch.tensor(jobs, device=device)
    rows = torch.arange(len(jobs), device=device)[:, None]
    sync(device)
    start = time.perf_counter()
    for _ in range(steps):
        index = (torch.rand(len(jobs), batch, device=device) * sizes[:, None]).long()
        loss = ((model(data_x[rows, index]) - data_y[rows, index]) ** 2).mean(dim=1).sum()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    sync(device)
    return time.perf_counter() - start


def plain_mlp(dim, depth, width):
    layers, fan_in = [], dim
    for _ in range(depth):
        layers += [torch.nn.Linear(fan_in, width), torch.nn.ReLU()]
        fan_in = width
    return torch.nn.Sequential(*layers, torch.nn.Linear(fan_in, 1))


def time_loop(dim, jobs, architectures, batch, steps, device):
    models = [plain_mlp(dim, d, w).to(device) for d, w in architectures]
    optimizers = [torch.optim.Adam(m.parameters(), lr=1e-3) for m in models]
    data = [(torch.rand(n, dim, device=device), torch.rand(n, device=device)) for n in jobs]
    sync(device)
    start = time.perf_counter()
    for model, optimizer, (x, y) in zip(models, optimizers, data, strict=True):
        for _ in range(steps):
            index = torch.randint(0, len(y), (batch,), device=device)
            loss = ((model(x[index]).squeeze(-1) - y[index]) ** 2).mean()
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    sync(device)
    return time.perf_counter() - start


def time_vmap(dim, jobs, architectures, batch, steps, device):
    groups = {}
    for n, architecture in zip(jobs, architectures, strict=True):
        groups.setdefault(architecture, []).append(n)
    prepared = []
    for (depth, width), sizes in groups.items():
        params, buffers = stack_module_state([plain_mlp(dim, depth, width).to(device) for _ in sizes])
        optimizer = torch.optim.Adam(params.values(), lr=1e-3)  # elementwise: each model's slice as its own Adam
        template = plain_mlp(dim, depth, width).to("meta")
        data_x = torch.rand(len(sizes), max(sizes), dim, device=device)
        data_y = torch.rand(len(sizes), max(sizes), device=device)
        prepared.append((template, params, buffers, optimizer, data_x, data_y, torch.tensor(sizes, device=device)))
    sync(device)
    start = time.perf_counter()
    for _ in range(steps):
        for template, params, buffers, optimizer, data_x, data_y, sizes in prepared:
            rows = torch.arange(len(sizes), device=device)[:, None]
            index = (torch.rand(len(sizes), batch, device=device) * sizes[:, None]).long()
            outputs = vmap(functools.partial(functional_call, template))((params, buffers), (data_x[rows, index],))
            loss = ((outputs.squeeze(-1) - data_y[rows, index]) ** 2).mean(dim=1).sum()
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    sync(device)
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    dim, jobs, architectures, batch = default_shapes()
    time_batched(dim, jobs, architectures, batch, 5, device)  # warm-up (allocator, kernels)
    batched = time_batched(dim, jobs, architectures, batch, args.steps, device)
    time_batched(dim, jobs, architectures, batch, 5, device, BucketedMLP)
    bucketed = time_batched(dim, jobs, architectures, batch, args.steps, device, BucketedMLP)
    loop = time_loop(dim, jobs, architectures, batch, args.steps, device)
    vmapped = time_vmap(dim, jobs, architectures, batch, args.steps, device)
    widths = sorted({w for _, w in architectures})
    print(f"device {device}, threads {args.threads}, {len(jobs)} models (widths {widths}, "
          f"{len(set(architectures))} architectures), batch {batch}, {args.steps} Adam steps each")
    print(f"per-model loop: {loop:.2f} s   padded batch: {batched:.2f} s   bucketed batch: {bucketed:.2f} s   "
          f"vmap per architecture: {vmapped:.2f} s")
    print(f"loop/padded: {loop / batched:.1f}x   loop/bucketed: {loop / bucketed:.1f}x   "
          f"padded/bucketed: {batched / bucketed:.1f}x   vmap/bucketed: {vmapped / bucketed:.1f}x")


if __name__ == "__main__":
    main()
