"""The digits loader reads scikit-learn's bundled file without importing scikit-learn, bit for bit as load_digits."""

import numpy as np

from dltheory.digits import bundled_digits


def test_bundled_digits_equal_load_digits_bit_for_bit():
    from sklearn.datasets import load_digits

    pixels, labels = bundled_digits()
    reference = load_digits()
    assert pixels.dtype == np.float64 and labels.dtype == np.int64
    assert pixels.shape == (1797, 64) and labels.shape == (1797,)
    assert pixels.flags.c_contiguous
    assert pixels.tobytes() == reference.data.astype(np.float64).tobytes()
    assert labels.tobytes() == reference.target.astype(np.int64).tobytes()
