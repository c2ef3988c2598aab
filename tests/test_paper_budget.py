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


def test_a_familys_cpu_wall_is_its_work_over_its_jobs_cores_and_at_least_its_largest_job(budget, estimates,
                                                                                          tmp_path):
    cost = budget.Cost("x", cpu_seconds=1600.0, cpu_jobs=8, largest_job_share=0.5)
    assert cost.cpu_wall_seconds(budget.Paths(), threads=4) == 200.0  # the largest job: 800 s on 4 cores
    cost.largest_job_share = 1 / 8
    assert cost.cpu_wall_seconds(budget.Paths(), threads=4) == 100.0  # 1600 s on all 16 cores
    # batchnorm: its jobs and its largest job from the config's spectra_jobs; one job runs on threads_per_job cores.
    split = estimates["config/paper.yaml"]["batchnorm"]
    overlay = tmp_path / "one_job.yaml"
    overlay.write_text("batchnorm: {spectra_jobs: 1}\n")
    one = budget.estimate([str(REPO / "config/paper.yaml"), str(overlay)])["batchnorm"]
    assert split.cpu_jobs == 24 and one.cpu_jobs == 1 and one.largest_job_share == 1.0
    assert split.cpu_core_seconds(budget.Paths()) == one.cpu_core_seconds(budget.Paths()) > 10_000
    assert one.cpu_wall_seconds(budget.Paths(), threads=4) == one.cpu_core_seconds(budget.Paths()) / 4
    assert 1 / 24 < split.largest_job_share < 1.5 / 24  # balanced: within 50 % of an even share
    assert split.cpu_wall_seconds(budget.Paths(), threads=4) == split.cpu_core_seconds(budget.Paths()) / 16
    # isometry: its SGD job holds nearly all its work, so the family's wall is that job's on 4 cores, not half of it.
    isometry = estimates["config/paper.yaml"]["isometry"]
    assert isometry.cpu_jobs == 2 and isometry.largest_job_share > 0.99
    assert isometry.cpu_wall_seconds(budget.Paths(), threads=4) == pytest.approx(
        isometry.cpu_core_seconds(budget.Paths()) * isometry.largest_job_share / 4)
