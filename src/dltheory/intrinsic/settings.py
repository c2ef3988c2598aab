"""Settings of the ``intrinsic`` family (Nakada & Imaizumi, JMLR 21(174) 2020, Sec. 6.1 and 6.2). Torch-free."""

from dataclasses import dataclass, field

from dltheory.nonsmooth.settings import BootstrapClaims, DNNSettings
from dltheory.settings import analysis_field, to_config


@dataclass(frozen=True)
class IntrinsicTarget:
    name: str  # "nakada_sphere" or "nakada_ball" (dltheory.intrinsic.targets)
    scale: float = 1.0  # multiplies the paper's f_0 (ours)


@dataclass(frozen=True)
class SphereSettings:
    """Sim 6.1: a d-sphere embedded in R^D, one DNN per intrinsic dimension d."""

    ambient_dim: int
    intrinsic_dims: tuple[int, ...]
    target: IntrinsicTarget
    sizes: tuple[int, ...]
    replicates: int
    dnn: DNNSettings
    radius: float = 0.5

    def __post_init__(self):
        for d in self.intrinsic_dims:
            if d + 1 > self.ambient_dim:
                raise ValueError(f"intrinsic_dims: a {d}-sphere needs {d + 1} ambient dimensions, ambient_dim is "
                                 f"{self.ambient_dim}")


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
class IntrinsicSettings:
    noise_variance: float
    n_test: int
    sphere: SphereSettings
    balls: BallsSettings
    enabled: bool = False
    claims: BootstrapClaims = analysis_field(default_factory=BootstrapClaims)

    def setting_specs(self) -> dict[str, dict]:
        """Sim 6.1 settings sphere_d<d> and Sim 6.2 settings balls_D<D>_d<d>, each a dict for the package."""
        specs = {}
        sphere, balls = self.sphere, self.balls
        for d in sphere.intrinsic_dims:
            specs[f"sphere_d{d}"] = {
                "name": f"sphere_d{d}", "simulation": "sphere", "ambient_dim": sphere.ambient_dim,
                "intrinsic_dim": d, "radius": sphere.radius, "target": to_config(sphere.target),
            }
        for d in balls.intrinsic_dims:
            name = f"balls_D{balls.ambient_dim}_d{d}"
            specs[name] = {
                "name": name, "simulation": "balls", "ambient_dim": balls.ambient_dim, "intrinsic_dim": d,
                "target": to_config(balls.target),
            }
        return specs

    def figure_names(self) -> tuple[str, ...]:
        return ("sphere_error_vs_n", "balls_error_vs_n")
