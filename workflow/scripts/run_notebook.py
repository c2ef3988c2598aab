"""Execute a family's analysis notebook with papermill (kernel python3); the executed copy is an output. Beside each
figure's PNG goes a provenance sidecar, <name>.json: its inputs with their hashes, config, commit, versions, seed and
the wall time of the family's jobs (dltheory.provenance.figure_sidecar)."""

import json
from pathlib import Path

import papermill

from dltheory.io import write_json
from dltheory.provenance import figure_sidecar
from dltheory.runtime import start_job

log = start_job(snakemake.log[0])
# Every named single-file input but the notebook reaches it as <name>_path (table -> table_path, samples ->
# samples_path). A named list (the user's data files, read through the settings) is an input for reruns and
# provenance only.
inputs = {f"{name}_path": str(Path(path).resolve()) for name, path in snakemake.input.items()
          if name != "notebook" and isinstance(path, str)}
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

figures = [Path(path) for path in snakemake.output if str(path).endswith(".png")]
family = Path(parameters["figures_dir"]).parent.name
named_inputs = {}
for name, value in snakemake.input.items():
    paths = {name: value} if isinstance(value, str) else {f"{name}[{i}]": path for i, path in enumerate(value)}
    named_inputs.update(paths)
config = {"seed": snakemake.params.parameters.get("seed"), family: json.loads(parameters.get("section_json", "{}"))}
for png in figures:
    write_json(png.with_suffix(".json"), figure_sidecar(
        png, named_inputs, config, drawn_by=f"{snakemake.input.notebook} (executed: {snakemake.output.notebook})",
        benchmarks=Path("results/benchmarks") / family, seed=config["seed"], device=snakemake.config.get("device", "")))
log.info("%d figures with provenance sidecars", len(figures))
