"""Fisher spectra over width and the T-M diagram, or the GD grid over (eta, M) (dltheory.geometry.batchnorm).

A spectra job measures its (width, replicate) pairs (params.pairs, one part of BatchnormSettings.spectra_parts:
"spectra" for all of them); its rows say part "spectra" whichever part it is."""

from dltheory.geometry.batchnorm_measure import run_gd, run_spectra
from dltheory.io import write_table
from dltheory.provenance import provenance_record
from dltheory.runtime import start_job

log = start_job(snakemake.log[0], snakemake.threads)
p = snakemake.params
part = snakemake.wildcards.part
if part == "gd":
    table = run_gd(p.settings, p.seed).assign(part="gd")
else:
    log.info("%s: %d (width, replicate) pairs, %s to %s", part, len(p.pairs), p.pairs[0], p.pairs[-1])
    table = run_spectra(p.settings, p.seed, pairs=p.pairs).assign(part="spectra")
log.info("%s: %d rows", part, len(table))
write_table(table, snakemake.output[0], provenance_record({"seed": p.seed, "batchnorm": p.settings}))
