"""The SLURM profile fits the run: each submitted rule asks memory and runtime scaled by the config in use, CPUs equal
to its threads, a GPU only where it trains networks on the device (unless device: cpu); a job that no node can run
is named before any submission.
The cluster run itself is `make test-slurm` (tests/slurm/run.sh)."""

import re

import pytest
import yaml

from dltheory.cluster import MEM_FLOOR_MB, PAPER_REQUESTS, Node, job_request, parse_sinfo, unschedulable
from dltheory.config import load_schema, validate_config
from tests.conftest import ROOT

SCHEMA = load_schema(ROOT / "workflow/schemas/config.schema.yaml")


def _settings(name, **overrides):
    return validate_config({**yaml.safe_load((ROOT / f"config/{name}.yaml").read_text()), **overrides}, SCHEMA)


def _rule_blocks():
    """Every named rule's text in workflow/rules/*.smk, and the names listed under ``localrules:``."""
    blocks, local = {}, set()
    for path in sorted((ROOT / "workflow/rules").glob("*.smk")):
        text = path.read_text()
        starts = [(m.start(), m.group(1)) for m in re.finditer(r"^rule (\w+):$", text, re.M)]
        bounds = [start for start, _ in starts] + [len(text)]
        for (start, name), end in zip(starts, bounds[1:], strict=True):
            blocks[name] = text[start:end]
        for listing in re.findall(r"^localrules:\n((?:    \w+,\n)+)", text, re.M):
            local.update(re.findall(r"\w+", listing))
    return blocks, local


@pytest.fixture(scope="module")
def smoke():
    return _settings("smoke")


def test_smoke_config_asks_less_than_the_paper_config_of_every_rule(smoke):
    paper = _settings("paper")
    for rule, anchor in PAPER_REQUESTS.items():
        small, large = job_request(rule, smoke), job_request(rule, paper)
        # config/paper.yaml's job sizes are PAPER_JOB_SIZE: it asks exactly the paper request
        assert (large.mem_mb, large.runtime) == (anchor.mem_mb, anchor.runtime), rule
        assert small.mem_mb <= 1.02 * MEM_FLOOR_MB and small.runtime <= 20, (rule, small)


def test_a_gpu_only_for_rules_that_train_on_the_device_and_none_on_cpu(smoke):
    blocks, local = _rule_blocks()
    on_device = {name for name, block in blocks.items() if "device=RUN.device" in block} - local
    assert on_device == {rule for rule, request in PAPER_REQUESTS.items() if request.device}
    # ... and they are the rules whose script puts torch on the device (resolve_device): 12 of them
    scripts = {name: re.search(r'script:\n\s+"\.\./scripts/(\w+\.py)"', block) for name, block in blocks.items()}
    uses_device = {name for name, found in scripts.items() if found and name not in local
                   and "resolve_device(" in (ROOT / "workflow/scripts" / found.group(1)).read_text()}
    assert uses_device == on_device and len(on_device) == 12
    assert [rule for rule in PAPER_REQUESTS if job_request(rule, smoke).gpu] == []  # device: cpu
    for config in (_settings("smoke", device="cuda"), _settings("config"), _settings("paper")):  # cuda, auto, auto
        assert {rule for rule in PAPER_REQUESTS if job_request(rule, config).gpu == 1} == on_device


def test_batchnorm_measure_asks_no_gpu_at_paper_scale():
    # It computes Fisher spectra with torch on the CPU and never takes a device: no GPU under any device setting.
    for device in ("auto", "cuda"):
        assert job_request("batchnorm_measure", _settings("paper", device=device)).gpu == 0
    assert "device" not in _rule_blocks()[0]["batchnorm_measure"]


def test_every_submitted_rule_asks_its_own_resources_and_its_threads_as_cpus():
    blocks, local = _rule_blocks()
    submitted = set(blocks) - local
    assert submitted == set(PAPER_REQUESTS)
    for rule in submitted:
        assert f'**cluster_resources("{rule}")' in blocks[rule], rule
    profile = yaml.safe_load((ROOT / "workflow/profiles/slurm/config.yaml").read_text())
    assert profile["executor"] == "slurm"
    # no CPU count (the executor then asks --cpus-per-task = threads), no placeholder account or partition
    assert "default-resources" not in profile and "set-resources" not in profile


def test_a_job_larger_than_every_node_is_named_and_the_smoke_jobs_fit_a_small_node(smoke):
    nodes = parse_sinfo("main*|2|20000|(null)|infinite\ngpu|16|128000|gpu:a100:4(S:0-1)|2-00:00:00\n")
    assert nodes == [Node("main", 2, 20000, 0, float("inf")), Node("gpu", 16, 128000, 4, 2880)]
    small = nodes[:1]  # the node: 2 CPUs, 20 GB
    smoke_jobs = [(rule, None, 1, r.mem_mb, r.runtime, r.gpu) for rule in PAPER_REQUESTS
                  for r in [job_request(rule, smoke)]]
    assert unschedulable(smoke_jobs, small) == []
    assert unschedulable([("batchnorm_measure", None, 4, 8000, 60, 0), ("gan_train", "gpu", 1, 2000, 16, 1)],
                         nodes) == []
    assert unschedulable([("batchnorm_measure", None, 4, 8000, 60, 0), ("gan_train", "main", 1, 2000, 16, 1),
                          ("natgrad_train", "fast", 1, 2000, 16, 0)], small) == [
        "batchnorm_measure: asks 4 CPUs, 8000 MB, 60 min, 0 GPUs; nodes in any partition have at most 2 CPUs, "
        "20000 MB, 0 GPUs, a limit of none",
        "gan_train: asks 1 CPUs, 2000 MB, 16 min, 1 GPUs; nodes in partition 'main' have at most 2 CPUs, 20000 MB, "
        "0 GPUs, a limit of none",
        "natgrad_train: partition 'fast' does not exist (sinfo lists none of its nodes)",
    ]
