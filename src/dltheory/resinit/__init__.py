"""Why residual networks need their own initialisation (M. Taki, "Deep Residual Networks and Weight
Initialization", arXiv 1709.02956; issue 25, M11).

``networks`` builds plain and residual MLPs of every variant (He, PyTorch's default, Taki's depth-scaled branch,
batch norm in the branch, Fixup, SkipInit, ReZero) with stacked weights, so seeds and scales run as one batched
program; ``statistics`` measures the forward and backward signal at initialisation against depth; ``training`` runs
the short trainability sweep on digits; ``analysis`` and ``figures`` read the tables.
"""
