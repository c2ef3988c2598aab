"""Shared fixtures: one smoke run of the whole pipeline per test session, in a temporary directory."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def snakemake(workdir: Path, *args: str, check: bool = True, timeout: int = 600) -> subprocess.CompletedProcess:
    """Run the project's Snakefile with outputs under ``workdir`` (the venv's tools first on PATH)."""
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    command = [str(BIN / "snakemake"), "--snakefile", str(ROOT / "Snakefile"), "--directory", str(workdir),
               "--cores", "2", *args]
    result = subprocess.run(command, cwd=workdir, env=env, capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(f"snakemake {' '.join(args)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-6000:]}")
    return result


def make_workdir(base: Path) -> Path:
    """A fresh directory for outputs, with the project's configs (the Snakefile loads config/config.yaml)."""
    for folder in ("config",):
        shutil.copytree(ROOT / folder, base / folder)
    return base


@pytest.fixture(scope="session")
def smoke_run(tmp_path_factory) -> Path:
    workdir = make_workdir(tmp_path_factory.mktemp("smoke"))
    snakemake(workdir, "--configfile", "config/smoke.yaml")
    return workdir
