"""Compare every table (results/**/*.parquet) of two runs of the same config: identical, identical but for timing
columns (wall-clock seconds differ between any two runs), or different. Exit status 1 when any table differs or is
missing from one run.

    python tests/slurm/compare_tables.py RUN_A RUN_B
"""

import sys
from pathlib import Path

import pandas as pd

from dltheory.io import read_table


def is_timing(column: str) -> bool:
    return "seconds" in column


def timing_rows(table: pd.DataFrame) -> pd.Series:
    """Rows of a long table whose value is a time (``metric`` names it)."""
    if "metric" not in table:
        return pd.Series(False, index=table.index)
    return table["metric"].astype(str).str.contains("seconds")


def compare(a: pd.DataFrame, b: pd.DataFrame) -> str:
    try:
        pd.testing.assert_frame_equal(a, b, check_exact=True)
        return "identical"
    except AssertionError:
        pass
    if list(a.columns) != list(b.columns) or len(a) != len(b):
        return "different"
    timing_columns = [c for c in a.columns if is_timing(c)]
    a_rows, b_rows = timing_rows(a), timing_rows(b)
    if not a_rows.equals(b_rows):
        return "different"
    keep_a = a.loc[~a_rows.to_numpy()].drop(columns=timing_columns)
    keep_b = b.loc[~b_rows.to_numpy()].drop(columns=timing_columns)
    try:
        pd.testing.assert_frame_equal(keep_a, keep_b, check_exact=True)
    except AssertionError as error:
        return f"different: {str(error).splitlines()[0]}"
    return "identical but for timing"


def main(first: str, second: str) -> int:
    runs = [Path(first), Path(second)]
    tables = [{p.relative_to(run).as_posix() for p in (run / "results").rglob("*.parquet")} for run in runs]
    verdicts = {}
    for name in sorted(tables[0] | tables[1]):
        if name not in tables[0] or name not in tables[1]:
            verdicts[name] = f"missing from {runs[0] if name not in tables[0] else runs[1]}"
            continue
        verdicts[name] = compare(*(read_table(run / name) for run in runs))
    counts = {}
    for name, verdict in verdicts.items():
        kind = verdict.split(":")[0] if not verdict.startswith("missing") else "missing"
        counts[kind] = counts.get(kind, 0) + 1
        if kind != "identical":
            print(f"  {name}: {verdict}")
    print(f"{len(verdicts)} tables: " + ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items())))
    bad = sum(n for kind, n in counts.items() if kind not in ("identical", "identical but for timing"))
    return 1 if bad or not verdicts else 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], sys.argv[2]))
