"""dltheory: reproducible experiments for theory results on why deep learning works."""

__version__ = "0.1.0"
