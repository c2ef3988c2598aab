"""scikit-learn's bundled handwritten digits (1,797 images of 8 x 8 pixels, no download): the one loader the
families share. Each family scales the pixels its own way (to [0, 1], to [-1, 1], standardised)."""

import numpy as np


def bundled_digits() -> tuple[np.ndarray, np.ndarray]:
    """Pixels (1797, 64) as float64 counts 0..16 (row-major 8 x 8) and labels (1797,) as int64 0..9."""
    from sklearn.datasets import load_digits  # here: scikit-learn costs ~1 s to import, and only these jobs need it

    digits = load_digits()
    return digits.data.astype(np.float64), digits.target.astype(np.int64)
