"""The torch part of ``dltheory.geometry.isometry``: the networks, their measurement and training, run by the
measuring jobs. ``dltheory.geometry.isometry`` keeps the theory, tables and claims, which its notebook imports
without torch (~1.3 s per notebook job)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import torch

from dltheory.geometry.isometry import (
    FAMILY,
    MAIN,
    _keys,
    condition_teachers,
    fim_mean_theory,
    fim_spread_theory,
    first_layer_variance,
    isometry_conditions,
    layer_spread,
    learning_rate_grid,
)
from dltheory.geometry.jacobian import fisher_eigenvalues, layer_grams, ntk
from dltheory.geometry.mlp import MlpSpec, activate, init_params
from dltheory.geometry.settings import ISOMETRY_ACTIVATIONS, SGD_DTYPE_NAMES, IsometrySettings
from dltheory.seeds import derive_seed
from dltheory.settings import from_config

SGD_DTYPES = {name: getattr(torch, name) for name in SGD_DTYPE_NAMES}


def sphere_inputs(count: int, width: int, input_scale: float, generator: torch.Generator,
                  dtype=torch.float64) -> torch.Tensor:
    """``count`` inputs uniform on the sphere |x|^2 = input_scale * width (q = |x|^2 / M exactly)."""
    x = torch.randn(count, width, generator=generator, dtype=torch.float64)
    x = x / x.norm(dim=1, keepdim=True) * np.sqrt(input_scale * width)
    return x.to(dtype)


def haar_orthogonal(width: int, generator: torch.Generator, dtype=torch.float64) -> torch.Tensor:
    """A Haar-random orthogonal width x width matrix (QR of a Gaussian matrix, signs fixed)."""
    q, r = torch.linalg.qr(torch.randn(width, width, generator=generator, dtype=torch.float64))
    return (q * torch.sign(torch.diagonal(r))).to(dtype)


def conditional_fim_eigenvalues(spec: MlpSpec, params: dict, x: torch.Tensor) -> torch.Tensor:
    """The C non-zero eigenvalues of the conditional FIM F(x) = J_x^T J_x of one input x, largest first: those of
    J_x J_x^T, the sum of the layers' Gram matrices on the single sample x (float64)."""
    return fisher_eigenvalues(ntk(layer_grams(spec, params, x.reshape(1, -1))))


def isometry_network(depth: int, section: IsometrySettings | Mapping, initialization: str,
                     generator: torch.Generator) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """Weights (the core's init_params: orthogonal W W^T = sigma_w^2 I or Gaussian with variance sigma_w^2 / M) and
    biases N(0, sigma_b^2) (zeros when sigma_b^2 = 0) of the square network with L = ``depth`` layers, float64."""
    settings = from_config(IsometrySettings, section, FAMILY)
    spec = MlpSpec(input_dim=settings.width, width=settings.width, hidden_layers=depth - 1,
                   output_dim=settings.width, activation=settings.activation, sigma_w2=settings.sigma_w2,
                   initialization=initialization, parametrization="standard")
    params = init_params(spec, generator)
    weights = [params[name] for name in spec.names]
    biases = [torch.randn(settings.width, generator=generator, dtype=torch.float64) * np.sqrt(settings.sigma_b2)
              for _ in weights]
    return weights, biases


def network_forward(weights, biases, activation: str, x: torch.Tensor) -> torch.Tensor:
    """f(x) of the network (rows of x are inputs); the last layer is linear."""
    h = x
    for layer, (weight, bias) in enumerate(zip(weights, biases, strict=True)):
        h = h @ weight.T + bias
        if layer < len(weights) - 1:
            h = _activation_with_slope(h, activation)[0]
    return h


def conditional_fim_eigenvalues_with_biases(weights, biases, activation: str, x: torch.Tensor,
                                            with_biases: bool) -> torch.Tensor:
    """The C eigenvalues of J_x J_x^T, largest first, where J_x is the Jacobian of the outputs in every weight (and
    every bias, if ``with_biases``): sum over layers of (|h_{l-1}|^2 + [bias]) B_l B_l^T, B_l = df/dz_l."""
    h, layer_inputs, slopes = x, [], []
    for layer, (weight, bias) in enumerate(zip(weights, biases, strict=True)):
        layer_inputs.append(h)
        z = weight @ h + bias
        if layer < len(weights) - 1:
            h, slope = _activation_with_slope(z, activation)
            slopes.append(slope)
    backward = torch.eye(weights[-1].shape[0], dtype=x.dtype)
    gram = torch.zeros_like(backward)
    for layer in range(len(weights) - 1, -1, -1):
        gram += (layer_inputs[layer] @ layer_inputs[layer] + float(with_biases)) * (backward @ backward.T)
        if layer > 0:
            backward = (backward @ weights[layer]) * slopes[layer - 1]
    return torch.linalg.eigvalsh(gram).flip(0)


def _generator(seed: int, *keys) -> torch.Generator:
    return torch.Generator().manual_seed(derive_seed(seed, FAMILY, *keys) % 2**63)


def run_isometry_spectra(section: IsometrySettings | Mapping, seed: int) -> pd.DataFrame:
    """The conditional-FIM spectrum at every condition, depth and initialization, one row per eigenvalue.

    Columns: condition, initialization, depth, width, replicate, rank (0 = largest), value, activation, sigma_w2,
    sigma_b2, input_norm2 (|x|^2), mean_theory (:func:`fim_mean_theory`) and cv_theory (:func:`fim_spread_theory`
    at q_1, this initialization). Replicate r uses the same input direction at every condition, depth and
    initialization (paired; its norm is the condition's), and a fresh network per (condition, initialization,
    depth, replicate). Biases are parameters of the FIM when sigma_b^2 > 0.
    """
    rows = []
    for label, settings in isometry_conditions(section).items():
        width = settings.width
        q_first = first_layer_variance(settings)
        theory = {(init, depth): (fim_mean_theory(depth, settings),
                                  fim_spread_theory(depth, layer_spread(q_first, settings.activation, init)))
                  for init in settings.initializations for depth in settings.depths}
        for replicate in range(settings.replicates):
            x = sphere_inputs(1, width, settings.input_scale, _generator(seed, "spectra", "input", replicate))[0]
            norm2 = float(x @ x)
            for initialization in settings.initializations:
                for depth in settings.depths:
                    weights, biases = isometry_network(
                        depth, settings, initialization,
                        _generator(seed, *_keys(label, "spectra", initialization, depth, replicate)))
                    values = conditional_fim_eigenvalues_with_biases(weights, biases, settings.activation, x,
                                                                     settings.sigma_b2 > 0).numpy()
                    mean_theory, cv_theory = theory[(initialization, depth)]
                    rows += [{"condition": label, "initialization": initialization, "depth": depth, "width": width,
                              "replicate": replicate, "rank": rank, "value": float(value),
                              "activation": settings.activation, "sigma_w2": settings.sigma_w2,
                              "sigma_b2": settings.sigma_b2, "input_norm2": norm2, "mean_theory": mean_theory,
                              "cv_theory": cv_theory} for rank, value in enumerate(values)]
    return pd.DataFrame(rows)


def _activation_with_slope(z: torch.Tensor, name: str) -> tuple[torch.Tensor, torch.Tensor]:
    if name == "tanh":
        h = torch.tanh(z)
        return h, 1 - h * h
    if name == "hard_tanh":
        return activate(z, name), (z.abs() <= 1).to(z.dtype)  # as torch.clamp's gradient, boundaries included
    if name == "linear":
        return z, torch.ones_like(z)
    raise ValueError(f"activation {name!r}; allowed: {list(ISOMETRY_ACTIVATIONS)}")


def _batched_loss(weights: torch.Tensor, activation: str, x: torch.Tensor, y: torch.Tensor,
                  biases: torch.Tensor | None = None) -> torch.Tensor:
    """1/2 |f(x) - y|^2 averaged over points, per model: weights (L, B, M, M), biases (L, B, M) or None, x and y
    (B, points, M)."""
    h = x
    last = weights.shape[0] - 1
    for layer in range(last + 1):
        z = torch.bmm(h, weights[layer].transpose(1, 2))
        if biases is not None:
            z = z + biases[layer].unsqueeze(1)
        h = z if layer == last else _activation_with_slope(z, activation)[0]
    return 0.5 * ((h - y) ** 2).sum(-1).mean(-1)


def batched_online_sgd(weights: torch.Tensor, learning_rates: torch.Tensor, activation: str, inputs: torch.Tensor,
                       targets: torch.Tensor, eval_inputs: torch.Tensor, eval_targets: torch.Tensor,
                       record_every: int, divergence_threshold: float, biases: torch.Tensor | None = None) -> dict:
    """Online SGD (batch size 1, loss 1/2 |f(x) - y|^2, plain W <- W - eta grad) of B networks at once.

    weights (L, B, M, M), layer-major, copied; learning_rates (B,); inputs and targets (B, steps, M), model b's
    sample stream; eval_inputs and eval_targets (B, E, M); biases (L, B, M), copied and trained (b_l -= eta delta_l),
    or None (no biases). Backpropagation is written out with batched matmuls: at
    step t, delta_L = f - y, delta_{l-1} = phi'(z_{l-1}) * W_l^T delta_l and W_l -= eta delta_l h_{l-1}^T.

    A model has diverged once its online loss is non-finite or above ``divergence_threshold`` times its step-0 test
    loss; it is then frozen (its updates masked, so inf or NaN never spreads) and flagged, never raised. Frozen
    models leave the batch once they are a tenth of it (their test loss, constant from then on, is kept): SGD is
    memory-bound, so its time follows the models still training.

    Returns numpy arrays: steps (R,), loss (R, B) on the test batch, online_loss (R, B) the mean online loss since
    the previous record (NaN at step 0 and once diverged), diverged (R, B), diverged_step (B,) (-1 if never),
    initial_gradient_norm (B,) (|grad| of the first online sample's loss at the initialization, weights and
    biases) and peak_online_loss (B,) (the largest online loss before divergence).
    """
    depth, models = weights.shape[:2]
    steps = inputs.shape[1]
    dtype = weights.dtype
    learning_rates = learning_rates.to(dtype)
    with torch.no_grad():
        initial = _batched_loss(weights, activation, eval_inputs, eval_targets, biases)
        # The rows still in the batch (``live``, indices into the B models) and their slices of every input.
        live = torch.arange(models)
        w = weights.clone()
        b = None if biases is None else biases.clone()
        x_stream, y_stream, rates, threshold = inputs, targets, learning_rates, divergence_threshold * initial
        active = torch.ones(models, dtype=torch.bool)  # over the live rows
        diverged = torch.zeros(models, dtype=torch.bool)  # over all B models
        diverged_step = torch.full((models,), -1, dtype=torch.long)
        frozen_loss = torch.full((models,), float("nan"), dtype=dtype)
        gradient_norm = torch.zeros(models, dtype=dtype)
        peak = torch.zeros(models, dtype=dtype)
        record_steps = sorted(set(range(0, steps + 1, record_every)) | {steps})
        recorded = set(record_steps)
        records = {"loss": [initial.clone()], "online_loss": [torch.full((models,), float("nan"), dtype=dtype)],
                   "diverged": [diverged.clone()]}
        running = torch.zeros(models, dtype=dtype)
        since = 0
        zero = torch.zeros((), dtype=dtype)
        bias_count = 0.0 if b is None else 1.0
        for step in range(steps):
            h = x_stream[:, step]
            layer_inputs, slopes = [], []
            for layer in range(depth):
                layer_inputs.append(h)
                # Row vector times W^T: batched matrix-vector products as (B, 1, M) @ (B, M, M), which torch
                # runs several times faster than (B, M, M) @ (B, M, 1).
                z = torch.bmm(h.unsqueeze(1), w[layer].transpose(1, 2)).squeeze(1)
                if b is not None:
                    z = z + b[layer]
                if layer < depth - 1:
                    h, slope = _activation_with_slope(z, activation)
                    slopes.append(slope)
            error = z - y_stream[:, step]
            loss = 0.5 * (error * error).sum(1)
            blown = active & (~torch.isfinite(loss) | (loss > threshold))
            diverged_step[live[blown]] = step
            active &= ~blown
            diverged[live[blown]] = True
            running[live] += torch.where(active, loss, zero)
            peak[live] = torch.where(active, torch.maximum(peak[live], loss), peak[live])
            since += 1
            gate = active.unsqueeze(1)
            delta = torch.where(gate, error, zero)
            for layer in range(depth - 1, -1, -1):
                step_vector = torch.where(gate, delta * rates.unsqueeze(1), zero)
                layer_input = torch.where(gate, layer_inputs[layer], zero)
                if step == 0:
                    gradient_norm[live] += (delta * delta).sum(1) * ((layer_input * layer_input).sum(1) + bias_count)
                if layer > 0:  # backpropagate through the weights before they move
                    delta = torch.bmm(delta.unsqueeze(1), w[layer]).squeeze(1)
                    delta = delta * slopes[layer - 1]
                w[layer].addcmul_(step_vector.unsqueeze(2), layer_input.unsqueeze(1), value=-1.0)
                if b is not None:
                    b[layer].sub_(step_vector)
            if step + 1 in recorded:
                loss_now = torch.where(diverged, frozen_loss, zero)
                loss_now[live] = _batched_loss(w, activation, eval_inputs[live], eval_targets[live], b)
                records["loss"].append(loss_now)
                mean_online = running / since
                records["online_loss"].append(torch.where(diverged, torch.full_like(mean_online, np.nan),
                                                          mean_online))
                records["diverged"].append(diverged.clone())
                running = torch.zeros(models, dtype=dtype)
                since = 0
            dead = ~active
            if int(dead.sum()) >= max(1, len(live) // 10):
                gone = live[dead]
                frozen_loss[gone] = _batched_loss(w[:, dead], activation, eval_inputs[gone], eval_targets[gone],
                                                  None if b is None else b[:, dead])
                keep = active
                live, w = live[keep], w[:, keep]
                b = None if b is None else b[:, keep]
                x_stream, y_stream = x_stream[keep], y_stream[keep]
                rates, threshold = rates[keep], threshold[keep]
                active = torch.ones(len(live), dtype=torch.bool)
    return {"steps": np.array(record_steps), "loss": torch.stack(records["loss"]).numpy(),
            "online_loss": torch.stack(records["online_loss"]).numpy(),
            "diverged": torch.stack(records["diverged"]).numpy(), "diverged_step": diverged_step.numpy(),
            "initial_gradient_norm": gradient_norm.sqrt().numpy(), "peak_online_loss": peak.numpy()}


def sgd_task(section: IsometrySettings | Mapping, seed: int, sgd_seed: int, dtype=torch.float64) -> dict:
    """One seed's regression task (ours): the orthogonal map Q (Haar), an online stream of ``steps`` inputs and a
    test batch of ``eval_samples`` inputs, all on the sphere |x|^2 = q M; the same at every depth and learning rate.
    targets / eval_targets are the far teacher's Q x; the near teacher adds the student's f0(x) per depth
    (:func:`teacher_targets`)."""
    settings = from_config(IsometrySettings, section, FAMILY)
    width, scale, sgd = settings.width, settings.input_scale, settings.sgd
    teacher = haar_orthogonal(width, _generator(seed, "sgd", "teacher", sgd_seed))
    stream = sphere_inputs(sgd.steps, width, scale, _generator(seed, "sgd", "stream", sgd_seed))
    test = sphere_inputs(sgd.eval_samples, width, scale, _generator(seed, "sgd", "test", sgd_seed))
    return {"teacher": teacher.to(dtype), "inputs": stream.to(dtype), "targets": (stream @ teacher.T).to(dtype),
            "eval_inputs": test.to(dtype), "eval_targets": (test @ teacher.T).to(dtype)}


def sgd_initial_network(section: IsometrySettings | Mapping, depth: int, seed: int, sgd_seed: int,
                        label: str = MAIN) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """The student's initial weights and biases for (depth, seed) of condition ``label`` (``section`` holds that
    condition's settings), float64, orthogonal (the first initialization), shared by every learning rate and
    teacher."""
    settings = from_config(IsometrySettings, section, FAMILY)
    return isometry_network(depth, settings, settings.initializations[0],
                            _generator(seed, *_keys(label, "sgd", "init", depth, sgd_seed)))


def teacher_targets(task: dict, teacher: str, network, activation: str, eps: float) -> tuple:
    """(targets, eval_targets) of a teacher: far, y = Q x; near, y = f0(x) + eps Q x, f0 the student's initial
    function (``network`` = (weights, biases)), so the initial loss is eps^2 |x|^2 / 2 and the task is a small step
    from the initialization (the NTK picture, where the edge is 2 / lambda_max)."""
    if teacher == "far":
        return task["targets"], task["eval_targets"]
    weights, biases = network

    def near(x, far_targets):
        f0 = network_forward(weights, biases, activation, x.to(torch.float64)).to(x.dtype)
        return f0 + eps * far_targets

    return near(task["inputs"], task["targets"]), near(task["eval_inputs"], task["eval_targets"])


def run_isometry_sgd(section: IsometrySettings | Mapping, seed: int) -> pd.DataFrame:
    """Online SGD over the (teacher, learning rate, depth) grid of every condition with teachers
    (:func:`condition_teachers`), every teacher, learning rate and seed of a (condition, depth) in one batched run;
    orthogonal students with biases (when sigma_b^2 > 0).

    Rows per (condition, teacher, depth, learning_rate, seed, step): loss (1/2 |f(x) - y|^2 on the seed's fixed
    test batch: the expected online training loss), online_loss (mean of the online losses since the previous
    record; NaN at step 0 and after divergence), diverged (bool, sticky from the step it happened), and per run
    initial_loss (the test loss at step 0), initial_gradient_norm and peak_online_loss
    (:func:`batched_online_sgd`). ``seed`` is the SGD seed's index. A seed's task (teacher Q, input directions) is
    shared by the conditions; the students are drawn per condition.
    """
    teachers_of = condition_teachers(section)
    frames = []
    for label, settings in isometry_conditions(section).items():
        if teachers_of[label]:
            frames.append(_condition_sgd(settings, label, seed, list(teachers_of[label])))
    return pd.concat(frames, ignore_index=True)


def _condition_sgd(settings: IsometrySettings, label: str, seed: int, teachers: list[str]) -> pd.DataFrame:
    sgd = settings.sgd
    dtype = SGD_DTYPES[sgd.dtype]
    rates = learning_rate_grid(settings)
    seeds = sgd.seeds
    tasks = [sgd_task(settings, seed, s, dtype) for s in range(seeds)]
    # Model b is (teacher, learning rate, seed), seed fastest.
    combos = [(t, r, s) for t in teachers for r in rates for s in range(seeds)]
    model_teacher = np.array([c[0] for c in combos])
    model_rate = np.array([c[1] for c in combos])
    model_seed = np.array([c[2] for c in combos])
    frames = []
    for depth in settings.depths:
        networks = [sgd_initial_network(settings, depth, seed, s, label) for s in range(seeds)]
        targets = {(t, s): teacher_targets(tasks[s], t, networks[s], settings.activation, sgd.teacher_eps)
                   for t in teachers for s in range(seeds)}

        def per_model(key, networks=networks, targets=targets):
            if key in ("targets", "eval_targets"):
                index = 0 if key == "targets" else 1
                return torch.stack([targets[(t, s)][index] for t, s in zip(model_teacher, model_seed,
                                                                           strict=True)])
            return torch.stack([tasks[s][key] for s in model_seed])

        weights = torch.stack([torch.stack([networks[s][0][layer] for s in model_seed])
                               for layer in range(depth)]).to(dtype)
        biases = None
        if settings.sigma_b2 > 0:
            biases = torch.stack([torch.stack([networks[s][1][layer] for s in model_seed])
                                  for layer in range(depth)]).to(dtype)
        result = batched_online_sgd(weights, torch.as_tensor(model_rate), settings.activation, per_model("inputs"),
                                    per_model("targets"), per_model("eval_inputs"), per_model("eval_targets"),
                                    sgd.record_every, sgd.divergence_threshold, biases)
        records = len(result["steps"])
        frames.append(pd.DataFrame({
            "condition": label,
            "teacher": np.tile(model_teacher, records),
            "depth": depth,
            "learning_rate": np.tile(model_rate, records),
            "seed": np.tile(model_seed, records),
            "step": np.repeat(result["steps"], len(model_rate)),
            "loss": result["loss"].ravel().astype(float),
            "online_loss": result["online_loss"].ravel().astype(float),
            "diverged": result["diverged"].ravel().astype(bool),
            "initial_loss": np.tile(result["loss"][0], records).astype(float),
            "initial_gradient_norm": np.tile(result["initial_gradient_norm"], records).astype(float),
            "peak_online_loss": np.tile(result["peak_online_loss"], records).astype(float),
        }))
    return pd.concat(frames, ignore_index=True)
