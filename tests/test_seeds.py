"""Job seeds: the same names give the same seed in every process; different names, different seeds."""

import subprocess
import sys

from dltheory.seeds import derive_seed


def test_seed_is_the_same_in_a_fresh_process():
    # Python salts str hashes per process; the derivation must not depend on that.
    code = "from dltheory.seeds import derive_seed; print(derive_seed(20190416, 'nonsmooth', 'jump2d', 'data', 0))"
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert int(other) == derive_seed(20190416, "nonsmooth", "jump2d", "data", 0) == 4407450446585837035


def test_every_name_changes_the_seed():
    base = derive_seed(1, "nonsmooth", "jump2d", "dnn", 256, 0)
    variants = [
        derive_seed(2, "nonsmooth", "jump2d", "dnn", 256, 0),
        derive_seed(1, "nonsmooth", "jump3d", "dnn", 256, 0),
        derive_seed(1, "nonsmooth", "jump2d", "knn", 256, 0),
        derive_seed(1, "nonsmooth", "jump2d", "dnn", 512, 0),
        derive_seed(1, "nonsmooth", "jump2d", "dnn", 256, 1),
    ]
    assert base not in variants and len(set(variants)) == 5
