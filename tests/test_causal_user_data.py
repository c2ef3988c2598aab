"""A user's own cause-effect benchmark (issue 22): a CSV of pairs in Tübingen's layout, checked before any job with
errors that name the file (and the line and SampleID), and scored as real data like Tübingen."""

import copy
from pathlib import Path

import numpy as np
import pytest
import yaml

from dltheory.causal import evaluation
from dltheory.causal.analysis import evaluation_of, headline_metric
from dltheory.causal.figures import view_label
from dltheory.causal.pairs import PairsFileError, load_pairs_csv
from dltheory.config import ConfigError, load_schema, validate_config
from dltheory.io import read_table
from tests.conftest import make_workdir, snakemake

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = load_schema(ROOT / "workflow/schemas/config.schema.yaml")


def _cells(values) -> str:
    return " ".join(f"{v:.6g}" for v in values)


def pair_rows(count: int, points: int, seed: int = 0) -> list[tuple[str, np.ndarray, np.ndarray, int, float]]:
    """(SampleID, A, B, Target, Weight) of ``count`` pairs y = x^3 + small noise; every second one written effect
    first (Target -1)."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(count):
        x = rng.uniform(-1, 1, points)
        y = x**3 + 0.02 * rng.standard_normal(points)
        rows.append((f"p{i}", x, y, 1, i + 1.0) if i % 2 == 0 else (f"p{i}", y, x, -1, i + 1.0))
    return rows


def write_pairs(path: Path, count: int = 6, points: int = 20, columns=("Target", "Weight")) -> Path:
    lines = [",".join(("SampleID", "A", "B", *columns))]
    for sample_id, a, b, target, weight in pair_rows(count, points):
        extra = {"Target": str(target), "Weight": str(weight)}
        lines.append(",".join([sample_id, _cells(a), _cells(b), *(extra[c] for c in columns)]))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return path


def test_a_valid_csv_gives_cause_first_pairs_with_their_weights(tmp_path):
    path = write_pairs(tmp_path / "mine.csv")
    pairs = load_pairs_csv(path, "mine")
    rows = pair_rows(6, 20)
    assert [p.name for p in pairs] == [f"mine/p{i}" for i in range(6)]
    assert all(p.label == 1 for p in pairs) and [p.weight for p in pairs] == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    for pair, (_, a, b, target, _) in zip(pairs, rows, strict=True):  # Target -1: B is the cause
        cause, effect = (a, b) if target == 1 else (b, a)
        np.testing.assert_allclose(pair.x, cause, rtol=1e-5)
        np.testing.assert_allclose(pair.y, effect, rtol=1e-5)
    oriented = evaluation.benchmark_pairs("mine", 0, 0, 11, str(path))  # as Tübingen: half flipped, at random
    assert sorted(p.label for p in oriented) == [-1, -1, -1, 1, 1, 1]


def test_target_and_weight_are_optional(tmp_path):
    pairs = load_pairs_csv(write_pairs(tmp_path / "mine.csv", columns=()), "mine")
    rows = pair_rows(6, 20)
    assert all(p.label == 1 and p.weight == 1.0 for p in pairs)
    np.testing.assert_allclose(pairs[1].x, rows[1][1], rtol=1e-5)  # column A taken as the cause


def test_a_user_benchmark_is_real_data():
    assert evaluation_of("mine") == "real" and headline_metric("mine") == "weighted_accuracy"
    assert evaluation_of("ce_gauss") == "in-distribution" and headline_metric("ce_gauss") == "accuracy"
    assert view_label("mine", {"mine": "My pairs"}) == "My pairs" and view_label("mine") == "mine"


TEN = _cells(range(12))
TEN_DOWN = _cells(range(12, 0, -1))
MALFORMED = [
    ("missing file", None, "no such file"),
    ("empty file", "", "is empty"),
    ("header only", "SampleID,A,B\n", "is empty"),
    ("not a CSV", b"\x89PNG\r\n\x1a\n\x00\xff", "not a readable CSV"),
    ("no column B", f"SampleID,A\np1,{TEN}\n", "missing column 'B'"),
    ("no SampleID", f"A,B\n{TEN},{TEN_DOWN}\n", "missing column 'SampleID'"),
    ("duplicate SampleID", f"SampleID,A,B\np1,{TEN},{TEN_DOWN}\np1,{TEN},{TEN_DOWN}\n",
     "line 3: SampleID 'p1' repeats line 2"),
    ("not numbers", f"SampleID,A,B\np1,{TEN},{TEN_DOWN}\np2,{TEN} x7,{TEN_DOWN} 1\n",
     "line 3 (SampleID 'p2'): column A holds 'x7', not a number"),
    ("lengths differ", f"SampleID,A,B\np1,{TEN},{TEN_DOWN} 4\n",
     "line 2 (SampleID 'p1'): A has 12 numbers and B has 13"),
    ("too few points", "SampleID,A,B\np1,1 2 3 4 5,5 3 4 1 2\n", "5 points, fewer than the 10 required"),
    ("constant side", f"SampleID,A,B\np1,{TEN},{_cells([2.0] * 12)}\n", "constant"),
    ("bad Target", f"SampleID,A,B,Target\np1,{TEN},{TEN_DOWN},0\n", "Target is '0'; it must be +1"),
    ("zero Weight", f"SampleID,A,B,Weight\np1,{TEN},{TEN_DOWN},0\n", "Weight is '0'; it must be a positive, finite"),
    ("infinite Weight", f"SampleID,A,B,Weight\np1,{TEN},{TEN_DOWN},inf\n", "Weight is 'inf'"),
    ("unknown column", f"SampleID,A,B,weight\np1,{TEN},{TEN_DOWN},1\n", "unknown column 'weight'"),
]


@pytest.mark.parametrize("case, content, named", MALFORMED, ids=[m[0] for m in MALFORMED])
def test_a_malformed_csv_is_named(tmp_path, case, content, named):
    path = tmp_path / "mine.csv"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content)
    with pytest.raises(PairsFileError) as error:
        load_pairs_csv(path, "mine")
    assert str(error.value).startswith(f"pairs file {path}") and named in str(error.value)


def _config(user_benchmarks: dict, benchmarks=("mine",)) -> dict:
    config = copy.deepcopy(yaml.safe_load((ROOT / "config/smoke.yaml").read_text()))
    causal = config["causal"]
    causal.update(benchmarks=list(benchmarks), user_benchmarks=user_benchmarks)
    causal["methods"]["cgnn"]["benchmarks"] = list(benchmarks)
    causal["meta_cgnn"]["held_out"] = []
    return config


def test_the_config_checks_names_and_files(tmp_path):
    path = str(write_pairs(tmp_path / "mine.csv"))
    settings = validate_config(_config({"mine": {"pairs": path, "label": "My pairs"}}), SCHEMA)["causal"]
    assert settings.benchmark_labels() == {"mine": "My pairs"} and settings.pool_benchmarks("all") == {"mine": "real"}
    cases = [
        (_config({}), "config key 'causal.benchmarks[0]': 'mine' is neither a built-in benchmark"),
        (_config({"tuebingen": {"pairs": path}}, ["tuebingen"]), "'causal.user_benchmarks.tuebingen'"),
        (_config({"mine": {"pairs": str(tmp_path / "none.csv")}}),
         f"config key 'causal.user_benchmarks.mine': pairs file {tmp_path / 'none.csv'}: no such file"),
    ]
    for config, named in cases:
        with pytest.raises(ConfigError) as error:
            validate_config(config, SCHEMA)
        assert named in str(error.value)


# Everything but the causal family off; CGNN and ANM score nothing, so the user benchmark's one scoring job runs
# IGCI and RECI (the cheap baselines).
OTHERS_OFF = {family: {"enabled": False} for family in
              ("nonsmooth", "region", "intrinsic", "gan", "batchnorm", "natgrad", "spectra", "isometry",
               "embedding", "overparam", "resinit", "selfpaced")}


def _user_workdir(tmp_path: Path, csv_text: str | None = None) -> Path:
    workdir = make_workdir(tmp_path)
    csv = workdir / "data/mine.csv"
    if csv_text is None:
        write_pairs(csv, count=8, points=60)
    else:
        csv.parent.mkdir()
        csv.write_text(csv_text)
    causal = {"benchmarks": ["mine"], "user_benchmarks": {"mine": {"pairs": "data/mine.csv", "label": "My pairs"}},
              "methods": {"cgnn": {"benchmarks": []}, "anm": {"benchmarks": []}}, "meta_cgnn": {"held_out": []}}
    (workdir / "mine.yaml").write_text(yaml.safe_dump({**OTHERS_OFF, "causal": causal}))
    return workdir


def test_a_bad_user_csv_stops_the_dry_run_naming_key_and_file(tmp_path):
    workdir = _user_workdir(tmp_path, f"SampleID,A,B\np1,{TEN},{TEN_DOWN} 4\n")
    result = snakemake(workdir, "-n", "--configfile", "config/smoke.yaml", "mine.yaml", check=False)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert ("config key 'causal.user_benchmarks.mine': pairs file data/mine.csv, line 2 (SampleID 'p1'): A has 12 "
            "numbers and B has 13") in output
    assert "Job stats" not in output and not (workdir / "results").exists()


def test_a_user_benchmark_is_scored_by_the_pipeline(tmp_path):
    workdir = _user_workdir(tmp_path)
    target = "results/causal/runs/mine/baselines.parquet"
    snakemake(workdir, target, "--configfile", "config/smoke.yaml", "mine.yaml")
    table = read_table(workdir / target)
    scores = table[table["metric"] == "score"]
    smoke = yaml.safe_load((ROOT / "config/smoke.yaml").read_text())
    sizes = smoke["causal"]["sizes"]
    assert set(scores["method"]) == {"igci", "reci"} and set(scores["benchmark"]) == {"mine"}
    assert (scores["skipped"] == "").all() and np.isfinite(scores["value"]).all()
    seed = evaluation.test_seed(smoke["seed"], "mine")
    pairs = evaluation.benchmark_pairs("mine", 0, 0, seed, str(workdir / "data/mine.csv"))
    labels = {p.name.split("/")[1]: p.label for p in pairs}
    assert sorted(labels.values()) == [-1] * 4 + [1] * 4
    for _, rows in scores.groupby(["method", "size"]):
        assert sorted(rows["pair"]) == sorted(f"mine/{name}" for name in labels)  # one row per pair and size
        assert {row.pair: row.label for row in rows.itertuples()} == {f"mine/{k}": v for k, v in labels.items()}
        assert sorted(rows["weight"]) == [float(i) for i in range(1, 9)]
    assert len(scores) == 2 * len(sizes) * 8
