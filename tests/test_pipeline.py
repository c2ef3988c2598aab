"""The whole DAG on the smoke config, run once in a temporary directory, as a user would get it."""

import html
import json
import re
import subprocess
import sys

import matplotlib.image
import pytest
from markupsafe import escape

from dltheory.io import read_provenance, read_table
from dltheory.nonsmooth.experiment import RUN_COLUMNS
from dltheory.report import browser
from tests.conftest import ROOT, snakemake

pytestmark = pytest.mark.slow

TARGETS = ["hard2d", "smooth2d"]  # config/smoke.yaml: a critical-scale piecewise target and the smooth control
METHODS = ["dnn", "fourier", "spline", "kernel_ridge", "gaussian_process", "knn"]
FIGURES = ["target_map", "error_vs_n", "smooth_control"]
# The smoke config's region grid and intrinsic settings.
REGION_CELLS = ["a2_b1", "a2_b2.5", "a5_b1", "a5_b2.5"]
INTRINSIC_SETTINGS = ["sphere_D128_d2", "sphere_D128_d4", "sphere_D16_d2", "balls_D5_d2"]
INTRINSIC_RUNS = ["sphere_D128_d2/dnn", "sphere_D128_d4/dnn", "sphere_D16_d2/dnn", "balls_D5_d2/dnn_l2w36",
                  "balls_D5_d2/knn", "balls_D5_d2/nadaraya_watson",
                  *(f"{setting}/references" for setting in INTRINSIC_SETTINGS)]
FAMILY_FIGURES = {
    "nonsmooth": FIGURES,
    "region": ["theory_region", "empirical_map"],
    "intrinsic": ["sphere_error_vs_n", "balls_error_vs_n"],
    "gan": ["stability_map", "sanity", "trajectories", "samples_2d", "samples_digits", "smoothness", "conditions",
            "dirac"],
    "causal": ["accuracy_vs_n", "meta_training", "seconds_per_pair", "tables"],
    "batchnorm": ["fisher_vs_width", "tm_diagram", "gd_grid"],
    "natgrad": ["loss_vs_step", "exact_vs_width", "one_step_vs_width"],
    "spectra": ["histograms", "outliers_vs_width", "input_metric_vs_dim"],
    "isometry": ["spectra", "max_and_edge_vs_depth", "spread_vs_depth", "sgd_grid"],
    "embedding": ["eigenvalue_counts", "loss_slices", "escape"],
    "overparam": ["rf_curves", "mlp_width", "gap_vs_parameters", "parallel"],
    "resinit": ["variance_vs_depth", "gradient_profile", "trainability_loss", "trainability_fraction"],
    "selfpaced": ["accuracy_vs_n", "augmented_fraction", "harmful_augmentation", "paired_gains", "loss_variance"],
}
GAN_VARIANTS = ["sn_wasserstein", "sn_gp", "smoothed"]  # config/smoke.yaml
CAUSAL_BENCHMARKS = ["ce_multi", "heavy_tailed", "sharp_anm", "tuebingen"]  # config/smoke.yaml
CAUSAL_CGNN = ["ce_multi", "tuebingen"]  # config/smoke.yaml: the benchmarks CGNN scores
CAUSAL_POOLS = ["all", "no_ce_multi", "sanity"]  # config/smoke.yaml: its families, CE-Multi held out, known answer
BATCHNORM_VARIANTS = ["none", "last_batch_norm", "last_batch_norm_full", "hidden_batch_norm",
                      "last_layer_norm"]  # config/smoke.yaml
NATGRAD_METHODS = ["gd", "exact", "block_diagonal", "block_tridiagonal", "kfac", "unit_wise"]


def expected_outputs():
    outputs = [f"results/nonsmooth/data/{t}.npz" for t in TARGETS]
    outputs += [f"results/nonsmooth/runs/{t}/{m}.parquet" for t in TARGETS for m in [*METHODS, "reference"]]
    outputs += ["results/nonsmooth/nonsmooth.parquet", "results/nonsmooth/notebook.ipynb",
                "results/nonsmooth/claims.json", "results/report/index.html"]
    outputs += [f"results/region/data/{c}.npz" for c in REGION_CELLS]
    outputs += [f"results/region/runs/{m}.parquet" for m in ("references", "dnn", "fourier")]
    outputs += [f"results/intrinsic/runs/{r}.parquet" for r in INTRINSIC_RUNS]
    outputs += [f"results/gan/runs/{part}/{v}.{kind}.parquet" for part in ("toy", "digits") for v in GAN_VARIANTS
                for kind in ("metrics", "samples")]
    outputs += [f"results/gan/runs/sanity/wgan_gp.{kind}.parquet" for kind in ("metrics", "samples")]
    outputs += ["results/gan/classifier/classifier.pt", "results/gan/classifier/classifier.json",
                "results/gan/samples.parquet"]
    # the baselines (ANM, IGCI, RECI) share one job per benchmark
    outputs += [f"results/causal/runs/{b}/baselines.parquet" for b in CAUSAL_BENCHMARKS]
    outputs += [f"results/causal/runs/{b}/cgnn.parquet" for b in CAUSAL_CGNN]
    outputs += [f"results/causal/{part}" for pool in CAUSAL_POOLS for part in
                (f"meta/{pool}/model.pt", f"meta/{pool}/history.parquet", f"runs/trained_{pool}.parquet")]
    outputs += ["results/causal/timing.parquet"]
    outputs += [f"results/batchnorm/runs/{part}.parquet" for part in ("spectra", "gd")]
    outputs += [f"results/natgrad/runs/{m}.parquet" for m in NATGRAD_METHODS]
    outputs += ["results/spectra/runs/spectra.parquet", "results/isometry/runs/spectra.parquet",
                "results/isometry/runs/sgd.parquet"]
    outputs += [f"results/overparam/runs/{part}.parquet" for part in ("random_features", "networks")]
    outputs += ["results/resinit/runs/measure.parquet"]
    outputs += ["results/selfpaced/runs/n20_40.parquet"]  # config/smoke.yaml: both sizes in one job
    for family, figures in FAMILY_FIGURES.items():
        outputs += [f"results/{family}/{family}.parquet", f"results/{family}/notebook.ipynb",
                    f"results/{family}/claims.json"]
        outputs += [f"results/{family}/figures/{f}.{ext}" for f in figures for ext in ("png", "svg")]
    return outputs


def test_every_expected_output_exists(smoke_run):
    missing = [path for path in expected_outputs() if not (smoke_run / path).is_file()]
    assert missing == []


def test_tables_have_the_documented_columns_and_provenance(smoke_run):
    table = read_table(smoke_run / "results/nonsmooth/nonsmooth.parquet")
    assert list(table.columns) == RUN_COLUMNS
    mse = table[table.metric == "mse"]
    # 2 targets x (6 methods + the constant and ridge references) x 2 sizes x 2 replicates
    assert len(mse) == 64
    assert set(mse.method) == {*METHODS, "constant", "ridge"} and set(mse.n) == {128, 256}
    provenance = read_provenance(smoke_run / "results/nonsmooth/nonsmooth.parquet")
    assert len(provenance["config_hash"]) == 12 and provenance["git_commit"]
    assert provenance["versions"]["torch"].startswith("2.13.0")


def test_new_family_tables_cover_their_grids(smoke_run):
    from dltheory.intrinsic.experiment import RUN_COLUMNS as INTRINSIC_COLUMNS

    region = read_table(smoke_run / "results/region/region.parquet")
    assert list(region.columns) == RUN_COLUMNS and set(region.family) == {"region"}
    mse = region[region.metric == "mse"]
    # 4 cells x (dnn, fourier, constant, ridge) x 2 sizes x 2 replicates
    assert len(mse) == 64 and set(mse.target) == set(REGION_CELLS)
    intrinsic = read_table(smoke_run / "results/intrinsic/intrinsic.parquet")
    assert list(intrinsic.columns) == INTRINSIC_COLUMNS
    mse = intrinsic[intrinsic.metric == "mse"]
    # sphere: 3 (D, d) x (dnn, constant, ridge) x 2 sizes x 2 replicates; balls: 5 methods x 2 sizes x 2 replicates
    assert len(mse) == 36 + 20
    assert set(mse[mse.simulation == "sphere"].ambient_dim) == {16, 128}
    assert (mse.value > 0).all() and mse.learned.dtype == bool


def test_gan_tables_cover_every_run_and_its_claims_parse(smoke_run):
    everything = read_table(smoke_run / "results/gan/gan.parquet")
    table = everything[everything.part != "sanity"]
    runs = table.groupby(["dataset", "variant", "activation", "optimizer", "learning_rate", "seed"]).size()
    # (ring, grid, digits) x 3 variants x 2 activations x (2 gradient-descent + 1 Adam rates) x 2 seeds
    assert len(runs) == 3 * 3 * 2 * 3 * 2
    assert set(table.dataset) == {"ring", "grid", "digits"} and set(table.variant) == set(GAN_VARIANTS)
    sanity = everything[everything.part == "sanity"]
    assert set(sanity.variant) == {"wgan_gp"} and set(sanity.optimizer) == {"adam"} and sanity.seed.nunique() == 2
    # The conditions are measured on every 2-D run at its last step; digits have none.
    measured = table[table.metric == "generator_smoothness"].dropna(subset=["value"])
    assert set(measured.dataset) == {"ring", "grid"} and (measured.value > 0).all()
    digits = table[table.dataset == "digits"]
    digits = digits[digits.step == digits.step.max()].dropna(subset=["value"])
    assert {"class_coverage", "mean_confidence", "frechet_distance"} <= set(digits.metric)
    claims = json.loads((smoke_run / "results/gan/claims.json").read_text())
    dirac = {"gan.dirac.non_saturating", "gan.dirac.wgan_clip", "gan.dirac.wgan_gp", "gan.dirac.r1"}
    assert {c["id"] for c in claims} == {"gan.sanity_baseline_learns", "gan.sn_alone_fails",
                                         "gan.smooth_activations_help", "gan.eventual_stationarity", *dirac}
    stability = {"gan.sn_alone_fails", "gan.smooth_activations_help", "gan.eventual_stationarity"}
    assert all(c["ours"] and "ICLR 2020" in c["source"] for c in claims if c["id"] in stability)
    # At smoke scale nothing learns: every stability claim that fails says why.
    assert all(c["detail"] for c in claims if not c["holds"])
    # The known-answer case: every published Dirac-GAN verdict is reproduced, at any scale.
    assert all(c["holds"] and "ICML 2018" in c["source"] for c in claims if c["id"] in dirac)


def test_geometry_tables_cover_their_grids_and_claims_parse(smoke_run):
    batchnorm = read_table(smoke_run / "results/batchnorm/batchnorm.parquet")
    fisher = batchnorm[(batchnorm.metric == "lambda_max") & (batchnorm.grid == "sweep")]
    # 5 variants x 2 widths x 2 seeds (T = M/2, D = M/2), every eigenvalue positive
    assert len(fisher) == 20 and set(fisher.variant) == set(BATCHNORM_VARIANTS) and (fisher.value > 0).all()
    diagram = batchnorm[batchnorm.grid == "diagram"]
    assert len(diagram) == 2 * 3 * 2 * 2  # (none, last_batch_norm) x T in (4, 8, 16) x 2 widths x 2 seeds
    grid = batchnorm[batchnorm.metric == "final_loss"]
    assert len(grid) == 2 * 2 * 2 * 5 and grid.first_rise.notna().all()  # 2 variants x 2 widths x 2 seeds x 5 rates
    natgrad = read_table(smoke_run / "results/natgrad/natgrad.parquet")
    first = natgrad[(natgrad.metric == "loss") & (natgrad.split == "train") & (natgrad.step <= 1)]
    # The exact job adds the NTK-limit prediction, the K-FAC job the paper's convention beside the textbook one.
    assert set(first.method) == {*NATGRAD_METHODS, "ntk_limit", "kfac_paper"}
    # Every method moved the loss in every (width, replicate): its step-1 loss differs from its step-0 loss.
    steps = first.pivot_table(index=["method", "width", "replicate"], columns="step", values="value")
    assert (steps[0] != steps[1]).all() and steps.index.get_level_values("replicate").nunique() >= 2
    # config/smoke.yaml: exact NGD at widths 32 and 64, the approximations at 64 and approximation_widths' 32, GD at 64
    widths = first.groupby("method")["width"].unique().map(sorted)
    assert widths["exact"] == widths["kfac_paper"] == widths["unit_wise"] == [32, 64] and widths["gd"] == [64]
    spectra = read_table(smoke_run / "results/spectra/spectra.parquet")
    assert set(spectra.matrix) == {"fim_linear", "fim_softmax", "input_linear", "input_softmax"}
    # config/smoke.yaml: both sweeps, 2 activations x 2 sizes x 2 seeds each
    assert set(spectra.part) == {"width", "input_dim"} and set(spectra.activation) == {"tanh", "relu"}
    assert set(spectra[spectra.part == "input_dim"].input_dim) == {4, 8} and spectra.replicate.nunique() == 2
    isometry = read_table(smoke_run / "results/isometry/isometry.parquet")
    assert set(isometry.part) == {"spectra", "sgd"} and set(isometry.depth) == {2, 4}
    # The main point and config.yaml's conditions (small_q with SGD, hard_tanh, the linear sanity case).
    assert set(isometry.condition) == {"main", "small_q", "hard_tanh", "linear"}
    overparam = read_table(smoke_run / "results/overparam/overparam.parquet")
    assert set(overparam.part) == {"random_features", "mlp", "parallel"} and overparam.replicate.nunique() == 2
    selfpaced = read_table(smoke_run / "results/selfpaced/selfpaced.parquet")
    assert set(selfpaced.n) == {20, 40} and set(selfpaced.method) == {"no_augmentation", "augment_all", "self_paced",
                                                                     "random_matched", "randaugment"}
    resinit = read_table(smoke_run / "results/resinit/resinit.parquet")
    assert set(resinit.part) == {"statistics", "profile", "sanity", "sweep"} and set(resinit.depth) == {2, 4, 8}
    # overparam: the sanity case, 3 random-features claims x 2 noise rates, 2 network claims per rate plus the
    # noisy peak, and the parallel networks
    # resinit: M11-1 x 2 directions, M11-2 x 2 per c (c = 1, 2), M11-3 x 3, M11-4 and M11-5 at the sweep's one
    # depth, and the sanity cases (Taki = rescaled He; Fixup, SkipInit, ReZero start as the identity)
    # selfpaced: M13-1 ... M13-5 and M13-6 per augmentation (shift + rotate, flip, mixup)
    prefixes = {"batchnorm": 10, "natgrad": 6, "spectra": 6, "isometry": 16, "overparam": 13, "resinit": 15,
                "selfpaced": 8}
    for family, count in prefixes.items():
        claims = json.loads((smoke_run / f"results/{family}/claims.json").read_text())
        assert len(claims) == count and all(c["id"].startswith(f"{family}.") for c in claims), family


def test_embedding_table_covers_its_grid_and_claims_parse(smoke_run):
    table = read_table(smoke_run / "results/embedding/embedding.parquet")
    # config/smoke.yaml: tanh, softplus, relu on 1-D inputs (n = 20), one teacher, narrow widths 1 and 2
    assert set(table.activation) == {"tanh", "softplus", "relu"} and set(table.input_dim) == {1}
    assert {"sanity", "narrow", "embedded", "escape", "slice"} <= set(table.part)
    embedded = table[(table.part == "embedded") & (table.metric == "grad_norm")]
    assert set(embedded.embedding) <= {"replication", "inactive", "constant"} and (embedded.value < 1e-8).all()
    claims = json.loads((smoke_run / "results/embedding/claims.json").read_text())
    assert len(claims) == 8 and all(c["id"].startswith("embedding.") for c in claims)
    # The known answer holds at any scale.
    assert next(c for c in claims if c["id"] == "embedding.sanity_closed_form_counts")["holds"]
    # The deep part at a tiny size: the narrow network and its embeddings, each with its Hessian's extremes.
    deep = read_table(smoke_run / "results/embedding/deep.parquet")
    assert set(deep.embedding) == {"narrow", "replication", "constant"} and set(deep.method) == {"full"}
    assert (deep[deep.metric == "loss_change"].value.abs() < 1e-12).all()


def test_causal_tables_score_every_planned_subsample_and_claims_parse(smoke_run):
    table = read_table(smoke_run / "results/causal/causal.parquet")
    scores = table[table.metric == "score"]
    counts = scores.groupby(["benchmark", "method"]).size()
    # config/smoke.yaml: 6 synthetic pairs, 99 Tübingen pairs; sizes 25 and 50; 1 subsample; CGNN on the first 2
    # pairs at n = 25 of CE-Multi and Tübingen, ANM on the first 3; the trained methods of pool 'all' on every
    # benchmark but the known-answer one, those of pool 'no_ce_multi' (no extension there) on CE-Multi again, and
    # pool 'sanity''s Meta-CGNN alone on the known-answer pairs
    assert counts[("tuebingen", "meta_cgnn")] == 99 * 2 and counts[("tuebingen", "reci")] == 99 * 2
    assert counts[("ce_multi", "meta_cgnn")] == 2 * 6 * 2 and counts[("ce_multi", "meta_cgnn_contrast")] == 6 * 2
    assert counts[("heavy_tailed", "meta_cgnn")] == 6 * 2 and counts[("sharp_anm", "meta_cgnn")] == 6 * 2
    assert ("sharp_anm", "rcc") not in counts and ("sharp_anm", "cgnn") not in counts
    assert set(table.loc[table.pool == "all", "evaluation"]) == {"in-distribution", "held-out", "real"}
    assert counts[("tuebingen", "rcc")] == 99 * 2
    assert counts[("tuebingen", "cgnn")] == 2 and counts[("ce_multi", "anm")] == 3
    assert scores.value.notna().all() and (scores.skipped == "").all()
    assert set(scores.label) == {-1, 1}
    # Every method scored the same points: replicate 0 of a pair at n = 25 has one size for all of them.
    first = scores[(scores["size"] == 25) & (scores.replicate == 0)]
    assert (first.groupby(["benchmark", "pair"]).n_points.nunique() == 1).all()
    timing = read_table(smoke_run / "results/causal/timing.parquet")
    assert set(timing.method) == {"meta_cgnn", "cgnn"} and (timing.seconds > 0).all()
    claims = json.loads((smoke_run / "results/causal/claims.json").read_text())
    assert [c["id"] for c in claims] == ["causal.meta_matches_best_earlier_held_out",
                                         "causal.meta_matches_best_earlier_in_distribution",
                                         "causal.meta_stable_across_sizes", "causal.sanity_known_direction",
                                         "causal.meta_faster_than_cgnn"]
    assert claims[3]["tested"] and "meta_cgnn: " in claims[3]["detail"]  # smoke: the known answer at n = 25
    assert all(isinstance(c["holds"], bool) and "AAAI 2021" in c["source"] for c in claims if c is not claims[3])


def test_figures_are_valid_pngs(smoke_run):
    for family, figures in FAMILY_FIGURES.items():
        for name in figures:
            image = matplotlib.image.imread(smoke_run / f"results/{family}/figures/{name}.png")
            assert image.shape[0] > 200 and image.shape[1] > 200


def test_claims_parse_and_carry_their_source(smoke_run):
    claims = json.loads((smoke_run / "results/nonsmooth/claims.json").read_text())
    # per target the DNN learns; per linear estimator (4): DNN-vs-linear and the linear bound on hard2d, the
    # one-sided DNN-vs-linear on smooth2d
    assert len(claims) == 2 + 3 * 4
    assert sum(c["id"].endswith("_no_faster_than_linear_bound") for c in claims) == 4
    for claim in claims:
        assert {"id", "source", "statement", "measured", "expected", "tolerance", "holds"} <= set(claim)
        assert "JMLR" in claim["source"] and isinstance(claim["holds"], bool)
    region = json.loads((smoke_run / "results/region/claims.json").read_text())
    assert [c["id"] for c in region] == ["region.dnn_wins_inside_theory", "region.agreement_with_theory"]
    assert all("Fig. 2" in c["source"] for c in region)
    intrinsic = json.loads((smoke_run / "results/intrinsic/claims.json").read_text())
    # four sphere claims (Sec. 6.1's two findings, the references, the ambient-D control) and one per ball setting
    assert len(intrinsic) == 5 and all("Nakada & Imaizumi" in c["source"] for c in intrinsic)


def test_report_links_resolve_and_show_every_figure(smoke_run):
    from dltheory.report import broken_links

    page = smoke_run / "results/report/index.html"
    text = page.read_text()
    assert broken_links(page) == []  # files (the notebooks' HTML among them) and in-page anchors (claim -> figure)
    for family in FAMILY_FIGURES:
        assert (smoke_run / f"results/{family}/notebook.html").stat().st_size > 10_000
        assert f'href="../{family}/notebook.html"' in text
    # Every claim links to the figure it is read from (report/families.yaml's patterns), one of its family's.
    import yaml

    from dltheory.claims import DIAGNOSES
    from dltheory.report import claim_figure

    patterns = yaml.safe_load((ROOT / "report/families.yaml").read_text())
    for family, figures in FAMILY_FIGURES.items():
        for claim in json.loads((smoke_run / f"results/{family}/claims.json").read_text()):
            assert claim_figure(claim["id"], patterns[family]["claims"]) in figures, claim["id"]
            assert f'<tr id="claim-{escape(claim["id"])}">' in text
            # every tested claim that does not hold carries its diagnosis category
            assert claim["holds"] or not claim["tested"] or claim["diagnosis"] in DIAGNOSES, claim["id"]
    for family, figures in FAMILY_FIGURES.items():
        for name in figures:
            assert f"{family}/figures/{name}.png" in text
    assert "claims held" in text.lower() or "claims scorecard" in text.lower()
    # Every claim's detail (its diagnosis when it fails, the settings chosen after pilots) stands beside it.
    claims = json.loads((smoke_run / "results/nonsmooth/claims.json").read_text())
    assert all(str(escape(c["detail"])) in text for c in claims)
    failed = [c for c in claims if not c["holds"]]
    # A failed claim's diagnosis category heads its detail (a long detail folded after its first sentences).
    assert not failed or f"<strong>diagnosis ({failed[0]['diagnosis']}):</strong>" in text


@pytest.mark.skipif(browser() is None, reason="no headless Chromium on PATH (Debian: apt install chromium)")
def test_the_report_fits_1280_px_in_a_browser_with_every_link_and_image(smoke_run):
    result = subprocess.run([sys.executable, str(ROOT / "workflow/scripts/check_report.py"),
                             str(smoke_run / "results/report/index.html")], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_figures_remake_command_from_the_report_reruns_its_notebook_only(smoke_run):
    import shlex

    text = (smoke_run / "results/report/index.html").read_text()
    command = html.unescape(re.search(r"remake: <code>(snakemake [^<]+)</code>", text).group(1))
    assert "--configfile config/smoke.yaml" in command  # the config the run read, so the remake matches it
    args = shlex.split(command)[1:]
    result = snakemake(smoke_run, *args, "-n")
    planned = re.findall(r"^(?:local)?rule (\w+):", result.stdout + result.stderr, re.M)
    assert planned and {rule for rule in planned} == {args[args.index("--forcerun") + 1]}, planned


def test_executed_notebook_has_outputs(smoke_run):
    notebook = json.loads((smoke_run / "results/nonsmooth/notebook.ipynb").read_text())
    assert notebook["metadata"]["kernelspec"]["name"] == "python3"
    assert any(cell.get("outputs") for cell in notebook["cells"] if cell["cell_type"] == "code")


def test_a_second_run_does_nothing(smoke_run):
    result = snakemake(smoke_run, "--configfile", "config/smoke.yaml", "-n")
    assert "Nothing to be done" in result.stdout + result.stderr


def test_snakemake_report_zip_builds(smoke_run):
    snakemake(smoke_run, "--configfile", "config/smoke.yaml", "--report", "results/report.zip")
    assert (smoke_run / "results/report.zip").stat().st_size > 10_000


def test_lint_passes():
    result = snakemake(ROOT, "--configfile", "config/smoke.yaml", "--lint", check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_bad_config_stops_before_any_job(tmp_path):
    (tmp_path / "config").mkdir()
    config = (ROOT / "config/smoke.yaml").read_text().replace("replicates: 2", "replicates: -3", 1)
    (tmp_path / "config/config.yaml").write_text(config)
    result = snakemake(tmp_path, check=False)
    assert result.returncode != 0
    assert "nonsmooth.replicates" in result.stdout + result.stderr
    assert not (tmp_path / "results").exists()


def test_ruff_finds_nothing():
    import subprocess

    from tests.conftest import BIN

    result = subprocess.run([str(BIN / "ruff"), "check", "src", "tests", "workflow/scripts", "benchmarks", "notebooks"],
                            cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout


def test_rule_files_are_snakefmt_clean():
    import subprocess

    from tests.conftest import BIN

    result = subprocess.run([str(BIN / "snakefmt"), "--check", "Snakefile", "workflow/rules"],
                            cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_slurm_profile_asks_no_gpu_on_the_cpu_config_and_each_submitted_job_its_resources(tmp_path):
    from tests.conftest import make_workdir

    workdir = make_workdir(tmp_path)
    result = snakemake(workdir, "-n", "--workflow-profile", str(ROOT / "workflow/profiles/slurm"),
                       "--configfile", "config/smoke.yaml")
    blocks = (result.stdout + result.stderr).split("\nrule ")[1:]  # one per job
    submitted = [b for b in blocks if not ANALYSIS_JOBS.match(b.split(":")[0])]  # the local rules ask nothing
    assert len(submitted) > 40 and not any("gpu=" in b or "slurm_partition=" in b or "slurm_account=" in b
                                           for b in blocks)
    assert all(re.search(r"runtime=\d+, mem_mb=\d+", b) for b in submitted)


ANALYSIS_JOBS = re.compile(r"^(\w+_collect|\w+_collect_samples|\w+_notebook|report_assemble|all)$")


def _perturbed(value):
    """Another valid value of an analysis-only setting: numbers moved down by 1 % (integers up by 1; 0.0 to 0.01),
    free text extended, at any depth."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, str):
        return value + " (changed)"
    if isinstance(value, int):
        return value + 1
    if isinstance(value, float):
        return value * 0.99 if value else 0.01
    if isinstance(value, dict):
        return {key: _perturbed(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_perturbed(item) for item in value]
    return value


def _job_counts(output: str) -> dict[str, int]:
    """Snakemake's dry-run "Job stats" table as {rule: count}."""
    stats = output.split("Job stats:", 1)[1]
    rows = [line.split() for line in stats.splitlines()[3:]]
    counts = {}
    for row in rows:
        if len(row) != 2 or not row[1].isdigit() or row[0] == "total":
            break
        counts[row[0]] = int(row[1])
    return counts


def test_an_analysis_only_key_reruns_the_analysis_not_the_training(smoke_run):
    # Every analysis-only key of every family (claims, convergence thresholds), changed at once: only the collects,
    # the notebooks and the report may rerun; a training or measuring job that reruns got a key it does not use.
    import yaml

    from dltheory.config import load_schema, validate_config
    from dltheory.settings import analysis_keys, to_config

    config = yaml.safe_load((ROOT / "config/smoke.yaml").read_text())
    settings = validate_config(config, load_schema(ROOT / "workflow/schemas/config.schema.yaml"))
    overlay, changed = {}, []
    for family, family_settings in settings.items():
        if family == "run":
            continue
        plain = to_config(family_settings)
        for key in analysis_keys(type(family_settings)):
            *parents, last = key.split(".")
            source, target = plain, overlay.setdefault(family, {})
            for part in parents:
                source, target = source[part], target.setdefault(part, {})
            target[last] = _perturbed(source[last])
            assert target[last] != source[last], f"{family}.{key} was not changed"
            changed.append(f"{family}.{key}")
    assert len(changed) >= 9
    (smoke_run / "config/analysis_overlay.yaml").write_text(yaml.safe_dump(overlay))
    result = snakemake(smoke_run, "-n", "--configfile", "config/smoke.yaml", "config/analysis_overlay.yaml")
    counts = _job_counts(result.stdout + result.stderr)
    assert counts, result.stdout[-2000:]
    assert sorted(rule for rule in counts if not ANALYSIS_JOBS.match(rule)) == []
    notebooks = {rule for rule in counts if rule.endswith("_notebook")}
    assert notebooks == {f"{family}_notebook" for family in settings if family != "run"}


def test_gan_without_trajectory_runs_end_to_end(tmp_path):
    # toy.trajectory: null (no trajectory figures) and digits off: the notebook draws exactly what the rules expect.
    import yaml

    from tests.conftest import make_workdir

    workdir = make_workdir(tmp_path)
    config = yaml.safe_load((ROOT / "config/smoke.yaml").read_text())
    for family in ("nonsmooth", "region", "intrinsic", "causal", "batchnorm", "natgrad", "spectra", "isometry",
                   "embedding", "overparam", "resinit", "selfpaced"):
        config[family]["enabled"] = False
    gan = config["gan"]
    gan["variants"], gan["learning_rates"] = ["smoothed"], {"sgd": gan["learning_rates"]["sgd"][:1]}
    gan["digits"]["enabled"] = False
    gan["sanity"]["enabled"] = False
    gan["toy"].update(trajectory=None, steps=40, eval_every=20, n_eval=200)
    (workdir / "config/gan_only.yaml").write_text(yaml.safe_dump(config))
    snakemake(workdir, "--configfile", "config/gan_only.yaml")
    # The drawn figures (beside each, its provenance sidecar .json for the report)
    figures = sorted(path.name for path in (workdir / "results/gan/figures").iterdir() if path.suffix != ".json")
    assert figures == ["conditions.png", "conditions.svg", "dirac.png", "dirac.svg", "smoothness.png",
                       "smoothness.svg", "stability_map.png", "stability_map.svg"]
    assert (workdir / "results/report/index.html").is_file()


def test_batchnorm_spectra_split_plans_one_job_per_part(tmp_path):
    # spectra_jobs: 2 on a tiny sweep plans two measuring jobs named by their pairs, read by one collect (a dry run;
    # test_geometry_families checks that the split jobs' rows are the one job's, row for row).
    import yaml

    from tests.conftest import make_workdir

    workdir = make_workdir(tmp_path)
    section = {"widths": [8, 16], "samples_per_width": 0.5, "input_dim_per_width": 0.5, "replicates": 2,
               "coupled_max_width": 8, "diagram": {"samples": [4, 8]}, "gd": {"widths": []}, "spectra_jobs": 2}
    (workdir / "config/split.yaml").write_text(yaml.safe_dump({"batchnorm": section}))
    result = snakemake(workdir, "results/batchnorm/batchnorm.parquet", "-n", "--configfile", "config/smoke.yaml",
                       "config/split.yaml")
    assert _job_counts(result.stdout + result.stderr) == {"batchnorm_collect": 1, "batchnorm_measure": 2}
    planned = result.stdout + result.stderr
    assert "results/batchnorm/runs/spectra_m8r0-m16r0.parquet" in planned
    assert "results/batchnorm/runs/spectra_m16r1.parquet" in planned
