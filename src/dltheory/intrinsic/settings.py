"""Settings of the ``intrinsic`` family (Nakada & Imaizumi, JMLR 21(174) 2020, Sec. 6.1 and 6.2). Torch-free."""

from dataclasses import dataclass, field

from dltheory.nonsmooth.settings import DNNSettings
from dltheory.settings import analysis_field, to_config

EMBEDDINGS = ("repeated_axes", "rotated")  # dltheory.intrinsic.supports.EmbeddedSphere


@dataclass(frozen=True)
class IntrinsicTarget:
    name: str  # "nakada_sphere" or "nakada_ball" (dltheory.intrinsic.targets)
    scale: float = 1.0  # multiplies the paper's f_0 (ours)


@dataclass(frozen=True)
class AmbientControl:
    """Sim 6.1's ambient-D control (ours): one intrinsic dimension d on the same samples embedded in several D."""

    intrinsic_dim: int
    ambient_dims: tuple[int, ...]


@dataclass(frozen=True)
class SphereSettings:
    """Sim 6.1: a d-sphere embedded in R^D, one DNN per intrinsic dimension d (and per D of the control)."""

    ambient_dim: int
    intrinsic_dims: tuple[int, ...]
    target: IntrinsicTarget
    sizes: tuple[int, ...]
    replicates: int
    dnn: DNNSettings
    radius: float = 0.5  # amplitude of each embedded coordinate, 0.5 + radius u_i (dltheory.intrinsic.supports)
    embedding: str = "repeated_axes"  # or "rotated" (a Haar-random frame)
    control: AmbientControl | None = None

    def __post_init__(self):
        if self.embedding not in EMBEDDINGS:
            raise ValueError(f"embedding: unknown {self.embedding!r}; known: {', '.join(EMBEDDINGS)}")
        pairs = [(self.ambient_dim, d) for d in self.intrinsic_dims]
        if self.control is not None:
            if len(set(self.control.ambient_dims)) < 2:
                raise ValueError("control.ambient_dims: needs two or more different D")
            pairs += [(D, self.control.intrinsic_dim) for D in self.control.ambient_dims]
        for D, d in pairs:
            if d + 1 > D:
                raise ValueError(f"intrinsic_dims: a {d}-sphere needs {d + 1} ambient dimensions, ambient_dim is {D}")

    def grid(self) -> list[tuple[int, int]]:
        """Every (D, d) the sphere runs: the d grid at ``ambient_dim``, then the control's other D."""
        pairs = [(self.ambient_dim, d) for d in self.intrinsic_dims]
        if self.control is not None:
            pairs += [(D, self.control.intrinsic_dim) for D in self.control.ambient_dims
                      if (D, self.control.intrinsic_dim) not in pairs]
        return pairs


@dataclass(frozen=True)
class BallNetwork:
    """One Sim 6.2 network; a training key set here overrides the shared ``training`` block for it."""

    depth: int
    width: int
    max_steps: int | None = None
    batch_size: int | None = None
    learning_rate: float | None = None


@dataclass(frozen=True)
class BallsSettings:
    """Sim 6.2: a union of d-balls in R^D, several DNNs against k-NN and Nadaraya-Watson."""

    ambient_dim: int
    intrinsic_dims: tuple[int, ...]
    target: IntrinsicTarget
    sizes: tuple[int, ...]
    replicates: int
    networks: dict[str, BallNetwork]
    training: DNNSettings
    baselines: tuple[str, ...]
    baseline_params: dict = field(default_factory=dict)  # constructor arguments per baseline

    def __post_init__(self):
        from dltheory.intrinsic.estimators import make_intrinsic_baseline

        for d in self.intrinsic_dims:
            if d > self.ambient_dim:
                raise ValueError(f"intrinsic_dims: {d} exceeds ambient_dim {self.ambient_dim}")
        for name, params in self.baseline_params.items():
            try:
                make_intrinsic_baseline(name, params)
            except (ValueError, TypeError) as error:
                raise ValueError(f"baseline_params.{name}: {error}") from error

    def network_dnn(self, network: str) -> dict:
        """The DNN settings of one network: the shared training block with the network's own keys over it."""
        overrides = {key: value for key, value in to_config(self.networks[network]).items() if value is not None}
        return {**to_config(self.training), **overrides}


@dataclass(frozen=True)
class IntrinsicClaims:
    """Thresholds of the claims (read by the notebook only); each fixed before the runs that read it."""

    confidence: float = 0.95  # of every t-interval over replicates (dltheory.stats.slope_difference_interval)
    # A claim rests on the replicates whose every compared run learned (dltheory.references); with fewer than this
    # many it is reported as not testable (holds False).
    min_replicates: int = 3
    # Sim 6.1 (ii): the configured d at most this are the "fast" group, the rest the slow group (paper: {4, 16} vs
    # {64, 100}, i.e. 16).
    small_dim_max: int = 16
    # Ambient-D control: the rate does not depend on D when the t-interval of every slope difference between two
    # D lies inside [-tolerance, +tolerance].
    control_tolerance: float = 0.15


@dataclass(frozen=True)
class IntrinsicSettings:
    noise_variance: float
    n_test: int
    sphere: SphereSettings
    balls: BallsSettings
    enabled: bool = False
    # The output layer's initial weights times this (0: every net starts at the constant mean response; ours).
    output_init_scale: float = 1.0
    claims: IntrinsicClaims = analysis_field(default_factory=IntrinsicClaims)

    def __post_init__(self):
        small = [d for d in self.sphere.intrinsic_dims if d <= self.claims.small_dim_max]
        if not 0 < len(small) < len(self.sphere.intrinsic_dims):
            raise ValueError(f"claims.small_dim_max: {self.claims.small_dim_max} must split sphere.intrinsic_dims "
                             f"{list(self.sphere.intrinsic_dims)} into a fast and a slow group")

    @property
    def small_dims(self) -> tuple[int, ...]:
        """Sim 6.1's fast group: the configured d at most ``claims.small_dim_max``."""
        return tuple(d for d in self.sphere.intrinsic_dims if d <= self.claims.small_dim_max)

    def setting_specs(self) -> dict[str, dict]:
        """Sim 6.1 settings sphere_D<D>_d<d> and Sim 6.2 settings balls_D<D>_d<d>, each a dict for the package."""
        specs = {}
        sphere, balls = self.sphere, self.balls
        for D, d in sphere.grid():
            name = f"sphere_D{D}_d{d}"
            specs[name] = {
                "name": name, "simulation": "sphere", "ambient_dim": D, "intrinsic_dim": d, "radius": sphere.radius,
                "embedding": sphere.embedding, "target": to_config(sphere.target),
                "validation_fraction": sphere.dnn.validation_fraction,
            }
        for d in balls.intrinsic_dims:
            name = f"balls_D{balls.ambient_dim}_d{d}"
            specs[name] = {
                "name": name, "simulation": "balls", "ambient_dim": balls.ambient_dim, "intrinsic_dim": d,
                "target": to_config(balls.target), "validation_fraction": balls.training.validation_fraction,
            }
        return specs

    def figure_names(self) -> tuple[str, ...]:
        return ("sphere_error_vs_n", "balls_error_vs_n")
