"""Trained networks over width and parallel networks (averages of M members) on digits."""

from dltheory.io import write_table
from dltheory.overparam.mlp import run_networks
from dltheory.provenance import provenance_record
from dltheory.runtime import resolve_device, start_job

log = start_job(snakemake.log[0], snakemake.threads)
p = snakemake.params
table = run_networks(p.settings, p.seed, resolve_device(p.device))
errors = table[table.metric.isin(["train_error", "test_error"]) & (table.part == "mlp")]
log.info("mean errors by width:\n%s", errors.pivot_table(index="width", columns=["label_noise", "metric"],
                                                          values="value"))
write_table(table, snakemake.output[0], provenance_record({"seed": p.seed, "overparam": p.settings}))
