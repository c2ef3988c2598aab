"""Rates and network sizes from Imaizumi & Fukumizu, JMLR 23(111), 2022 ("J").

All exponents are for the squared L2 risk E||f_hat - f*||^2, which is what the experiment measures:
a rate n^{-r} appears as the slope -r of log risk against log n.
"""

import math


def dnn_rate_exponent(dim: int, alpha: float, beta: float, pieces: int = 2) -> float:
    """Exponent r of the DNN risk n^{-r} on piecewise Hölder-beta functions with Hölder-alpha boundaries.

    J Thm 7 / Cor 8: risk O~(max{n^{-2beta/(2beta+D)}, n^{-alpha/(alpha+D-1)}}); the slower term wins.
    With a single piece there is no boundary, and only the smooth term n^{-2beta/(2beta+D)} remains
    (the minimax rate of a Hölder ball, attained by linear estimators as well).
    """
    smooth = 2 * beta / (2 * beta + dim)
    if pieces < 2:
        return smooth
    boundary = alpha / (alpha + dim - 1)
    return min(smooth, boundary)


def linear_rate_exponent(dim: int, alpha: float, beta: float, pieces: int = 2) -> float:
    """Largest exponent r any linear estimator can reach, worst case over the class: risk Omega(n^{-r}).

    J Prop 15 (alpha, beta >= 1): every linear estimator (kernel ridge, GP, splines, sieves; J Def 14)
    has worst-case risk Omega(n^{-alpha/(2alpha+D-1)}). Without a boundary (one piece) the smooth
    minimax exponent 2beta/(2beta+D) applies to both families.
    """
    if pieces < 2:
        return 2 * beta / (2 * beta + dim)
    return min(alpha / (2 * alpha + dim - 1), 2 * beta / (2 * beta + dim))


def jmlr_parameter_count(n: int, dim: int, alpha: float, beta: float, pieces: int, scale: float) -> float:
    """Non-zero parameter budget S of J Thm 7: C (M n^{D/(2beta+D)} + n^{(D-1)/(alpha+D-1)}) log^2 n.

    ``scale`` is the constant C, which the theorem leaves unspecified (our choice, in config). The formula
    is used as printed for every M, the smooth control (M = 1) included, so the control's network differs
    from a piecewise target's only through M.
    """
    smooth_term = pieces * n ** (dim / (2 * beta + dim))
    boundary_term = n ** ((dim - 1) / (alpha + dim - 1))
    return scale * (smooth_term + boundary_term) * math.log(n) ** 2


def jmlr_depth(n: int, alpha: float, beta: float, pieces: int, scale: float) -> int:
    """Depth (hidden layers) from J Thm 7: L >= C (1 + floor(alpha) + floor(beta) + log2(n / M))."""
    raw = scale * (1 + math.floor(alpha) + math.floor(beta) + math.log2(n / max(pieces, 1)))
    return max(1, math.ceil(raw))


def width_for_parameter_count(parameters: float, dim: int, depth: int) -> int:
    """Width W of a dense MLP with ``depth`` hidden layers whose parameter count is closest to ``parameters``.

    A dense net has (depth-1) W^2 + (dim + depth + 1) W + 1 parameters; J counts non-zeros of a sparse
    net, and we spend that budget on a dense one (our choice), solving the quadratic for W.
    """
    a, b, c = depth - 1, dim + depth + 1, 1 - parameters
    if a == 0:
        width = -c / b
    else:
        width = (-b + math.sqrt(b * b - 4 * a * c)) / (2 * a)
    return max(2, round(width))


def jmlr_network_size(
    n: int, dim: int, alpha: float, beta: float, pieces: int, parameter_scale: float, depth_scale: float
) -> tuple[int, int]:
    """(depth, width) following the J Thm 7 guideline: depth ~ log n, parameters ~ n^{max(...)} log^2 n."""
    depth = jmlr_depth(n, alpha, beta, pieces, depth_scale)
    parameters = jmlr_parameter_count(n, dim, alpha, beta, pieces, parameter_scale)
    return depth, width_for_parameter_count(parameters, dim, depth)


# --- Where DNNs win: the (alpha, beta) phase diagram (J Sec. 1, Cor 20, Fig. 2 and Fig. 5) ---


def dnn_beats_linear(alpha: float, beta: float, dim: int) -> bool:
    """True where the DNN rate is strictly faster than every linear estimator's (J pp. 3-4).

    -alpha/(2alpha+D-1) > max{-2beta/(2beta+D), -alpha/(alpha+D-1)}; since alpha/(2alpha+D-1) is always below
    alpha/(alpha+D-1), this is alpha (D - 2beta) < 2beta (D-1), i.e. beta > alpha D / (2(alpha+D-1)) (our
    rearrangement; it holds for every alpha once 2beta >= D).
    """
    return alpha * (dim - 2 * beta) < 2 * beta * (dim - 1)


def dnn_region_boundary(alpha: float, dim: int) -> float:
    """The beta on the edge of the DNN-better region: beta = alpha D / (2(alpha + D - 1)) (J Fig. 2's red line).

    J's Fig. 2 caption says D = 5, but its drawn curve matches D = 10 (shared/papers/nonsmooth.md, Sec. 3).
    """
    return alpha * dim / (2 * (alpha + dim - 1))


def corollary20_condition(alpha: float, beta: float, dim: int) -> bool:
    """J Cor 20 as printed: alpha < 2beta(D-1)/D (with M >= 2, alpha, beta >= 1). Sufficient, stricter than
    :func:`dnn_beats_linear` (our reading; the intro and figures use the exact condition)."""
    return alpha < 2 * beta * (dim - 1) / dim


def wavelet_suboptimal(alpha: float, beta: float, dim: int) -> bool:
    """J Prop 18 / Cor 20: truncated tensor wavelets (risk Omega(n^{-1/2})) lose to DNNs if beta > D/2, alpha > D-1."""
    return beta > dim / 2 and alpha > dim - 1


def curvelet_suboptimal(alpha: float, beta: float, dim: int = 2) -> bool:
    """J Prop 19 / Cor 20: curvelets (D = 2, risk Omega(n^{-1/3})) lose to DNNs if beta > D/4, alpha > (D-1)/2."""
    if dim != 2:
        raise ValueError(f"curvelets are defined for D = 2 only, got dim={dim}")
    return beta > dim / 4 and alpha > (dim - 1) / 2
