"""What a job asks of a cluster (workflow/profiles/slurm), and whether the cluster has a node that can give it.

Each submitted rule has a request at paper scale (config/paper.yaml): memory, runtime, and whether it trains networks
on the config's device. The config in use scales it by the size of its family's largest job (the ``JOB_SIZE``
measures below) relative to the paper's, over a floor that a smoke-sized job needs. A job that trains networks on
the config's device declares one ``gpu`` unless the config says ``device: cpu`` (``auto`` uses a GPU where there is
one); a job that solves linear estimators declares one only with ``linear_device: cuda`` (their numpy path is the
default and needs no GPU). SLURM then asks a GPU for those jobs and for no other, and a local run on a GPU node given
``--resources gpu=1`` runs one such job at a time instead of several on one GPU uncoordinated (without
``--resources gpu=...`` a local run does not limit it). CPUs are the rule's threads: the SLURM executor asks
``--cpus-per-task`` equal to them when no ``cpus_per_task`` is set.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

# A small job in one process (Python, torch, pandas, its data): the smoke config's 45 benchmarked jobs peaked at
# 0.49 GB resident and 22 s (make test-slurm, loaded machine), the default config's at 1.4 GB (batchnorm's hidden
# batch norm) and 2 minutes; and the shortest runtime worth asking of a queue.
MEM_FLOOR_MB = 2000
RUNTIME_FLOOR_MIN = 15
# The paper requests assume config/paper.yaml's threads_per_job; fewer threads ask proportionally more time.
PAPER_THREADS = 4


@dataclass(frozen=True)
class PaperRequest:
    family: str
    mem_mb: int  # at config/paper.yaml
    runtime: int  # minutes, at config/paper.yaml with PAPER_THREADS threads
    device: bool = False  # trains networks with torch on the config's device (a GPU unless it is cpu)
    linear: bool = False  # solves linear estimators on the config's linear_device (a GPU when it is cuda)


# Every rule that runs as a cluster job (the others are localrules: collect, notebooks, report). The paper requests
# are estimates with headroom, not measurements (a paper-scale run takes hours on a GPU): raise one with
# --set-resources RULE:mem_mb=... when a job is killed for memory or time; a retry asks twice as much.
PAPER_REQUESTS = {
    "nonsmooth_simulate": PaperRequest("nonsmooth", 8000, 60),
    "nonsmooth_fit_linear": PaperRequest("nonsmooth", 32000, 240, linear=True),
    "nonsmooth_train_dnn": PaperRequest("nonsmooth", 32000, 240, device=True),
    "region_simulate": PaperRequest("region", 8000, 60),
    "region_fit_linear": PaperRequest("region", 32000, 240, linear=True),
    "region_train_dnn": PaperRequest("region", 32000, 240, device=True),
    "intrinsic_simulate": PaperRequest("intrinsic", 8000, 60),
    "intrinsic_train_dnn": PaperRequest("intrinsic", 16000, 120, device=True),
    "intrinsic_fit_baseline": PaperRequest("intrinsic", 8000, 60),
    "gan_train_classifier": PaperRequest("gan", 8000, 60),
    "gan_train": PaperRequest("gan", 16000, 240, device=True),
    "causal_meta_train": PaperRequest("causal", 16000, 240, device=True),
    "causal_score_network": PaperRequest("causal", 32000, 720, device=True),
    "causal_score_baselines": PaperRequest("causal", 16000, 240),
    "causal_time": PaperRequest("causal", 8000, 120, device=True),
    # Measured at paper scale, one seed (the seeds run one after another): 1.9 GB peak at width 4096 (T = 2048),
    # 2.1 GB for hidden-layer BN at width 512; torch on the CPU only, so no GPU whatever the device.
    "batchnorm_measure": PaperRequest("batchnorm", 8000, 240),
    "natgrad_train": PaperRequest("natgrad", 32000, 120, device=True),
    "spectra_measure": PaperRequest("spectra", 8000, 60),
    "isometry_measure": PaperRequest("isometry", 8000, 60),
    "embedding_measure": PaperRequest("embedding", 4000, 60),
    "embedding_deep": PaperRequest("embedding", 32000, 240, device=True),
    "overparam_random_features": PaperRequest("overparam", 8000, 60),
    "overparam_train_networks": PaperRequest("overparam", 16000, 120, device=True),
    "resinit_measure": PaperRequest("resinit", 16000, 120, device=True),
    "selfpaced_train": PaperRequest("selfpaced", 8000, 180, device=True),
}


def _learning_rates(gan) -> int:
    return sum(len(rates) for rates in gan.learning_rates.values())


def _embedding_size(s) -> int:
    """The shallow fits plus, where it is on, the deep part (width^2 per layer of each network)."""
    shallow = len(s.activations) * len(s.inputs) * s.teachers * len(s.narrow_widths) * s.restarts
    d = s.deep
    deep = len(d.activations) * len(d.widths) * d.seeds * max(d.widths) ** 2 * d.hidden_layers if d.enabled else 0
    return shallow + deep


# The size of a family's largest job, from its settings: what its memory and time grow with.
JOB_SIZE = {
    "nonsmooth": lambda s: s.replicates * max(s.sizes),
    "region": lambda s: len(s.cell_specs()) * s.replicates * max(s.sizes),
    "intrinsic": lambda s: max(s.sphere.replicates * max(s.sphere.sizes), s.balls.replicates * max(s.balls.sizes)),
    "gan": lambda s: s.seeds * s.toy.steps * s.toy.batch_size * _learning_rates(s) * len(s.activations),
    "causal": lambda s: s.test_pairs * max(s.sizes),
    "batchnorm": lambda s: max(s.widths) ** 2 * s.replicates,
    "natgrad": lambda s: max(*s.widths, s.width) ** 2 * s.train_size,
    "spectra": lambda s: max(s.widths) ** 2 * s.samples * s.replicates,
    "isometry": lambda s: s.width**2 * max(s.depths) * s.replicates,
    "embedding": lambda s: _embedding_size(s),
    # n x N SVDs (random features) and n-point full-batch networks: n^2 times the largest N or width, per seed
    "overparam": lambda s: s.replicates * s.train**2 * max(*s.mlp.widths,
                                                             round(max(s.random_features.ratios) * s.train)),
    # the sweep's batched SGD dominates: width^2 x depth per network and step, every scale and seed at once
    "resinit": lambda s: s.sweep.width**2 * max(s.sweep.depths) * len(s.sweep.scales) * s.sweep.replicates
    * s.sweep.steps,
    # sizes_per_job training sizes per job, in turn: every run of every seed as one batched model, for the steps
    "selfpaced": lambda s: s.sizes_per_job * s.replicates * s.training.steps * s.training.width**2 * (
        1 + len(s.randaugment.ops) * len(s.randaugment.magnitudes) + len(s.augmentations) * (1 + 2 * len(s.taus))),
}
# JOB_SIZE of config/paper.yaml (tests/test_slurm_profile.py checks them against the file).
PAPER_JOB_SIZE = {
    "nonsmooth": 1_310_720,
    "region": 5_120_000,
    "intrinsic": 100_000,
    "gan": 307_200_000,
    "causal": 300_000,
    "batchnorm": 167_772_160,
    "natgrad": 1_677_721_600,
    "spectra": 4_000_000_000,
    "isometry": 67_108_864,
    "embedding": 788_736,
    "overparam": 6_400_000_000,
    "resinit": 2_752_512_000,
    "selfpaced": 52_428_800_000,
}


@dataclass(frozen=True)
class JobRequest:
    mem_mb: int
    runtime: int  # minutes
    gpu: int


def job_request(rule: str, settings: Mapping) -> JobRequest:
    """What a job of ``rule`` asks under the validated ``settings`` (``validate_config``'s result): the paper
    request scaled by the job size relative to the paper's, never below the floors."""
    if rule not in PAPER_REQUESTS:
        raise KeyError(f"rule {rule!r} has no cluster request in dltheory.cluster.PAPER_REQUESTS")
    paper = PAPER_REQUESTS[rule]
    run = settings["run"]
    family = settings.get(paper.family)  # None when the family is off: its rules run no job
    scale = JOB_SIZE[paper.family](family) / PAPER_JOB_SIZE[paper.family] if family else 0.0
    slower = max(1.0, PAPER_THREADS / run.threads_per_job)
    return JobRequest(
        mem_mb=math.ceil(MEM_FLOOR_MB + (paper.mem_mb - MEM_FLOOR_MB) * scale),
        runtime=math.ceil(RUNTIME_FLOOR_MIN + (paper.runtime - RUNTIME_FLOOR_MIN) * scale * slower),
        gpu=1 if (paper.device and run.device != "cpu") or (paper.linear and run.linear_device == "cuda") else 0,
    )


# --- does the cluster have a node for every job? (sinfo, before the first submission) ---

SINFO_FORMAT = "%P|%c|%m|%G|%l"  # partition, CPUs, memory (MB), generic resources, time limit; one line per node


@dataclass(frozen=True)
class Node:
    partition: str
    cpus: int
    mem_mb: int
    gpus: int
    time_limit: float  # minutes; inf when unlimited


def _minutes(limit: str) -> float:
    """A SLURM time limit ([days-]hours:minutes:seconds, minutes:seconds, or infinite) in minutes."""
    if limit in ("infinite", "UNLIMITED", "n/a", ""):
        return math.inf
    days, _, clock = limit.rpartition("-")
    parts = [int(p) for p in clock.split(":")]
    hours, minutes, seconds = ([0] * (3 - len(parts)) + parts) if len(parts) > 1 else (0, parts[0], 0)
    return (int(days or 0) * 24 + hours) * 60 + minutes + seconds / 60


def _gpus(gres: str) -> int:
    """GPUs in a node's GRES (``gpu:2``, ``gpu:a100:4(S:0-1)``, ``(null)``)."""
    count = 0
    for item in gres.split(","):
        fields = item.split("(")[0].split(":")
        if fields[0] == "gpu":
            count += int(fields[-1]) if len(fields) > 1 and fields[-1].isdigit() else 1
    return count


def parse_sinfo(text: str) -> list[Node]:
    """Nodes from ``sinfo -h -N -o '%P|%c|%m|%G|%l'`` (the default partition carries a ``*``)."""
    nodes = []
    for line in text.splitlines():
        if not line.strip():
            continue
        partition, cpus, mem, gres, limit = line.strip().split("|")
        nodes.append(Node(partition.rstrip("*"), int(cpus.rstrip("+")), int(mem.rstrip("+")), _gpus(gres),
                          _minutes(limit)))
    return nodes


def unschedulable(jobs, nodes: list[Node]) -> list[str]:
    """One line per rule whose job no node can run: ``jobs`` are (rule, partition or None, cpus, mem_mb, runtime,
    gpus) tuples; a job fits a node of its partition (any partition when None) with enough of everything."""
    problems = {}
    for rule, partition, cpus, mem_mb, runtime, gpus in jobs:
        candidates = [n for n in nodes if partition in (None, n.partition)]
        if any(n.cpus >= cpus and n.mem_mb >= mem_mb and n.gpus >= gpus and n.time_limit >= runtime
               for n in candidates):
            continue
        if rule in problems:
            continue
        where = f"partition {partition!r}" if partition else "any partition"
        if not candidates:
            problems[rule] = f"{rule}: partition {partition!r} does not exist (sinfo lists none of its nodes)"
            continue
        limit = max(n.time_limit for n in candidates)
        problems[rule] = (
            f"{rule}: asks {cpus} CPUs, {mem_mb} MB, {runtime} min, {gpus} GPUs; nodes in {where} have at most "
            f"{max(n.cpus for n in candidates)} CPUs, {max(n.mem_mb for n in candidates)} MB, "
            f"{max(n.gpus for n in candidates)} GPUs, a limit of {'none' if math.isinf(limit) else f'{limit:g} min'}"
        )
    return sorted(problems.values())
