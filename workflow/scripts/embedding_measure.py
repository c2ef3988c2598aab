"""Narrow critical points, their embeddings one unit wider, and the Hessian counts and tests at each
(dltheory.embedding.experiment). numpy only: this job never imports torch."""

from dltheory.embedding.experiment import run_embedding
from dltheory.io import write_table
from dltheory.provenance import provenance_record
from dltheory.runtime import start_job

log = start_job(snakemake.log[0], snakemake.threads)
p = snakemake.params
table = run_embedding(p.settings, p.seed, log)
log.info("%d rows", len(table))
write_table(table, snakemake.output[0], provenance_record({"seed": p.seed, "embedding": p.settings}))
