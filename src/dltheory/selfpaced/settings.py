"""Settings of the selfpaced family (issue 25, M13) as frozen dataclasses, built from the config section by
:func:`dltheory.settings.from_config`. Torch-free: the Snakefile builds them before any job.

The paper's full text was not readable (../shared/papers/selfpaced.md): the data (scikit-learn's digits), the
network, the step budget and the grids are ours; the optimiser follows the authors' code (SGD, Nesterov 0.9, lr 0.1,
weight decay 5e-4, cosine schedule), the selection rule is the code's (augment where the loss on the clean sample is
>= tau), and the RandAugment value map is the code's (M / 30 of each op's range).
"""

from dataclasses import dataclass, field

from dltheory.settings import analysis_field

FAMILY = "selfpaced"
AUGMENTATIONS = ("translate_rotate", "hflip")  # "appropriate" and "inappropriate" for digits (the digest's a, b)
# The augmentation M13-1, -2 and -4 are about, and the one that hurts on digits (M13-3).
APPROPRIATE, HARMFUL = AUGMENTATIONS
# Further panels a config may add: the digest's c (mixup, alpha = 1), and for colour images the authors' CIFAR
# default, flip + crop (their n_aug 12), or crop alone; the claims M13-1 ... M13-4 do not read them, M13-6 runs per
# panel.
OPTIONAL_AUGMENTATIONS = ("mixup", "crop", "flip_crop")
DIGITS = 1797
# The methods, as the tables name them: no augmentation (NA), augment every sample (CA), self-paced augmentation
# (SPA), the random subset at SPA's rate (RND), RandAugment (RA).
NA, CA, SPA, RND, RA = "no_augmentation", "augment_all", "self_paced", "random_matched", "randaugment"
METHODS = (NA, CA, SPA, RND, RA)
# M13c, the loss-instability figure (descriptive): named here once, for the Snakefile's outputs and the notebook.
LOSS_VARIANCE_FIGURE = "loss_variance"


def _floats(values) -> tuple[float, ...]:
    return tuple(float(v) for v in values)


@dataclass(frozen=True)
class RandAugmentSettings:
    """RandAugment (Cubuk et al. 2020) as the authors' code draws it: N ops with replacement per sample, each at
    magnitude M on the 0-30 scale; redrawn at every step (live), (N, M) chosen on validation from the grid."""

    ops: tuple[int, ...] = (1, 2)
    magnitudes: tuple[int, ...] = (9,)

    def __post_init__(self):
        object.__setattr__(self, "ops", tuple(sorted(int(n) for n in self.ops)))
        object.__setattr__(self, "magnitudes", tuple(sorted(int(m) for m in self.magnitudes)))


@dataclass(frozen=True)
class DataSettings:
    """The images: scikit-learn's digits (bundled), or a user's npz (``path``) with ``images`` (uint8, N x H x W or
    N x H x W x C) and ``labels`` (N integers), checked when the config is read. Digits train an MLP; other images
    (larger or in colour) a small CNN."""

    source: str = "digits"
    path: str = ""

    def __post_init__(self):
        if self.source not in ("digits", "npz"):
            raise ValueError(f"source: {self.source!r} is not digits or npz")
        if self.source == "npz":
            if not self.path:
                raise ValueError("path: required when source is npz (an npz with 'images' and 'labels')")
            from dltheory.selfpaced.data import check_image_file

            try:
                check_image_file(self.path)
            except ValueError as error:
                raise ValueError(f"path: {error}") from error


@dataclass(frozen=True)
class TrainingSettings:
    """Mini-batch SGD with Nesterov momentum and a cosine learning-rate schedule to zero over a fixed number of
    steps, the same for every n and method (the authors' optimiser; the step budget is ours)."""

    steps: int = 400
    batch_size: int = 64
    learning_rate: float = 0.1
    momentum: float = 0.9
    weight_decay: float = 5e-4
    # Two hidden ReLU layers of this width (our network: an MLP on the 64 pixels).
    width: int = 64
    # The augmented fraction, and the mean and variance of the trained batches' loss over the window, are recorded
    # every ``record_every`` steps (the trajectory figures); validation and test
    # accuracies every ``evaluate_every`` steps (only to show how optimistic the best test accuracy over training,
    # the authors' metric, would be; never used to choose anything).
    record_every: int = 25
    evaluate_every: int = 100

    def __post_init__(self):
        for name in ("learning_rate", "momentum", "weight_decay"):
            object.__setattr__(self, name, float(getattr(self, name)))


@dataclass(frozen=True)
class SelfpacedClaims:
    """Thresholds of the claims M13-1 ... M13-6 (../shared/papers/selfpaced.md), written before the first run that
    reads them and never loosened after a result. Accuracy differences are in points (percent)."""

    # M13-1: mean paired SPA - CA at the smallest n >= this, and the gain at the smallest n >= the gain at the
    # largest.
    spa_over_all: float = 1.0
    # M13-2 and M13-6 pool the n <= this (per seed: the mean difference over those n).
    small_n_max: int = 100
    # M13-2: SPA - RandAugment >= -this.
    randaugment_margin: float = 0.5
    # M13-3: testable where CA is below NA by >= this (mean over seeds); then SPA recovers >= recovery of the gap.
    harm_gap: float = 1.0
    recovery: float = 0.5
    # M13-4: CA - NA >= this at the sweep's n nearest to few_data_n.
    augmentation_gain: float = 2.0
    few_data_n: int = 100
    # M13-6: SPA - RND (rate-matched) >= this.
    spa_over_random: float = 0.5
    # Sanity (M13-5): max |parameter| and |test logit| difference between SPA at tau = 0 and CA <= this.
    identity_tolerance: float = 0.0
    # Two-sided Student-t intervals over seeds (dltheory.stats.mean_interval).
    confidence: float = 0.95
    pilots: str = ""  # settings chosen after pilot runs, named in the claims' details

    def __post_init__(self):
        for name in ("spa_over_all", "randaugment_margin", "harm_gap", "recovery", "augmentation_gain",
                     "spa_over_random", "identity_tolerance", "confidence"):
            object.__setattr__(self, name, float(getattr(self, name)))


@dataclass(frozen=True)
class SelfpacedSettings:
    """Self-paced augmentation (Takase, Karakida & Asoh 2021; issue 25, M13) on digits: per seed a class-balanced
    training set of n, ``validation`` points (they choose tau and RandAugment's (N, M), never the test set), the
    remaining digits as the test set."""

    enabled: bool = False
    train_sizes: tuple[int, ...] = (50, 100, 200)
    # Training sizes per training job, in the order of train_sizes: 1 gives one job (and one cached run table) per
    # n, so that adding an n trains only that n; more share one process and one torch start-up (the smoke config).
    sizes_per_job: int = 1
    validation: int = 200
    # Seeds: one split, one initialisation, one batch order and one stream of augmentation draws each, shared by
    # every method of the seed (the differences between methods are paired).
    replicates: int = 5
    data: DataSettings = field(default_factory=DataSettings)
    augmentations: tuple[str, ...] = AUGMENTATIONS
    # Thresholds tried by SPA; tau = 0 also runs, as the sanity check SPA == CA (never chosen).
    taus: tuple[float, ...] = (0.03, 0.1, 0.3)
    randaugment: RandAugmentSettings = field(default_factory=RandAugmentSettings)
    training: TrainingSettings = field(default_factory=TrainingSettings)
    claims: SelfpacedClaims = analysis_field(default_factory=SelfpacedClaims)

    def __post_init__(self):
        object.__setattr__(self, "train_sizes", tuple(sorted(int(n) for n in self.train_sizes)))
        object.__setattr__(self, "taus", tuple(sorted(_floats(self.taus))))
        object.__setattr__(self, "augmentations", tuple(self.augmentations))
        bad = [n for n in self.train_sizes if n % 10]
        if bad:
            raise ValueError(f"train_sizes: {bad[0]} is not a multiple of the 10 classes (the split is "
                             "class-balanced)")
        if self.data.source == "digits" and self.train_sizes[-1] + self.validation >= DIGITS:
            raise ValueError(f"validation: the largest n + validation = {self.train_sizes[-1] + self.validation} "
                             f"leaves no test digit of the {DIGITS}")
        unknown = [a for a in self.augmentations if a not in (*AUGMENTATIONS, *OPTIONAL_AUGMENTATIONS)]
        if unknown:
            raise ValueError(f"augmentations: {unknown[0]!r} is not one of "
                             f"{[*AUGMENTATIONS, *OPTIONAL_AUGMENTATIONS]}")
        if not set(AUGMENTATIONS) <= set(self.augmentations):
            raise ValueError(f"augmentations: the claims need both {list(AUGMENTATIONS)}, got "
                             f"{list(self.augmentations)}")

    def job_sizes(self) -> list[tuple[int, ...]]:
        """The training sizes of each training job (``sizes_per_job`` consecutive sizes each)."""
        k = self.sizes_per_job
        return [self.train_sizes[i:i + k] for i in range(0, len(self.train_sizes), k)]

    def figure_names(self) -> tuple[str, ...]:
        return ("accuracy_vs_n", "augmented_fraction", "harmful_augmentation", "paired_gains", LOSS_VARIANCE_FIGURE)
