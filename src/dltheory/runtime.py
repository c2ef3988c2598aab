"""What every pipeline job does first: log to its log file, and use only the threads it was given."""

import logging
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
    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(threads)
    _thread_limits.append(threadpool_limits(threads))
    return logging.getLogger("dltheory")
