"""What made an output: the config (by hash), the code (by git commit and version), the packages."""

import hashlib
import json
import platform
import subprocess
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

import dltheory

TRACKED_PACKAGES = ("torch", "numpy", "scipy", "scikit-learn", "pandas", "matplotlib", "seaborn", "snakemake")


def config_hash(config: dict) -> str:
    """Short SHA-256 of the config, independent of key order."""
    canonical = json.dumps(config, sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:12]


def git_commit(where: str | Path | None = None) -> str:
    """Commit of the checkout that holds the package (``-dirty`` when it has uncommitted changes)."""
    where = Path(where) if where else Path(dltheory.__file__).resolve().parent
    try:
        commit = subprocess.run(
            ["git", "-C", str(where), "rev-parse", "--short=12", "HEAD"],
            capture_output=True, text=True, check=True, timeout=10,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(where), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True, text=True, check=True, timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return f"{commit}-dirty" if dirty else commit


def package_versions() -> dict[str, str]:
    versions = {"python": platform.python_version(), "dltheory": dltheory.__version__}
    for name in TRACKED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "absent"
    return versions


def provenance_record(config: dict) -> dict:
    """Provenance stored with every table and shown in the report beside every figure."""
    return {
        "config_hash": config_hash(config),
        "git_commit": git_commit(),
        "versions": package_versions(),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def file_sha256(path: str | Path) -> str:
    """SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def figure_sidecar(figure: str | Path, inputs: dict[str, str | Path], config: dict, drawn_by: str,
                   benchmarks: str | Path | None = None, **run) -> dict:
    """What made one figure, for the JSON beside its PNG: each input with its SHA-256, the config it was drawn with
    (and its hash), the notebook that drew it, the commit and package versions, ``run`` (seed, device) and the
    summed wall time of the family's jobs (Snakemake's benchmark files under ``benchmarks``, when given)."""
    seconds, jobs = 0.0, 0
    for table in sorted(Path(benchmarks).rglob("*.tsv")) if benchmarks and Path(benchmarks).is_dir() else []:
        rows = table.read_text().splitlines()
        if len(rows) > 1:
            seconds += float(rows[-1].split("\t")[0])
            jobs += 1
    return {
        "figure": str(figure),
        "drawn_by": drawn_by,
        "inputs": {name: {"path": str(path), "sha256": file_sha256(path)} for name, path in sorted(inputs.items())},
        "config": config,
        "config_hash": config_hash(config),
        "git_commit": git_commit(),
        "versions": package_versions(),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "jobs": {"count": jobs, "wall_seconds": round(seconds, 1)},
        **run,
    }
