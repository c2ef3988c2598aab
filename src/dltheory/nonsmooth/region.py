"""The (alpha, beta) phase diagram of Imaizumi & Fukumizu, JMLR 23(111) 2022 ("J"): theory and measurement.

Theory (J Sec. 1 pp. 3-4, Fig. 2, Fig. 5, Cor 20): DNNs beat every linear estimator in rate iff
beta > alpha D / (2(alpha + D - 1)). Measurement: one target per (alpha, beta) cell (D and the grid from the
config; J's Prop 15 and Thm 13 need alpha, beta >= 1), and per cell the Student-t interval over paired replicates
of slope(dnn) - slope(best linear estimator), on the replicates where every method learned (error below half of
Var f, ``dltheory.references``). Every region drawn here is computed from the predicates and rates of
:mod:`dltheory.nonsmooth.theory`, never from re-typed formulas.
"""

import matplotlib.patheffects as path_effects
import numpy as np
import pandas as pd
from matplotlib import pyplot as plt
from matplotlib.colors import TwoSlopeNorm
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle

from dltheory.claims import Claim
from dltheory.nonsmooth.estimators import LINEAR_ESTIMATORS
from dltheory.nonsmooth.figures import METHOD_LABEL
from dltheory.nonsmooth.targets import BOUNDARY_HALF_WIDTH, lacunary_terms
from dltheory.nonsmooth.theory import (
    corollary20_condition,
    curvelet_suboptimal,
    dnn_beats_linear,
    dnn_rate_exponent,
    dnn_region_boundary,
    linear_rate_exponent,
    wavelet_suboptimal,
)
from dltheory.references import learned, learned_replicates
from dltheory.stats import replicate_slopes, slope_difference_interval

SOURCE_REGION = "Imaizumi & Fukumizu, JMLR 23(111) 2022, Sec. 1 pp. 3-4 and Fig. 2"

# (alpha, beta) read off the red curve of the printed JMLR Fig. 2 (J p. 3), measured on the rendered PDF
# (shared/papers/nonsmooth.md, Sec. 3). They fit beta = alpha D / (2(alpha + D - 1)) with D = 10 within 0.01,
# although the caption says D = 5.
JMLR_FIG2_DIGITIZED = ((2.36, 1.04), (2.86, 1.21), (3.37, 1.37), (3.88, 1.51), (4.40, 1.65), (4.91, 1.77))

DNN_COLOUR, SAME_COLOUR, SUBOPTIMAL_COLOUR = "#d62728", "0.85", "#1f77b4"
BOUNDARY_LABEL = "exact boundary $\\beta=\\alpha D/(2(\\alpha+D-1))$ (J Fig. 2)"


# --- A. Theory figure --------------------------------------------------------------------------------------


def _condition_edge(condition, alphas: np.ndarray, dim: int, beta_max: float, steps: int = 60) -> np.ndarray:
    """Per alpha, the smallest beta in (0, beta_max] where ``condition(alpha, beta, dim)`` holds (by bisection;
    the condition must be monotone in beta). NaN where it does not hold even at beta_max."""
    holds = np.vectorize(condition)
    low, high = np.zeros_like(alphas), np.full_like(alphas, beta_max)
    for _ in range(steps):
        middle = (low + high) / 2
        inside = holds(alphas, middle, dim)
        low, high = np.where(inside, low, middle), np.where(inside, middle, high)
    return np.where(holds(alphas, beta_max, dim), high, np.nan)


def _shade_predicate(axis, predicate, dim: int, xlim, ylim, label: str, resolution: int = 801) -> None:
    """Shade where ``predicate(alpha, beta, dim)`` holds, evaluated on a grid, with a dashed edge (J Fig. 5)."""
    alphas, betas = np.meshgrid(np.linspace(*xlim, resolution), np.linspace(*ylim, resolution))
    mask = np.vectorize(predicate)(alphas, betas, dim).astype(float)
    axis.contourf(alphas, betas, mask, levels=[0.5, 1.5], colors=[SUBOPTIMAL_COLOUR], alpha=0.3)
    if 0 < mask.mean() < 1:
        axis.contour(alphas, betas, mask, levels=[0.5], colors=[SUBOPTIMAL_COLOUR], linestyles="--", linewidths=1.8)
    axis.add_patch(Rectangle((0, 0), 0, 0, facecolor=SUBOPTIMAL_COLOUR, alpha=0.3, edgecolor=SUBOPTIMAL_COLOUR,
                             linestyle="--", label=label))  # legend proxy: contour sets carry no label


def _plot_dnn_panel(axis, dim: int, alpha_range, beta_range, low_beta: float) -> None:
    alphas = np.linspace(*alpha_range, 400)
    # If even the window's lowest beta is DNN-better for every alpha, lower the window so the boundary shows.
    extended = bool(np.all(np.vectorize(dnn_beats_linear)(alphas, beta_range[0], dim)))
    ylim = (low_beta, beta_range[1]) if extended else beta_range
    boundary = dnn_region_boundary(alphas, dim)
    shown = np.clip(boundary, *ylim)
    axis.fill_between(alphas, shown, ylim[1], color=DNN_COLOUR, alpha=0.25, lw=0,
                      label="DNN better than every linear estimator")
    axis.fill_between(alphas, ylim[0], shown, color=SAME_COLOUR, alpha=0.6, lw=0, label="same rate")
    axis.plot(alphas, boundary, color=DNN_COLOUR, lw=2, label=BOUNDARY_LABEL)
    axis.plot(alphas, _condition_edge(corollary20_condition, alphas, dim, 10 * ylim[1]), "k--", lw=1.5,
              label="Cor 20 (sufficient, as printed): $\\alpha<2\\beta(D-1)/D$")
    title = f"D = {dim}: J Fig. 2 region and Cor 20"
    if dim == 5:
        title += "\n(the D of J Fig. 2's caption)"
    if dim == 10:
        axis.plot(*zip(*JMLR_FIG2_DIGITIZED, strict=True), "o", color="k", mfc="white", ms=6, zorder=5,
                  label="JMLR Fig. 2 curve (digitized; caption says D=5, curve matches D=10)")
        title += "\n(matches J Fig. 2's printed curve)"
    if extended:
        title += f"\nwhole window $\\beta\\geq${beta_range[0]:g} is DNN-better; $\\beta$ axis from {low_beta:g}"
    axis.set(xlim=alpha_range, ylim=ylim, title=title)


def plot_theory_region(dims=(2, 5, 10), alpha_range=(1.0, 5.5), beta_range=(1.0, 4.0), low_beta_for_d2=0.2,
                       wavelet_dim: int = 5):
    """J Fig. 2 and Fig. 5 redrawn from the theory functions, one panel per D, plus wavelets and curvelets.

    DNN panels: shaded where beta > alpha D/(2(alpha+D-1)) (exact, J pp. 3-4) and Cor 20's stricter sufficient
    line (dashed); the D = 10 panel carries the points digitized from the printed Fig. 2. Wavelet panel: J Prop 18
    (beta > D/2, alpha > D-1) for ``wavelet_dim`` (default 5: at D = 2 the region fills the window, at D = 10 it
    lies above it). Curvelet panel: J Prop 19, D = 2 (beta, alpha > 1/2), axes extended down to show the edges.
    """
    panels = len(dims) + 2
    columns = 3
    rows = -(-(panels + 1) // columns)  # one spare slot holds the legend
    figure, axes = plt.subplots(rows, columns, figsize=(5.0 * columns, 4.6 * rows), squeeze=False)
    axes = axes.ravel()
    for axis, dim in zip(axes, dims, strict=False):
        _plot_dnn_panel(axis, dim, alpha_range, beta_range, low_beta_for_d2)

    wavelets = axes[len(dims)]
    _shade_predicate(wavelets, wavelet_suboptimal, wavelet_dim, alpha_range, beta_range,
                     "wavelets / curvelets sub-optimal vs DNN (J Prop 18, 19)")
    wavelets.set(xlim=alpha_range, ylim=beta_range,
                 title=(f"Wavelets, D = {wavelet_dim} (J Prop 18, Fig. 5):\n"
                        f"sub-optimal if $\\beta>D/2$, $\\alpha>D-1$ (uniform $P_X$)"))
    wavelets.text(0.03, 0.97, "D = 2: all of $\\alpha,\\beta>1$\nD = 10: $\\beta>5$, above the window",
                  transform=wavelets.transAxes, va="top", fontsize=9)

    curvelets = axes[len(dims) + 1]
    low = (low_beta_for_d2, low_beta_for_d2)
    curvelet_window = (min(low[0], alpha_range[0]), alpha_range[1]), (min(low[1], beta_range[0]), beta_range[1])
    _shade_predicate(curvelets, curvelet_suboptimal, 2, *curvelet_window,
                     "wavelets / curvelets sub-optimal vs DNN (J Prop 18, 19)")
    curvelets.set(xlim=curvelet_window[0], ylim=curvelet_window[1],
                  title=("Curvelets, D = 2 (J Prop 19, Fig. 5): sub-optimal\n"
                         "if $\\beta,\\alpha>1/2$ (Prop 19 assumes $\\alpha,\\beta\\geq2$); axes from "
                         f"{low_beta_for_d2:g}"))

    for axis in axes[:panels]:
        axis.set(xlabel="$\\alpha$: smoothness of the singular hypersurfaces",
                 ylabel="$\\beta$: smoothness inside the pieces")
        axis.title.set_fontsize(9.5)
    handles = {}
    for axis in axes[:panels]:
        for handle, label in zip(*axis.get_legend_handles_labels(), strict=True):
            handles.setdefault(label, handle)
    for axis in axes[panels:]:
        axis.axis("off")
    axes[panels].legend(handles.values(), handles.keys(), loc="center", fontsize=9, frameon=False)
    figure.suptitle("Where DNNs beat linear estimators in rate: Imaizumi & Fukumizu, JMLR 2022, "
                    "Fig. 2, Fig. 5, Cor 20")
    figure.tight_layout()
    return figure


# --- B. Empirical map --------------------------------------------------------------------------------------


def predicted_difference(alpha: float, beta: float, dim: int, pieces: int = 2) -> float:
    """Theory's slope(DNN) - slope(best linear estimator): -(DNN exponent - linear exponent) (J Cor 8, Prop 15).

    Negative inside the region where DNNs win, 0 on the "same rate" side. A worst-case statement over the class:
    one fixed target may show other slopes (see :func:`octave_energy`).
    """
    return -(dnn_rate_exponent(dim, alpha, beta, pieces) - linear_rate_exponent(dim, alpha, beta, pieces))


def octave_energy(spec: dict, octaves: int = 3) -> dict:
    """How much of a lacunary cell target's roughness sits beyond its first octaves (issue 19, point 4).

    ``piece_tail``: variance of a piece's octaves >= 1 (amplitude^2 sum_{j>=1} a_j(beta)^2 / 2), the part of
    f_m that carries beta; ``boundary_tail``: the boundary's largest displacement from octaves >= 1
    (BOUNDARY_HALF_WIDTH sum_{j>=1} a_j(alpha)), the part of h that carries alpha; and both per octave. An
    estimator whose error is far above ``piece_tail`` cannot see beta; a boundary whose ``boundary_tail`` is far
    below the estimator's resolution behaves as a single smooth wave, whatever alpha says.
    """
    n_terms = spec.get("n_terms", 8)
    _, _, beta_weights = lacunary_terms(spec["dim"], spec["beta"], 0, n_terms)
    _, _, alpha_weights = lacunary_terms(spec["dim"] - 1, spec["alpha"], 0, n_terms)
    piece = spec.get("amplitude", 0.25) ** 2 * beta_weights**2 / 2
    boundary = BOUNDARY_HALF_WIDTH * alpha_weights
    return {"piece_tail": float(piece[1:].sum()), "boundary_tail": float(boundary[1:].sum()),
            "piece_octaves": piece[:octaves].tolist(), "boundary_octaves": boundary[:octaves].tolist()}


def _matrix(rows: pd.DataFrame, metric: str) -> tuple[np.ndarray, np.ndarray]:
    """(replicates, sizes) values of one metric of one method on one cell, and the sizes."""
    wide = rows[rows.metric == metric].pivot(index="replicate", columns="n", values="value").sort_index(axis=1)
    return wide.sort_index().to_numpy(), wide.columns.to_numpy()


def _cell_record(table: pd.DataFrame, target: str, confidence: float) -> dict:
    rows = table[table.target == target]
    info = rows.iloc[0]
    dim, alpha, beta, pieces = int(info.dim), float(info.alpha), float(info.beta), int(info.pieces)
    inside = bool(dnn_beats_linear(alpha, beta, dim))
    record = {
        "target": target, "dim": dim, "alpha": alpha, "beta": beta, "inside_theory": inside,
        "predicted_difference": predicted_difference(alpha, beta, dim, pieces),
        "dnn_theory_slope": -dnn_rate_exponent(dim, alpha, beta, pieces),
        "linear_theory_slope": -linear_rate_exponent(dim, alpha, beta, pieces),
        "linear_method": None, "dnn_slope": np.nan, "linear_slope": np.nan,
        "difference": np.nan, "low": np.nan, "high": np.nan, "replicates": 0, "replicates_run": 0,
        "unlearned_runs": 0, "diverged_runs": 0, "testable": False, "dnn_wins": False, "agrees": False,
        "verdict": "not testable",
    }
    by_method = {method: group for method, group in rows.groupby("method")}
    linear = [m for m in LINEAR_ESTIMATORS if m in by_method]
    if "dnn" not in by_method or not linear or "constant" not in by_method:
        return record
    variance, sizes = _matrix(by_method["constant"], "mse")
    errors, flags = {}, {}
    for method in ["dnn", *linear]:
        errors[method], method_sizes = _matrix(by_method[method], "mse")
        # A missing run or a misaligned grid: no slope is comparable, so no verdict.
        if errors[method].shape != variance.shape or not np.array_equal(method_sizes, sizes):
            return record
        # The guard: a run (a diverged DNN's NaN included) that does not beat half of Var f is no evidence.
        flags[method] = learned(errors[method], variance)
    usable = learned_replicates(*flags.values())
    record.update(replicates_run=int(len(usable)), replicates=int(usable.sum()),
                  unlearned_runs=int(sum((~flag).sum() for flag in flags.values())),
                  diverged_runs=int(sum((~np.isfinite(e)).sum() for e in errors.values())))
    if usable.sum() < 2:  # a t-interval needs two paired replicates
        return record
    linear_slopes = {m: replicate_slopes(errors[m][usable], sizes) for m in linear}
    best = min(linear_slopes, key=linear_slopes.get)  # steepest: the comparison most favourable to linear
    interval = slope_difference_interval(errors["dnn"][usable], errors[best][usable], sizes, confidence)
    wins = bool(interval["high"] < 0)
    record.update(linear_method=best, dnn_slope=replicate_slopes(errors["dnn"][usable], sizes),
                  linear_slope=linear_slopes[best], difference=interval["difference"], low=interval["low"],
                  high=interval["high"], testable=True, dnn_wins=wins, agrees=wins == inside,
                  verdict="DNN steeper" if wins else "DNN not steeper")
    return record


def region_cells(table: pd.DataFrame, confidence: float) -> pd.DataFrame:
    """One row per target ((alpha, beta) cell): the DNN's slope against the steepest linear estimator's.

    ``difference`` = slope(dnn) - slope(best linear) with its Student-t interval [low, high] over the
    ``replicates`` paired replicates in which the DNN and every linear estimator learned at every n
    (``references.learned``: error below half of Var f; ``replicates_run`` were run, ``unlearned_runs`` counts the
    runs that failed the guard, ``diverged_runs`` those among them whose error is NaN: a DNN that diverged before any
    good checkpoint). The verdict is one-sided, as the theory is: inside J's region (pp. 3-4) the DNN
    should be significantly steeper (``dnn_wins``: high < 0); on the "same rate" side it should not be.
    ``agrees`` when the verdict matches; a cell with fewer than two usable replicates is not testable and neither
    wins nor agrees. ``predicted_difference`` and the theory slopes come from :mod:`dltheory.nonsmooth.theory`.
    """
    records = [_cell_record(table, target, confidence) for target in table.target.unique()]
    return pd.DataFrame(records).sort_values(["alpha", "beta"], ignore_index=True)


def agreement_fraction(cells: pd.DataFrame) -> float:
    """Fraction of testable cells where the one-sided verdict matches the theory region (NaN if none)."""
    testable = cells[cells.testable]
    return float(testable.agrees.mean()) if len(testable) else float("nan")


def half_width(cell) -> float:
    """Half the interval's width: the smallest |difference| that cell could have declared significant."""
    return (cell.high - cell.low) / 2


def _cell_name(cell) -> str:
    side = "inside" if cell.inside_theory else "same rate"
    if not cell.testable:
        diverged = getattr(cell, "diverged_runs", 0)
        return (f"({cell.alpha:g}, {cell.beta:g}) {side}: not testable ({cell.replicates} of {cell.replicates_run} "
                "replicates learned" + (f"; {diverged} run(s) diverged" if diverged else "") + ")")
    return (f"({cell.alpha:g}, {cell.beta:g}) {side}: {cell.difference:+.3f} [{cell.low:+.3f}, {cell.high:+.3f}] "
            f"(R={cell.replicates}) vs predicted {cell.predicted_difference:+.3f}")


def diagnose_cell(cell) -> str:
    """Why a testable cell disagrees with the theory, with its evidence (issue 19: bug, scale, design, finding).

    Inside the region: "design" when the linear estimator beat J's worst-case linear rate on this one target by more
    than the interval's half-width (a fixed target can be easier than the worst case, so the predicted gap need
    not open); "scale" when the predicted difference is within the half-width; else "finding". Same-rate side:
    "scale" (pre-asymptotic) when the DNN's slope is steeper than its own theory rate, or the linear slope flatter
    than the linear bound; else "finding".
    """
    name = _cell_name(cell)
    width = half_width(cell)
    if cell.inside_theory:
        if cell.linear_slope < cell.linear_theory_slope - width:
            return (f"{name}: design (on this fixed target {cell.linear_method}'s slope {cell.linear_slope:+.3f} is "
                    f"steeper than J's worst-case linear rate {cell.linear_theory_slope:+.3f} by more than the "
                    f"half-width {width:.3f}: Prop 15 bounds the worst case over the class, not one member)")
        if abs(cell.predicted_difference) < width:
            return (f"{name}: scale (the predicted difference is within the interval's half-width {width:.3f}, "
                    f"so this cell cannot resolve it at R={cell.replicates})")
        return f"{name}: finding (the predicted difference exceeds the half-width {width:.3f} and is not seen)"
    reasons = []
    if cell.dnn_slope < cell.dnn_theory_slope - width:
        reasons.append(f"the DNN's slope {cell.dnn_slope:+.3f} is steeper than its own theory rate "
                       f"{cell.dnn_theory_slope:+.3f}: its error is still falling from a poor fit at the smallest n")
    if cell.linear_slope > cell.linear_theory_slope + width:
        reasons.append(f"{cell.linear_method}'s slope {cell.linear_slope:+.3f} is flatter than the linear "
                       f"bound {cell.linear_theory_slope:+.3f}, which is a worst case, not a rate every linear "
                       "estimator attains on one fixed target")
    if reasons:
        return f"{name}: scale (pre-asymptotic: " + "; ".join(reasons) + ")"
    return f"{name}: finding (the DNN is steeper where theory predicts the same rate, within both theory slopes)"


def roughness_statement(specs: dict, table: pd.DataFrame) -> str:
    """Do the fixed targets carry their alpha and beta at the n used? Their roughness beyond the first octave
    (:func:`octave_energy`) against the DNN's error at the largest n."""
    energy = pd.DataFrame({name: octave_energy(spec) for name, spec in specs.items()}).T
    errors = table[(table.metric == "mse") & (table.method == "dnn")]
    largest = errors[errors.n == errors.n.max()].value
    return (f"targets: the pieces' variance beyond octave 0 is {energy.piece_tail.min():.4f}-"
            f"{energy.piece_tail.max():.4f} and the boundaries' displacement beyond octave 0 "
            f"{energy.boundary_tail.min():.4f}-{energy.boundary_tail.max():.4f}, against DNN errors "
            f"{largest.min():.3f}-{largest.max():.3f} at n = {errors.n.max()}: the fixed targets carry little of "
            "their alpha and beta at these n")


def resolution_statement(cells: pd.DataFrame) -> str:
    """What the run could resolve: interval half-widths against the predicted differences of the win cells."""
    testable = cells[cells.testable]
    if not len(testable):
        return "no testable cell"
    widths = testable.apply(half_width, axis=1)
    wins = testable[testable.inside_theory]
    resolvable = int((wins.predicted_difference.abs() >= widths[wins.index]).sum())
    replicates = sorted(set(testable.replicates))
    return (f"minimum detectable difference (interval half-width) {widths.median():.3f} median, "
            f"{widths.min():.3f}-{widths.max():.3f} over {len(testable)} testable cells at R = "
            f"{'/'.join(map(str, replicates))}; {resolvable} of {len(wins)} win cells have a predicted |difference| "
            f"({', '.join(f'{p:+.3f}' for p in wins.predicted_difference)}) at least their half-width")


def _with_pilots(detail: str, pilots: str) -> str:
    return detail + (f"; chosen after pilots: {pilots}" if pilots else "")


def region_claims(cells: pd.DataFrame, target_fraction: float, pilots: str = "", targets: str = "") -> list[Claim]:
    """Claims of the phase diagram, each free to fail inside J's hypotheses (alpha, beta >= 1):

    * ``region.dnn_wins_inside_theory``: no testable "same rate" cell shows the DNN significantly steeper, at least
      one such cell was tested, and the DNN wins somewhere;
    * ``region.agreement_with_theory``: the fraction of testable cells whose one-sided verdict matches theory
      reaches ``target_fraction`` (fixed in the config before the first run).

    Failing claims name each disagreeing cell with its diagnosis (:func:`diagnose_cell`); every detail says what
    the run could resolve (:func:`resolution_statement`) and, if given, how much roughness the ``targets`` carry
    (:func:`roughness_statement`).
    """
    testable = cells[cells.testable]
    same_rate = testable[~testable.inside_theory]
    wrong_wins = same_rate[same_rate.dnn_wins]
    winners = testable[testable.dnn_wins]
    fraction = agreement_fraction(cells)
    disagreeing = testable[~testable.agrees]
    untestable = cells[~cells.testable]
    unlearned = cells[cells.unlearned_runs > 0]
    diverged = int(cells.diverged_runs.sum()) if "diverged_runs" in cells else 0
    guard = (f"{int(cells.unlearned_runs.sum())} unlearned run(s) in {len(unlearned)} cell(s) left out by the "
             f"did-it-learn guard" + (f" ({diverged} of them diverged: error NaN)" if diverged else "")
             + f"; {len(untestable)} cell(s) not testable"
             + (" (" + "; ".join(map(_cell_name, untestable.itertuples())) + ")" if len(untestable) else ""))
    resolution = resolution_statement(cells)

    if len(same_rate) == 0:
        inside_detail = "not tested (design, or every run diverged): no testable 'same rate' cell, nothing to check"
    elif len(winners) == 0:
        inside_detail = "scale: the DNN is significantly steeper in no cell at all; " + resolution
    elif len(wrong_wins):
        inside_detail = "DNN significantly steeper in 'same rate' cells: " + "; ".join(
            map(diagnose_cell, wrong_wins.itertuples()))
    else:
        inside_detail = (f"every DNN-winning cell is inside the region ({len(winners)} of "
                         f"{int(testable.inside_theory.sum())} inside cells won); {resolution}")
    agreement_detail = ("disagreeing cells: " + ("; ".join(map(diagnose_cell, disagreeing.itertuples())) or "none")
                        + f"; {resolution}")
    guard = "; ".join(filter(None, [guard, targets]))
    return [
        Claim(
            id="region.dnn_wins_inside_theory",
            source=SOURCE_REGION + "; Prop 15, Thm 13 (alpha, beta >= 1)",
            statement=("DNNs are faster than every linear estimator only where beta > alpha D/(2(alpha+D-1)): in "
                       "no 'same rate' cell is slope(DNN) - slope(best linear) significantly below 0."),
            measured=(f"{len(wrong_wins)}/{len(same_rate)} same-rate cells with the DNN significantly steeper; "
                      f"{len(winners)} winning cell(s) in all (t-intervals, R = "
                      f"{'/'.join(map(str, sorted(set(testable.replicates)))) or '-'})"),
            expected=("0 same-rate cells with the upper end of the t-interval below 0, at least one same-rate cell "
                      "tested, and at least one DNN-winning cell"),
            tolerance=None,
            holds=bool(len(same_rate) > 0 and len(wrong_wins) == 0 and len(winners) > 0),
            ours=True,
            detail=_with_pilots(f"{inside_detail}; {guard}", pilots),
            tested=bool(len(same_rate) > 0),
        ),
        Claim(
            id="region.agreement_with_theory",
            source=SOURCE_REGION + "; Cor 20",
            statement=("The measured (alpha, beta) map matches the theory region: inside it the DNN is "
                       "significantly steeper than the best linear estimator, outside it is not."),
            measured=(f"{round(fraction, 4)} ({int(testable.agrees.sum())}/{len(testable)} testable cells)"
                      if np.isfinite(fraction) else "no testable cell"),
            expected=f"fraction of testable cells that agree >= {target_fraction:g}",
            tolerance=None,
            holds=bool(np.isfinite(fraction) and fraction >= target_fraction),
            ours=True,
            detail=_with_pilots(("" if len(testable) else "not tested: no testable cell; ")
                                + f"{agreement_detail}; {guard}", pilots),
            tested=bool(len(testable)),
        ),
    ]


def _grid_index(values: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """Position of ``values`` on a map whose tiles sit at 0, 1, ... for the sorted ``grid``: piecewise linear
    between grid values, extended linearly beyond the ends (by the end gaps; a one-value grid counts 1 per unit)."""
    values, grid = np.asarray(values, float), np.asarray(grid, float)
    if len(grid) == 1:
        return values - grid[0]
    index = np.interp(values, grid, np.arange(len(grid)))
    low, high = values < grid[0], values > grid[-1]
    index[low] = (values[low] - grid[0]) / (grid[1] - grid[0])
    index[high] = len(grid) - 1 + (values[high] - grid[-1]) / (grid[-1] - grid[-2])
    return index


def plot_region_map(cells: pd.DataFrame, confidence: float = 0.95):
    """Heat map of slope(dnn) - slope(best linear) over the (alpha, beta) cells, with J's boundary on top.

    One equal tile per grid value (ticks at the configured alphas and betas, so the axes are to scale only between
    neighbouring values); J's boundary is mapped piecewise linearly between them, so each tile's centre lies on
    the theory side of its own (alpha, beta). Blue (< 0) means the DNN's error falls faster. Each cell prints the
    measured difference, its t-interval and the replicate count R, and the theory's predicted difference. Stars
    mark cells whose interval lies below 0; thick black outlines mark cells that disagree with theory; a dotted
    orange outline marks a cell with runs that failed the did-it-learn guard; grey hatching marks cells that are
    not testable (< 2 replicates learned).
    """
    dims = cells.dim.unique()
    if len(dims) != 1:
        raise ValueError(f"one map per D; cells have D in {sorted(dims)}")
    dim = int(dims[0])
    alphas, betas = np.sort(cells.alpha.unique()), np.sort(cells.beta.unique())
    alpha_edges, beta_edges = np.arange(len(alphas) + 1) - 0.5, np.arange(len(betas) + 1) - 0.5
    grid = cells.pivot(index="beta", columns="alpha", values="difference").reindex(index=betas, columns=alphas)
    limit = np.nanmax(np.abs(cells[["difference", "low", "high"]].to_numpy(float)), initial=0.0) or 1.0
    norm = TwoSlopeNorm(vcenter=0.0, vmin=-limit, vmax=limit)

    figure, axis = plt.subplots(figsize=(1.9 * len(alphas) + 3.4, 1.15 * len(betas) + 2.8))
    mesh = axis.pcolormesh(alpha_edges, beta_edges, np.ma.masked_invalid(grid.to_numpy(float)), cmap="RdBu_r",
                           norm=norm, edgecolors="white", linewidth=0.5)
    figure.colorbar(mesh, ax=axis, label="slope(DNN) $-$ slope(best linear estimator)\n< 0: DNN error falls faster")
    for cell in cells.itertuples():
        i, j = int(np.searchsorted(alphas, cell.alpha)), int(np.searchsorted(betas, cell.beta))
        x0, x1, y0, y1 = alpha_edges[i], alpha_edges[i + 1], beta_edges[j], beta_edges[j + 1]
        centre = ((x0 + x1) / 2, (y0 + y1) / 2)
        if cell.unlearned_runs:
            inset_x, inset_y = 0.04 * (x1 - x0), 0.06 * (y1 - y0)
            axis.add_patch(Rectangle((x0 + inset_x, y0 + inset_y), x1 - x0 - 2 * inset_x, y1 - y0 - 2 * inset_y,
                                     fill=False, edgecolor="darkorange", lw=2, ls=":", zorder=6))
        if not cell.testable:
            axis.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, facecolor="0.85", hatch="xx", edgecolor="0.6"))
            lost = getattr(cell, "diverged_runs", 0)
            axis.text(*centre, f"not testable\n{cell.replicates} of {cell.replicates_run} replicates learned\n"
                      + (f"{lost} run(s) diverged\n" if lost else "") + f"theory {cell.predicted_difference:+.2f}",
                      ha="center", va="center", fontsize=7, zorder=6)
            continue
        dark = abs(norm(cell.difference) - 0.5) > 0.3
        label = (f"{cell.difference:+.2f} [{cell.low:+.2f}, {cell.high:+.2f}]\nR={cell.replicates}"
                 + (f" ({cell.unlearned_runs} unlearned runs)" if cell.unlearned_runs else "")
                 + f" vs {METHOD_LABEL.get(cell.linear_method, cell.linear_method)}"
                 + f"\ntheory {cell.predicted_difference:+.2f}")
        # The label sits on a patch of its cell's own colour, so the boundary line passes behind it.
        axis.text(*centre, label, ha="center", va="center", fontsize=6.5, color="white" if dark else "black",
                  zorder=6, bbox={"boxstyle": "round,pad=0.2", "facecolor": mesh.cmap(norm(cell.difference)),
                                  "lw": 0})
        if cell.dnn_wins:
            axis.plot(x1 - 0.08 * (x1 - x0), y1 - 0.12 * (y1 - y0), "*", color="gold", mec="black", ms=11, zorder=7)
        if not cell.agrees:
            axis.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, edgecolor="black", lw=2.5, zorder=5))

    xlim, ylim = (alpha_edges[0], alpha_edges[-1]), (beta_edges[0], beta_edges[-1])
    gaps = np.diff(alphas) if len(alphas) > 1 else np.ones(1)
    continuous = np.linspace(alphas[0] - gaps[0] / 2, alphas[-1] + gaps[-1] / 2, 400)
    axis.plot(_grid_index(continuous, alphas), _grid_index(dnn_region_boundary(continuous, dim), betas),
              color="black", lw=2.2, zorder=5,
              path_effects=[path_effects.withStroke(linewidth=4.5, foreground="white")],
              label=f"theory boundary $\\beta=\\alpha D/(2(\\alpha+D-1))$, D={dim} (J Fig. 2): DNN better above")
    fraction = agreement_fraction(cells)
    testable = int(cells.testable.sum())
    replicates = "/".join(map(str, sorted(set(cells[cells.testable].replicates)))) or "-"
    axis.set(xlim=xlim, ylim=ylim, xlabel="$\\alpha$: smoothness of the singular boundary (grid values)",
             ylabel="$\\beta$: smoothness inside the pieces\n(grid values)",
             xticks=range(len(alphas)), xticklabels=[f"{a:g}" for a in alphas],
             yticks=range(len(betas)), yticklabels=[f"{b:g}" for b in betas])
    axis.set_title(f"DNN vs the steepest linear estimator per cell, D = {dim} (our targets), "
                   f"{confidence:.0%} t-intervals over R paired replicates (R = {replicates})\n"
                   f"{int(cells.agrees.sum())}/{testable} testable cells agree with J's region"
                   + (f" ({fraction:.0%})" if np.isfinite(fraction) else ""), fontsize=9.5)
    axis.grid(False)
    proxies = [
        Line2D([], [], marker="*", color="gold", mec="black", ms=11, ls="none",
               label="interval below 0: DNN significantly steeper"),
        Patch(fill=False, edgecolor="black", lw=2.5, label="disagrees with theory"),
        Patch(fill=False, edgecolor="darkorange", lw=2, ls=":", label="has runs below the did-it-learn guard"),
        Patch(facecolor="0.85", hatch="xx", edgecolor="0.6", label="not testable (< 2 replicates learned)"),
    ]
    axis.legend(handles=[*axis.get_legend_handles_labels()[0], *proxies], fontsize=8, loc="upper center",
                bbox_to_anchor=(0.5, -0.13), ncol=2, frameon=False)
    figure.tight_layout()
    return figure
