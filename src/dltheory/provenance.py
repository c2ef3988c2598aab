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
