"""Execute a family's analysis notebook with papermill (kernel python3); the executed copy is an output."""

from pathlib import Path

import papermill

from dltheory.runtime import start_job

log = start_job(snakemake.log[0])
# Every named input but the notebook reaches it as <name>_path (table -> table_path, samples -> samples_path).
inputs = {f"{name}_path": str(Path(path).resolve()) for name, path in snakemake.input.items() if name != "notebook"}
parameters = {
    **snakemake.params.parameters,
    **inputs,
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
