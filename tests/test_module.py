"""The workflow used as a Snakemake module: an outer workflow imports every rule under a prefix and gets the whole
DAG, every path resolved against this repository (the schema, scripts, notebooks, captions), not against its own."""

import re
import subprocess

import yaml

from tests.conftest import BIN, ROOT

OUTER = """\
configfile: "{root}/config/smoke.yaml"


module dltheory:
    snakefile:
        "{root}/Snakefile"
    config:
        config


use rule * from dltheory as dlt_*
"""


def _job_counts(output):
    """{rule: count} from the dry run's first job table (between 'Job stats:' and its 'total' line)."""
    table = output.split("Job stats:", 1)[1].split("\ntotal", 1)[0]
    return {name: int(count) for name, count in re.findall(r"^(\w+)\s+(\d+)$", table, flags=re.M)}


def test_an_outer_workflow_uses_every_rule_as_a_module(tmp_path):
    (tmp_path / "Snakefile").write_text(OUTER.format(root=ROOT))
    result = subprocess.run([str(BIN / "snakemake"), "-n", "--cores", "1"], cwd=tmp_path, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    output = result.stdout + result.stderr
    counts = _job_counts(output)
    sources = [ROOT / "Snakefile", *sorted((ROOT / "workflow/rules").glob("*.smk"))]
    rules = {name for source in sources for name in re.findall(r"^rule (\w+):", source.read_text(), flags=re.M)}
    # Every rule of the smoke DAG, prefixed: the named ones and those made in loops (the geometry families').
    assert {f"dlt_{name}" for name in rules} <= set(counts) and all(name.startswith("dlt_") for name in counts)
    assert {"dlt_spectra_collect", "dlt_isometry_notebook"} <= set(counts)
    smoke = yaml.safe_load((ROOT / "config/smoke.yaml").read_text())
    assert counts["dlt_nonsmooth_train_dnn"] == len(smoke["nonsmooth"]["targets"])
    assert counts["dlt_all"] == counts["dlt_report_assemble"] == 1
    # Outputs land in the outer workflow's directory; nothing was written for a dry run.
    assert "results/report/index.html" in output and not (tmp_path / "results").exists()
