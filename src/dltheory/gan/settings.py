"""Settings of the ``gan`` family (Chu, Minami & Fukumizu, ICLR 2020; every setting is ours). Torch-free."""

import math
from dataclasses import dataclass, field

from dltheory.gan.variants import GRADIENT_PENALTY_WEIGHT
from dltheory.settings import analysis_field

TOY_DATASETS = ("ring", "grid")
BUILT_IN_DATASETS = (*TOY_DATASETS, "digits")
OPTIMIZERS = ("sgd", "adam")  # the generator's: gradient descent (what the paper analyses) and Adam (practice)


@dataclass(frozen=True)
class GanMixture:
    """A user's own 2-D target (issue 22), named in ``gan.mixtures`` and trained on like the ring: either a Gaussian
    mixture (``centres``, ``std`` one for all modes or one per mode, ``weights`` or equal ones), or the points of a
    ``csv`` file (columns x, y, optionally mode; a relative path is read from the working directory). Mode coverage
    and high-quality fraction need mode centres: a CSV's ``mode`` column gives them (each mode's mean and spread),
    or ``centres`` and ``std`` are given beside the CSV. Checked when the config is read, file included."""

    centres: tuple[tuple[float, ...], ...] | None = None
    std: float | tuple[float, ...] | None = None
    weights: tuple[float, ...] | None = None
    csv: str | None = None

    def __post_init__(self):
        from dltheory.gan.data import modes_of_points, read_points  # torch-free

        if self.csv is not None:
            if not isinstance(self.csv, str):
                raise ValueError(f"csv: expected a file path, got {self.csv!r}")
            try:
                points, modes = read_points(self.csv)
                if modes is not None:
                    modes_of_points(points, modes)
            except ValueError as error:
                raise ValueError(f"csv: {error}") from error
            if self.weights is not None:
                raise ValueError("weights: a CSV target's weights are its points' (leave weights out)")
            if modes is not None and (self.centres is not None or self.std is not None):
                raise ValueError(f"centres: {self.csv} has a mode column, which gives the centres and stds; "
                                 "give one or the other")
            if modes is not None:
                return
        if self.centres is None or self.std is None:
            raise ValueError(f"{'centres' if self.centres is None else 'std'}: a mixture needs centres and std "
                             "(or a csv with a mode column)")
        k = len(self.centres)
        if k == 0 or any(len(c) != 2 or not all(_finite(v) for v in c) for c in self.centres):
            raise ValueError(f"centres: expected a list of [x, y] pairs of finite numbers, got {list(self.centres)}")
        stds = (self.std,) if _number(self.std) else tuple(self.std)
        if len(stds) not in (1, k) or not all(_finite(v) and v > 0 for v in stds):
            raise ValueError(f"std: expected one positive number or one per centre ({k}), got {self.std!r}")
        if self.weights is not None and (len(self.weights) != k or not all(_finite(w) and w > 0
                                                                             for w in self.weights)):
            raise ValueError(f"weights: expected one positive number per centre ({k}), got {list(self.weights)}")


def _number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _finite(value) -> bool:
    return _number(value) and math.isfinite(value)


@dataclass(frozen=True)
class GanTrajectory:
    """The (dataset, optimizer, learning rate) whose models get distances at every second evaluation (the
    trajectory figure)."""

    dataset: str
    optimizer: str
    learning_rate: float


@dataclass(frozen=True)
class GanClassifier:
    """The digits classifier that scores generated digits."""

    steps: int = 500
    seed: int = 0


@dataclass(frozen=True)
class GanPart:
    """One data part of the GAN runs (the 2-D mixtures, or digits) and its training budget."""

    steps: int
    batch_size: int
    width: int
    depth: int
    latent_dim: int
    eval_every: int
    n_eval: int  # samples for W1, MMD and quality (issue 4: >= 1,000)
    enabled: bool = True
    datasets: tuple[str, ...] = TOY_DATASETS  # the toy part's 2-D mixtures (the digits part has one data set)
    samples_saved: int = 64  # final generator samples kept per model (the first of its evaluation samples)
    trajectory: GanTrajectory | None = None
    classifier: GanClassifier = field(default_factory=GanClassifier)  # digits only


@dataclass(frozen=True)
class GanConvergence:
    """A scale-free convergence rule (issue 18): every quantity is relative to the run's own start, so neither the
    critic's scale nor the data's changes a verdict. A run has *learned* when, at its last evaluation (training
    computes W1 at step 0 and at the last step; trajectory runs more often, and then every evaluation in the last
    ``window`` of steps counts), W1 to the data is at most ``w1_ratio`` times its W1 at step 0 and its mode (digits:
    class) coverage is at least ``coverage``; it is *stationary* when the median generator gradient norm over the
    last ``window`` of its steps is at most ``stationarity_ratio`` times the median over the first ``early``; it has
    *converged* when it has learned, is stationary and never diverged. Every key is read by the analysis only."""

    w1_ratio: dict = analysis_field()  # dataset -> largest W1(late) / W1(step 0) of a run that learned
    coverage: dict = analysis_field()  # dataset -> smallest mode (class) coverage of a run that learned
    stationarity_ratio: float = analysis_field(default=0.5)  # largest late / early median gradient norm
    early: float = analysis_field(default=0.2)  # the first fraction of steps whose gradient norms are "early"
    window: float = analysis_field(default=0.1)  # the last fraction of steps: "late"


@dataclass(frozen=True)
class GanDirac:
    """The Dirac-GAN, the known-answer case (Mescheder, Geiger & Nowozin, ICML 2018): computed by the notebook, in
    float64, in seconds (``dltheory.gan.dirac``). Every setting is ours."""

    rates: tuple[float, ...] = (0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0)  # learning rates of the grid
    steps: int = 2000  # gradient-descent steps of each trajectory
    tolerance: float = 1e-3  # a trajectory converged when |θ| and its last move are below this
    start: tuple[float, float] = (1.0, 1.0)  # (θ, ψ) at step 0
    trajectory_rate: float = 0.1  # the rate of the figure's trajectories


@dataclass(frozen=True)
class GanSanity:
    """The baseline that must learn before any stability claim (issue 18): WGAN-GP with Adam (β = (0.5, 0.9)) on
    both networks and ``discriminator_steps`` critic steps per generator step, the recipe of Gulrajani et al. 2017's
    toy experiments, ReLU networks, ``seeds`` seeds on one 2-D mixture."""

    steps: int
    batch_size: int
    width: int
    depth: int
    learning_rate: float
    enabled: bool = True
    dataset: str = "ring"
    seeds: int = 5
    latent_dim: int = 2
    betas: tuple[float, float] = (0.5, 0.9)
    discriminator_steps: int = 5
    gradient_penalty_weight: float = GRADIENT_PENALTY_WEIGHT  # λ of the gradient penalty
    lr_decay: str = "none"  # "linear": both rates fall linearly to 0 over the steps
    eval_every: int = 500
    n_eval: int = 1000
    samples_saved: int = 1000
    # The claim "the sanity baseline learns": at least min_fraction of the seeds end with a high-quality fraction
    # of at least min_high_quality and a mode coverage of at least min_coverage.
    min_high_quality: float = analysis_field(default=0.8)
    min_coverage: float = analysis_field(default=1.0)
    min_fraction: float = analysis_field(default=0.6)


@dataclass(frozen=True)
class GanClaims:
    """How the stability claims read the maps (issue 18), fixed before the runs: a cell "learns" or "is stable"
    when at least ``majority`` of its seeds do, and a claim reads only cells of at least ``min_seeds`` seeds."""

    majority: float = 0.5
    min_seeds: int = 5
    sn_margin: float = 0.4  # SN alone's learned fraction is at least this much below SN + GP's where SN + GP learns
    pilots: str = ""  # the settings chosen after pilots that the stability claims read, named in each claim's detail


@dataclass(frozen=True)
class GanSettings:
    variants: tuple[str, ...]
    activations: tuple[str, ...]
    # The generator's optimizer -> its learning rates: every optimizer is a panel of the stability maps.
    learning_rates: dict[str, tuple[float, ...]]
    seeds: int
    convergence: GanConvergence
    toy: GanPart
    enabled: bool = False
    # The discriminator's: None = the generator's optimizer at the same learning rate; or "adam"/"sgd" at the fixed
    # discriminator_learning_rate (the swept rate is then the generator's alone).
    discriminator_optimizer: str | None = None
    discriminator_learning_rate: float = 1e-3
    discriminator_steps: int = 1
    divergence_threshold: float = 1e6  # |loss| above this (or a non-finite value) counts as diverged
    critic_features: int = 16  # output size of the MMD-GAN feature network and the smoothed critic's h (ours)
    random_features: int = 64  # the smoothed critic's psi
    betas: tuple[float, float] = (0.5, 0.9)  # every Adam's (Gulrajani et al. 2017)
    digits: GanPart | None = None
    sanity: GanSanity | None = None
    mixtures: dict[str, GanMixture] = field(default_factory=dict)  # a user's own 2-D targets, by name (issue 22)
    dirac: GanDirac = analysis_field(default_factory=GanDirac)
    claims: GanClaims = analysis_field(default_factory=GanClaims)

    def __post_init__(self):
        unknown = [name for name in self.learning_rates if name not in OPTIMIZERS]
        if unknown:
            raise ValueError(f"learning_rates.{unknown[0]}: unknown optimizer; known: {', '.join(OPTIMIZERS)}")
        if not self.learning_rates:
            raise ValueError("learning_rates: name at least one optimizer")
        clash = [name for name in self.mixtures if name in BUILT_IN_DATASETS]
        if clash:
            raise ValueError(f"mixtures.{clash[0]}: the name of a built-in dataset; choose another")
        known = (*TOY_DATASETS, *self.mixtures)
        unknown = [name for name in self.toy.datasets if name not in known]
        if unknown:
            raise ValueError(f"toy.datasets: {unknown[0]!r} is neither a built-in 2-D dataset {list(TOY_DATASETS)} "
                             f"nor a key of gan.mixtures {list(self.mixtures)}")
        if self.sanity is not None and self.sanity.dataset not in known:
            raise ValueError(f"sanity.dataset: {self.sanity.dataset!r} is neither a built-in 2-D dataset "
                             f"{list(TOY_DATASETS)} nor a key of gan.mixtures {list(self.mixtures)}")
        for key in ("w1_ratio", "coverage"):
            missing = [name for name in gan_datasets(self) if name not in getattr(self.convergence, key)]
            if missing:
                raise ValueError(f"convergence.{key}: no threshold for dataset {missing[0]!r}")
        for part in ("toy", "digits"):
            budget = getattr(self, part)
            trajectory = budget.trajectory if budget is not None else None
            if trajectory is None:
                continue
            datasets = list(budget.datasets) if part == "toy" else ["digits"]
            if trajectory.dataset not in datasets:
                raise ValueError(f"{part}.trajectory.dataset: {trajectory.dataset!r} is not among this part's "
                                 f"datasets {datasets}")
            rates = self.learning_rates.get(trajectory.optimizer)
            if rates is None:
                raise ValueError(f"{part}.trajectory.optimizer: {trajectory.optimizer!r} is not among "
                                 f"gan.learning_rates' optimizers {list(self.learning_rates)}")
            if not any(abs(trajectory.learning_rate - lr) <= 1e-12 * lr for lr in rates):
                raise ValueError(f"{part}.trajectory.learning_rate: {trajectory.learning_rate} is not one of "
                                 f"gan.learning_rates.{trajectory.optimizer} {list(rates)}")

    def run(self, part: str, variant: str, device: str = "cpu") -> "GanRunSettings":
        """The batched run of ``variant`` on one part ("toy": the 2-D mixtures, "digits", or "sanity": the
        baseline that must learn, whose variant is always WGAN-GP)."""
        if part == "sanity":
            return self.sanity_run(device)
        budget = getattr(self, part)
        trajectory = budget.trajectory
        return GanRunSettings(
            variant=variant,
            datasets=budget.datasets if part == "toy" else ("digits",),
            activations=self.activations,
            learning_rates={name: tuple(float(lr) for lr in rates) for name, rates in self.learning_rates.items()},
            seeds=tuple(range(self.seeds)),
            steps=budget.steps,
            batch_size=budget.batch_size,
            eval_every=budget.eval_every,
            n_eval=budget.n_eval,
            width=budget.width,
            depth=budget.depth,
            latent_dim=budget.latent_dim,
            discriminator_steps=self.discriminator_steps,
            discriminator_optimizer=self.discriminator_optimizer,
            discriminator_learning_rate=float(self.discriminator_learning_rate),
            divergence_threshold=float(self.divergence_threshold),
            betas=tuple(float(b) for b in self.betas),
            critic_features=self.critic_features,
            random_features=self.random_features,
            trajectory=(trajectory.dataset, trajectory.optimizer, float(trajectory.learning_rate))
            if trajectory else None,
            samples_saved=budget.samples_saved,
            mixtures=self.part_mixtures(part),
            device=device,
        )

    def part_mixtures(self, part: str) -> dict:
        """The user's mixtures (gan.mixtures) that one part trains on: a run job gets only those."""
        datasets = {"toy": self.toy.datasets, "sanity": (self.sanity.dataset,) if self.sanity else ()}.get(part, ())
        return {name: self.mixtures[name] for name in datasets if name in self.mixtures}

    def sanity_run(self, device: str = "cpu") -> "GanRunSettings":
        """The sanity baseline's batched run: WGAN-GP, ReLU, Adam on both networks at one rate, ``sanity.seeds``
        seeds."""
        s = self.sanity
        return GanRunSettings(
            variant=SANITY_VARIANT, datasets=(s.dataset,), activations=("relu",),
            learning_rates={"adam": (float(s.learning_rate),)}, seeds=tuple(range(s.seeds)), steps=s.steps,
            discriminator_optimizer=None, batch_size=s.batch_size, eval_every=s.eval_every, n_eval=s.n_eval,
            width=s.width, depth=s.depth, latent_dim=s.latent_dim, discriminator_steps=s.discriminator_steps,
            divergence_threshold=float(self.divergence_threshold), betas=tuple(float(b) for b in s.betas),
            gradient_penalty_weight=float(s.gradient_penalty_weight), lr_decay=s.lr_decay,
            trajectory=(s.dataset, "adam", float(s.learning_rate)),
            samples_saved=s.samples_saved, mixtures=self.part_mixtures("sanity"), device=device,
        )

    def parts(self) -> tuple[str, ...]:
        """The data parts that run: "toy" (the 2-D mixtures) always, "digits" and "sanity" when enabled."""
        parts = ["toy"]
        if "digits" in gan_datasets(self):
            parts.append("digits")
        if self.sanity is not None and self.sanity.enabled:
            parts.append("sanity")
        return tuple(parts)

    def part_variants(self, part: str) -> tuple[str, ...]:
        """The variants one part trains: every configured one, or WGAN-GP alone for the sanity baseline."""
        return (SANITY_VARIANT,) if part == "sanity" else self.variants

    def figure_names(self) -> tuple[str, ...]:
        """The notebook's figures: the trajectories and 2-D samples only with a toy trajectory, the digit samples
        only with the digits part."""
        names = ["stability_map"]
        if "sanity" in self.parts():
            names.append("sanity")
        if self.toy.trajectory is not None:
            names += ["trajectories", "samples_2d"]
        if "digits" in self.parts():
            names.append("samples_digits")
        return (*names, "smoothness", "conditions", "dirac")


SANITY_VARIANT = "wgan_gp"


def gan_datasets(settings: GanSettings) -> list[str]:
    """The datasets a GAN section trains on: the toy part's 2-D mixtures, then digits when enabled."""
    datasets = list(settings.toy.datasets)
    if settings.digits is not None and settings.digits.enabled:
        datasets.append("digits")
    return datasets


@dataclass(frozen=True)
class GanRunSettings:
    """One batched run: a variant over the grid ``datasets`` × ``activations`` × ``learning_rates`` × ``seeds``."""

    variant: str = "wgan_gp"
    datasets: tuple[str, ...] = ("ring",)
    activations: tuple[str, ...] = ("relu",)
    # The generator's optimizer -> its learning rates; every (optimizer, rate) pair is a model of the batch.
    learning_rates: dict = field(default_factory=lambda: {"sgd": (1e-2, 1e-1)})
    seeds: tuple[int, ...] = (0, 1)
    steps: int = 4000
    # The discriminator's: None = the generator's optimizer at the same learning rate; or "adam"/"sgd" at the fixed
    # discriminator_learning_rate (the swept rate is then the generator's alone).
    discriminator_optimizer: str | None = None
    discriminator_learning_rate: float = 1e-3
    batch_size: int = 64
    eval_every: int = 400
    n_eval: int = 1000  # issue 4: W1 on at least 1,000 samples
    width: int = 32
    depth: int = 2
    latent_dim: int = 2
    discriminator_steps: int = 1
    divergence_threshold: float = 1e6
    betas: tuple[float, float] = (0.5, 0.999)  # Adam only
    gradient_penalty_weight: float | None = None  # overrides the variant's λ (the sanity baseline's recipe)
    lr_decay: str = "none"  # "linear": every rate falls linearly to 0 over the steps
    critic_features: int = 16  # output size of the MMD-GAN feature network and the smoothed critic's h (ours)
    random_features: int = 64  # the smoothed critic's ψ (objectives.RANDOM_FEATURES = 256 is the 1-model default)
    # (dataset, optimizer, learning rate) whose models get distances throughout
    trajectory: tuple[str, str, float] | None = None
    samples_saved: int = 64  # final generator samples kept per model (the first of its evaluation samples)
    mixtures: dict[str, GanMixture] = field(default_factory=dict)  # the user's 2-D targets among ``datasets``
    device: str = "cpu"

    @property
    def schedules(self) -> list[tuple[str, float]]:
        """Every (generator optimizer, learning rate) pair, in config order."""
        return [(name, float(lr)) for name, rates in self.learning_rates.items() for lr in rates]

    @property
    def n_models(self) -> int:
        return len(self.datasets) * len(self.activations) * len(self.schedules) * len(self.seeds)

    def evaluation_steps(self) -> list[int]:
        return sorted({0, *range(self.eval_every, self.steps + 1, self.eval_every), self.steps})


def run_settings(section, part: str, variant: str, device: str = "cpu") -> GanRunSettings:
    """The batched run of ``variant`` on one part of the gan settings (a config mapping)."""
    from dltheory.settings import from_config

    return from_config(GanSettings, section, "gan").run(part, variant, device)
