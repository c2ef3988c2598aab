"""Settings of the ``causal`` family (Meta-CGNN, Ton, Sejdinovic & Fukumizu, AAAI 2021; every setting ours), and of
CGNN and Meta-CGNN themselves. Torch-free."""

import dataclasses
import functools
import inspect
import re
from dataclasses import dataclass, field

from dltheory.settings import analysis_field, from_config

CGNN_GAMMAS = (0.01, 0.1, 1.0, 10.0, 100.0)  # cdt/utils/loss.py MMDloss default "bandwidths" (multiply ‖·‖²)
FUSED_MMD = ("auto", "on", "off")  # CgnnSettings.fused_mmd: where CGNN's MMD runs as one compiled kernel
NETWORKS = ("meta_cgnn", "cgnn")  # the methods that train networks
# Methods trained on the meta-training pool (issue 21): Meta-CGNN without the direction term (the headline, the
# paper's pure MMD-scoring form), with it (our labelled extension), and a supervised direction classifier (RCC-style).
# One job per pool trains all three and scores its test benchmarks; the untrained methods (CGNN, ANM, IGCI, RECI)
# share one job per benchmark.
TRAINED = ("meta_cgnn", "meta_cgnn_contrast", "rcc")
# The synthetic generator families (dltheory.causal.pairs.GENERATORS): CE-Multi/CE-Net/CE-Gauss-style, and two
# mechanism families of ours that no CE generator draws (issue 21). SANITY: pairs whose direction every consistent
# method finds, the family's known-answer case (a benchmark of its own, never in a pool's mix).
SYNTHETIC = ("ce_multi", "ce_net", "ce_gauss", "post_nonlinear", "heavy_tailed")
SANITY = "sharp_anm"
BUILT_IN_BENCHMARKS = (*SYNTHETIC, SANITY, "tuebingen")  # a user benchmark's name must differ from each
USER_BENCHMARK_NAME = re.compile(r"[a-z][a-z0-9_]*")  # a path part and a Snakemake wildcard (causal.smk)


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
    # Not cdt's: the memory one batch of models may take, in bytes (``cgnn.cgnn_peak_bytes``); None: every pair of a
    # size in one batch. It changes no number (a model's result does not depend on its batch), only memory.
    max_batch_bytes: int | None = None
    # Not cdt's: CGNN's MMD as one compiled kernel per step (``cgnn.fused_cgnn_mmd_squared``, torch.compile) that
    # never writes a Gram tile to memory: "auto" on a CUDA device (where the tiled path is memory bound), "on" on any
    # device, "off" the tiled path (``cgnn.cgnn_mmd_squared``). A run where torch.compile fails warns and falls back
    # to the tiled path. The two paths agree to float32 rounding, not bitwise; a CPU run under "auto" is the tiled
    # path's to the bit.
    fused_mmd: str = "auto"

    def __post_init__(self):
        for name in ("hidden_units", "runs", "train_epochs", "test_epochs"):
            if getattr(self, name) < 1:
                raise ValueError(f"CgnnSettings.{name} must be at least 1, got {getattr(self, name)}")
        if self.learning_rate <= 0 or len(self.gammas) == 0:
            raise ValueError("CgnnSettings needs a positive learning_rate and at least one gamma")
        if self.max_batch_bytes is not None and self.max_batch_bytes < 1:
            raise ValueError(f"CgnnSettings.max_batch_bytes must be positive or null, got {self.max_batch_bytes}")
        if isinstance(self.fused_mmd, bool):  # YAML 1.1 reads an unquoted on / off as true / false
            object.__setattr__(self, "fused_mmd", "on" if self.fused_mmd else "off")
        if self.fused_mmd not in FUSED_MMD:
            raise ValueError(f"CgnnSettings.fused_mmd must be one of {', '.join(FUSED_MMD)}, got {self.fused_mmd!r}")


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
    benchmarks: tuple[str, ...] | None = None  # the benchmarks it scores (an untrained method); None: every one


@dataclass(frozen=True)
class RccSettings:
    """The supervised direction classifier (dltheory.causal.supervised; sizes ours)."""

    features: int = 50  # random features per bandwidth and per embedding (joint, x, y)
    gammas: tuple[float, ...] = (0.1, 1.0, 10.0)  # k(u, v) = exp(−γ‖u − v‖²)
    trees: int = 200
    min_leaf: int = 5
    train_sizes: tuple[int, int] = (25, 500)  # each pool pair's subsample size, log-uniform

    def __post_init__(self):
        if self.features < 1 or self.trees < 1 or self.min_leaf < 1 or not self.gammas:
            raise ValueError("RccSettings needs features, trees, min_leaf >= 1 and at least one gamma")


@dataclass(frozen=True)
class CausalValidation:
    """Validation pairs: fresh draws of the pool's generator families under their own seed (no test pair enters),
    scored every ``every`` meta-steps at one size; the checkpoint of highest validation accuracy is kept."""

    pairs: int = 40  # per family in the pool, half flipped
    size: int = 100
    every: int = 250


@dataclass(frozen=True)
class CausalSanity:
    """The known-answer case: Meta-CGNN meta-trained on ``SANITY`` pairs alone (pool 'sanity') and scored on that
    benchmark's test pairs, where it must find the direction as ANM and RECI do. ``model``: overrides of the
    headline model's settings; ``pool_pairs``: its training datasets (``pool_points`` points each, as the others)."""

    pool_pairs: int = 500
    model: dict = field(default_factory=dict)
    max_size: int | None = None  # the largest size it scores (None: every size)


@dataclass(frozen=True)
class MetaCgnnTraining:
    pool_pairs: int  # meta-training datasets per synthetic benchmark
    pool_points: int
    model: MetaCgnnSettings
    # The generator families of pool 'all'; a synthetic benchmark outside them is held out from every pool.
    families: tuple[str, ...] = ("ce_multi", "ce_net", "ce_gauss")
    held_out: tuple[str, ...] = ()  # leave-one-generator-family-out pools 'no_<family>', one per family named
    sanity: CausalSanity | None = None  # pool 'sanity' (the known-answer case), trained when the benchmark is run
    extension: dict = field(default_factory=dict)  # meta_cgnn_contrast: overrides of ``model``
    extension_held_out: bool = False  # train and score the extension on the held-out pools too
    rcc: dict = field(default_factory=dict)  # the supervised classifier's settings (supervised.RccSettings)
    validation: CausalValidation = field(default_factory=CausalValidation)

    def __post_init__(self):
        unknown = sorted(set(self.families) - set(SYNTHETIC))
        if unknown or not self.families:
            raise ValueError(f"meta_cgnn.families: {unknown[0]!r} is not a synthetic family {list(SYNTHETIC)}"
                             if unknown else "meta_cgnn.families: at least one family is needed")
        unknown = sorted(set(self.held_out) - set(self.families))
        if unknown:
            raise ValueError(f"meta_cgnn.held_out: {unknown[0]!r} is not among meta_cgnn.families "
                             f"{list(self.families)}")
        if self.held_out and len(self.families) == 1:
            raise ValueError("meta_cgnn.held_out: leaving out the only family leaves nothing to train on")
        from_config(MetaCgnnSettings, {**dataclasses.asdict(self.model), **self.extension}, "meta_cgnn.extension")
        if self.sanity is not None:
            from_config(MetaCgnnSettings, {**dataclasses.asdict(self.model), **self.sanity.model},
                        "meta_cgnn.sanity.model")
        from_config(RccSettings, self.rcc, "meta_cgnn.rcc")
        if self.extension.get("contrast_weight", self.model.contrast_weight) <= 0:
            raise ValueError("meta_cgnn.extension.contrast_weight must be > 0 (it is the direction term)")

    def pools(self, benchmarks=()) -> list[str]:
        """The meta-training pools: 'all' (``families``), 'no_<family>' per held-out family, and 'sanity' when the
        known-answer benchmark is among ``benchmarks`` and configured."""
        sanity = ["sanity"] if self.sanity is not None and SANITY in benchmarks else []
        return ["all"] + [f"no_{family}" for family in self.held_out] + sanity

    def pool_families(self, pool: str) -> tuple[str, ...]:
        if pool == "all":
            return tuple(self.families)
        if pool.startswith("no_") and pool[3:] in self.held_out:
            return tuple(f for f in self.families if f != pool[3:])
        if pool == "sanity" and self.sanity is not None:
            return (SANITY,)
        raise ValueError(f"unknown meta-training pool {pool!r}; known: {self.pools([SANITY])}")

    def evaluation(self, pool: str, benchmark: str) -> str:
        """What scoring ``benchmark`` with pool ``pool``'s models tests: 'real' (Tübingen, a user's), 'sanity' (the
        known-answer pairs), 'in-distribution' (a family the pool trained on) or 'held-out'."""
        if benchmark == SANITY:
            return "sanity"
        if benchmark not in SYNTHETIC:
            return "real"
        return "in-distribution" if benchmark in self.pool_families(pool) else "held-out"


@dataclass(frozen=True)
class UserBenchmark:
    """A user's own cause-effect pairs (issue 22): a CSV in Tübingen's layout (``pairs.load_pairs_csv``), scored as
    a real benchmark. A relative path is read from the working directory (where Snakemake runs)."""

    pairs: str
    label: str | None = None  # its name in figures and tables (None: the benchmark's name)


def check_user_benchmark(name: str, benchmark: UserBenchmark) -> None:
    """A name that is not a lowercase identifier or that a built-in benchmark has, or a CSV that cannot be used
    (``pairs.PairsFileError``, naming the file, line and SampleID), is an error."""
    from dltheory.causal.pairs import load_pairs_csv

    if not USER_BENCHMARK_NAME.fullmatch(name) or name.endswith("_held_out"):
        raise ValueError(f"{name!r} is not a benchmark name: lowercase letters, digits and _, starting with a "
                         "letter, not ending in _held_out")
    if name in BUILT_IN_BENCHMARKS:
        raise ValueError(f"{name!r} is a built-in benchmark's name; choose another")
    load_pairs_csv(benchmark.pairs, name)


@dataclass(frozen=True)
class CausalTiming:
    """Meta-CGNN against CGNN at its defaults, one pair at a time, on the first pairs of one benchmark."""

    benchmark: str
    pairs: int
    size: int
    cgnn_settings: dict = field(default_factory=dict)  # overrides of CGNN's defaults (smoke runs only)


@dataclass(frozen=True)
class CausalClaims:
    confidence: float = 0.95  # of every Wilson interval, and of the stability claim's allowance
    max_size: int = 100  # the accuracy claims compare at n <= max_size
    speedup: float = 100
    sanity_size: int = 100  # the known-answer claim's n
    sanity_accuracy: float = 0.9  # ... and the accuracy Meta-CGNN (pool 'sanity'), ANM and RECI must each reach


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
    user_benchmarks: dict[str, UserBenchmark] = field(default_factory=dict)  # name -> a CSV of the user's pairs
    claims: CausalClaims = analysis_field(default_factory=CausalClaims)

    def __post_init__(self):
        checks = [(f"user_benchmarks.{name}", functools.partial(check_user_benchmark, name, benchmark))
                  for name, benchmark in self.user_benchmarks.items()]
        for i, benchmark in enumerate(self.benchmarks):
            if benchmark not in BUILT_IN_BENCHMARKS and benchmark not in self.user_benchmarks:
                checks.append((f"benchmarks[{i}]", functools.partial(
                    _fail, f"{benchmark!r} is neither a built-in benchmark {list(BUILT_IN_BENCHMARKS)} nor a key of "
                           f"causal.user_benchmarks {list(self.user_benchmarks)}")))
        for name, method in self.methods.items():
            key = f"methods.{name}.settings"
            if name == "cgnn":
                checks.append((key, functools.partial(from_config, CgnnSettings, method.settings, "CGNN")))
            elif name in TRAINED:
                if method.settings:
                    checks.append((key, lambda: _fail("trained methods' settings live in causal.meta_cgnn")))
            else:
                checks.append((key, functools.partial(check_baseline_settings, name, method.settings)))
        checks.append(("timing.cgnn_settings", lambda: from_config(CgnnSettings, self.timing.cgnn_settings, "CGNN")))
        if "meta_cgnn" not in self.methods:
            checks.append(("methods", lambda: _fail("meta_cgnn (the headline method) must be configured")))
        for name, method in self.methods.items():
            extra = sorted(set(method.benchmarks or ()) - set(self.benchmarks))
            if extra:
                checks.append((f"methods.{name}.benchmarks", functools.partial(
                    _fail, f"{extra[0]!r} is not among the benchmarks {list(self.benchmarks)}")))
        for family in self.meta_cgnn.held_out:  # a held-out pool's only use is scoring its family's test pairs
            if family not in self.benchmarks:
                checks.append(("meta_cgnn.held_out", functools.partial(
                    _fail, f"held-out family {family!r} is not among the benchmarks {list(self.benchmarks)}")))
        for key, check in checks:
            try:
                check()
            except (ValueError, TypeError) as error:
                raise ValueError(f"{key}: {error}") from error

    def pools(self) -> list[str]:
        """The meta-training pools this config trains (``MetaCgnnTraining.pools``)."""
        return self.meta_cgnn.pools(self.benchmarks)

    def pool_benchmarks(self, pool: str) -> dict[str, str]:
        """The benchmarks pool ``pool``'s models score, each with what it tests (``MetaCgnnTraining.evaluation``):
        pool 'all' every benchmark but the known-answer one, 'no_<family>' that family, 'sanity' the known-answer
        benchmark."""
        if pool == "sanity":
            chosen = [SANITY]
        elif pool.startswith("no_"):
            chosen = [pool[3:]]
        else:
            chosen = [b for b in self.benchmarks if b != SANITY]
        self.meta_cgnn.pool_families(pool)  # an unknown pool is an error naming it
        return {b: self.meta_cgnn.evaluation(pool, b) for b in chosen}

    def scored_by(self, method: str) -> list[str]:
        """The benchmarks an untrained method scores (its ``benchmarks``, else every one)."""
        chosen = self.methods[method].benchmarks
        return [b for b in self.benchmarks if chosen is None or b in chosen]

    def user_pairs(self, benchmarks) -> dict[str, str]:
        """The CSV of each user benchmark among ``benchmarks`` (what its jobs read)."""
        return {b: self.user_benchmarks[b].pairs for b in benchmarks if b in self.user_benchmarks}

    def benchmark_labels(self) -> dict[str, str]:
        """Each user benchmark's display label (its ``label``, else its name)."""
        return {name: b.label or name for name, b in self.user_benchmarks.items()}

    def baselines(self) -> list[str]:
        """The configured methods not trained on the pool (CGNN, ANM, IGCI, RECI): one job per benchmark."""
        return [method for method in self.methods if method not in TRAINED]

    def trained(self) -> list[str]:
        return [method for method in self.methods if method in TRAINED]

    def figure_names(self) -> tuple[str, ...]:
        return ("accuracy_vs_n", "meta_training", "seconds_per_pair", "tables")


def _fail(message: str) -> None:
    raise ValueError(message)
