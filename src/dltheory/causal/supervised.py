"""A supervised direction classifier trained on Meta-CGNN's meta-training pool (issue 21): the strongest obvious
alternative a reviewer would ask about, after the RCC idea of Lopez-Paz, Muandet, Schölkopf & Tolstikhin
("Towards a learning theory of cause-effect inference", ICML 2015).

Each dataset (x, y), standardized per column, is described by random-feature kernel mean embeddings of the joint
sample (x, y) and of the marginals x and y (random Fourier features of Gaussian kernels at a few bandwidths); a
random forest learns the direction from the embeddings of the pool's labelled pairs, each pool pair used in both
orientations (cause first, label +1; flipped, label −1) at a size drawn log-uniformly from the training sizes,
so it sees small datasets as Meta-CGNN does. The score of a test pair is P(x → y) − ½, > 0 ⇒ x → y.
Sizes (features, bandwidths, trees) are ours.
"""

import math

import numpy as np

from dltheory.causal.settings import RccSettings
from dltheory.settings import from_config


def rcc_settings(values) -> RccSettings:
    return from_config(RccSettings, values, "RCC")


class RccClassifier:
    """The random-feature embedding (drawn once, from ``seed``) and a random forest over it."""

    def __init__(self, settings: RccSettings, seed: int):
        # Here, not at the top: scikit-learn costs ~1 s to import, and of the jobs importing this module only those
        # training the classifier need it (the sanity pool trains Meta-CGNN alone).
        from sklearn.ensemble import RandomForestClassifier

        self.settings = settings
        rng = np.random.default_rng(seed)
        s = settings

        def draw(dim):
            omegas = np.concatenate([math.sqrt(2.0 * g) * rng.standard_normal((s.features, dim)) for g in s.gammas])
            return omegas, rng.uniform(0.0, 2.0 * math.pi, len(s.gammas) * s.features)

        self.joint, self.marginal_x, self.marginal_y = draw(2), draw(1), draw(1)
        self.forest = RandomForestClassifier(n_estimators=s.trees, min_samples_leaf=s.min_leaf, n_jobs=1,
                                             random_state=int(rng.integers(2**31 - 1)))

    def embed(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """The mean embeddings of (x, y), x and y, concatenated, after standardizing each column."""
        u = np.stack([_standardize(x), _standardize(y)], axis=-1)
        parts = []
        for (omegas, phases), columns in ((self.joint, u), (self.marginal_x, u[:, :1]), (self.marginal_y, u[:, 1:])):
            parts.append(np.cos(columns @ omegas.T + phases).mean(0))
        return np.concatenate(parts)

    def fit(self, pool: np.ndarray, seed: int) -> "RccClassifier":
        """Train on a pool (datasets, points, 2) of cause-first datasets, each in both orientations."""
        rng = np.random.default_rng(seed)
        low, high = self.settings.train_sizes
        high = min(high, pool.shape[1])
        features, labels = [], []
        for data in pool:
            n = int(round(math.exp(rng.uniform(math.log(low), math.log(max(low, high))))))
            rows = rng.choice(len(data), size=min(n, len(data)), replace=False)
            x, y = data[rows, 0], data[rows, 1]
            features += [self.embed(x, y), self.embed(y, x)]
            labels += [1, -1]
        self.forest.fit(np.asarray(features), np.asarray(labels))
        return self

    def scores(self, pairs: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
        """P(x → y) − ½ for each (x, y) pair."""
        features = np.asarray([self.embed(x, y) for x, y in pairs])
        column = list(self.forest.classes_).index(1)
        return self.forest.predict_proba(features)[:, column] - 0.5


def _standardize(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, dtype=np.float64)
    return (v - v.mean()) / max(v.std(), 1e-12)
