"""Training settings of the batched regression MLPs (``dltheory.nn.training``), torch-free so that the config can
be checked without loading torch."""

from dataclasses import dataclass


@dataclass(frozen=True)
class TrainingSettings:
    """Adam with a cosine schedule and per-model early stopping."""

    learning_rate: float = 1e-2
    batch_size: int = 256
    max_steps: int = 2000
    eval_every: int = 50
    patience: int = 10  # evaluations without improvement before a model stops
    lr_decay: float = 0.1  # final learning rate as a fraction of the first (cosine schedule)
    divergence_threshold: float = 1e6  # a training loss above this counts as diverged, like NaN
    # Float32 matmuls on CUDA: "highest" (full float32) or "high" (TF32 products, float32 accumulation; several
    # times faster on an H100). The CPU ignores it. Check a family's claims under "high" before relying on it.
    matmul_precision: str = "highest"
