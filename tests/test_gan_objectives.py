"""GAN objectives and stationarity conditions (issue 4): losses against hand computations, penalties on toy nets."""

import dataclasses
import math

import numpy as np
import pytest
import torch
from torch import nn

from dltheory.gan import metrics
from dltheory.gan.conditions import (
    ACTIVATIONS,
    CONDITIONS,
    SMOOTH_DISCRIMINATOR,
    SMOOTH_GENERATOR,
    SMOOTH_IN_DISTRIBUTION,
    VARIANT_CONDITIONS,
    conditions_table,
)
from dltheory.gan.objectives import (
    VARIANTS,
    RandomFeatureCritic,
    clip_weights_,
    gaussian_kernel_sum,
    get_variant,
    gradient_penalty,
    hinge_losses,
    mmd_squared,
    non_saturating_losses,
    smoothed_losses,
    spectrally_normalise,
    variant_losses,
    wasserstein_losses,
)


def tiny_mlp(out_features: int = 1, activation: type[nn.Module] = nn.Softplus) -> nn.Module:
    torch.manual_seed(0)
    layers = nn.Sequential(nn.Linear(2, 16), activation(), nn.Linear(16, 16), activation(), nn.Linear(16, out_features))
    return layers if out_features > 1 else nn.Sequential(layers, nn.Flatten(0))


def discriminator_for(name: str) -> nn.Module:
    variant = get_variant(name)
    if variant.loss == "smoothed":
        critic = RandomFeatureCritic(tiny_mlp(4), feature_dim=4, generator=torch.Generator().manual_seed(0))
        return spectrally_normalise(critic)
    network = tiny_mlp(4 if variant.loss == "mmd" else 1)
    return spectrally_normalise(network) if variant.spectral_norm else network


@pytest.mark.parametrize("name", list(VARIANTS))
def test_every_variant_gives_two_finite_scalar_losses_with_gradients(name):
    real, fake = torch.randn(8, 2) + 2.0, torch.randn(8, 2, requires_grad=True)
    discriminator = discriminator_for(name)
    d_loss, g_loss = variant_losses(name, discriminator, real, fake, torch.Generator().manual_seed(1))
    assert d_loss.shape == () and g_loss.shape == ()
    assert torch.isfinite(d_loss) and torch.isfinite(g_loss)
    d_loss.backward(retain_graph=True)
    assert all(torch.isfinite(p.grad).all() for p in discriminator.parameters() if p.grad is not None)
    (fake_gradient,) = torch.autograd.grad(g_loss, fake)
    assert torch.isfinite(fake_gradient).all() and fake_gradient.abs().sum() > 0


def test_wasserstein_losses_are_minus_1_and_0_when_real_scores_1_and_fake_0():
    d_loss, g_loss = wasserstein_losses(torch.ones(4), torch.zeros(4))
    assert d_loss.item() == pytest.approx(-1.0) and g_loss.item() == pytest.approx(0.0)


def test_hinge_losses_at_outputs_plus_minus_2():
    # real scored 2, fake −2: both margins met, D loss 0, G loss 2; reversed: D loss 3 + 3 = 6, G loss −2.
    d_loss, g_loss = hinge_losses(torch.full((3,), 2.0), torch.full((3,), -2.0))
    assert (d_loss.item(), g_loss.item()) == pytest.approx((0.0, 2.0))
    d_loss, g_loss = hinge_losses(torch.full((3,), -2.0), torch.full((3,), 2.0))
    assert (d_loss.item(), g_loss.item()) == pytest.approx((6.0, -2.0))


def test_non_saturating_losses_are_softplus_values():
    d_loss, g_loss = non_saturating_losses(torch.zeros(5), torch.zeros(5))
    assert d_loss.item() == pytest.approx(2.0 * math.log(2.0)) and g_loss.item() == pytest.approx(math.log(2.0))
    d_loss, g_loss = non_saturating_losses(torch.full((5,), 2.0), torch.full((5,), -1.0))
    expected_d = math.log1p(math.exp(-2.0)) + math.log1p(math.exp(-1.0))
    assert d_loss.item() == pytest.approx(expected_d) and g_loss.item() == pytest.approx(math.log1p(math.e))


def test_torch_mmd_matches_the_numpy_metric_to_1e_6():
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((20, 3)), rng.standard_normal((15, 3)) + 0.5
    bandwidths = (0.5, 1.0, 2.0)
    expected = metrics.mmd_squared(x, y, bandwidths)
    assert mmd_squared(torch.tensor(x), torch.tensor(y), bandwidths).item() == pytest.approx(expected, abs=1e-6)
    gram = gaussian_kernel_sum(torch.tensor(x), torch.tensor(y), bandwidths).numpy()
    assert np.allclose(gram, metrics.gaussian_kernel_sum(x, y, bandwidths), atol=1e-10)


def linear_discriminator(weight: list[float]) -> nn.Module:
    layer = nn.Linear(len(weight), 1)
    with torch.no_grad():
        layer.weight.copy_(torch.tensor([weight]))
        layer.bias.fill_(0.3)
    return nn.Sequential(layer, nn.Flatten(0))


def test_gradient_penalty_is_0_for_a_linear_discriminator_with_unit_norm_weight():
    real, fake = torch.randn(32, 2), torch.randn(32, 2)
    penalty = gradient_penalty(linear_discriminator([0.6, 0.8]), real, fake, torch.Generator().manual_seed(0))
    assert abs(penalty.item()) < 1e-6


def test_gradient_penalty_is_10_times_norm_minus_1_squared_for_a_linear_discriminator():
    real, fake = torch.randn(32, 2), torch.randn(32, 2)
    penalty = gradient_penalty(linear_discriminator([3.0, 4.0]), real, fake, torch.Generator().manual_seed(0))
    assert penalty.item() == pytest.approx(10.0 * (5.0 - 1.0) ** 2, rel=1e-6)  # 160


def test_r1_is_half_gamma_times_the_squared_gradient_norm_for_a_linear_discriminator():
    from dltheory.gan.objectives import r1_penalty

    penalty = r1_penalty(linear_discriminator([3.0, 4.0]), torch.randn(32, 2))
    assert penalty.item() == pytest.approx(0.5 * 10.0 * 25.0, rel=1e-6)  # 125, whatever the data


def test_clip_weights_bounds_every_parameter_by_0_01():
    network = tiny_mlp()
    with torch.no_grad():
        for parameter in network.parameters():
            parameter.mul_(100.0)
    clip_weights_(network, 0.01)
    assert max(parameter.abs().max().item() for parameter in network.parameters()) <= 0.01
    assert any(parameter.abs().max().item() == pytest.approx(0.01) for parameter in network.parameters())


def test_spectrally_normalised_linear_layers_have_largest_singular_value_1_within_1e_3():
    network = spectrally_normalise(tiny_mlp())
    linears = [module for module in network.modules() if isinstance(module, nn.Linear)]
    assert len(linears) == 3 and all(nn.utils.parametrize.is_parametrized(m, "weight") for m in linears)
    network.train()
    for _ in range(5):
        network(torch.randn(4, 2))
    # Measured: the registration's 15 power iterations plus 5 more give |σ_max − 1| ≤ 4e-6 here (3.5e-6 worst layer).
    for layer in linears:
        assert torch.linalg.matrix_norm(layer.weight.detach(), ord=2).item() == pytest.approx(1.0, abs=1e-3)


def test_spectral_normalisation_leaves_the_random_feature_readout_alone():
    critic = spectrally_normalise(RandomFeatureCritic(tiny_mlp(4), feature_dim=4))
    assert not any(name.startswith("readout") for name, _ in critic.named_parameters() if "parametrizations" in name)
    assert isinstance(critic.readout, nn.Parameter)


def test_smoothed_penalty_is_nonnegative_and_0_for_the_zero_function():
    critic = RandomFeatureCritic(tiny_mlp(4), feature_dim=4, generator=torch.Generator().manual_seed(0))
    assert critic.rkhs_norm_squared().item() > 0
    with torch.no_grad():
        critic.readout.zero_()
    assert critic.rkhs_norm_squared().item() == 0.0
    assert torch.all(critic(torch.randn(6, 2)) == 0)
    d_loss, _ = smoothed_losses(torch.zeros(3), torch.zeros(3), critic.rkhs_norm_squared(), smoothing=1.0)
    assert d_loss.item() == 0.0


def test_smoothed_penalty_equals_the_kernel_expansion_norm_alpha_k_alpha():
    # f = Σ_j α_j k̂(·, z_j) has ‖f‖²_H = αᵀ K̂ α with K̂ the random-feature Gram matrix; the readout is Ψᵀα.
    critic = RandomFeatureCritic(
        nn.Identity(), feature_dim=2, num_features=64, generator=torch.Generator().manual_seed(0)
    )
    centres, alpha = torch.randn(10, 2, dtype=torch.float32), torch.randn(10)
    features = critic.random_features(centres)
    with torch.no_grad():
        critic.readout.copy_(features.T @ alpha)
    direct = alpha @ (features @ features.T) @ alpha
    assert critic.rkhs_norm_squared().item() == pytest.approx(direct.item(), rel=1e-5)
    points = torch.randn(5, 2)
    kernel_expansion = (critic.random_features(points) @ features.T) @ alpha
    assert torch.allclose(critic(points), kernel_expansion, atol=1e-5)


def test_random_features_approximate_the_gaussian_kernel_within_0_05_at_4096_features():
    # Measured: max |ψᵀψ − k| = 0.029 on these 8 points (Monte Carlo error ~ 1/√D ≈ 0.016 per entry).
    critic = RandomFeatureCritic(nn.Identity(), 2, num_features=4096, generator=torch.Generator().manual_seed(0))
    points = torch.randn(8, 2, dtype=torch.float32)
    approx = critic.random_features(points) @ critic.random_features(points).T
    assert (approx - gaussian_kernel_sum(points, points, (1.0,))).abs().max().item() < 0.05


def test_unknown_variant_names_raise_value_error_listing_the_known_ones():
    with pytest.raises(ValueError, match="'wgan_lp'.*sn_gp"):
        get_variant("wgan_lp")
    with pytest.raises(ValueError, match="wgan_lp"):
        variant_losses("wgan_lp", tiny_mlp(), torch.randn(4, 2), torch.randn(4, 2))


def test_variant_registry_defaults():
    assert get_variant("wgan_gp").gradient_penalty_weight == 10.0 and get_variant("wgan_clip").clip == 0.01
    assert get_variant("sn_gp").spectral_norm and get_variant("sn_gp").gradient_penalty
    assert get_variant("sn_wasserstein").spectral_norm and not get_variant("sn_wasserstein").gradient_penalty
    with pytest.raises(dataclasses.FrozenInstanceError):
        get_variant("sn_gp").clip = 1.0  # type: ignore[misc]


def test_conditions_table_has_one_row_per_variant_and_activation():
    table = conditions_table(("relu", "softplus", "elu"))
    assert len(table) == 3 * len(VARIANTS) == 36  # 9 variants and the smoothed GAN's 3 other lambdas
    assert not table.duplicated(["variant", "activation"]).any()
    assert set(table.columns) >= {c.name for c in CONDITIONS} | {"meets_all", "reasons"}
    assert len(VARIANT_CONDITIONS) == len(VARIANTS) * len(ACTIVATIONS)
    with pytest.raises(ValueError, match="tanhh"):
        conditions_table(("tanhh",))


def test_relu_variants_are_never_marked_smooth():
    relu = conditions_table(("relu",))
    assert not relu[SMOOTH_DISCRIMINATOR.name].any() and not relu[SMOOTH_GENERATOR.name].any()
    assert not relu["meets_all"].any()


def test_only_the_smoothed_gan_meets_every_condition_and_the_two_sided_gp_is_no_concave_term():
    table = conditions_table(("softplus",)).set_index("variant")
    assert not table.loc["sn_wasserstein", SMOOTH_IN_DISTRIBUTION.name]
    assert not table.loc["sn_gp", SMOOTH_IN_DISTRIBUTION.name] and not table.loc["wgan_gp", SMOOTH_IN_DISTRIBUTION.name]
    assert table.loc["r1", SMOOTH_IN_DISTRIBUTION.name] and not table.loc["r1", "meets_all"]
    # The smoothed GAN, at every lambda of its sweep, and nothing else.
    assert table.loc["smoothed", "meets_all"]
    sweep = {f"smoothed_lambda_{value}" for value in ("0.01", "0.1", "10")}
    assert set(table.index[table["meets_all"]]) == {"smoothed", *sweep}
    assert not table.loc["non_saturating", "meets_all"] and not table.loc["wgan_clip", "meets_all"]
