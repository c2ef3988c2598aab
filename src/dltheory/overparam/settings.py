"""Settings of the overparam family (issue 24, M12) as frozen dataclasses, built from the config section by
:func:`dltheory.settings.from_config`. Torch-free: the Snakefile builds them before any job.

Every experimental setting is ours: the slides and the two Imaizumi papers give none (../shared/papers/overparam.md).
The defaults here are config/config.yaml's; the schema holds types and ranges; ``__post_init__`` the checks across
keys.
"""

from dataclasses import dataclass, field

from dltheory.settings import analysis_field

FAMILY = "overparam"


def _floats(values) -> tuple[float, ...]:
    return tuple(float(v) for v in values)


@dataclass(frozen=True)
class RandomFeaturesSettings:
    """Random ReLU features, ridgeless and ridge least squares on one-hot digits
    (dltheory.overparam.random_features)."""

    # N/n of the sweep, log-spaced from 0.05 to 10 with a dense stretch around the threshold N/n = 1.
    ratios: tuple[float, ...] = (0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.8, 0.9, 0.95, 1.0, 1.05, 1.1, 1.25, 1.5, 2.0,
                                 3.0, 5.0, 10.0)
    # Label-noise rates p of the training and validation labels (0 = clean; test labels are always clean).
    label_noise: tuple[float, ...] = (0.0, 0.2)
    # Ridge penalties lambda of (1/n)||Phi b - Y||^2 + lambda ||b||^2; the tuned ridge takes the one with the
    # smallest validation MSE per (seed, noise, N).
    penalties: tuple[float, ...] = (1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0, 10.0)
    # Singular values below rcond * s_max are dropped by the ridgeless fit (float64 SVD).
    rcond: float = 1e-12
    # N/n (members of ``ratios``) where the ridgeless fit is checked against numpy.linalg.lstsq (the sanity case).
    sanity_ratios: tuple[float, ...] = (0.5, 2.0)

    def __post_init__(self):
        object.__setattr__(self, "ratios", tuple(sorted(_floats(self.ratios))))
        object.__setattr__(self, "label_noise", tuple(sorted(_floats(self.label_noise))))
        object.__setattr__(self, "penalties", tuple(sorted(_floats(self.penalties))))
        object.__setattr__(self, "sanity_ratios", _floats(self.sanity_ratios))
        object.__setattr__(self, "rcond", float(self.rcond))
        missing = [r for r in self.sanity_ratios if r not in self.ratios]
        if missing:
            raise ValueError(f"sanity_ratios: {missing[0]} is not one of ratios {list(self.ratios)}")


@dataclass(frozen=True)
class MlpSettings:
    """One-hidden-layer ReLU networks over width, full-batch Adam on cross-entropy for a fixed number of steps, no
    early stopping and no weight decay (both shrink the peak: Nakkiran et al. 2020). dltheory.overparam.mlp."""

    # Hidden widths h; P = (d + 1) h + (h + 1) C parameters. Dense at 4-24, where the 20 %-noise peak sat in the
    # probe (h = 16).
    widths: tuple[int, ...] = (2, 4, 6, 8, 12, 16, 20, 24, 32, 64, 128)
    label_noise: tuple[float, ...] = (0.0, 0.2)
    steps: int = 1000
    learning_rate: float = 5e-3

    def __post_init__(self):
        object.__setattr__(self, "widths", tuple(sorted(int(w) for w in self.widths)))
        object.__setattr__(self, "label_noise", tuple(sorted(_floats(self.label_noise))))
        object.__setattr__(self, "learning_rate", float(self.learning_rate))


@dataclass(frozen=True)
class ParallelSettings:
    """Parallel networks (Nakada & Imaizumi, arXiv 2103.00500): the output average of M independently initialised
    networks of one width, trained as the MLP sweep's are, on the same data."""

    # Width of every member (below the interpolation width, where averaging has variance to remove).
    member_width: int = 8
    # Ensemble sizes M; members are the first M of max(members) networks per seed.
    members: tuple[int, ...] = (1, 2, 4, 8, 16)
    label_noise: float = 0.2

    def __post_init__(self):
        object.__setattr__(self, "members", tuple(sorted(int(m) for m in self.members)))
        object.__setattr__(self, "label_noise", float(self.label_noise))


@dataclass(frozen=True)
class OverparamClaims:
    """Thresholds of the claims M12-1 ... M12-6 (../shared/papers/overparam.md), written before the first run that
    reads them and never loosened after a result."""

    # M12-1: every seed's ridgeless test-MSE peak lies at N/n within [peak_low, peak_high] ...
    peak_low: float = 0.8
    peak_high: float = 1.25
    # ... and is at least peak_factor x the smallest test MSE at N/n <= small_ratio.
    peak_factor: float = 3.0
    small_ratio: float = 0.5
    # M12-2: median test error at the largest N/n <= median best over N/n < 1 plus this (0: at least as good).
    largest_margin: float = 0.0
    # M12-3: tuned ridge: max test MSE over [peak_low, peak_high] <= ridge_factor x its MSE at ridge_reference (the
    # sweep's N/n nearest to it).
    ridge_factor: float = 1.1
    ridge_reference: float = 0.5
    # M12-4: the first width whose train error is <= interpolation_error is the interpolation width; the test-error
    # peak lies within peak_steps grid steps of it and the widest net is >= peak_margin below the peak.
    interpolation_error: float = 0.01
    peak_steps: int = 1
    peak_margin: float = 0.03
    # M12-5: slope of the 0-1 generalisation gap against log10 P beyond the interpolation width <= this per decade.
    gap_slope_max: float = 0.01
    # M12-6: the M-average's test error rises by at most this from one M to the next, and the largest M is lower
    # than M = 1.
    parallel_tolerance: float = 0.005
    # Sanity: max |ridgeless - lstsq| / max |lstsq| over the test predictions at sanity_ratios <= this.
    lstsq_tolerance: float = 1e-6
    # Two-sided Student-t intervals over seeds (dltheory.stats.mean_interval).
    confidence: float = 0.95
    pilots: str = ""  # settings chosen after pilot runs, named in the trained networks' claims

    def __post_init__(self):
        for name in ("peak_low", "peak_high", "peak_factor", "small_ratio", "largest_margin", "ridge_factor",
                     "ridge_reference", "interpolation_error", "peak_margin", "gap_slope_max",
                     "parallel_tolerance", "lstsq_tolerance", "confidence"):
            object.__setattr__(self, name, float(getattr(self, name)))
        if self.peak_low >= self.peak_high:
            raise ValueError(f"peak_low: {self.peak_low} is not below peak_high {self.peak_high}")


@dataclass(frozen=True)
class OverparamSettings:
    """More parameters, better accuracy? (Imaizumi, JST slides 2021; issue 24, M12). Digits: a class-balanced
    training set of ``train`` points per seed, ``validation`` points to tune the ridge, the rest (clean) for test."""

    enabled: bool = False
    train: int = 400
    validation: int = 300
    # Seeds: one split, one label-noise draw, one feature draw and one set of initialisations each.
    replicates: int = 3
    random_features: RandomFeaturesSettings = field(default_factory=RandomFeaturesSettings)
    mlp: MlpSettings = field(default_factory=MlpSettings)
    parallel: ParallelSettings = field(default_factory=ParallelSettings)
    claims: OverparamClaims = analysis_field(default_factory=OverparamClaims)

    def __post_init__(self):
        if self.train % 10:
            raise ValueError(f"train: {self.train} is not a multiple of the 10 classes (the split is class-balanced)")
        if self.train + self.validation >= 1797:
            raise ValueError(f"validation: train + validation = {self.train + self.validation} leaves no test digit "
                             "of the 1797")

    def figure_names(self) -> tuple[str, ...]:
        return ("rf_curves", "mlp_width", "gap_vs_parameters", "parallel")
