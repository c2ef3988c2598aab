"""Dynamical isometry: the conditional Fisher spectrum and the online learning rate against depth.

Hayase & Karakida, "The Spectrum of Fisher Information of Deep Networks Achieving Dynamical Isometry", AISTATS 2021,
arXiv 2006.07814 (HK21). Abstract: the conditional FIM (one input) of a network with dynamical isometry concentrates
around its maximum, which grows linearly in the depth L; experiments: the online-training learning rate is inversely
proportional to L.

The conditional FIM of one input x is F(x) = J_x^T J_x, J_x the Jacobian of the C outputs in the weights (unit noise
variance, one sample, so no 1/T). Its non-zero eigenvalues are those of the C x C matrix J_x J_x^T, the NTK of x with
itself, which the core computes in factorised form (:func:`dltheory.geometry.jacobian.layer_grams`).

Every setting is ours (HK21's width, activation, biases, inputs and optimizer are unknown):

- Square networks, as in HK21: input, every hidden layer and output have width M, so C = M eigenvalues; L weight
  layers (``hidden_layers = L - 1``), no biases, orthogonal weights with W W^T = sigma_w^2 I.
- Activation tanh. HK21's theory is closer to hard-tanh, but hard-tanh with small inputs is exactly linear (every
  eigenvalue is then L |x|^2), so tanh is the default that can show something; ``hard_tanh`` and ``linear`` run too.
- sigma_w^2 = 1, the critical point of tanh without biases. Its only fixed point of the pre-activation variance is
  q* = 0, which is approached slowly: mean field gives q_{l+1} = q_l - 2 q_l^2 + O(q^3), so q_l = q / (1 + 2 q l).
  The network is close to isometric only while 2 q L << 1; beyond that lambda_max grows like log L, not L.
- Inputs uniform on the sphere |x|^2 = q M, with q = ``input_scale`` = 1e-3: 2 q L = 0.128 at L = 64, so the signal
  loses at most about 6 % over the depth range and every depth sits in the isometric regime. (Exploration, not a
  result: q = 1e-2 gives a slope near 0.77 and q = 0.1 near 0.25 at M = 64; the claim is about the isometric regime.)
- Online SGD: batch size 1, loss 1/2 |f(x) - y|^2, a fresh input each step, teacher y = Q x with Q a Haar-random
  orthogonal M x M matrix per seed (a linear teacher is the same task at every depth). Linearised in the weights
  (the NTK picture), a linear student's error matrix evolves as E <- E (I - eta L x x^T), whose mean square
  contracts iff eta L |x|^2 < 2, i.e. eta < 2 / lambda_max: the edge HK21's 1/L rule comes from, drawn for
  comparison. The measured edge need not sit there: one step moves each layer by about eta lambda / L relative to
  its weights, and over L layers these compound (in a scalar chain, 1 - eta lambda becomes (1 - eta lambda / L)^L),
  so the linearisation is not exact at eta ~ 2 / lambda_max.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import torch

from dltheory.claims import Claim
from dltheory.geometry.jacobian import fisher_eigenvalues, layer_grams, ntk
from dltheory.geometry.mlp import MlpSpec, activate, init_params
from dltheory.geometry.settings import ISOMETRY_ACTIVATIONS, SGD_DTYPE_NAMES, IsometrySettings
from dltheory.seeds import derive_seed
from dltheory.settings import from_config
from dltheory.stats import loglog_slope

FAMILY = "isometry"
SOURCE_ABSTRACT = ("Hayase & Karakida, AISTATS 2021 (arXiv 2006.07814), abstract: the conditional FIM 'concentrates "
                   "around the maximum' and 'the value grows linearly as the depth increases'")
SOURCE_EXPERIMENTS = ("Hayase & Karakida, AISTATS 2021 (arXiv 2006.07814), abstract, experiments: 'the online-training "
                      "learning rate is inversely proportional to depth'")
SGD_DTYPES = {name: getattr(torch, name) for name in SGD_DTYPE_NAMES}


def learning_rate_grid(section: IsometrySettings | Mapping) -> np.ndarray:
    """The log-spaced learning rates of the SGD grid (sgd.learning_rates)."""
    return from_config(IsometrySettings, section, FAMILY).sgd.learning_rates.values()


# ---------------------------------------------------------------------------------------------- the networks


def isometry_spec(depth: int, section: IsometrySettings | Mapping) -> MlpSpec:
    """The square network of L = ``depth`` weight layers: M -> M x (L - 1) -> M, orthogonal, no biases."""
    settings = from_config(IsometrySettings, section, FAMILY)
    width = settings.width
    return MlpSpec(input_dim=width, width=width, hidden_layers=depth - 1, output_dim=width,
                   activation=settings.activation, sigma_w2=settings.sigma_w2, initialization="orthogonal",
                   parametrization="standard")


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


def _generator(seed: int, *keys) -> torch.Generator:
    return torch.Generator().manual_seed(derive_seed(seed, FAMILY, *keys) % 2**63)


# ------------------------------------------------------------------------------------------------- spectra


def run_isometry_spectra(section: IsometrySettings | Mapping, seed: int) -> pd.DataFrame:
    """The conditional-FIM spectrum at every depth, one row per eigenvalue.

    Columns: depth, width, replicate, rank (0 = largest), value, activation, input_norm2 (|x|^2, so that
    value / (depth * input_norm2) compares with the linear network's 1). Replicate r uses the same input x at every
    depth (so the depths are compared on the same inputs) and a fresh initialization per (depth, replicate).
    """
    settings = from_config(IsometrySettings, section, FAMILY)
    width = settings.width
    rows = []
    for replicate in range(settings.replicates):
        x = sphere_inputs(1, width, settings.input_scale, _generator(seed, "spectra", "input", replicate))[0]
        norm2 = float(x @ x)
        for depth in settings.depths:
            spec = isometry_spec(depth, settings)
            params = init_params(spec, _generator(seed, "spectra", "init", depth, replicate))
            values = conditional_fim_eigenvalues(spec, params, x).numpy()
            rows += [{"depth": depth, "width": width, "replicate": replicate, "rank": rank, "value": float(value),
                      "activation": settings.activation, "input_norm2": norm2}
                     for rank, value in enumerate(values)]
    return pd.DataFrame(rows)


def isometry_summary(spectra: pd.DataFrame) -> pd.DataFrame:
    """Per depth: the maximum of the conditional-FIM spectrum and how concentrated the spectrum is near it.

    - lambda_max: the largest eigenvalue, mean over replicates (lambda_max_low / _high: the smallest and largest
      replicate); linear_value: L |x|^2, every eigenvalue of the linear orthogonal network; lambda_max_over_linear.
    - fraction_above_half: the fraction of a replicate's eigenvalues >= its own lambda_max / 2, mean over replicates
      (the concentration measure of the claim); mean_to_max and min_to_max: the mean and smallest eigenvalue over
      lambda_max, per replicate, then averaged; 1 means every eigenvalue at the maximum.
    """
    rows = []
    for depth, group in spectra.groupby("depth"):
        per_replicate = []
        for _, replicate in group.groupby("replicate"):
            values = replicate["value"].to_numpy()
            top = values.max()
            per_replicate.append({"top": top, "above_half": np.mean(values >= top / 2),
                                  "mean_to_max": values.mean() / top, "min_to_max": values.min() / top,
                                  "linear": depth * replicate["input_norm2"].iloc[0]})
        table = pd.DataFrame(per_replicate)
        rows.append({"depth": int(depth), "width": int(group["width"].iloc[0]), "replicates": len(table),
                     "lambda_max": table["top"].mean(), "lambda_max_low": table["top"].min(),
                     "lambda_max_high": table["top"].max(), "linear_value": table["linear"].mean(),
                     "lambda_max_over_linear": (table["top"] / table["linear"]).mean(),
                     "fraction_above_half": table["above_half"].mean(), "mean_to_max": table["mean_to_max"].mean(),
                     "min_to_max": table["min_to_max"].mean()})
    return pd.DataFrame(rows)


# ------------------------------------------------------------------------------------------------ online SGD


def _activation_with_slope(z: torch.Tensor, name: str) -> tuple[torch.Tensor, torch.Tensor]:
    if name == "tanh":
        h = torch.tanh(z)
        return h, 1 - h * h
    if name == "hard_tanh":
        return activate(z, name), (z.abs() <= 1).to(z.dtype)  # as torch.clamp's gradient, boundaries included
    if name == "linear":
        return z, torch.ones_like(z)
    raise ValueError(f"activation {name!r}; allowed: {list(ISOMETRY_ACTIVATIONS)}")


def _batched_loss(weights: torch.Tensor, activation: str, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """1/2 |f(x) - y|^2 averaged over points, per model: weights (L, B, M, M), x and y (B, points, M)."""
    h = x
    last = weights.shape[0] - 1
    for layer in range(last + 1):
        z = torch.bmm(h, weights[layer].transpose(1, 2))
        h = z if layer == last else _activation_with_slope(z, activation)[0]
    return 0.5 * ((h - y) ** 2).sum(-1).mean(-1)


def batched_online_sgd(weights: torch.Tensor, learning_rates: torch.Tensor, activation: str, inputs: torch.Tensor,
                       targets: torch.Tensor, eval_inputs: torch.Tensor, eval_targets: torch.Tensor,
                       record_every: int, divergence_threshold: float) -> dict:
    """Online SGD (batch size 1, loss 1/2 |f(x) - y|^2, plain W <- W - eta grad) of B networks at once.

    weights (L, B, M, M), layer-major, copied; learning_rates (B,); inputs and targets (B, steps, M), model b's
    sample stream; eval_inputs and eval_targets (B, E, M). Backpropagation is written out with batched matmuls: at
    step t, delta_L = f - y, delta_{l-1} = phi'(z_{l-1}) * W_l^T delta_l and W_l -= eta delta_l h_{l-1}^T.

    A model has diverged once its online loss is non-finite or above ``divergence_threshold`` times its step-0 test
    loss; it is then frozen (its updates masked, so inf or NaN never spreads) and flagged, never raised.

    Returns numpy arrays: steps (R,), loss (R, B) on the test batch, online_loss (R, B) the mean online loss since
    the previous record (NaN at step 0), diverged (R, B), diverged_step (B,) (-1 if never).
    """
    weights = weights.clone()
    depth, models = weights.shape[:2]
    steps = inputs.shape[1]
    dtype = weights.dtype
    learning_rates = learning_rates.to(dtype)
    with torch.no_grad():
        initial = _batched_loss(weights, activation, eval_inputs, eval_targets)
        active = torch.ones(models, dtype=torch.bool)
        diverged_step = torch.full((models,), -1, dtype=torch.long)
        record_steps = sorted(set(range(0, steps + 1, record_every)) | {steps})
        recorded = set(record_steps)
        records = {"loss": [initial.clone()], "online_loss": [torch.full((models,), float("nan"), dtype=dtype)],
                   "diverged": [~active]}
        running = torch.zeros(models, dtype=dtype)
        since = 0
        zero = torch.zeros((), dtype=dtype)
        for step in range(steps):
            h = inputs[:, step]
            layer_inputs, slopes = [], []
            for layer in range(depth):
                layer_inputs.append(h)
                # Row vector times W^T: batched matrix-vector products as (B, 1, M) @ (B, M, M), which torch
                # runs several times faster than (B, M, M) @ (B, M, 1).
                z = torch.bmm(h.unsqueeze(1), weights[layer].transpose(1, 2)).squeeze(1)
                if layer < depth - 1:
                    h, slope = _activation_with_slope(z, activation)
                    slopes.append(slope)
            error = z - targets[:, step]
            loss = 0.5 * (error * error).sum(1)
            running += torch.where(active, loss, zero)
            since += 1
            blown = active & (~torch.isfinite(loss) | (loss > divergence_threshold * initial))
            diverged_step[blown] = step
            active &= ~blown
            gate = active.unsqueeze(1)
            delta = torch.where(gate, error, zero)
            for layer in range(depth - 1, -1, -1):
                step_vector = torch.where(gate, delta * learning_rates.unsqueeze(1), zero)
                layer_input = torch.where(gate, layer_inputs[layer], zero)
                if layer > 0:  # backpropagate through the weights before they move
                    delta = torch.bmm(delta.unsqueeze(1), weights[layer]).squeeze(1)
                    delta = delta * slopes[layer - 1]
                weights[layer].addcmul_(step_vector.unsqueeze(2), layer_input.unsqueeze(1), value=-1.0)
            if step + 1 in recorded:
                records["loss"].append(_batched_loss(weights, activation, eval_inputs, eval_targets))
                mean_online = running / since
                records["online_loss"].append(torch.where(active, mean_online, torch.full_like(mean_online, np.nan)))
                records["diverged"].append(~active.clone())
                running = torch.zeros(models, dtype=dtype)
                since = 0
    return {"steps": np.array(record_steps), "loss": torch.stack(records["loss"]).numpy(),
            "online_loss": torch.stack(records["online_loss"]).numpy(),
            "diverged": torch.stack(records["diverged"]).numpy(), "diverged_step": diverged_step.numpy()}


def sgd_task(section: IsometrySettings | Mapping, seed: int, sgd_seed: int, dtype=torch.float64) -> dict:
    """One seed's regression task (ours): the teacher y = Q x (Q Haar orthogonal), an online stream of ``steps``
    inputs and a test batch of ``eval_samples`` inputs, all on the sphere |x|^2 = q M; the same at every depth and
    learning rate."""
    settings = from_config(IsometrySettings, section, FAMILY)
    width, scale, sgd = settings.width, settings.input_scale, settings.sgd
    teacher = haar_orthogonal(width, _generator(seed, "sgd", "teacher", sgd_seed))
    stream = sphere_inputs(sgd.steps, width, scale, _generator(seed, "sgd", "stream", sgd_seed))
    test = sphere_inputs(sgd.eval_samples, width, scale, _generator(seed, "sgd", "test", sgd_seed))
    return {"teacher": teacher.to(dtype), "inputs": stream.to(dtype), "targets": (stream @ teacher.T).to(dtype),
            "eval_inputs": test.to(dtype), "eval_targets": (test @ teacher.T).to(dtype)}


def sgd_initial_params(section: IsometrySettings | Mapping, depth: int, seed: int, sgd_seed: int) -> dict:
    """The student's initialization for (depth, seed), float64, shared by every learning rate."""
    spec = isometry_spec(depth, section)
    return init_params(spec, _generator(seed, "sgd", "init", depth, sgd_seed))


def run_isometry_sgd(section: IsometrySettings | Mapping, seed: int) -> pd.DataFrame:
    """Online SGD over the (learning rate, depth) grid, every learning rate and seed of a depth in one batched run.

    Rows per (depth, learning_rate, seed, step): loss (1/2 |f(x) - y|^2 on the seed's fixed test batch: the
    expected online training loss), online_loss (mean of the online losses since the previous record; NaN at step 0
    and after divergence), diverged (bool, sticky from the step it happened). ``seed`` is the SGD seed's index.
    """
    settings = from_config(IsometrySettings, section, FAMILY)
    sgd = settings.sgd
    dtype = SGD_DTYPES[sgd.dtype]
    rates = learning_rate_grid(settings)
    seeds = sgd.seeds
    tasks = [sgd_task(settings, seed, s, dtype) for s in range(seeds)]
    # Model b is (learning rate b // seeds, seed b % seeds).
    model_rate = np.repeat(rates, seeds)
    model_seed = np.tile(np.arange(seeds), len(rates))

    def per_model(key):
        return torch.stack([tasks[s][key] for s in model_seed])

    inputs, targets = per_model("inputs"), per_model("targets")
    eval_inputs, eval_targets = per_model("eval_inputs"), per_model("eval_targets")
    frames = []
    for depth in settings.depths:
        initial = [sgd_initial_params(settings, depth, seed, s) for s in range(seeds)]
        names = isometry_spec(depth, settings).names
        weights = torch.stack([torch.stack([initial[s][name] for s in model_seed]) for name in names]).to(dtype)
        result = batched_online_sgd(weights, torch.as_tensor(model_rate), settings.activation, inputs, targets,
                                    eval_inputs, eval_targets, sgd.record_every, sgd.divergence_threshold)
        records = len(result["steps"])
        frames.append(pd.DataFrame({
            "depth": depth,
            "learning_rate": np.tile(model_rate, records),
            "seed": np.tile(model_seed, records),
            "step": np.repeat(result["steps"], len(model_rate)),
            "loss": result["loss"].ravel().astype(float),
            "online_loss": result["online_loss"].ravel().astype(float),
            "diverged": result["diverged"].ravel().astype(bool),
        }))
    return pd.concat(frames, ignore_index=True)


def stability_edge(sgd: pd.DataFrame) -> pd.DataFrame:
    """Per depth, eta*: the largest grid learning rate such that it and every smaller one is stable, where stable
    means that for every seed the run did not diverge and its final loss (last recorded step) is finite and below its
    step-0 loss. NaN when the smallest rate is already unstable.

    Also first_unstable (the next grid rate above eta*, NaN if none: the edge is then only a lower bound),
    stable_rates (how many grid rates are stable, contiguous or not), best_rate (the rate whose final loss, the
    geometric mean over seeds, is lowest among rates where no seed diverged; NaN if none) and seeds.
    """
    last = sgd.groupby(["depth", "learning_rate", "seed"])["step"].transform("max")
    final = sgd[sgd["step"] == last].set_index(["depth", "learning_rate", "seed"])
    initial = sgd[sgd["step"] == 0].set_index(["depth", "learning_rate", "seed"])["loss"]
    stable_run = (~final["diverged"]) & np.isfinite(final["loss"]) & (final["loss"] < initial.loc[final.index])
    stable = stable_run.groupby(["depth", "learning_rate"]).all()
    with np.errstate(divide="ignore", invalid="ignore"):
        log_final = np.log(final["loss"].where(~final["diverged"] & np.isfinite(final["loss"])))
    log_final = log_final.groupby(["depth", "learning_rate"]).agg(lambda v: v.mean(skipna=False))
    rows = []
    for depth, by_rate in stable.groupby(level="depth"):
        rates = by_rate.index.get_level_values("learning_rate").to_numpy()
        flags = by_rate.to_numpy()
        order = np.argsort(rates)
        rates, flags = rates[order], flags[order]
        unstable = np.flatnonzero(~flags)
        cut = unstable[0] if len(unstable) else len(rates)
        finals = log_final.loc[depth].dropna()
        rows.append({"depth": int(depth), "edge": float(rates[cut - 1]) if cut > 0 else np.nan,
                     "first_unstable": float(rates[cut]) if cut < len(rates) else np.nan,
                     "stable_rates": int(flags.sum()),
                     "best_rate": float(finals.idxmin()) if len(finals) else np.nan,
                     "seeds": int(sgd.loc[sgd["depth"] == depth, "seed"].nunique())})
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------------------------------- claims


def _per_depth(depths, values, fmt: str) -> str:
    return ", ".join(f"L={int(d)}: {format(v, fmt)}" for d, v in zip(depths, values, strict=True))


def isometry_claims(spectra: pd.DataFrame, sgd: pd.DataFrame, section: IsometrySettings | Mapping) -> list[Claim]:
    """HK21's three statements measured in our setting, with the section's tolerances (fixed before the runs)."""
    settings = from_config(IsometrySettings, section, FAMILY)
    tolerances = settings.claims
    summary = isometry_summary(spectra)
    edge = stability_edge(sgd)
    fim_slope = loglog_slope(summary["depth"], summary["lambda_max"])
    edge_slope = loglog_slope(edge["depth"], edge["edge"])
    best_slope = loglog_slope(edge["depth"], edge["best_rate"])
    concentration = float(summary["fraction_above_half"].min())
    setting = (f"{settings.activation}, M = {settings.width}, sigma_w^2 = {settings.sigma_w2}, "
               f"q = |x|^2/M = {settings.input_scale}, orthogonal weights, no biases")
    two_over_max = dict(zip(summary["depth"], 2 / summary["lambda_max"], strict=True))
    fim_tolerance, edge_tolerance = tolerances.fim_max_slope_tolerance, tolerances.edge_slope_tolerance
    threshold = tolerances.concentration_threshold
    return [
        Claim(
            id="isometry.fim_max_grows_linearly_in_depth",
            source=SOURCE_ABSTRACT,
            statement="The largest eigenvalue of the conditional (single-input) FIM grows linearly with depth L.",
            measured=fim_slope,
            expected=f"log-log slope of lambda_max on L within 1 ± {fim_tolerance}",
            tolerance=fim_tolerance,
            holds=bool(np.isfinite(fim_slope) and abs(fim_slope - 1) <= fim_tolerance),
            ours=True,
            detail=(f"{setting}; lambda_max (mean of {int(summary['replicates'].min())} replicates): "
                    f"{_per_depth(summary['depth'], summary['lambda_max'], '.4g')}; lambda_max / (L |x|^2): "
                    f"{_per_depth(summary['depth'], summary['lambda_max_over_linear'], '.3f')}"),
        ),
        Claim(
            id="isometry.learning_rate_falls_as_one_over_depth",
            source=SOURCE_EXPERIMENTS,
            statement="The largest learning rate at which online SGD trains falls like 1/L.",
            measured=edge_slope,
            expected=f"log-log slope of the stability edge eta* on L within -1 ± {edge_tolerance}",
            tolerance=edge_tolerance,
            holds=bool(np.isfinite(edge_slope) and abs(edge_slope + 1) <= edge_tolerance),
            ours=True,
            detail=(f"{setting}; batch size 1, teacher y = Q x (Q orthogonal), {settings.sgd.steps} steps, "
                    f"{settings.sgd.seeds} seeds; eta* (largest rate with it and all smaller rates below the "
                    f"initial loss, undiverged, for every seed): {_per_depth(edge['depth'], edge['edge'], '.3g')}; "
                    f"first unstable rate: {_per_depth(edge['depth'], edge['first_unstable'], '.3g')}; "
                    "2/lambda_max (the linearised edge): "
                    + ", ".join(f"L={int(d)}: {two_over_max[d]:.3g}" for d in edge["depth"] if d in two_over_max)
                    + f"; best rate (lowest final loss, not a claim): "
                    f"{_per_depth(edge['depth'], edge['best_rate'], '.3g')}, slope {best_slope:.3f}"),
        ),
        Claim(
            id="isometry.spectrum_concentrates",
            source=SOURCE_ABSTRACT,
            statement="The conditional FIM's spectrum concentrates around its maximum.",
            measured=concentration,
            expected=f"fraction of eigenvalues >= lambda_max / 2 at least {threshold} at every depth",
            tolerance=threshold,
            holds=bool(np.isfinite(concentration) and concentration >= threshold),
            ours=True,
            detail=(f"{setting}; fraction >= lambda_max/2: "
                    f"{_per_depth(summary['depth'], summary['fraction_above_half'], '.3f')}; mean/max: "
                    f"{_per_depth(summary['depth'], summary['mean_to_max'], '.3f')}; min/max: "
                    f"{_per_depth(summary['depth'], summary['min_to_max'], '.3f')}"),
        ),
    ]
