"""Train the digits network with one method (GD or an NGD variant) from the shared initialization."""

from dltheory.geometry.natgrad_train import run_method
from dltheory.io import write_table
from dltheory.provenance import provenance_record
from dltheory.runtime import resolve_device, start_job

log = start_job(snakemake.log[0], snakemake.threads)
p = snakemake.params
method = snakemake.wildcards.method
table = run_method(method, p.settings, p.seed, str(resolve_device(p.device)))
train = table[(table["split"] == "train") & (table["metric"] == "loss")]
log.info("%s: train loss %s", method, train.groupby("rate_multiple", dropna=False)["value"].agg(["first", "last"]))
write_table(table, snakemake.output[0], provenance_record({"seed": p.seed, "natgrad": p.settings}))
