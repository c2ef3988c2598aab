"""Shared fixtures: one smoke run of the whole pipeline per test session, in a temporary directory.

The smoke run starts in the background when the session starts (if any selected test reads it), and the tests that
read it run last: the unit tests and the pipeline tests of their own run meanwhile, on the cores it leaves idle.
"""

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

# The tests' own torch and BLAS work runs on one thread: the smoke run keeps the other cores busy, and OpenMP threads
# that spin for a core another process holds slowed one CGNN test from 20 s to 344 s. Set before any test imports
# torch (which reads it once); the pipelines' jobs cap their own threads.
for _variable in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
SMOKE_TIMEOUT = 1800  # seconds; about 220 on 2 idle cores, several times that on a shared machine
CORES = str(min(max(os.cpu_count() or 2, 2), 8))  # every job runs one thread


def _command(workdir: Path, *args: str) -> tuple[list[str], dict]:
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    command = [str(BIN / "snakemake"), "--snakefile", str(ROOT / "Snakefile"), "--directory", str(workdir),
               "--cores", CORES, *args]
    return command, env


def snakemake(workdir: Path, *args: str, check: bool = True, timeout: int = 600) -> subprocess.CompletedProcess:
    """Run the project's Snakefile with outputs under ``workdir`` (the venv's tools first on PATH)."""
    command, env = _command(workdir, *args)
    result = subprocess.run(command, cwd=workdir, env=env, capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(f"snakemake {' '.join(args)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-6000:]}")
    return result


def make_workdir(base: Path) -> Path:
    """A fresh directory for outputs, with the project's configs (the Snakefile loads config/config.yaml)."""
    for folder in ("config",):
        shutil.copytree(ROOT / folder, base / folder)
    return base


class SmokeRun:
    """The whole DAG on config/smoke.yaml, running in the background in ``workdir``; :meth:`wait` returns the
    workdir once it has finished, or fails with the tail of Snakemake's output."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.started = time.time()
        command, env = _command(workdir, "--configfile", "config/smoke.yaml")
        self.output = [workdir.parent / f"{workdir.name}.{stream}" for stream in ("stdout", "stderr")]
        with open(self.output[0], "w") as stdout, open(self.output[1], "w") as stderr:
            self.process = subprocess.Popen(command, cwd=workdir, env=env, stdout=stdout, stderr=stderr,
                                            start_new_session=True)

    def wait(self) -> Path:
        try:
            returncode = self.process.wait(timeout=max(1.0, self.started + SMOKE_TIMEOUT - time.time()))
        except subprocess.TimeoutExpired:
            self.stop()
            raise AssertionError(f"the smoke run took more than {SMOKE_TIMEOUT} s") from None
        if returncode != 0:
            stdout, stderr = (path.read_text() for path in self.output)
            raise AssertionError(f"the smoke run failed:\n{stdout[-3000:]}\n{stderr[-6000:]}")
        return self.workdir

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)  # Snakemake and its jobs (their own session)
            self.process.wait()


def _smoke_order(item) -> int:
    """0: does not read the smoke run; 1: does work of its own first (smoke_started); 2: reads it at once."""
    names = getattr(item, "fixturenames", ())
    return 2 if "smoke_run" in names else 1 if "smoke_started" in names else 0


def pytest_collection_modifyitems(items):
    # The tests that wait for the smoke run go last (in their order), so that the others run while it runs.
    items.sort(key=_smoke_order)


@pytest.fixture(scope="session", autouse=True)
def _smoke_in_background(request, tmp_path_factory):
    """Start the smoke run as the session starts, when a selected test reads it; stop it if the session ends first."""
    if not any(_smoke_order(item) for item in request.session.items):
        yield None
        return
    run = SmokeRun(make_workdir(tmp_path_factory.mktemp("smoke")))
    yield run
    run.stop()


@pytest.fixture(scope="session")
def smoke_started(_smoke_in_background) -> SmokeRun:
    """The smoke run, perhaps still running: for a test that has work of its own to do before it reads it."""
    return _smoke_in_background


@pytest.fixture(scope="session")
def smoke_run(smoke_started) -> Path:
    """The working directory of the finished smoke run (config/smoke.yaml, every target)."""
    return smoke_started.wait()
