"""What a config costs before it is launched: FLOPs, bytes and seconds per family on one H100 and its 16 CPU cores.

    python benchmarks/paper_budget.py [CONFIG ...] [--measure]

CONFIG files are layered on config/config.yaml as the Snakefile layers ``--configfile`` (default: config/paper.yaml).
The estimate is arithmetic on the config, no training: each family's dominant work as FLOPs (and bytes where memory
bound), turned into seconds with the rates below. Upper bounds where training stops early: every DNN is counted for
its ``max_steps``; early stopping and the batch compaction of ``dltheory.nn.training`` only cut that. ``--measure``
(on a CUDA machine) times one representative training step per DNN family and prints it beside the estimate.

Cost model (per family, what dominates):
- DNN regression (nonsmooth, region, intrinsic): forward + backward + Adam ~ 6 x parameters x samples per step, plus
  validation (2 x parameters x n_val per evaluation) and test prediction. Batching as the code does it: one unpadded
  batch per (depth, width) (``BucketedMLP``); the padded rule (every model at its batch's largest width and depth) is
  printed beside it, as it was before bucketing. Kernel launches: ~6 per layer per bucket per step; a family's GPU
  time is the longer of its GPU work and its launches (they overlap).
- Linear estimators (nonsmooth, region): 2 m^2 n + 9 m^3 per bandwidth (m = n exact, else the Nystroem m: the
  features and an eigendecomposition with vectors) for kernel ridge; the GP's marginal likelihood ~ (1 + restarts)
  x 30 evaluations x m^3; least squares n p^2 + p^3 on p <= max_features for Fourier and splines; k-NN n^2 D.
  Float64: on the CPU (calibrated below) with linear_device: cpu, else kernel ridge's torch path (fp64, GPU).
- CGNN: its MMD fused (fused_mmd: auto on a GPU, issue 26), compute bound at ~160 FLOP-equivalents per Gram entry
  (n^2 entries per model per epoch; ``CGNN_FLOPS_PER_ENTRY``); its tiled fallback (fused_mmd: off, or a failed
  compile) memory bound at ~200 bytes moved per entry. Meta-CGNN: its random-feature MMD and encoder, ~ 6 x
  parameters x points per task.
- GAN: 6 x (generator + discriminator parameters) x batch x steps; exact W1 (network simplex, n_eval points) on the
  CPU at 0.2 s per call at n = 1,000 (gan/metrics.py: 0.1-0.3 s), 2 calls per model (step 0 and the last).
- Selfpaced: its networks on the device (FLOPs and launches), its augmentations on the CPU (images augmented,
  scaled from the default run's measured host share).
- Geometry, embedding, overparam, resinit: dominant-term counts (Jacobians, Gram matrices, training steps), each
  commented where it is computed.
"""

import argparse
import functools
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

# --- Rates (stated, not measured here) -----------------------------------------------------------------------------
# H100 SXM: fp32 (no tensor cores) 67 TFLOP/s peak; we take 50 and a 30 % achieved fraction for batched MLPs of
# widths 30-1,000 and mini-batches of 32-256 (bmm at these shapes reaches 20-40 % of peak). TF32 (matmul_precision:
# high) 495 TFLOP/s dense peak; 10 % achieved at these shapes (the non-matmul work, ReLU, Adam, loss, stays fp32).
# fp64 tensor-core peak ~ 50-67 TFLOP/s: 50 % achieved in large GEMM-bound solves (Cholesky, Nystroem), 10 % in
# eigendecompositions. HBM 3.35 TB/s peak, 60 % achieved in elementwise kernels. A kernel launch ~ 8 us.
GPU_FP32 = 50e12 * 0.30
GPU_TF32 = 495e12 * 0.10
GPU_FP64_SOLVE = 50e12 * 0.50
GPU_FP64_EIGH = 50e12 * 0.10
GPU_BYTES = 3.35e12 * 0.60
GPU_LAUNCH_S = 8e-6  # host time per eager PyTorch op (dispatch and launch)
CGNN_BYTES_PER_ENTRY = 200  # issue 26: the tiled MMD's Gram tiles move ~200 B per entry (5 bandwidths, fwd + bwd)
CPU_CORES = 16  # the H100 machine's cores; CPU-bound jobs (linear estimators, W1, numpy families) share them
# CPU fp64 rate per core, calibrated on the default run (config/config.yaml; 2-core CPU, 1 thread per job, its
# results/benchmarks/*.tsv): the nonsmooth kernel ridge, Fourier and spline jobs (jump2d, smooth2d) and region's
# Fourier job took 9.3-54 s for the FLOPs this model gives them, 24-53 GFLOP/s per job, 40 over all (LAPACK at
# these sizes, CV bookkeeping and Python included). A 16-core server core is no slower; we keep 40.
CPU_FP64 = 40e9
# CPU work measured on the default run (config/config.yaml, 2-core CPU, 1 thread per job): job-seconds from its
# results/benchmarks/*.tsv for the CPU-only families; for selfpaced, the host part of its 36 s (10-13 s per n job,
# 3 jobs): the augmentations, the augmentation mask, mixup and the per-step batch gathers took 32 % of its samples
# in a py-spy profile of the default run (2026-12-07), 11.5 s. A config's seconds are these times the ratio of its
# dominant-term work (``cpu_work``) to the default's.
DEFAULT_SECONDS = {"batchnorm": 46.5, "spectra": 10.8, "isometry": 30.1, "selfpaced": 36.0 * 0.32}
W1_SECONDS = 0.2  # one exact W1 at n = 1,000 on one core (gan/metrics.py docstring: 0.1-0.3 s)
W1_POINTS = 1000


@dataclass(frozen=True)
class Paths:
    """Which code paths the estimate assumes: as the code is, or with issue 26's GPU paths (other changes)."""

    linear_on_gpu: bool = False  # kernel ridge / Nystroem in torch, fp64, on the GPU
    cgnn_fused: bool = False  # CGNN's MMD without materialising the Gram matrix: compute bound, not memory bound


# The fused MMD (dltheory.causal.cgnn._fused_terms, the expression torch.compile turns into one kernel), counted per
# Gram entry (i, j) of one model, both blocks (generated-generated and generated-observed), in fp32 operations:
# the cause gap (c_i - c_j)^2, 2 (shared by the blocks); per block the difference r_i - q_j, its square and the gap
# added, 3; per block and gamma (5 of them) the product -gamma * s, the floor (max), exp, the kernel's add, the
# slope's multiply and add, 6 with exp counted once; per block the three reductions' work (kernel sum, slope times
# difference, its sum), 3. Training and test epochs run the same graph (the gradient is formed in both). That is
# 2 + 2 x (3 + 5 x 6 + 3) = 74 operations, of which 10 exps. On an H100 an fp32 exp is a multiply (by log2 e) on
# the FP32 lanes plus an ex2 on the special-function units, which issue 16 per SM and clock against 128 FP32 lanes:
# 74 + 10 = 84 lane operations and 10 x 8 = 80 lane-equivalents of SFU time, on separate pipes, so ~84 lane slots
# per entry. A lane slot is 2 FLOP of the FP32 peak (which counts a fused multiply-add as 2): ~160 FLOP-equivalents
# per entry at ``GPU_FP32``'s achieved fraction. An estimate from the expression, not a measurement on the GPU.
CGNN_FLOPS_PER_ENTRY = 160


@dataclass
class Cost:
    """One family's work: FLOPs and bytes on the GPU, kernel launches, and CPU work (fp64 FLOPs at the calibrated
    rate, or seconds), with the number of jobs that CPU work is split into (its parallelism)."""

    family: str
    gpu_flops: float = 0.0
    gpu_flops_padded: float = 0.0  # the DNNs as one padded batch per job computed them (reference only)
    gpu_bytes: float = 0.0
    launches: float = 0.0
    tf32: bool = False
    cgnn_entries: float = 0.0  # Gram entries CGNN evaluates (models x epochs x n^2)
    linear_flops: float = 0.0  # the part of cpu_flops a torch fp64 path moves to the GPU (kernel ridge)
    linear_gpu_seconds: float = 0.0  # that part's seconds on the GPU (GEMMs and eigendecompositions at their rates)
    cpu_flops: float = 0.0  # fp64 on the CPU cores
    cpu_seconds: float = 0.0  # CPU work counted in seconds directly (W1, and the CPU-only families once scaled)
    cpu_work: float = 0.0  # CPU-only families: dominant-term FLOPs, scaled by the default run's measured seconds
    cpu_jobs: int = 0  # jobs the CPU work is split into; each runs on threads_per_job cores
    largest_job_share: float = 0.0  # the largest job's share of the CPU work, where the jobs are unequal (0: equal)

    def gpu_seconds(self, paths: Paths) -> float:
        rate = GPU_TF32 if self.tf32 else GPU_FP32
        # Eager PyTorch queues kernels ahead of the GPU: a step costs the longer of its GPU work and the host's time
        # to launch it (the two overlap), not their sum.
        seconds = max(self.gpu_flops / rate + self.gpu_bytes / GPU_BYTES, self.launches * GPU_LAUNCH_S)
        if paths.cgnn_fused:
            seconds += self.cgnn_entries * CGNN_FLOPS_PER_ENTRY / GPU_FP32
        else:
            seconds += self.cgnn_entries * CGNN_BYTES_PER_ENTRY / GPU_BYTES
        if paths.linear_on_gpu:
            seconds += self.linear_gpu_seconds
        return seconds

    def cpu_core_seconds(self, paths: Paths) -> float:
        flops = self.cpu_flops - (self.linear_flops if paths.linear_on_gpu else 0.0)
        return flops / CPU_FP64 + self.cpu_seconds

    def cpu_wall_seconds(self, paths: Paths, threads: int) -> float:
        """The family's CPU work alone on the machine: over its jobs, each on ``threads`` cores, at most all cores;
        and no less than its largest job's work on its ``threads`` cores."""
        core_seconds = self.cpu_core_seconds(paths)
        spread = core_seconds / min(CPU_CORES, max(1, self.cpu_jobs) * threads)
        return max(spread, core_seconds * self.largest_job_share / min(CPU_CORES, threads))


# --- DNN regression -------------------------------------------------------------------------------------------------


def mlp_parameters(in_dim: int, depth: int, width: int, outputs: int = 1) -> int:
    """Parameters of a ReLU MLP with ``depth`` hidden layers of ``width`` (as BatchedArchitecture.parameter_counts)."""
    return (in_dim + 1) * width + (depth - 1) * (width * width + width) + (width + 1) * outputs


def dnn_batch_cost(in_dim: int, architectures: list[tuple[int, int]], sizes: list[int], settings, n_test: int,
                   cost: Cost) -> None:
    """One batched training (one job's batch): ``architectures[i]`` is (depth, width) of model i, ``sizes[i]`` its n.

    Training: 6 x parameters x batch_size per step for max_steps; validation: 2 x parameters x n_val every
    eval_every steps; test: 2 x parameters x n_test once. Bucketed: every model at its own size; padded: at the
    batch's largest width and depth."""
    steps, evaluations = settings.max_steps, settings.max_steps / settings.eval_every
    max_depth = max(d for d, _ in architectures)
    max_width = max(w for _, w in architectures)
    padded = mlp_parameters(in_dim, max_depth, max_width)
    for (depth, width), n in zip(architectures, sizes, strict=True):
        n_val = max(1, round(n * settings.validation_fraction))
        work = 6 * settings.batch_size * steps + 2 * n_val * evaluations + 2 * n_test
        cost.gpu_flops += mlp_parameters(in_dim, depth, width) * work
        cost.gpu_flops_padded += padded * work
    buckets = len(set(architectures))
    cost.launches += steps * (buckets * 6 * (max_depth + 1) + 10)
    cost.tf32 = cost.tf32 or settings.matmul_precision == "high"


def nonsmooth_dnn(section, cost: Cost) -> None:
    from dltheory.nonsmooth.targets import target_from_config

    if "dnn" not in section.estimators:
        return
    for spec in section.targets:
        target = target_from_config(spec)
        jobs = [n for _ in range(section.replicates) for n in section.sizes]
        architectures = [section.dnn.architecture_for(n, target.dim, target.alpha, target.beta, target.pieces)
                         for n in jobs]
        dnn_batch_cost(target.dim, architectures, jobs, section.dnn, section.n_test, cost)


def region_dnn(section, cost: Cost) -> None:
    from dltheory.nonsmooth.targets import target_from_config

    targets = [target_from_config(spec) for spec in section.cell_specs().values()]
    for n in section.sizes:  # one batch per n, every cell and replicate in it
        architectures = [section.dnn.architecture_for(n, t.dim, t.alpha, t.beta, t.pieces)
                         for t in targets for _ in range(section.replicates)]
        dnn_batch_cost(section.dim, architectures, [n] * len(architectures), section.dnn, section.n_test, cost)


def intrinsic_dnn(section, cost: Cost) -> None:
    sphere, balls = section.sphere, section.balls
    ambient = [sphere.ambient_dim] * len(sphere.intrinsic_dims) + list(sphere.control.ambient_dims)
    jobs = [n for _ in range(sphere.replicates) for n in sphere.sizes]
    for dim in ambient:  # one job per setting, every (n, replicate) in one batch
        dnn_batch_cost(dim, [(sphere.dnn.depth, sphere.dnn.width)] * len(jobs), jobs, sphere.dnn, section.n_test,
                       cost)
    jobs = [n for _ in range(balls.replicates) for n in balls.sizes]
    for _ in balls.intrinsic_dims:
        for network in balls.networks.values():
            training = balls.training
            dnn_batch_cost(balls.ambient_dim, [(network.depth, network.width)] * len(jobs), jobs, training,
                           section.n_test, cost)


# --- Linear estimators ------------------------------------------------------------------------------------------------

GP_EVALUATIONS = 30  # marginal-likelihood evaluations per restart (L-BFGS on 2-3 hyperparameters)


def linear_fit_flops(method: str, n: int, dim: int, params: dict) -> tuple[float, float]:
    """(FLOPs of one fit on the CPU, seconds of it on the GPU where a torch fp64 path exists, else 0)."""
    if method == "kernel_ridge":
        bandwidths = len(params.get("bandwidths", (0.025, 0.05, 0.1, 0.2, 0.4, 0.8)))
        m = min(n, n if n <= params.get("exact_max_n", 1024) else params.get("n_components", 1024))
        # Per bandwidth: the features or kernel (n m^2, twice: triangular solve and Phi'Phi) and a full
        # eigendecomposition (~9 m^3 with vectors).
        gemm, eigh = bandwidths * 2 * m * m * n, bandwidths * 9 * m**3
        return gemm + eigh, gemm / GPU_FP64_SOLVE + eigh / GPU_FP64_EIGH
    if method == "gaussian_process":
        m_ml = min(n, params.get("max_n_marginal_likelihood", 512))
        m = n if n <= params.get("exact_max_n", 1024) else params.get("n_components", 1024)
        flops = (1 + params.get("n_restarts", 0)) * GP_EVALUATIONS * m_ml**3 + m * m * n + m**3 / 3
        return flops, 0.0
    if method in ("fourier", "spline"):
        p = min(params.get("max_features", 2048), n)
        grid = 1 if method == "fourier" else params.get("max_grid_size", 13)
        return grid * (n * p * p + p**3) / (1 if method == "fourier" else 8), 0.0  # splines: banded, ~1/8 dense
    if method == "knn":
        return n * n * dim + params.get("max_neighbors", 50) * n, 0.0
    raise ValueError(f"no cost model for linear estimator {method!r}")


def nonsmooth_linear(section, cost: Cost) -> None:
    from dltheory.nonsmooth.targets import target_from_config

    for spec in section.targets:
        dim = target_from_config(spec).dim
        for method in section.estimators:
            if method == "dnn":
                continue
            params = section.estimator_params.get(method, {})
            for n in section.sizes:
                flops, gpu_seconds = linear_fit_flops(method, n, dim, params)
                cost.cpu_flops += section.replicates * flops
                if gpu_seconds:
                    cost.linear_flops += section.replicates * flops
                    cost.linear_gpu_seconds += section.replicates * gpu_seconds
            cost.cpu_jobs += 1  # one job per (target, estimator)


def region_linear(section, cost: Cost) -> None:
    cells = len(section.cell_specs())
    for method in section.linear_estimators:
        params = section.estimator_params.get(method, {})
        for n in section.sizes:
            flops, gpu_seconds = linear_fit_flops(method, n, section.dim, params)
            cost.cpu_flops += cells * section.replicates * flops
            if gpu_seconds:
                cost.linear_flops += cells * section.replicates * flops
                cost.linear_gpu_seconds += cells * section.replicates * gpu_seconds
        cost.cpu_jobs += 1  # one job per estimator, every cell in it


# --- The other families -----------------------------------------------------------------------------------------------

CAUSAL_PAIRS = {"tuebingen": 99}  # the others: test_pairs


def causal(section, cost: Cost) -> None:
    cgnn = section.methods.get("cgnn")
    if cgnn is not None:
        settings = {"runs": 6, "train_epochs": 1000, "test_epochs": 1000, **cgnn.settings}
        sizes = [n for n in section.sizes if cgnn.max_size is None or n <= cgnn.max_size]
        for benchmark in cgnn.benchmarks or section.benchmarks:
            pairs = min(CAUSAL_PAIRS.get(benchmark, section.test_pairs), cgnn.max_pairs or 10**9)
            models = pairs * 2 * settings["runs"] * (cgnn.subsamples or section.subsamples)
            epochs = settings["train_epochs"] + settings["test_epochs"]
            entries = sum(n * n for n in sizes)
            cost.cgnn_entries += models * epochs * entries
            cost.launches += len(sizes) * epochs * 30
    meta = section.meta_cgnn
    model = meta.model
    parameters = 3 * model.encoder_width**2 + 2 * model.generator_width**2 + model.task_dim * model.generator_width
    points = sum(model.train_sizes) / 2
    per_step = model.tasks_per_step * points * (6 * parameters + 6 * model.random_features * 4)
    trainings = 2 + len(meta.held_out) * 2 + 1  # headline, contrast, leave-one-family-out of both, sanity
    cost.gpu_flops += trainings * model.meta_steps * per_step
    cost.launches += trainings * model.meta_steps * 60
    # ANM, IGCI, RECI: GP regressions per pair and direction on the CPU (n^3 at n <= 1,000 points).
    cost.cpu_flops += len(section.benchmarks) * section.test_pairs * 2 * sum(n**3 for n in section.sizes) * 10
    cost.cpu_jobs += len(section.benchmarks)


def gan(section, cost: Cost) -> None:
    rates = sum(len(v) for v in section.learning_rates.values())
    parts = [(section.toy, len(section.toy.datasets), 2)]
    if section.digits is not None and section.digits.enabled:
        parts.append((section.digits, 1, 64))
    for part, datasets, data_dim in parts:
        models = len(section.variants) * len(section.activations) * rates * section.seeds * datasets
        generator = mlp_parameters(part.latent_dim, part.depth, part.width, data_dim)
        discriminator = mlp_parameters(data_dim, part.depth, part.width)
        per_step = 6 * part.batch_size * (generator + (1 + section.discriminator_steps) * discriminator)
        cost.gpu_flops += models * part.steps * per_step
        cost.launches += len(section.variants) * part.steps * (part.depth + 1) * 12 * (1 + section.discriminator_steps)
        cost.cpu_seconds += models * 2 * W1_SECONDS * (part.n_eval / W1_POINTS) ** 2
        cost.cpu_jobs += len(section.variants)  # W1 runs inside each variant's training job
    sanity = section.sanity
    if sanity is not None and sanity.enabled:
        parameters = mlp_parameters(sanity.latent_dim, sanity.depth, sanity.width, 2) + mlp_parameters(
            2, sanity.depth, sanity.width)
        cost.gpu_flops += sanity.seeds * sanity.steps * 6 * sanity.batch_size * parameters * (
            1 + sanity.discriminator_steps) * 2  # gradient penalty: a second backward
        cost.cpu_seconds += sanity.seeds * (sanity.steps / sanity.eval_every + 1) * W1_SECONDS


def batchnorm(section, cost: Cost) -> None:
    # CPU only (batchnorm_measure uses no device). Per (replicate, width M), BatchnormSettings.spectra_work: the
    # factorised NTK of the largest T (T^2 M per layer for the activation and signal Grams, T M^2 per layer forward)
    # and an eigendecomposition (9 T^3) per variant and diagram size; hidden-layer BN couples the samples (T^2 M^2,
    # widths <= coupled_max_width). The spectra jobs (spectra_jobs of them) hold nearly all of it (the GD job is
    # small); the largest bounds the wall.
    parts = section.spectra_parts()
    work = {part: sum(section.spectra_work(width) for width, _ in pairs) for part, pairs in parts.items()}
    cost.cpu_work += sum(work.values())
    cost.cpu_jobs = len(parts)
    cost.largest_job_share = max(work.values()) / sum(work.values())


def natgrad(section, cost: Cost) -> None:
    # On the device. Per step of a method: per-sample factors (6 N x layers x M^2) and the factorised N x N Gram
    # (4 N^2 M per layer); K-FAC and the block methods invert M x M blocks (layers x M^3) at the approximation widths.
    for width in section.widths:
        parameters = section.layers * width * width
        per_step = 6 * section.train_size * parameters + 4 * section.train_size**2 * width * section.layers
        runs = len(section.methods) * section.steps + len(section.gd.rate_multiples) * section.gd.steps
        cost.gpu_flops += section.replicates * runs * per_step
        if width in section.approximation_widths:
            cost.gpu_flops += section.replicates * len(section.methods) * section.steps * section.layers * 9 * width**3
        cost.launches += section.replicates * runs * section.layers * 20


def spectra(section, cost: Cost) -> None:
    # CPU only. The Fisher of N samples x C outputs from factorised Grams: (N C)^2 M per layer, and its
    # eigendecomposition 9 (N C)^3, per activation, width and replicate; the input metric at input_dims likewise.
    nc = section.samples * section.outputs
    for width in section.widths:
        work = section.hidden_layers * 4 * nc * nc * width + 9 * nc**3
        cost.cpu_work += len(section.activations) * section.replicates * work
    metric = section.input_metric
    for dim in metric.input_dims:
        cost.cpu_work += section.replicates * (4 * nc * nc * (metric.width + dim) + 9 * nc**3)
    cost.cpu_jobs = 1


def isometry(section, cost: Cost) -> None:
    # CPU only. Input-output Jacobian spectra: L products of M x M matrices (2 L M^3) per initialisation, replicate
    # and condition; SGD runs: 6 x L M^2 x batch per step.
    M = section.width
    conditions = 1 + len(section.conditions)
    sgd = section.sgd
    runs = sgd.learning_rates.count * sgd.seeds * len(sgd.teachers) * len(section.initializations)
    spectra_work = sum(conditions * len(section.initializations) * section.replicates * 2 * L * M**3
                       for L in section.depths)
    sgd_work = sum(runs * sgd.steps * 6 * L * M * M * sgd.eval_samples for L in section.depths)
    cost.cpu_work += spectra_work + sgd_work
    cost.cpu_jobs = 2  # spectra and sgd; the sgd job holds nearly all of it and bounds the wall
    cost.largest_job_share = max(spectra_work, sgd_work) / (spectra_work + sgd_work)


def embedding(section, cost: Cost) -> None:
    # numpy on the CPU: restarts x teachers x fit evaluations of small networks (cheap), and the deep part's Hessians
    # (full up to full_hessian_max parameters: P^3, else Lanczos) per activation, width and seed.
    deep = section.deep
    if deep is not None and deep.enabled:
        for width in deep.widths:
            parameters = deep.hidden_layers * width * width
            hessian = min(parameters, deep.full_hessian_max) ** 3 + deep.iterations * 6 * parameters * deep.samples
            cost.cpu_flops += len(deep.activations) * deep.seeds * len(deep.lambdas) * hessian
    cost.cpu_jobs = 2  # the shallow and the deep job
    for spec in section.inputs:
        cost.cpu_flops += (len(section.activations) * section.teachers * section.restarts * section.fit_evaluations
                           * spec.n * 200)


def overparam(section, cost: Cost) -> None:
    n = section.train + section.validation
    rf = section.random_features
    for ratio in rf.ratios:  # least squares on N = ratio x n features, per penalty and label noise
        N = max(1, round(ratio * section.train))
        cost.cpu_flops += section.replicates * len(rf.label_noise) * (n * N * N + N**3 / 3)
    cost.cpu_jobs = 1
    mlp = section.mlp
    for width in mlp.widths:
        cost.gpu_flops += section.replicates * len(mlp.label_noise) * mlp.steps * 6 * n * (64 + 10) * width
    cost.launches += len(mlp.widths) * mlp.steps * 12


def resinit(section, cost: Cost) -> None:
    M = section.width
    for L in section.depths:  # forward/backward statistics, batch x L x M^2, every variant and replicate
        cost.gpu_flops += len(section.variants) * section.replicates * 6 * section.batch * L * M * M
    sweep = section.sweep
    for L in sweep.depths:
        runs = len(sweep.variants) * len(sweep.scales) * sweep.replicates
        cost.gpu_flops += runs * sweep.steps * 6 * sweep.batch * L * sweep.width**2
        cost.launches += len(sweep.variants) * sweep.steps * L * 12


def selfpaced(section, cost: Cost) -> None:
    # The networks train on the device (selfpaced_train resolves the config's device): digits (64 inputs, 10
    # classes), 2 hidden layers of ``width``, every (n, replicate, arm) one model of the batch; per step a scoring
    # forward pass (2 x parameters x batch) beside the training step's 6, and ~80 eager ops (two forwards, the
    # backward, SGD's update of 6 parameter tensors, the host-to-device copies). The augmentations are drawn on the
    # CPU from per-seed generators (dltheory.selfpaced.train), so they stay there at any scale: their work is the
    # images augmented, models x steps x batch, scaled from the default run's measured host seconds
    # (DEFAULT_SECONDS["selfpaced"]).
    training = section.training
    parameters = mlp_parameters(64, 2, training.width, 10)
    arms = 4 + len(section.taus) + len(section.randaugment.ops) * len(section.randaugment.magnitudes)
    models = len(section.train_sizes) * section.replicates * arms
    batch = training.batch_size
    cost.gpu_flops += models * training.steps * 8 * batch * parameters
    cost.launches += len(section.train_sizes) * training.steps * 80
    cost.cpu_work += models * training.steps * batch
    cost.cpu_jobs = len(section.train_sizes)


FAMILY_COSTS = {
    "nonsmooth": [nonsmooth_dnn, nonsmooth_linear],
    "region": [region_dnn, region_linear],
    "intrinsic": [intrinsic_dnn],
    "gan": [gan],
    "causal": [causal],
    "batchnorm": [batchnorm],
    "natgrad": [natgrad],
    "spectra": [spectra],
    "isometry": [isometry],
    "embedding": [embedding],
    "overparam": [overparam],
    "resinit": [resinit],
    "selfpaced": [selfpaced],
}


def load_settings(configs: list[str]) -> dict:
    """Every enabled family's settings, ``configs`` layered on config/config.yaml (as the Snakefile does, and as
    ``dltheory.config.check_config_files`` checks them), the schema and the defaults read once."""
    from dltheory.config import load_config_file, merged, validate_config

    config = _defaults()
    for path in configs:
        config = merged(config, load_config_file(path))
    return validate_config(config, _schema())


@functools.cache
def _schema() -> dict:
    sys.path.insert(0, str(REPO / "src"))
    from dltheory.config import load_schema

    return load_schema(REPO / "workflow/schemas/config.schema.yaml")


@functools.cache
def _defaults() -> dict:
    from dltheory.config import load_config_file

    return load_config_file(REPO / "config/config.yaml")


def _costs(settings: dict) -> dict[str, Cost]:
    costs = {}
    for family, section in settings.items():
        if family == "run":
            continue
        cost = Cost(family)
        for part in FAMILY_COSTS.get(family, []):
            part(section, cost)
        costs[family] = cost
    return costs


@functools.cache
def _default_costs() -> dict[str, Cost]:
    return _costs(load_settings([]))


def estimate(configs: list[str]) -> dict[str, Cost]:
    """The cost of every enabled family (in the order of the Snakefile's families)."""
    costs = _costs(load_settings(configs))
    default = _default_costs()
    for family, cost in costs.items():
        if cost.cpu_work and family in DEFAULT_SECONDS and default.get(family) and default[family].cpu_work:
            cost.cpu_seconds += DEFAULT_SECONDS[family] * cost.cpu_work / default[family].cpu_work
        elif cost.cpu_work:
            cost.cpu_flops += cost.cpu_work  # no measurement: at the calibrated rate
    return costs


# Both GPU paths are built and chosen by auto where there is a GPU: kernel ridge's torch path (linear_device: auto)
# and CGNN's fused MMD (fused_mmd: auto; without Triton, or if compiling fails, it warns and runs the tiled MMD,
# the second line). The first line is neither.
SCENARIOS = {
    "linear_device: cpu, CGNN tiled": Paths(),
    "CGNN tiled (fused_mmd: off)": Paths(linear_on_gpu=True),
    "as built (auto: GPU)": Paths(linear_on_gpu=True, cgnn_fused=True),
}
AS_BUILT = SCENARIOS["as built (auto: GPU)"]


def wall_seconds(costs: dict[str, Cost], paths: Paths, threads: int) -> tuple[float, float, float]:
    """(GPU seconds, CPU wall seconds, wall seconds): GPU work serial on the one GPU; CPU work over the cores but no
    faster than its slowest family's jobs allow; the two overlapped (CPU jobs run beside the GPU jobs)."""
    gpu = sum(cost.gpu_seconds(paths) for cost in costs.values())
    cpu = max(sum(cost.cpu_core_seconds(paths) for cost in costs.values()) / CPU_CORES,
              max(cost.cpu_wall_seconds(paths, threads) for cost in costs.values()))
    return gpu, cpu, max(gpu, cpu)


def _n(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:.3g}"


def table(costs: dict[str, Cost], threads: int, paths: Paths = Paths()) -> str:
    header = (f"{'family':<10} {'GPU PFLOP':>9} {'padded':>8} {'GPU TB':>8} {'GPU s':>8} {'CPU PFLOP':>9} "
              f"{'CPU core-s':>11} {'CPU wall s':>10} {'wall s':>8}")
    lines = [header, "-" * len(header)]
    for family, cost in costs.items():
        gpu, cpu = cost.gpu_seconds(paths), cost.cpu_wall_seconds(paths, threads)
        gpu_bytes = cost.gpu_bytes + (0 if paths.cgnn_fused else cost.cgnn_entries * CGNN_BYTES_PER_ENTRY)
        lines.append(f"{family:<10} {_n(cost.gpu_flops / 1e15):>9} {_n(cost.gpu_flops_padded / 1e15):>8} "
                     f"{_n(gpu_bytes / 1e12):>8} {_n(gpu):>8} {_n(cost.cpu_flops / 1e15):>9} "
                     f"{_n(cost.cpu_core_seconds(paths)):>11} {_n(cpu):>10} {_n(max(gpu, cpu)):>8}")
    lines.append("-" * len(header))
    for name, scenario in SCENARIOS.items():
        gpu, cpu, wall = wall_seconds(costs, scenario, threads)
        lines.append(f"{name:<31} GPU {gpu:>7,.0f} s  CPU {cpu:>7,.0f} s  wall {wall / 60:>6.1f} min")
    return "\n".join(lines)


def _seconds_per_step(model, optimizer, x, y, warm_up: int = 5, repeats: int = 50) -> float:
    from dltheory.runtime import seconds_per_call

    def step():
        loss = ((model(x) - y) ** 2).mean(dim=1).sum()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    return seconds_per_call(step, x.device, repeats, warm_up)


def measure(configs: list[str], device_name: str = "cuda", repeats: int = 50) -> None:
    """Time one batched training step per DNN family on CUDA at the config's largest batch, against the estimate."""
    import torch

    from dltheory.nn.batched_mlp import BatchedArchitecture, BucketedMLP

    settings = load_settings(configs)
    device = torch.device(device_name)
    for family in ("nonsmooth", "region", "intrinsic"):
        if family not in settings:
            continue
        cost = Cost(family)
        section = settings[family]
        if family == "region":
            from dltheory.nonsmooth.targets import target_from_config

            n = max(section.sizes)
            targets = [target_from_config(s) for s in section.cell_specs().values()]
            architectures = [section.dnn.architecture_for(n, t.dim, t.alpha, t.beta, t.pieces)
                             for t in targets for _ in range(section.replicates)]
            dim, training = section.dim, section.dnn
        elif family == "nonsmooth":
            from dltheory.nonsmooth.targets import target_from_config

            target = target_from_config(section.targets[0])
            architectures = [section.dnn.architecture_for(n, target.dim, target.alpha, target.beta, target.pieces)
                             for _ in range(section.replicates) for n in section.sizes]
            dim, training = target.dim, section.dnn
        else:
            sphere = section.sphere
            architectures = [(sphere.dnn.depth, sphere.dnn.width)] * (len(sphere.sizes) * sphere.replicates)
            dim, training = sphere.ambient_dim, sphere.dnn
        architecture = BatchedArchitecture(dim, tuple(w for _, w in architectures), tuple(d for d, _ in architectures))
        for precision in ("highest", "high"):
            torch.set_float32_matmul_precision(precision)
            model = BucketedMLP(architecture, torch.Generator().manual_seed(0)).to(device)
            optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
            x = torch.rand(architecture.n_models, training.batch_size, dim, device=device)
            y = torch.rand(architecture.n_models, training.batch_size, device=device)

            seconds = _seconds_per_step(model, optimizer, x, y, repeats=repeats)
            flops = sum(6 * training.batch_size * mlp_parameters(dim, d, w) for d, w in architectures)
            cost.gpu_flops, cost.launches = flops, len(set(architectures)) * 6 * (max(architecture.depths) + 1) + 10
            cost.tf32 = precision == "high"
            print(f"{family:<10} {precision:<8} one step of {architecture.n_models} models "
                  f"({len(set(architectures))} buckets): measured {seconds * 1e3:.2f} ms, estimated "
                  f"{cost.gpu_seconds(Paths()) * 1e3:.2f} ms, {flops / seconds / 1e12:.1f} TFLOP/s achieved")
        torch.set_float32_matmul_precision("highest")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("configs", nargs="*", default=[str(REPO / "config/paper.yaml")])
    parser.add_argument("--measure", action="store_true", help="time one training step per DNN family (CUDA)")
    args = parser.parse_args(argv)
    costs = estimate(args.configs)
    threads = load_settings(args.configs)["run"].threads_per_job
    print(f"config: config/config.yaml + {' + '.join(args.configs) or 'nothing'}; one H100, {CPU_CORES} CPU cores, "
          f"{threads} threads per job; DNNs at max_steps (early stopping only cuts)")
    print("An estimate from stated rates, not a measurement; the family rows are as built (auto: GPU).")
    print(table(costs, threads, AS_BUILT))
    if args.measure:
        import torch

        if torch.cuda.is_available():
            measure(args.configs)
        else:
            print("--measure: no CUDA device here; estimate only")
    return 0


if __name__ == "__main__":
    sys.exit(main())
