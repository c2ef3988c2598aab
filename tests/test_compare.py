"""The claims diff between two runs (dltheory.compare, `make compare`)."""

import json

import pytest

from dltheory.compare import claims_diff, main


def _run(base, family, claims):
    folder = base / family
    folder.mkdir(parents=True)
    records = [{"id": i, "source": "s", "statement": "st", "measured": m, "expected": "e", "tolerance": t,
                "holds": h, "tested": tested, "detail": "", "git_commit": commit, "config_hash": "cfg"}
               for i, m, t, h, tested, commit in claims]
    (folder / "claims.json").write_text(json.dumps(records))


def test_only_changed_verdicts_numbers_beyond_tolerance_and_new_claims_are_listed(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    _run(a, "fam", [("fam.flip", 0.9, 0.1, True, True, "aaaa"), ("fam.moved", 1.0, 0.1, True, True, "aaaa"),
                    ("fam.within", 1.0, 0.1, True, True, "aaaa"), ("fam.gone", 2.0, None, False, True, "aaaa"),
                    ("fam.untested", 0.5, None, True, True, "aaaa")])
    _run(b, "fam", [("fam.flip", 0.7, 0.1, False, True, "bbbb"), ("fam.moved", 1.3, 0.1, True, True, "bbbb"),
                    ("fam.within", 1.05, 0.1, True, True, "bbbb"), ("fam.new", 3.0, None, True, True, "bbbb"),
                    ("fam.untested", "none", None, False, False, "bbbb")])
    text = claims_diff(a, b)
    assert "## Verdict changed (2)" in text
    assert "| fam | `fam.flip` | held → **did not hold** | 0.9 → 0.7 | 0.1 |" in text
    assert "held → **not tested**" in text
    assert "## Moved beyond its tolerance, same verdict (1)" in text and "`fam.moved`" in text
    assert "fam.within" not in text
    assert "## Only in A (1)" in text and "`fam.gone` (fam): did not hold" in text
    assert "## Only in B (1)" in text and "`fam.new` (fam): held" in text
    assert "commit aaaa" in text and "commit bbbb" in text
    assert "1 claims in both runs kept their verdict" in text


def test_a_directory_without_claims_is_named(tmp_path, capsys):
    _run(tmp_path / "a", "fam", [("fam.x", 1.0, None, True, True, "c")])
    assert main([str(tmp_path / "a"), str(tmp_path / "empty")]) == 2
    assert f"{tmp_path / 'empty'}: no <family>/claims.json here" in capsys.readouterr().err
    with pytest.raises(FileNotFoundError, match="no <family>/claims.json"):
        claims_diff(tmp_path / "a", tmp_path / "empty")
