"""Figure captions (dltheory.captions): RST to HTML with MathML, the takeaway split, and every caption file rendered
with the default, smoke and paper configs. No pipeline run."""

import re
from functools import cache
from pathlib import Path

import pytest

from dltheory.captions import Caption, render_caption, render_caption_file
from dltheory.config import check_config_files
from dltheory.settings import to_config

ROOT = Path(__file__).resolve().parents[1]
CAPTIONS = sorted((ROOT / "report/captions").glob("*.rst"))
CONFIGS = {"default": [], "smoke": [ROOT / "config/smoke.yaml"], "paper": [ROOT / "config/paper.yaml"]}
# A sentence ends at '.', '?' or '!' followed by a space, except after these abbreviations.
ABBREVIATIONS = ("e.g.", "i.e.", "et al.", "cf.", "vs.", "Sec.", "Fig.", "Thm.", "Prop.", "Eq.", "resp.")


def test_takeaway_is_the_first_paragraph_without_its_p():
    caption = render_caption("Is **this** the ``key`` point?\n\nThe body, *emphasised*.\n\nA second body paragraph.")
    assert isinstance(caption, Caption)
    assert caption.takeaway == "Is <strong>this</strong> the <span class=\"docutils literal\">key</span> point?"
    assert caption.body.count("<p>") == 2 and "<em>emphasised</em>" in caption.body
    assert "<div" not in caption.body


def test_math_role_becomes_mathml():
    caption = render_caption("Where is :math:`\\sigma_w^2 = 2`?\n\nBody :math:`\\frac{T-1}{T}\\kappa_2`.")
    assert "<math" in caption.takeaway and "<mi>σ</mi>" in caption.takeaway and "<mn>2</mn>" in caption.takeaway
    assert "<mfrac>" in caption.body and "<mi>κ</mi>" in caption.body
    assert ":math:" not in caption.takeaway + caption.body


@pytest.mark.parametrize("text, problem", [
    ("Takeaway.\n\nAn unclosed ``literal here.", "Inline literal start-string without end-string"),
    ("Takeaway with **strong.\n\nBody.", "Inline strong start-string without end-string"),
    ("Takeaway.\n\nBody :nosuchrole:`x`.", "Unknown interpreted text role"),
])
def test_invalid_rst_raises_naming_the_problem(text, problem):
    with pytest.raises(ValueError, match=problem):
        render_caption(text)


@pytest.mark.parametrize("text", ["Only one paragraph, no body.", "One paragraph\nover two lines.\n\n   \n"])
def test_a_caption_of_one_paragraph_has_no_takeaway(text):
    with pytest.raises(ValueError, match="has no takeaway paragraph"):
        render_caption(text)


def test_a_takeaway_that_is_not_a_paragraph_is_refused():
    with pytest.raises(ValueError, match="not a plain paragraph"):
        render_caption("* a list item\n* another\n\nBody.")


@cache
def settings_of(name: str) -> dict:
    """The validated settings of the repository's defaults with ``name``'s config files on top."""
    return check_config_files(CONFIGS[name])


def family_config(name: str, family: str) -> dict:
    """What the report renders a family's captions with: the global seed and the family's settings as plain data (as
    workflow/rules/common.smk builds ``family_config``)."""
    settings = settings_of(name)
    return {"seed": settings["run"].seed, family: to_config(settings[family])}


def sentence_ends(text: str) -> list[str]:
    """The sentence ends inside ``text`` (not at its end), abbreviations and decimals excepted."""
    for abbreviation in ABBREVIATIONS:
        text = text.replace(abbreviation, abbreviation.replace(".", ""))
    return re.findall(r"\S*[.?!](?=\s)", text.strip())


def plain(html: str) -> str:
    """Visible text of an HTML fragment, MathML and tags removed (math counts as one word)."""
    return re.sub(r"<[^>]+>", "", re.sub(r"<math.*?</math>", "M", html, flags=re.DOTALL))


def test_sentence_ends_allows_abbreviations():
    assert sentence_ends("Compare e.g. the slopes of Nakada et al. at n = 0.5 here.") == []
    assert sentence_ends("One. Two?") == ["One."]


def test_there_are_captions():
    assert len(CAPTIONS) >= 23


@pytest.mark.parametrize("config_name", list(CONFIGS))
@pytest.mark.parametrize("path", CAPTIONS, ids=[path.stem for path in CAPTIONS])
def test_every_caption_renders_with_a_one_sentence_takeaway(path, config_name):
    family = path.stem.split("_", 1)[0]
    caption = render_caption_file(path, family_config(config_name, family))
    takeaway = plain(caption.takeaway).strip()
    assert takeaway.endswith((".", "?")), f"{path.name}: the takeaway does not end a sentence: {takeaway!r}"
    assert not sentence_ends(takeaway), f"{path.name}: the takeaway is more than one sentence: {takeaway!r}"
    html = caption.takeaway + caption.body
    for marker in ("**", "``", ":math:", "{{", "{%"):
        assert marker not in html, f"{path.name}: raw {marker!r} left in the HTML"
