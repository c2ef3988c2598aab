"""The embedding family (FYMT19): embeddings keep the function, the analytic Hessian is torch's, Hessian counts on
hand-built critical points follow Sylvester's law as derived, criticality, and config errors naming the key."""

import re

import numpy as np
import pytest

from dltheory.config import ConfigError, load_config_file, load_schema, validate_config
from dltheory.embedding import shallow as sh
from dltheory.embedding.experiment import sanity_network
from tests.conftest import ROOT

ACTS = ["tanh", "softplus", "relu"]


def _data(d=2, n=30, seed=0):
    rng = np.random.default_rng(seed)
    return sh.augmented(rng.standard_normal((n, d))), rng


def _critical(act, d=2, n=30, width=2, seed=0, residual=0.1):
    """A hand-built critical point: targets f(x) - r with r orthogonal to every column of the Jacobian, so
    grad E = J^T r / n = 0 exactly and the residual is r (non-zero)."""
    X, rng = _data(d, n, seed)
    theta = sh.student_init(rng, d, width)
    J = sh.jacobian(theta, X, act)
    q, _ = np.linalg.qr(J)
    r = rng.standard_normal(n)
    r = residual * (r - q @ (q.T @ r))
    return theta, X, sh.forward(theta, X, act)[0] - r


@pytest.mark.parametrize("act", ACTS)
def test_every_embedding_keeps_the_function_exactly(act):
    X, rng = _data()
    theta = sh.student_init(rng, 2, 3)
    f = sh.forward(theta, X, act)[0]
    embedded = [sh.replicate(theta, 2, 1, lam) for lam in (0.5, 1.5, -0.5)]
    embedded += [sh.constant_unit(theta, 2, b) for b in (0.5, -0.5)]
    if act == "relu":
        embedded.append(sh.add_unit(theta, 2, sh.inactive_unit_weights(rng, X, 1.0), 3.7))
    for point in embedded:
        assert len(point) == len(theta) + 4
        np.testing.assert_allclose(sh.forward(point, X, act)[0], f, rtol=0, atol=1e-14)


@pytest.mark.parametrize("act", ACTS)
def test_analytic_gradient_and_hessian_are_torchs(act):
    torch = pytest.importorskip("torch")
    X, rng = _data(n=12)
    theta = sh.student_init(rng, 2, 2)
    y = rng.standard_normal(12)
    Xt, yt = torch.tensor(X), torch.tensor(y)
    phi = {"tanh": torch.tanh, "softplus": torch.nn.functional.softplus, "relu": torch.relu}[act]

    def loss(t):
        units = t[:-1].reshape(2, 4)
        return 0.5 * ((phi(Xt @ units[:, :3].T) @ units[:, 3] + t[-1] - yt) ** 2).mean()

    tt = torch.tensor(theta)
    _, g = sh.loss_and_gradient(theta, X, y, act)
    np.testing.assert_allclose(g, torch.func.grad(loss)(tt).numpy(), atol=1e-13)
    np.testing.assert_allclose(sh.hessian(theta, X, y, act), torch.func.hessian(loss)(tt).numpy(), atol=1e-12)


@pytest.mark.parametrize("d", [1, 2])
def test_zero_residual_counts_are_the_closed_form(d):
    # The sanity case: a network fitting its own outputs; every B_j and the coupling g vanish.
    X, _ = _data(d, 40)
    theta = sanity_network(d)
    y = sh.forward(theta, X, "tanh")[0]
    P = len(theta)
    for point, expected in [(theta, (0, 0, P)), (sh.replicate(theta, d, 0, 1.5), (0, d + 2, P)),
                            (sh.constant_unit(theta, d, 0.5), (0, d + 2, P))]:
        values = np.linalg.eigvalsh(sh.hessian(point, X, y, "tanh"))
        assert sh.inertia(values, sh.zero_threshold(values, 1e-9)).counts() == expected


@pytest.mark.parametrize("act", ["tanh", "softplus"])
def test_replication_and_constant_counts_follow_sylvesters_law_at_a_hand_built_critical_point(act):
    theta, X, y = _critical(act)
    E, g = sh.loss_and_gradient(theta, X, y, act)
    assert np.linalg.norm(g) < 1e-14 and E > 1e-4
    values = np.linalg.eigvalsh(sh.hessian(theta, X, y, act))
    narrow = sh.inertia(values, sh.zero_threshold(values, 1e-9))
    for unit in range(2):
        B = sh.split_matrix(theta, X, y, act, unit)
        for lam in (0.5, 1.5, -0.5):
            point = sh.replicate(theta, 2, unit, lam)
            values = np.linalg.eigvalsh(sh.hessian(point, X, y, act))
            threshold = sh.zero_threshold(values, 1e-9)
            measured = sh.inertia(values, threshold)
            assert measured.counts() == sh.predicted_replication(narrow, B, lam, threshold).counts()
            assert np.linalg.norm(sh.loss_and_gradient(point, X, y, act)[1]) < 1e-13
    point = sh.constant_unit(theta, 2, 0.5)
    values = np.linalg.eigvalsh(sh.hessian(point, X, y, act))
    coupling = sh.constant_coupling(theta, X, y, act, 0.5)
    assert np.linalg.norm(coupling) > 1e-6  # a non-zero residual, not orthogonal to the raw inputs
    counts = sh.inertia(values, sh.zero_threshold(values, 1e-9)).counts()
    assert counts == (narrow + sh.Inertia(1, 2, 1)).counts()  # the strict saddle: one negative, d zeros


def test_relu_split_matrix_vanishes_and_inactive_unit_adds_d_plus_2_flat_directions():
    theta, X, y = _critical("relu")
    assert np.abs(sh.split_matrix(theta, X, y, "relu", 0)).max() == 0.0
    rng = np.random.default_rng(3)
    point = sh.add_unit(theta, 2, sh.inactive_unit_weights(rng, X, 1.0), -2.0)
    H = sh.hessian(point, X, y, "relu")
    assert np.abs(H[-5:-1]).max() == 0.0  # the new unit's rows: w (3) and v, all exactly zero
    assert sh.dead_units(point, X) == sh.dead_units(theta, X) + 1
    assert sh.semi_flat_test(point, X, y, "relu", rng, 200, 1e-3) >= -1e-15


def test_a_smooth_unit_with_zero_output_weight_and_generic_input_weights_is_not_critical():
    # The digest's pitfall: "inactive" needs the constant unit's w = (0, ..., b) for smooth activations.
    theta, X, y = _critical("tanh")
    point = sh.add_unit(theta, 2, np.array([0.8, -0.3, 0.2]), 0.0)
    assert np.linalg.norm(sh.loss_and_gradient(point, X, y, "tanh")[1]) > 1e-6  # the narrow gradient is ~1e-17


def test_inertia_counts_with_a_relative_threshold_and_reports_the_gap():
    values = np.array([-2e-3, -1e-15, 3e-16, 0.5, 1.0])
    counts = sh.inertia(values, sh.zero_threshold(values, 1e-9))
    assert counts.counts() == (1, 2, 2)
    assert counts.gap == pytest.approx(2e-3 / 1e-15)


@pytest.mark.parametrize("override, key", [
    ({"lambdas": [0.5, 1.0]}, "embedding.lambdas"),
    ({"narrow_widths": [2, 4]}, "embedding.narrow_widths"),
    ({"activations": ["tanh", "gelu"]}, "embedding.activations[1]"),
    ({"inputs": [{"d": 2, "n": 10}]}, "embedding.inputs[0].n"),
    ({"claims": {"saddle_fraction_min": 1.5}}, "embedding.claims.saddle_fraction_min"),
])
def test_bad_embedding_config_names_the_key(override, key):
    config = load_config_file(ROOT / "config/config.yaml")
    config["embedding"] = {**config["embedding"], **override}
    with pytest.raises(ConfigError, match=re.escape(f"config key '{key}'")):
        validate_config(config, load_schema(ROOT / "workflow/schemas/config.schema.yaml"))


def test_a_tiny_run_gives_every_claim():
    from dltheory.embedding.analysis import count_table, embedding_claims
    from dltheory.embedding.experiment import run_embedding

    section = {"activations": ["tanh", "relu"], "inputs": [{"d": 1, "n": 20}], "teachers": 1, "narrow_widths": [1],
               "restarts": 2, "fit_evaluations": 200, "lambdas": [1.5], "escape": {"steps": 5},
               "semi_flat": {"perturbations": 20}, "slice_points": 5}
    table = run_embedding(section, 1)
    claims = embedding_claims(table, section)
    assert [c.id.split(".")[0] for c in claims] == ["embedding"] * 8
    assert all(c.detail for c in claims)
    counts = count_table(table)
    assert set(counts["activation"]) == {"tanh", "relu"}


def test_deep_embeddings_keep_the_function_and_lanczos_finds_the_full_hessians_extremes():
    # The paper-scale code path at a tiny size on CPU: 5 inputs, two hidden layers of 3, 2 outputs (P = 38).
    torch = pytest.importorskip("torch")
    from dltheory.embedding import deep

    generator = torch.Generator().manual_seed(0)
    X = torch.rand(20, 5, generator=generator, dtype=deep.DTYPE)
    Y = torch.rand(20, 2, generator=generator, dtype=deep.DTYPE)
    for act in ("tanh", "relu"):
        params = deep.train(deep.init_network([5, 3, 3, 2], generator, "cpu"), X, Y, act, 30)
        f = deep.forward(params, X, act)
        embedded = [deep.replicate(params, 0, 1, 1.5), deep.replicate(params, 1, 0, -0.5),
                    deep.constant_unit(params, 1, 0.5)]
        if act == "relu":
            embedded += [deep.inactive_unit(params, 0, generator), deep.inactive_unit(params, 1, generator)]
        for point in embedded:
            added = deep.flatten(point).numel() - deep.flatten(params).numel()
            assert added == (5 + 1 + 3 if point[0][0].shape[0] == 4 else 3 + 1 + 2)  # in, bias, out
            assert float((deep.forward(point, X, act) - f).abs().max()) < 1e-14
    smallest, largest, method = deep.hessian_extremes(params, X, Y, "tanh", 2, 10_000)
    lanczos_small, lanczos_large, lanczos = deep.hessian_extremes(params, X, Y, "tanh", 2, 10)
    assert (method, lanczos) == ("full", "lanczos")
    np.testing.assert_allclose(lanczos_large, largest, rtol=1e-6)
    np.testing.assert_allclose(lanczos_small, smallest, atol=1e-6 * largest[-1])
