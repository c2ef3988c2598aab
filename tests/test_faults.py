"""Faults: a killed training job leaves nothing half-written and its rerun gives the same numbers;
a corrupt input names the file; the same config and seed give identical tables."""

import contextlib
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
    """Smoke config with DNN training long enough (1,000 steps, a second or more) to be killed in the middle."""
    workdir = make_workdir(base)
    config = yaml.safe_load((ROOT / "config/smoke.yaml").read_text())
    config["nonsmooth"]["dnn"].update(max_steps=1000, patience=1000, eval_every=20)
    (workdir / "config/config.yaml").write_text(yaml.safe_dump(config))
    return workdir


def test_killed_training_leaves_no_output_and_the_rerun_matches(tmp_path):
    # The uninterrupted run first, in the same directory; then its table and log go, and the same job is killed.
    workdir = _long_training_workdir(tmp_path)
    snakemake(workdir, DNN_TABLE)
    reference = read_table(workdir / DNN_TABLE)
    log = workdir / "logs/nonsmooth/train/hard2d/dnn.log"
    (workdir / DNN_TABLE).unlink()
    log.unlink()

    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    process = subprocess.Popen(
        [str(BIN / "snakemake"), "--snakefile", str(ROOT / "Snakefile"), "--directory", str(workdir),
         "--cores", "1", DNN_TABLE],
        cwd=workdir, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    deadline = time.time() + 300
    while time.time() < deadline and process.poll() is None and not (log.exists() and "step 100:" in log.read_text()):
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError):  # gone already when it finished first (the assertion says so)
        os.killpg(process.pid, signal.SIGKILL)  # the whole job, mid-training, as a node failure would
    process.wait()
    text = log.read_text()
    assert "step 100:" in text and "step 1000:" not in text, "not killed during training:\n" + text[-2000:]
    assert not (workdir / DNN_TABLE).exists()
    assert list((workdir / DNN_TABLE).parent.glob("*.partial")) == []

    # What a user does after a crash (the README's recipe): release Snakemake's lock, rerun the same command.
    snakemake(workdir, DNN_TABLE, "--unlock")
    snakemake(workdir, DNN_TABLE)
    assert "step 1000:" in log.read_text()
    pd.testing.assert_frame_equal(read_table(workdir / DNN_TABLE), reference, check_exact=True)


def test_same_config_and_seed_give_identical_tables(smoke_started, tmp_path):
    # Every estimator of the smoke config (and the references) on one target, run again in a fresh directory
    # while the session's smoke run goes on; then compared with it.
    methods = [*yaml.safe_load((ROOT / "config/smoke.yaml").read_text())["nonsmooth"]["estimators"], "reference"]
    tables = [f"results/nonsmooth/runs/hard2d/{method}.parquet" for method in methods]
    again = make_workdir(tmp_path)
    snakemake(again, *tables, "--configfile", "config/smoke.yaml")
    smoke_run = smoke_started.wait()
    assert len(tables) == 7
    for table in tables:
        first, second = read_table(smoke_run / table), read_table(again / table)
        pd.testing.assert_frame_equal(first, second, check_exact=True, obj=table)
    first = read_arrays(smoke_run / "results/nonsmooth/data/hard2d.npz")
    second = read_arrays(again / "results/nonsmooth/data/hard2d.npz")
    arrays = sorted(set(first) - {"provenance"})  # the provenance records when the file was written
    assert sorted(second) == sorted(first) and "train_y" in arrays
    for name in arrays:
        np.testing.assert_array_equal(first[name], second[name], err_msg=name, strict=True)


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
