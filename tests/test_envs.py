"""envs/dltheory.yaml (`snakemake --sdm conda`) carries requirements.txt's pins itself and resolves wherever
Snakemake copies it (.snakemake/conda/), so a conda user gets the environment a pip user gets."""

import os
import re
import subprocess

import yaml

from tests.conftest import BIN, ROOT

ENV = yaml.safe_load((ROOT / "envs/dltheory.yaml").read_text())


def _pins(lines):
    """{name: version} of ``name==version`` lines (names compared as pip does: case and -/_ folded)."""
    pins = {}
    for line in lines:
        match = re.fullmatch(r"([A-Za-z0-9_.\-]+)==(\S+)", line.split("#")[0].strip())
        if match:
            pins[re.sub(r"[-_.]+", "-", match[1]).lower()] = match[2]
    return pins


def _pip_lines():
    return next(item["pip"] for item in ENV["dependencies"] if isinstance(item, dict))


def test_the_conda_environment_pins_what_requirements_txt_pins():
    requirements = [line for line in (ROOT / "requirements.txt").read_text().splitlines()
                    if line.strip() and not line.startswith("#")]
    assert len(_pins(requirements)) == len(requirements) > 20  # every requirement is an exact pin
    assert _pins(_pip_lines()) == _pins(requirements)
    assert _pins(_pip_lines())["torch"] == "2.13.0"
    assert [item for item in ENV["dependencies"] if not isinstance(item, dict)] == ["python=3.11", "pip"]
    # Nothing relative to the file (Snakemake reads a copy of it): the package comes from DLTHEORY_ROOT.
    others = [line for line in _pip_lines() if line not in requirements]
    assert others == ["-e ${DLTHEORY_ROOT}"]
    assert "os.environ.update(DLTHEORY_ROOT=str(REPO))" in (ROOT / "Snakefile").read_text()


def test_its_pip_section_resolves_from_where_snakemake_copies_it(tmp_path):
    """What conda does with the pip section: write it to a requirements file beside the copied env file and run pip
    there. Dry run, offline: every pin is satisfied by the test environment, and the package resolves."""
    copied = tmp_path / ".snakemake/conda"
    copied.mkdir(parents=True)
    (copied / "condaenv.requirements.txt").write_text("\n".join(_pip_lines()) + "\n")
    result = subprocess.run(
        [str(BIN / "python"), "-m", "pip", "install", "--dry-run", "--no-index", "--no-deps", "--no-build-isolation",
         "--disable-pip-version-check", "-r", "condaenv.requirements.txt"],
        cwd=copied, env={**os.environ, "DLTHEORY_ROOT": str(ROOT)}, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "Would install dltheory-0.1.0" in result.stdout
    assert result.stdout.count("Requirement already satisfied") == len(_pip_lines()) - 1
