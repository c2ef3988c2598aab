"""benchmarks/paper_budget.py estimates every enabled family's cost from a config, without training anything."""

import importlib.util
import math
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CONFIGS = ("config/smoke.yaml", "config/paper.yaml")


@pytest.fixture(scope="module")
def budget():
    spec = importlib.util.spec_from_file_location("paper_budget", REPO / "benchmarks/paper_budget.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def estimates(budget):
    return {config: budget.estimate([str(REPO / config)]) for config in CONFIGS}


@pytest.mark.parametrize("config", CONFIGS)
def test_every_enabled_family_costs_a_positive_finite_time(budget, estimates, config):
    from dltheory.config import FAMILIES, enabled, load_config_file, merged

    raw = merged(load_config_file(REPO / "config/config.yaml"), load_config_file(REPO / config))
    costs = estimates[config]
    assert list(costs) == [family for family in FAMILIES if enabled(raw, family)]
    for paths in budget.SCENARIOS.values():
        for family, cost in costs.items():
            seconds = cost.gpu_seconds(paths) + cost.cpu_core_seconds(paths)
            assert math.isfinite(seconds) and seconds > 0, family
            assert cost.gpu_flops <= cost.gpu_flops_padded or cost.gpu_flops_padded == 0, family  # buckets unpadded
        gpu, cpu, wall = budget.wall_seconds(costs, paths, threads=4)
        assert math.isfinite(wall) and wall == max(gpu, cpu) > 0


def test_the_paper_config_costs_a_thousand_times_the_smoke_config(budget, estimates):
    paper, smoke = (budget.wall_seconds(estimates[c], budget.Paths(), threads=4)[2] for c in reversed(CONFIGS))
    assert paper > 1000 * smoke
