"""CGNN for cause-effect pairs (Goudet et al., arXiv 1709.05321; cdt 0.6.0's pairwise ``GNN``), batched.

For a pair (x, y) CGNN fits, in each direction, a generator of the effect from the observed cause and noise,
ŷ = W2·relu(W1·[x, ε] + b1) + b2 with ε ~ N(0, 1) drawn afresh every epoch, by minimising MMD² between the
generated points [x, ŷ] and the observed [x, y] (``shared/papers/causal.md`` section 2; cdt ``GNN_model.run``).
After training, the MMD is averaged over test epochs without updates and over ``runs`` restarts, and the score is
(MMD_{y→x} − MMD_{x→y}) / (MMD_{y→x} + MMD_{x→y}): > 0 says x causes y (cdt ``GNN.predict_proba``).

Every pair × direction × run is one model of a single batched network (``dltheory.nn.batched_gan_mlp.BatchedGanMLP``,
parameters stacked on a leading model axis) trained by one Adam (``dltheory.nn.optim.Adam``: torch.optim.Adam's
numbers). The loss is the *sum* of the per-model MMDs, so each model's slice of the gradient is its own gradient,
and Adam, being elementwise, then moves each slice exactly as a separate Adam would. The MMD's gradient in the
generated values is formed by hand with the exponentials (``kernel_block``); autograd carries it through the small
networks only. On a GPU the tiled MMD is memory bound (each tile's distances, exponentials and slope go through
memory); ``fused_cgnn_mmd_squared`` computes the same in one torch.compile'd kernel per step, in registers
(``CgnnSettings.fused_mmd``). Each model draws its initial weights and its noise from its own ``torch.Generator``,
seeded by (seed, pair key, direction, run), so a pair's score does not depend on the pairs it is batched with.
"""

import logging
from collections.abc import Sequence

import numpy as np
import torch

from dltheory.causal.mmd import CGNN_GAMMAS, EXPONENT_FLOOR
from dltheory.causal.pairs import standardize, validate_pair
from dltheory.causal.settings import CgnnSettings  # noqa: F401  (the settings live torch-free)
from dltheory.nn.batched_gan_mlp import BatchedGanMLP
from dltheory.nn.optim import Adam
from dltheory.seeds import derive_seed

DIRECTIONS = ("x->y", "y->x")  # direction 0 generates y from x, direction 1 x from y
DTYPE = torch.float32  # as cdt, whose tensors are float32
# Gram tile on a CPU: 2^18 entries (1 MiB of float32) per buffer. Measured on the 2-core CPU, one training step's
# loss and gradient: 50 ms against 95 untiled (n = 500, 12 models), 100 against 188 (n = 1000, 6 models).
CPU_TILE_ELEMENTS = 2**18
# Gram tile on a GPU: 2^26 entries (256 MiB of float32) per buffer, so the kernel's working memory is a bounded
# 0.8 GB whatever the batch (untiled, one batch of the paper config's 3,600 models at n = 1,000 held three 14 GB
# buffers). A pass over a tile moves 512 MiB, ~0.2 ms on an H100 against ~5 µs to launch its kernel (estimates).
GPU_TILE_ELEMENTS = 2**26
NOISE_BLOCK_EPOCHS = 100  # noise is drawn per model for this many epochs at a time: few generator calls, bounded memory

log = logging.getLogger(__name__)


def kernel_block(
    rows: torch.Tensor,
    columns: torch.Tensor,
    cause_gap: torch.Tensor,
    gammas: Sequence[float] = CGNN_GAMMAS,
    with_gradient: bool = False,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Σ_ij k([c_i, r_i], [c_j, q_j]) over one block of CGNN's Gram matrix, and its gradient in the rows r.

    rows r (..., n) and columns q (..., m) are effect values, cause_gap (..., n, m) is (c_i − c_j)²; all
    broadcast. With a shared cause column every squared distance is s_ij = (r_i − q_j)² + cause_gap_ij, exact.
    The gradient through the row role only, ∂/∂r_i = Σ_j κ'(s_ij)·2(r_i − q_j) with κ'(s) = −Σ_γ γ e^{−γs}, is
    formed while the exponentials are at hand, so a training step needs no autograd graph through n² entries:
    2(r_i·Σ_j κ'_ij − Σ_j κ'_ij q_j), one row sum and one matrix–vector product. Works in place: call it on
    tensors that need no autograd graph (detached, or under ``torch.no_grad``).
    """
    squared = (rows[..., :, None] - columns[..., None, :]).square_().add_(cause_gap)
    total = squared.new_zeros(squared.shape[:-2])
    slope = torch.zeros_like(squared) if with_gradient else None
    term = torch.empty_like(squared)
    for gamma in gammas:  # in place: a few passes over one n × m buffer per gamma
        torch.mul(squared, -gamma, out=term).clamp_min_(EXPONENT_FLOOR).exp_()
        total += term.sum((-2, -1))
        if with_gradient:
            slope.add_(term, alpha=-gamma)
    if not with_gradient:
        return total, None
    gradient = 2.0 * (rows * slope.sum(-1) - (slope @ columns[..., :, None]).squeeze(-1))
    return total, gradient


def gram_tiles(groups: int, runs: int, n: int, tile_elements: int | None) -> list[tuple[slice, slice]]:
    """(group slice, row slice) pieces covering a (groups, runs, n, n) block, each about ``tile_elements`` entries.

    Sized from (runs, n) alone, never from the number of groups: every model then sums its Gram rows in the same
    pieces and order in any batch, so batching leaves its value unchanged (bitwise, as measured). ``None``: one
    piece (fastest on a GPU).
    """
    if tile_elements is None:
        return [(slice(0, groups), slice(0, n))]
    rows_per_tile = max(1, min(n, tile_elements // (runs * n)))
    groups_per_tile = max(1, tile_elements // (runs * rows_per_tile * n))
    return [
        (slice(g, g + groups_per_tile), slice(r, r + rows_per_tile))
        for g in range(0, groups, groups_per_tile)
        for r in range(0, n, rows_per_tile)
    ]


def cgnn_mmd_squared(
    generated: torch.Tensor,
    effect: torch.Tensor,
    cause_gap: torch.Tensor,
    observed_term: torch.Tensor,
    gammas: Sequence[float] = CGNN_GAMMAS,
    with_gradient: bool = False,
    tile_elements: int | None = None,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """CGNN's loss, MMD² between [c, ŷ] and [c, e] (``mmd.mmd_squared`` on these 2-D points), and ∂MMD²/∂ŷ.

    generated ŷ (groups, runs, n), effect e (groups, 1, n), cause_gap (groups, 1, n, n) = (c_i − c_j)² and
    observed_term (groups, 1) = 1/n² Σ_ij k([c_i, e_i], [c_j, e_j]): one (cause, effect) fit per group, ``runs``
    models each. The cause column is the same in both samples, so the observed–observed block is a constant
    computed once and a step evaluates 2n² kernel entries per model and gamma (generated–generated and
    generated–observed) instead of the pooled Gram's (2n)².
    MMD² = (Σ K_gg − 2 Σ K_go)/n² + observed_term. K_gg holds ŷ in its rows and, symmetrically, its columns, so
    its gradient is twice its row-role gradient; the cross block's −2 gives the same factor.
    The blocks are evaluated in ``gram_tiles`` of about ``tile_elements`` entries: three such float buffers are the
    working memory, and on a CPU tiles that stay in cache are up to 2× faster than whole blocks.
    """
    groups, runs, n = generated.shape
    total = generated.new_zeros(groups, runs)
    gradient = torch.empty_like(generated) if with_gradient else None
    for group, row in gram_tiles(groups, runs, n, tile_elements):
        rows, gap = generated[group, :, row], cause_gap[group, :, row, :]
        generated_sum, generated_gradient = kernel_block(rows, generated[group], gap, gammas, with_gradient)
        cross_sum, cross_gradient = kernel_block(rows, effect[group], gap, gammas, with_gradient)
        total[group] += generated_sum - 2.0 * cross_sum
        if with_gradient:
            gradient[group, :, row] = 2.0 * (generated_gradient - cross_gradient) / n**2
    return total / n**2 + observed_term, gradient


def _block_row_sums(
    rows: torch.Tensor, row_cause: torch.Tensor, columns: torch.Tensor, column_cause: torch.Tensor,
    gammas: Sequence[float],
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per row i of one Gram block: Σ_j κ(s_ij) and Σ_j κ'(s_ij)(r_i − q_j), one expression for torch.compile.

    The points are 2-D, [c_i, r_i] against [c_j, q_j], so the squared distance is a pointwise sum over the two
    coordinates, s_ij = (r_i − q_j)² + (c_i − c_j)², in the order ``kernel_block`` adds them; no matmul splits the
    expression. κ and κ' (= −Σ_γ γ e^{−γs}, as ``kernel_block``'s slope, exponents floored alike) are pointwise in
    s and reduced over j at once, so inductor emits one loop nest that keeps every entry in registers on CUDA (a
    Triton kernel; ``FUSED_COMPILE_OPTIONS``): no (rows × columns) buffer is written. On a CPU (C++ loops) inductor
    stores each exponential, read twice, of the row tile it is given (``fused_cgnn_mmd_squared``).
    """
    to_columns = rows[..., :, None] - columns[..., None, :]
    squared = to_columns.square() + (row_cause[..., :, None] - column_cause[..., None, :]).square()
    kernel, slope = 0.0, 0.0
    for gamma in gammas:
        term = (squared * -gamma).clamp_min(EXPONENT_FLOOR).exp()
        kernel = kernel + term
        slope = slope - gamma * term
    return kernel.sum(-1), (slope * to_columns).sum(-1)


def _fused_terms(
    rows: torch.Tensor,
    row_cause: torch.Tensor,
    generated: torch.Tensor,
    effect: torch.Tensor,
    cause: torch.Tensor,
    gammas: tuple[float, ...],
) -> tuple[torch.Tensor, torch.Tensor]:
    """Σ K_gg − 2 Σ K_go over the rows ŷ_i of ``rows`` (a row slice of ``generated``, its causes ``row_cause``) per
    model, and the rows' gradient times n² (``fused_cgnn_mmd_squared``): both blocks in one pass over j, their
    pointwise work and their four row reductions in one loop.

    The gradient is always formed, in training and test epochs alike: one compiled graph per dtype (each compile
    takes seconds), and on a GPU its few multiply-adds per entry hide behind the exponentials (paper_budget.py).
    """
    generated_sums, generated_pulls = _block_row_sums(rows, row_cause, generated, cause, gammas)
    observed_sums, observed_pulls = _block_row_sums(rows, row_cause, effect, cause, gammas)
    total = (generated_sums - 2.0 * observed_sums).sum(-1)
    # kernel_block's gradient is 2 Σ_j κ'(r_i − q_j); cgnn_mmd_squared takes 2 × (generated − cross): 4 × pulls.
    return total, 4.0 * (generated_pulls - observed_pulls)


# Compiled on first use (``_compiled_terms``). dynamic=True: one graph for every n and batch, not a recompile per
# shape; fullgraph=True: a graph break is an error, never a silent eager (Gram-holding) run. The realize thresholds
# keep every pointwise intermediate inlined into the row reductions: at inductor's defaults (4 reads, 30 ops) each
# exponential, read by both the kernel sum and the slope, is stored as an n × n buffer per model, which is the
# memory traffic fusing removes. (On a CPU inductor stores a reused exponential whatever these say, hence the
# row tiles there: ``FUSED_CPU_TILE_ELEMENTS``.) Called with grad mode on (inputs that need no gradient), so that
# training and test epochs share the graph.
FUSED_COMPILE_OPTIONS = {"realize_reads_threshold": 1000, "realize_opcount_threshold": 1000,
                         "realize_acc_reads_threshold": 1000}
FUSED_CPU_TILE_ELEMENTS = CPU_TILE_ELEMENTS
_COMPILED: dict[str, object] = {}


def _compiled_terms():
    if "terms" not in _COMPILED:
        _COMPILED["terms"] = torch.compile(_fused_terms, dynamic=True, fullgraph=True, options=FUSED_COMPILE_OPTIONS)
    return _COMPILED["terms"]


def fused_cgnn_mmd_squared(
    generated: torch.Tensor,
    effect: torch.Tensor,
    cause: torch.Tensor,
    observed_term: torch.Tensor,
    gammas: Sequence[float] = CGNN_GAMMAS,
    with_gradient: bool = False,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """``cgnn_mmd_squared`` as one compiled kernel (torch.compile): the same value and ∂MMD²/∂ŷ, no Gram tile held.

    generated ŷ (groups, runs, n), effect e and cause c (groups, 1, n), observed_term as ``cgnn_mmd_squared``'s.
    On CUDA one call covers the batch: the kernel keeps each entry's distances, exponentials and slope in
    registers, and the cause gaps (c_i − c_j)² are recomputed rather than read from an n × n buffer per fit, so the
    working memory is a few (groups, runs, n) row sums, linear in the points (``cgnn_peak_bytes``, fused). Each
    entry costs arithmetic only (``benchmarks/paper_budget.py``, ``CGNN_FLOPS_PER_ENTRY``), where the tiled path
    writes and reads its distances, exponentials and slope (~200 bytes per entry on a GPU). On a CPU, where
    inductor stores the exponentials, the rows go in ``gram_tiles`` of ``FUSED_CPU_TILE_ELEMENTS``, bounding them.
    The sums run in another order (over j per row, then over rows, and the gradient as Σ κ'(r_i − q_j) rather than
    r_i Σ κ' − Σ κ' q_j), so the two paths agree to rounding, not bitwise (tests/test_causal_cgnn.py states the
    tolerances). Compiling takes seconds on first use; a failure (no C++ compiler, no Triton) raises here:
    ``use_fused_mmd`` and ``_fit_and_test`` then warn and fall back to the tiled path.
    """
    groups, runs, n = generated.shape
    generated = generated.detach()
    total = generated.new_zeros(groups, runs)
    gradient = torch.empty_like(generated)
    tile_elements = FUSED_CPU_TILE_ELEMENTS if generated.device.type == "cpu" else None
    gammas = tuple(gammas)
    with torch.enable_grad():  # the graph's guard includes grad mode: one graph for train and test epochs
        for group, row in gram_tiles(groups, runs, n, tile_elements):
            # Copies (n-vectors, no n × n): the graph is guarded on its inputs' strides, on whether they are views
            # and on whether two are one tensor; fresh, distinct, contiguous ones keep it one graph for every call.
            inputs = [t.clone(memory_format=torch.contiguous_format) for t in (
                generated[group, :, row], cause[group, :, row], generated[group], effect[group], cause[group])]
            tile_total, tile_gradient = _compiled_terms()(*inputs, gammas)
            total[group] += tile_total
            gradient[group, :, row] = tile_gradient
    return total / n**2 + observed_term, gradient / n**2 if with_gradient else None


def score_from_mmds(test_mmds: np.ndarray) -> np.ndarray:
    """CGNN's score per pair from test MMDs of shape (pairs, 2 directions, runs) (cdt ``GNN.predict_proba``).

    (MMD_{y→x} − MMD_{x→y}) / (MMD_{y→x} + MMD_{x→y}), each MMD the mean over runs: in [−1, 1], > 0 for x → y.
    """
    mean_xy, mean_yx = test_mmds[:, 0].mean(-1), test_mmds[:, 1].mean(-1)
    return (mean_yx - mean_xy) / (mean_yx + mean_xy)


def model_generators(seed: int, pair_keys: Sequence[object], runs: int) -> list[torch.Generator]:
    """One ``torch.Generator`` per model, in model order (pair, direction, run), seeded from the names of the model.

    Seeding by the pair's key rather than its position in a batch is what makes its score independent of the rest.
    """
    generators = []
    for key in pair_keys:
        for direction in DIRECTIONS:
            for run in range(runs):
                generators.append(torch.Generator().manual_seed(derive_seed(seed, "cgnn", key, direction, run)))
    return generators


class _NoiseStream:
    """Fresh N(0, 1) noise of shape (models, n) per call, model b's from its own generator.

    Drawn in blocks of ``NOISE_BLOCK_EPOCHS`` calls: one ``randn`` per model and block instead of per epoch (with
    hundreds of models, per-epoch calls would cost more than the small models' steps). A model's noise sequence
    is its generator's stream of (block, n) draws, so it does not depend on the other models.
    """

    def __init__(self, generators: list[torch.Generator], n: int, device: torch.device):
        self.generators, self.n, self.device = generators, n, device
        self.block, self.position = None, NOISE_BLOCK_EPOCHS

    def next(self) -> torch.Tensor:
        if self.position == NOISE_BLOCK_EPOCHS:
            draws = [torch.randn(NOISE_BLOCK_EPOCHS, self.n, generator=g, dtype=DTYPE) for g in self.generators]
            self.block, self.position = torch.stack(draws, dim=1).to(self.device), 0
        noise = self.block[self.position]
        self.position += 1
        return noise


def _fit_and_test(
    causes: np.ndarray,
    effects: np.ndarray,
    generators: list[torch.Generator],
    settings: CgnnSettings,
    device: torch.device,
    fused: bool = False,
) -> np.ndarray:
    """Train ``runs`` generators per fit, all fits together; their test MMDs, shape (fits, runs).

    A fit is one (cause, effect) row of causes and effects, (fits, n), already standardized; generators has one
    per model, in order (fit, run). fused: the MMD by ``fused_cgnn_mmd_squared`` (else ``cgnn_mmd_squared`` in
    tiles); should it fail, a warning and the tiled path for the rest of the batch.
    """
    fits, n = causes.shape
    runs, n_models = settings.runs, causes.shape[0] * settings.runs
    cause = torch.as_tensor(causes, dtype=DTYPE, device=device)
    effect = torch.as_tensor(effects, dtype=DTYPE, device=device)
    tile_elements = FUSED_CPU_TILE_ELEMENTS if fused else gram_tile_elements(device)
    cause_gap = None if fused else _cause_gaps(cause)  # (fits, 1, n, n): shared by the runs; fused: not held
    effect = effect[:, None, :]  # (fits, 1, n)
    if fused:
        observed_term = _observed_term(cause[:, None, :], effect, settings.gammas, tile_elements)
    else:
        observed_term = kernel_block(effect, effect, cause_gap, settings.gammas)[0] / n**2  # (fits, 1)
    cause_per_model = cause.repeat_interleave(runs, dim=0)  # (models, n)

    def loss(generated: torch.Tensor, with_gradient: bool) -> tuple[torch.Tensor, torch.Tensor | None]:
        nonlocal fused, cause_gap, tile_elements
        if fused:
            try:
                return fused_cgnn_mmd_squared(
                    generated, effect, cause[:, None, :], observed_term, settings.gammas, with_gradient
                )
            except Exception as error:  # noqa: BLE001  (torch.compile's failures have no common type)
                _fused_failed(device, error)
                fused, cause_gap, tile_elements = False, _cause_gaps(cause), gram_tile_elements(device)
        return cgnn_mmd_squared(
            generated, effect, cause_gap, observed_term, settings.gammas, with_gradient, tile_elements
        )

    network = BatchedGanMLP(
        n_models,
        in_dim=2,
        out_dim=1,
        width=settings.hidden_units,
        depth=1,
        activation="relu",
        generator=generators,
        dtype=DTYPE,
    ).to(device)
    noise = _NoiseStream(generators, n, device)

    def generate() -> torch.Tensor:
        inputs = torch.stack([cause_per_model, noise.next()], dim=-1)  # (models, n, 2): [cause, noise]
        return network(inputs).view(fits, runs, n)

    optimizer = Adam(network.parameters(), lr=settings.learning_rate)
    for _ in range(settings.train_epochs):
        optimizer.zero_grad(set_to_none=True)
        generated = generate()
        _, gradient = loss(generated.detach(), True)
        # Chain rule into the weights: the gradient of the sum of the models' MMD². Through a scalar (its backward
        # passes ``gradient`` times 1.0, exactly), as ``generated.backward(gradient)`` imports sympy (0.4 s a job).
        (generated * gradient).sum().backward()
        optimizer.step()
    total = torch.zeros(fits, runs, dtype=torch.float64, device=device)
    with torch.no_grad():
        for _ in range(settings.test_epochs):
            total += loss(generate(), False)[0]
    return (total / settings.test_epochs).cpu().numpy()


def _cause_gaps(cause: torch.Tensor) -> torch.Tensor:
    """(c_i − c_j)² of every fit, (fits, 1, n, n), from causes (fits, n): the tiled path's n × n buffer per fit."""
    return (cause[:, :, None] - cause[:, None, :]).square()[:, None]


def _observed_term(
    cause: torch.Tensor, effect: torch.Tensor, gammas: Sequence[float], tile_elements: int
) -> torch.Tensor:
    """1/n² Σ_ij k([c_i, e_i], [c_j, e_j]) per fit, (fits, 1), from cause and effect (fits, 1, n), in ``gram_tiles``:
    the fused path's observed–observed constant, computed once with each tile's cause gaps and never all of them."""
    fits, _, n = effect.shape
    total = effect.new_zeros(fits, 1)
    for group, row in gram_tiles(fits, 1, n, tile_elements):
        gap = (cause[group, :, row, None] - cause[group, :, None, :]).square()
        total[group] += kernel_block(effect[group, :, row], effect[group], gap, gammas)[0]
    return total / n**2


def _fused_failed(device: torch.device, error: Exception) -> None:
    """Remember that the fused MMD failed on ``device``'s type (this process then uses the tiled path there), and
    say so once."""
    if device.type not in _FUSED_FAILURES:
        _FUSED_FAILURES[device.type] = f"{type(error).__name__}: {error}".splitlines()[0][:300]
        log.warning("CGNN: the fused MMD (torch.compile) failed on %s, so the tiled MMD runs instead (same numbers "
                    "to rounding, memory bound on a GPU): %s", device.type, _FUSED_FAILURES[device.type])


_FUSED_FAILURES: dict[str, str] = {}  # device type -> why the fused MMD failed there, in this process
_FUSED_WORKS: set[str] = set()  # device types where it compiled and ran, in this process


def use_fused_mmd(mode: str, device: str | torch.device) -> bool:
    """Whether CGNN's MMD runs fused (``CgnnSettings.fused_mmd``): "on" on any device, "auto" on CUDA devices only
    (on a CPU the tiled path is as fast and its numbers are the default run's), "off" never.

    Where it would run, it is tried first, once per process and device type, on a few points (compiling it, which
    takes seconds): a failure (no C++ compiler, no Triton) logs a warning and answers False, so that the batches
    are sized for the tiled path that then runs (``models_per_batch``).
    """
    if mode not in ("auto", "on", "off"):
        raise ValueError(f"CgnnSettings.fused_mmd must be one of auto, on, off, got {mode!r}")
    device = torch.device(device)
    if mode == "off" or (mode == "auto" and device.type != "cuda") or device.type in _FUSED_FAILURES:
        return False
    if device.type not in _FUSED_WORKS:
        try:
            points = torch.linspace(-1.0, 1.0, 12, dtype=DTYPE, device=device)
            fused_cgnn_mmd_squared(points.view(2, 2, 3), points[:6].view(2, 1, 3), points[6:].view(2, 1, 3),
                                   points.new_zeros(2, 1), with_gradient=True)
        except Exception as error:  # noqa: BLE001  (torch.compile's failures have no common type)
            _fused_failed(device, error)
            return False
        _FUSED_WORKS.add(device.type)
    return True


def gram_tile_elements(device: str | torch.device) -> int:
    """Entries per Gram tile of ``cgnn_mmd_squared`` on ``device`` (``CPU_TILE_ELEMENTS``, ``GPU_TILE_ELEMENTS``)."""
    return CPU_TILE_ELEMENTS if torch.device(device).type == "cpu" else GPU_TILE_ELEMENTS


def cgnn_peak_bytes(models: int, n: int, settings: CgnnSettings, tile_elements: int, fused: bool = False) -> int:
    """Peak memory, in bytes, of training one batch of ``models`` CGNN models on n points (``_fit_and_test``).

    Counted from the tensors the batch holds at once (float32, 4 bytes; h = ``hidden_units``, r = ``runs``,
    T = tile_elements, E = ``NOISE_BLOCK_EPOCHS``), the largest moment being a noise refill during a training step.
    The tiled MMD (``cgnn_mmd_squared``, fused False):

        models × (8En + 16nh + 20n + 64h + 16)  +  (models / r) × (4n² + 8n)  +  12T

    per model: two noise blocks of E × n (the old one is alive while the next is drawn), the inputs [cause, noise]
    (2n), four n × h activations and their gradients in the batched network, the cause, the generated values and
    their gradient (3n), and the parameters (4h + 1) with their gradient and Adam's two moments; per fit (r models,
    one cause and effect): the n × n cause gaps, the cause and the effect; per batch: the kernel's three Gram tiles
    (squared distances, exponentials, their slope). The Gram matrix itself is never held: ``cgnn_mmd_squared``
    reduces it tile by tile. At the paper config (n = 1,000, h = 20, r = 6, GPU tiles) that is 1.81 MB per model
    and 0.8 GB per batch: 7.3 GB for a benchmark's 3,600 models at once.

    The fused MMD (``fused_cgnn_mmd_squared``, fused True) holds no Gram tile on CUDA and no cause gaps anywhere:

        models × (8En + 16nh + 36n + 64h + 16)  +  (models / r) × 8n  +  40T

    per model four more n-vectors (the compiled kernel's row sums of both blocks and its gradient before scaling),
    per fit the cause and the effect; T = ``FUSED_CPU_TILE_ELEMENTS``: on a CPU, where inductor stores the ten
    exponentials of a row tile (``FUSED_COMPILE_OPTIONS``), ten such buffers; on CUDA none, and 40T (10 MiB) then
    bounds the three tiles of the one-off observed term (``_observed_term``) instead. 1.16 MB per model at the
    paper config: 4.2 GB for 3,600 models.
    """
    fits = -(-models // settings.runs)
    per_model = 8 * NOISE_BLOCK_EPOCHS * n + 16 * n * settings.hidden_units + 64 * settings.hidden_units + 16
    if fused:
        return models * (per_model + 36 * n) + fits * 8 * n + 40 * tile_elements
    return models * (per_model + 20 * n) + fits * (4 * n * n + 8 * n) + 12 * tile_elements


def models_per_batch(
    n: int, settings: CgnnSettings, device: str | torch.device = "cpu", fused: bool = False
) -> int | None:
    """The most models (whole pairs, 2·runs models each) one batch may train within ``settings.max_batch_bytes``
    (``cgnn_peak_bytes``, of the fused MMD's batch when fused); None when no budget is set. A budget below one
    pair's peak is an error naming it."""
    if settings.max_batch_bytes is None:
        return None
    tile, per_pair = FUSED_CPU_TILE_ELEMENTS if fused else gram_tile_elements(device), 2 * settings.runs
    one_pair = cgnn_peak_bytes(per_pair, n, settings, tile, fused)
    if one_pair > settings.max_batch_bytes:
        raise ValueError(f"CGNN max_batch_bytes={settings.max_batch_bytes} is below one pair's peak of {one_pair} "
                         f"bytes at n = {n} (cgnn_peak_bytes)")
    # The peak is linear in whole pairs: a fixed part (12T tiled, 40T fused) plus the same bytes again for each pair
    # (2r models, 2 fits).
    fixed = cgnn_peak_bytes(0, n, settings, tile, fused)
    pairs = (settings.max_batch_bytes - fixed) // (one_pair - fixed)
    return per_pair * pairs


def _checked_pairs(pairs: Sequence[tuple[np.ndarray, np.ndarray]]) -> list[tuple[np.ndarray, np.ndarray]]:
    if len(pairs) == 0:
        raise ValueError("cgnn needs at least one pair")
    checked, lengths = [], set()
    for index, (x, y) in enumerate(pairs):
        validate_pair(x, y, name=f"pair {index}")  # InvalidPair names the pair and what is wrong with it
        checked.append((np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)))
        lengths.add(len(x))
    if len(lengths) != 1:
        raise ValueError(f"all pairs must have the same number of points (group them by n), got {sorted(lengths)}")
    return checked


def cgnn_test_mmds(
    pairs: Sequence[tuple[np.ndarray, np.ndarray]],
    settings: CgnnSettings,
    seed: int,
    device: str | torch.device = "cpu",
    *,
    pair_keys: Sequence[object] | None = None,
    max_models_per_batch: int | None = None,
) -> np.ndarray:
    """Test-phase MMD² of every CGNN model: shape (pairs, 2, runs), direction 0 x → y and direction 1 y → x.

    pairs: (x, y) 1-D arrays, all of one length n (group pairs by n); each variable is standardized first
    (``pairs.standardize``, as cdt does with sklearn's ``scale``). pair_keys name the pairs for seeding (default: their
    positions); give the same key to get the same models for a pair in any batch. max_models_per_batch bounds how
    many models (2·runs per pair, whole pairs only) train at once, and so does ``settings.max_batch_bytes``
    (``models_per_batch``); the smaller bound holds; with neither, all train together.

    Cost per model and epoch: 2n² kernel entries per gamma (see ``cgnn_mmd_squared``), so time grows as
    models × n². Memory: ``cgnn_peak_bytes``; the Gram matrices are reduced in tiles (1 MiB per buffer on a CPU,
    256 MiB on a GPU), so a batch's memory grows with its models × n and its pairs × n² (the cause gaps), never
    with models × n²; with ``settings.fused_mmd`` (``use_fused_mmd``: by default on CUDA) one compiled kernel per
    step holds no tile and no cause gaps, so memory grows with models × n only. On a CPU batching gains little
    (the n² work dominates; measured on 1 thread at n = 100: 5.6 s for one pair, 4.2 s per pair in a batch of 20);
    on a GPU it is the speed lever.
    """
    checked = _checked_pairs(pairs)
    keys = list(range(len(checked))) if pair_keys is None else list(pair_keys)
    if len(keys) != len(checked):
        raise ValueError(f"need one key per pair: got {len(keys)} for {len(checked)} pairs")
    models_per_pair = 2 * settings.runs
    device = torch.device(device)
    if max_models_per_batch is not None and max_models_per_batch < models_per_pair:
        raise ValueError(f"max_models_per_batch={max_models_per_batch} is below one pair's {models_per_pair} models")
    fused = use_fused_mmd(settings.fused_mmd, device)
    by_memory = models_per_batch(len(checked[0][0]), settings, device, fused)
    bounds = [b for b in (max_models_per_batch, by_memory) if b]
    pairs_per_batch = min(bounds) // models_per_pair if bounds else len(checked)

    results = []
    for start in range(0, len(checked), pairs_per_batch):
        chunk = [(standardize(x), standardize(y)) for x, y in checked[start : start + pairs_per_batch]]
        causes = np.stack([column for x, y in chunk for column in (x, y)])  # rows: pair-major, direction 0 then 1
        effects = np.stack([column for x, y in chunk for column in (y, x)])
        generators = model_generators(seed, keys[start : start + pairs_per_batch], settings.runs)
        mmds = _fit_and_test(causes, effects, generators, settings, device, fused)
        results.append(mmds.reshape(len(chunk), len(DIRECTIONS), settings.runs))
    return np.concatenate(results)


def cgnn_scores(
    pairs: Sequence[tuple[np.ndarray, np.ndarray]],
    settings: CgnnSettings,
    seed: int,
    device: str | torch.device = "cpu",
    *,
    pair_keys: Sequence[object] | None = None,
    max_models_per_batch: int | None = None,
) -> np.ndarray:
    """CGNN's direction score per pair, shape (pairs,): > 0 means x causes y (``score_from_mmds``).

    Arguments as ``cgnn_test_mmds``; with ``CgnnSettings()`` this is cdt's ``GNN(batch_size=n).predict_proba``.
    """
    mmds = cgnn_test_mmds(pairs, settings, seed, device, pair_keys=pair_keys, max_models_per_batch=max_models_per_batch)
    return score_from_mmds(mmds)
