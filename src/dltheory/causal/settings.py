"""Settings of the ``causal`` family (Meta-CGNN, Ton, Sejdinovic & Fukumizu, AAAI 2021; every setting ours), and of
CGNN and Meta-CGNN themselves. Torch-free."""

import functools
import inspect
from dataclasses import dataclass, field

from dltheory.settings import analysis_field, from_config

CGNN_GAMMAS = (0.01, 0.1, 1.0, 10.0, 100.0)  # cdt/utils/loss.py MMDloss default "bandwidths" (multiply ‖·‖²)
NETWORKS = ("meta_cgnn", "cgnn")  # the methods that train networks (one job per benchmark each)


@dataclass(frozen=True)
class CgnnSettings:
    """CGNN's default settings as cdt 0.6.0's pairwise ``GNN`` has them (causal.md section 2, column P).

    ``hidden_units`` is ``nh``, ``runs`` is ``nruns`` (cdt's doc recommends ≥ 12; its default is 6), Adam's learning
    rate is ``lr``. Training is full batch, every step on all n points of the pair: what cdt does when
    ``batch_size=n`` is passed (its default of −1 becomes 2 with a tuple input; causal.md section 3).
    """

    hidden_units: int = 20
    runs: int = 6
    train_epochs: int = 1000
    test_epochs: int = 1000
    learning_rate: float = 0.01
    gammas: tuple[float, ...] = CGNN_GAMMAS

    def __post_init__(self):
        for name in ("hidden_units", "runs", "train_epochs", "test_epochs"):
            if getattr(self, name) < 1:
                raise ValueError(f"CgnnSettings.{name} must be at least 1, got {getattr(self, name)}")
        if self.learning_rate <= 0 or len(self.gammas) == 0:
            raise ValueError("CgnnSettings needs a positive learning_rate and at least one gamma")


@dataclass(frozen=True)
class MetaCgnnSettings:
    """Meta-CGNN's sizes and schedule (all ours)."""

    encoder_width: int = 64
    task_dim: int = 16
    generator_width: int = 32
    generator_depth: int = 2
    noise_dim: int = 1
    gammas: tuple[float, ...] = CGNN_GAMMAS
    random_features: int = 100  # per kernel bandwidth (CGNN's optional random-Fourier MMD uses 100)
    meta_steps: int = 2000
    tasks_per_step: int = 32
    train_sizes: tuple[int, int] = (25, 500)  # each step draws one n, log-uniformly, for all its tasks
    learning_rate: float = 1e-3
    score_draws: int = 8  # noise and random-feature draws averaged when scoring a pair
    contrast_weight: float = 0.0  # the direction term's weight (``meta_loss``); 0: fit the cause-first reading only
    contrast_sharpness: float = 10.0  # k in softplus(−k · score)


@dataclass(frozen=True)
class CausalMethod:
    """What one direction method scores; None: the family's value (every pair, size and subsample)."""

    max_size: int | None = None  # the largest size it scores
    max_pairs: int | None = None  # only the first max_pairs pairs of each benchmark
    subsamples: int | None = None  # fewer subsamples per size than the family's
    settings: dict = field(default_factory=dict)  # keyword arguments of the method (CGNN's, or a baseline's)


@dataclass(frozen=True)
class MetaCgnnTraining:
    pool_pairs: int  # meta-training datasets per synthetic benchmark
    pool_points: int
    model: MetaCgnnSettings


@dataclass(frozen=True)
class CausalTiming:
    """Meta-CGNN against CGNN at its defaults, one pair at a time, on the first pairs of one benchmark."""

    benchmark: str
    pairs: int
    size: int
    cgnn_settings: dict = field(default_factory=dict)  # overrides of CGNN's defaults (smoke runs only)


@dataclass(frozen=True)
class CausalClaims:
    accuracy_tolerance: float = 0.05
    accuracy_band: float = 0.1
    speedup: float = 100


def check_baseline_settings(name: str, settings: dict) -> None:
    """An unknown baseline, or a keyword its score function does not take, is an error naming it."""
    from dltheory.causal.baselines import BASELINES

    if name not in BASELINES:
        raise ValueError(f"unknown baseline {name!r}; known: {sorted(BASELINES)}")
    parameters = inspect.signature(BASELINES[name]).parameters
    unknown = sorted(set(settings) - (set(parameters) - {"x", "y"}))
    if unknown:
        raise ValueError(f"{name} has no setting {unknown[0]!r}")


@dataclass(frozen=True)
class CausalSettings:
    benchmarks: tuple[str, ...]
    sizes: tuple[int, ...]
    subsamples: int
    methods: dict[str, CausalMethod]
    meta_cgnn: MetaCgnnTraining
    timing: CausalTiming
    enabled: bool = False
    test_pairs: int = 60  # per synthetic benchmark
    test_points: int = 1000  # points per synthetic test pair
    claims: CausalClaims = analysis_field(default_factory=CausalClaims)

    def __post_init__(self):
        checks = []
        for name, method in self.methods.items():
            key = f"methods.{name}.settings"
            if name == "cgnn":
                checks.append((key, functools.partial(from_config, CgnnSettings, method.settings, "CGNN")))
            elif name == "meta_cgnn":
                if method.settings:
                    checks.append((key, lambda: _fail("Meta-CGNN's settings live in causal.meta_cgnn.model")))
            else:
                checks.append((key, functools.partial(check_baseline_settings, name, method.settings)))
        checks.append(("timing.cgnn_settings", lambda: from_config(CgnnSettings, self.timing.cgnn_settings, "CGNN")))
        for key, check in checks:
            try:
                check()
            except (ValueError, TypeError) as error:
                raise ValueError(f"{key}: {error}") from error

    def baselines(self) -> list[str]:
        """The configured methods that are not networks (ANM, IGCI, RECI): they share one job per benchmark."""
        return [method for method in self.methods if method not in NETWORKS]

    def networks(self) -> list[str]:
        return [method for method in self.methods if method in NETWORKS]

    def figure_names(self) -> tuple[str, ...]:
        return ("accuracy_vs_n", "seconds_per_pair", "tables")


def _fail(message: str) -> None:
    raise ValueError(message)
