"""Settings of the resinit family (issue 25, M11) as frozen dataclasses, built from the config section by
:func:`dltheory.settings.from_config`. Torch-free: the Snakefile builds them before any job.

The paper's full text was not readable (../shared/papers/resinit.md): the branch form, c, depths, widths and the
training protocol are ours; the depth-scaled variance Var[w] = c/(nL) is from a secondary summary. The defaults here
are config/config.yaml's; the schema holds types and ranges; ``__post_init__`` the checks across keys.
"""

from dataclasses import dataclass, field

from dltheory.settings import analysis_field

FAMILY = "resinit"

# Every network variant (dltheory.resinit.networks.VARIANTS has their forms).
VARIANTS = ("plain_he", "plain_default", "plain_bn", "res_he", "res_default", "res_taki", "res_bn", "fixup",
            "skipinit", "rezero")


def _floats(values) -> tuple[float, ...]:
    return tuple(float(v) for v in values)


def _check_variants(key: str, variants) -> None:
    unknown = [v for v in variants if v not in VARIANTS]
    if unknown:
        raise ValueError(f"{key}: unknown variant {unknown[0]!r}; known: {list(VARIANTS)}")


@dataclass(frozen=True)
class SweepSettings:
    """The trainability sweep (dltheory.resinit.training): every variant x init scale x depth x seed trains as one
    batched model with minibatch SGD with momentum on cross-entropy, digits (our setting)."""

    variants: tuple[str, ...] = ("plain_he", "res_he", "res_taki", "res_bn", "skipinit")
    # Multipliers s of the blocks' initial standard deviation (of the branch in residual nets).
    scales: tuple[float, ...] = (0.25, 0.5, 1.0, 2.0, 4.0)
    depths: tuple[int, ...] = (16,)
    width: int = 32
    replicates: int = 3
    steps: int = 200
    batch: int = 128
    learning_rate: float = 0.05
    momentum: float = 0.9
    taki_c: float = 2.0  # the c of the sweep's res_taki

    def __post_init__(self):
        _check_variants("variants", self.variants)
        object.__setattr__(self, "scales", tuple(sorted(_floats(self.scales))))
        object.__setattr__(self, "depths", tuple(sorted(int(d) for d in self.depths)))
        for name in ("learning_rate", "momentum", "taki_c"):
            object.__setattr__(self, name, float(getattr(self, name)))


@dataclass(frozen=True)
class ResinitClaims:
    """Thresholds of the claims M11-1 ... M11-6 (../shared/papers/resinit.md), written before the first run that
    reads them and never loosened after a result."""

    # M11-1: slope of log2(q_L / q_0) against L (L <= growth_max_depth) of res_he within [low, high], forward and
    # backward (2^L has slope 1).
    growth_slope_low: float = 0.8
    growth_slope_high: float = 1.05
    growth_max_depth: int = 64
    # M11-2: res_taki's q_L / q_0 <= bound_factor * e^{c/2} at every depth (forward and backward) ...
    bound_factor: float = 1.25
    # ... and q at the largest depth over q at flat_reference_depth < flat_ratio.
    flat_reference_depth: int = 8
    flat_ratio: float = 1.3
    # M11-3: res_bn's log-log slope of q_L against L within [low, high] ...
    bn_slope_low: float = 0.85
    bn_slope_high: float = 1.15
    # ... the log-log slope of the first/last weight-gradient norm ratio <= this ...
    bn_gradient_slope_max: float = 1.0
    # ... and the per-block rate ln(q_L2 / q_L1) / (L2 - L1) between the two largest depths < this (ln 2 for 2^L).
    bn_rate_max: float = 0.02
    # M11-4 / M11-5: a run is trainable when its final loss is finite and its test accuracy >= this; a (variant,
    # scale) counts when a majority of its seeds is.
    trainable_accuracy: float = 0.9
    # M11-5: res_bn's test accuracy at every scale >= the best res_he accuracy over scales minus this.
    bn_accuracy_margin: float = 0.03
    # Sanity cases: res_taki's outputs against rescaled He's (relative) and the identity variants' q_L / q_0 - 1.
    sanity_tolerance: float = 1e-12
    # Two-sided Student-t intervals over seeds (dltheory.stats.mean_interval); Wilson for fractions of runs.
    confidence: float = 0.95
    pilots: str = ""  # settings chosen after pilot runs, named in the claims that rest on them

    def __post_init__(self):
        for name in ("growth_slope_low", "growth_slope_high", "bound_factor", "flat_ratio", "bn_slope_low",
                     "bn_slope_high", "bn_gradient_slope_max", "bn_rate_max", "trainable_accuracy",
                     "bn_accuracy_margin", "sanity_tolerance", "confidence"):
            object.__setattr__(self, name, float(getattr(self, name)))
        if self.growth_slope_low >= self.growth_slope_high:
            raise ValueError(f"growth_slope_low: {self.growth_slope_low} is not below growth_slope_high "
                             f"{self.growth_slope_high}")
        if self.bn_slope_low >= self.bn_slope_high:
            raise ValueError(f"bn_slope_low: {self.bn_slope_low} is not below bn_slope_high {self.bn_slope_high}")


@dataclass(frozen=True)
class ResinitSettings:
    """Signal statistics at initialisation against depth, and trainability over init scale x depth (Taki, arXiv
    1709.02956; issue 25, M11). Inputs: scikit-learn's digits, standardised."""

    enabled: bool = False
    width: int = 128
    depths: tuple[int, ...] = (2, 4, 8, 16, 32, 64, 128)
    replicates: int = 5
    batch: int = 128  # digits per seed fed through the untrained nets (batch norm uses their batch statistics)
    variants: tuple[str, ...] = VARIANTS
    taki_c: tuple[float, ...] = (1.0, 2.0)
    # The depth whose per-block weight-gradient profile is drawn (a member of depths).
    profile_depth: int = 64
    sweep: SweepSettings = field(default_factory=SweepSettings)
    claims: ResinitClaims = analysis_field(default_factory=ResinitClaims)

    def __post_init__(self):
        _check_variants("variants", self.variants)
        object.__setattr__(self, "depths", tuple(sorted(int(d) for d in self.depths)))
        object.__setattr__(self, "taki_c", tuple(sorted(_floats(self.taki_c))))
        if self.profile_depth not in self.depths:
            raise ValueError(f"profile_depth: {self.profile_depth} is not one of depths {list(self.depths)}")
        if "res_taki" in self.sweep.variants and self.sweep.taki_c not in self.taki_c:
            raise ValueError(f"sweep.taki_c: {self.sweep.taki_c} is not one of taki_c {list(self.taki_c)}")

    def labels(self) -> tuple[str, ...]:
        """One label per measured network: res_taki once per c (res_taki_c1, res_taki_c2)."""
        out = []
        for variant in self.variants:
            out += [taki_label(c) for c in self.taki_c] if variant == "res_taki" else [variant]
        return tuple(out)

    def figure_names(self) -> tuple[str, ...]:
        return ("variance_vs_depth", "gradient_profile", "trainability_loss", "trainability_fraction")


def taki_label(c: float) -> str:
    return f"res_taki_c{float(c):g}"
