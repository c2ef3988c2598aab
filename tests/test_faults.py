"""Faults: a killed training job leaves nothing half-written and its rerun gives the same numbers;
a corrupt input names the file; the same config and seed give identical tables."""

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest
import yaml

from dltheory.io import CorruptInputError, read_arrays, read_table
from tests.conftest import BIN, ROOT, make_workdir, snakemake

pytestmark = pytest.mark.slow
DNN_TABLE = "results/nonsmooth/runs/hard2d/dnn.parquet"


def _long_training_workdir(base):
    """Smoke config with DNN training long enough (a few seconds) to be killed in the middle."""
    workdir = make_workdir(base)
    config = yaml.safe_load((ROOT / "config/smoke.yaml").read_text())
    config["nonsmooth"]["dnn"].update(max_steps=4000, patience=1000, eval_every=20)
    (workdir / "config/config.yaml").write_text(yaml.safe_dump(config))
    return workdir


def test_killed_training_leaves_no_output_and_the_rerun_matches(tmp_path):
    reference = _long_training_workdir(tmp_path / "reference")
    snakemake(reference, DNN_TABLE)

    workdir = _long_training_workdir(tmp_path / "killed")
    snakemake(workdir, "results/nonsmooth/data/hard2d.npz")
    log = workdir / "logs/nonsmooth/train/hard2d/dnn.log"
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    process = subprocess.Popen(
        [str(BIN / "snakemake"), "--snakefile", str(ROOT / "Snakefile"), "--directory", str(workdir),
         "--cores", "1", DNN_TABLE],
        cwd=workdir, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    deadline = time.time() + 120
    while time.time() < deadline and not (log.exists() and "step 200:" in log.read_text()):
        time.sleep(0.2)
    assert "step 200:" in log.read_text(), "training never reached step 200"
    os.killpg(process.pid, signal.SIGKILL)  # the whole job, mid-training, as a node failure would
    process.wait()
    assert not (workdir / DNN_TABLE).exists()
    assert list((workdir / DNN_TABLE).parent.glob("*.partial")) == []

    # What a user does after a crash: release Snakemake's lock, rerun the same command.
    snakemake(workdir, "--unlock")
    snakemake(workdir, DNN_TABLE, "--rerun-incomplete")
    pd.testing.assert_frame_equal(read_table(workdir / DNN_TABLE), read_table(reference / DNN_TABLE))


def test_same_config_and_seed_give_identical_tables(smoke_run, tmp_path):
    again = make_workdir(tmp_path)
    snakemake(again, "results/nonsmooth/nonsmooth.parquet", "--configfile", "config/smoke.yaml")
    first = read_table(smoke_run / "results/nonsmooth/nonsmooth.parquet")
    second = read_table(again / "results/nonsmooth/nonsmooth.parquet")
    pd.testing.assert_frame_equal(first, second, check_exact=True)


def test_a_corrupt_data_file_is_named_in_the_error(tmp_path):
    workdir = make_workdir(tmp_path)
    snakemake(workdir, "results/nonsmooth/data/smooth2d.npz", "--configfile", "config/smoke.yaml")
    data = workdir / "results/nonsmooth/data/smooth2d.npz"
    data.write_bytes(data.read_bytes()[:200])  # truncated, as by a full disk
    result = snakemake(workdir, "results/nonsmooth/runs/smooth2d/knn.parquet", "--configfile", "config/smoke.yaml",
                       check=False)
    assert result.returncode != 0
    log = (workdir / "logs/nonsmooth/fit/smooth2d/knn.log").read_text()
    assert "cannot read arrays from results/nonsmooth/data/smooth2d.npz" in log
    assert not (workdir / "results/nonsmooth/runs/smooth2d/knn.parquet").exists()


def test_read_arrays_names_a_missing_array(tmp_path):
    path = tmp_path / "data.npz"
    np.savez(path, train_x=np.zeros(3))
    with pytest.raises(CorruptInputError, match=r"data\.npz lacks the arrays \['train_y'\]"):
        read_arrays(path, required=("train_x", "train_y"))


def test_read_table_names_a_corrupt_parquet_file(tmp_path):
    path = tmp_path / "runs.parquet"
    path.write_bytes(b"not parquet at all")
    with pytest.raises(CorruptInputError, match="runs.parquet"):
        read_table(path)


if __name__ == "__main__":
    sys.exit(pytest.main([__file__]))
