"""One global seed; every job derives its own from the names that identify it."""

import hashlib

import numpy as np


def _key_entropy(key: object) -> int:
    # str(key) hashed, not hash(key): Python's str hash is salted per process, and seeds must not be.
    return int.from_bytes(hashlib.sha256(str(key).encode()).digest()[:8], "little")


def derive_seed(global_seed: int, *keys: object) -> int:
    """Seed for the job named by ``keys`` (family, target, method, n, replicate, ...).

    Built with :class:`numpy.random.SeedSequence`, so seeds of different jobs are independent
    streams, and the same names always give the same seed.
    """
    sequence = np.random.SeedSequence([int(global_seed), *(_key_entropy(k) for k in keys)])
    return int(sequence.generate_state(1, dtype=np.uint64)[0] % np.uint64(2**63 - 1))


def rng_for(global_seed: int, *keys: object) -> np.random.Generator:
    """A numpy generator seeded by :func:`derive_seed`."""
    return np.random.default_rng(derive_seed(global_seed, *keys))
