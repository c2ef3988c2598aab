"""CGNN's MMD, tiled against fused: seconds per training step's loss and gradient, and what the fused kernel stores.

    python benchmarks/cgnn_mmd.py [--device cpu|cuda] [--n 500] [--pairs 1] [--runs 6] [--repeats 5]

One step is ``cgnn_mmd_squared`` (the tiled path, ``fused_mmd: off``) or ``fused_cgnn_mmd_squared`` (torch.compile,
``fused_mmd: on``/``auto`` on CUDA) on pairs x 2 directions x runs models of n points, with the gradient, as in a
training epoch; the first fused call compiles and is timed apart. Then the buffers the compiled code allocates: on
CUDA none of n x n per model should appear (the point of fusing); on a CPU inductor stores the exponentials of a
row tile (``cgnn.FUSED_COMPILE_OPTIONS``), which ``fused_cgnn_mmd_squared`` bounds with row tiles.
"""

import argparse
import re
import sys
import time

import torch
from torch._inductor.utils import run_and_get_code

from dltheory.causal import cgnn
from dltheory.causal.mmd import CGNN_GAMMAS
from dltheory.runtime import seconds_per_call


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--n", type=int, default=500)
    parser.add_argument("--pairs", type=int, default=1)
    parser.add_argument("--runs", type=int, default=6)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    device = torch.device(args.device)
    fits, n = 2 * args.pairs, args.n
    generator = torch.Generator().manual_seed(0)
    cause, effect = (torch.randn(fits, 1, n, generator=generator).to(device) for _ in range(2))
    generated = torch.randn(fits, args.runs, n, generator=generator).to(device)
    cause_gap = (cause[..., :, None] - cause[..., None, :]).square()
    observed = cgnn._observed_term(cause, effect, CGNN_GAMMAS, cgnn.FUSED_CPU_TILE_ELEMENTS)
    tile = cgnn.gram_tile_elements(device)

    def tiled():
        return cgnn.cgnn_mmd_squared(generated, effect, cause_gap, observed, CGNN_GAMMAS, True, tile)

    def fused():
        return cgnn.fused_cgnn_mmd_squared(generated, effect, cause, observed, CGNN_GAMMAS, True)

    start = time.perf_counter()
    (value, gradient), codes = run_and_get_code(fused)
    compile_seconds = time.perf_counter() - start
    reference, reference_gradient = tiled()
    value_error = float(((value - reference).abs() / reference.abs()).max())
    gradient_error = float((gradient - reference_gradient).abs().max() / reference_gradient.abs().max())
    tiled_seconds = seconds_per_call(tiled, device, args.repeats)
    fused_seconds = seconds_per_call(fused, device, args.repeats)
    print(f"{device.type}: {fits * args.runs} models, n = {n}, one step's loss and gradient, {args.repeats} repeats, "
          f"{torch.get_num_threads()} threads")
    print(f"  tiled {tiled_seconds * 1e3:.1f} ms, fused {fused_seconds * 1e3:.1f} ms: fused/tiled "
          f"{fused_seconds / tiled_seconds:.2f} (first fused call, compiling: {compile_seconds:.1f} s)")
    print(f"  fused against tiled: value {value_error:.1e} relative, gradient {gradient_error:.1e} of its largest")
    allocations = [m.group(1) for code in codes for m in re.finditer(r"empty_strided_\w+\(\(([^)]*)\)", code)]
    square = [shape for shape in allocations if len([d for d in shape.split(",") if d.strip()]) >= 4]
    print(f"  compiled code allocates {len(allocations)} buffers, {len(square)} of rows x columns per model"
          + (" (CPU: the stored exponentials of one row tile)" if device.type == "cpu" and square else ""))
    return 1 if device.type == "cuda" and square else 0


if __name__ == "__main__":
    sys.exit(main())
