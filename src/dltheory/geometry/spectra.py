"""Pathological spectra at random initialization, linear vs softmax output (Karakida, Akaho & Amari 2021, "KAA21").

KAA21 (Neural Computation 33(8):2274, arXiv 1910.05992), abstract: in wide networks with "random weights and biases"
"a small number of eigenvalues become large outliers depending on the width or sample size while the others are much
smaller", for the Fisher information of regression (linear output, squared loss) and of classification (softmax,
cross-entropy); "the softmax output disperses the outliers and makes a tail of the eigenvalue density spread from the
bulk"; and the same holds for "a metric for the input signal". Reading note of v2 (pages as cited there): regression
FIM mean eigenvalue ~ 1/M and lambda_max = O(M) (p. 7); the top eigenspace is spanned by the C mean gradients
E[grad f_k] (p. 8). Paper settings (note): regression FIM tanh, L = 3, M = 200, C = 10, N = 100; cross-entropy FIM
L = 3, M = 1000, C = 10, N = 100, tanh / ReLU / linear.

Two sweeps, each over activations and seeds (an independent network and input set per seed):

- ``width``: M grows with the input dimension D = input_ratio * M (KAA21's mean field takes every layer, input
  included, proportional to M). Per network, from one NTK: the FIM's non-zero spectrum with linear output (dual
  J J^T / N, N*C values) and with softmax (dual of sum_s J_s^T (diag p - p p^T) J_s / N; N of its N*C values are
  exact zeros), the input metric, and the overlap of the linear FIM's top-C eigenspace with the span of the C mean
  gradients.
- ``input_dim``: D grows at a fixed width; the input metric sum_s J_x(s)^T Lambda_s J_x(s) / N (D x D) with linear
  and softmax output.

Networks have weights N(0, sigma_w^2 / fan_in) and biases N(0, sigma_b^2) in every layer (biases are parameters of
the FIM when sigma_b^2 > 0). Without biases a tanh network on zero-mean inputs is centred: the gradients of
different samples are uncorrelated, the mean gradients vanish and so do the C outliers (tested). Backpropagation is
written out (deltas d f / d u_l per sample), and a layer's Gram matrix is (delta delta^T) * (h h^T + 1), never the
P-long Jacobian rows. Everything is float64.

The networks and their measurement (torch) are in ``dltheory.geometry.spectra_measure``; this module, which
the notebook imports, needs numpy and pandas only.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from dltheory.claims import Claim, interval_diagnosis
from dltheory.geometry.settings import SpectraSettings
from dltheory.settings import from_config
from dltheory.stats import mean_interval, row_slopes

__all__ = [
    "MATRICES",
    "SOURCE_ABSTRACT",
    "SOURCE_NOTE",
    "mean_field_mean_eigenvalue",
    "n_parameters",
    "outlier_count",
    "spectra_claims",
    "spectra_summary",
    "top_spread",
]

FAMILY = "spectra"
MATRICES = ("fim_linear", "fim_softmax", "input_linear", "input_softmax")
SOURCE_ABSTRACT = "Karakida, Akaho & Amari, Neural Computation 33(8):2274 (2021), abstract"
SOURCE_NOTE = "Karakida, Akaho & Amari 2021 (arXiv 1910.05992v2, via a reading note)"
# Eigenvalues at or below lambda_max times this are numerical zeros (the softmax dual has N exact ones).
ZERO_FLOOR = 1e-10

TABLE_COLUMNS = ["part", "matrix", "quantity", "activation", "width", "input_dim", "replicate", "rank", "value",
                 "n_samples", "n_outputs", "hidden_layers", "sigma_w2", "sigma_b2"]
SUMMARY_COLUMNS = ["part", "matrix", "activation", "width", "input_dim", "replicate", "n_nonzero", "size",
                   "lambda_max", "mean", "outliers", "gap", "gap_c", "spread", "overlap", "mean_field"]


def _rows(values, **keys) -> pd.DataFrame:
    return pd.DataFrame({**keys, "quantity": "eigenvalue", "rank": np.arange(len(values)), "value": values})


# ------------------------------------------------------------------------------------------------- theory


def n_parameters(width: int, input_dim: int, hidden_layers: int, outputs: int, biases: bool) -> int:
    """P of the MLP input_dim -> width x hidden_layers -> outputs: its weights, and its biases if it has them."""
    dims = [input_dim] + [width] * hidden_layers + [outputs]
    return int(sum(fan_out * (fan_in + int(biases)) for fan_in, fan_out in zip(dims[:-1], dims[1:], strict=True)))


def _gaussian_mean(function, variance: float) -> float:
    nodes, weights = np.polynomial.hermite.hermgauss(120)
    return float(np.sum(weights * function(np.sqrt(2.0 * variance) * nodes)) / np.sqrt(np.pi))


def _second_moments(activation: str, variance: float) -> tuple[float, float]:
    """(E[phi(u)^2], E[phi'(u)^2]) for u ~ N(0, variance)."""
    if activation == "relu":
        return variance / 2.0, 0.5
    if activation == "linear":
        return variance, 1.0
    if activation == "tanh":
        return (_gaussian_mean(lambda u: np.tanh(u) ** 2, variance),
                _gaussian_mean(lambda u: (1.0 - np.tanh(u) ** 2) ** 2, variance))
    from scipy.stats import norm

    inside = 2.0 * norm.cdf(1.0 / np.sqrt(variance)) - 1.0  # hard tanh: P(|u| < 1)
    tails = 1.0 - inside
    clipped = variance * inside - 2.0 * np.sqrt(variance) * norm.pdf(1.0 / np.sqrt(variance))  # E[u^2; |u|<1]
    return clipped + tails, inside


def mean_field_mean_eigenvalue(activation: str, sigma_w2: float, sigma_b2: float, width: int, input_dim: int,
                               hidden_layers: int, outputs: int) -> float:
    """The FIM's mean eigenvalue trace / P in mean-field theory (KAA21's m_lambda = kappa_1 C / M, here with the
    input layer and the biases written out), for standard-normal inputs and a linear output.

    trace F = (1/N) sum_s sum_k |grad f_k(s)|^2 = C sum_l B_l (A_{l-1} + b): A_0 = E|x|^2 = D, A_l = M E[phi(u_l)^2]
    with u_l ~ N(0, q_l), q_1 = sigma_w^2 + sigma_b^2, q_{l+1} = sigma_w^2 A_l / M + sigma_b^2; B_L = 1 and
    B_l = B_{l+1} sigma_w^2 E[phi'(u_l)^2] (|delta_l|^2, backpropagated with independent weights); b = 1 with biases.
    """
    biases = sigma_b2 > 0
    sizes = [float(input_dim)]
    chis = []
    variance = sigma_w2 + sigma_b2
    for _ in range(hidden_layers):
        activity, slope = _second_moments(activation, variance)
        sizes.append(width * activity)
        chis.append(sigma_w2 * slope)
        variance = sigma_w2 * activity + sigma_b2
    backward, trace = 1.0, 0.0
    for layer in range(hidden_layers, -1, -1):  # the output layer first
        trace += backward * (sizes[layer] + float(biases))
        if layer > 0:
            backward *= chis[layer - 1]
    return outputs * trace / n_parameters(width, input_dim, hidden_layers, outputs, biases)


# ----------------------------------------------------------------------------------------------- analysis

# Evidence behind the diagnoses of claims that fail in the default run: reruns after its first run, with the same
# code and settings at larger sizes (global seed 0; they changed no setting or threshold). config/paper.yaml runs these
# sizes and more seeds through the pipeline.
# Claims that hold in the default run have no recorded diagnosis for other configurations (smoke: far too small).
def _count_diagnosis(share: float) -> tuple[str, str]:
    """A failed exact count of outliers: scale where most (seed, width, activation) cases have the count (the gap
    not yet open at the small widths), a finding where most do not."""
    if share >= 0.5:
        return "scale", f"Scale: {share:.0%} of the cases have the count; the others are at the small widths or seeds."
    return "finding", f"Finding at this scale: only {share:.0%} of the cases have the count."


def _lowest_diagnosis(lowest_at, limit: float) -> tuple[str, str]:
    """A failed "lower end at least ``limit`` everywhere" claim, read at the weakest (width, activation)."""
    if lowest_at is None:
        return "scale", "Scale: no finite interval (fewer than 2 seeds)."
    return interval_diagnosis(lowest_at[0]["low"], lowest_at[0]["high"], lower=limit)
EVIDENCE_WIDTH = (
    "evidence rerun (global seed 0) at M = D = 400, 800, 1600 (4 seeds): lambda_max slope tanh 0.990 [0.909, 1.070], "
    "relu 0.985 [0.908, 1.063]; mean slope tanh -0.996 [-1.014, -0.978], relu -0.981 [-1.020, -0.941] "
    "(t-intervals, R=4): both inside the tolerance")
EVIDENCE_MEAN_FIELD = (
    "evidence rerun (global seed 0) with 20 seeds (ReLU): measured / closed form 1.034 [0.983, 1.085] at M = 100, "
    "0.989 [0.947, 1.031] at M = 200 (t-intervals, R=20); at M = 400, 800, 1600 (4 seeds) 1.018 [0.943, 1.093], "
    "1.001 [0.953, 1.050], 1.035 [0.971, 1.100]; tanh at those widths within 0.4% with intervals inside ± 2.1%")
EVIDENCE_INPUT = (
    "evidence rerun (global seed 0) at hidden width M = 1600, D = 400, 800, 1600 (4 seeds): slope of "
    "lambda_max/mean tanh 0.938 [0.873, 1.003], relu 0.904 [0.827, 0.980] (t-intervals, R=4); lambda_max (seed "
    "mean) tanh 0.167, 0.155, 0.153, relu 1.158, 1.033, 1.007, levelling off; 10 outliers in every seed at every "
    "D, lambda_C/lambda_C+1 tanh 14, 20, 25 and relu 5.0, 7.0, 8.7")


def outlier_count(values) -> tuple[int, float]:
    """(k, lambda_k / lambda_{k+1}): the position of the widest multiplicative eigengap in the upper half of the
    spectrum, k <= n / 2 (at least 1).

    The rule knows nothing of C: the outliers are what stands above the widest gap. Only the upper half is searched
    because near the bulk's lower edge consecutive ratios can be large without any outlier. Eigenvalues at or below
    lambda_1 * ZERO_FLOOR (numerical zeros: the softmax dual's N, or a rank-deficient metric's) are raised to that
    floor and stay in the spectrum, so a rank-r spectrum with r <= n / 2 has its widest gap at k = r.
    """
    values = np.sort(np.asarray(values, dtype=float))[::-1]
    if len(values) < 2 or not values[0] > 0:
        raise ValueError(f"an outlier count needs at least 2 eigenvalues and a positive largest one, got {values[:3]}")
    top = np.maximum(values[:max(1, len(values) // 2) + 1], values[0] * ZERO_FLOOR)
    ratios = top[:-1] / top[1:]
    k = int(np.argmax(ratios))
    return k + 1, float(ratios[k])


def top_spread(values, count: int) -> float:
    """log10(lambda_1 / lambda_count): how far the top ``count`` eigenvalues are spread (0 when degenerate)."""
    values = np.sort(np.asarray(values, dtype=float))[::-1]
    return float(np.log10(values[0] / values[min(count, len(values)) - 1]))


def spectra_summary(table: pd.DataFrame) -> pd.DataFrame:
    """Per (part, matrix, activation, width, input_dim, replicate):

    - ``lambda_max``; ``mean``: the FIM's trace / P with P = :func:`n_parameters` (the dual has the same trace), or
      the input metric's trace / D; ``mean_field``: :func:`mean_field_mean_eigenvalue` (linear FIM only);
    - ``outliers`` and ``gap``: :func:`outlier_count`; ``gap_c``: lambda_C / lambda_C+1;
    - ``spread``: log10(lambda_1 / lambda_{C-1}), :func:`top_spread` over the top C - 1: the softmax FIM has at
      most C - 1 mean-gradient outliers, since diag p - p p^T annihilates the all-ones vector of the classes (the
      class-mean direction), so its C-th eigenvalue belongs to the bulk by construction and lambda_1 / lambda_C
      would be large without any dispersion; ``overlap``: the mean-gradient overlap.
    """
    keys = ["part", "matrix", "activation", "width", "input_dim", "replicate"]
    eigen = table[table["quantity"] == "eigenvalue"]
    overlaps = table[table["quantity"] == "mean_gradient_overlap"].set_index(keys)["value"]
    rows = []
    for key, group in eigen.groupby(keys, sort=True):
        part, matrix, activation, width, dim, replicate = key
        values = np.sort(group["value"].to_numpy(float))[::-1]
        first = group.iloc[0]
        outputs, biases = int(first["n_outputs"]), bool(first["sigma_b2"] > 0)
        fisher = matrix.startswith("fim")
        size = (n_parameters(int(width), int(dim), int(first["hidden_layers"]), outputs, biases) if fisher
                else len(values))
        count, gap = outlier_count(values)
        mean_field = np.nan
        if matrix == "fim_linear":
            mean_field = mean_field_mean_eigenvalue(activation, float(first["sigma_w2"]), float(first["sigma_b2"]),
                                                    int(width), int(dim), int(first["hidden_layers"]), outputs)
        rows.append({"part": part, "matrix": matrix, "activation": activation, "width": int(width),
                     "input_dim": int(dim), "replicate": int(replicate),
                     "n_nonzero": int(np.sum(values > values[0] * ZERO_FLOOR)), "size": size,
                     "lambda_max": float(values[0]), "mean": float(values.sum() / size), "outliers": count,
                     "gap": gap, "gap_c": float(values[outputs - 1] / values[outputs]) if len(values) > outputs
                     else np.nan, "spread": top_spread(values, outputs - 1),
                     "overlap": float(overlaps.get(key, np.nan)), "mean_field": mean_field})
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)


def per_seed_slopes(rows: pd.DataFrame, x: str, column: str) -> np.ndarray:
    """Per replicate, the least-squares slope of log(column) on log(x)."""
    return row_slopes(rows.pivot(index="replicate", columns=x, values=column).dropna())


def _half_width_factor(replicates: int, confidence: float) -> float:
    """The t-interval's half-width over the sample sd: t_{R-1} / sqrt(R)."""
    from scipy import stats as scipy_stats

    return float(scipy_stats.t.ppf(0.5 + confidence / 2, replicates - 1) / np.sqrt(replicates))


def _fmt(interval: dict, digits: str = ".3g") -> str:
    return (f"{interval['mean']:{digits}} [{interval['low']:{digits}}, {interval['high']:{digits}}] "
            f"(t-interval, R={interval['replicates']})")


def _fields(interval: dict | None, kind: str) -> dict:
    """Claim's interval, interval_kind and replicates from the interval the detail prints (:func:`_fmt`); no
    interval where its ends are not finite; with ``kind`` empty only the replicate count (the measured number is a
    distance from theory, not the interval's estimate)."""
    if interval is None:
        return {"interval": None, "interval_kind": "", "replicates": None}
    finite = bool(kind and np.isfinite(interval["low"]) and np.isfinite(interval["high"]))
    return {"interval": (float(interval["low"]), float(interval["high"])) if finite else None,
            "interval_kind": kind if finite else "", "replicates": int(interval["replicates"]) or None}


def _within(interval: dict, centre: float, tolerance: float) -> bool:
    return bool(np.isfinite(interval["low"]) and centre - tolerance <= interval["low"]
                and interval["high"] <= centre + tolerance)


def _counts(rows: pd.DataFrame, by: str) -> str:
    return "; ".join(f"{by}={value}: " + ",".join(str(int(c)) for c in group.sort_values("replicate")["outliers"])
                     for value, group in rows.groupby(by))


def spectra_claims(table: pd.DataFrame, section: SpectraSettings | Mapping) -> list[Claim]:
    """KAA21's claims on the run table, with the thresholds of the section's ``claims`` (fixed before the runs)."""
    settings = from_config(SpectraSettings, section, FAMILY)
    limits = settings.claims
    confidence = limits.confidence
    summary = spectra_summary(table)
    outputs = settings.outputs
    activations = list(settings.activations)
    widths = summary[summary["part"] == "width"]
    dims = summary[summary["part"] == "input_dim"]
    setting = (f"L = {settings.hidden_layers + 1} weight layers, N = {settings.samples}, C = {outputs}, D = "
               f"{settings.input_ratio:g} M, sigma_b^2 = {settings.sigma_b2:g}, sigma_w^2 "
               + ", ".join(f"{a} {settings.sigma_w2[a]:g}" for a in activations)
               + f", widths {list(settings.widths)}")
    pilot = (" Settings (sigma_b^2, sigma_w^2, D = M, widths, seeds) are ours, fixed before any run of this design; "
             "no pilot chose them (config/config.yaml's spectra comment).")

    def of(frame, matrix, activation):
        return frame[(frame["matrix"] == matrix) & (frame["activation"] == activation)]

    claims = []
    # 1. C outliers, counted by the widest eigengap, in every seed.
    linear = widths[widths["matrix"] == "fim_linear"]
    good = bool(len(linear)) and bool((linear["outliers"] == outputs).all())
    share = float((linear["outliers"] == outputs).mean()) if len(linear) else float("nan")
    details = []
    for activation in activations:
        rows = of(widths, "fim_linear", activation)
        gaps = "; ".join(f"M={w}: {_fmt(mean_interval(g['gap'], confidence), '.3g')}" for w, g in rows.groupby("width"))
        details.append(f"{activation}: counts {_counts(rows, 'width')}; widest gap lambda_k/lambda_k+1 {gaps}")
    claims.append(Claim(
        id="spectra.linear_c_outliers",
        source=f"{SOURCE_ABSTRACT}; {SOURCE_NOTE}, p. 8 (top eigenspace = the C mean gradients)",
        statement=f"With linear output the FIM has exactly C = {outputs} outliers: the widest multiplicative "
                  f"eigengap in the upper half of its spectrum sits after the C-th eigenvalue ({setting}).",
        measured=float((linear["outliers"] == outputs).mean()) if len(linear) else "no runs",
        expected=f"outlier count (widest gap lambda_k/lambda_k+1 in the upper half of the spectrum) = "
                 f"{outputs} in every seed, width and activation (measured: the fraction that has it)",
        tolerance=None, holds=good, ours=True,
        detail=" | ".join(details) + "." + pilot + ("" if good else " " + _count_diagnosis(share)[1]),
        replicates=int(linear["replicate"].nunique()) or None,  # a fraction of counts: no interval
        diagnosis="" if good else _count_diagnosis(share)[0]))

    # 2. lambda_max ~ M, mean ~ 1/M, per-seed slopes.
    tolerance = limits.width_slope_tolerance
    ok, parts, worst, worst_interval = True, [], 0.0, None
    for activation in activations:
        rows = of(widths, "fim_linear", activation)
        if rows["width"].nunique() < 2:
            ok = False
            parts.append(f"{activation}: fewer than two widths")
            continue
        top = mean_interval(per_seed_slopes(rows, "width", "lambda_max"), confidence)
        mean = mean_interval(per_seed_slopes(rows, "width", "mean"), confidence)
        ratio = mean_interval(per_seed_slopes(rows.assign(r=rows["lambda_max"] / rows["mean"]), "width", "r"),
                          confidence)
        ok &= _within(top, 1.0, tolerance) and _within(mean, -1.0, tolerance)
        for interval, theory in ((top, 1.0), (mean, -1.0)):  # max()'s choice, with the interval behind it
            if abs(interval["mean"] - theory) > worst:
                worst, worst_interval = abs(interval["mean"] - theory), interval
        line = np.polyfit(rows["width"].to_numpy(float), rows["lambda_max"].to_numpy(float), 1)
        last = rows[rows["width"].isin(sorted(rows["width"].unique())[-2:])]
        local = mean_interval(per_seed_slopes(last, "width", "lambda_max"), confidence)
        parts.append(f"{activation}: lambda_max slope {_fmt(top)}, mean slope {_fmt(mean)}, lambda_max/mean slope "
                     f"{_fmt(ratio)} (theory 2); lambda_max ≈ {line[0]:.3g} M + {line[1]:.3g} (least squares), "
                     f"slope between the two largest widths {_fmt(local)}")
    claims.append(Claim(
        id="spectra.outliers_grow_like_width",
        source=f"{SOURCE_NOTE}, p. 7 (lambda_max = O(M), mean eigenvalue O(1/M))",
        statement="The linear-output FIM's largest eigenvalue grows like M and its mean eigenvalue falls like 1/M, "
                  "so their ratio, the outliers' distance from the bulk, grows like M^2.",
        measured=float(worst) if ok or worst else "no slopes",
        expected=f"per-seed log-log slopes on M: the intervals of lambda_max's within 1 ± {tolerance} and of the "
                 f"mean's within -1 ± {tolerance}, every activation (measured: the largest |slope - theory|)",
        tolerance=tolerance, holds=bool(ok), ours=True,
        detail="; ".join(parts) + ("" if ok else (
            ". diagnosis (scale): lambda_max = a M + b with an O(1) offset b > 0 (the biases' and the first layers' "
            "finite-width terms), so the log-log slope falls short of 1 at M = 100-400 and rises towards it with "
            "width; ReLU's intervals are also wide from its draw-to-draw fluctuation (see "
            "spectra.sanity_mean_eigenvalue_closed_form); " + EVIDENCE_WIDTH)),
        **_fields(worst_interval, ""), diagnosis="" if ok else "scale"))

    # 3. The top-C eigenspace is the mean gradients' span.
    ok, parts, lowest, lowest_at = bool(len(linear)), [], np.inf, None
    for activation in activations:
        for width, rows in of(widths, "fim_linear", activation).groupby("width"):
            interval = mean_interval(rows["overlap"], confidence)
            ok &= bool(np.isfinite(interval["low"]) and interval["low"] >= limits.overlap_min)
            if np.isfinite(interval["low"]) and interval["low"] < lowest:
                lowest, lowest_at = interval["low"], (interval, f"{activation} M={width}")
            parts.append(f"{activation} M={width}: {_fmt(interval, '.4f')}")
    claims.append(Claim(
        id="spectra.top_space_is_mean_gradients",
        source=f"{SOURCE_NOTE}, p. 8",
        statement="The linear-output FIM's top-C eigenspace is spanned by the C mean gradients E[grad f_k].",
        measured=float(lowest) if np.isfinite(lowest) else "no intervals",
        expected=f"mean squared cosine of the principal angles between the two spaces: interval's lower end ≥ "
                 f"{limits.overlap_min} at every width and activation (measured: the smallest lower end)",
        tolerance=limits.overlap_min, holds=bool(ok), ours=True,
        detail="; ".join(parts) + ("" if ok else ". " + _lowest_diagnosis(lowest_at, limits.overlap_min)[1]),
        **(_fields(lowest_at[0], f"{confidence:.0%} t-interval over seeds, {lowest_at[1]} (measured: its lower "
                                 "end)") if lowest_at else _fields(None, "")),
        diagnosis="" if ok else _lowest_diagnosis(lowest_at, limits.overlap_min)[0]))

    # 4. Sanity (known answer): the mean eigenvalue against its mean-field closed form.
    ok, parts, worst, worst_interval = bool(len(linear)), [], 0.0, None
    for activation in activations:
        for width, rows in of(widths, "fim_linear", activation).groupby("width"):
            interval = mean_interval(rows["mean"] / rows["mean_field"], confidence)
            ok &= _within(interval, 1.0, limits.mean_field_tolerance)
            if abs(interval["mean"] - 1.0) > worst:  # max()'s choice, with the interval behind it
                worst, worst_interval = abs(interval["mean"] - 1.0), interval
            parts.append(f"{activation} M={width}: {_fmt(interval, '.4f')} (closed form "
                         f"{rows['mean_field'].iloc[0]:.4g})")
    claims.append(Claim(
        id="spectra.sanity_mean_eigenvalue_closed_form",
        source=f"{SOURCE_NOTE}, p. 7 (m_lambda ~ kappa_1 C / M); known answer: mean-field closed form "
               "(dltheory.geometry.spectra.mean_field_mean_eigenvalue)",
        statement="Sanity: the linear-output FIM's mean eigenvalue trace / P equals its mean-field closed form.",
        measured=float(worst), tolerance=limits.mean_field_tolerance, holds=bool(ok), ours=True,
        expected=f"interval of measured / closed form within 1 ± {limits.mean_field_tolerance} at every width and "
                 "activation (measured: the largest |mean ratio - 1|)",
        detail="; ".join(parts) + ("" if ok else (
            ". diagnosis (design): the closed form is right on average, but the trace of one network fluctuates "
            "from draw to draw (all its samples share the weights), by O(1/sqrt(M)); per-network sd of the ratio "
            "at each width: " + "; ".join(
                f"{a} " + ", ".join(f"{v:.3f}" for v in of(widths, "fim_linear", a).assign(
                    r=lambda t: t["mean"] / t["mean_field"]).groupby("width")["r"].std(ddof=1))
                for a in activations)
            + f". With R = {settings.replicates} seeds the t-interval's half-width is "
            f"{_half_width_factor(settings.replicates, confidence):.2f} sd, so an sd above "
            f"{limits.mean_field_tolerance / _half_width_factor(settings.replicates, confidence):.3f} cannot meet "
            f"± {limits.mean_field_tolerance} even when the seed mean is exact (largest |seed mean - 1| "
            f"{worst:.3f}). Not a bug: the FIM matches an explicit autograd Jacobian to 1e-10, and tanh at M = 256 is "
            "within 3% over 4 seeds (tests); " + EVIDENCE_MEAN_FIELD)),
        **_fields(worst_interval, ""), diagnosis="" if ok else "design"))

    # 5. Softmax disperses the outliers.
    ok, parts, lowest, lowest_at = bool(len(linear)), [], np.inf, None
    for activation in activations:
        lin = of(widths, "fim_linear", activation).set_index(["width", "replicate"])["spread"]
        soft = of(widths, "fim_softmax", activation).set_index(["width", "replicate"])["spread"]
        difference = (soft - lin).dropna()
        for width, values in difference.groupby(level="width"):
            interval = mean_interval(values, confidence)
            ok &= bool(np.isfinite(interval["low"]) and interval["low"] >= limits.spread_margin)
            if np.isfinite(interval["low"]) and interval["low"] < lowest:
                lowest, lowest_at = interval["low"], (interval, f"{activation} M={width}")
            parts.append(f"{activation} M={width}: linear {lin.loc[width].mean():.2f}, softmax "
                         f"{soft.loc[width].mean():.2f}, difference {_fmt(interval, '.2f')}")
    soft_counts = widths[widths["matrix"] == "fim_softmax"]
    claims.append(Claim(
        id="spectra.softmax_disperses_outliers",
        source=f"{SOURCE_ABSTRACT}: 'the softmax output disperses the outliers and makes a tail'",
        statement="With softmax output the top C - 1 eigenvalues (its mean-gradient outliers) spread into a tail, "
                  "while with linear output they are tightly clustered.",
        measured=float(lowest) if np.isfinite(lowest) else "no intervals", tolerance=limits.spread_margin,
        expected=f"log10(lambda_1/lambda_C-1), softmax minus linear per seed: interval's lower end ≥ "
                 f"{limits.spread_margin} decades at every width and activation (measured: the smallest lower end)",
        holds=bool(ok), ours=True,
        detail="; ".join(parts) + ". Spreads over the top C - 1, not C: diag p - p p^T annihilates the class-mean "
               "direction, so the softmax FIM's C-th eigenvalue sits in the bulk by construction (the first run "
               "used lambda_C, a statistic that could not fail; corrected after it, margin unchanged). Softmax "
               "outlier counts (widest gap; not asserted, the paper gives none): "
               + " | ".join(f"{a}: {_counts(of(soft_counts, 'fim_softmax', a), 'width')}" for a in activations)
               + ("" if ok else ". " + _lowest_diagnosis(lowest_at, limits.spread_margin)[1]),
        **(_fields(lowest_at[0], f"{confidence:.0%} t-interval over seeds, {lowest_at[1]} (measured: its lower "
                                 "end)") if lowest_at else _fields(None, "")),
        diagnosis="" if ok else _lowest_diagnosis(lowest_at, limits.spread_margin)[0]))

    # 6. Input metric against D: lambda_max / mean ~ D, and C outliers at the largest D.
    tolerance = limits.input_slope_tolerance
    ok, parts, worst, worst_interval = bool(len(dims)), [], 0.0, None
    largest = int(dims["input_dim"].max()) if len(dims) else 0
    for activation in activations:
        rows = of(dims, "input_linear", activation)
        if rows["input_dim"].nunique() < 2:
            ok = False
            parts.append(f"{activation}: fewer than two input dimensions")
            continue
        slope = mean_interval(per_seed_slopes(rows.assign(r=rows["lambda_max"] / rows["mean"]), "input_dim", "r"),
                          confidence)
        gap_slope = mean_interval(per_seed_slopes(rows, "input_dim", "gap_c"), confidence)
        at_largest = rows[rows["input_dim"] == largest]
        ok &= _within(slope, 1.0, tolerance) and bool((at_largest["outliers"] == outputs).all())
        if abs(slope["mean"] - 1.0) > worst:  # max()'s choice, with the interval behind it
            worst, worst_interval = abs(slope["mean"] - 1.0), slope
        parts.append(f"{activation}: lambda_max/mean slope {_fmt(slope)}; lambda_C/lambda_C+1 slope "
                     f"{_fmt(gap_slope)} (not asserted); counts {_counts(rows, 'input_dim')}")
    claims.append(Claim(
        id="spectra.input_metric_follows_input_dim",
        source=f"{SOURCE_ABSTRACT}: the metric of the input signal shows the same pathology",
        statement=f"The input metric's outliers are set by the input dimension D: its lambda_max stays O(1) while "
                  f"its mean falls like 1/D, and at large D it has exactly C = {outputs} outliers (hidden width "
                  f"M = {settings.input_metric.width}, D in {list(settings.input_metric.input_dims)}).",
        measured=float(worst) if parts else "no runs", tolerance=tolerance, holds=bool(ok), ours=True,
        expected=f"per-seed slope of log(lambda_max/mean) on log D: interval within 1 ± {tolerance}, every "
                 f"activation; outlier count = {outputs} in every seed at D = {largest} (measured: the largest "
                 "|slope - 1|)",
        detail="; ".join(parts) + ("." if ok else (
            ". diagnosis (scale): the mean falls like 1/D as predicted (trace O(1)), but lambda_max still carries a "
            "share of the bulk that shrinks with D (lambda_max per D, seed means: " + " | ".join(
                f"{a}: " + ", ".join(f"{v:.3g}" for v in of(dims, "input_linear", a).groupby("input_dim")
                                     ["lambda_max"].mean()) for a in activations)
            + "), so the slope approaches 1 from below as lambda_max levels off at its O(1) outlier value (as the "
            "top of a C x D random matrix, whose edge exceeds its mean by a factor 1 + O(sqrt(C / D)); a linear "
            "network, whose metric has rank C, shows it too); "
            + EVIDENCE_INPUT)),
        **_fields(worst_interval, ""), diagnosis="" if ok else "scale"))
    return claims
