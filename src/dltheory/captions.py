"""Figure captions as HTML: RST rendered by docutils, math typeset as MathML (no JavaScript, works offline).

A caption file (``report/captions/<family>_<figure>.rst``) is a Jinja2 template over the run's config; once rendered,
its first paragraph is the takeaway (one sentence, set in bold by the report) and the rest the body.
"""

import dataclasses
import io
import re
from collections.abc import Mapping
from pathlib import Path
from types import SimpleNamespace

import docutils.core
import docutils.nodes
import docutils.utils
import jinja2
import markupsafe

# halt_level 2: a warning (unclosed markup, unknown role, LaTeX docutils cannot convert) raises instead of leaving
# raw markup in the HTML; report_level 5 and the private warning stream keep docutils from printing anything.
# No title promotion (a caption is a fragment, not a document); no file inclusion or raw HTML from a caption.
_SETTINGS = {
    "math_output": "MathML",
    "halt_level": 2,
    "report_level": 5,
    "doctitle_xform": False,
    "sectsubtitle_xform": False,
    "file_insertion_enabled": False,
    "raw_enabled": False,
    "_disable_config": True,
}

# A blank line (spaces allowed) ends an RST paragraph.
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n")


@dataclasses.dataclass(frozen=True)
class Caption:
    """A rendered caption: ``takeaway`` is inline HTML (no ``<p>``), ``body`` a block of HTML paragraphs."""

    takeaway: markupsafe.Markup
    body: markupsafe.Markup


def _settings() -> dict:
    return {**_SETTINGS, "warning_stream": io.StringIO()}


def _html(text: str) -> str:
    """``text`` (RST) as an HTML fragment; invalid RST raises ValueError with docutils' message."""
    try:
        return docutils.core.publish_parts(text, writer="html5", settings_overrides=_settings())["fragment"]
    except docutils.utils.SystemMessage as error:
        raise ValueError(f"invalid RST: {error}") from error


def _is_one_paragraph(text: str) -> bool:
    try:
        tree = docutils.core.publish_doctree(text, settings_overrides=_settings())
    except docutils.utils.SystemMessage as error:
        raise ValueError(f"invalid RST in the takeaway: {error}") from error
    return len(tree.children) == 1 and isinstance(tree.children[0], docutils.nodes.paragraph)


def _takeaway_html(text: str) -> str:
    """The takeaway paragraph's HTML without its ``<p>`` wrapper."""
    if not _is_one_paragraph(text):
        raise ValueError(f"the caption's takeaway is not a plain paragraph: {text[:80]!r}")
    html = _html(text).strip()
    return html.removeprefix("<p>").removesuffix("</p>")


def render_caption(text: str) -> Caption:
    """Render a caption's RST (already rendered as Jinja2): its first paragraph is the takeaway, the rest the body.
    Raises ValueError naming the problem for invalid RST or a caption of one paragraph (no takeaway)."""
    parts = _PARAGRAPH_BREAK.split(text.strip(), maxsplit=1)
    if len(parts) < 2 or not parts[1].strip():
        raise ValueError(f"caption has no takeaway paragraph (a first paragraph, then the body): {text[:80]!r}")
    takeaway, body = parts
    return Caption(takeaway=markupsafe.Markup(_takeaway_html(takeaway)), body=markupsafe.Markup(_html(body).strip()))


def caption_source(path: Path, config: Mapping) -> str:
    """A caption file rendered as a Jinja2 template with ``snakemake.config`` = ``config``, line breaks kept (RST
    needs its blank lines to tell the takeaway from the body); a key the config lacks raises, naming the file."""
    environment = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=False)
    try:
        return environment.from_string(Path(path).read_text()).render(snakemake=SimpleNamespace(config=config))
    except jinja2.TemplateError as error:
        raise ValueError(f"caption {path}: {error}") from error


def render_caption_file(path: Path, config: Mapping) -> Caption:
    """:func:`caption_source` then :func:`render_caption`; an error names the file."""
    try:
        return render_caption(caption_source(path, config))
    except ValueError as error:
        if str(path) in str(error):
            raise
        raise ValueError(f"caption {path}: {error}") from error
