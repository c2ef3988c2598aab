"""Settings of the ``nonsmooth`` and ``region`` families, and of the batched ReLU DNN they (and ``intrinsic``) train.

One home for every default (``dltheory.settings``); the config schema holds names, types and ranges. Torch-free.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field

from dltheory.nn.settings import TrainingSettings
from dltheory.nonsmooth.theory import jmlr_network_size
from dltheory.settings import analysis_field, to_config

# The linear estimators' configuration names (dltheory.nonsmooth.estimators, which re-exports this): here, where the
# analysis and figures read it without importing the estimators and scikit-learn (~1 s per notebook job).
LINEAR_ESTIMATORS = ("fourier", "spline", "kernel_ridge", "gaussian_process")

_TRAINING = TrainingSettings()


@dataclass(frozen=True)
class DNNSettings:
    """DNN size and training. ``width``/``depth`` of 0 mean "from the JMLR Thm 7 guideline"."""

    width: int = 0  # 0: from the JMLR guideline
    depth: int = 0  # 0: from the JMLR guideline
    parameter_scale: float = 2.0  # the constant C of J Thm 7's parameter budget (ours)
    depth_scale: float = 0.25  # the constant C of J Thm 7's depth bound (ours)
    validation_fraction: float = 0.2  # held out for early stopping
    max_width: int = 0  # cap on the guideline's width (0: none); bounds the cost of rough (small beta) targets
    init: str = "he"  # initial weights: He (variance 2/fan-in) or "standard_normal" as in Nakada & Imaizumi Sec. 6.1
    # Adam with a cosine schedule and per-model early stopping (``dltheory.nn.settings.TrainingSettings``).
    learning_rate: float = _TRAINING.learning_rate
    batch_size: int = _TRAINING.batch_size
    max_steps: int = _TRAINING.max_steps
    eval_every: int = _TRAINING.eval_every
    patience: int = _TRAINING.patience  # evaluations without improvement before a model stops
    lr_decay: float = _TRAINING.lr_decay  # final learning rate as a fraction of the first
    divergence_threshold: float = _TRAINING.divergence_threshold  # a training loss above this counts as diverged
    matmul_precision: str = _TRAINING.matmul_precision  # CUDA float32 matmuls: "highest" or "high" (TF32)

    @classmethod
    def from_config(cls, config: Mapping) -> "DNNSettings":
        from dltheory.settings import from_config

        return from_config(cls, config, "dnn")

    @property
    def training(self) -> TrainingSettings:
        return TrainingSettings(**{name: getattr(self, name) for name in TrainingSettings.__dataclass_fields__})

    def architecture_for(self, n: int, dim: int, alpha: float, beta: float, pieces: int) -> tuple[int, int]:
        """(depth, width) for sample size n: the guideline unless overridden."""
        depth, width = jmlr_network_size(n, dim, alpha, beta, pieces, self.parameter_scale, self.depth_scale)
        width = self.width or width
        if self.max_width:
            width = min(width, self.max_width)
        return (self.depth or depth), width


@dataclass(frozen=True)
class NonsmoothClaims:
    """How the claims are decided (read by the notebook only): t-intervals over paired replicates."""

    confidence: float = 0.95  # level of the t-intervals
    # Slack on "no linear slope is steeper than -alpha/(2 alpha + D - 1)".
    linear_slope_tolerance: float = 0.05
    pilots: str = ""  # settings chosen after pilot runs, named in every claim's detail


@dataclass(frozen=True)
class RegionClaims:
    """How the region map's claims are decided (read by the notebook only): Student-t intervals over paired
    replicates (``dltheory.stats.slope_difference_interval``), runs that failed the did-it-learn guard left out."""

    confidence: float = 0.95  # level of the two-sided t-intervals; a cell's verdict reads their upper end
    # Fraction of testable cells whose one-sided verdict matches the theory region (fixed before the first run).
    agreement_target: float = 0.8
    pilots: str = ""  # settings chosen after pilot runs, named in every claim's detail


def _check_estimator_params(params: Mapping, key: str, make) -> None:
    """Build every named estimator with its configured arguments, so a bad argument fails before any job."""
    for name, arguments in params.items():
        try:
            make(name, arguments)
        except (ValueError, TypeError) as error:
            raise ValueError(f"{key}.{name}: {error}") from error


@dataclass(frozen=True)
class NonsmoothSettings:
    """Imaizumi & Fukumizu (AISTATS 2019; JMLR 2022): DNNs against linear estimators on piecewise-smooth targets."""

    sizes: tuple[int, ...]  # training-set sizes n; at least two, to fit a slope
    replicates: int  # independent data sets per size
    noise_sd: float  # standard deviation sigma of the Gaussian noise on Y
    n_test: int  # fresh noise-free points for the L2 error
    targets: tuple[dict, ...]  # target specs (dltheory.nonsmooth.targets.target_from_config)
    estimators: tuple[str, ...]  # "dnn" and the linear estimators (and "knn")
    enabled: bool = False
    estimator_params: dict = field(default_factory=dict)  # constructor arguments per estimator (grids, limits)
    dnn: DNNSettings = field(default_factory=DNNSettings)
    claims: NonsmoothClaims = analysis_field(default_factory=NonsmoothClaims)

    def __post_init__(self):
        from dltheory.nonsmooth.estimators import make_estimator
        from dltheory.nonsmooth.targets import target_from_config

        names = [target["name"] for target in self.targets]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"targets: duplicate target names {duplicates}")
        for i, spec in enumerate(self.targets):
            try:
                target_from_config(spec)
            except ValueError as error:
                raise ValueError(f"targets[{i}] ({spec['name']}): {error}") from error
        _check_estimator_params(self.estimator_params, "estimator_params", make_estimator)

    def figure_names(self) -> tuple[str, ...]:
        return ("target_map", "error_vs_n", "smooth_control")


@dataclass(frozen=True)
class RegionSettings:
    """JMLR 2022 Fig. 2 measured: a grid of (alpha, beta) piecewise-smooth targets, the DNN against the best
    CV-tuned linear estimator, the slope difference per cell."""

    dim: int
    alphas: tuple[float, ...]
    betas: tuple[float, ...]
    sizes: tuple[int, ...]
    replicates: int
    noise_sd: float
    n_test: int
    linear_estimators: tuple[str, ...]
    enabled: bool = False
    pieces: int = 2  # every cell's target shares these five
    target_seed: int = 1
    jump: float = 1.0
    amplitude: float = 0.25
    n_terms: int = 8  # octaves of the lacunary boundaries and pieces
    estimator_params: dict = field(default_factory=dict)
    dnn: DNNSettings = field(default_factory=DNNSettings)
    claims: RegionClaims = analysis_field(default_factory=RegionClaims)

    def __post_init__(self):
        from dltheory.nonsmooth.estimators import make_estimator
        from dltheory.nonsmooth.targets import target_from_config

        for name, spec in self.cell_specs().items():
            try:
                target_from_config(spec)
            except ValueError as error:
                raise ValueError(f"(cell {name}): {error}") from error
        _check_estimator_params(self.estimator_params, "estimator_params", make_estimator)

    def cell_specs(self) -> dict[str, dict]:
        """The target spec of every (alpha, beta) cell, named a<alpha>_b<beta>."""
        from dltheory.nonsmooth.targets import region_cell_specs

        return region_cell_specs(to_config(self))

    def figure_names(self) -> tuple[str, ...]:
        return ("theory_region", "empirical_map")

    def outside_hypotheses(self) -> list[str]:
        """Cells where J's lower bounds do not apply (Prop 15 and Thm 13 need alpha, beta >= 1)."""
        return [name for name, spec in self.cell_specs().items() if min(spec["alpha"], spec["beta"]) < 1]
