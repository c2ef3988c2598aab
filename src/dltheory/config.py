"""Config validation: the JSON schema first, then the checks a schema cannot express.

Runs in the Snakefile before any job, so a bad config never costs computed results. Every error
names the key, as a dotted path (``nonsmooth.targets[1].alpha``).
"""

import dataclasses
import functools
from collections.abc import Mapping
from pathlib import Path

import jsonschema
import yaml


class ConfigError(ValueError):
    """The config is invalid; the message starts with the offending key."""


def _key_path(parts) -> str:
    path = ""
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "<top level>"


def _with_defaults(validator_class):
    # Fill "default" values into objects while validating, as Snakemake's own validate does.
    validate_properties = validator_class.VALIDATORS["properties"]

    def set_defaults(validator, properties, instance, schema):
        if isinstance(instance, dict):
            for name, subschema in properties.items():
                if "default" in subschema and name not in instance:
                    default = subschema["default"]
                    instance[name] = dict(default) if isinstance(default, dict) else default
        yield from validate_properties(validator, properties, instance, schema)

    return jsonschema.validators.extend(validator_class, {"properties": set_defaults})


def dataclass_from_mapping(cls, values: Mapping, what: str):
    """An instance of the dataclass ``cls`` from a config mapping (lists become tuples); a key that is not one of
    its fields is an error naming the key, ``what`` the thing being set ("CGNN", "Meta-CGNN")."""
    known = {field.name for field in dataclasses.fields(cls)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ValueError(f"{what} has no setting {unknown[0]!r}; known: {sorted(known)}")
    return cls(**{key: tuple(value) if isinstance(value, list) else value for key, value in values.items()})


def load_schema(path: str | Path) -> dict:
    return yaml.safe_load(Path(path).read_text())


def validate_config(config: dict, schema: Mapping) -> dict:
    """Check ``config`` in place against ``schema`` (filling defaults) and the cross-key rules."""
    validator = _with_defaults(jsonschema.Draft7Validator)(schema)
    error = jsonschema.exceptions.best_match(validator.iter_errors(config))
    if error is not None:
        raise ConfigError(f"config key '{_key_path(error.absolute_path)}': {error.message}")
    _check_nonsmooth(config["nonsmooth"])
    if "region" in config:
        _check_region(config["region"])
    if "intrinsic" in config:
        _check_intrinsic(config["intrinsic"])
    if "gan" in config:
        _check_gan(config["gan"])
    if "causal" in config:
        _check_causal(config["causal"])
    _check_geometry(config)
    return config


def _check_nonsmooth(section: dict) -> None:
    # Imported here so that schema checks work without the science modules loaded.
    from dltheory.nonsmooth.estimators import make_estimator
    from dltheory.nonsmooth.targets import target_from_config

    names = [t["name"] for t in section["targets"]]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ConfigError(f"config key 'nonsmooth.targets': duplicate target names {duplicates}")
    for i, spec in enumerate(section["targets"]):
        try:
            target_from_config(spec)
        except ValueError as error:
            raise ConfigError(f"config key 'nonsmooth.targets[{i}]' ({spec['name']}): {error}") from error
    _check_constructor_params("nonsmooth.estimator_params", section.get("estimator_params", {}), make_estimator)


def _check_region(section: dict) -> None:
    from dltheory.nonsmooth.estimators import make_estimator
    from dltheory.nonsmooth.targets import region_cell_specs, target_from_config

    for name, spec in region_cell_specs(section).items():
        try:
            target_from_config(spec)
        except ValueError as error:
            raise ConfigError(f"config key 'region' (cell {name}): {error}") from error
    _check_constructor_params("region.estimator_params", section.get("estimator_params", {}), make_estimator)


def _check_intrinsic(section: dict) -> None:
    from dltheory.intrinsic.estimators import make_intrinsic_baseline

    sphere, balls = section["sphere"], section["balls"]
    for d in sphere["intrinsic_dims"]:
        if d + 1 > sphere["ambient_dim"]:
            raise ConfigError(f"config key 'intrinsic.sphere.intrinsic_dims': a {d}-sphere needs {d + 1} "
                              f"ambient dimensions, ambient_dim is {sphere['ambient_dim']}")
    for d in balls["intrinsic_dims"]:
        if d > balls["ambient_dim"]:
            raise ConfigError(f"config key 'intrinsic.balls.intrinsic_dims': {d} exceeds ambient_dim "
                              f"{balls['ambient_dim']}")
    _check_constructor_params("intrinsic.balls.baseline_params", balls.get("baseline_params", {}),
                              make_intrinsic_baseline)


def gan_datasets(section: dict) -> list[str]:
    """The datasets a GAN section trains on: the toy part's 2-D mixtures, then digits when enabled."""
    datasets = list(section["toy"].get("datasets", ["ring", "grid"]))
    if section.get("digits", {}).get("enabled", False):
        datasets.append("digits")
    return datasets


def _check_gan(section: dict) -> None:
    for key in ("step_size_threshold", "w1_threshold"):
        missing = [name for name in gan_datasets(section) if name not in section["convergence"][key]]
        if missing:
            raise ConfigError(f"config key 'gan.convergence.{key}': no threshold for dataset {missing[0]!r}")
    for part in ("toy", "digits"):
        trajectory = section.get(part, {}).get("trajectory")
        if not trajectory:
            continue
        datasets = section[part].get("datasets", ["digits"]) if part == "toy" else ["digits"]
        if trajectory["dataset"] not in datasets:
            raise ConfigError(f"config key 'gan.{part}.trajectory.dataset': {trajectory['dataset']!r} is not "
                              f"among this part's datasets {datasets}")
        if not any(abs(trajectory["learning_rate"] - lr) <= 1e-12 * lr for lr in section["learning_rates"]):
            raise ConfigError(f"config key 'gan.{part}.trajectory.learning_rate': {trajectory['learning_rate']} "
                              f"is not one of gan.learning_rates {section['learning_rates']}")


def _check_causal(section: dict) -> None:
    """Build every method's settings and Meta-CGNN's, so a bad setting fails before any job, naming its key."""
    from dltheory.causal.evaluation import baseline_scorer, cgnn_settings
    from dltheory.causal.meta import settings_from_mapping

    checks = [("causal.meta_cgnn.model", lambda: settings_from_mapping(section["meta_cgnn"]["model"])),
              ("causal.timing.cgnn_settings", lambda: cgnn_settings(section["timing"].get("cgnn_settings", {})))]
    for name, method in section["methods"].items():
        settings = method.get("settings", {})
        if name == "cgnn":
            checks.append((f"causal.methods.{name}.settings", functools.partial(cgnn_settings, settings)))
        elif name != "meta_cgnn":
            checks.append((f"causal.methods.{name}.settings", functools.partial(baseline_scorer, name, settings)))
        elif settings:
            checks.append((f"causal.methods.{name}.settings",
                           functools.partial(_fail, "Meta-CGNN's settings live in causal.meta_cgnn.model")))
    for key, check in checks:
        try:
            check()
        except (ValueError, TypeError) as error:
            raise ConfigError(f"config key '{key}': {error}") from error


def _check_geometry(config: dict) -> None:
    """Fill each geometry family's settings from its module's DEFAULTS; an unknown key or bad value fails here."""
    from dltheory.geometry import batchnorm, isometry, natgrad, spectra

    settings = {"batchnorm": batchnorm.check_section, "natgrad": natgrad.check_section,
                "spectra": spectra.spectra_settings, "isometry": isometry.isometry_settings}
    for family, check in settings.items():
        if family in config:
            try:
                check({key: value for key, value in config[family].items() if key != "enabled"})
            except (ValueError, TypeError, KeyError) as error:
                raise ConfigError(f"config key '{family}': {error}") from error


def _fail(message: str) -> None:
    raise ValueError(message)


def _check_constructor_params(key: str, params_by_name: dict, make) -> None:
    """Build every named estimator with its configured arguments, so a bad argument fails before any job."""
    for name, params in params_by_name.items():
        try:
            make(name, params)
        except (ValueError, TypeError) as error:
            raise ConfigError(f"config key '{key}.{name}': {error}") from error
