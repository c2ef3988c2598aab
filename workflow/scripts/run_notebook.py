"""Execute a family's analysis notebook with papermill (kernel python3); the executed copy is an output."""

from pathlib import Path

import papermill

from dltheory.runtime import start_job

log = start_job(snakemake.log[0])
parameters = {
    **snakemake.params.parameters,
    "table_path": str(Path(snakemake.input.table).resolve()),
    "claims_path": str(Path(snakemake.output.claims).resolve()),
}
parameters["figures_dir"] = str(Path(parameters["figures_dir"]).resolve())
Path(parameters["figures_dir"]).mkdir(parents=True, exist_ok=True)
papermill.execute_notebook(
    snakemake.input.notebook,
    snakemake.output.notebook,
    parameters=parameters,
    kernel_name="python3",
    cwd=str(Path.cwd()),
    progress_bar=False,
    log_output=True,
)
