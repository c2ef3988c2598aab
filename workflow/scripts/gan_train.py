"""Train every run of one GAN variant on one data part (2-D mixtures or digits) as one batched model."""

import dataclasses

from dltheory.gan.classifier import load_digits_classifier
from dltheory.gan.settings import GanRunSettings
from dltheory.gan.training import train_gan_batch
from dltheory.io import write_table
from dltheory.provenance import provenance_record
from dltheory.runtime import resolve_device, start_job
from dltheory.seeds import derive_seed
from dltheory.settings import from_config

log = start_job(snakemake.log[0], snakemake.threads)
p = snakemake.params
part, variant = snakemake.wildcards.part, snakemake.wildcards.variant
# The rule hands this job its run's settings only (GanSettings.run), never the analysis's thresholds.
settings = dataclasses.replace(from_config(GanRunSettings, p.run, "gan run"), device=str(resolve_device(p.device)))
classifier = load_digits_classifier(snakemake.input.classifier) if "classifier" in snakemake.input.keys() else None
log.info("%s on %s: %d models, %d steps", variant, part, settings.n_models, settings.steps)
# One seed per part, not per variant: runs with the same seed start every variant's generator alike.
result = train_gan_batch(settings, derive_seed(p.seed, "gan", part), classifier, threads=snakemake.threads)
for table in (result.metrics, result.samples):  # the sanity baseline's WGAN-GP runs apart from the maps' ones
    table.insert(0, "part", part)
provenance = provenance_record({"seed": p.seed, "gan_run": p.run})
write_table(result.metrics, snakemake.output.metrics, provenance)
write_table(result.samples, snakemake.output.samples, provenance)
diverged = result.metrics.groupby(["dataset", "activation", "optimizer", "learning_rate", "seed"])["diverged"].any()
log.info("%s on %s: %d of %d runs diverged", variant, part, int(diverged.sum()), len(diverged))
