"""Settings of the ``gan`` family (Chu, Minami & Fukumizu, ICLR 2020; every setting is ours). Torch-free."""

from dataclasses import dataclass, field

from dltheory.settings import analysis_field

TOY_DATASETS = ("ring", "grid")


@dataclass(frozen=True)
class GanTrajectory:
    """The (dataset, learning rate) whose models get distances at every second evaluation (the trajectory figure)."""

    dataset: str
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
    """A run has converged when, over the last ``window`` of its steps, every generator step size and every W1 is
    below its dataset's threshold. The window also decides where training computes W1, so it is a training key; the
    thresholds are read by the analysis only."""

    step_size_threshold: dict = analysis_field()  # dataset -> threshold on the generator's step size
    w1_threshold: dict = analysis_field()  # dataset -> threshold on W1
    window: float = 0.1  # issue 4: the last 10 % of steps


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
class GanSettings:
    variants: tuple[str, ...]
    activations: tuple[str, ...]
    learning_rates: tuple[float, ...]
    seeds: int
    convergence: GanConvergence
    toy: GanPart
    enabled: bool = False
    optimizer: str = "sgd"  # the generator's, at each model's learning rate
    # The discriminator's: None = the generator's optimizer at the same learning rate; or "adam"/"sgd" at the fixed
    # discriminator_learning_rate (the swept rate is then the generator's alone).
    discriminator_optimizer: str | None = None
    discriminator_learning_rate: float = 1e-3
    discriminator_steps: int = 1
    divergence_threshold: float = 1e6  # |loss| above this (or a non-finite value) counts as diverged
    critic_features: int = 16  # output size of the MMD-GAN feature network and the smoothed critic's h (ours)
    random_features: int = 64  # the smoothed critic's psi
    digits: GanPart | None = None
    dirac: GanDirac = analysis_field(default_factory=GanDirac)

    def __post_init__(self):
        for key in ("step_size_threshold", "w1_threshold"):
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
            if not any(abs(trajectory.learning_rate - lr) <= 1e-12 * lr for lr in self.learning_rates):
                raise ValueError(f"{part}.trajectory.learning_rate: {trajectory.learning_rate} is not one of "
                                 f"gan.learning_rates {list(self.learning_rates)}")

    def run(self, part: str, variant: str, device: str = "cpu") -> "GanRunSettings":
        """The batched run of ``variant`` on one part ("toy": the 2-D mixtures, or "digits")."""
        budget = getattr(self, part)
        trajectory = budget.trajectory
        return GanRunSettings(
            variant=variant,
            datasets=budget.datasets if part == "toy" else ("digits",),
            activations=self.activations,
            learning_rates=tuple(float(lr) for lr in self.learning_rates),
            seeds=tuple(range(self.seeds)),
            steps=budget.steps,
            optimizer=self.optimizer,
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
            critic_features=self.critic_features,
            random_features=self.random_features,
            convergence_window=self.convergence.window,
            trajectory=(trajectory.dataset, float(trajectory.learning_rate)) if trajectory else None,
            samples_saved=budget.samples_saved,
            device=device,
        )

    def parts(self) -> tuple[str, ...]:
        """The data parts that run: "toy" (the 2-D mixtures) always, "digits" when enabled."""
        return ("toy", "digits") if "digits" in gan_datasets(self) else ("toy",)

    def figure_names(self) -> tuple[str, ...]:
        """The notebook's figures: the trajectories and 2-D samples only with a toy trajectory, the digit samples
        only with the digits part."""
        names = ["stability_map"]
        if self.toy.trajectory is not None:
            names += ["trajectories", "samples_2d"]
        if "digits" in self.parts():
            names.append("samples_digits")
        return (*names, "conditions", "dirac")


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
    learning_rates: tuple[float, ...] = (1e-2, 1e-1)
    seeds: tuple[int, ...] = (0, 1)
    steps: int = 4000
    optimizer: str = "sgd"  # the generator's, at each model's learning rate
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
    critic_features: int = 16  # output size of the MMD-GAN feature network and the smoothed critic's h (ours)
    random_features: int = 64  # the smoothed critic's ψ (objectives.RANDOM_FEATURES = 256 is the 1-model default)
    convergence_window: float = 0.1  # issue 4: the last 10 % of steps
    trajectory: tuple[str, float] | None = None  # (dataset, learning rate) whose models get distances throughout
    samples_saved: int = 64  # final generator samples kept per model (the first of its evaluation samples)
    device: str = "cpu"

    @property
    def n_models(self) -> int:
        return len(self.datasets) * len(self.activations) * len(self.learning_rates) * len(self.seeds)

    def evaluation_steps(self) -> list[int]:
        return sorted({0, *range(self.eval_every, self.steps + 1, self.eval_every), self.steps})

    def in_window(self, step: int) -> bool:
        return step >= (1.0 - self.convergence_window) * self.steps


def run_settings(section, part: str, variant: str, device: str = "cpu") -> GanRunSettings:
    """The batched run of ``variant`` on one part of the gan settings (a :class:`GanSettings` or a config mapping)."""
    from dltheory.settings import from_config

    return from_config(GanSettings, section, "gan").run(part, variant, device)
