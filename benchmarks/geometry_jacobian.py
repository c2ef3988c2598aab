"""Per-layer Gram matrices (the NTK and the Fisher's dual) batched against a per-sample autograd loop, and peak memory,
at the default config's shapes.

Three ways to the same T*C x T*C matrices J_l J_l^T:
  - loop: one ``torch.autograd.grad`` per (sample, output), rows stacked into the P-long Jacobian, then J J^T;
  - vmap: ``dltheory.geometry.jacobian.parameter_jacobian`` (torch.func, vmapped over samples), then J J^T;
  - factorised: ``layer_grams`` (vmapped per-sample deltas, (delta delta^T) * (h h^T)), what the pipeline runs.
Each case runs in its own process, so its peak resident memory (ru_maxrss) is its own. Prints seconds, the ratios
loop / batched measured in this run, the largest difference between the methods, and peak memory.

    python benchmarks/geometry_jacobian.py [--threads 2] [--device cpu|cuda]
"""

import argparse
import multiprocessing
import resource
import time

import torch

from dltheory.geometry.jacobian import layer_grams, parameter_jacobian
from dltheory.geometry.mlp import MlpSpec, init_params

# (label, spec, samples): the default config's largest shapes per family.
CASES = [
    ("batchnorm, M=1024, T=100, C=1", dict(input_dim=100, width=1024, hidden_layers=3, output_dim=1), 100),
    ("batchnorm hidden BN, M=1024, T=100", dict(input_dim=100, width=1024, hidden_layers=3, output_dim=1,
                                                normalization="hidden_batch_norm"), 100),
    ("natgrad, M=1024, N=100, C=1 (NTK)", dict(input_dim=64, width=1024, hidden_layers=2, output_dim=1,
                                                parametrization="ntk"), 100),
    ("spectra, M=1000, N=100, C=10", dict(input_dim=100, width=1000, hidden_layers=3, output_dim=10), 100),
]


def loop_grams(spec, params, x):
    """The reference: one backward pass per (sample, output) row."""
    leaves = {name: weight.clone().requires_grad_(True) for name, weight in params.items()}
    from dltheory.geometry.mlp import forward

    rows = {name: [] for name in spec.names}
    for sample in x:
        output = forward(spec, leaves, sample[None])[0]
        for c in range(spec.output_dim):
            grads = torch.autograd.grad(output[c], [leaves[n] for n in spec.names], retain_graph=True)
            for name, g in zip(spec.names, grads, strict=True):
                rows[name].append(g.reshape(-1))
    return torch.stack([torch.stack(rows[n]) @ torch.stack(rows[n]).T for n in spec.names])


def vmap_grams(spec, params, x):
    parts = parameter_jacobian(spec, params, x, chunk_size=16)
    return torch.stack([parts[n] @ parts[n].T for n in spec.names])


METHODS = {"loop": loop_grams, "vmap": vmap_grams, "factorised": layer_grams}


def measure(case_index, method, threads, device, queue):
    torch.set_num_threads(threads)
    _, spec_fields, samples = CASES[case_index]
    spec = MlpSpec(**spec_fields)
    generator = torch.Generator().manual_seed(0)
    # Warm up on a tiny network of the same kind: torch.func's first call costs about 1.5 s of tracing.
    tiny = MlpSpec(**{**spec_fields, "input_dim": 3, "width": 4})
    METHODS[method](tiny, init_params(tiny, generator), torch.randn(5, 3, dtype=torch.float64))
    params = {n: w.to(device) for n, w in init_params(spec, generator).items()}
    x = torch.randn(samples, spec.input_dim, generator=generator, dtype=torch.float64).to(device)
    start = time.perf_counter()
    grams = METHODS[method](spec, params, x)
    if device == "cuda":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    peak_gib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    if device == "cuda":
        peak_gib = torch.cuda.max_memory_allocated() / 2**30
    queue.put((seconds, peak_gib, grams.cpu().numpy()))  # numpy: torch tensors travel as fds that die with us


def run(case_index, method, threads, device):
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=measure, args=(case_index, method, threads, device, queue))
    process.start()
    result = queue.get()
    process.join()
    return result


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    memory = "CUDA allocated" if args.device == "cuda" else "process RSS"
    print(f"threads={args.threads} device={args.device}; peak memory = {memory}")
    for index, (label, spec_fields, samples) in enumerate(CASES):
        spec = MlpSpec(**spec_fields)
        jacobian_gib = samples * spec.output_dim * sum(a * b for a, b in spec.layer_shapes) * 8 / 2**30
        methods = list(METHODS)
        if spec.normalization == "hidden_batch_norm":
            methods = ["factorised"]  # samples are coupled: per-sample rows do not exist
        elif jacobian_gib > 8:
            methods = ["factorised"]
            print(f"\n({label}: the explicit Jacobian would take {jacobian_gib:.0f} GiB; factorised only)")
        results = {m: run(index, m, args.threads, args.device) for m in methods}
        reference = results["factorised"][2]
        print(f"\n{label}")
        for method, (seconds, peak, grams) in results.items():
            error = float(abs(grams - reference).max() / abs(reference).max())
            print(f"  {method:>10}: {seconds:8.2f} s   peak {peak:5.2f} GiB   max rel. difference {error:.1e}")
        if "loop" in results:
            loop = results["loop"][0]
            print(f"  loop / vmap = {loop / results['vmap'][0]:.1f}x, loop / factorised = "
                  f"{loop / results['factorised'][0]:.1f}x")
        elif "vmap" in results:
            print(f"  vmap / factorised = {results['vmap'][0] / results['factorised'][0]:.1f}x")


if __name__ == "__main__":
    main()
