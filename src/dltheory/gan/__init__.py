"""GAN stability: Chu, Minami & Fukumizu, "Smoothness and Stability in GANs", ICLR 2020 (our setting)."""
