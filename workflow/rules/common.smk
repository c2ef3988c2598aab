# Config validation, and the input functions of every family (the rule files hold only rules).

import json
from pathlib import Path

from dltheory.config import gan_datasets, load_schema, validate_config
from dltheory.nonsmooth.targets import region_cell_specs
from dltheory.provenance import config_hash

# Before any job: a bad key, type or value stops the run here, naming the key.
validate_config(config, load_schema(Path(workflow.basedir) / "workflow/schemas/config.schema.yaml"))


FAMILIES = ("nonsmooth", "region", "intrinsic", "gan", "causal", "batchnorm", "natgrad", "spectra", "isometry")
REPO = Path(workflow.basedir)


def repo_path(relative):
    """A file of the project itself (notebook, template, caption), wherever the run's outputs go."""
    return str(REPO / relative)

CONDA_ENV = "../../envs/dltheory.yaml"


def enabled_families():
    return [family for family in FAMILIES if config.get(family, {}).get("enabled", False)]


def family_config(family):
    """The part of the config that defines a family's numbers: its section plus the global seed."""
    return {"seed": config["seed"], family: config.get(family, {})}


def family_figure(family, name, extension, category):
    return report(
        f"results/{family}/figures/{name}.{extension}",
        caption=f"../../report/captions/{family}_{name}.rst",
        category=category,
    )


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
    return family_figure("nonsmooth", name, extension, "Non-smooth regression")


# --- where DNNs win, measured (workflow/rules/region.smk) ---

REGION = config.get("region", {})
REGION_FIGURES = ["theory_region", "empirical_map"]
# One target per (alpha, beta) cell, named a<alpha>_b<beta>.
REGION_CELLS = region_cell_specs(REGION) if REGION.get("enabled") else {}


def region_target(wildcards):
    return REGION_CELLS[wildcards.cell]


def region_estimator_params(wildcards):
    return REGION["estimator_params"].get(wildcards.method, {})


def get_region_runs(wildcards):
    return expand(
        "results/region/runs/{cell}/{method}.parquet",
        cell=list(REGION_CELLS),
        method=["dnn", *REGION.get("linear_estimators", [])],
    )


def region_figure(name, extension):
    return family_figure("region", name, extension, "Where DNNs win")


# --- hidden low dimension (workflow/rules/intrinsic.smk) ---

INTRINSIC = config.get("intrinsic", {})
INTRINSIC_FIGURES = ["sphere_error_vs_n", "balls_error_vs_n"]


def intrinsic_settings():
    """Sim 6.1 settings sphere_d<d> and Sim 6.2 settings balls_D<D>_d<d>, each a dict for the package."""
    if not INTRINSIC.get("enabled"):
        return {}
    settings = {}
    sphere, balls = INTRINSIC["sphere"], INTRINSIC["balls"]
    for d in sphere["intrinsic_dims"]:
        settings[f"sphere_d{d}"] = {
            "name": f"sphere_d{d}", "simulation": "sphere", "ambient_dim": sphere["ambient_dim"],
            "intrinsic_dim": d, "radius": sphere["radius"], "target": sphere["target"],
        }
    for d in balls["intrinsic_dims"]:
        name = f"balls_D{balls['ambient_dim']}_d{d}"
        settings[name] = {
            "name": name, "simulation": "balls", "ambient_dim": balls["ambient_dim"], "intrinsic_dim": d,
            "target": balls["target"],
        }
    return settings


INTRINSIC_SETTINGS = intrinsic_settings()


def intrinsic_setting(wildcards):
    return INTRINSIC_SETTINGS[wildcards.setting]


def intrinsic_section(wildcards):
    """The config block (sphere or balls) that a setting belongs to."""
    return INTRINSIC[INTRINSIC_SETTINGS[wildcards.setting]["simulation"]]


def intrinsic_sizes(wildcards):
    return intrinsic_section(wildcards)["sizes"]


def intrinsic_replicates(wildcards):
    return intrinsic_section(wildcards)["replicates"]


def intrinsic_dnn(wildcards):
    """The DNN of a (setting, network): Sim 6.1's single network, or one of Sim 6.2's with its training."""
    section = intrinsic_section(wildcards)
    if "dnn" in section:
        return section["dnn"]
    return {**section["training"], **section["networks"][wildcards.network]}


def intrinsic_baseline_params(wildcards):
    return INTRINSIC["balls"]["baseline_params"].get(wildcards.method, {})


def get_intrinsic_runs(wildcards):
    runs = []
    for name, setting in INTRINSIC_SETTINGS.items():
        if setting["simulation"] == "sphere":
            runs.append(f"results/intrinsic/runs/{name}/dnn.parquet")
        else:
            balls = INTRINSIC["balls"]
            runs += [f"results/intrinsic/runs/{name}/{network}.parquet" for network in balls["networks"]]
            runs += [f"results/intrinsic/runs/{name}/{method}.parquet" for method in balls["baselines"]]
    return runs


def intrinsic_figure(name, extension):
    return family_figure("intrinsic", name, extension, "Hidden low dimension")


# --- GAN stability (workflow/rules/gan.smk) ---

GAN = config.get("gan", {})
GAN_FIGURES = ["stability_map", "trajectories", "samples_2d", "samples_digits", "conditions"]


def gan_parts():
    """The data parts that run: "toy" (the 2-D mixtures) always, "digits" when enabled."""
    if not GAN.get("enabled"):
        return []
    return ["toy", "digits"] if "digits" in gan_datasets(GAN) else ["toy"]


def gan_train_inputs(wildcards):
    return {"classifier": "results/gan/classifier/classifier.pt"} if wildcards.part == "digits" else {}


def get_gan_runs(kind):
    """Every (part, variant) run's metrics or samples table."""
    return expand(f"results/gan/runs/{{part}}/{{variant}}.{kind}.parquet", part=gan_parts(),
                  variant=GAN.get("variants", []))


def gan_notebook_inputs(wildcards):
    inputs = {"table": "results/gan/gan.parquet", "samples": "results/gan/samples.parquet"}
    if "digits" in gan_parts():
        inputs["classifier"] = "results/gan/classifier/classifier.json"
    return inputs


def gan_figures():
    names = [n for n in GAN_FIGURES if n != "samples_digits" or "digits" in gan_parts()]
    return [gan_figure(name, ext) for name in names for ext in ("png", "svg")]


def gan_figure(name, extension):
    return family_figure("gan", name, extension, "GAN stability")


# --- causal direction (workflow/rules/causal.smk) ---

CAUSAL = config.get("causal", {})
CAUSAL_FIGURES = ["accuracy_vs_n", "seconds_per_pair", "tables"]
CAUSAL_META_MODEL = "results/causal/meta/model.pt"


CAUSAL_NETWORKS = ("meta_cgnn", "cgnn")


def causal_baselines():
    """The configured methods that are not networks (ANM, IGCI, RECI): they share one job per benchmark."""
    return [method for method in CAUSAL.get("methods", {}) if method not in CAUSAL_NETWORKS]


def get_causal_runs(wildcards=None):
    """Per benchmark: one scores table per configured network, and one for all the baselines."""
    if not CAUSAL.get("enabled"):
        return []
    networks = [method for method in CAUSAL["methods"] if method in CAUSAL_NETWORKS]
    tables = networks + (["baselines"] if causal_baselines() else [])
    return expand("results/causal/runs/{benchmark}/{table}.parquet", benchmark=CAUSAL["benchmarks"], table=tables)


def causal_score_inputs(wildcards):
    return {"model": CAUSAL_META_MODEL} if wildcards.method == "meta_cgnn" else {}


def causal_figures():
    return [family_figure("causal", name, ext, "Causal direction") for name in CAUSAL_FIGURES for ext in ("png", "svg")]


# --- geometry of wide networks (workflow/rules/geometry.smk) ---



def geometry_section(family):
    """A geometry family's settings as its module takes them: the config section without `enabled`."""
    return {key: value for key, value in config.get(family, {}).items() if key != "enabled"}


BATCHNORM = geometry_section("batchnorm")
NATGRAD = geometry_section("natgrad")
SPECTRA = geometry_section("spectra")
ISOMETRY = geometry_section("isometry")
GEOMETRY_FAMILIES = ("batchnorm", "natgrad", "spectra", "isometry")
GEOMETRY_FIGURES = {
    "batchnorm": ["fisher_vs_width", "gd_grid"],
    "natgrad": ["loss_vs_step"],
    "spectra": ["histograms", "outliers_vs_width"],
    "isometry": ["spectra", "max_and_edge_vs_depth", "sgd_grid"],
}


def geometry_runs(family):
    """The run tables a geometry family's collect step concatenates."""
    section = config.get(family, {})
    if family == "batchnorm":
        names = section.get("variants", [])
    elif family == "natgrad":
        names = section.get("methods", [])
    elif family == "spectra":
        names = ["spectra"]
    else:
        names = ["spectra", "sgd"]
    return [f"results/{family}/runs/{name}.parquet" for name in names]


def geometry_figures(family):
    return [family_figure(family, name, ext, "Geometry of wide networks")
            for name in GEOMETRY_FIGURES[family] for ext in ("png", "svg")]
