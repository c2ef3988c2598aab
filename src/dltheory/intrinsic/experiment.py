"""The two simulations of Nakada & Imaizumi (JMLR 21(174), 2020, Sec. 6.1 and 6.2): data, fits, tidy errors.

A *setting* is one support and target: a d-sphere in R^128 (Sim 6.1) or a union of an l^{1/2} and an l^2
ball in R^5 (Sim 6.2). As in the non-smooth family, each replicate draws one sample of the largest size
and the sample of size n is its first n points, so every method sees the same data (paired comparisons).
Errors are squared L2(mu) distances to the noise-free target on fresh points from the same support.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from dltheory.intrinsic.estimators import make_intrinsic_baseline
from dltheory.intrinsic.supports import BallUnion, EmbeddedSphere
from dltheory.intrinsic.targets import make_target
from dltheory.nonsmooth.experiment import selected_hyperparameters
from dltheory.seeds import derive_seed, rng_for

# torch (1-1.5 s to import) only where the DNNs train: the simulate and baseline jobs start without it.
if TYPE_CHECKING:
    import torch

    from dltheory.nonsmooth.dnn import DNNSettings

FAMILY = "intrinsic"
RUN_COLUMNS = [
    "family", "simulation", "setting", "ambient_dim", "intrinsic_dim", "beta", "method", "n", "replicate",
    "seed", "metric", "value", "hyperparameters", "diverged", "diverged_step",
]
# Smoothness of each simulation's target (N Sec. 6.1: beta = 2; Sec. 6.2: beta = 1).
TARGET_BETA = {"sphere": 2.0, "balls": 1.0}


def make_support(setting: dict, seed: int):
    """The setting's support, its random embedding drawn from the global seed and the setting's name."""
    support_seed = derive_seed(seed, FAMILY, setting["name"], "support") % 2**32
    if setting["simulation"] == "sphere":
        return EmbeddedSphere.from_seed(setting["ambient_dim"], setting["intrinsic_dim"], support_seed,
                                        radius=setting["radius"])
    if setting["simulation"] == "balls":
        return BallUnion.from_seed(setting["ambient_dim"], setting["intrinsic_dim"], support_seed)
    raise ValueError(f"setting {setting['name']!r}: unknown simulation {setting['simulation']!r}; "
                     "known: sphere, balls")


def simulate_setting(setting: dict, max_n: int, replicates: int, noise_variance: float, n_test: int,
                     seed: int) -> dict[str, np.ndarray]:
    """Training samples (replicates, max_n, D) with noisy responses, and noise-free test points on the support."""
    support = make_support(setting, seed)
    target = make_target(setting["target"]["name"], setting["target"]["scale"])
    noise_sd = float(np.sqrt(noise_variance))
    train_x = np.empty((replicates, max_n, setting["ambient_dim"]))
    train_y = np.empty((replicates, max_n))
    for replicate in range(replicates):
        rng = rng_for(seed, FAMILY, setting["name"], "data", replicate)
        train_x[replicate] = support.sample(max_n, rng)
        train_y[replicate] = target(train_x[replicate]) + noise_sd * rng.standard_normal(max_n)
    test_x = support.sample(n_test, rng_for(seed, FAMILY, setting["name"], "test"))
    return {"train_x": train_x, "train_y": train_y, "test_x": test_x, "test_f": target(test_x)}


def _rows(setting: dict, method: str, n: int, replicate: int, seed: int, metrics: dict, hyperparameters: dict,
          diverged=False, diverged_step=-1) -> list[dict]:
    shared = {
        "family": FAMILY, "simulation": setting["simulation"], "setting": setting["name"],
        "ambient_dim": setting["ambient_dim"], "intrinsic_dim": setting["intrinsic_dim"],
        "beta": TARGET_BETA[setting["simulation"]], "method": method, "n": n, "replicate": replicate,
        "seed": seed, "hyperparameters": json.dumps(hyperparameters, sort_keys=True, default=str),
        "diverged": bool(diverged), "diverged_step": int(diverged_step),
    }
    return [{**shared, "metric": metric, "value": float(value)} for metric, value in metrics.items()]


def run_baseline(setting: dict, data: dict, method: str, params: dict, sizes: list[int], seed: int) -> pd.DataFrame:
    """Fit k-NN or Nadaraya-Watson (tuned by leave-one-out CV) on every (size, replicate)."""
    rows = []
    for replicate in range(data["train_x"].shape[0]):
        for n in sizes:
            estimator = make_intrinsic_baseline(method, params)
            estimator.fit(data["train_x"][replicate, :n], data["train_y"][replicate, :n])
            mse = float(np.mean((estimator.predict(data["test_x"]) - data["test_f"]) ** 2))
            job_seed = derive_seed(seed, FAMILY, setting["name"], method, n, replicate)
            rows += _rows(setting, method, n, replicate, job_seed, {"mse": mse},
                          selected_hyperparameters(estimator))
    return pd.DataFrame(rows, columns=RUN_COLUMNS)


def run_dnn(setting: dict, data: dict, method: str, settings: DNNSettings, sizes: list[int], seed: int,
            device: torch.device, progress=None) -> pd.DataFrame:
    """Train the fixed-size ReLU DNNs of every (size, replicate) together as one batched model."""
    from dltheory.nonsmooth.dnn import predict_dnn_batch, train_dnn_batch

    replicates = data["train_x"].shape[0]
    jobs = [(n, r) for r in range(replicates) for n in sizes]
    datasets = [(data["train_x"][r, :n], data["train_y"][r, :n]) for n, r in jobs]
    architectures = [(settings.depth, settings.width)] * len(jobs)
    batch_seed = derive_seed(seed, FAMILY, setting["name"], method)
    model, outcome = train_dnn_batch(datasets, architectures, settings, batch_seed % 2**31, device, progress)
    test_predictions = predict_dnn_batch(model, data["test_x"])
    hyper = {"depth": settings.depth, "width": settings.width, "init": settings.init,
             "parameters": model.architecture.parameter_counts()[0]}
    rows = []
    for i, (n, replicate) in enumerate(jobs):
        lost = outcome.diverged[i] and outcome.best_step[i] == 0  # diverged before any good checkpoint
        mse = np.nan if lost else float(np.mean((test_predictions[i] - data["test_f"]) ** 2))
        metrics = {"mse": mse, "val_mse": float(outcome.best_val_mse[i]), "best_step": int(outcome.best_step[i])}
        rows += _rows(setting, method, n, replicate, batch_seed, metrics, hyper,
                      outcome.diverged[i], outcome.diverged_step[i])
    return pd.DataFrame(rows, columns=RUN_COLUMNS)
