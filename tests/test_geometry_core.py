"""The geometry core: factorised Grams against explicit Jacobians and an independent library, the network variants,
and the natural-gradient updates against their primal (P x P) matrix formulas."""

import dataclasses

import numpy as np
import pytest
import torch

from dltheory.geometry import jacobian as jc
from dltheory.geometry import natgrad, natgrad_train
from dltheory.geometry.mlp import NORMALIZATIONS, MlpSpec, forward, init_params


def tiny(normalization="none", parametrization="standard", activation="tanh", outputs=3, seed=0):
    spec = MlpSpec(input_dim=5, width=7, hidden_layers=2, output_dim=outputs, activation=activation,
                   parametrization=parametrization, normalization=normalization)
    generator = torch.Generator().manual_seed(seed)
    return spec, init_params(spec, generator), torch.randn(6, 5, generator=generator, dtype=torch.float64)


def explicit_jacobian(spec, params, x):
    parts = jc.parameter_jacobian(spec, params, x)
    return torch.cat([parts[name] for name in spec.names], dim=1)


@pytest.mark.parametrize("parametrization", ["standard", "ntk"])
@pytest.mark.parametrize("normalization", NORMALIZATIONS)
def test_layer_grams_equal_explicit_jacobian_products(normalization, parametrization):
    spec, params, x = tiny(normalization, parametrization)
    parts = jc.parameter_jacobian(spec, params, x)
    expected = torch.stack([parts[name] @ parts[name].T for name in spec.names])
    torch.testing.assert_close(jc.layer_grams(spec, params, x), expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("normalization", NORMALIZATIONS)
def test_dual_gram_spectrum_is_the_fisher_non_zero_spectrum(normalization):
    spec, params, x = tiny(normalization)
    jacobian = explicit_jacobian(spec, params, x)  # (T*C, P), P = 35 + 49 + 21 > T*C = 18
    fisher = jacobian.T @ jacobian / x.shape[0]
    primal = torch.linalg.eigvalsh(fisher).flip(0)[: jacobian.shape[0]]
    dual = jc.fisher_eigenvalues(jc.mse_fisher_gram(jc.ntk(jc.layer_grams(spec, params, x)), x.shape[0]))
    torch.testing.assert_close(dual, primal, rtol=1e-9, atol=1e-11)


def test_softmax_dual_matches_the_cross_entropy_fisher():
    spec, params, x = tiny()
    jacobian = explicit_jacobian(spec, params, x).reshape(6, 3, -1)
    p = torch.softmax(forward(spec, params, x), dim=-1)
    covariance = torch.diag_embed(p) - p[:, :, None] * p[:, None, :]
    fisher = torch.einsum("sci,scd,sdj->ij", jacobian, covariance, jacobian) / 6
    dual = jc.fisher_eigenvalues(jc.softmax_fisher_gram(jc.ntk(jc.layer_grams(spec, params, x)), p))
    torch.testing.assert_close(dual, torch.linalg.eigvalsh(fisher).flip(0)[:18], rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("variant", ["regression", "classif_logits"])
def test_largest_eigenvalues_match_nngeometry(variant):
    """An independent implementation (nngeometry 0.4, P x P dense Fisher of an nn.Sequential) gives the same top
    eigenvalues as our dual Gram, for the linear (MSE) and the softmax (cross-entropy) Fisher."""
    from nngeometry.metrics import FIM
    from nngeometry.object import PMatDense
    from torch.utils.data import DataLoader, TensorDataset

    spec, params, _ = tiny(activation="relu")
    spec = dataclasses.replace(spec, width=16)
    params = init_params(spec, torch.Generator().manual_seed(3))
    x = torch.randn(20, 5, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    layers = []
    for index, name in enumerate(spec.names):
        fan_out, fan_in = spec.layer_shapes[index]
        linear = torch.nn.Linear(fan_in, fan_out, bias=False, dtype=torch.float64)
        linear.weight.data = params[name].clone()
        layers += [linear] + ([torch.nn.ReLU()] if index < len(spec.names) - 1 else [])
    loader = DataLoader(TensorDataset(x, torch.zeros(20, 3, dtype=torch.float64)), batch_size=7)
    default_dtype = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)  # nngeometry builds its softmax helpers in the default dtype
    try:
        theirs = FIM(model=torch.nn.Sequential(*layers), loader=loader, representation=PMatDense, variant=variant)
    finally:
        torch.set_default_dtype(default_dtype)
    theirs = torch.linalg.eigvalsh(theirs.to_torch()).flip(0)[:5]
    kernel = jc.ntk(jc.layer_grams(spec, params, x))
    if variant == "regression":
        dual = jc.mse_fisher_gram(kernel, 20)
    else:
        dual = jc.softmax_fisher_gram(kernel, torch.softmax(forward(spec, params, x), dim=-1))
    torch.testing.assert_close(jc.fisher_eigenvalues(dual)[:5], theirs, rtol=1e-8, atol=1e-10)


def test_normalization_variants_compute_what_their_names_say():
    spec, params, x = tiny("none", activation="relu", outputs=2)
    w1, w2, w3 = (params[n] for n in spec.names)
    centre = lambda z: z - z.mean(dim=0)  # noqa: E731
    plain = torch.relu(torch.relu(x @ w1.T) @ w2.T) @ w3.T
    torch.testing.assert_close(forward(spec, params, x), plain)
    last_bn = forward(dataclasses.replace(spec, normalization="last_batch_norm"), params, x)
    torch.testing.assert_close(last_bn, centre(plain))
    assert last_bn.mean(dim=0).abs().max() < 1e-12
    hidden_bn = torch.relu(centre(torch.relu(centre(x @ w1.T)) @ w2.T)) @ w3.T
    torch.testing.assert_close(forward(dataclasses.replace(spec, normalization="hidden_batch_norm"), params, x),
                               hidden_bn)
    z2 = torch.relu(x @ w1.T) @ w2.T
    layer_normed = torch.nn.functional.layer_norm(z2, (z2.shape[1],), eps=1e-12)
    torch.testing.assert_close(forward(dataclasses.replace(spec, normalization="last_layer_norm"), params, x),
                               torch.relu(layer_normed) @ w3.T)


def test_orthogonal_initialization_has_the_stated_variance():
    spec = MlpSpec(input_dim=8, width=8, hidden_layers=2, output_dim=8, sigma_w2=1.7, initialization="orthogonal")
    for weight in init_params(spec, torch.Generator().manual_seed(0)).values():
        torch.testing.assert_close(weight @ weight.T, 1.7 * torch.eye(8, dtype=torch.float64))


def test_bad_spec_values_are_errors_naming_the_field():
    with pytest.raises(ValueError, match="MlpSpec.normalization is 'batch'"):
        MlpSpec(input_dim=2, width=2, hidden_layers=1, normalization="batch")


# --- natural-gradient updates: dual form against the primal matrix formulas ---

def ngd_problem():
    spec = dataclasses.replace(natgrad.network_spec({"width": 12}, 9), width=12)
    generator = torch.Generator().manual_seed(5)
    params = init_params(spec, generator)
    x = torch.randn(4, 9, generator=generator, dtype=torch.float64)
    x = x / x.norm(dim=1, keepdim=True)
    y = torch.tensor([[0.5], [-0.5], [0.5], [-0.5]], dtype=torch.float64)
    return spec, params, x, y


def primal_direction(method, spec, params, x, y):
    """The update direction from P x P matrices: F_approx^+ grad, with grad = J^T r / N and F = J^T J / N."""
    n = x.shape[0]
    residual = (forward(spec, params, x) - y)[:, 0]
    parts = jc.parameter_jacobian(spec, params, x)
    blocks = [parts[name] for name in spec.names]
    gradient = torch.cat([b.T @ residual / n for b in blocks])
    sizes = [b.shape[1] for b in blocks]
    pinv = lambda m: torch.linalg.pinv(m, rtol=1e-12, hermitian=True)  # noqa: E731
    if method == "gd":
        direction = gradient
    elif method == "exact":
        jacobian = torch.cat(blocks, dim=1)
        direction = pinv(jacobian.T @ jacobian / n) @ gradient
    elif method in ("block_diagonal", "block_tridiagonal"):
        reach = 0 if method == "block_diagonal" else 1
        fisher = torch.zeros(sum(sizes), sum(sizes), dtype=torch.float64)
        offsets = np.cumsum([0, *sizes])
        for i, bi in enumerate(blocks):
            for j, bj in enumerate(blocks):
                if abs(i - j) <= reach:
                    fisher[offsets[i]:offsets[i + 1], offsets[j]:offsets[j + 1]] = bi.T @ bj / n
        direction = pinv(fisher) @ gradient
    elif method == "kfac":
        inputs = jc.layer_inputs(spec, params, x)
        deltas = [d[:, 0, :] for d in jc.per_sample_deltas(spec, params, x)]
        pieces = []
        for h, d in zip(inputs, deltas, strict=True):
            grad_w = d.T @ (residual[:, None] * h) / n
            pieces.append((pinv(d.T @ d / n) @ grad_w @ pinv(h.T @ h / n)).reshape(-1))
        direction = torch.cat(pieces)
    elif method == "unit_wise":
        pieces = []
        for block, (fan_out, fan_in) in zip(blocks, spec.layer_shapes, strict=True):
            per_unit = block.reshape(n, fan_out, fan_in)
            rows = [pinv(per_unit[:, i].T @ per_unit[:, i] / n) @ (per_unit[:, i].T @ residual / n)
                    for i in range(fan_out)]
            pieces.append(torch.stack(rows).reshape(-1))
        direction = torch.cat(pieces)
    return dict(zip(spec.names, torch.split(direction, sizes), strict=True))


@pytest.mark.parametrize("method", natgrad.METHODS)
def test_dual_updates_equal_the_primal_matrix_formulas(method):
    spec, params, x, y = ngd_problem()
    dual = natgrad_train.update_direction(method, spec, params, x, y, pinv_rtol=1e-12)
    primal = primal_direction(method, spec, params, x, y)
    for name, (fan_out, fan_in) in zip(spec.names, spec.layer_shapes, strict=True):
        torch.testing.assert_close(dual[name], primal[name].reshape(fan_out, fan_in), rtol=1e-7, atol=1e-9)


def test_paper_learning_rates_and_the_singular_tridiagonal_case():
    assert natgrad.paper_learning_rate("exact", 3, 100, 1024) == 1.0
    assert natgrad.paper_learning_rate("block_diagonal", 3, 100, 1024) == pytest.approx(1 / 3)
    assert natgrad.paper_learning_rate("block_tridiagonal", 3, 100, 1024) == pytest.approx(1.0)  # T^-1 1 = (0,1,0)
    assert natgrad.paper_learning_rate("block_tridiagonal", 4, 100, 1024) == pytest.approx(0.5)
    assert natgrad.paper_learning_rate("kfac", 3, 100, 1024) == pytest.approx(1 / 300)
    assert natgrad.paper_learning_rate("unit_wise", 3, 100, 1024) == pytest.approx(1 / 1024)
    with pytest.raises(ValueError, match="singular for 3s \\+ 2 layers"):
        natgrad.tridiagonal_coefficients(5)


def test_exact_ngd_step_moves_the_linearised_function_onto_the_targets():
    """In function space exact NGD at rate 1 sends f to y to first order: a tiny step eta moves f by -eta r."""
    spec, params, x, y = ngd_problem()
    residual = forward(spec, params, x) - y
    direction = natgrad_train.update_direction("exact", spec, params, x, y, pinv_rtol=1e-12)
    eta = 1e-6
    moved = forward(spec, {n: params[n] - eta * direction[n] for n in spec.names}, x)
    torch.testing.assert_close((moved - forward(spec, params, x)) / eta, -residual, rtol=1e-4, atol=1e-6)


def test_kfac_moves_hidden_layers_n_times_more_than_the_output_layer():
    """Why K-FAC at the paper's rate 1/(NL) removes only part of the residual per step: per unit of eta its layer l
    moves the outputs by J_l dW_l = N (P_D * P_H) r (P the projections onto the row spaces of the layer's deltas and
    inputs). Hidden layers with full-rank Grams get N r; the output layer, whose delta is 1 for every sample (B_L = 1),
    gets P_H r = r, not N r as in the code's analytical predictor (its cal_B3 = ones)."""
    spec, params, x, y = ngd_problem()  # N = 4 <= every fan-in, so every input Gram has full rank
    n = x.shape[0]
    residual = (forward(spec, params, x) - y)[:, 0]
    direction = natgrad_train.update_direction("kfac", spec, params, x, y, pinv_rtol=1e-12)
    parts = jc.parameter_jacobian(spec, params, x)
    movement = {name: parts[name] @ direction[name].reshape(-1) for name in spec.names}
    *hidden, output = spec.names
    for name in hidden:
        torch.testing.assert_close(movement[name], n * residual, rtol=1e-7, atol=1e-9)
    torch.testing.assert_close(movement[output], residual, rtol=1e-7, atol=1e-9)
