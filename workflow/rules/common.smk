# Config validation and the input functions every family uses. Nothing experiment-specific.

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
