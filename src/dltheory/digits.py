"""scikit-learn's bundled handwritten digits (1,797 images of 8 x 8 pixels, no download): the one loader the
families share. Each family scales the pixels its own way (to [0, 1], to [-1, 1], standardised).

The file is read here as ``sklearn.datasets.load_digits`` reads it (gzip-compressed CSV, utf-8, ``np.loadtxt`` with
a comma delimiter; the last column is the label) but without importing scikit-learn, which costs ~1 s per job:
``importlib.util.find_spec`` locates the installed package without executing it. ``tests/test_digits.py`` checks
the arrays equal ``load_digits()``'s bit for bit.
"""

import gzip
import importlib.util
from pathlib import Path

import numpy as np


def digits_file() -> Path:
    """The path of scikit-learn's ``datasets/data/digits.csv.gz`` (scikit-learn located, not imported)."""
    spec = importlib.util.find_spec("sklearn")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("scikit-learn is not installed: its bundled digits are needed")
    for location in spec.submodule_search_locations:
        path = Path(location) / "datasets" / "data" / "digits.csv.gz"
        if path.is_file():
            return path
    raise FileNotFoundError(f"digits.csv.gz not found under {list(spec.submodule_search_locations)}")


def bundled_digits() -> tuple[np.ndarray, np.ndarray]:
    """Pixels (1797, 64) as float64 counts 0..16 (row-major 8 x 8) and labels (1797,) as int64 0..9."""
    with digits_file().open("rb") as compressed, gzip.open(compressed, mode="rt", encoding="utf-8") as text:
        data = np.loadtxt(text, delimiter=",")
    return np.ascontiguousarray(data[:, :-1], dtype=np.float64), data[:, -1].astype(np.int64)
