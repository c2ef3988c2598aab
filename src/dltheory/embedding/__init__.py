"""Semi-flat minima and saddles made by embedding a narrow network into a wider one (Fukumizu, Yamaguchi, Mototake
& Tanaka, NeurIPS 2019; FYMT19), family ``embedding``.

``settings`` (torch-free) holds the config; ``shallow`` the one-hidden-layer networks in float64 numpy (analytic
gradient and Hessian, the three embeddings, the predicted Hessian inertia); ``experiment`` the measuring job;
``analysis`` the count table and the claims; and ``figures`` the figures.
"""
