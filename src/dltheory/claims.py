"""Claims: a paper's statement beside our measurement, and whether it held.

Each family's notebook writes ``claims.json``, a list of these records. A claim that does not hold is a
finding, reported as such; it never fails the pipeline.
"""

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Claim:
    id: str
    source: str  # paper and theorem, proposition or figure
    statement: str  # what the paper says, in words
    measured: float | str  # our number
    expected: str  # what the paper predicts, as a condition on the measurement
    tolerance: float | None
    holds: bool
    ours: bool = False  # True when the setting is our choice rather than the paper's
    detail: str = ""

    def to_dict(self) -> dict:
        record = asdict(self)
        record["holds"] = bool(self.holds)
        return record


def scorecard(claims: list[dict]) -> dict:
    """Counts for the report's headline."""
    held = sum(bool(c["holds"]) for c in claims)
    return {"held": held, "total": len(claims), "failed": len(claims) - held}
