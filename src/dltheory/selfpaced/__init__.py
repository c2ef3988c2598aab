"""Self-paced data augmentation (Takase, Karakida & Asoh, Neurocomputing 442, 2021; issue 25, M13): augment a
training sample only while the network's loss on it is above a threshold, against augmenting every sample, none,
RandAugment, and a random subset of the same size."""
