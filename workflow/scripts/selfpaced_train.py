"""Every seed and method of one training size n (NA, CA, SPA at every tau, RND, RandAugment) as one batched model
(on the CPU: the networks are small MLPs and the augmentation draws come from CPU generators)."""

from dltheory.io import write_table
from dltheory.provenance import provenance_record
from dltheory.runtime import start_job
from dltheory.selfpaced.train import run_training

log = start_job(snakemake.log[0], snakemake.threads)
p = snakemake.params
n = int(snakemake.wildcards.n)
table = run_training(p.settings, p.seed, n)
final = table[(table.part == "final") & (table.metric == "test_accuracy")]
log.info("n = %d: mean test accuracy by method and augmentation:\n%s", n,
         final.groupby(["method", "augmentation"]).value.mean())
write_table(table, snakemake.output[0], provenance_record({"seed": p.seed, "n": n, "selfpaced": p.settings}))
