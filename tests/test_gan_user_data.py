"""A user's own 2-D target for the GAN family (issue 22): a Gaussian mixture given by centres, stds and weights, or
the points of a CSV; checked when the config is read, with errors that name the key and the file."""

import numpy as np
import pandas as pd
import pytest
import yaml

from dltheory.gan.data import gaussian_mixture, mixture_modes, read_points
from dltheory.gan.metrics import mode_statistics
from dltheory.gan.settings import GanMixture, GanSettings
from dltheory.io import read_table
from dltheory.settings import SettingsError, from_config
from tests.conftest import ROOT, make_workdir, snakemake

CENTRES = np.array([[0.0, 0.0], [3.0, 0.0], [0.0, 3.0]])


def _points_csv(path, n=300, with_mode=True, seed=0):
    """``n`` points of three modes (stds 0.05, 0.1, 0.2) as x, y[, mode]."""
    points, labels = gaussian_mixture(n, np.random.default_rng(seed), CENTRES, np.array([0.05, 0.1, 0.2]))
    table = pd.DataFrame({"x": points[:, 0], "y": points[:, 1]})
    if with_mode:
        table["mode"] = labels
    table.to_csv(path, index=False)
    return path


def _gan_section(**changes) -> dict:
    section = yaml.safe_load((ROOT / "config/smoke.yaml").read_text())["gan"]
    section["digits"]["enabled"] = False
    for key, value in changes.items():
        section[key] = value
    return section


def test_weights_give_each_mode_its_share_and_per_mode_stds_their_spread():
    weights = np.array([0.5, 0.3, 0.2])
    stds = np.array([0.01, 0.1, 1.0])
    points, labels = gaussian_mixture(1000, np.random.default_rng(3), CENTRES, stds, weights)
    assert np.bincount(labels).tolist() == [500, 300, 200]
    spread = [np.sqrt(((points[labels == k] - CENTRES[k]) ** 2).mean()) for k in range(3)]
    assert np.allclose(spread, stds, rtol=0.15)
    # Points within 3 of their own mode's std count; the same points against the smallest std for all do not.
    assert mode_statistics(points, CENTRES, stds)["high_quality_fraction"] > 0.95
    assert mode_statistics(points, CENTRES, 0.01)["high_quality_fraction"] < 0.6


def test_a_csv_with_a_mode_column_gives_each_mode_its_centre_and_std(tmp_path):
    path = _points_csv(tmp_path / "points.csv", n=3000)
    centres, stds, points = mixture_modes(GanMixture(csv=str(path)))
    assert points.shape == (3000, 2)
    assert np.allclose(centres, CENTRES, atol=0.03)
    assert np.allclose(stds, [0.05, 0.1, 0.2], rtol=0.1)


@pytest.mark.parametrize("content, message", [
    (None, "no such file"),
    ("a,b\n1,2\n", "no column 'x'"),
    ("x,y\n" + "1,2\n" * 50 + "1,oops\n" + "1,2\n" * 60, "column 'y', line 52: 'oops' is not a finite number"),
    ("x,y\n" + "1,2\n" * 20, "20 points; a 2-D target needs at least 100"),
    ("x,y,mode\n" + "1,2,0\n" * 100 + "1,2,-1\n", "column 'mode', line 102: '-1' is not a non-negative integer"),
    ("", "not a readable CSV"),
])
def test_a_bad_points_file_is_refused_naming_the_file_and_the_line(tmp_path, content, message):
    path = tmp_path / "points.csv"
    if content is not None:
        path.write_text(content)
    with pytest.raises(ValueError, match=str(path)) as error:
        read_points(path)
    assert message in str(error.value)


@pytest.mark.parametrize("mixtures, toy, message", [
    ({"mine": {"centres": [[0, 0], [1]], "std": 0.1}}, ["mine"], "gan.mixtures.mine.centres: expected a list of"),
    ({"mine": {"centres": [[0, 0]], "std": [0.1, 0.2]}}, ["mine"], "gan.mixtures.mine.std: expected one positive"),
    ({"mine": {"centres": [[0, 0], [1, 1]], "std": 0.1, "weights": [1, 0]}}, ["mine"],
     "gan.mixtures.mine.weights: expected one positive number per centre (2)"),
    ({"mine": {"std": 0.1}}, ["mine"], "gan.mixtures.mine.centres: a mixture needs centres and std"),
    ({"mine": {"csv": "absent.csv"}}, ["mine"], "gan.mixtures.mine.csv: absent.csv: no such file"),
    ({"ring": {"centres": [[0, 0]], "std": 0.1}}, ["ring"], "gan.mixtures.ring: the name of a built-in dataset"),
    ({}, ["ring", "mine"], "gan.toy.datasets: 'mine' is neither a built-in 2-D dataset"),
    ({"mine": {"centres": [[0, 0]], "std": 0.1}}, ["mine"],
     "gan.convergence.w1_ratio: no threshold for dataset 'mine'"),
])
def test_a_bad_mixture_is_refused_naming_its_key(mixtures, toy, message):
    section = _gan_section(mixtures=mixtures)
    section["toy"] = {**section["toy"], "datasets": toy, "trajectory": None}
    with pytest.raises(SettingsError) as error:
        from_config(GanSettings, section, "gan")
    assert message in str(error.value)


def test_a_csv_without_modes_needs_centres_to_score_against(tmp_path):
    path = _points_csv(tmp_path / "points.csv", with_mode=False)
    with pytest.raises(ValueError, match="a mixture needs centres and std"):
        GanMixture(csv=str(path))
    centres, std, points = mixture_modes(GanMixture(csv=str(path), centres=CENTRES.tolist(), std=0.1))
    assert std == 0.1 and np.array_equal(centres, CENTRES) and len(points) == 300


@pytest.mark.slow
def test_the_gan_family_trains_and_reports_on_a_users_csv_and_mixture(tmp_path):
    """Through the pipeline: a CSV target (modes from its mode column) and a weighted mixture, trained, collected and
    analysed by the notebook; a bad CSV stops Snakemake before any job, naming the key and the file."""
    workdir = make_workdir(tmp_path)
    _points_csv(workdir / "points.csv", n=400)
    config = yaml.safe_load((ROOT / "config/smoke.yaml").read_text())
    for family, section in config.items():
        if isinstance(section, dict) and "enabled" in section and family != "gan":
            section["enabled"] = False
    gan = config["gan"]
    gan.update(variants=["sn_gp"], activations=["relu"], learning_rates={"adam": [0.001]}, seeds=1)
    gan["mixtures"] = {"mine": {"csv": "points.csv"},
                       "blobs": {"centres": [[-2, 0], [2, 0]], "std": 0.1, "weights": [3, 1]}}
    gan["toy"].update(datasets=["mine", "blobs"], steps=20, trajectory={"dataset": "mine", "optimizer": "adam",
                                                                        "learning_rate": 0.001})
    gan["sanity"].update(dataset="mine", seeds=1, steps=10)
    gan["digits"]["enabled"] = False
    gan["claims"]["min_seeds"] = 1
    for key in ("w1_ratio", "coverage"):
        gan["convergence"][key].update(mine=0.5, blobs=0.5)
    (workdir / "config/user.yaml").write_text(yaml.safe_dump(config))

    snakemake(workdir, "results/gan/claims.json", "--configfile", "config/user.yaml")
    metrics = read_table(workdir / "results/gan/gan.parquet")
    coverage = metrics[metrics["metric"] == "mode_coverage"]
    assert set(coverage["dataset"]) == {"mine", "blobs"}
    assert coverage["value"].dropna().between(0, 1).all() and coverage["value"].notna().any()
    assert (workdir / "results/gan/figures/samples_2d.png").stat().st_size > 0

    (workdir / "points.csv").write_text("x,y\n1,2\n")
    result = snakemake(workdir, "results/gan/claims.json", "--configfile", "config/user.yaml", check=False)
    assert result.returncode != 0
    assert "'gan.mixtures.mine.csv': points.csv: 1 points; a 2-D target needs at least 100" in result.stderr
