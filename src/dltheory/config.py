"""Config validation: the JSON schema first, then every enabled family's settings dataclass.

Runs in the Snakefile before any job, so a bad config never costs computed results. Every error names the key, as a
dotted path (``nonsmooth.targets[1].alpha``). The schema holds names, types, ranges and enums; defaults and the
checks a schema cannot express live in each family's settings dataclass (``dltheory.<family>.settings``), built by
:func:`dltheory.settings.from_config`. No family imports this module.
"""

import importlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import jsonschema
import yaml

from dltheory.settings import SettingsError, from_config

# Every family, in the report's order: its settings dataclass as (module, class). The modules are torch-free.
FAMILIES = {
    "nonsmooth": ("dltheory.nonsmooth.settings", "NonsmoothSettings"),
    "region": ("dltheory.nonsmooth.settings", "RegionSettings"),
    "intrinsic": ("dltheory.intrinsic.settings", "IntrinsicSettings"),
    "gan": ("dltheory.gan.settings", "GanSettings"),
    "causal": ("dltheory.causal.settings", "CausalSettings"),
    "batchnorm": ("dltheory.geometry.settings", "BatchnormSettings"),
    "natgrad": ("dltheory.geometry.settings", "NatgradSettings"),
    "spectra": ("dltheory.geometry.settings", "SpectraSettings"),
    "isometry": ("dltheory.geometry.settings", "IsometrySettings"),
    "embedding": ("dltheory.embedding.settings", "EmbeddingSettings"),
    "overparam": ("dltheory.overparam.settings", "OverparamSettings"),
    "resinit": ("dltheory.resinit.settings", "ResinitSettings"),
    "selfpaced": ("dltheory.selfpaced.settings", "SelfpacedSettings"),
}


class ConfigError(ValueError):
    """The config is invalid; the message starts with the offending key."""


@dataclass(frozen=True)
class ReportSettings:
    title: str = "dltheory: deep-learning theory, reproduced"


@dataclass(frozen=True)
class RunSettings:
    """The config's top-level keys that are not a family's section."""

    seed: int  # global seed; every job derives its own from it and the names of the job
    device: str = "auto"  # where neural networks train; auto picks CUDA when torch sees a GPU
    threads_per_job: int = 1  # torch and BLAS threads per job; Snakemake runs cores / threads_per_job jobs at once
    # where the linear estimators solve: auto = CUDA (float64 torch) when torch sees a GPU, else numpy/scipy
    linear_device: str = "auto"
    report: ReportSettings = field(default_factory=ReportSettings)


def settings_class(family: str) -> type:
    module, name = FAMILIES[family]
    return getattr(importlib.import_module(module), name)


def _key_path(parts) -> str:
    path = ""
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "<top level>"


def load_schema(path: str | Path) -> dict:
    # libyaml's loader where PyYAML has it: the 80 kB schema is read by every snakemake start (0.57 s in pure Python
    # against 0.08 s, measured on the 2-core machine), and the tests start snakemake about twenty times.
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(Path(path).read_text(), Loader=loader)  # noqa: S506 (a safe loader)


def load_config_file(path: str | Path) -> dict:
    """A config file's keys; a file that is missing, not YAML (the message gives its line and column), empty or not a
    mapping of keys raises :class:`ConfigError` naming it."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"config file {path}: cannot read it: {error}") from error
    try:
        config = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f", line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(error, "problem", None) or str(error)
        raise ConfigError(f"config file {path}{where}: not valid YAML: {problem}") from error
    if config is None:
        raise ConfigError(f"config file {path} is empty: it must hold the config's keys (see config/config.yaml)")
    if not isinstance(config, dict):
        raise ConfigError(f"config file {path}: its top level must be a mapping of keys (seed: ..., nonsmooth: ...), "
                          f"not a {type(config).__name__}")
    return config


def check_config_file(path: str | Path) -> str:
    """``path`` as a string once :func:`load_config_file` has read it: for the Snakefile's ``configfile:``, whose own
    loader names neither the file nor the line."""
    load_config_file(path)
    return str(path)


def enabled(config: Mapping, family: str) -> bool:
    return bool(config.get(family, {}).get("enabled", False))


def validate_config(config: Mapping, schema: Mapping) -> dict:
    """Check ``config`` against ``schema``, then build its settings: ``{"run": RunSettings, <family>: its settings
    dataclass}`` for every enabled family. Raises :class:`ConfigError` naming the key; ``config`` is not changed."""
    validator = jsonschema.Draft7Validator(schema)
    error = jsonschema.exceptions.best_match(validator.iter_errors(config))
    if error is not None:
        raise ConfigError(f"config key '{_key_path(error.absolute_path)}': {error.message}")
    settings = {"run": _build(RunSettings, {k: v for k, v in config.items() if k not in FAMILIES}, "")}
    for family in FAMILIES:
        if enabled(config, family):
            settings[family] = _build(settings_class(family), config[family], family)
    return settings


def _build(cls, values: Mapping, key: str):
    try:
        return from_config(cls, values, key)
    except SettingsError as error:
        path, _, message = str(error).partition(": ")
        raise ConfigError(f"config key '{path.lstrip('.') or '<top level>'}': {message}") from error


def family_settings(family: str, section: Mapping):
    """A family's settings dataclass from its config section (a notebook's ``section_json``)."""
    return from_config(settings_class(family), section, family)


def merged(base: Mapping, override: Mapping) -> dict:
    """``override`` on top of ``base``, mappings merged key by key and anything else replaced (as Snakemake merges
    config files)."""
    result = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(result.get(key), Mapping):
            result[key] = merged(result[key], value)
        else:
            result[key] = value
    return result


# The repository of an editable install (the Makefile's, and the conda environment's): its defaults and schema.
REPOSITORY = Path(__file__).resolve().parents[2]


def check_config_files(paths, repo: str | Path = REPOSITORY) -> dict:
    """What the workflow would make of ``--configfile PATHS...``: the repository's defaults, each file on top, then
    validation. For Snakemake (9.27) reads a ``--configfile`` before the workflow, with a message that names neither
    the file nor the line; this names both, or the key. Returns the settings (see :func:`validate_config`)."""
    repo = Path(repo)
    config = load_config_file(repo / "config/config.yaml")
    for path in paths:
        config = merged(config, load_config_file(path))
    return validate_config(config, load_schema(repo / "workflow/schemas/config.schema.yaml"))


def main(argv=None) -> int:
    """``python -m dltheory.config mine.yaml ...``: check config files before a run."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m dltheory.config", description=main.__doc__)
    parser.add_argument("configfiles", nargs="+", metavar="FILE", help="the files you pass to --configfile, in order")
    args = parser.parse_args(argv)
    try:
        settings = check_config_files(args.configfiles)
    except ConfigError as error:
        print(f"error: {error}")
        return 1
    print(f"ok: {', '.join(args.configfiles)} on the defaults; families on: {', '.join(list(settings)[1:]) or 'none'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
