"""What a change did to the science: the claims of two runs side by side, as Markdown (``make compare A=... B=...``).

A run is a results directory (``results/`` of a checkout, or any copy of one): every ``<family>/claims.json`` in it.
Only what a reviewer must look at is listed: claims whose verdict changed (held, did not hold, not tested), claims
whose number moved by more than their tolerance (claims without a numeric tolerance are compared by verdict only),
and claims present in one run only. The header names each run's commits and config hashes, so a diff of two seeds
or two commits says which is which.

    python -m dltheory.compare results-a/ results-b/ [--output diff.md]
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

from dltheory.io import CorruptInputError, read_json


def read_claims(results: str | Path) -> dict[str, dict]:
    """Every claim of a results directory by id (from each ``<family>/claims.json``); a directory without any is an
    error naming it."""
    results = Path(results)
    files = sorted(results.glob("*/claims.json"))
    if not files:
        raise FileNotFoundError(f"{results}: no <family>/claims.json here (is it a results directory?)")
    claims = {}
    for path in files:
        for claim in read_json(path):
            claims[claim["id"]] = {**claim, "family": path.parent.name}
    return claims


def verdict(claim: dict) -> str:
    if not claim.get("tested", True):
        return "not tested"
    return "held" if claim["holds"] else "did not hold"


def _number(value) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _show(value) -> str:
    number = _number(value)
    return f"{number:.4g}" if number is not None else str(value)


def moved_beyond_tolerance(a: dict, b: dict) -> bool:
    """Both numbers finite and numeric, the tolerance numeric, and |b − a| > tolerance."""
    x, y, tolerance = _number(a["measured"]), _number(b["measured"]), _number(b.get("tolerance"))
    if x is None or y is None or tolerance is None or not all(map(math.isfinite, (x, y, tolerance))):
        return False
    return abs(y - x) > tolerance


def _runs_line(label: str, claims: dict[str, dict]) -> str:
    commits = sorted({str(c.get("git_commit", "?"))[:10] for c in claims.values()})
    configs = sorted({str(c.get("config_hash", "?"))[:10] for c in claims.values()})
    held = sum(verdict(c) == "held" for c in claims.values())
    return (f"- **{label}**: {held} of {len(claims)} claims held; commit {', '.join(commits)}; "
            f"config {', '.join(configs)}")


def claims_diff(a_dir: str | Path, b_dir: str | Path) -> str:
    """The Markdown diff of the claims of run A and run B (see the module docstring)."""
    a, b = read_claims(a_dir), read_claims(b_dir)
    lines = [f"# Claims diff: A = `{a_dir}`, B = `{b_dir}`", "", _runs_line("A", a), _runs_line("B", b), ""]
    changed, moved = [], []
    for claim_id in sorted(set(a) & set(b)):
        old, new = a[claim_id], b[claim_id]
        row = (f"| {new['family']} | `{claim_id}` | {verdict(old)} → **{verdict(new)}** | {_show(old['measured'])} → "
               f"{_show(new['measured'])} | {_show(new.get('tolerance'))} |")
        if verdict(old) != verdict(new):
            changed.append(row)
        elif moved_beyond_tolerance(old, new):
            moved.append(row)
    header = ["| family | claim | verdict A → B | measured A → B | tolerance |", "|---|---|---|---|---|"]
    for title, rows in (("Verdict changed", changed), ("Moved beyond its tolerance, same verdict", moved)):
        lines += [f"## {title} ({len(rows)})", ""] + ((header + rows) if rows else ["none"]) + [""]
    for title, only, other in (("Only in A", a, b), ("Only in B", b, a)):
        ids = sorted(set(only) - set(other))
        lines += [f"## {title} ({len(ids)})", ""]
        lines += [f"- `{i}` ({only[i]['family']}): {verdict(only[i])}, measured {_show(only[i]['measured'])}"
                  for i in ids] or ["none"]
        lines.append("")
    unchanged = len(set(a) & set(b)) - len(changed) - len(moved)
    lines.append(f"{unchanged} claims in both runs kept their verdict and moved within their tolerance (or have none).")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dltheory.compare", description=__doc__.splitlines()[0])
    parser.add_argument("a", help="results directory of run A")
    parser.add_argument("b", help="results directory of run B")
    parser.add_argument("--output", help="write the Markdown here (default: print it)")
    args = parser.parse_args(argv)
    try:
        text = claims_diff(args.a, args.b)
    except (FileNotFoundError, ValueError, CorruptInputError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.output:
        Path(args.output).write_text(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
