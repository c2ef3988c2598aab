"""The non-smooth regression experiment: simulate data, fit every estimator, tidy the errors.

Tables hold numbers that the config and seed determine, bit for bit on CPU; run times live in the
Snakemake benchmark files beside them (results/benchmarks/), not in the tables.

Data design: for each replicate one sample of the largest size is drawn, and the sample of size n is its
first n points (nested samples). Every estimator sees exactly the same data, so slope differences
between methods are paired comparisons, and the error-vs-n curves of one replicate are not jagged by
independent redraws at each n.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from dltheory.nonsmooth.targets import CriticalScaleTarget, PiecewiseSmoothTarget
from dltheory.references import constant_mse, ridge_mse
from dltheory.seeds import derive_seed, rng_for

# torch (1-1.5 s to import) only where the DNNs train: the simulate and linear-fit jobs (of this family and the
# region map) start without it.
if TYPE_CHECKING:
    import torch

    from dltheory.nonsmooth.dnn import DNNSettings

FAMILY = "nonsmooth"
RUN_COLUMNS = [
    "family", "target", "dim", "alpha", "beta", "pieces", "method", "n", "replicate", "seed",
    "metric", "value", "hyperparameters", "diverged", "diverged_step",
]


def simulate_target_data(
    target: PiecewiseSmoothTarget | CriticalScaleTarget, max_n: int, replicates: int, noise_sd: float, n_test: int,
    seed: int, family: str = FAMILY, sizes: list[int] | None = None,
) -> dict[str, np.ndarray]:
    """Training samples (replicates, max_n, D) with noisy responses, and noise-free test points.

    X is uniform on [0,1]^D and Y = f(X) + N(0, noise_sd^2), as in J's model (J p. 8). A critical-scale target
    is a different function at every (n, replicate): its responses have shape (replicates, sizes, max_n) and its
    test values (replicates, sizes, n_test), on the same nested X and noise draws; pass ``sizes`` for it.
    """
    train_x = np.empty((replicates, max_n, target.dim))
    noise = np.empty((replicates, max_n))
    for replicate in range(replicates):
        rng = rng_for(seed, family, target.name, "data", replicate)
        train_x[replicate] = rng.uniform(size=(max_n, target.dim))
        noise[replicate] = noise_sd * rng.standard_normal(max_n)
    rng = rng_for(seed, family, target.name, "test")
    test_x = rng.uniform(size=(n_test, target.dim))
    if not isinstance(target, CriticalScaleTarget):
        train_y = np.stack([target(x) for x in train_x]) + noise
        return {"train_x": train_x, "train_y": train_y, "test_x": test_x, "test_f": target(test_x)}
    if sizes is None:
        raise ValueError(f"{target.name}: a critical-scale target needs the sample sizes")
    sizes = np.asarray(sorted(sizes))
    train_y = np.zeros((replicates, len(sizes), max_n))
    test_f = np.empty((replicates, len(sizes), n_test))
    for replicate in range(replicates):
        for j, n in enumerate(sizes):
            instance = target.at(int(n), replicate)
            train_y[replicate, j, :n] = instance(train_x[replicate, :n]) + noise[replicate, :n]
            test_f[replicate, j] = instance(test_x)
    return {"train_x": train_x, "train_y": train_y, "test_x": test_x, "test_f": test_f, "sizes": sizes}


def training_sample(data: dict, replicate: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(X, Y) of size n of one replicate: the first n points (a critical-scale target: its size-n function)."""
    if data["train_y"].ndim == 3:
        return data["train_x"][replicate, :n], data["train_y"][replicate, _size_index(data, n), :n]
    return data["train_x"][replicate, :n], data["train_y"][replicate, :n]


def test_values(data: dict, replicate: int, n: int) -> np.ndarray:
    """Noise-free f at the test points, for the function that the (replicate, n) sample was drawn from."""
    if data["test_f"].ndim == 3:
        return data["test_f"][replicate, _size_index(data, n)]
    return data["test_f"]


def _size_index(data: dict, n: int) -> int:
    index = np.flatnonzero(np.asarray(data["sizes"]) == n)
    if len(index) != 1:
        raise ValueError(f"n = {n} is not one of the simulated sizes {list(data['sizes'])}")
    return int(index[0])


def reference_runs(target, data: dict, sizes: list[int], seed: int, family: str = FAMILY) -> pd.DataFrame:
    """The did-it-learn references of every (size, replicate): the constant predictor (its error is Var f) and
    ridge regression on the standardised raw inputs (``dltheory.references``), as methods "constant" and "ridge"."""
    rows = []
    for replicate in range(data["train_x"].shape[0]):
        for n in sizes:
            x, y = training_sample(data, replicate, n)
            test_f = test_values(data, replicate, n)
            ridge, penalty = ridge_mse(x, y, data["test_x"], test_f)
            job_seed = derive_seed(seed, family, target.name, "reference", n, replicate)
            rows += _rows(target, "constant", n, replicate, job_seed, {"mse": constant_mse(test_f)}, {},
                          family=family)
            rows += _rows(target, "ridge", n, replicate, job_seed, {"mse": ridge}, {"penalty": penalty},
                          family=family)
    return pd.DataFrame(rows, columns=RUN_COLUMNS)


def _rows(target: PiecewiseSmoothTarget, method: str, n: int, replicate: int, seed: int,
          metrics: dict[str, float], hyperparameters: dict, diverged=False, diverged_step=-1,
          family: str = FAMILY) -> list[dict]:
    shared = {
        "family": family, "target": target.name, "dim": target.dim, "alpha": target.alpha,
        "beta": target.beta, "pieces": target.pieces, "method": method, "n": n, "replicate": replicate,
        "seed": seed, "hyperparameters": json.dumps(hyperparameters, sort_keys=True, default=_plain),
        "diverged": bool(diverged), "diverged_step": int(diverged_step),
    }
    return [{**shared, "metric": metric, "value": float(value)} for metric, value in metrics.items()]


def _plain(value):
    return value.item() if isinstance(value, np.generic) else str(value)


def selected_hyperparameters(estimator) -> dict:
    """The tuning parameters an estimator chose by CV: its public attributes ending in ``_``."""
    chosen = {}
    for name, value in vars(estimator).items():
        if name.endswith("_") and not name.startswith("_") and np.isscalar(value):
            chosen[name.rstrip("_")] = value
    return chosen


def run_linear_estimator(
    target: PiecewiseSmoothTarget, data: dict, method: str, params: dict, sizes: list[int], seed: int,
    family: str = FAMILY, device: str | None = None,
) -> pd.DataFrame:
    """Fit ``method`` on every (size, replicate) and record the squared L2 error against the true f. ``device``: None
    for numpy/scipy, or the torch device of the estimators that have a torch path (``runtime.linear_solver_device``)."""
    # Here, not at the top: the estimators import scikit-learn (~1 s), which the simulating and DNN jobs never use.
    from dltheory.nonsmooth.estimators import make_estimator

    rows = []
    for replicate in range(data["train_x"].shape[0]):
        for n in sizes:
            job_seed = derive_seed(seed, family, target.name, method, n, replicate)
            estimator = make_estimator(method, params, seed=job_seed % 2**31, device=device)
            estimator.fit(*training_sample(data, replicate, n))
            prediction = estimator.predict(data["test_x"])
            mse = float(np.mean((prediction - test_values(data, replicate, n)) ** 2))
            rows += _rows(target, method, n, replicate, job_seed, {"mse": mse},
                          selected_hyperparameters(estimator), family=family)
    return pd.DataFrame(rows, columns=RUN_COLUMNS)


def run_dnn(
    target: PiecewiseSmoothTarget, data: dict, settings: DNNSettings, sizes: list[int], seed: int,
    device: torch.device, progress=None, family: str = FAMILY,
) -> pd.DataFrame:
    """Train the DNNs of every (size, replicate) together as one batched model; record their errors."""
    from dltheory.nonsmooth.dnn import predict_dnn_batch, train_dnn_batch

    replicates = data["train_x"].shape[0]
    jobs = [(n, r) for r in range(replicates) for n in sizes]
    datasets = [training_sample(data, r, n) for n, r in jobs]
    architectures = [settings.architecture_for(n, target.dim, target.alpha, target.beta, target.pieces)
                     for n, _ in jobs]
    batch_seed = derive_seed(seed, family, target.name, "dnn")
    model, outcome = train_dnn_batch(datasets, architectures, settings, batch_seed % 2**31, device, progress)
    test_predictions = predict_dnn_batch(model, data["test_x"])
    rows = []
    parameters = model.architecture.parameter_counts()
    for i, (n, replicate) in enumerate(jobs):
        lost = outcome.diverged[i] and outcome.best_step[i] == 0  # diverged before any good checkpoint
        mse = np.nan if lost else float(np.mean((test_predictions[i] - test_values(data, replicate, n)) ** 2))
        depth, width = architectures[i]
        metrics = {
            "mse": mse,
            "val_mse": float(outcome.best_val_mse[i]),
            "best_step": int(outcome.best_step[i]),
        }
        hyper = {"depth": depth, "width": width, "parameters": parameters[i]}
        rows += _rows(target, "dnn", n, replicate, batch_seed, metrics, hyper,
                      outcome.diverged[i], outcome.diverged_step[i], family=family)
    return pd.DataFrame(rows, columns=RUN_COLUMNS)
