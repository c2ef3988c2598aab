"""Random ReLU features fitted by least squares: the double-descent curve of Belkin, Hsu, Ma & Mandal (PNAS 2019,
Sec. 3: random features on MNIST, ridgeless "min-norm" fits past N = n) and the penalised curve that Nakada &
Imaizumi (arXiv 2103.00500, abstract) say replaces it when the penalty is tuned. Numpy only: no torch.

Features are phi(x) = relu(W^T x) / sqrt(N) with W ~ N(0, 1/d) of shape d x N and no bias (our setting); N grows
by adding columns to one draw of W per seed, so the curves over N are nested. One-hot targets (C outputs) are
fitted jointly; the class is the largest output. For one output the interpolation threshold is N = n (n equations,
N unknowns), and it is the same for every output.
"""

import numpy as np
import pandas as pd

from dltheory.overparam.data import CLASSES, majority_error, one_hot, seed_split, with_label_noise
from dltheory.overparam.settings import FAMILY, OverparamSettings
from dltheory.seeds import rng_for
from dltheory.settings import from_config


def random_relu_features(inputs: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """relu(X W) / sqrt(N) for inputs (points x d) and weights (d x N)."""
    return np.maximum(inputs @ weights, 0.0) / np.sqrt(weights.shape[1])


def min_norm_solution(features: np.ndarray, targets: np.ndarray, rcond: float = 1e-12) -> np.ndarray:
    """The minimum-norm least-squares coefficients pinv(Phi) Y through a float64 SVD, singular values below
    ``rcond`` times the largest dropped (Belkin et al.'s "ridgeless" fit; equal to ``numpy.linalg.lstsq`` with the
    same rcond)."""
    u, s, vt = np.linalg.svd(np.asarray(features, np.float64), full_matrices=False)
    keep = s > rcond * s[0]
    return vt[keep].T @ ((u[:, keep].T @ targets) / s[keep][:, None])


def ridge_solution(features: np.ndarray, targets: np.ndarray, penalty: float) -> np.ndarray:
    """argmin_b (1/n) ||Phi b - Y||^2 + penalty ||b||^2 = (Phi^T Phi + n penalty I)^-1 Phi^T Y."""
    n, width = features.shape
    return np.linalg.solve(features.T @ features + n * penalty * np.eye(width), features.T @ targets)


def spectral_fits(features: np.ndarray, targets: dict, penalties, rcond: float) -> dict:
    """Coefficients of every target matrix for the ridgeless fit (key 0.0) and each ridge penalty, from one SVD:
    b = V diag(g(s)) U^T Y with g(s) = 1/s (ridgeless, s > rcond s_max) or s / (s^2 + n penalty)."""
    n = features.shape[0]
    u, s, vt = np.linalg.svd(features, full_matrices=False)
    keep = s > rcond * s[0]
    gains = {0.0: np.where(keep, 1.0 / np.where(keep, s, 1.0), 0.0)}
    gains.update({float(p): s / (s**2 + n * p) for p in penalties})
    projected = {name: u.T @ y for name, y in targets.items()}
    return {(name, penalty): vt.T @ (gain[:, None] * projected[name])
            for name in targets for penalty, gain in gains.items()}


def classification_metrics(features: np.ndarray, coefficients: np.ndarray, labels: np.ndarray) -> dict:
    """Error rate of the largest output and squared error summed over the C outputs, mean over points."""
    outputs = features @ coefficients
    return {"error": float(np.mean(outputs.argmax(axis=1) != labels)),
            "mse": float(np.mean(np.sum((outputs - one_hot(labels)) ** 2, axis=1)))}


def feature_counts(n: int, ratios) -> list[int]:
    """N = round(ratio * n) for each N/n, at least 1, in order."""
    return [max(1, round(r * n)) for r in ratios]


def run_random_features(splits: dict, weights: np.ndarray, ratios, penalties, rcond: float,
                        sanity_ratios=()) -> list[dict]:
    """Every (label noise, N) fit of one seed as tidy rows.

    ``splits`` maps a label-noise rate to that seed's split (one training set of n points, its labels noisy at that
    rate); ``weights`` (d x max N) is the seed's feature draw. Per N and noise rate: the ridgeless fit and one fit
    per penalty, each with train (noisy labels), validation (noisy labels) and test (clean labels) error and MSE.
    The tuned ridge is chosen later on the validation MSE (:func:`tuned_ridge`), never on the test set. At
    ``sanity_ratios`` the ridgeless predictions are also compared with ``numpy.linalg.lstsq``'s (the known answer).
    """
    rows = []
    first = next(iter(splits.values()))
    n = len(first.train_y)
    for ratio, width in zip(ratios, feature_counts(n, ratios), strict=True):
        w = weights[:, :width]
        phi = {part: random_relu_features(getattr(first, f"{part}_x"), w) for part in ("train", "validation", "test")}
        targets = {noise: one_hot(split.train_y) for noise, split in splits.items()}
        fits = spectral_fits(phi["train"], targets, penalties, rcond)
        for (noise, penalty), coefficients in fits.items():
            split = splits[noise]
            base = {"label_noise": noise, "ratio": float(ratio), "features": width,
                    "parameters": width * CLASSES, "penalty": penalty,
                    "estimator": "ridgeless" if penalty == 0.0 else "ridge"}
            for part in ("train", "validation", "test"):
                for metric, value in classification_metrics(phi[part], coefficients,
                                                            getattr(split, f"{part}_y")).items():
                    rows.append({**base, "metric": f"{part}_{metric}", "value": value})
        if any(np.isclose(ratio, r) for r in sanity_ratios):
            for noise, y in targets.items():
                ours = phi["test"] @ fits[(noise, 0.0)]
                reference = phi["test"] @ np.linalg.lstsq(phi["train"], y, rcond=rcond)[0]
                gap = float(np.abs(ours - reference).max() / np.abs(reference).max())
                rows.append({"label_noise": noise, "ratio": float(ratio), "features": width,
                             "parameters": width * CLASSES, "penalty": 0.0, "estimator": "ridgeless",
                             "metric": "lstsq_relative_gap", "value": gap})
    for noise, split in splits.items():
        constant = one_hot(split.train_y).mean(axis=0)
        rows.append({"label_noise": noise, "estimator": "majority", "metric": "test_error",
                     "value": majority_error(split.train_y, split.test_y)})
        rows.append({"label_noise": noise, "estimator": "majority", "metric": "test_mse",
                     "value": float(np.mean(np.sum((one_hot(split.test_y) - constant) ** 2, axis=1)))})
    return rows


def draw_feature_weights(dim: int, width: int, rng: np.random.Generator) -> np.ndarray:
    """W ~ N(0, 1/d), d x N (ours: the scale of Belkin et al.'s random ReLU features is not read here)."""
    return rng.standard_normal((dim, width)) / np.sqrt(dim)


def run_random_features_sweep(section, seed: int) -> pd.DataFrame:
    """The random-features sweep of every replicate (settings: the overparam section, as a job gets it)."""
    settings = from_config(OverparamSettings, section, FAMILY)
    rf = settings.random_features
    frames = []
    for replicate in range(settings.replicates):
        clean = seed_split(seed, replicate, settings.train, settings.validation)
        splits = {rate: with_label_noise(clean, rate, seed, replicate) for rate in rf.label_noise}
        width = max(feature_counts(settings.train, rf.ratios))
        weights = draw_feature_weights(clean.train_x.shape[1], width,
                                       rng_for(seed, FAMILY, "features", replicate))
        rows = run_random_features(splits, weights, rf.ratios, rf.penalties, rf.rcond, rf.sanity_ratios)
        frames.append(pd.DataFrame(rows).assign(part="random_features", replicate=replicate))
    return pd.concat(frames, ignore_index=True)
