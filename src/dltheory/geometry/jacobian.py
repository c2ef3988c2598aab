"""Per-sample Jacobians, per-layer Gram matrices (the NTK), Fisher spectra: the core the four figure families share.

The empirical Fisher information of a network with T samples and C outputs is F = J^T J / T (P x P); its non-zero
eigenvalues are those of the dual Gram matrix J J^T / T (TC x TC), which is what we compute. J J^T is the empirical
NTK. For a weight matrix the per-sample Jacobian factorises, dz_l/dW_l = delta_l (x) h_l, so a layer's Gram matrix is
(delta delta^T) * (h h^T) elementwise and is never formed from P-long rows; the deltas are per-sample Jacobians with
respect to the pre-activations (``torch.func``, vmapped over samples, chunked). Everything runs in float64.

Normalization over the data set couples the samples: the output's mean subtraction is a projection of the Gram
matrix; hidden-layer mean subtraction needs the deltas of every sample's output at every other sample's
pre-activations (T x C x T x M numbers, still never the P-long rows).
"""

import dataclasses

import torch
from torch.func import jacrev, vmap

from dltheory.geometry.mlp import MlpSpec, forward


def _zero_probes(spec: MlpSpec, params: dict, batch_shape: tuple = ()) -> list[torch.Tensor]:
    reference = next(iter(params.values()))
    return [torch.zeros(*batch_shape, fan_out, dtype=reference.dtype, device=reference.device)
            for fan_out, _ in spec.layer_shapes]


def layer_inputs(spec: MlpSpec, params: dict, x: torch.Tensor) -> list[torch.Tensor]:
    """Each layer's scaled input ``scale_l * h_{l-1}`` (T x fan_in): the second factor of its weight Jacobian."""
    with torch.no_grad():
        return forward(spec, params, x, return_inputs=True)[1]


def per_sample_deltas(spec: MlpSpec, params: dict, x: torch.Tensor, chunk_size: int | None = 64):
    """delta_l = d output / d pre-activation_l for every sample, as a list of (T, C, fan_out) tensors.

    One sample's output must not depend on the others' (no normalization over the data set).
    """
    if spec.couples_samples:
        raise ValueError(f"per-sample deltas need an uncoupled network; normalization={spec.normalization!r}")

    def single_output(probes, sample):
        return forward(spec, params, sample[None], [p[None] for p in probes])[0]

    delta = vmap(jacrev(single_output), in_dims=(None, 0), chunk_size=chunk_size)
    return delta(_zero_probes(spec, params), x)


def batch_deltas(spec: MlpSpec, params: dict, x: torch.Tensor, chunk_size: int | None = 64):
    """d output(s) / d pre-activation_l(t) for every pair of samples, as a list of (T, C, T, fan_out) tensors: the
    general case, which normalization over the data set needs."""

    def batch_output(probes):
        return forward(spec, params, x, probes)

    return jacrev(batch_output, chunk_size=chunk_size)(_zero_probes(spec, params, (x.shape[0],)))


def centring_matrix(n_samples: int, n_outputs: int, dtype=torch.float64, device=None) -> torch.Tensor:
    """(I - 11^T / T) (x) I_C: subtracting each output's mean over the samples, on rows ordered (sample, output)."""
    eye = torch.eye(n_samples, dtype=dtype, device=device)
    centring = eye - torch.full_like(eye, 1.0 / n_samples)
    return torch.kron(centring, torch.eye(n_outputs, dtype=dtype, device=device))


def layer_grams(spec: MlpSpec, params: dict, x: torch.Tensor, chunk_size: int | None = 64) -> torch.Tensor:
    """Per-layer Gram matrices J_l J_l^T, shape (layers, T*C, T*C), rows ordered (sample, output).

    Their sum is the empirical NTK; divided by T, the dual of the Fisher information. ``chunk_size`` bounds how many
    samples (or, with hidden-layer normalization, output rows) are backpropagated at once.
    """
    n_samples, n_outputs = x.shape[0], spec.output_dim
    inputs = layer_inputs(spec, params, x)
    if spec.normalization == "hidden_batch_norm":
        return torch.stack([
            _coupled_gram(delta, layer_input)
            for delta, layer_input in zip(batch_deltas(spec, params, x, chunk_size), inputs, strict=True)
        ])
    last_normalized = spec.normalization in ("last_batch_norm", "last_batch_norm_full")
    base = dataclasses.replace(spec, normalization="none") if last_normalized else spec
    grams = []
    for delta, layer_input in zip(per_sample_deltas(base, params, x, chunk_size), inputs, strict=True):
        rows = delta.reshape(n_samples * n_outputs, -1)
        input_gram = torch.repeat_interleave(torch.repeat_interleave(layer_input @ layer_input.T, n_outputs, 0),
                                             n_outputs, 1)
        grams.append((rows @ rows.T) * input_gram)
    grams = torch.stack(grams)
    if spec.normalization == "last_batch_norm":
        centring = centring_matrix(n_samples, n_outputs, grams.dtype, grams.device)
        grams = centring @ grams @ centring
    elif spec.normalization == "last_batch_norm_full":
        with torch.no_grad():
            raw = forward(base, params, x)
        standardizing = standardizing_jacobian(raw)
        grams = standardizing @ grams @ standardizing.T
    return grams


def standardizing_jacobian(outputs: torch.Tensor) -> torch.Tensor:
    """d f / d z of full batch norm over the samples, f = (z - mean z) / std z per output unit (``outputs``: T x C,
    before normalization), on rows ordered (sample, output): (I - 11^T / T - f f^T / T) / std for each output."""
    n_samples, n_outputs = outputs.shape
    centred = outputs - outputs.mean(dim=0, keepdim=True)
    std = torch.sqrt((centred**2).mean(dim=0))
    normalized = centred / std
    eye = torch.eye(n_samples, dtype=outputs.dtype, device=outputs.device)
    blocks = [(eye - 1.0 / n_samples - torch.outer(normalized[:, c], normalized[:, c]) / n_samples) / std[c]
              for c in range(n_outputs)]
    jacobian = torch.zeros(n_samples, n_outputs, n_samples, n_outputs, dtype=outputs.dtype, device=outputs.device)
    for c, block in enumerate(blocks):
        jacobian[:, c, :, c] = block
    return jacobian.reshape(n_samples * n_outputs, n_samples * n_outputs)


def _coupled_gram(delta: torch.Tensor, layer_input: torch.Tensor) -> torch.Tensor:
    # delta (T, C, T, out): row (s, c) of the Jacobian is sum_t delta[s, c, t] (x) input[t], so
    # G[a, b] = sum_{t,u} <delta[a, t], delta[b, u]> K[t, u] with K = input input^T: two contractions of T*C*T*out
    # numbers, never the T*C x out*in Jacobian.
    n_samples, n_outputs, _, fan_out = delta.shape
    rows = delta.reshape(n_samples * n_outputs, n_samples, fan_out)
    mixed = torch.einsum("atm,tu->aum", rows, layer_input @ layer_input.T)
    return mixed.reshape(len(rows), -1) @ rows.reshape(len(rows), -1).T


def parameter_jacobian(spec: MlpSpec, params: dict, x: torch.Tensor, chunk_size: int | None = 64) -> dict:
    """The explicit Jacobian of every output with respect to every weight, {name: (T*C, fan_out*fan_in)}: the
    reference the factorised Grams are tested against (P-long rows: small networks only)."""
    n_rows = x.shape[0] * spec.output_dim
    if spec.couples_samples:
        jacobian = jacrev(lambda p: forward(spec, p, x), chunk_size=chunk_size)(params)
    else:
        def single_output(p, sample):
            return forward(spec, p, sample[None])[0]

        jacobian = vmap(jacrev(single_output), in_dims=(None, 0), chunk_size=chunk_size)(params, x)
    return {name: jacobian[name].reshape(n_rows, -1) for name in spec.names}


def ntk(grams: torch.Tensor) -> torch.Tensor:
    """The empirical NTK J J^T: the sum of the layers' Gram matrices."""
    return grams.sum(dim=0)


def fisher_eigenvalues(dual_gram: torch.Tensor) -> torch.Tensor:
    """Eigenvalues of a symmetric dual Gram matrix, largest first (the Fisher's non-zero spectrum)."""
    return torch.flip(torch.linalg.eigvalsh(0.5 * (dual_gram + dual_gram.T)), dims=(0,))


def mse_fisher_gram(kernel: torch.Tensor, n_samples: int) -> torch.Tensor:
    """Dual of the Fisher information of a linear output with squared loss (unit noise): J J^T / T."""
    return kernel / n_samples


def softmax_fisher_gram(kernel: torch.Tensor, probabilities: torch.Tensor) -> torch.Tensor:
    """Dual of the Fisher information of a softmax output with cross-entropy, F = sum_s J_s^T Lambda_s J_s / T with
    Lambda = diag(p) - p p^T.

    Lambda = R R^T with R = (I - p 1^T) diag(sqrt p), so F = B^T B / T for B = blockdiag(R_s^T) J and its non-zero
    eigenvalues are those of B J J^T B^T / T.
    """
    n_samples, n_classes = probabilities.shape
    eye = torch.eye(n_classes, dtype=probabilities.dtype, device=probabilities.device)
    roots = (eye - probabilities[:, :, None]) * torch.sqrt(probabilities)[:, None, :]  # R_s (I - p 1^T) diag(sqrt p)
    blocks = kernel.reshape(n_samples, n_classes, n_samples, n_classes)
    dual = torch.einsum("sca,scte,tef->satf", roots, blocks, roots)
    return dual.reshape(n_samples * n_classes, n_samples * n_classes) / n_samples


def input_metric(spec: MlpSpec, params: dict, x: torch.Tensor, output: str = "linear",
                 chunk_size: int | None = 64) -> torch.Tensor:
    """The Fisher metric of the input space, sum_s J_x(s)^T Lambda_s J_x(s) / T (input_dim x input_dim), with
    Lambda = I for a linear output and diag(p) - p p^T for softmax; J_x is the Jacobian of the output in the input."""
    if spec.couples_samples:
        raise ValueError("the input metric needs an uncoupled network")

    def single_output(sample):
        return forward(spec, params, sample[None])[0]

    jacobians = vmap(jacrev(single_output), chunk_size=chunk_size)(x)  # (T, C, D)
    if output == "softmax":
        with torch.no_grad():
            p = torch.softmax(forward(spec, params, x), dim=-1)
        weights = torch.diag_embed(p) - p[:, :, None] * p[:, None, :]
    elif output == "linear":
        weights = torch.eye(spec.output_dim, dtype=x.dtype, device=x.device).expand(x.shape[0], -1, -1)
    else:
        raise ValueError(f"output is {output!r}; allowed: ['linear', 'softmax']")
    return torch.einsum("sci,scd,sdj->ij", jacobians, weights, jacobians) / x.shape[0]
