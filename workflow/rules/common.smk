# Config validation, and the input functions of every family (the rule files hold only rules).

import json
from pathlib import Path

from dltheory.config import load_schema, validate_config
from dltheory.provenance import config_hash

# Before any job: a bad key, type or value stops the run here, naming the key.
validate_config(config, load_schema(Path(workflow.basedir) / "workflow/schemas/config.schema.yaml"))


FAMILIES = ("nonsmooth",)
REPO = Path(workflow.basedir)


def repo_path(relative):
    """A file of the project itself (notebook, template, caption), wherever the run's outputs go."""
    return str(REPO / relative)

CONDA_ENV = "../../envs/dltheory.yaml"


def enabled_families():
    return [family for family in FAMILIES if config[family]["enabled"]]


def family_config(family):
    """The part of the config that defines a family's numbers: its section plus the global seed."""
    return {"seed": config["seed"], family: config[family]}


def family_config_hash(family):
    return config_hash(family_config(family))


def family_outputs(family):
    """What a family's notebook writes: the executed notebook and claims.json."""
    return {
        "notebook": f"results/{family}/notebook.ipynb",
        "claims": f"results/{family}/claims.json",
    }


def get_final_output():
    return ["results/report/index.html"]


def get_report_inputs(wildcards):
    """Each enabled family's claims, executed notebook and collected table."""
    inputs = {}
    for family in enabled_families():
        inputs[f"{family}_claims"] = family_outputs(family)["claims"]
        inputs[f"{family}_notebook"] = family_outputs(family)["notebook"]
        inputs[f"{family}_table"] = f"results/{family}/{family}.parquet"
    return inputs


# --- non-smooth regression (workflow/rules/nonsmooth.smk) ---

NONSMOOTH = config["nonsmooth"]
NONSMOOTH_FIGURES = ["target_map", "error_vs_n", "smooth_control"]


def nonsmooth_target(wildcards):
    return next(t for t in NONSMOOTH["targets"] if t["name"] == wildcards.target)


def nonsmooth_estimator_params(wildcards):
    return NONSMOOTH["estimator_params"].get(wildcards.method, {})


def get_nonsmooth_runs(wildcards):
    return expand(
        "results/nonsmooth/runs/{target}/{method}.parquet",
        target=[t["name"] for t in NONSMOOTH["targets"]],
        method=NONSMOOTH["estimators"],
    )


def nonsmooth_figure(name, extension):
    return report(
        f"results/nonsmooth/figures/{name}.{extension}",
        caption=f"../../report/captions/nonsmooth_{name}.rst",
        category="Non-smooth regression",
    )
