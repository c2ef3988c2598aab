"""Batched 2-D GAN training against one run at a time, at the default config's shapes (issue 4).

The default config trains, per variant on the ring, 2 activations x 4 learning rates x 3 seeds = 24 GANs. The
batched side trains them as one model (``train_gan_batch``); the loop trains the same 24 runs one model at a time
with the same code. Both run the same number of steps and evaluate only at the end, so the ratio is what batching
buys in training. Prints seconds and the ratio, measured in one run.

    python benchmarks/gan_batched_training.py [--variant smoothed] [--steps 300] [--threads 1]
"""

import argparse
import dataclasses
import time

import torch
import yaml

from dltheory.gan.settings import run_settings
from dltheory.gan.training import train_gan_batch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variant", default="smoothed")
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    section = yaml.safe_load(open("config/config.yaml"))["gan"]
    settings = run_settings(section, "toy", args.variant)
    settings = dataclasses.replace(settings, steps=args.steps, eval_every=args.steps, trajectory=None,
                                   n_eval=200, samples_saved=0)
    start = time.perf_counter()
    train_gan_batch(settings, seed=0)
    batched = time.perf_counter() - start

    start = time.perf_counter()
    for dataset in settings.datasets:
        for activation in settings.activations:
            for optimizer, rate in settings.schedules:
                for seed in settings.seeds:
                    one = dataclasses.replace(settings, datasets=(dataset,), activations=(activation,),
                                              learning_rates={optimizer: (rate,)}, seeds=(seed,))
                    train_gan_batch(one, seed=0)
    loop = time.perf_counter() - start
    print(f"{args.variant}: {settings.n_models} runs x {args.steps} steps, {args.threads} thread(s)")
    print(f"batched: {batched:.2f} s   one at a time: {loop:.2f} s   ratio: {loop / batched:.1f}x")


if __name__ == "__main__":
    main()
