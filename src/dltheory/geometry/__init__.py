"""Geometry of wide networks (Karakida et al.): Fisher information and NTK spectra, batch norm in the last layer,
approximate natural gradient, dynamical isometry.

The shared core is :mod:`.mlp` (the networks) and :mod:`.jacobian` (per-sample Jacobians, per-layer Gram matrices,
spectra); each figure family has its own module on top of it.
"""

# A training loss above this (or not finite) counts as diverged: a recorded outcome, never an exception.
DIVERGED_LOSS = 1e8
