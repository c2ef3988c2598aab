"""Reading and writing results: atomic writes, provenance in every table, errors that name the file."""

import contextlib
import json
import os
import pickle
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

PROVENANCE_KEY = b"dltheory.provenance"


class CorruptInputError(RuntimeError):
    """An input file is missing, truncated or not what its name says; the message names the file."""


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _atomic_target(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial")
    try:
        # mkstemp makes the file owner-only (0600); a result gets what open() would give it: 0644 under umask 022,
        # so that the group reads results in a shared directory.
        os.fchmod(handle, 0o666 & ~_umask())
    finally:
        os.close(handle)
    return Path(tmp)


def _publish(tmp: Path, path: Path) -> None:
    # os.replace is atomic on one file system: a job killed before this line leaves only a hidden
    # .partial file, never a half-written output that Snakemake (or a reader) could mistake for done.
    os.replace(tmp, path)


@contextlib.contextmanager
def _atomically(path: str | os.PathLike):
    """A temporary file beside ``path`` to write; published as ``path`` when the block ends without an error, removed
    otherwise (a killed or failed writer leaves no half-written output)."""
    path = Path(path)
    tmp = _atomic_target(path)
    try:
        yield tmp
        _publish(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_table(frame: pd.DataFrame, path: str | os.PathLike, provenance: dict) -> None:
    """Write a tidy table as Parquet with ``provenance`` (config hash, commit, versions) in its metadata."""
    path = Path(path)
    table = pa.Table.from_pandas(frame, preserve_index=False)
    metadata = dict(table.schema.metadata or {})
    metadata[PROVENANCE_KEY] = json.dumps(provenance, sort_keys=True).encode()
    table = table.replace_schema_metadata(metadata)
    with _atomically(path) as tmp:
        pq.write_table(table, tmp)


def read_table(path: str | os.PathLike) -> pd.DataFrame:
    """Read a Parquet table; a missing or corrupt file raises :class:`CorruptInputError` naming it."""
    path = Path(path)
    try:
        return pq.read_table(path).to_pandas()
    except (OSError, pa.ArrowException) as error:
        raise CorruptInputError(f"cannot read table {path}: {error}") from error


def read_provenance(path: str | os.PathLike) -> dict:
    """The provenance stored by :func:`write_table` in a Parquet file's metadata."""
    path = Path(path)
    try:
        metadata = pq.read_schema(path).metadata or {}
    except (OSError, pa.ArrowException) as error:
        raise CorruptInputError(f"cannot read table {path}: {error}") from error
    return json.loads(metadata.get(PROVENANCE_KEY, b"{}"))


def write_arrays(path: str | os.PathLike, **arrays: np.ndarray) -> None:
    """Write named arrays to an ``.npz`` file atomically."""
    with _atomically(path) as tmp, open(tmp, "wb") as handle:
        np.savez(handle, **arrays)


def read_arrays(path: str | os.PathLike, required: tuple[str, ...] = ()) -> dict[str, np.ndarray]:
    """Read an ``.npz`` file into a dict; missing keys or a corrupt file raise an error naming the file."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {key: data[key] for key in data.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:
        raise CorruptInputError(f"cannot read arrays from {path}: {error}") from error
    missing = [key for key in required if key not in arrays]
    if missing:
        raise CorruptInputError(f"{path} lacks the arrays {missing}")
    return arrays


def write_json(path: str | os.PathLike, payload) -> None:
    """Write JSON atomically, keys sorted so that identical content gives identical bytes."""
    with _atomically(path) as tmp:
        tmp.write_text(json.dumps(payload, indent=2, sort_keys=True, default=_json_default) + "\n")


def write_text(path: str | os.PathLike, text: str) -> None:
    """Write a text file (UTF-8) atomically."""
    with _atomically(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def read_json(path: str | os.PathLike):
    path = Path(path)
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise CorruptInputError(f"cannot read JSON {path}: {error}") from error


def save_torch(payload, path: str | os.PathLike) -> None:
    """``torch.save`` atomically (a killed job leaves no half-written weights)."""
    import torch

    with _atomically(path) as tmp:
        torch.save(payload, tmp)


def load_torch(path: str | os.PathLike, map_location=None):
    """``torch.load`` of tensors and plain containers only (``weights_only``); a missing, truncated or corrupt file
    raises :class:`CorruptInputError` naming it."""
    import torch

    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except (OSError, RuntimeError, EOFError, pickle.UnpicklingError, zipfile.BadZipFile) as error:
        raise CorruptInputError(f"cannot read torch file {path}: {error}") from error


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
