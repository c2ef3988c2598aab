"""The two simulations of Nakada & Imaizumi (JMLR 21(174), 2020, Sec. 6.1 and 6.2): data, fits, tidy errors.

A *setting* is one support and target: a d-sphere in R^D (Sim 6.1) or a union of an l^{1/2} and an l^2
ball in R^5 (Sim 6.2). As in the non-smooth family, each replicate draws one sample of the largest size
and the sample of size n is its first n points, so every method sees the same data (paired comparisons).
On the sphere the draws (u on S^d, noise, test points) depend on d and the replicate, not on D, so the
ambient-D control compares the same intrinsic samples embedded in two ambient spaces (paired too).
Errors are squared L2(mu) distances to the noise-free target on fresh points from the same support.

Every run row carries ``learned``: its error is below half the constant predictor's (Var f on the test points,
``dltheory.references``). The simulate job records the constant and ridge references per (n, replicate).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from dltheory.intrinsic.supports import BallUnion, EmbeddedSphere
from dltheory.intrinsic.targets import make_target
from dltheory.references import constant_mse, learned, ridge_mse
from dltheory.seeds import derive_seed, rng_for

# torch (1-1.5 s to import) only where the DNNs train: the simulate and baseline jobs start without it.
if TYPE_CHECKING:
    import torch

    from dltheory.nonsmooth.dnn import DNNSettings

FAMILY = "intrinsic"
RUN_COLUMNS = [
    "family", "simulation", "setting", "ambient_dim", "intrinsic_dim", "beta", "method", "n", "replicate",
    "seed", "metric", "value", "hyperparameters", "diverged", "diverged_step", "learned",
]
# Smoothness of each simulation's target (N Sec. 6.1: beta = 2; Sec. 6.2: beta = 1).
TARGET_BETA = {"sphere": 2.0, "balls": 1.0}


def make_support(setting: dict, seed: int):
    """The setting's support; a random embedding is drawn from the global seed and the setting's name."""
    support_seed = derive_seed(seed, FAMILY, setting["name"], "support") % 2**32
    if setting["simulation"] == "sphere":
        embedding = setting.get("embedding", "repeated_axes")
        if embedding == "repeated_axes":
            return EmbeddedSphere.repeated_axes(setting["ambient_dim"], setting["intrinsic_dim"],
                                                radius=setting["radius"])
        if embedding == "rotated":
            return EmbeddedSphere.from_seed(setting["ambient_dim"], setting["intrinsic_dim"], support_seed,
                                            radius=setting["radius"])
        raise ValueError(f"setting {setting['name']!r}: unknown embedding {embedding!r}; known: repeated_axes, "
                         "rotated")
    if setting["simulation"] == "balls":
        return BallUnion.from_seed(setting["ambient_dim"], setting["intrinsic_dim"], support_seed)
    raise ValueError(f"setting {setting['name']!r}: unknown simulation {setting['simulation']!r}; "
                     "known: sphere, balls")


def _stream(setting: dict) -> tuple:
    """The names that seed a setting's draws: on the sphere (simulation, d), shared by every ambient D."""
    if setting["simulation"] == "sphere":
        return ("sphere", f"d{setting['intrinsic_dim']}")
    return (setting["name"],)


def simulate_setting(setting: dict, max_n: int, replicates: int, noise_variance: float, n_test: int,
                     seed: int) -> dict[str, np.ndarray]:
    """Training samples (replicates, max_n, D) with noisy responses, and noise-free test points on the support."""
    support = make_support(setting, seed)
    target = make_target(setting["target"]["name"], setting["target"]["scale"])
    noise_sd = float(np.sqrt(noise_variance))
    train_x = np.empty((replicates, max_n, setting["ambient_dim"]))
    train_y = np.empty((replicates, max_n))
    for replicate in range(replicates):
        rng = rng_for(seed, FAMILY, *_stream(setting), "data", replicate)
        train_x[replicate] = support.sample(max_n, rng)
        train_y[replicate] = target(train_x[replicate]) + noise_sd * rng.standard_normal(max_n)
    test_x = support.sample(n_test, rng_for(seed, FAMILY, *_stream(setting), "test"))
    return {"train_x": train_x, "train_y": train_y, "test_x": test_x, "test_f": target(test_x)}


def _rows(setting: dict, method: str, n: int, replicate: int, seed: int, metrics: dict, hyperparameters: dict,
          is_learned: bool, diverged=False, diverged_step=-1) -> list[dict]:
    shared = {
        "family": FAMILY, "simulation": setting["simulation"], "setting": setting["name"],
        "ambient_dim": setting["ambient_dim"], "intrinsic_dim": setting["intrinsic_dim"],
        "beta": TARGET_BETA[setting["simulation"]], "method": method, "n": n, "replicate": replicate,
        "seed": seed, "hyperparameters": json.dumps(hyperparameters, sort_keys=True, default=str),
        "diverged": bool(diverged), "diverged_step": int(diverged_step), "learned": bool(is_learned),
    }
    return [{**shared, "metric": metric, "value": float(value)} for metric, value in metrics.items()]


def run_references(setting: dict, data: dict, sizes: list[int], seed: int) -> pd.DataFrame:
    """The did-it-learn references of every (size, replicate): the constant predictor (``mse`` = Var f on the
    test points) and ridge on standardised inputs with its penalty by leave-one-out (``dltheory.references``)."""
    variance = constant_mse(data["test_f"])
    rows = []
    for replicate in range(data["train_x"].shape[0]):
        for n in sizes:
            job_seed = derive_seed(seed, FAMILY, setting["name"], "references", n, replicate)
            rows += _rows(setting, "constant", n, replicate, job_seed, {"mse": variance}, {}, False)
            mse, penalty = ridge_mse(data["train_x"][replicate, :n], data["train_y"][replicate, :n],
                                     data["test_x"], data["test_f"])
            rows += _rows(setting, "ridge", n, replicate, job_seed, {"mse": mse}, {"penalty": penalty},
                          bool(learned(mse, variance)))
    return pd.DataFrame(rows, columns=RUN_COLUMNS)


def run_baseline(setting: dict, data: dict, method: str, params: dict, sizes: list[int], seed: int) -> pd.DataFrame:
    """Fit k-NN or Nadaraya-Watson on every (size, replicate), on the DNN's footing: fitted on the same first
    rows as the DNN trains on, the hyperparameter chosen on the same held-out last rows as its early stopping
    (``setting["validation_fraction"]`` of n, ``dltheory.intrinsic.estimators.fit_on_holdout``)."""
    # Here, not at the top: the estimators import scikit-learn (~1 s), which the simulating and DNN jobs never use.
    from dltheory.intrinsic.estimators import fit_on_holdout

    variance = constant_mse(data["test_f"])
    fraction = setting["validation_fraction"]
    rows = []
    for replicate in range(data["train_x"].shape[0]):
        for n in sizes:
            n_val = holdout_size(n, fraction)
            x, y = data["train_x"][replicate, :n], data["train_y"][replicate, :n]
            prediction, chosen = fit_on_holdout(method, params, x[: n - n_val], y[: n - n_val], x[n - n_val :],
                                                y[n - n_val :], data["test_x"])
            mse = float(np.mean((prediction - data["test_f"]) ** 2))
            job_seed = derive_seed(seed, FAMILY, setting["name"], method, n, replicate)
            rows += _rows(setting, method, n, replicate, job_seed, {"mse": mse}, chosen, bool(learned(mse, variance)))
    return pd.DataFrame(rows, columns=RUN_COLUMNS)


def holdout_size(n: int, fraction: float) -> int:
    """Rows held out for early stopping and tuning, as ``dltheory.nonsmooth.dnn.train_dnn_batch`` holds them out."""
    return max(1, int(np.round(n * fraction)))


def standardisation(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and SD of each coordinate of a training sample; a coordinate constant on it gets SD 1 (left at 0)."""
    mean, scale = x.mean(axis=0), x.std(axis=0)
    return mean, np.where(scale > 1e-12 * np.maximum(1.0, np.abs(mean)), scale, 1.0)


def _fold_standardisation(model, means: np.ndarray, scales: np.ndarray, y_means: np.ndarray,
                          y_scales: np.ndarray) -> None:
    """Make each model map raw inputs to raw responses: with z = (x - m) / s, the first layer W z + b is
    (W / s) x + (b - (m / s) W), and the output g becomes s_y g + m_y."""
    import torch

    def tensor(array, like):
        return torch.as_tensor(array, dtype=like.dtype, device=like.device)

    with torch.no_grad():
        weight = model.input_weight
        model.input_bias -= torch.einsum("bd,bdw->bw", tensor(means / scales, weight), weight)
        weight /= tensor(scales, weight)[:, :, None]
        model.output_weight *= tensor(y_scales, weight)[:, None, None]
        model.output_bias.mul_(tensor(y_scales, weight)[:, None]).add_(tensor(y_means, weight)[:, None])


def stopped_early(best_step: int, settings: DNNSettings) -> bool:
    """Whether a model's early stopping ended its training before ``max_steps``: it stops at the evaluation
    after ``patience`` evaluations without improvement (``dltheory.nn.training``), i.e. at best_step +
    (patience + 1) * eval_every."""
    return best_step + (settings.patience + 1) * settings.eval_every <= settings.max_steps


def train_dnn_batch(datasets, architectures, settings: DNNSettings, seed: int, device: torch.device, progress=None,
                    output_scale: float = 1.0):
    """``dltheory.nonsmooth.dnn.train_dnn_batch`` with the output layer's initial weights times ``output_scale``.

    He initialisation leaves a width-128 ReLU net computing a random function of SD ~1 at the start, against
    Var f of 0.04-0.2 on the sphere; at learning rates small enough for the repeated coordinates, early stopping
    on a noisy validation split then fires while that random part is still being removed (pilot: DNN error above
    Var f at d = 16). ``output_scale`` < 1 starts every net near the constant 0 instead.
    """
    import torch

    from dltheory.nn.batched_mlp import BatchedArchitecture, BatchedMLP
    from dltheory.nn.training import pad_train_validation, train_batched_regression

    dim = datasets[0][0].shape[1]
    n_val = np.array([holdout_size(len(y), settings.validation_fraction) for _, y in datasets])
    train_x, train_y, n_train, val_x, val_y = pad_train_validation(datasets, n_val)

    def tensor(array):
        return torch.as_tensor(array, device=device)

    architecture = BatchedArchitecture(in_dim=dim, depths=tuple(d for d, _ in architectures),
                                       widths=tuple(w for _, w in architectures))
    model = BatchedMLP(architecture, torch.Generator(device="cpu").manual_seed(seed), init=settings.init)
    with torch.no_grad():
        model.output_weight *= output_scale
    model = model.to(device)
    outcome = train_batched_regression(
        model, tensor(train_x), tensor(train_y), tensor(n_train), tensor(val_x), tensor(val_y), tensor(n_val),
        settings.training, torch.Generator(device=device).manual_seed(seed + 1), progress,
    )
    return model, outcome


def run_dnn(setting: dict, data: dict, method: str, settings: DNNSettings, sizes: list[int], seed: int,
            device: torch.device, progress=None, output_scale: float = 1.0) -> pd.DataFrame:
    """Train the fixed-size ReLU DNNs of every (size, replicate) together as one batched model.

    Each model sees its inputs and responses standardised by the mean and SD of its own n training points
    (constant coordinates left at 0); the standardisation is folded into the first and last layers afterwards, so
    the test points go in raw and the predictions come out on the response's scale. Rows: ``mse``, ``val_mse``
    (the early-stopping criterion), ``best_step`` and ``stopped_early`` (1 when early stopping ended training before
    ``max_steps``: trained to convergence by that rule). ``output_scale`` multiplies the output layer's initial
    weights (0: every net starts at the constant mean response).
    """
    from dltheory.nonsmooth.dnn import predict_dnn_batch

    replicates = data["train_x"].shape[0]
    jobs = [(n, r) for r in range(replicates) for n in sizes]
    standardised, means, scales, y_means, y_scales = [], [], [], [], []
    for n, r in jobs:
        x, y = data["train_x"][r, :n], data["train_y"][r, :n]
        mean, scale = standardisation(x)
        y_mean, y_scale = float(y.mean()), float(y.std()) or 1.0
        standardised.append(((x - mean) / scale, (y - y_mean) / y_scale))
        means.append(mean)
        scales.append(scale)
        y_means.append(y_mean)
        y_scales.append(y_scale)
    architectures = [(settings.depth, settings.width)] * len(jobs)
    batch_seed = derive_seed(seed, FAMILY, setting["name"], method)
    model, outcome = train_dnn_batch(standardised, architectures, settings, batch_seed % 2**31, device, progress,
                                     output_scale)
    _fold_standardisation(model, np.array(means), np.array(scales), np.array(y_means), np.array(y_scales))
    test_predictions = predict_dnn_batch(model, data["test_x"])
    variance = constant_mse(data["test_f"])
    hyper = {"depth": settings.depth, "width": settings.width, "init": settings.init,
             "parameters": model.architecture.parameter_counts()[0], "max_steps": settings.max_steps}
    rows = []
    for i, (n, replicate) in enumerate(jobs):
        lost = outcome.diverged[i] and outcome.best_step[i] == 0  # diverged before any good checkpoint
        mse = np.nan if lost else float(np.mean((test_predictions[i] - data["test_f"]) ** 2))
        metrics = {"mse": mse, "val_mse": float(outcome.best_val_mse[i]) * y_scales[i] ** 2,
                   "best_step": int(outcome.best_step[i]),
                   "stopped_early": float(stopped_early(int(outcome.best_step[i]), settings))}
        rows += _rows(setting, method, n, replicate, batch_seed, metrics, hyper, bool(learned(mse, variance)),
                      outcome.diverged[i], outcome.diverged_step[i])
    return pd.DataFrame(rows, columns=RUN_COLUMNS)
