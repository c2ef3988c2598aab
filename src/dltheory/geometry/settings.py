"""Settings of the four geometry families (batchnorm, natgrad, spectra, isometry) as frozen dataclasses, built from
a config section by :func:`dltheory.settings.from_config`. Torch-free: the Snakefile builds them before any job.

Each dataclass is the one home of its settings' defaults; the JSON schema (``workflow/schemas/config.schema.yaml``)
holds their types, ranges and enums. ``__post_init__`` holds what a schema cannot say: checks across keys and
values resolved from others. Every family's ``claims`` block is read only by its notebook (an analysis field), so
the measuring jobs, which get :func:`dltheory.settings.job_config`, never see it.

The constants the settings need live here, and the torch modules import them from here.
"""

import dataclasses
import types
import typing
from dataclasses import dataclass, field

from dltheory.settings import analysis_field

ACTIVATIONS = ("relu", "tanh", "hard_tanh", "linear")  # dltheory.geometry.mlp.activate
NORMALIZATIONS = ("none", "last_batch_norm", "last_batch_norm_full", "hidden_batch_norm",
                  "last_layer_norm")  # mlp.MlpSpec.normalization
METHODS = ("gd", "exact", "block_diagonal", "block_tridiagonal", "kfac", "unit_wise")  # natgrad's update rules
# sigma_w^2 at the order-to-chaos boundary of a bias-free network: signals neither die out nor blow up with depth.
# ReLU: He's 2 keeps E[h^2] fixed; odd activations (tanh, hard tanh): slope 1 at the origin, so sigma_w^2 = 1.
CRITICAL_SIGMA_W2 = {"relu": 2.0, "tanh": 1.0, "hard_tanh": 1.0, "linear": 1.0}
ISOMETRY_ACTIVATIONS = ("tanh", "hard_tanh", "linear")  # the isometry family's batched SGD has their slopes
SGD_DTYPE_NAMES = ("float32", "float64")  # torch dtypes of the isometry family's online SGD


def _is_float(annotation) -> bool:
    if annotation is float:
        return True
    return typing.get_origin(annotation) in (typing.Union, types.UnionType) and float in typing.get_args(annotation)


def _whole_numbers_as_floats(settings) -> None:
    """A whole number given for a float setting (``sigma_w2: 1``) becomes a float, so that it reads the same in
    tables and claims whichever way the config wrote it."""
    hints = typing.get_type_hints(type(settings))
    for item in dataclasses.fields(settings):
        value = getattr(settings, item.name)
        if _is_float(hints[item.name]) and isinstance(value, int) and not isinstance(value, bool):
            object.__setattr__(settings, item.name, float(value))


def _check_names(key: str, names, known) -> None:
    for name in names:
        if name not in known:
            raise ValueError(f"{key}: unknown name {name!r}; known: {list(known)}")


@dataclass(frozen=True)
class LogGrid:
    """``count`` log-spaced values from ``min`` to ``max``, both included (:meth:`values`)."""

    min: float
    max: float
    count: int

    def __post_init__(self):
        _whole_numbers_as_floats(self)
        if self.max < self.min or (self.count == 1 and self.max != self.min) or (
                self.count > 1 and self.max == self.min):
            raise ValueError(f"needs min < max with count >= 2, or min == max with count 1; got min {self.min}, "
                             f"max {self.max}, count {self.count}")

    def values(self):
        import numpy as np

        return np.geomspace(self.min, self.max, self.count)


# --------------------------------------------------------------------------------------------------- batchnorm


@dataclass(frozen=True)
class BatchnormRateMultiples(LogGrid):
    min: float = 0.5
    max: float = 4.0
    count: int = 15


@dataclass(frozen=True)
class BatchnormGd:
    """Full-batch GD from each seed's initialization, at rates c * 2 / lambda_max (lambda_max of the variant's own
    Fisher) with c log-spaced. Wide ReLU networks can catapult: above 2 / lambda_max the loss first grows, then falls
    as the curvature drops (Lewkowycz et al. 2020). A run is judged on its first steps: unstable when its loss rises
    above the previous step's within the first ``first_steps`` steps, so a catapult counts as unstable."""

    variants: tuple[str, ...] = ("none", "last_batch_norm")
    widths: tuple[int, ...] = (64, 128)  # each doubling costs about 8x (T and D grow with M)
    rate_multiples: BatchnormRateMultiples = field(default_factory=BatchnormRateMultiples)  # c
    steps: int = 10
    first_steps: int = 10  # k: the window in which a rise above the previous step's loss makes a run unstable

    def __post_init__(self):
        _check_names("variants", self.variants, NORMALIZATIONS)
        if self.first_steps > self.steps:
            raise ValueError(f"first_steps ({self.first_steps}) exceeds steps ({self.steps})")


@dataclass(frozen=True)
class BatchnormDiagram:
    """The T-M diagram: lambda_max without normalization and with last-layer BN at every width of ``widths`` and
    every sample number T here (the leading T samples of each seed's data)."""

    samples: tuple[int, ...] = (16, 32, 64, 128, 256, 512)


@dataclass(frozen=True)
class BatchnormClaims:
    # Two-sided Student-t intervals over the seeds; a claim holds when its whole interval meets its band.
    confidence: float = 0.95
    # Without normalization (and with last-layer layer norm) lambda_max grows like M^s and the mean eigenvalue like
    # M^-s' (T proportional to M): the interval of s inside 1 +- this, of s' inside -1 +- this.
    slope_tolerance: float = 0.15
    # Last-layer BN (mean subtraction, and full BN) with T proportional to M: lambda_max bounded, its slope's
    # interval inside +- this.
    bounded_slope: float = 0.2
    # "Does not remove the growth" (hidden-layer BN with T proportional to M; last-layer BN at fixed T): the slope's
    # interval above this, halfway between bounded (0) and pathological (1).
    growth_slope_min: float = 0.5
    # lambda_max / M without normalization at the widest M against K19's closed form M((T-1)/T kappa_2 +
    # kappa_1/T): the interval of the ratio inside [1/this, this].
    theory_factor: float = 1.25
    # The unnormalized GD edge over 2 / lambda_max: its interval inside [1/this, this].
    edge_factor: float = 1.2
    # Last-layer BN's edge rate over the unnormalized edge rate (same seed and width): its interval above this.
    edge_gain_min: float = 2.0

    def __post_init__(self):
        _whole_numbers_as_floats(self)


@dataclass(frozen=True)
class BatchnormSettings:
    """Batch norm in the last layer against pathological sharpness (Karakida, Akaho & Amari, NeurIPS 2019);
    dltheory.geometry.batchnorm."""

    enabled: bool = False
    widths: tuple[int, ...] = (64, 128, 256, 512)
    hidden_layers: int = 3
    samples_per_width: float = 0.5  # T = round(M * this): the paper's T proportional to M
    input_dim_per_width: float = 1.0  # D = round(M * this): mean-field's fixed ratio of every width to M
    sigma_w2: float = 2.0
    variants: tuple[str, ...] = NORMALIZATIONS
    replicates: int = 5  # seeds: independent data sets and initializations per width
    coupled_max_width: int = 256  # hidden-layer BN (T^2 M^2 work) only at widths up to this
    diagram: BatchnormDiagram = field(default_factory=BatchnormDiagram)
    gd: BatchnormGd = field(default_factory=BatchnormGd)
    # Jobs the spectra part runs as (:meth:`spectra_parts`): the (width, replicate) pairs, in order, cut into this
    # many runs of consecutive pairs with about equal work. Every pair draws its own seed, so the numbers do not
    # depend on it; each job costs a process start-up (2-3 s), so 1 on a small run.
    spectra_jobs: int = 1
    claims: BatchnormClaims = analysis_field(default_factory=BatchnormClaims)

    def __post_init__(self):
        _whole_numbers_as_floats(self)
        _check_names("variants", self.variants, NORMALIZATIONS)
        for width in self.widths:
            if self.samples(width) < 2 or self.input_dim(width) < 1:
                raise ValueError(f"width {width} gives T = {self.samples(width)} samples and D = "
                                 f"{self.input_dim(width)} inputs; needs T >= 2 and D >= 1")
        pairs = len(self.widths) * self.replicates
        if self.spectra_jobs > pairs:
            raise ValueError(f"spectra_jobs: {self.spectra_jobs} jobs for {pairs} (width, replicate) pairs "
                             f"({len(self.widths)} widths x {self.replicates} replicates); at most {pairs}")

    def samples(self, width: int) -> int:
        """T at width M (T = M * samples_per_width)."""
        return max(1, round(width * self.samples_per_width))

    def input_dim(self, width: int) -> int:
        """D at width M (D = M * input_dim_per_width)."""
        return max(1, round(width * self.input_dim_per_width))

    def spectra_work(self, width: int) -> float:
        """Dominant-term FLOPs of one replicate's spectra at width M: the factorised NTK of the largest T
        (4 T^2 M + 2 T M^2 per hidden layer), an eigendecomposition (9 T^3) per variant at the sweep's T and two
        per diagram T, and hidden-layer BN's coupled Jacobian (T^2 M^2) at widths up to coupled_max_width."""
        samples = self.samples(width)
        largest = max(samples, *self.diagram.samples)
        work = self.hidden_layers * (4 * largest**2 * width + 2 * largest * width**2)
        work += 9 * (len(self.variants) * samples**3 + 2 * sum(t**3 for t in self.diagram.samples))
        if "hidden_batch_norm" in self.variants and width <= self.coupled_max_width:
            work += samples**2 * width**2
        return float(work)

    def spectra_parts(self) -> dict[str, tuple[tuple[int, int], ...]]:
        """The spectra jobs: name -> its (width, replicate) pairs. The pairs in the order one job measures them
        (widths as given, replicates within), cut into ``spectra_jobs`` runs of consecutive pairs so that the
        largest run's :meth:`spectra_work` is as small as it can be; concatenated in this order, the parts' tables
        are the one job's table. One job: "spectra"; else "spectra_m{M}r{r}" (one pair) or
        "spectra_m{M}r{r}-m{M'}r{r'}" (first and last pair)."""
        pairs = [(width, replicate) for width in self.widths for replicate in range(self.replicates)]
        if self.spectra_jobs == 1:
            return {"spectra": tuple(pairs)}
        work = [self.spectra_work(width) for width, _ in pairs]
        runs = _balanced_runs(work, self.spectra_jobs)
        parts = {}
        for start, stop in runs:
            first, last = pairs[start], pairs[stop - 1]
            name = f"spectra_m{first[0]}r{first[1]}" + (f"-m{last[0]}r{last[1]}" if stop - start > 1 else "")
            parts[name] = tuple(pairs[start:stop])
        return parts

    def figure_names(self) -> tuple[str, ...]:
        return ("fisher_vs_width", "tm_diagram", "gd_grid")


def _runs_under(work: list[float], cap: float) -> list[tuple[int, int]]:
    """Consecutive runs (start, stop) of ``work``, each filled from the left while its sum stays <= ``cap``."""
    runs, start, total = [], 0, 0.0
    for index, item in enumerate(work):
        if index > start and total + item > cap:
            runs.append((start, index))
            start, total = index, 0.0
        total += item
    runs.append((start, len(work)))
    return runs


def _balanced_runs(work: list[float], count: int) -> list[tuple[int, int]]:
    """``count`` runs of consecutive items (1 <= count <= len(work)) whose largest sum is smallest: the least cap
    that greedy filling meets with at most ``count`` runs (bisection), then the heaviest runs of several items split
    at their most even point until there are ``count``."""
    low, high = max(work), sum(work)
    for _ in range(100):
        if high - low <= 1e-12 * high:
            break
        middle = (low + high) / 2
        if len(_runs_under(work, middle)) <= count:
            high = middle
        else:
            low = middle
    runs = _runs_under(work, high)
    while len(runs) < count:
        splittable = [run for run in runs if run[1] - run[0] > 1]
        start, stop = max(splittable, key=lambda run: sum(work[run[0]:run[1]]))
        total, best, cut = sum(work[start:stop]), None, start + 1
        for point in range(start + 1, stop):
            left = sum(work[start:point])
            if best is None or max(left, total - left) < best:
                best, cut = max(left, total - left), point
        index = runs.index((start, stop))
        runs[index:index + 1] = [(start, cut), (cut, stop)]
    return runs


# ----------------------------------------------------------------------------------------------------- natgrad


@dataclass(frozen=True)
class NatgradGd:
    """Gradient descent at its best stable rate: the lowest final train loss among these multiples of 1 / lambda_max
    of the Gauss-Newton matrix J^T J / N at initialization (2 is the stability edge)."""

    steps: int = 100
    rate_multiples: tuple[float, ...] = (1.0, 1.9)


@dataclass(frozen=True)
class NatgradClaims:
    # Exact NGD's train loss at step 0 over step 1: at least this.
    exact_first_step_drop: float = 100.0
    # Every approximation's train loss after one step: at most this times exact NGD's.
    approximation_factor: float = 10.0
    # Steps GD needs to reach exact NGD's one-step train loss: at least this.
    gd_step_factor: float = 10.0
    # ours: how far exact NGD's test loss after one step may be from the NTK-limit prediction; the code's README has
    # 4.23e-3 against 4.37e-3 at M = 4096, and the NTK itself deviates like 1/sqrt(M).
    prediction_factor: float = 1.5
    # Every approximation's test loss after one step within this factor of exact NGD's (either way): KO20's same
    # function-space dynamics predict the same test outputs.
    test_loss_factor: float = 1.5
    # The one-step fraction of the training loss left (step 1 over step 0) against width, log-log slope per seed:
    # at most this at the upper end of its interval, for exact NGD and every approximation. In the NTK limit the
    # step fits the training set; at finite width what is left is the nonlinear remainder, a residual O(1/sqrt M),
    # so the loss falls like 1/M (slope -1); -0.5 allows half of that exponent.
    width_slope_max: float = -0.5
    # Two-sided Student-t intervals over the replicates; a claim holds when its whole interval meets the threshold.
    confidence: float = 0.95

    def __post_init__(self):
        _whole_numbers_as_floats(self)


@dataclass(frozen=True)
class NatgradSettings:
    """Approximate natural gradient in wide networks (Karakida & Osawa, NeurIPS 2020); dltheory.geometry.natgrad."""

    enabled: bool = False
    methods: tuple[str, ...] = METHODS  # one training job each
    classes: tuple[int, ...] = (0, 1)  # digits classes; the first gets label -0.5, the second +0.5
    train_size: int = 100
    test_size: int = 50
    # "forster": the training inputs' Forster transform (radial isotropic position), which ngd_in_wide_nn applies
    # for K-FAC's input condition when N exceeds the input dimension; "none": unit-norm pixels.
    input_transform: str = "none"
    width: int = 1024  # every method; 4096 in ngd_in_wide_nn and config/paper.yaml
    # Further widths for exact NGD and its NTK-limit prediction only (the width sweep); width itself is always run.
    widths: tuple[int, ...] = ()
    # Further widths for the approximations (block-diagonal, block tri-diagonal, K-FAC, unit-wise): their one-step
    # loss against width, which the NTK-limit statement says goes to zero as exact NGD's does.
    approximation_widths: tuple[int, ...] = ()
    replicates: int = 1  # seeds (data draw and initialization) per method and width
    layers: int = 3  # weight layers
    sigma_w2: float = 2.0
    steps: int = 5  # natural-gradient steps (the code's default is 2)
    # ours: eigenvalues below pinv_rtol times the largest count as zero in a pseudo-inverse. On the digits the
    # first layer's unit-wise Grams have rank <= 64 < N; at 1e-8 their near-zero eigenvalues blew the step up
    # (train loss 0.117 -> 0.017 after one step, against 0.004 at 1e-6; the other methods do not change).
    pinv_rtol: float = 1e-6
    gd: NatgradGd = field(default_factory=NatgradGd)
    # method -> rate; a method not given gets the paper's rate (natgrad.paper_learning_rate)
    learning_rates: dict[str, float] = field(default_factory=dict)
    # The exact-NGD job also writes the NTK-limit prediction (method "ntk_limit"): the function-space dynamics of
    # exact NGD with the analytical NTK of the infinitely wide network, from the finite network's initial outputs
    # (the code's "analytical prediction", which the README gives as 0.134341 -> 1.30195e-16 train and
    # 0.128435 -> 4.36911e-3 test on MNIST).
    ntk_prediction: bool = True
    claims: NatgradClaims = analysis_field(default_factory=NatgradClaims)

    def __post_init__(self):
        _whole_numbers_as_floats(self)
        _check_names("methods", self.methods, METHODS)
        _check_names("learning_rates", self.learning_rates, METHODS)
        _check_names("input_transform", [self.input_transform], ("none", "forster"))

    def figure_names(self) -> tuple[str, ...]:
        return ("loss_vs_step", "exact_vs_width", "one_step_vs_width")


# ----------------------------------------------------------------------------------------------------- spectra


@dataclass(frozen=True)
class SpectraInputMetric:
    """The input-space metric with the input dimension D growing at a fixed hidden width (issue 20: its outliers
    follow D, not M). Mean field: the C outliers stay O(1) while the metric's trace, O(1) too, spreads over
    min(D, M, N*C) dimensions, so lambda_max / mean grows like D and the gap lambda_C / lambda_C+1 grows with D
    until D reaches min(M, N*C)."""

    # Hidden width M, at least the largest D so that the bulk spreads over D dimensions (ours).
    width: int = 500
    # Input dimensions D, doubling (ours): the largest is below min(M, N*C) = 500 for the defaults.
    input_dims: tuple[int, ...] = (25, 50, 100, 200, 400)

    def __post_init__(self):
        object.__setattr__(self, "input_dims", tuple(sorted(int(d) for d in self.input_dims)))


@dataclass(frozen=True)
class SpectraClaims:
    """Thresholds of the spectra claims, written before the first run that reads them (issue 20) and never loosened
    after a result. The outlier count itself has no threshold: it is the position of the widest multiplicative
    eigengap in the upper half of the spectrum (dltheory.geometry.spectra.outlier_count), and the claim is
    count == C."""

    # lambda_max ~ M^s and mean eigenvalue ~ M^-s' (KAA21 p. 7): the Student-t intervals of s and s' over seeds lie
    # within 1 +- this (ours).
    width_slope_tolerance: float = 0.15
    # Mean-gradient overlap (KAA21 p. 8: the top eigenspace is spanned by the C mean gradients): the lower end of
    # the interval of the mean squared cosine between the two C-dimensional spaces is at least this (ours).
    overlap_min: float = 0.9
    # Known answer: the mean eigenvalue trace / P over its mean-field closed form; the interval lies within
    # 1 +- this at every width (ours: finite-width corrections are O(1/M)).
    mean_field_tolerance: float = 0.05
    # Softmax disperses the outliers: log10(lambda_1 / lambda_{C-1}) of the softmax FIM minus the linear FIM's, per
    # seed; the interval's lower end is at least this many decades at every width (0.3: the softmax's ratio at
    # least twice the linear's; ours). C - 1, because diag p - p p^T removes the class-mean direction.
    spread_margin: float = 0.3
    # Input metric: lambda_max / mean ~ D^s with the interval of s within 1 +- this (ours).
    input_slope_tolerance: float = 0.15
    # Two-sided Student-t intervals over seeds (dltheory.stats.mean_interval).
    confidence: float = 0.95

    def __post_init__(self):
        _whole_numbers_as_floats(self)


@dataclass(frozen=True)
class SpectraSettings:
    """Pathological spectra at random initialization, linear vs softmax output (Karakida, Akaho & Amari 2021);
    dltheory.geometry.spectra. Networks have weights N(0, sigma_w^2 / fan_in) and biases N(0, sigma_b^2) in every
    layer, as KAA21's ("random weights and biases"). ``widths`` and the input dimensions come out sorted."""

    enabled: bool = False
    # Activations, each its own networks (paper: tanh for the regression FIM; tanh, ReLU, linear for cross-entropy).
    activations: tuple[str, ...] = ("tanh", "relu")
    # activation -> sigma_w^2; one not given gets CRITICAL_SIGMA_W2 (tanh 1, ReLU 2; ours, the paper says O(1/M)).
    sigma_w2: dict[str, float] = field(default_factory=dict)
    # Bias variance (ours). Biases make a tanh network non-centred: each unit's mean activation over inputs is
    # tanh-like in its bias, so the C mean gradients, hence the C outliers, exist (without biases they vanish).
    sigma_b2: float = 0.5
    # Widths M of the width sweep (FIMs and the mean-gradient overlap). Default run: [100, 200, 400].
    widths: tuple[int, ...] = (100, 200, 400)
    # Input dimension of the width sweep as a multiple of M: KAA21's mean field takes every layer, input included,
    # proportional to M (M_l = alpha_l M), which makes lambda_max ~ M and the mean ~ 1/M exact at large M.
    input_ratio: float = 1.0
    # Hidden layers: L = 3 weight layers, as the paper's L = 3 (its L counts the layers with weights, output
    # included).
    hidden_layers: int = 2
    # Output units C (paper: 10).
    outputs: int = 10
    # Samples N, standard-normal inputs (paper: 100).
    samples: int = 100
    # Seeds per (activation, width) and per (activation, D): an independent network and input set each.
    replicates: int = 5
    input_metric: SpectraInputMetric = field(default_factory=SpectraInputMetric)
    claims: SpectraClaims = analysis_field(default_factory=SpectraClaims)

    def __post_init__(self):
        _whole_numbers_as_floats(self)
        _check_names("activations", self.activations, ACTIVATIONS)
        _check_names("sigma_w2", self.sigma_w2, self.activations)
        object.__setattr__(self, "widths", tuple(sorted(int(width) for width in self.widths)))
        object.__setattr__(self, "sigma_w2", {name: float(self.sigma_w2.get(name, CRITICAL_SIGMA_W2[name]))
                                              for name in self.activations})

    def input_dim(self, width: int) -> int:
        """D of the width sweep's networks: input_ratio * M, at least 1."""
        return max(1, round(self.input_ratio * width))

    def figure_names(self) -> tuple[str, ...]:
        return ("histograms", "outliers_vs_width", "input_metric_vs_dim")


# ---------------------------------------------------------------------------------------------------- isometry


@dataclass(frozen=True)
class IsometryLearningRates(LogGrid):
    """Log-spaced (a list is refused: the grid must be log-spaced for the edge's resolution to be the same at every
    depth). The linearised edge 2 / (L q M) is 7.8 at L = 4 and 0.49 at L = 64 for the defaults; ratio 1.21 between
    neighbours, so the edge's slope is resolved to about 0.07."""

    min: float = 0.2
    max: float = 20.0
    count: int = 25


@dataclass(frozen=True)
class IsometrySgd:
    learning_rates: IsometryLearningRates = field(default_factory=IsometryLearningRates)
    # Online steps (one fresh sample each). Near the edge the loss changes like exp(+-c steps / M), so steps of
    # about 8 M separate stable from unstable runs.
    steps: int = 512
    # Independent seeds per (eta, L): each its own teacher, input stream, test batch and initialization; the
    # learning rates of one seed share all of them (paired comparison).
    seeds: int = 3
    # The loss is recorded at step 0 and every record_every steps (and at the last step).
    record_every: int = 64
    # The recorded loss is 1/2 |f(x) - y|^2 averaged over a fixed test batch of fresh inputs: the expected
    # online training loss (every online sample is fresh), without the noise of single samples.
    eval_samples: int = 64
    # A run has diverged once its online loss is non-finite or above this multiple of its step-0 loss; it is
    # then frozen and recorded as diverged, never raised.
    divergence_threshold: float = 100.0
    # float32: the edge is set by O(1) factors per step, far above float32 rounding, and SGD is memory-bound,
    # so float32 halves its time; float64 is there for tests against a plain loop. One of SGD_DTYPE_NAMES.
    dtype: str = "float32"
    # Teachers (issue 20): "near" is y = f0(x) + teacher_eps Q x, f0 the student's own initial function (the main
    # condition: the NTK picture's edge 2 / lambda_max applies there); "far" is y = Q x (the second condition). The
    # first is the main one in the claim.
    teachers: tuple[str, ...] = ("near", "far")
    teacher_eps: float = 0.1

    def __post_init__(self):
        _whole_numbers_as_floats(self)
        if not set(self.teachers) <= {"near", "far"} or not self.teachers:
            raise ValueError(f"teachers: a non-empty subset of near, far; got {self.teachers}")
        if not self.divergence_threshold > 1:
            raise ValueError(f"divergence_threshold: a multiple of the initial loss, must exceed 1, got "
                             f"{self.divergence_threshold}")


@dataclass(frozen=True)
class IsometryCondition:
    """A further labelled point of the (activation, sigma_w^2, sigma_b^2) plane, measured beside the main one (the
    section's own activation, sigma_w2, sigma_b2, input_scale) with the same depths, width, seeds and claims."""

    # One of ISOMETRY_ACTIVATIONS.
    activation: str
    sigma_w2: float
    sigma_b2: float
    # |x|^2 / M; at the fixed point q* it is (q* - sigma_b^2) / sigma_w^2, so every layer starts at q*.
    input_scale: float
    # Teachers of the online-SGD edge at this condition; empty: spectra only.
    sgd_teachers: tuple[str, ...] = ()
    # The SGD grid at this condition (lambda_max ~ L (q M + 1) differs between conditions); None: the section's.
    learning_rates: IsometryLearningRates | None = None
    # How the point was chosen (shown beside its claims: pilots are named where the claim is).
    note: str = analysis_field(default="")

    def __post_init__(self):
        _whole_numbers_as_floats(self)
        if self.activation not in ISOMETRY_ACTIVATIONS:
            raise ValueError(f"activation: one of {list(ISOMETRY_ACTIVATIONS)}, got {self.activation!r}")
        if not set(self.sgd_teachers) <= {"near", "far"}:
            raise ValueError(f"sgd_teachers: a subset of near, far; got {self.sgd_teachers}")


@dataclass(frozen=True)
class IsometryClaims:
    # |slope of log lambda_max on log L - 1| <= this (the 1 +- 0.2).
    fim_max_slope_tolerance: float = 0.2
    # |slope of log eta* on log L + 1| <= this (the issue's -1 +- 0.2).
    edge_slope_tolerance: float = 0.2
    # Concentration: at every depth, the fraction of eigenvalues >= lambda_max / 2 (a replicate's own maximum),
    # averaged over replicates, is at least this. 0.5, "most eigenvalues within a factor 2 of the maximum", was
    # fixed as a round number, not tuned to the measurement (ours).
    concentration_threshold: float = 0.5
    # The orthogonal network's coefficient of variation of the eigenvalues over the free-probability prediction
    # (dltheory.geometry.isometry.fim_spread_theory): its interval lies within 1 +- this at every depth (ours).
    spread_theory_tolerance: float = 0.25
    # Confidence of the Student-t intervals over seeds; the slope claims hold only when the whole interval lies
    # within the tolerance, the concentration claim when the interval's lower end is above the threshold, the
    # contrast when the interval of log(Gaussian CV / orthogonal CV) is above 0 at every depth.
    confidence: float = 0.95

    def __post_init__(self):
        _whole_numbers_as_floats(self)


@dataclass(frozen=True)
class IsometrySettings:
    """Dynamical isometry: the conditional Fisher spectrum and online SGD against depth (Hayase & Karakida,
    AISTATS 2021); dltheory.geometry.isometry. Every setting is ours."""

    enabled: bool = False
    # Numbers of weight layers L (hidden_layers = L - 1): the 4 to 64, doubling, for a log-log slope.
    depths: tuple[int, ...] = (4, 8, 16, 32, 64)
    # M, the width of input, hidden layers and output (square, as HK21's networks), so the conditional FIM has M
    # non-zero eigenvalues. 64 keeps the default run on one CPU core (ours); the paper config should use 256 (ours
    # too: HK21's width is unknown), with learning rates 4x smaller, since lambda_max ~ L q M.
    width: int = 64
    # The main point (further points: ``conditions``). One of ISOMETRY_ACTIVATIONS; "linear" is exact isometry.
    activation: str = "tanh"
    # sigma_w^2 = 1: the critical point of tanh (and hard-tanh) without biases. With sigma_b2 > 0 the config
    # names a point on the critical line chi = 1 (dltheory.geometry.isometry.critical_sigma_w2).
    sigma_w2: float = 1.0
    # Bias variance (biases N(0, sigma_b^2), counted as parameters of the FIM); 0: no biases.
    sigma_b2: float = 0.0
    # Weight initializations compared: orthogonal (isometric) and Gaussian (the contrast). The first is the one
    # HK21's claims are about.
    initializations: tuple[str, ...] = ("orthogonal", "gaussian")
    # q = |x|^2 / M, the variance per input unit (ours). On the critical line the config puts it at the fixed
    # point, (q* - sigma_b^2) / sigma_w^2, so every layer starts at q*.
    input_scale: float = 1e-3
    # Replicates of the spectrum: each a fresh input x and a fresh initialization at every depth.
    replicates: int = 5
    sgd: IsometrySgd = field(default_factory=IsometrySgd)
    # Further labelled conditions (issue 20: a small-q* point of the tanh critical line, hard-tanh on its own critical
    # line, the linear sanity case), each measured like the main one; label -> IsometryCondition. The main one is
    # labelled "main" in the tables.
    conditions: dict[str, IsometryCondition] = field(default_factory=dict)
    claims: IsometryClaims = analysis_field(default_factory=IsometryClaims)

    def __post_init__(self):
        _whole_numbers_as_floats(self)
        if not set(self.initializations) <= {"orthogonal", "gaussian"} or not self.initializations:
            raise ValueError(f"initializations: a non-empty subset of orthogonal, gaussian; got {self.initializations}")
        if "main" in self.conditions:
            raise ValueError("conditions: 'main' names the section's own point; choose another label")

    def figure_names(self) -> tuple[str, ...]:
        return ("spectra", "max_and_edge_vs_depth", "spread_vs_depth", "sgd_grid")
