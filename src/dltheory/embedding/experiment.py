"""The measuring job of the embedding family: narrow critical points, their embeddings into one unit wider, and at
each embedded point the gradient, the loss change, the Hessian's eigenvalue counts against their prediction, the
semi-flat test, the escape test and loss slices (FYMT19, Sec. 3-4). numpy only.

The narrow point of each (activation, input, teacher, narrow width) is the lowest-loss restart that is accepted:
critical (||grad E|| < grad_tol after a Newton polish), a minimum (no negative Hessian eigenvalue), non-degenerate
(its zero eigenvalues are exactly its symmetry zeros: none for a smooth activation, the digest's "positive definite";
ReLU's scaling, dead-unit and shared-pattern directions, :func:`shallow.symmetry_zeros`; a point with more is itself
an embedded narrower network, or has a saturated unit)
and, for ReLU, with no live pre-activation within kink_margin of its kink (the loss is not differentiable there).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.optimize import least_squares

from dltheory.embedding import shallow as sh
from dltheory.embedding.settings import EmbeddingSettings
from dltheory.seeds import rng_for
from dltheory.settings import from_config

COLUMNS = ["part", "activation", "input_dim", "n", "teacher", "narrow_width", "embedding", "unit", "lam", "bias",
           "direction", "step", "t", "metric", "value"]
# The representative cases drawn in the figures: this narrow width (or the nearest with an accepted narrow point),
# unit 0, the first data set with one. Slices are stored for unit 0 of every narrow point.
SLICE_WIDTH = 2
# A fit that is not critical and has an incoming weight above this is counted as diverging (ours: the
# pre-activations then exceed 20 |x~|, where tanh and the logistic are flat to 1e-17).
DIVERGING = 20.0


def inputs_of(spec, rng: np.random.Generator) -> np.ndarray:
    """The data set's inputs: d = 1 evenly spaced on [-2, 2], else standard normal (ours)."""
    if spec.d == 1:
        return np.linspace(-2.0, 2.0, spec.n)[:, None]
    return rng.standard_normal((spec.n, spec.d))


def data_set(settings: EmbeddingSettings, seed: int, act: str, spec, teacher: int):
    """(X~, y): inputs with the bias column and targets of a width-``teacher_width`` teacher of the same activation
    plus N(0, teacher_noise^2) noise."""
    rng = rng_for(seed, "embedding", "data", act, spec.d, spec.n, teacher)
    X = sh.augmented(inputs_of(spec, rng))
    theta = sh.teacher(rng, spec.d, settings.teacher_width)
    y = sh.forward(theta, X, act)[0] + settings.teacher_noise * rng.standard_normal(spec.n)
    return X, y


def fit_restart(theta0, X, y, act, evaluations: int) -> np.ndarray:
    """Trust-region least squares on the residuals (scipy's 'trf' with Jacobian scaling, float64), then the Newton
    polish (shallow.polish). Not MINPACK's 'lm': in scipy 1.17 it returned different points from the same start in
    one process (26 and 36 evaluations), which would break same-config-same-numbers."""
    result = least_squares(lambda t: sh.residuals(t, X, y, act), theta0, jac=lambda t: sh.jacobian(t, X, act),
                           method="trf", x_scale="jac", xtol=1e-15, ftol=1e-15, gtol=1e-15, max_nfev=evaluations)
    return sh.polish(result.x, X, y, act)


def check_point(theta, X, y, act, settings: EmbeddingSettings) -> dict:
    """Loss, gradient norm, eigenvalues, counts and the ReLU kink distance of a point."""
    E, g = sh.loss_and_gradient(theta, X, y, act)
    eigenvalues = np.linalg.eigvalsh(sh.hessian(theta, X, y, act))
    threshold = sh.zero_threshold(eigenvalues, settings.eig_rel_tol)
    return {"loss": E, "grad_norm": float(np.linalg.norm(g)), "eigenvalues": eigenvalues, "threshold": threshold,
            "inertia": sh.inertia(eigenvalues, threshold),
            "kink_distance": sh.kink_distance(theta, X) if act == "relu" else np.inf}


def expected_zeros(theta, X, act, settings: EmbeddingSettings) -> int:
    """The zero eigenvalues a non-degenerate narrow minimum has: none for a smooth activation (its Hessian is
    positive definite; a saturated or linear-regime unit makes it numerically degenerate), the Jacobian's nullity
    for ReLU (positive scaling, dead units, units sharing an activation pattern)."""
    return sh.symmetry_zeros(theta, X, act, settings.eig_rel_tol) if act == "relu" else 0


def narrow_point(settings: EmbeddingSettings, seed: int, act: str, spec, teacher: int, width: int, X, y):
    """The accepted narrow point of lowest loss (None if no restart is accepted) and the restart tallies."""
    tallies = {"accepted": 0, "diverging": 0, "not_critical": 0, "saddle": 0, "degenerate": 0, "at_kink": 0}
    best = None
    for restart in range(settings.restarts):
        rng = rng_for(seed, "embedding", "init", act, spec.d, spec.n, teacher, width, restart)
        theta = fit_restart(sh.student_init(rng, spec.d, width), X, y, act, settings.fit_evaluations)
        point = check_point(theta, X, y, act, settings)
        if point["grad_norm"] >= settings.grad_tol:
            # Not critical. With an incoming weight above DIVERGING the fit is running off to infinity (a saturated
            # unit approaching a step: the loss's infimum is not attained), rather than converging slowly.
            W, _, _ = sh.unpack(theta, spec.d)
            tallies["diverging" if np.abs(W).max() > DIVERGING else "not_critical"] += 1
        elif point["inertia"].negative > 0:
            tallies["saddle"] += 1
        elif point["inertia"].zero != expected_zeros(theta, X, act, settings):
            tallies["degenerate"] += 1
        elif point["kink_distance"] <= settings.kink_margin:
            tallies["at_kink"] += 1
        else:
            tallies["accepted"] += 1
            if best is None or point["loss"] < best[1]["loss"]:
                best = (theta, point)
    return best, tallies


def _rows(base: dict, metrics: dict) -> list[dict]:
    return [{**base, "metric": name, "value": float(value)} for name, value in metrics.items()]


def _counts(prefix: str, inertia: sh.Inertia) -> dict:
    return {f"{prefix}negative": inertia.negative, f"{prefix}zero": inertia.zero, f"{prefix}positive": inertia.positive}


def measure_embedded(theta, narrow, X, y, act, settings: EmbeddingSettings, rng, predicted: sh.Inertia,
                     extra: dict, escape: bool) -> tuple[dict, np.ndarray | None]:
    """The metrics of one embedded point and its escape curve (None when ``escape`` is False)."""
    point = check_point(theta, X, y, act, settings)
    eigenvalues, vectors = np.linalg.eigh(sh.hessian(theta, X, y, act))
    curve = (sh.escape_curve(theta, X, y, act, vectors[:, 0], settings.escape.eps, settings.escape.steps)
             if escape else None)
    semi = sh.semi_flat_test(theta, X, y, act, rng, settings.semi_flat.perturbations, settings.semi_flat.radius)
    metrics = {"loss": point["loss"], "loss_change": point["loss"] - narrow["loss"], "grad_norm": point["grad_norm"],
               "narrow_grad_norm": narrow["grad_norm"], **_counts("", point["inertia"]), "gap": point["inertia"].gap,
               **_counts("predicted_", predicted), "lambda_max": eigenvalues[-1], "lambda_min": eigenvalues[0],
               "zero_threshold": point["threshold"], "semi_flat_min": semi, "parameters": len(theta), **extra}
    if curve is not None:
        metrics["escape_final"] = curve[-1]
    if act == "relu":
        metrics["kink_distance"] = point["kink_distance"]
    return metrics, curve


def run_case(settings: EmbeddingSettings, seed: int, act: str, spec, teacher: int, width: int, X, y) -> list[dict]:
    """Every row of one narrow point and its embeddings."""
    base = {"part": "narrow", "activation": act, "input_dim": spec.d, "n": spec.n, "teacher": teacher,
            "narrow_width": width, "embedding": "narrow", "unit": -1, "lam": np.nan, "bias": np.nan,
            "direction": "", "step": -1, "t": np.nan}
    best, tallies = narrow_point(settings, seed, act, spec, teacher, width, X, y)
    rows = _rows(base, {f"restarts_{k}": v for k, v in tallies.items()})
    if best is None:
        return rows
    theta, narrow = best
    d = spec.d
    perturb = rng_for(seed, "embedding", "perturb-narrow", act, d, spec.n, teacher, width)
    rows += _rows(base, {"loss": narrow["loss"], "grad_norm": narrow["grad_norm"], **_counts("", narrow["inertia"]),
                         "gap": narrow["inertia"].gap, "symmetry_zeros": sh.symmetry_zeros(theta, X, act,
                                                                                            settings.eig_rel_tol),
                         "dead_units": sh.dead_units(theta, X) if act == "relu" else 0,
                         "lambda_max": narrow["eigenvalues"][-1], "parameters": len(theta),
                         "semi_flat_min": sh.semi_flat_test(theta, X, y, act, perturb, settings.semi_flat.perturbations,
                                                            settings.semi_flat.radius),
                         **({"kink_distance": narrow["kink_distance"]} if act == "relu" else {})})
    cases = []  # (embedding, unit, lam, bias, theta, predicted, extra)
    for unit in range(width):
        B = sh.split_matrix(theta, X, y, act, unit)
        b_eigenvalues = np.linalg.eigvalsh(B)
        for lam in settings.lambdas:
            embedded = sh.replicate(theta, d, unit, lam)
            cases.append(("replication", unit, lam, np.nan, embedded, B,
                          {"b_min": b_eigenvalues[0], "b_max": b_eigenvalues[-1]}))
    if act == "relu":
        rng = rng_for(seed, "embedding", "inactive", act, d, spec.n, teacher, width)
        w_new = sh.inactive_unit_weights(rng, X, settings.inactive_margin)
        cases.append(("inactive", -1, np.nan, np.nan, sh.add_unit(theta, d, w_new, rng.standard_normal()), None, {}))
    for bias in settings.constant_biases:
        g = sh.constant_coupling(theta, X, y, act, bias)
        cases.append(("constant", -1, np.nan, bias, sh.constant_unit(theta, d, bias), g,
                      {"coupling_norm": np.linalg.norm(g)}))
    rng = rng_for(seed, "embedding", "perturb", act, d, spec.n, teacher, width)
    for embedding, unit, lam, bias, embedded, detail, extra in cases:
        # The prediction uses the embedded Hessian's own zero threshold (the counts are compared under one threshold).
        threshold = sh.zero_threshold(np.linalg.eigvalsh(sh.hessian(embedded, X, y, act)), settings.eig_rel_tol)
        if embedding == "replication":
            predicted = sh.predicted_replication(narrow["inertia"], detail, lam, threshold)
        elif embedding == "constant":
            predicted = sh.predicted_constant(narrow["inertia"], detail, threshold, d)
        else:
            predicted = sh.predicted_inactive(narrow["inertia"], d)
        metrics, curve = measure_embedded(embedded, narrow, X, y, act, settings, rng, predicted, extra,
                                          escape=teacher < settings.escape.teachers)
        where = {**base, "part": "embedded", "embedding": embedding, "unit": unit, "lam": lam, "bias": bias}
        rows += _rows(where, metrics)
        if curve is not None:
            rows += [{**where, "part": "escape", "step": step, "metric": "escape", "value": float(value)}
                     for step, value in enumerate(curve)]
        if unit in (0, -1):
            rows += slice_rows(embedded, X, y, act, settings, where, embedding, lam, detail)
    return rows


def slice_rows(theta, X, y, act, settings: EmbeddingSettings, where: dict, embedding: str, lam: float,
               detail) -> list[dict]:
    """Loss slices E(theta + t u) - E(theta) along the most negative Hessian eigenvector and, for replication, the
    lambda line and the split direction zeta (the eigenvector of lambda (1 - lambda) B_j of smallest eigenvalue)."""
    d = X.shape[1] - 1
    ts = np.linspace(-settings.slice_half_width, settings.slice_half_width, settings.slice_points)
    directions = {"most_negative": np.linalg.eigh(sh.hessian(theta, X, y, act))[1][:, 0]}
    if embedding == "replication":
        unit = where["unit"]
        zeta = np.linalg.eigh(lam * (1 - lam) * detail)[1][:, 0]
        directions["lambda_line"] = sh.lambda_line(theta, d, unit, lam)
        directions["split"] = sh.split_direction(theta, d, unit, lam, zeta)
    rows = []
    for name, u in directions.items():
        values = sh.loss_slice(theta, X, y, act, u, ts)
        rows += [{**where, "part": "slice", "direction": name, "t": float(t), "metric": "slice", "value": float(v)}
                 for t, v in zip(ts, values, strict=True)]
    return rows


def sanity_network(d: int) -> np.ndarray:
    """A hand-built width-2 network on d inputs: two units of distinct slopes and biases, output weights 1 and -0.7
    (well conditioned, so its Hessian (1/n) J^T J has no eigenvalue near the zero threshold)."""
    W = np.zeros((2, d + 1))
    W[0, :d], W[0, d] = 1.5 / np.sqrt(d), 0.5
    W[1, :d], W[1, d] = np.linspace(-1.0, 0.5, d), -0.8
    return sh.pack(W, np.array([1.0, -0.7]), 0.1)


def sanity_rows(settings: EmbeddingSettings, seed: int) -> list[dict]:
    """The known answer: a realizable narrow network (the targets are its own outputs, no noise) is a global minimum
    with zero residual, so every B_j and the constant unit's coupling vanish and the counts are known in closed form:
    narrow (0, 0, P) for a smooth activation (J of full rank), replication (0, d + 2, P), constant unit (0, d + 2,
    P). Smooth activations, narrow width 2, lambda 1.5, b 0.5."""
    rows = []
    for act in [a for a in settings.activations if a != "relu"]:
        for spec in settings.inputs:
            rng = rng_for(seed, "embedding", "sanity", act, spec.d, spec.n)
            X = sh.augmented(inputs_of(spec, rng))
            theta = sanity_network(spec.d)
            y = sh.forward(theta, X, act)[0]
            P = len(theta)
            points = {"narrow": (theta, (0, 0, P)), "replication": (sh.replicate(theta, spec.d, 0, 1.5),
                                                                     (0, spec.d + 2, P)),
                      "constant": (sh.constant_unit(theta, spec.d, 0.5), (0, spec.d + 2, P))}
            for embedding, (point, expected) in points.items():
                checked = check_point(point, X, y, act, settings)
                base = {"part": "sanity", "activation": act, "input_dim": spec.d, "n": spec.n, "teacher": -1,
                        "narrow_width": 2, "embedding": embedding, "unit": 0 if embedding == "replication" else -1,
                        "lam": 1.5 if embedding == "replication" else np.nan,
                        "bias": 0.5 if embedding == "constant" else np.nan, "direction": "", "step": -1, "t": np.nan}
                rows += _rows(base, {**_counts("", checked["inertia"]), **_counts("expected_", sh.Inertia(*expected)),
                                     "gap": checked["inertia"].gap, "grad_norm": checked["grad_norm"],
                                     "loss": checked["loss"]})
    return rows


def run_embedding(section, seed: int, log=None) -> pd.DataFrame:
    """Every narrow point, embedding, escape curve, slice and the sanity case, as one long table."""
    settings = from_config(EmbeddingSettings, section, "embedding")
    rows = sanity_rows(settings, seed)
    for act in settings.activations:
        for spec in settings.inputs:
            for teacher in range(settings.teachers):
                X, y = data_set(settings, seed, act, spec, teacher)
                for width in settings.narrow_widths:
                    rows += run_case(settings, seed, act, spec, teacher, width, X, y)
            if log is not None:
                log.info("%s, d = %d: done", act, spec.d)
    table = pd.DataFrame(rows, columns=COLUMNS)
    return table.astype({"input_dim": int, "n": int, "teacher": int, "narrow_width": int, "unit": int, "step": int})
