"""Train the digits classifier that scores generated digits; save its weights and its accuracies."""

import dataclasses

from dltheory.gan.classifier import train_digits_classifier
from dltheory.gan.settings import GanClassifier
from dltheory.io import save_torch, write_json
from dltheory.provenance import provenance_record
from dltheory.runtime import start_job
from dltheory.settings import from_config

log = start_job(snakemake.log[0], snakemake.threads)
p = snakemake.params
settings = from_config(GanClassifier, p.classifier, "gan.digits.classifier")
model, report = train_digits_classifier(seed=settings.seed, steps=settings.steps)
save_torch(model.state_dict(), snakemake.output.weights)
write_json(snakemake.output.report, {**dataclasses.asdict(report),
                                     "provenance": provenance_record({"seed": p.seed, "classifier": p.classifier})})
log.info("digits classifier: train accuracy %.3f, test accuracy %.3f", report.train_accuracy, report.test_accuracy)
