"""The README's recovery recipe, as a user meets it: `kill -9` of Snakemake during a training job, then the same
command with --unlock, then the same command again. The killed Snakemake's job runs on and writes its tables, which
Snakemake had marked incomplete; the default profile (profiles/default, loaded by every command) reruns them, and
the tables equal those of an uninterrupted run (the session's smoke run: same config, same seed)."""

import os
import signal
import subprocess
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

from dltheory.io import read_table
from tests.conftest import BIN, ROOT, make_workdir

pytestmark = pytest.mark.slow


def _group_alive(group: int) -> bool:
    """Whether a process of ``group`` still runs (zombies aside): the killed Snakemake's orphaned job."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            state, _, pgrp = stat.read_text().rsplit(")", 1)[1].split()[:3]
        except (OSError, ValueError):
            continue
        if int(pgrp) == group and state != "Z":
            return True
    return False


def _wait(condition, what, seconds=180):
    deadline = time.time() + seconds
    while not condition():
        assert time.time() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def _tables(folder: Path) -> dict[str, Path]:
    return {str(p.relative_to(folder)): p for p in sorted((folder / "results").rglob("*.parquet"))
            if "benchmarks" not in p.parts}


def test_kill_9_then_unlock_and_the_same_command_gives_the_uninterrupted_tables(smoke_run, tmp_path):
    variant = yaml.safe_load((ROOT / "config/smoke.yaml").read_text())["gan"]["variants"][0]
    target = f"results/gan/runs/toy/{variant}.metrics.parquet"
    workdir = make_workdir(tmp_path)
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    command = [str(BIN / "snakemake"), "--snakefile", str(ROOT / "Snakefile"), "--directory", str(workdir),
               "--cores", "1", target, "--configfile", "config/smoke.yaml"]

    process = subprocess.Popen(command, cwd=workdir, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    log = workdir / f"logs/gan/train/toy/{variant}.log"
    _wait(lambda: log.exists() and " models, " in log.read_text(), "the training job to start training")
    os.kill(process.pid, signal.SIGKILL)  # Snakemake only, as `kill -9 <pid>`: its job runs on, orphaned
    process.wait()
    _wait(lambda: not _group_alive(process.pid), "the orphaned training job to end")
    # The orphan wrote its tables; Snakemake had marked them incomplete (without the profile's rerun-incomplete,
    # the same command stops here with IncompleteFilesException), and left its lock.
    assert (workdir / target).exists() and any((workdir / ".snakemake/incomplete").rglob("*"))
    assert any((workdir / ".snakemake/locks").iterdir())

    for step in ([*command, "--unlock"], command):  # the README's recipe
        result = subprocess.run(step, cwd=workdir, env=env, capture_output=True, text=True, timeout=600)
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "Using workflow specific profile" in result.stderr
    assert "rule gan_train" in result.stdout + result.stderr  # the incomplete job ran again, not trusted

    tables = _tables(workdir)
    assert sorted(tables) == sorted([target, target.replace(".metrics.", ".samples.")])
    for name, path in tables.items():
        pd.testing.assert_frame_equal(read_table(path), read_table(smoke_run / name), check_exact=True)
    assert not [p for p in (workdir / ".snakemake/incomplete").rglob("*") if p.is_file()]
