"""One form for every family's settings: frozen dataclasses built from a config mapping by :func:`from_config`.

The dataclass is the one home of a setting's default; the JSON schema (``workflow/schemas/config.schema.yaml``)
holds its name, type, range and enum, and ``tests/test_settings.py`` fails when the two list different keys.

A field that only the analysis reads (claim thresholds, convergence criteria) is declared with
:func:`analysis_field`. :func:`job_config` leaves those fields out, so the training and measuring jobs never see
them, and a changed threshold reruns the notebook alone (Snakemake's params trigger compares what a job got).

Torch-free on purpose: the Snakefile builds every family's settings before any job runs.
"""

import dataclasses
import types
import typing
from collections.abc import Mapping
from functools import cache

ANALYSIS = "analysis"  # the metadata key of an analysis-only field


class SettingsError(ValueError):
    """A setting is unknown, missing or invalid; the message starts with its dotted key."""


def analysis_field(*, default=dataclasses.MISSING, default_factory=dataclasses.MISSING):
    """A dataclass field read only by the analysis (notebook), never by a training or measuring job."""
    return dataclasses.field(default=default, default_factory=default_factory, metadata={ANALYSIS: True})


def is_analysis(field: dataclasses.Field) -> bool:
    return bool(field.metadata.get(ANALYSIS, False))


@cache
def _hints(cls) -> dict:
    return typing.get_type_hints(cls)


def _dataclass_in(annotation):
    """The dataclass an annotation names, alone or as ``X | None``; else None."""
    if dataclasses.is_dataclass(annotation):
        return annotation
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        members = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        if len(members) == 1 and dataclasses.is_dataclass(members[0]):
            return members[0]
    return None


def _mapping_of_dataclass(annotation):
    """``V`` when the annotation is ``dict[str, V]`` (or a Mapping) with ``V`` a dataclass; else None."""
    if typing.get_origin(annotation) in (dict, Mapping):
        args = typing.get_args(annotation)
        if len(args) == 2 and dataclasses.is_dataclass(args[1]):
            return args[1]
    return None


def _tuples(value):
    """Lists (at any depth) become tuples, so that a frozen settings object holds no mutable sequence."""
    if isinstance(value, list | tuple):
        return tuple(_tuples(item) for item in value)
    return value


def _convert(annotation, value, key: str):
    nested = _dataclass_in(annotation)
    if nested is not None and isinstance(value, Mapping):
        return from_config(nested, value, key)
    item_class = _mapping_of_dataclass(annotation)
    if item_class is not None and isinstance(value, Mapping):
        return {name: from_config(item_class, item, f"{key}.{name}") for name, item in value.items()}
    if nested is not None and value is not None and not dataclasses.is_dataclass(value):
        raise SettingsError(f"{key}: expected a mapping, got {type(value).__name__}")
    if isinstance(value, Mapping):
        return dict(value)
    return _tuples(value)


def from_config(cls, values: Mapping | None, key: str):
    """An instance of the settings dataclass ``cls`` from a config mapping.

    Missing keys take the dataclass's defaults; nested dataclass fields are built from nested mappings (and a
    ``dict[str, X]`` field from a mapping of mappings); lists become tuples; values are kept as given otherwise.
    An unknown or missing key, or a value the class's ``__post_init__`` rejects, raises :class:`SettingsError`
    whose message starts with the dotted key (``key`` is this mapping's own, e.g. ``"gan.toy"``).
    """
    if isinstance(values, cls):
        return values
    values = {} if values is None else values
    if not isinstance(values, Mapping):
        raise SettingsError(f"{key}: expected a mapping of settings, got {type(values).__name__}")
    fields = {field.name: field for field in dataclasses.fields(cls) if field.init}
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise SettingsError(f"{key}.{unknown[0]}: no such setting; known: {sorted(fields)}")
    missing = [name for name, field in fields.items() if name not in values
               and field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING]
    if missing:
        raise SettingsError(f"{key}.{missing[0]}: required setting is missing")
    hints = _hints(cls)
    arguments = {name: _convert(hints[name], value, f"{key}.{name}") for name, value in values.items()}
    try:
        return cls(**arguments)
    except SettingsError:
        raise
    except (ValueError, TypeError) as error:
        # A check that names its own field ("sizes: ...", "convergence.window: ...") is prefixed with this key.
        message = str(error)
        head = message.split(":", 1)[0].split(".", 1)[0].split("[", 1)[0]
        raise SettingsError(f"{key}.{message}" if head in fields else f"{key}: {message}") from error


def _plain(value, keep_analysis: bool):
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {field.name: _plain(getattr(value, field.name), keep_analysis) for field in dataclasses.fields(value)
                if keep_analysis or not is_analysis(field)}
    if isinstance(value, Mapping):
        return {name: _plain(item, keep_analysis) for name, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item, keep_analysis) for item in value]
    return value


def to_config(settings) -> dict:
    """Every setting as plain data (dicts, lists, numbers, strings): what a notebook gets as JSON."""
    return _plain(settings, keep_analysis=True)


def job_config(settings) -> dict:
    """The settings without the analysis-only fields (at any depth): what a training or measuring job gets."""
    return _plain(settings, keep_analysis=False)


def analysis_keys(cls, prefix: str = "") -> list[str]:
    """Dotted paths of the analysis-only fields of ``cls``, at any depth (for tests and documentation)."""
    keys = []
    hints = _hints(cls)
    for field in dataclasses.fields(cls):
        path = f"{prefix}.{field.name}" if prefix else field.name
        if is_analysis(field):
            keys.append(path)
            continue
        nested = _dataclass_in(hints[field.name])
        if nested is not None:
            keys += analysis_keys(nested, path)
    return keys


def schema_mismatches(cls, schema: Mapping, prefix: str, definitions: Mapping | None = None) -> list[str]:
    """Where the schema object ``schema`` and the settings dataclass ``cls`` list different keys, recursively
    through nested dataclass fields and ``dict[str, X]`` fields; one line per difference (empty: they agree)."""
    definitions = definitions or {}

    def resolve(node):
        while isinstance(node, Mapping) and "$ref" in node:
            node = definitions[node["$ref"].rsplit("/", 1)[-1]]
        return node

    schema = resolve(schema)
    properties = schema.get("properties", {})
    names = {field.name for field in dataclasses.fields(cls) if field.init}
    problems = [f"{prefix}.{name}: in the schema, not in {cls.__name__}" for name in sorted(set(properties) - names)]
    problems += [f"{prefix}.{name}: in {cls.__name__}, not in the schema" for name in sorted(names - set(properties))]
    hints = _hints(cls)
    for name in sorted(names & set(properties)):
        node = resolve(properties[name])
        nested = _dataclass_in(hints[name])
        if nested is not None:
            problems += schema_mismatches(nested, node, f"{prefix}.{name}", definitions)
        item_class = _mapping_of_dataclass(hints[name])
        if item_class is not None:
            items = resolve(node.get("additionalProperties", {}))
            if isinstance(items, Mapping) and "properties" in items:
                problems += schema_mismatches(item_class, items, f"{prefix}.{name}.*", definitions)
            for item_name, item in node.get("properties", {}).items():
                problems += schema_mismatches(item_class, resolve(item), f"{prefix}.{name}.{item_name}", definitions)
    return problems
