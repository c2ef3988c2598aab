"""The assembled report: every figure with its caption and provenance, and the claims scorecard.

What a family contributes is found from files the pipeline wrote: its captions
(``report/captions/<family>_<figure>.rst``, one per figure), its figures
(``results/<family>/figures/<figure>.png``), ``claims.json``, the executed notebook, and the provenance
in its collected table. No number in the report is typed by hand.
"""

import os
from dataclasses import dataclass, field
from pathlib import Path

import jinja2

from dltheory.claims import scorecard
from dltheory.io import read_json, read_provenance


@dataclass
class FamilySection:
    name: str
    figures: list[dict] = field(default_factory=list)
    claims: list[dict] = field(default_factory=list)
    notebook: str = ""
    provenance: dict = field(default_factory=dict)


def read_caption(path: Path) -> str:
    """A caption file's text with its RST line breaks joined (captions are short paragraphs)."""
    return " ".join(line.strip() for line in path.read_text().splitlines() if line.strip())


def family_section(family: str, results: Path, captions: Path, report_dir: Path, config_hash: str) -> FamilySection:
    """Collect one family's figures, claims and provenance, with links relative to the report."""
    provenance = read_provenance(results / family / f"{family}.parquet")
    provenance["config_hash"] = config_hash
    section = FamilySection(
        name=family,
        claims=read_json(results / family / "claims.json"),
        notebook=os.path.relpath(results / family / "notebook.ipynb", report_dir),
        provenance=provenance,
    )
    for caption_file in sorted(captions.glob(f"{family}_*.rst")):
        figure = caption_file.stem.removeprefix(f"{family}_")
        png = results / family / "figures" / f"{figure}.png"
        if not png.exists():
            raise FileNotFoundError(f"caption {caption_file} has no figure: {png} is missing")
        section.figures.append({
            "name": figure,
            "png": os.path.relpath(png, report_dir),
            "svg": os.path.relpath(png.with_suffix(".svg"), report_dir),
            "caption": read_caption(caption_file),
        })
    return section


def render_report(title: str, sections: list[FamilySection], template: Path) -> str:
    environment = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    every_claim = [claim for section in sections for claim in section.claims]
    return environment.from_string(template.read_text()).render(
        title=title, sections=sections, score=scorecard(every_claim)
    )
