"""The assembled report's first screen, family sections and figure numbering (dltheory.report), without a run."""

from pathlib import Path

import pytest
import yaml

from dltheory.captions import render_caption
from dltheory.claims import Claim
from dltheory.config import family_settings
from dltheory.report import FamilySection, broken_links, browser, read_family_metadata, render_report, run_label

ROOT = Path(__file__).resolve().parents[1]
FAMILIES = ["nonsmooth", "region", "intrinsic", "gan", "causal", "batchnorm", "natgrad", "spectra", "isometry",
            "embedding", "overparam", "resinit", "selfpaced"]


def test_every_family_has_a_card_whose_hero_is_one_of_its_figures():
    config = yaml.safe_load((ROOT / "config/config.yaml").read_text())
    metadata = read_family_metadata(ROOT / "report/families.yaml", FAMILIES)
    for family in FAMILIES:
        assert metadata[family]["hero"] in family_settings(family, config[family]).figure_names(), family


def test_a_family_without_its_card_is_named(tmp_path):
    path = tmp_path / "families.yaml"
    path.write_text("nonsmooth: {title: t, paper: p, cite: c, question: q}\n")
    with pytest.raises(ValueError, match=f"{path}: family 'nonsmooth' lacks hero"):
        read_family_metadata(path, ["nonsmooth"])
    with pytest.raises(ValueError, match="family 'gan' lacks title, paper, cite, question, hero"):
        read_family_metadata(path, ["gan"])


def test_the_first_screen_names_the_run_the_papers_and_each_familys_verdicts():
    claims = [Claim("a.one", "src", "s", 0.123456, "e", 0.05, True).to_dict(),
              Claim("a.two", "src", "s", 2.0, "e", None, False, detail="more seeds", interval=(1.5, 2.5),
                    interval_kind="95% t-interval over seeds", replicates=5, diagnosis="scale").to_dict(),
              Claim("a.three", "src", "s", "0.70 [0.61, 0.79]", "e", None, True, interval=(0.61, 0.79),
                    interval_kind="95% Wilson over pairs", replicates=60).to_dict()]
    caption = render_caption("What to look for?\n\nThe body, with :math:`\\beta`.")
    figure = {"name": "curve", "png": "a/curve.png", "svg": "a/curve.svg", "caption": caption, "width": 756,
              "height": 300,
              "rerun": "snakemake x", "sidecar": "a/curve.json"}
    provenance = {"config_hash": "h", "git_commit": "abc123", "created": "2026-12-06", "versions": {"numpy": "2"}}
    sections = [FamilySection("a", figures=[dict(figure)], claims=claims, notebook="a/nb.ipynb", provenance=provenance,
                              meta={"title": "Family A", "paper": "Author, 'Long title', Venue 2020",
                                    "cite": "Author, Venue 2020", "question": "Does it?", "hero": "curve"}),
                FamilySection("b", figures=[dict(figure, name="other")], claims=[], notebook="b/nb.ipynb",
                              provenance=provenance,
                              meta={"title": "Family B", "paper": "P", "cite": "C", "question": "Q?", "hero": "x"})]
    html = render_report("T", sections, ROOT / "report/template.html.j2",
                         {"label": run_label(["/repo/config/config.yaml", "config/smoke.yaml"]), "device": "cpu",
                          "seed": 3})
    assert "smoke config (tiny sizes" in html and "device cpu · seed 3 · commit abc123" in html
    assert 'href="#a"' in html and "Author, Venue 2020" in html and "Does it?" in html
    assert "2 of 3 claims held" in html and "0 of 0 claims held" in html
    assert "<br>[1.5, 2.5]" in html and "[0.61, 0.79]" in html and "<br>[0.61, 0.79]" not in html  # printed once
    assert '<img src="a/curve.png" alt="a: curve">' in html  # the hero thumbnail; family B falls back to its first
    assert "<strong>Figure 1. What to look for?</strong>" in html and "<strong>Figure 2. What" in html
    assert "<p>The body, with <math" in html  # the caption's body after its bold takeaway, the formula as MathML
    assert '<td class="id">a.<wbr>one' in html  # a long claim id breaks at its dots and underscores, not mid-word
    assert 'width="756" height="300"' in html  # shown at one scale for every figure
    assert "<td>0.123</td>" in html and "<td>0.05</td>" in html  # rounded numbers, the tolerance beside them
    assert "<strong>diagnosis (scale):</strong> more seeds" in html  # the category, then the evidence
    assert "2 of 3 claims held; did not hold, by diagnosis: scale 1." in html
    assert '<td>2<br>[1.5, 2.5]<br><span class="source">95% t-interval over seeds, n = 5</span></td>' in html
    assert "<code>snakemake x</code>" in html and '<a href="a/curve.json">provenance (JSON)</a>' in html
    assert "<code>results/report.zip</code>, not made yet" in html  # no link to a file that is not there
    linked = render_report("T", sections, ROOT / "report/template.html.j2", {"report_zip": "../report.zip"})
    assert '<a href="../report.zip">results/report.zip</a>' in linked
    assert run_label(["config/config.yaml"]) == "default config (small scale, CPU)"
    assert run_label(["config/config.yaml", "config/paper.yaml"]).startswith("paper-scale")


def test_a_figure_sidecar_hashes_its_inputs_and_sums_its_jobs(tmp_path):
    from dltheory.provenance import figure_sidecar, file_sha256

    table = tmp_path / "table.parquet"
    table.write_bytes(b"abc")
    benchmarks = tmp_path / "benchmarks" / "fam"
    (benchmarks / "part").mkdir(parents=True)
    for name, seconds in (("a.tsv", "1.5"), ("part/b.tsv", "2.25")):
        (benchmarks / name).write_text(f"s\th:m:s\n{seconds}\t0:00:01\n")
    sidecar = figure_sidecar(tmp_path / "f.png", {"table": table}, {"seed": 0, "fam": {"k": 1}}, "nb.ipynb",
                             benchmarks=benchmarks, seed=0, device="cpu")
    assert sidecar["inputs"]["table"]["sha256"] == file_sha256(table)
    assert file_sha256(table) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"  # sha256("abc")
    assert sidecar["jobs"] == {"count": 2, "wall_seconds": 3.8} and sidecar["device"] == "cpu"
    assert len(sidecar["config_hash"]) == 12 and sidecar["drawn_by"] == "nb.ipynb"


@pytest.mark.skipif(browser() is None,
                    reason="no headless Chromium on PATH (Debian: apt install chromium); "
                           "workflow/scripts/check_report.py is the same check by hand")
def test_the_browser_check_finds_sideways_scrolling_and_missing_images(tmp_path):
    import importlib.util

    spec = importlib.util.spec_from_file_location("check_report", ROOT / "workflow/scripts/check_report.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    (tmp_path / "ok.png").write_bytes(_png())
    good = tmp_path / "good.html"
    good.write_text('<html><body><p>fits</p><img src="ok.png"></body></html>')
    assert module.check(good, 1280) == []
    bad = tmp_path / "bad.html"
    bad.write_text('<html><body><div style="width: 2000px">wide</div><img src="missing.png"></body></html>')
    problems = module.check(bad, 1280)
    assert "broken link: missing.png" in problems and "image did not load: missing.png" in problems
    assert any(p.startswith("scrolls sideways at 1280 px: content 20") for p in problems)


def _png() -> bytes:
    """A 1 x 1 PNG, drawn by matplotlib."""
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    figure = plt.figure(figsize=(0.1, 0.1))
    figure.savefig(buffer, format="png")
    plt.close(figure)
    return buffer.getvalue()


def test_link_check_finds_missing_files_and_anchors(tmp_path):
    (tmp_path / "there.png").write_bytes(b"x")
    page = tmp_path / "index.html"
    page.write_text('<p id="fig-1"><img src="there.png"><img src="gone.png"><a href="#fig-1">ok</a>'
                    '<a href="#fig-2">stale</a></p>')
    assert broken_links(page) == ["#fig-2", "gone.png"]


def test_a_claim_is_read_from_the_first_figure_whose_pattern_matches():
    from dltheory.report import claim_figure

    patterns = [["*.smooth2d.*", "smooth_control"], ["*", "error_vs_n"]]
    assert claim_figure("nonsmooth.smooth2d.dnn_learns", patterns) == "smooth_control"
    assert claim_figure("nonsmooth.jump2d.dnn_learns", patterns) == "error_vs_n"
    assert claim_figure("x", [["y.*", "f"]]) is None


def test_a_figure_is_shown_at_the_one_display_scale_of_its_pixels(tmp_path):
    from dltheory.plotting import PIXEL_WIDTHS
    from dltheory.report import DISPLAY_SCALE, png_size

    (tmp_path / "f.png").write_bytes(_png())
    assert png_size(tmp_path / "f.png") == (10, 10)  # a 0.1 in figure at matplotlib's default 100 dpi
    (tmp_path / "g.png").write_text("not a png")
    with pytest.raises(ValueError, match="g.png: not a PNG file"):
        png_size(tmp_path / "g.png")
    assert round(max(PIXEL_WIDTHS.values()) * DISPLAY_SCALE) <= 1150  # the widest figure fits the report's column


def test_a_long_claim_detail_is_folded_after_its_first_sentences():
    from dltheory.report import detail_head

    long = "First finding, with numbers. " * 5 + "Second part; " * 30
    head = detail_head(long, 200)
    assert head.endswith(".") and len(head) <= 200 and long.startswith(head)
    assert detail_head("short", 200) == ""  # shown whole
    assert detail_head("word " * 100, 50) == ("word " * 10).strip()  # no sentence end: the last whole word


def test_a_figures_remake_command_names_the_config_files_the_run_read(tmp_path):
    from dltheory.report import rerun_options

    (tmp_path / "config").mkdir()
    files = ["/repo/config/config.yaml", str(tmp_path / "config/config.yaml"), str(tmp_path / "config/smoke.yaml"),
             "/elsewhere/mine.yaml"]
    assert rerun_options(files, tmp_path) == "--configfile config/smoke.yaml --configfile /elsewhere/mine.yaml"
    assert rerun_options(files[:2], tmp_path) == ""  # the default run: nothing to add


def test_the_our_setting_badge_marks_rows_only_where_it_distinguishes_them():
    def section(name, ours):
        claims = [Claim(f"{name}.{i}", "src", "s", 1.0, "e", None, True, ours=o).to_dict() for i, o in enumerate(ours)]
        return FamilySection(name, claims=claims, notebook=f"{name}/nb.ipynb",
                             meta={"title": name, "paper": "P", "cite": "C", "question": "Q?", "hero": "x"})

    html = render_report("T", [section("mixed", [True, False]), section("every", [True, True, True])],
                         ROOT / "report/template.html.j2")
    mixed, every = html.split('<h2 id="mixed">')[1].split('<h2 id="every">')
    assert mixed.count('<span class="ours">our setting</span>') == 1  # on the one row of ours
    assert every.count('<span class="ours">our setting</span> for every claim below') == 1
    assert every.count('<span class="ours">') == 1  # said once, above the table, not on its 3 rows
