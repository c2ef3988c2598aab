"""Malformed configs are rejected before any job, with a message that names the key."""

import copy
import re
from pathlib import Path

import pytest
import yaml

from dltheory.config import ConfigError, load_config_file, load_schema, validate_config
from tests.conftest import snakemake

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = load_schema(ROOT / "workflow/schemas/config.schema.yaml")


def _config(name="smoke"):
    return yaml.safe_load((ROOT / f"config/{name}.yaml").read_text())


@pytest.mark.parametrize("name", ["config", "smoke", "paper"])
def test_shipped_configs_are_valid(name):
    validate_config(_config(name), SCHEMA)


def test_defaults_come_from_the_settings_dataclasses():
    from dltheory.nonsmooth.dnn import DNNSettings

    config = _config()
    del config["nonsmooth"]["dnn"]
    config.pop("threads_per_job", None)
    settings = validate_config(config, SCHEMA)
    assert settings["nonsmooth"].dnn == DNNSettings() and settings["nonsmooth"].dnn.learning_rate == 0.01
    assert settings["run"].threads_per_job == 1
    assert "dnn" not in config["nonsmooth"]  # the config itself is not filled in


def test_a_disabled_family_is_not_built():
    config = _config()
    config["gan"]["enabled"] = False
    assert "gan" not in validate_config(config, SCHEMA) and "region" in validate_config(config, SCHEMA)


def test_config_without_the_new_families_is_valid():
    config = _config()
    del config["region"], config["intrinsic"], config["gan"]
    validate_config(config, SCHEMA)


def _drop(key):
    def edit(config):
        del config["nonsmooth"][key]
    return edit


def _set(path, value):
    def edit(config):
        node = config
        for part in path[:-1]:
            node = node[part]
        node[path[-1]] = value
    return edit


MALFORMED = [
    ("missing sizes", _drop("sizes"), "'sizes' is a required property"),
    ("missing seed", lambda c: c.pop("seed"), "'seed' is a required property"),
    ("negative n", _set(["nonsmooth", "sizes"], [-5, 256]), "nonsmooth.sizes[0]"),
    ("one size only", _set(["nonsmooth", "sizes"], [256]), "nonsmooth.sizes"),
    ("replicates as string", _set(["nonsmooth", "replicates"], "five"), "nonsmooth.replicates"),
    ("unknown estimator", _set(["nonsmooth", "estimators"], ["dnn", "svm"]), "nonsmooth.estimators[1]"),
    ("unknown top-level key", _set(["nonsmoth"], {}), "'nonsmoth' was unexpected"),
    ("unknown dnn key", _set(["nonsmooth", "dnn", "lr"], 0.1), "'lr' was unexpected"),
    ("bf16 matmuls", _set(["region", "dnn", "matmul_precision"], "medium"), "region.dnn.matmul_precision"),
    ("bad device", _set(["device"], "tpu"), "device"),
    ("zero noise", _set(["nonsmooth", "noise_sd"], 0), "nonsmooth.noise_sd"),
    ("too few test points", _set(["nonsmooth", "n_test"], 10), "nonsmooth.n_test"),
    ("target dim 1", _set(["nonsmooth", "targets", 0, "dim"], 1), "nonsmooth.targets[0].dim"),
    ("target negative alpha", _set(["nonsmooth", "targets", 1, "alpha"], -1.0), "nonsmooth.targets[1].alpha"),
    ("target without pieces", lambda c: c["nonsmooth"]["targets"][0].pop("pieces"), "nonsmooth.targets[0]"),
    ("duplicate target names", _set(["nonsmooth", "targets", 1, "name"], "hard2d"), "duplicate target names"),
    ("more pieces than sign patterns", _set(["nonsmooth", "targets", 0, "pieces"], 9), "nonsmooth.targets[0]"),
    ("critical-scale target with 3 pieces", _set(["nonsmooth", "targets", 0, "pieces"], 3),
     "nonsmooth.targets[0] (hard2d)': target 'hard2d': key 'pieces' must be 1 or 2"),
    ("unknown target instance", _set(["nonsmooth", "targets", 0, "instance"], "worst"),
     "nonsmooth.targets[0].instance"),
    ("unknown estimator parameter", _set(["nonsmooth", "estimator_params", "knn"], {"kk": 3}),
     "nonsmooth.estimator_params.knn"),
    ("confidence above one", lambda c: c["nonsmooth"].update(claims={"confidence": 1.5}),
     "nonsmooth.claims.confidence"),
    ("region empty alpha grid", _set(["region", "alphas"], []), "region.alphas"),
    ("region kernel ridge typo", _set(["region", "linear_estimators"], ["splines"]), "region.linear_estimators[0]"),
    ("region agreement above one", _set(["region", "claims", "agreement_target"], 1.2),
     "region.claims.agreement_target"),
    ("sphere larger than ambient space", _set(["intrinsic", "sphere", "intrinsic_dims"], [4, 128]),
     "intrinsic.sphere.intrinsic_dims"),
    ("ball dimension above ambient", _set(["intrinsic", "balls", "intrinsic_dims"], [2, 6]),
     "intrinsic.balls.intrinsic_dims"),
    ("network without dnn_ prefix", _set(["intrinsic", "balls", "networks", "wide"], {"depth": 2, "width": 9}),
     "intrinsic.balls.networks"),
    ("network without width", _set(["intrinsic", "balls", "networks", "dnn_x"], {"depth": 2}),
     "intrinsic.balls.networks.dnn_x"),
    ("unknown init", _set(["intrinsic", "sphere", "dnn", "init"], "xavier"), "intrinsic.sphere.dnn.init"),
    ("unknown intrinsic target", _set(["intrinsic", "sphere", "target", "name"], "sphere"),
     "intrinsic.sphere.target.name"),
    ("bad Nadaraya-Watson grid", _set(["intrinsic", "balls", "baseline_params", "nadaraya_watson"],
                                      {"bandwidths": []}), "intrinsic.balls.baseline_params.nadaraya_watson"),
    ("unknown GAN variant", _set(["gan", "variants"], ["wgan_gp", "dragan"]), "gan.variants[1]"),
    ("unknown GAN dataset", _set(["gan", "toy", "datasets"], ["ring", "moons"]),
     "gan.toy.datasets': 'moons' is neither a built-in 2-D dataset"),
    ("trajectory rate off the grid",
     _set(["gan", "toy", "trajectory"], {"dataset": "ring", "optimizer": "sgd", "learning_rate": 0.5}),
     "gan.toy.trajectory.learning_rate"),
    ("trajectory optimizer not run", _set(["gan", "learning_rates"], {"adam": [0.0003]}),
     "gan.toy.trajectory.optimizer"),
    ("trajectory on a dataset not run",
     _set(["gan", "toy", "trajectory"], {"dataset": "digits", "optimizer": "sgd", "learning_rate": 0.01}),
     "gan.toy.trajectory.dataset"),
    ("no W1 ratio for digits", _set(["gan", "convergence", "w1_ratio"], {"ring": 0.5}), "gan.convergence.w1_ratio"),
    ("unknown GAN optimizer", _set(["gan", "learning_rates"], {"sgd": [0.1], "rmsprop": [0.1]}),
     "gan.learning_rates"),
    ("sanity rate zero", _set(["gan", "sanity", "learning_rate"], 0), "gan.sanity.learning_rate"),
    ("GAN steps zero", _set(["gan", "digits", "steps"], 0), "gan.digits.steps"),
    ("unknown causal benchmark", _set(["causal", "benchmarks"], ["ce_multi", "sachs"]), "causal.benchmarks[1]"),
    ("unknown causal method", _set(["causal", "methods", "jarfo"], {}), "causal.methods"),
    ("causal size below 10", _set(["causal", "sizes"], [5, 50]), "causal.sizes[0]"),
    ("unknown Meta-CGNN setting", _set(["causal", "meta_cgnn", "model", "hidden"], 4), "causal.meta_cgnn.model"),
    ("unknown CGNN setting", _set(["causal", "methods", "cgnn", "settings"], {"epochs": 5}),
     "causal.methods.cgnn.settings"),
    ("CGNN runs zero", _set(["causal", "methods", "cgnn", "settings"], {"runs": 0}), "causal.methods.cgnn.settings"),
    ("unknown CGNN fused_mmd", _set(["causal", "methods", "cgnn", "settings"], {"fused_mmd": "always"}),
     "causal.methods.cgnn.settings.fused_mmd"),
    ("unknown ANM setting", _set(["causal", "methods", "anm", "settings"], {"kernel": "rbf"}),
     "causal.methods.anm.settings"),
    ("unknown batch-norm variant", _set(["batchnorm", "variants"], ["none", "group_norm"]), "batchnorm.variants[1]"),
    ("unknown batch-norm setting", _set(["batchnorm", "depth"], 3), "batchnorm"),
    ("unknown GD variant", _set(["batchnorm", "gd"], {"variants": ["batch"]}), "batchnorm"),
    ("zero spectra jobs", _set(["batchnorm", "spectra_jobs"], 0), "batchnorm.spectra_jobs"),
    ("more spectra jobs than pairs", _set(["batchnorm", "spectra_jobs"], 5),
     "batchnorm.spectra_jobs': 5 jobs for 4 (width, replicate) pairs"),
    ("unknown natural-gradient method", _set(["natgrad", "methods"], ["exact", "adam"]), "natgrad.methods[1]"),
    ("unknown natural-gradient setting", _set(["natgrad", "damping"], 0.1), "natgrad"),
    ("unknown spectra setting", _set(["spectra", "classes"], 10), "spectra"),
    ("unknown isometry SGD setting", _set(["isometry", "sgd"], {"stepz": 4}), "isometry"),
    # Issue 22: every number has a range in the schema, checked before any job.
    ("negative GD steps", _set(["batchnorm", "gd", "steps"], -5), "batchnorm.gd.steps"),
    ("spectra confidence above one", _set(["spectra", "claims"], {"confidence": 1.5}), "spectra.claims.confidence"),
    ("zero DNN learning rate", _set(["nonsmooth", "dnn", "learning_rate"], 0), "nonsmooth.dnn.learning_rate"),
    ("zero Meta-CGNN learning rate", _set(["causal", "meta_cgnn", "model", "learning_rate"], 0.0),
     "causal.meta_cgnn.model.learning_rate"),
    ("validation fraction 0.95", _set(["nonsmooth", "dnn", "validation_fraction"], 0.95),
     "nonsmooth.dnn.validation_fraction"),
    ("target n_terms above 30", _set(["nonsmooth", "targets", 1, "n_terms"], 31), "nonsmooth.targets[1].n_terms"),
    ("sphere radius beyond the cube", _set(["intrinsic", "sphere", "radius"], 0.7), "intrinsic.sphere.radius"),
    ("GAN late window above one", _set(["gan", "convergence", "window"], 1.5), "gan.convergence.window"),
    ("concentration above one", _set(["isometry", "claims"], {"concentration_threshold": 1.2}),
     "isometry.claims.concentration_threshold"),
    ("negative growth-slope threshold", _set(["batchnorm", "claims"], {"growth_slope_min": -0.5}),
     "batchnorm.claims.growth_slope_min"),
    ("width slope steeper than theory", _set(["natgrad", "claims"], {"width_slope_max": -2.0}),
     "natgrad.claims.width_slope_max"),
]


@pytest.mark.parametrize("case, edit, named", MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_config_is_rejected_naming_the_key(case, edit, named):
    config = copy.deepcopy(_config())
    edit(config)
    with pytest.raises(ConfigError) as error:
        validate_config(config, SCHEMA)
    assert named in str(error.value)


# A config file the workflow reads itself (the repository's defaults, a working directory's config/config.yaml) that
# is not YAML, empty or not a mapping: the error names the file, and the line for a YAML error.
BAD_FILES = [
    ("unclosed list", b"seed: 7\nnonsmooth:\n  sizes: [128, 256\n  replicates: 2\n", "line 4, column 13"),
    ("tab indentation", b"seed: 7\nnonsmooth:\n\tsizes: [128, 256]\n", "line 3, column 1"),
    ("value where a key goes", b"seed: 7\nnonsmooth:\n  sizes: [128]\n  - 256\n", "line 4, column 3"),
    ("unclosed quote", b"seed: 7\nreport:\n  title: \"smoke\n", "line 4"),
    ("empty file", b"", "is empty"),
    ("comments only", b"# seed: 7\n", "is empty"),
    ("list at the top", b"- seed: 7\n- nonsmooth: {}\n", "top level must be a mapping of keys"),
    ("text at the top", b"seed 7\n", "not a str"),
    ("not UTF-8", b"seed: 7\ntitle: \xff\xfe\n", "cannot read it"),
]


@pytest.mark.parametrize("case, content, named", BAD_FILES, ids=[b[0] for b in BAD_FILES])
def test_a_malformed_config_file_is_named(tmp_path, case, content, named):
    path = tmp_path / "mine.yaml"
    path.write_bytes(content)
    with pytest.raises(ConfigError) as error:
        load_config_file(path)
    assert str(error.value).startswith(f"config file {path}") and named in str(error.value)


def test_a_missing_config_file_is_named(tmp_path):
    with pytest.raises(ConfigError, match=r"config file .*nowhere\.yaml: cannot read it"):
        load_config_file(tmp_path / "nowhere.yaml")


def test_the_workflow_names_a_malformed_config_file_before_any_job(tmp_path):
    """A working directory's own config/config.yaml that is not YAML stops the run before any job."""
    (tmp_path / "config").mkdir()
    (tmp_path / "config/config.yaml").write_bytes(BAD_FILES[0][1])
    result = snakemake(tmp_path, "-n", check=False)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert f"config file {tmp_path}/config/config.yaml, line 4, column 13: not valid YAML" in output
    assert "Job stats" not in output and not (tmp_path / "results").exists()


def test_a_partial_config_elsewhere_gets_the_repository_defaults(tmp_path):
    """`--directory RUN --configfile mine.yaml` from anywhere: the keys mine.yaml leaves out come from the
    repository's config/config.yaml, as from the repository root (RUN has no config/ of its own)."""
    run, elsewhere = tmp_path / "run", tmp_path / "elsewhere"
    run.mkdir()
    elsewhere.mkdir()
    (elsewhere / "mine.yaml").write_text("nonsmooth:\n  estimators: [dnn, knn]\n")
    result = snakemake(run, "-n", "results/nonsmooth/nonsmooth.parquet", "--configfile",
                       str(elsewhere / "mine.yaml"))
    output = result.stdout + result.stderr
    counts = dict(re.findall(r"^(nonsmooth_\w+)\s+(\d+)$", output.split("Job stats:", 1)[1], flags=re.M))
    targets = len(_config("config")["nonsmooth"]["targets"])  # the default targets, seed and sizes
    assert counts == {"nonsmooth_simulate": str(targets), "nonsmooth_fit_linear": str(targets),
                      "nonsmooth_train_dnn": str(targets), "nonsmooth_collect": "1"}
    assert "results/nonsmooth/runs/jump2d/knn.parquet" in output and "fourier" not in output


def test_python_m_dltheory_config_checks_a_configfile_before_the_run(tmp_path, capsys):
    """Snakemake reads --configfile before the workflow and names neither file nor line; the checker does, on the
    repository's defaults, as the run would."""
    from dltheory.config import check_config_files, main

    bad, partial = tmp_path / "bad.yaml", tmp_path / "partial.yaml"
    bad.write_bytes(BAD_FILES[0][1])
    partial.write_text("seed: 11\nregion: {enabled: false}\nnonsmooth: {replicates: 3}\n")
    assert main([str(partial), str(bad)]) == 1
    assert capsys.readouterr().out == (f"error: config file {bad}, line 4, column 13: not valid YAML: expected ',' or "
                                       "']', but got ':'\n")
    assert main([str(partial)]) == 0 and "ok: " in capsys.readouterr().out
    settings = check_config_files([partial])
    defaults = _config("config")
    assert settings["run"].seed == 11 and "region" not in settings and settings["nonsmooth"].replicates == 3
    assert settings["nonsmooth"].sizes == tuple(defaults["nonsmooth"]["sizes"])  # the rest from the defaults


def _schema_nodes(node, path="", is_property=False):
    """(path, node, whether it is a property) of every schema node below ``node``: properties, definitions, array
    items and additionalProperties schemas."""
    yield path, node, is_property
    for name, child in node.get("properties", {}).items():
        yield from _schema_nodes(child, f"{path}.{name}" if path else name, True)
    for name, child in node.get("definitions", {}).items():
        yield from _schema_nodes(child, f"#{name}")
    for key, suffix in (("items", "[]"), ("additionalProperties", ".*")):
        if isinstance(node.get(key), dict):
            yield from _schema_nodes(node[key], path + suffix)


# Numbers of no natural range: the Dirac-GAN's start (theta, psi) and a user's mode centres may be any point of the
# plane.
UNBOUNDED = {"gan.dirac.start[]", "gan.mixtures.*.centres[][]"}


def test_every_schema_key_has_a_description_and_every_number_a_range():
    """Issue 22: every key is described, and every number has a lower bound (below its upper bound, if any)."""
    nodes = list(_schema_nodes(SCHEMA))
    undescribed = [path for path, node, is_property in nodes
                   if is_property and not (isinstance(node.get("description"), str) and node["description"].strip())]
    assert undescribed == []
    numeric = [(path, node) for path, node, _ in nodes
               if {"integer", "number"} & set(node.get("type") if isinstance(node.get("type"), list)
                                              else [node.get("type")])]
    assert len(numeric) > 200 and {path for path, _ in numeric} >= UNBOUNDED
    unbounded = [path for path, node in numeric if "minimum" not in node and "exclusiveMinimum" not in node]
    assert sorted(unbounded) == sorted(UNBOUNDED)
    for path, node in numeric:
        low = node.get("minimum", node.get("exclusiveMinimum"))
        high = node.get("maximum", node.get("exclusiveMaximum"))
        assert low is None or high is None or low < high, path


@pytest.mark.parametrize("path", [["nonsmooth", "targets", 1, "jump"], ["nonsmooth", "targets", 1, "amplitude"],
                                  ["region", "jump"]])
def test_the_schema_allows_what_the_target_checks_allow(path):
    """A zero jump or amplitude is a valid target (dltheory.nonsmooth.targets checks >= 0): the schema agrees."""
    config = copy.deepcopy(_config())
    _set(path, 0.0)(config)
    validate_config(config, SCHEMA)
