"""What every pipeline job does first: log to its log file, and use only the threads it was given."""

import ctypes
import logging
import os
import sys

_thread_limits = []  # keeps threadpoolctl's limit alive for the life of the job


def start_job(log_path: str | None, threads: int = 1) -> logging.Logger:
    """Send logging and stderr to ``log_path`` and cap torch and BLAS threads at ``threads``.

    Torch and OpenBLAS otherwise use every core they see, and parallel Snakemake jobs oversubscribe.
    """
    if log_path:
        stream = open(log_path, "w", buffering=1)  # stays open for the life of the job
        sys.stderr = stream
    logging.basicConfig(
        stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s",
        force=True,
    )
    import os

    from threadpoolctl import threadpool_limits

    # A job that never imports torch (the classical causal baselines) does not pay for it: torch reads
    # OMP_NUM_THREADS when it is first imported, and one imported already is capped here.
    os.environ["OMP_NUM_THREADS"] = str(threads)
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(threads)
    _thread_limits.append(threadpool_limits(threads))
    reuse_freed_memory()
    return logging.getLogger("dltheory")


def reuse_freed_memory() -> bool:
    """Keep large freed blocks in the process heap instead of returning them to the kernel (glibc only).

    Torch on CPU allocates and frees its large buffers (gradients, Adam's temporaries) at every step. glibc
    serves blocks above 128 KiB with a fresh mmap and unmaps them on free, so every step page-faults its
    buffers in again: for 50 batched 8 x 216 MLPs that was half of the run time, spent in the kernel
    (0.52 s per step against 0.22 s with this, measured on the 2-core CPU machine). Returns whether it applied.
    """
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc (macOS, musl): nothing to tune
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3  # mallopt parameter numbers from glibc's malloc.h
    return bool(libc.mallopt(m_mmap_threshold, 1 << 30)) and bool(libc.mallopt(m_trim_threshold, 2**31 - 1))


def _no_gpu_driver() -> bool:
    """True on Linux when no NVIDIA or AMD GPU driver is loaded (nor WSL's GPU bridge): torch could see no GPU."""
    if not sys.platform.startswith("linux"):
        return False
    markers = ("/proc/driver/nvidia/version", "/dev/nvidiactl", "/dev/dxg", "/dev/kfd")
    return not any(os.path.exists(path) for path in markers)


def linear_solver_device(name: str) -> str | None:
    """Where the linear estimators solve under the config's ``linear_device``: None (numpy/scipy) for ``cpu``, and for
    ``auto`` without a GPU, so that a CPU run's numbers are the numpy path's to the bit; else the CUDA device's name.

    ``cpu``, and ``auto`` on a machine without a GPU driver, decide without importing torch: the linear estimators'
    jobs are otherwise torch-free, and importing it costs ~2 s of CPU per job.
    """
    if name == "cpu" or (name == "auto" and "torch" not in sys.modules and _no_gpu_driver()):
        return None
    device = resolve_device(name)
    return None if device.type == "cpu" else str(device)


def resolve_device(name: str):
    """The torch device of a config's ``device``: ``auto`` picks CUDA when present; ``cuda`` without a GPU is an
    error that says so."""
    import torch

    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("config device is 'cuda' but torch sees no CUDA device; use 'auto' or 'cpu'")
    return torch.device(name)


def seconds_per_call(call, device, repeats: int, warm_up: int = 0) -> float:
    """Mean wall seconds of ``call()`` over ``repeats`` calls, after ``warm_up`` untimed ones (the benchmarks' clock).

    On CUDA the queue is drained before and after the timed calls, so the GPU's work is counted, not only its launch.
    """
    import time

    import torch

    def synchronize():
        if torch.device(device).type == "cuda":
            torch.cuda.synchronize()

    for _ in range(warm_up):
        call()
    synchronize()
    start = time.perf_counter()
    for _ in range(repeats):
        call()
    synchronize()
    return (time.perf_counter() - start) / repeats
