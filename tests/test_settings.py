"""One form for every family's settings: dataclasses built by one function, agreeing with the schema key for key."""

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from dltheory.config import FAMILIES, RunSettings, load_schema, settings_class, validate_config
from dltheory.settings import SettingsError, analysis_keys, from_config, job_config, schema_mismatches, to_config

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = load_schema(ROOT / "workflow/schemas/config.schema.yaml")
SMOKE = yaml.safe_load((ROOT / "config/smoke.yaml").read_text())


@pytest.mark.parametrize("family", list(FAMILIES))
def test_schema_and_dataclass_list_the_same_keys(family):
    problems = schema_mismatches(settings_class(family), SCHEMA["properties"][family], family,
                                 SCHEMA.get("definitions"))
    assert problems == []


def test_top_level_schema_keys_are_the_run_settings_and_the_families():
    top = {name: node for name, node in SCHEMA["properties"].items() if name not in FAMILIES}
    assert schema_mismatches(RunSettings, {"properties": top}, "<top>", SCHEMA.get("definitions")) == []


def test_the_schema_holds_no_defaults():
    # The dataclass is the one home of a default: a default in the schema would be a second one.
    def defaults(node, path):
        if isinstance(node, dict):
            found = [path] if "default" in node else []
            return found + [p for key, child in node.items() for p in defaults(child, f"{path}.{key}")]
        if isinstance(node, list):
            return [p for i, child in enumerate(node) for p in defaults(child, f"{path}[{i}]")]
        return []

    assert defaults(SCHEMA, "schema") == []


def test_the_checker_finds_a_key_missing_on_either_side():
    @dataclasses.dataclass(frozen=True)
    class Inner:
        a: int = 1

    @dataclasses.dataclass(frozen=True)
    class Outer:
        inner: Inner = dataclasses.field(default_factory=Inner)
        b: int = 0

    schema = {"properties": {"inner": {"properties": {"a": {}, "z": {}}}, "c": {}}}
    assert schema_mismatches(Outer, schema, "x") == ["x.c: in the schema, not in Outer",
                                                     "x.b: in Outer, not in the schema",
                                                     "x.inner.z: in the schema, not in Inner"]


def test_from_config_names_the_bad_key_at_any_depth():
    cls = settings_class("gan")
    section = SMOKE["gan"]
    with pytest.raises(SettingsError, match=r"^gan\.toy\.stepz: no such setting"):
        from_config(cls, {**section, "toy": {**section["toy"], "stepz": 3}}, "gan")
    with pytest.raises(SettingsError, match=r"^gan\.toy\.steps: required setting is missing"):
        from_config(cls, {**section, "toy": {k: v for k, v in section["toy"].items() if k != "steps"}}, "gan")
    with pytest.raises(SettingsError, match=r"^gan\.convergence\.w1_ratio: no threshold for dataset 'grid'"):
        from_config(cls, {**section, "convergence": {**section["convergence"], "w1_ratio": {"ring": 1.0}}}, "gan")


@pytest.mark.parametrize("family", list(FAMILIES))
def test_settings_round_trip_and_jobs_never_see_analysis_keys(family):
    settings = validate_config(SMOKE, SCHEMA)[family]
    assert from_config(type(settings), to_config(settings), family) == settings
    keys = analysis_keys(type(settings))
    assert keys, f"{family} declares no analysis-only key"
    job = job_config(settings)
    for key in keys:
        *parents, last = key.split(".")
        node = job
        for part in parents:
            node = node[part]
        assert last not in node, key


def test_lists_become_tuples_and_defaults_fill_in():
    settings = validate_config(SMOKE, SCHEMA)["nonsmooth"]
    assert isinstance(settings.sizes, tuple) and settings.claims.linear_slope_tolerance == 0.05
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.sizes = (1, 2)


def test_settings_and_analysis_modules_load_without_torch():
    code = ("import sys, dltheory.config, dltheory.gan.analysis, dltheory.causal.settings, "
            "dltheory.geometry.settings, dltheory.intrinsic.settings, dltheory.nonsmooth.settings\n"
            "from dltheory.config import FAMILIES, settings_class\n"
            "[settings_class(f) for f in FAMILIES]\n"
            "assert 'torch' not in sys.modules, sorted(m for m in sys.modules if m.startswith('dltheory'))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("family", list(FAMILIES))
def test_every_declared_figure_has_a_caption(family):
    names = validate_config(SMOKE, SCHEMA)[family].figure_names()
    assert names and all((ROOT / f"report/captions/{family}_{name}.rst").is_file() for name in names)


def test_a_claim_not_tested_is_counted_and_shown_apart(tmp_path):
    from dltheory.claims import Claim, scorecard
    from dltheory.report import FamilySection, render_report

    claims = [Claim("a.held", "src", "s", 1.0, "e", None, True).to_dict(),
              Claim("a.failed", "src", "s", 0.1, "e", None, False, detail="scale").to_dict(),
              Claim("a.untested", "src", "s", "none", "e", None, True, tested=False, detail="nothing learned")
              .to_dict()]
    assert claims[2]["holds"] is False  # a claim not tested never counts as held
    nan = Claim("a.nan", "src", "s", float("nan"), "e", None, False, detail="x").to_dict()
    assert not nan["tested"] and nan["detail"].startswith("not tested: the measurement is nan")
    assert scorecard(claims) == {"held": 1, "total": 3, "failed": 1, "untested": 1}
    html = render_report("t", [FamilySection("a", claims=claims)], ROOT / "report/template.html.j2")
    assert "1 could not be tested" in html and "1 did not" in html
    assert "<strong>why not tested:</strong> nothing learned" in html
    assert "<strong>diagnosis (not categorised):</strong> scale" in html


def test_gan_figures_follow_the_settings():
    section = {**SMOKE["gan"], "toy": {**SMOKE["gan"]["toy"], "trajectory": None}}
    settings = from_config(settings_class("gan"), section, "gan")
    assert settings.figure_names() == ("stability_map", "sanity", "samples_digits", "smoothness", "conditions",
                                       "dirac")
    section["digits"] = {**section["digits"], "enabled": False}
    section["sanity"] = {**section["sanity"], "enabled": False}
    assert from_config(settings_class("gan"), section, "gan").figure_names() == ("stability_map", "smoothness",
                                                                                  "conditions", "dirac")
