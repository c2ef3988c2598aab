# Config validation, and the input functions of every family (the rule files hold only rules).

import json
import subprocess
from pathlib import Path

from snakemake.exceptions import WorkflowError
from snakemake.logging import logger

from dltheory.cluster import SINFO_FORMAT, job_request, parse_sinfo, unschedulable
from dltheory.config import FAMILIES, load_schema, validate_config
from dltheory.provenance import config_hash
from dltheory.settings import job_config, to_config

# Before any job: a bad key, type or value stops the run here, naming the key. SETTINGS holds the run's settings
# ("run": seed, device, threads, report) and every enabled family's settings dataclass, defaults filled in.
# REPO: this file's repository (in a module, workflow.basedir is the outer workflow's).
REPO = Path(workflow.current_basedir).parents[1]
SETTINGS = validate_config(config, load_schema(REPO / "workflow/schemas/config.schema.yaml"))
RUN = SETTINGS["run"]


def repo_path(relative):
    """A file of the project itself (notebook, template, caption), wherever the run's outputs go."""
    return str(REPO / relative)


CONDA_ENV = "../../envs/dltheory.yaml"


def enabled_families():
    return [family for family in FAMILIES if family in SETTINGS]


def section(family):
    """A family's settings as plain data (every key, defaults filled in), or {} when it is off."""
    return to_config(SETTINGS[family]) if family in SETTINGS else {}


def job_section(family, *keys):
    """What a training or measuring job of ``family`` gets: its settings without the analysis-only keys (claims,
    convergence thresholds), or only ``keys`` of them; Snakemake reruns a job when what it got changes."""
    if family not in SETTINGS:
        return {}
    settings = job_config(SETTINGS[family])
    return {key: settings[key] for key in keys} if keys else settings


def family_config(family):
    """The part of the config that defines a family's numbers: its settings plus the global seed."""
    return {"seed": RUN.seed, family: section(family)}


def notebook_parameters(family):
    """The notebook's papermill parameters: every setting of the family (claims included), as JSON."""
    return {"section_json": json.dumps(section(family)), "figures_dir": f"results/{family}/figures", "seed": RUN.seed}


def family_figure(family, name, extension, category):
    return report(
        f"results/{family}/figures/{name}.{extension}",
        caption=f"../../report/captions/{family}_{name}.rst",
        category=category,
    )


def family_figures(family, category):
    """Every figure the family's notebook draws: the names come from its settings (``figure_names``), the one list
    the notebook checks its figures against."""
    if family not in SETTINGS:
        return []
    return [
        family_figure(family, name, ext, category) for name in SETTINGS[family].figure_names() for ext in ("png", "svg")
    ]


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

NONSMOOTH = section("nonsmooth")


def nonsmooth_target(wildcards):
    return next(t for t in NONSMOOTH["targets"] if t["name"] == wildcards.target)


def nonsmooth_estimator_params(wildcards):
    return NONSMOOTH["estimator_params"].get(wildcards.method, {})


def get_nonsmooth_runs(wildcards):
    return expand(
        "results/nonsmooth/runs/{target}/{method}.parquet",
        target=[t["name"] for t in NONSMOOTH["targets"]],
        method=[*NONSMOOTH["estimators"], "reference"],
    )


# --- where DNNs win, measured (workflow/rules/region.smk) ---

REGION = section("region")
# One target per (alpha, beta) cell, named a<alpha>_b<beta>.
REGION_CELLS = SETTINGS["region"].cell_specs() if "region" in SETTINGS else {}


def region_data():
    """Every cell's simulated data, in the order of REGION_CELLS (the jobs pair them by position)."""
    return expand("results/region/data/{cell}.npz", cell=list(REGION_CELLS))


def region_estimator_params(wildcards):
    return REGION["estimator_params"].get(wildcards.method, {})


def get_region_runs(wildcards):
    return [
        "results/region/runs/references.parquet",
        *expand("results/region/runs/{method}.parquet", method=["dnn", *REGION.get("linear_estimators", [])]),
    ]


# --- hidden low dimension (workflow/rules/intrinsic.smk) ---

INTRINSIC = section("intrinsic")
# Sim 6.1 settings sphere_d<d> and Sim 6.2 settings balls_D<D>_d<d>, each a dict for the package.
INTRINSIC_SETTINGS = SETTINGS["intrinsic"].setting_specs() if "intrinsic" in SETTINGS else {}


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
    if INTRINSIC_SETTINGS[wildcards.setting]["simulation"] == "sphere":
        return INTRINSIC["sphere"]["dnn"]
    return SETTINGS["intrinsic"].balls.network_dnn(wildcards.network)


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


# --- GAN stability (workflow/rules/gan.smk) ---

GAN = SETTINGS.get("gan")


def gan_parts():
    """The data parts that run: "toy" (the 2-D mixtures) always, "digits" and "sanity" when enabled."""
    return list(GAN.parts()) if GAN else []


def gan_classifier():
    """The digits classifier's settings (the only part of the GAN settings its training job reads)."""
    return to_config(GAN.digits.classifier) if GAN and GAN.digits else {}


def gan_run(wildcards):
    """One gan_train job's settings: the batched run of one variant on one part, nothing else of the section (and
    no empty ``mixtures``, so that a config without user targets keeps its jobs' parameters, and their results)."""
    run = to_config(GAN.run(wildcards.part, wildcards.variant))
    return {key: value for key, value in run.items() if key != "mixtures" or value}


def gan_train_inputs(wildcards):
    """The digits classifier, or the CSV files of the user's 2-D targets this part trains on (an edit reruns it)."""
    if wildcards.part == "digits":
        return {"classifier": "results/gan/classifier/classifier.pt"}
    return {"mixtures": gan_mixture_files(GAN.part_mixtures(wildcards.part))}


def gan_mixture_files(mixtures):
    """The CSV files among the user's 2-D targets ``mixtures`` (gan.mixtures)."""
    return [mixture.csv for mixture in mixtures.values() if mixture.csv is not None]


def get_gan_runs(kind):
    """Every (part, variant) run's metrics or samples table (the sanity part trains WGAN-GP alone)."""
    return [
        f"results/gan/runs/{part}/{variant}.{kind}.parquet"
        for part in gan_parts()
        for variant in GAN.part_variants(part)
    ]


def gan_notebook_inputs(wildcards):
    inputs = {"table": "results/gan/gan.parquet", "samples": "results/gan/samples.parquet"}
    if "digits" in gan_parts():
        inputs["classifier"] = "results/gan/classifier/classifier.json"
    inputs["mixtures"] = gan_mixture_files(GAN.mixtures)  # the figures draw a CSV target's modes
    return inputs


# --- causal direction (workflow/rules/causal.smk) ---

CAUSAL = SETTINGS.get("causal")
# What each job reads of the causal settings: the test pairs and the plan of subsamples, never the claims.
CAUSAL_PLAN_KEYS = ("test_pairs", "test_points", "sizes", "subsamples")


def causal_baselines():
    """The configured methods that are not networks (ANM, IGCI, RECI): they share one job per benchmark."""
    return CAUSAL.baselines() if CAUSAL else []


def causal_user_entries(benchmarks):
    """The user benchmarks among ``benchmarks`` as a job reads them ({"user_benchmarks": {name: {pairs, label}}}),
    or {} when there are none: a built-in benchmark's job gets what it got before user benchmarks existed."""
    if not CAUSAL:
        return {}
    settings = job_config(CAUSAL)["user_benchmarks"]
    chosen = {b: settings[b] for b in benchmarks if b in settings}
    return {"user_benchmarks": chosen} if chosen else {}


def causal_plan(methods, benchmark=None):
    """The settings a scoring job reads: the test pairs, the sizes and subsamples, its own methods' options, and
    its benchmark's CSV when it is a user's."""
    if not CAUSAL:
        return {}
    settings = job_config(CAUSAL)
    return {
        **{key: settings[key] for key in CAUSAL_PLAN_KEYS},
        "methods": {name: settings["methods"][name] for name in methods},
        **causal_user_entries([benchmark] if benchmark else []),
    }


def causal_network_plan(wildcards):
    return causal_plan([wildcards.method], wildcards.benchmark)


def causal_baselines_plan(wildcards):
    return causal_plan(causal_classical(), wildcards.benchmark)


def causal_benchmark_csv(wildcards):
    """A user benchmark's CSV, an input of its scoring jobs (an edit reruns them); none for a built-in one."""
    return list(CAUSAL.user_pairs([wildcards.benchmark]).values()) if CAUSAL else []


def causal_classical():
    """ANM, IGCI, RECI as configured (CGNN has its own jobs; the trained methods run in their pool's job)."""
    return [m for m in causal_baselines() if m != "cgnn"]


def causal_classical_on(wildcards):
    """The classical baselines that score this benchmark (each method's ``benchmarks``, else every one)."""
    return [m for m in causal_classical() if wildcards.benchmark in CAUSAL.scored_by(m)]


def causal_pools():
    return CAUSAL.pools() if CAUSAL else []


def causal_all_runs(wildcards=None):
    """One table per pool (its trained methods), and per benchmark one of CGNN's and one of the classical
    baselines' (where any of them scores it)."""
    if not CAUSAL:
        return []
    runs = expand("results/causal/runs/trained_{pool}.parquet", pool=causal_pools())
    if "cgnn" in CAUSAL.methods:
        runs += expand("results/causal/runs/{benchmark}/cgnn.parquet", benchmark=CAUSAL.scored_by("cgnn"))
    scored = {b for method in causal_classical() for b in CAUSAL.scored_by(method)}
    runs += expand(
        "results/causal/runs/{benchmark}/baselines.parquet", benchmark=[b for b in CAUSAL.benchmarks if b in scored]
    )
    return runs


def causal_pool_families(wildcards):
    return list(CAUSAL.meta_cgnn.pool_families(wildcards.pool))


def causal_pool_evaluations(wildcards):
    """The benchmarks the pool's models score, each with what it tests (in-distribution, held-out, real, sanity)."""
    return CAUSAL.pool_benchmarks(wildcards.pool)


def causal_pool_section(wildcards):
    """What a pool's job reads: the benchmarks, the plan, the methods, meta-training, and the CSVs of the user
    benchmarks its models score."""
    section = job_section("causal", "benchmarks", *CAUSAL_PLAN_KEYS, "methods", "meta_cgnn")
    return {**section, **causal_user_entries(CAUSAL.pool_benchmarks(wildcards.pool))} if CAUSAL else {}


def causal_pool_csvs(wildcards):
    """The CSVs of the user benchmarks the pool's models score (inputs: an edit reruns the pool's job)."""
    return list(CAUSAL.user_pairs(CAUSAL.pool_benchmarks(wildcards.pool)).values()) if CAUSAL else []


# --- geometry of wide networks (workflow/rules/geometry.smk) ---

GEOMETRY_FAMILIES = ("batchnorm", "natgrad", "spectra", "isometry")


def geometry_runs(family):
    """The run tables a geometry family's collect step concatenates."""
    settings = SETTINGS.get(family)
    if settings is None:
        return []
    if family == "batchnorm":
        names = [*settings.spectra_parts(), *(["gd"] if settings.gd.variants and settings.gd.widths else [])]
    elif family == "natgrad":
        names = settings.methods
    elif family == "spectra":
        names = ["spectra"]
    else:
        names = ["spectra", "sgd"]
    return [f"results/{family}/runs/{name}.parquet" for name in names]


def batchnorm_job_settings():
    """What a batchnorm measuring job gets: the job settings without spectra_jobs (how the spectra are split is
    in each job's pairs, so a new split reruns only the parts whose pairs changed, and never the GD job)."""
    return {key: value for key, value in job_section("batchnorm").items() if key != "spectra_jobs"}


def batchnorm_pairs(wildcards):
    """The (width, replicate) pairs of a spectra part (BatchnormSettings.spectra_parts); none for the GD part."""
    if wildcards.part == "gd" or "batchnorm" not in SETTINGS:
        return []
    parts = SETTINGS["batchnorm"].spectra_parts()
    if wildcards.part not in parts:
        raise WorkflowError(
            f"results/batchnorm/runs/{wildcards.part}.parquet is no part of batchnorm.spectra_jobs = "
            f"{SETTINGS['batchnorm'].spectra_jobs}; its parts: {sorted(parts)}"
        )
    return [list(pair) for pair in parts[wildcards.part]]


# --- semi-flat minima by embedding (workflow/rules/embedding.smk) ---


def embedding_shallow_section():
    """What the one-hidden-layer measuring job gets: the job settings without the paper-scale deep part."""
    return {key: value for key, value in job_section("embedding").items() if key != "deep"}


def embedding_notebook_inputs(wildcards):
    """The notebook, the family's table and, where the paper-scale deep part is on, its table."""
    inputs = {"notebook": repo_path("notebooks/embedding.ipynb"), "table": "results/embedding/embedding.parquet"}
    if "embedding" in SETTINGS and SETTINGS["embedding"].deep.enabled:
        inputs["deep"] = "results/embedding/deep.parquet"
    return inputs


# --- more parameters, better accuracy? (workflow/rules/overparam.smk) ---

# The keys both overparam jobs read to draw each seed's digits split.
OVERPARAM_SPLIT_KEYS = ("train", "validation", "replicates")


def overparam_runs():
    """The overparam tables the collect step concatenates: random features (no torch) and the trained networks."""
    if "overparam" not in SETTINGS:
        return []
    return [f"results/overparam/runs/{part}.parquet" for part in ("random_features", "networks")]


# --- why residual networks need their own initialisation (workflow/rules/resinit.smk) ---


def resinit_runs():
    """The resinit table the collect step reads: statistics at initialisation and the sweep, from one job."""
    if "resinit" not in SETTINGS:
        return []
    return ["results/resinit/runs/measure.parquet"]


# --- self-paced data augmentation (workflow/rules/selfpaced.smk) ---

# What a selfpaced training job reads (its training sizes come from its wildcard, so adding an n reruns nothing).
SELFPACED_JOB_KEYS = ("validation", "replicates", "augmentations", "taus", "randaugment", "training")


def selfpaced_job_settings():
    """What a training job gets: SELFPACED_JOB_KEYS, and ``data`` only when it is a user's file (a digits job gets
    what it got before user data existed, so its cached table stays valid)."""
    if "selfpaced" not in SETTINGS:
        return {}
    section = job_section("selfpaced", *SELFPACED_JOB_KEYS)
    data = job_config(SETTINGS["selfpaced"])["data"]
    return {**section, "data": data} if data["source"] != "digits" else section


def selfpaced_data():
    """A user's npz, an input of the training jobs (an edit reruns them); none for digits."""
    if "selfpaced" not in SETTINGS or SETTINGS["selfpaced"].data.source == "digits":
        return []
    return [SETTINGS["selfpaced"].data.path]


def selfpaced_runs():
    """One run table per training job: n50.parquet for one size, n20_40.parquet for two sizes in one job."""
    if "selfpaced" not in SETTINGS:
        return []
    return [
        "results/selfpaced/runs/n{}.parquet".format("_".join(map(str, sizes)))
        for sizes in SETTINGS["selfpaced"].job_sizes()
    ]


# --- cluster jobs (workflow/profiles/slurm) ---


def cluster_resources(rule):
    """A submitted rule's memory (MB) and runtime (minutes), scaled by the config in use (dltheory.cluster) and
    multiplied by the attempt on a retry; gpu=1 where it trains networks on the device and the device is not cpu
    (SLURM asks it; locally, --resources gpu=1 runs one such job at a time). Its CPUs are its threads."""
    request = job_request(rule, SETTINGS)
    resources = {
        "mem_mb": lambda wildcards, attempt: request.mem_mb * attempt,
        "runtime": lambda wildcards, attempt: request.runtime * attempt,
    }
    if request.gpu:
        resources["gpu"] = request.gpu
    return resources


def check_cluster_fit():
    """On SLURM, before the first submission: stop, naming the rule, when a job asks more than any node has. SLURM
    would keep such a job pending forever (reason PartitionConfig or Resources) while Snakemake waits silently."""
    plugin = workflow.executor_plugin
    if plugin is None or plugin.cli_prefix != "slurm":
        return
    try:
        sinfo = subprocess.run(
            ["sinfo", "-h", "-N", "-o", SINFO_FORMAT], capture_output=True, text=True, check=True, timeout=60
        ).stdout
    except (OSError, subprocess.SubprocessError) as error:
        logger.warning(f"Not checked that every job fits a node: sinfo failed ({error})")
        return
    jobs = [
        (
            job.rule.name,
            job.resources.get("slurm_partition"),
            job.threads,
            job.resources.get("mem_mb", 0),
            job.resources.get("runtime", 0),
            job.resources.get("gpu", 0),
        )
        for job in workflow.dag.needrun_jobs()
        if not job.is_local
    ]
    problems = unschedulable(jobs, parse_sinfo(sinfo))
    if problems:
        raise WorkflowError(
            "No node of this cluster can run these jobs (SLURM would leave them pending):\n  "
            + "\n  ".join(problems)
            + "\nLower threads_per_job, set device: cpu where the nodes have no GPU, or set a request with "
            "--set-resources RULE:mem_mb=... "
            "RULE:runtime=... (see README, 'On SLURM')."
        )
    logger.info(f"Every job fits a node of this cluster ({len(jobs)} to submit).")


onstart:
    check_cluster_fit()
