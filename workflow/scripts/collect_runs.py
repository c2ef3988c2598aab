"""Concatenate a family's run tables into one tidy table."""

import pandas as pd

from dltheory.io import read_table, write_table
from dltheory.provenance import provenance_record
from dltheory.runtime import start_job

log = start_job(snakemake.log[0])
tables = [read_table(path) for path in snakemake.input]
table = pd.concat(tables, ignore_index=True)
write_table(table, snakemake.output[0], provenance_record(snakemake.params.family_config))
log.info("collected %d rows from %d tables", len(table), len(tables))
