"""Paper scale: embeddings in deeper networks on digits, Hessian extremes by Lanczos (dltheory.embedding.deep)."""

from dltheory.embedding.deep import run_deep
from dltheory.io import write_table
from dltheory.provenance import provenance_record
from dltheory.runtime import resolve_device, start_job

log = start_job(snakemake.log[0], snakemake.threads)
p = snakemake.params
table = run_deep(p.settings, p.seed, resolve_device(p.device))
log.info("%d rows", len(table))
write_table(table, snakemake.output[0], provenance_record({"seed": p.seed, "embedding": {"deep": p.settings}}))
