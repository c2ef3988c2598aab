"""Train the digits classifier that scores generated digits; save its weights and its accuracies."""

import dataclasses

import torch

from dltheory.gan.classifier import train_digits_classifier
from dltheory.io import write_json
from dltheory.provenance import provenance_record
from dltheory.runtime import start_job

log = start_job(snakemake.log[0], snakemake.threads)
settings = snakemake.params.classifier
model, report = train_digits_classifier(seed=settings.get("seed", 0), steps=settings.get("steps", 500))
torch.save(model.state_dict(), snakemake.output.weights)
write_json(snakemake.output.report, {**dataclasses.asdict(report),
                                     "provenance": provenance_record(snakemake.params.family_config)})
log.info("digits classifier: train accuracy %.3f, test accuracy %.3f", report.train_accuracy, report.test_accuracy)
