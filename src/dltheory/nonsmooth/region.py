"""The (alpha, beta) phase diagram of Imaizumi & Fukumizu, JMLR 23(111) 2022 ("J"): theory and measurement.

Theory (J Sec. 1 pp. 3-4, Fig. 2, Fig. 5, Cor 20): DNNs beat every linear estimator in rate iff
beta > alpha D / (2(alpha + D - 1)). Measurement: one target per (alpha, beta) cell (D and the grid from the
config; J's Prop 15 and Thm 13 need alpha, beta >= 1), and per cell the Student-t interval over paired replicates
of slope(dnn) - slope(best linear estimator), on the replicates where every method learned (error below half of
Var f, ``dltheory.references``). The two figures are drawn by :mod:`dltheory.nonsmooth.figures`
(``plot_theory_region``, ``plot_region_map``) from the predicates and rates of :mod:`dltheory.nonsmooth.theory`,
never from re-typed formulas.
"""

import numpy as np
import pandas as pd

from dltheory.claims import Claim, combined_diagnosis
from dltheory.nonsmooth.settings import LINEAR_ESTIMATORS
from dltheory.nonsmooth.targets import BOUNDARY_HALF_WIDTH, lacunary_terms
from dltheory.nonsmooth.theory import (
    dnn_beats_linear,
    dnn_rate_exponent,
    linear_rate_exponent,
)
from dltheory.references import learned, learned_replicates
from dltheory.stats import replicate_slopes, slope_difference_interval

SOURCE_REGION = "Imaizumi & Fukumizu, JMLR 23(111) 2022, Sec. 1 pp. 3-4 and Fig. 2"

# (alpha, beta) read off the red curve of the printed JMLR Fig. 2 (J p. 3), measured on the rendered PDF
# (shared/papers/nonsmooth.md, Sec. 3). They fit beta = alpha D / (2(alpha + D - 1)) with D = 10 within 0.01,
# although the caption says D = 5.
JMLR_FIG2_DIGITIZED = ((2.36, 1.04), (2.86, 1.21), (3.37, 1.37), (3.88, 1.51), (4.40, 1.65), (4.91, 1.77))


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


def cell_diagnosis(cell) -> tuple[str, str]:
    """Why a testable cell disagrees with the theory: its category (issue 19: bug, scale, design, finding) and the
    evidence, in words.

    Inside the region: "design" when the linear estimator beat J's worst-case linear rate on this one target by more
    than the interval's half-width (a fixed target can be easier than the worst case, so the predicted gap need
    not open); "scale" when the predicted difference is within the half-width; else "finding". Same-rate side:
    "scale" (pre-asymptotic) when the DNN's slope is steeper than its own theory rate, or the linear slope flatter
    than the linear bound; else "finding".
    """
    width = half_width(cell)
    if cell.inside_theory:
        if cell.linear_slope < cell.linear_theory_slope - width:
            return "design", (f"on this fixed target {cell.linear_method}'s slope {cell.linear_slope:+.3f} is "
                              f"steeper than J's worst-case linear rate {cell.linear_theory_slope:+.3f} by more than "
                              f"the half-width {width:.3f}: Prop 15 bounds the worst case over the class, not one "
                              "member")
        if abs(cell.predicted_difference) < width:
            return "scale", (f"the predicted difference is within the interval's half-width {width:.3f}, "
                             f"so this cell cannot resolve it at R={cell.replicates}")
        return "finding", f"the predicted difference exceeds the half-width {width:.3f} and is not seen"
    reasons = []
    if cell.dnn_slope < cell.dnn_theory_slope - width:
        reasons.append(f"the DNN's slope {cell.dnn_slope:+.3f} is steeper than its own theory rate "
                       f"{cell.dnn_theory_slope:+.3f}: its error is still falling from a poor fit at the smallest n")
    if cell.linear_slope > cell.linear_theory_slope + width:
        reasons.append(f"{cell.linear_method}'s slope {cell.linear_slope:+.3f} is flatter than the linear "
                       f"bound {cell.linear_theory_slope:+.3f}, which is a worst case, not a rate every linear "
                       "estimator attains on one fixed target")
    if reasons:
        return "scale", "pre-asymptotic: " + "; ".join(reasons)
    return "finding", "the DNN is steeper where theory predicts the same rate, within both theory slopes"


def diagnose_cell(cell) -> str:
    """Why a testable cell disagrees with the theory, with its evidence: the cell, then its category and evidence
    (:func:`cell_diagnosis`)."""
    category, evidence = cell_diagnosis(cell)
    return f"{_cell_name(cell)}: {category} ({evidence})"


def _shared_diagnosis(cells: pd.DataFrame) -> str:
    """The claim's diagnosis from its disagreeing cells (:func:`dltheory.claims.combined_diagnosis`; the detail
    names each cell's)."""
    return combined_diagnosis(cell_diagnosis(cell)[0] for cell in cells.itertuples())


def _least_replicates(cells: pd.DataFrame) -> int | None:
    """The fewest paired replicates any of these cells' intervals rests on (None without a cell)."""
    return int(cells.replicates.min()) if len(cells) and cells.replicates.min() >= 1 else None


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

    inside_diagnosis = ""
    if len(same_rate) == 0:
        inside_detail = "not tested (design, or every run diverged): no testable 'same rate' cell, nothing to check"
    elif len(winners) == 0:
        inside_detail = "scale: the DNN is significantly steeper in no cell at all; " + resolution
        inside_diagnosis = "scale"
    elif len(wrong_wins):
        inside_detail = "DNN significantly steeper in 'same rate' cells: " + "; ".join(
            map(diagnose_cell, wrong_wins.itertuples()))
        inside_diagnosis = _shared_diagnosis(wrong_wins)
    else:
        inside_detail = (f"every DNN-winning cell is inside the region ({len(winners)} of "
                         f"{int(testable.inside_theory.sum())} inside cells won); {resolution}")
    agreement_detail = ("disagreeing cells: " + ("; ".join(map(diagnose_cell, disagreeing.itertuples())) or "none")
                        + f"; {resolution}")
    guard = "; ".join(filter(None, [guard, targets]))
    agreement_holds = bool(np.isfinite(fraction) and fraction >= target_fraction)
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
            replicates=_least_replicates(testable),  # counts of cells: no interval
            diagnosis=inside_diagnosis,
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
            holds=agreement_holds,
            ours=True,
            detail=_with_pilots(("" if len(testable) else "not tested: no testable cell; ")
                                + f"{agreement_detail}; {guard}", pilots),
            tested=bool(len(testable)),
            replicates=_least_replicates(testable),  # a fraction of cells: no interval
            diagnosis="" if agreement_holds else _shared_diagnosis(disagreeing),
        ),
    ]
