"""The region map's runs (JMLR 23(111) 2022, Fig. 2 measured): every (alpha, beta) cell in a few jobs.

The map has many small cells, so a job covers all of them: one simulates every cell's data and records the
did-it-learn references (the constant predictor, whose error is Var f, and ridge; ``dltheory.references``), one
per linear estimator fits it to every cell, and one trains the DNNs of every (cell, n, replicate), one batched
model per n. Data and linear fits come from the non-smooth family's per-target functions
(``dltheory.nonsmooth.experiment``) with their seeds, so they do not depend on which other cells share the job; a
DNN's initial weights do (they are drawn for the whole batch of its n).

Every fitted run (linear, ridge, DNN) carries a ``learned`` row: 1 when its error is below
``references.LEARNED_FRACTION`` x Var f, else 0. Torch is imported only where the DNNs train.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from dltheory.nonsmooth.experiment import RUN_COLUMNS, run_linear_estimator, simulate_target_data
from dltheory.nonsmooth.experiment import reference_runs as experiment_reference_runs
from dltheory.nonsmooth.targets import PiecewiseSmoothTarget, target_from_config
from dltheory.references import constant_mse, learned
from dltheory.seeds import derive_seed

if TYPE_CHECKING:
    import torch

    from dltheory.nonsmooth.settings import DNNSettings

FAMILY = "region"
REFERENCE_METHODS = ("constant", "ridge")


def simulate_cells(specs: Mapping[str, dict], sizes, replicates: int, noise_sd: float, n_test: int,
                   seed: int) -> dict[str, dict[str, np.ndarray]]:
    """Per cell: nested training samples (replicates, max n, D) and noise-free test values (J's model, p. 8)."""
    return {name: simulate_target_data(target_from_config(spec), max(sizes), replicates, noise_sd, n_test, seed,
                                       FAMILY)
            for name, spec in specs.items()}


def _rows(target: PiecewiseSmoothTarget, method: str, n: int, replicate: int, seed: int, metrics: dict,
          hyperparameters: dict, diverged: bool = False, diverged_step: int = -1) -> list[dict]:
    shared = {
        "family": FAMILY, "target": target.name, "dim": target.dim, "alpha": target.alpha, "beta": target.beta,
        "pieces": target.pieces, "method": method, "n": int(n), "replicate": int(replicate), "seed": int(seed),
        "hyperparameters": json.dumps(hyperparameters, sort_keys=True), "diverged": bool(diverged),
        "diverged_step": int(diverged_step),
    }
    return [{**shared, "metric": metric, "value": float(value)} for metric, value in metrics.items()]


def with_learned_flags(runs: pd.DataFrame, variance: float) -> pd.DataFrame:
    """``runs`` plus one ``learned`` row (1.0 or 0.0) per mse row: error below LEARNED_FRACTION x Var f."""
    errors = runs[runs.metric == "mse"]
    flags = errors.assign(metric="learned", value=learned(errors.value.to_numpy(), variance).astype(float))
    return pd.concat([runs, flags], ignore_index=True)


def reference_runs(spec: dict, data: dict, sizes, seed: int) -> pd.DataFrame:
    """The references of every (n, replicate) of one cell (``experiment.reference_runs``): "constant" (Var f of
    the noise-free test values) and "ridge" (standardised inputs, leave-one-out penalty), with ridge's learned flag."""
    runs = experiment_reference_runs(target_from_config(spec), data, list(sizes), seed, FAMILY)
    variance = constant_mse(data["test_f"])
    return pd.concat([runs[runs.method == "constant"], with_learned_flags(runs[runs.method == "ridge"], variance)],
                     ignore_index=True)


def linear_runs(specs: Mapping[str, dict], cells: Mapping[str, dict], method: str, params: dict, sizes,
                seed: int, device: str | None = None) -> pd.DataFrame:
    """One CV-tuned linear estimator on every (cell, n, replicate), with learned flags; ``device`` as in
    ``run_linear_estimator``."""
    tables = []
    for name, spec in specs.items():
        runs = run_linear_estimator(target_from_config(spec), cells[name], method, params, list(sizes), seed, FAMILY,
                                    device=device)
        tables.append(with_learned_flags(runs, constant_mse(cells[name]["test_f"])))
    return pd.concat(tables, ignore_index=True)


def _predict_per_model(model, inputs: list[np.ndarray], device, chunk: int = 4096) -> np.ndarray:
    """Model b's predictions on its own inputs[b] (all of one length): (models, points), float64."""
    import torch

    stacked = torch.as_tensor(np.stack(inputs).astype(np.float32), device=device)
    with torch.no_grad():
        parts = [model(stacked[:, start:start + chunk]) for start in range(0, stacked.shape[1], chunk)]
    return torch.cat(parts, dim=1).double().cpu().numpy()


def dnn_runs(specs: Mapping[str, dict], cells: Mapping[str, dict], settings: DNNSettings, sizes, seed: int,
             device: torch.device, progress=None) -> pd.DataFrame:
    """The DNNs of every (cell, n, replicate), sized by the JMLR Thm 7 guideline, trained as one batched model per
    sample size n (every cell and replicate of that n together).

    Within a batch every (depth, width) trains unpadded (``BucketedMLP``), and a bucket is cut down to its live
    models once most of them have stopped, so neither the cells' different widths nor their different stopping
    times cost computation. Records the
    test error, the best validation error, ``best_step`` (the step of the kept parameters) and ``stopped_early``
    (1 when the model's patience ran out before ``max_steps``: training ended by early stopping, not by the cap).
    """
    from dltheory.nonsmooth.dnn import train_dnn_batch

    targets = {name: target_from_config(spec) for name, spec in specs.items()}
    rows = []
    for n in sizes:
        jobs = [(name, r) for name in specs for r in range(cells[name]["train_x"].shape[0])]
        datasets = [(cells[name]["train_x"][r, :n], cells[name]["train_y"][r, :n]) for name, r in jobs]
        architectures = [settings.architecture_for(n, targets[name].dim, targets[name].alpha, targets[name].beta,
                                                   targets[name].pieces) for name, _ in jobs]
        batch_seed = derive_seed(seed, FAMILY, "dnn", n)
        model, outcome = train_dnn_batch(datasets, architectures, settings, batch_seed % 2**31, device,
                                         progress and (lambda step, val, active, n=n: progress(n, step, val, active)))
        predictions = _predict_per_model(model, [cells[name]["test_x"] for name, _ in jobs], device)
        parameters = model.architecture.parameter_counts()
        # A model stops once ``patience`` evaluations after its best one brought no improvement.
        stop_step = outcome.best_step + (settings.patience + 1) * settings.eval_every
        for i, (name, replicate) in enumerate(jobs):
            lost = outcome.diverged[i] and outcome.best_step[i] == 0  # diverged before any good checkpoint
            mse = np.nan if lost else float(np.mean((predictions[i] - cells[name]["test_f"]) ** 2))
            depth, width = architectures[i]
            metrics = {"mse": mse, "val_mse": float(outcome.best_val_mse[i]), "best_step": int(outcome.best_step[i]),
                       "stopped_early": float(stop_step[i] <= settings.max_steps and not outcome.diverged[i])}
            rows += _rows(targets[name], "dnn", n, replicate, batch_seed, metrics,
                          {"depth": depth, "width": width, "parameters": parameters[i]},
                          outcome.diverged[i], outcome.diverged_step[i])
    runs = pd.DataFrame(rows, columns=RUN_COLUMNS)
    return pd.concat([with_learned_flags(runs[runs.target == name], constant_mse(cells[name]["test_f"]))
                      for name in specs], ignore_index=True)
