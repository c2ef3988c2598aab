"""The assembled report: every figure with its caption and provenance, and the claims scorecard.

What a family contributes is found from files the pipeline wrote: its figures, by the names its settings declare
(``figure_names``, in that order; ``results/<family>/figures/<figure>.png``), their captions
(``report/captions/<family>_<figure>.rst``), ``claims.json``, the executed notebook, and the provenance
in its collected table. No number in the report is typed by hand: a caption is a Jinja2 template that quotes the
config as ``{{ snakemake.config.<family>.<key> }}``, the form Snakemake's own report renders (with the config as
written); here it is rendered with the family's settings, defaults filled in, and an unknown key is an error. Its RST
becomes HTML with MathML formulas, its first paragraph the figure's takeaway (dltheory.captions).
"""

import fnmatch
import html
import os
import re
import shutil
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import jinja2
import markupsafe

from dltheory.captions import render_caption_file
from dltheory.claims import scorecard
from dltheory.io import read_json, read_provenance


@dataclass
class FamilySection:
    name: str
    figures: list[dict] = field(default_factory=list)
    claims: list[dict] = field(default_factory=list)
    notebook: str = ""
    provenance: dict = field(default_factory=dict)
    meta: dict = field(default_factory=dict)  # title, paper, cite, question, hero (report/families.yaml)

    @property
    def score(self) -> dict:
        return scorecard(self.claims)

    @property
    def notebook_page(self) -> str:
        """The executed notebook as HTML, beside its .ipynb (``notebook_html`` writes it)."""
        return str(Path(self.notebook).with_suffix(".html")) if self.notebook else ""

    @property
    def diagnoses(self) -> dict[str, int]:
        """Why the tested claims that did not hold failed: count per diagnosis category ("not categorised" where
        the family gave none), most frequent first."""
        failed = [c.get("diagnosis") or "not categorised" for c in self.claims
                  if c.get("tested", True) and not c["holds"]]
        return dict(Counter(failed).most_common())

    @property
    def hero(self) -> dict | None:
        """The figure the first screen shows for this family (its ``hero``, else its first figure)."""
        chosen = [f for f in self.figures if f["name"] == self.meta.get("hero")]
        return (chosen or self.figures or [None])[0]


FAMILY_KEYS = ("title", "paper", "cite", "question", "hero")
# Every figure is shown at the same scale, so text has one size on screen: figures are drawn at fixed widths of
# 3.5, 7 and 10.5 in at 150 dpi (dltheory.plotting), shown at 108 px per inch (0.72 of their pixels), which fits
# the widest (1,575 px -> 1,134 px) in the report's 1,150 px column.
DISPLAY_SCALE = 0.72


def png_size(path: str | Path) -> tuple[int, int]:
    """(width, height) in pixels from a PNG's header; ValueError naming the file if it is not a PNG."""
    with open(path, "rb") as handle:
        header = handle.read(24)
    if len(header) < 24 or header[:8] != b"\x89PNG\r\n\x1a\n" or header[12:16] != b"IHDR":
        raise ValueError(f"{path}: not a PNG file")
    return int.from_bytes(header[16:20], "big"), int.from_bytes(header[20:24], "big")


def claim_figure(claim_id: str, patterns: Sequence[Sequence[str]]) -> str | None:
    """The figure a claim is read from: the first ``[pattern, figure]`` of its family's ``claims`` list in
    report/families.yaml whose shell-style pattern matches the claim's id; None when none does."""
    return next((figure for pattern, figure in patterns if fnmatch.fnmatchcase(claim_id, pattern)), None)


def read_family_metadata(path: Path, families: Sequence[str]) -> dict[str, dict]:
    """Each family's title, paper (and its short ``cite``), question and hero figure from ``path``
    (report/families.yaml); a family or key missing there is an error naming the file."""
    import yaml

    entries = yaml.safe_load(Path(path).read_text()) or {}
    for family in families:
        missing = [key for key in FAMILY_KEYS if not (entries.get(family) or {}).get(key)]
        if missing:
            raise ValueError(f"{path}: family {family!r} lacks {', '.join(missing)}")
    return {family: entries[family] for family in families}


def run_label(configfiles: Sequence[str]) -> str:
    """Which of the project's configs ran, from the config files Snakemake read (the last one wins)."""
    names = [Path(f).name for f in configfiles]
    if "smoke.yaml" in names:
        return "smoke config (tiny sizes, for the tests; numbers are not claims)"
    if "paper.yaml" in names:
        return "paper-scale config (config/paper.yaml)"
    extra = [f for f in configfiles if Path(f).name != "config.yaml"]
    return "default config (small scale, CPU)" + (f" with {', '.join(extra)}" if extra else "")


def rounded(value) -> str:
    """A measured value for the claims table: numbers to 3 significant digits, text as it is."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    return f"{value:.3g}"


def rerun_options(configfiles: Sequence[str], workdir: str | Path = ".") -> str:
    """The ``--configfile`` options that remake a figure under the config that made it: every config file Snakemake
    read but the default layers (``config/config.yaml`` of the repository and of the working directory, which every
    command reads), relative to ``workdir`` where it lies below it."""
    options = []
    for path in configfiles:
        path = Path(path)
        if path.name == "config.yaml" and path.parent.name == "config":
            continue
        try:
            shown = path.resolve().relative_to(Path(workdir).resolve())
        except ValueError:
            shown = path
        options.append(f"--configfile {shown}")
    return " ".join(options)


def family_section(family: str, figures: Sequence[str], results: Path, captions: Path, report_dir: Path,
                   config_hash: str, config: Mapping | None = None, meta: Mapping | None = None,
                   rerun: str = "") -> FamilySection:
    """Collect one family's declared ``figures`` (with their captions, rendered with ``config``: the family's
    settings as ``{"seed": ..., family: {...}}``), claims and provenance, with links relative to the report. Each
    figure's remake command carries ``rerun`` (the run's ``--configfile`` options, :func:`rerun_options`). A declared
    figure without its caption or its PNG is an error naming the file."""
    provenance = read_provenance(results / family / f"{family}.parquet")
    provenance["config_hash"] = config_hash
    section = FamilySection(
        name=family,
        claims=read_json(results / family / "claims.json"),
        notebook=os.path.relpath(results / family / "notebook.ipynb", report_dir),
        provenance=provenance,
        meta=dict(meta or {}),
    )
    for claim in section.claims:
        figure = claim_figure(claim["id"], section.meta.get("claims", []))
        claim["figure"] = figure if figure in figures else None
    for figure in figures:
        caption_file = captions / f"{family}_{figure}.rst"
        png = results / family / "figures" / f"{figure}.png"
        for path in (caption_file, png):
            if not path.exists():
                raise FileNotFoundError(f"figure {figure!r} of {family}: {path} is missing")
        width, height = png_size(png)
        section.figures.append({
            "name": figure,
            "width": round(width * DISPLAY_SCALE),
            "height": round(height * DISPLAY_SCALE),
            "png": os.path.relpath(png, report_dir),
            "svg": os.path.relpath(png.with_suffix(".svg"), report_dir),
            "caption": render_caption_file(caption_file, config or {}),
            # The target first: --forcerun and --configfile each take every word up to the next option.
            "rerun": " ".join(filter(None, ["snakemake --cores 1", f"results/{family}/figures/{figure}.png",
                                             f"--forcerun {family}_notebook", rerun])),
            # The provenance sidecar beside the PNG (inputs with hashes, config, commit, jobs' wall time).
            "sidecar": os.path.relpath(png.with_suffix(".json"), report_dir) if png.with_suffix(".json").exists()
            else "",
        })
    return section


BROWSERS = ("chromium", "chromium-browser", "google-chrome")  # headless browsers the report checks use


def browser() -> str | None:
    """The first of ``BROWSERS`` on PATH, or None."""
    return next((path for name in BROWSERS if (path := shutil.which(name))), None)


def broken_links(page: str | Path) -> list[str]:
    """Relative href/src targets of ``page`` that are not files, and in-page links (#anchor) without an element of
    that id."""
    page = Path(page)
    text = page.read_text()
    links = re.findall(r'(?:src|href)="([^"#:]+)"', text)
    missing = {link for link in links if not (page.parent / html.unescape(link)).exists()}
    ids = {html.unescape(i) for i in re.findall(r'\sid="([^"]+)"', text)}
    missing |= {f"#{a}" for a in re.findall(r'href="#([^"]+)"', text) if html.unescape(a) not in ids}
    return sorted(missing)



NOTEBOOK_TEMPLATE = Path(__file__).resolve().parents[2] / "report" / "notebook.html.j2"


def notebook_html(notebook: str | Path, html: str | Path, template: str | Path = NOTEBOOK_TEMPLATE) -> int:
    """Write the executed ``notebook`` as a self-contained HTML page (nbconvert's JupyterLab look, its figures
    inline, no script from the network) to ``html``; returns its size in bytes."""
    import nbformat
    from nbconvert import HTMLExporter

    from dltheory.io import write_text

    template = Path(template)
    exporter = HTMLExporter(template_file=template.name, extra_template_paths=[str(template.parent)])
    exporter.exclude_input_prompt = exporter.exclude_output_prompt = True
    body, _ = exporter.from_notebook_node(nbformat.read(str(notebook), as_version=4),
                                          resources={"metadata": {"name": Path(notebook).parent.name}})
    write_text(html, body)
    return len(body.encode())


def breakable(identifier: str) -> markupsafe.Markup:
    """A claim id for a narrow column: escaped, with line-break opportunities after its dots and underscores."""
    escaped = str(markupsafe.escape(identifier))
    return markupsafe.Markup(re.sub(r"([._])", r"\1<wbr>", escaped))


DETAIL_HEAD = 240  # characters of a claim's detail shown before the rest is folded


def detail_head(detail: str, limit: int = DETAIL_HEAD) -> str:
    """The opening of a long claim detail, to show while the whole is folded: up to the last sentence end (". ")
    within ``limit`` characters, else the last clause end ("; "), else the last word boundary; "" when the detail is
    short enough to show whole."""
    if len(detail) <= limit:
        return ""
    window = detail[:limit]
    end = window.rfind(". ")
    if end < limit // 3:  # no sentence end far enough in: a clause end
        end = window.rfind("; ")
    if end >= limit // 3:
        return window[:end + 1]
    return window.rsplit(" ", 1)[0]


def render_report(title: str, sections: list[FamilySection], template: Path, run: Mapping | None = None) -> str:
    """The report's HTML. ``run``: what ran (``label``, ``device``, ``seed``); the commit and time come from the
    sections' provenance. Figures are numbered in report order."""
    environment = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    environment.filters["rounded"] = rounded
    environment.filters["breakable"] = breakable
    environment.filters["detail_head"] = detail_head
    every_claim = [claim for section in sections for claim in section.claims]
    number = 0
    for section in sections:
        for figure in section.figures:
            number += 1
            figure["number"] = number
            figure["claims"] = [c for c in section.claims if c.get("figure") == figure["name"]]
        numbers = {figure["name"]: figure["number"] for figure in section.figures}
        for claim in section.claims:
            claim["figure_number"] = numbers.get(claim.get("figure"))
    commits = sorted({str(s.provenance.get("git_commit", "")) for s in sections} - {""})
    created = max((str(s.provenance.get("created", "")) for s in sections), default="")
    run = {"label": "", "device": "", "seed": "", "report_zip": "", **(run or {}), "commits": commits,
           "created": created}
    return environment.from_string(template.read_text()).render(
        title=title, sections=sections, score=scorecard(every_claim), run=run
    )
