"""Classical cause-effect baselines for issue 5: ANM, IGCI and RECI as direction scores.

Every method is a pure function ``score(x, y) -> float`` on the two 1-D samples of one pair, with the sign
convention of the ``cdt`` package (Kalainathan & Goudet, cdt 0.6.0, ``cdt.causality.pairwise``): a positive score
means x causes y, a negative one y causes x. Keeping cdt's convention lets ``tests/test_causal_baselines.py``
cross-check each score against cdt's ``ANM``, ``IGCI`` and ``RECI`` on the same pairs.

Choices marked "ours" are not fixed by the papers or by cdt; everything else follows the cited method (and, where
the papers leave a detail open, cdt's implementation, so that the cross-check compares like with like).
"""

import warnings
from collections.abc import Callable

import numpy as np
from scipy.special import digamma

from dltheory.causal.pairs import standardize, validate_pair

# Most points ANM's Gaussian processes are fitted on (ours): GP regression costs O(n^3) per likelihood evaluation,
# so larger pairs are subsampled, without replacement and with a seeded rng; one pair then takes about 1 s.
ANM_MAX_POINTS = 500
# Most points the HSIC statistic is computed on: cdt's ``FastHsicTestGamma(maxpnt=200)``, evenly spaced in sample
# order. Kept so that our statistic is cdt's statistic; the O(m^2) Gram matrices are cheap at this size.
HSIC_MAX_POINTS = 200
# Starting hyperparameters of ANM's GP on standardized data (ours): unit signal variance and length scale, noise
# variance 0.1. The marginal likelihood is then maximized from this single start (no random restarts), which
# keeps the score a deterministic function of the data.
GP_INITIAL_AMPLITUDE = 1.0
GP_INITIAL_LENGTH_SCALE = 1.0
GP_INITIAL_NOISE = 0.1


def _checked(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The pair as two 1-D float arrays, or ``InvalidPair`` (a ValueError) naming what makes it unusable."""
    validate_pair(x, y, name="scored pair")
    return np.asarray(x, dtype=float), np.asarray(y, dtype=float)


def min_max_scale(values: np.ndarray) -> np.ndarray:
    """Affine map onto [0, 1] (``sklearn.preprocessing.minmax_scale``)."""
    return (values - values.min()) / np.ptp(values)


# --- ANM ---------------------------------------------------------------------------------------------------------


def median_bandwidth(values: np.ndarray) -> float:
    """Gaussian-kernel width sigma with 2 sigma^2 = median of the positive squared distances between distinct points.

    This is the median heuristic exactly as cdt's ``rbf_dot`` writes it (sigma = sqrt(median(d^2) / 2)), so the
    kernel exp(-d^2 / (2 sigma^2)) = exp(-d^2 / median(d^2)).
    """
    upper = np.triu_indices(len(values), k=1)
    squared = ((values[:, None] - values[None, :]) ** 2)[upper]
    return float(np.sqrt(0.5 * np.median(squared[squared > 0])))


def gaussian_gram(values: np.ndarray) -> np.ndarray:
    """Gram matrix of the Gaussian kernel at the median-heuristic bandwidth."""
    sigma = median_bandwidth(values)
    return np.exp(-((values[:, None] - values[None, :]) ** 2) / (2.0 * sigma**2))


def even_subsample_indices(n: int, max_points: int) -> np.ndarray:
    """At most ``max_points`` indices evenly spaced in sample order, as cdt's ``FastHsicTestGamma`` picks them.

    Written as floor(i * (n - 1) / (max_points - 1)), the same floating-point products that cdt's ``np.r_`` range
    produces, so both pick the same points.
    """
    if n <= max_points:
        return np.arange(n)
    return np.floor(np.arange(max_points) * (float(n - 1) / (max_points - 1))).astype(int)


def hsic_statistic(a: np.ndarray, b: np.ndarray, max_points: int = HSIC_MAX_POINTS) -> float:
    """HSIC dependence statistic tr(K H L H) / m with Gaussian kernels (Gretton et al., ALT 2005).

    This is the statistic of cdt's ``normalized_hsic`` (``FastHsicTestGamma``): both samples standardized, at most
    ``max_points`` evenly spaced points, median-heuristic bandwidths, and the trace divided by m (m times the biased
    HSIC estimate; the scale is irrelevant because ANM only compares two statistics on equally many points).
    A constant sample is independent of anything, so its statistic is 0 (cdt's fallback for the NaN it gets there).
    """
    keep = even_subsample_indices(len(a), max_points)
    a, b = a[keep], b[keep]
    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return 0.0
    gram_a, gram_b = gaussian_gram(standardize(a)), gaussian_gram(standardize(b))
    # Double-centring one Gram matrix suffices: H is idempotent, so tr(HKH HLH) = tr(HKH L).
    centred_a = gram_a - gram_a.mean(axis=0, keepdims=True) - gram_a.mean(axis=1, keepdims=True) + gram_a.mean()
    return float(np.sum(centred_a * gram_b) / len(a))


def gp_residuals(cause: np.ndarray, effect: np.ndarray) -> np.ndarray:
    """Residuals of a GP regression of effect on cause, hyperparameters by maximum marginal likelihood.

    The regression step of ANM (Hoyer et al., NIPS 2009; Mooij et al., JMLR 17(32), 2016, whose "ANM-HSIC" variant
    this is): squared-exponential covariance with signal variance, length scale and Gaussian noise variance fitted by
    type-II maximum likelihood. The WhiteKernel models the noise during fitting but adds nothing to the predictive
    mean, so the residuals are effect minus the posterior mean at the training inputs.
    """
    # Here, not at the top: scikit-learn costs ~1 s to import, and the network-scoring jobs import this module
    # (through ``evaluation``) without ever fitting a GP.
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.gaussian_process import GaussianProcessRegressor
    from sklearn.gaussian_process.kernels import RBF, ConstantKernel, WhiteKernel

    kernel = ConstantKernel(GP_INITIAL_AMPLITUDE) * RBF(GP_INITIAL_LENGTH_SCALE) + WhiteKernel(GP_INITIAL_NOISE)
    regressor = GaussianProcessRegressor(kernel=kernel, n_restarts_optimizer=0)
    with warnings.catch_warnings():
        # A hyperparameter on its bound (noise variance 1e-5 for a nearly deterministic pair) is still the
        # likelihood's maximum over the allowed range; sklearn's warning about it is expected, not a failure.
        warnings.simplefilter("ignore", ConvergenceWarning)
        regressor.fit(cause[:, None], effect)
    return effect - regressor.predict(cause[:, None])


def anm_score(x: np.ndarray, y: np.ndarray, max_points: int = ANM_MAX_POINTS, seed: int = 0) -> float:
    """Additive noise model score: HSIC(backward residuals, y) - HSIC(forward residuals, x); > 0 means x -> y.

    Hoyer et al., "Nonlinear causal discovery with additive noise models", NIPS 2009; Mooij et al., "Distinguishing
    cause from effect using observational data", JMLR 2016. If y = f(x) + e with e independent of x, the residuals
    of regressing y on x are independent of x, while those of the reverse regression generally depend on y; the
    direction whose residuals are less dependent on the input wins. As in cdt's ``ANM``, both variables are
    standardized and dependence is cdt's HSIC statistic (``hsic_statistic``); unlike cdt, whose GP uses sklearn's
    default kernel (unit variance and length scale, fixed before scikit-learn 1.9) with no noise term (jitter 1e-10),
    the GP hyperparameters are fitted. cdt 0.6.0's own ``ANM`` is degenerate with scikit-learn >= 1.1: 1-D
    predictions broadcast its residual into an n x n matrix and its score collapses to HSIC(y, x) - HSIC(x, y), i.e.
    0 up to rounding and tie artefacts (see ``tests/test_causal_baselines.py``).
    Pairs longer than ``max_points`` (ours, default 500) are subsampled with ``np.random.default_rng(seed)``.
    """
    x, y = _checked(x, y)
    if len(x) > max_points:
        # Sorted indices keep the sample order, which the evenly spaced HSIC subsample depends on.
        keep = np.sort(np.random.default_rng(seed).choice(len(x), size=max_points, replace=False))
        x, y = x[keep], y[keep]
    x, y = standardize(x), standardize(y)
    forward = hsic_statistic(gp_residuals(x, y), x)
    backward = hsic_statistic(gp_residuals(y, x), y)
    return backward - forward


# --- IGCI --------------------------------------------------------------------------------------------------------


def spacing_entropy(values: np.ndarray) -> float:
    """Differential entropy by the m-spacing estimator with m = 1 (Kraskov et al. 2004; Daniušis et al. 2010).

    H = mean over consecutive sorted points of log(x_(i+1) - x_(i)) + psi(n) - psi(1). As in the authors' igci.m and
    cdt's ``eval_entropy``, zero spacings (ties) are skipped in the sum but the sum is still divided by n - 1.
    """
    spacings = np.diff(np.sort(values))
    spacings = spacings[spacings != 0]
    return float(np.sum(np.log(spacings)) / (len(values) - 1) + digamma(len(values)) - digamma(1))


def igci_score(x: np.ndarray, y: np.ndarray) -> float:
    """Information-geometric causal inference with a Gaussian reference measure: H(x) - H(y); > 0 means x -> y.

    Daniušis et al., "Inferring deterministic causal relations", UAI 2010; Janzing et al., "Information-geometric
    approach to inferring causal directions", Artif. Intell. 182-183, 2012. After standardizing both variables
    (the Gaussian reference measure), a deterministic invertible y = f(x) chosen independently of p(x) makes the
    effect's entropy smaller than the cause's. Same estimator as cdt's ``IGCI(ref_measure='gaussian',
    estimator='entropy')``, whose sign this follows.
    """
    x, y = _checked(x, y)
    return spacing_entropy(standardize(x)) - spacing_entropy(standardize(y))


# --- RECI --------------------------------------------------------------------------------------------------------


def polynomial_mse(cause: np.ndarray, effect: np.ndarray, degree: int, cdt_quirk: bool) -> float:
    """Mean squared error of the least-squares polynomial of the given degree that predicts effect from cause.

    With ``cdt_quirk`` the powers 1 and 2 are left out, as cdt's ``RECI.b_fit_score`` zeroes those feature columns
    (the fit is then c + a3 x^3 + ... for the default degree 3); dropping a column and zeroing it give the same
    least-squares fit.
    """
    design = np.vander(cause, degree + 1, increasing=True)
    if cdt_quirk:
        design = np.delete(design, [power for power in (1, 2) if power <= degree], axis=1)
    coefficients, *_ = np.linalg.lstsq(design, effect, rcond=None)
    return float(np.mean((effect - design @ coefficients) ** 2))


def reci_score(x: np.ndarray, y: np.ndarray, degree: int = 3, cdt_quirk: bool = False) -> float:
    """Regression error based causal inference: MSE(x from y) - MSE(y from x); > 0 means x -> y.

    Blöbaum et al., "Cause-effect inference by comparing regression errors", AISTATS 2018 (PeerJ CS 5:e169, 2019):
    after scaling both variables to [0, 1], the regression error is smaller in the causal direction when the
    relation is close to deterministic. The regression is a full polynomial of ``degree`` (3, as cdt's default)
    fitted by least squares; ``cdt_quirk=True`` reproduces cdt 0.6.0, which drops the linear and quadratic terms.
    """
    x, y = _checked(x, y)
    if degree < 1:
        raise ValueError(f"degree must be at least 1, got {degree}")
    x, y = min_max_scale(x), min_max_scale(y)
    return polynomial_mse(y, x, degree, cdt_quirk) - polynomial_mse(x, y, degree, cdt_quirk)


BASELINES: dict[str, Callable[[np.ndarray, np.ndarray], float]] = {
    "anm": anm_score,
    "igci": igci_score,
    "reci": reci_score,
}
