"""Claims: a paper's statement beside our measurement, and whether it held.

Each family's notebook writes ``claims.json``, a list of these records. A claim that does not hold is a
finding, reported as such; it never fails the pipeline. A claim whose inputs allow no test (every run it rests on
failed its did-it-learn guard, or diverged) is recorded as not tested (``tested`` False, ``holds`` False), with the
reason in its detail, and counted apart from the claims that held or failed.
"""

import math
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
    tested: bool = True  # False: nothing the claim rests on could test it (the detail says why)

    def to_dict(self) -> dict:
        """The record written to claims.json. A measurement that is not a finite number (NaN: every run it rests on
        diverged or is missing) tests nothing, so the claim is recorded as not tested, never as failed on NaN."""
        record = asdict(self)
        measured = self.measured
        unmeasured = isinstance(measured, float) and not math.isfinite(measured)
        if unmeasured and self.tested:
            record["detail"] = f"not tested: the measurement is {measured} (its runs diverged or are missing). " + (
                self.detail)
        record["tested"] = bool(self.tested) and not unmeasured
        record["holds"] = bool(self.holds) and record["tested"]
        return record


def scorecard(claims: list[dict]) -> dict:
    """Counts for the report's headline: held, failed (tested and did not hold) and not tested."""
    tested = [c for c in claims if c.get("tested", True)]
    held = sum(bool(c["holds"]) for c in tested)
    return {"held": held, "total": len(claims), "failed": len(tested) - held, "untested": len(claims) - len(tested)}
