"""Claims: a paper's statement beside our measurement, and whether it held.

Each family's notebook writes ``claims.json``, a list of these records. A claim that does not hold is a
finding, reported as such; it never fails the pipeline. A claim whose inputs allow no test (every run it rests on
failed its did-it-learn guard, or diverged) is recorded as not tested (``tested`` False, ``holds`` False), with the
reason in its detail, and counted apart from the claims that held or failed.
"""

import math
from dataclasses import asdict, dataclass

# Why a claim that was tested did not hold: a defect of ours (bug), too small a run to see it (scale, with the
# larger run or the interval that shows it), our setting rather than the paper's (design), or the result itself
# (finding: the claim does not hold where we tested it).
DIAGNOSES = ("bug", "scale", "design", "finding")


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
    # The measured number's interval as (low, high), what kind it is ("95% t-interval over seeds", "95% Wilson over
    # pairs", ...) and how many independent replicates (seeds, pairs, runs) it rests on; None where the number is
    # not an estimate with an interval (a count, a closed form, a timing ratio).
    interval: tuple[float, float] | None = None
    interval_kind: str = ""
    replicates: int | None = None
    # For a tested claim that does not hold: why, in one word of DIAGNOSES (the detail gives the evidence).
    diagnosis: str = ""

    def __post_init__(self):
        if self.diagnosis not in ("", *DIAGNOSES):
            raise ValueError(f"claim {self.id}: diagnosis {self.diagnosis!r} is not one of {', '.join(DIAGNOSES)}")
        if self.interval is not None and (len(self.interval) != 2 or not self.interval_kind):
            raise ValueError(f"claim {self.id}: an interval is (low, high) with its interval_kind, got "
                             f"{self.interval!r} / {self.interval_kind!r}")
        if self.replicates is not None and self.replicates < 1:
            raise ValueError(f"claim {self.id}: replicates must be at least 1, got {self.replicates}")

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
        if self.interval is not None:
            record["interval"] = [float(self.interval[0]), float(self.interval[1])]
        if record["holds"] or not record["tested"]:
            record["diagnosis"] = ""  # only a tested claim that did not hold has one
        return record


def scorecard(claims: list[dict]) -> dict:
    """Counts for the report's headline: held, failed (tested and did not hold) and not tested."""
    tested = [c for c in claims if c.get("tested", True)]
    held = sum(bool(c["holds"]) for c in tested)
    return {"held": held, "total": len(claims), "failed": len(tested) - held, "untested": len(claims) - len(tested)}


def interval_diagnosis(low: float, high: float, lower: float = -math.inf, upper: float = math.inf) -> tuple[str, str]:
    """The diagnosis of a failed claim that needs its whole interval [low, high] inside [lower, upper], with the
    sentence that gives its evidence: "scale" where the interval still overlaps the accepted region, or is not
    finite (too few replicates: more of them could settle it either way), "finding" where it lies wholly outside
    (the measurement contradicts the claim in this setting)."""
    region = (f"[{lower:.3g}, {upper:.3g}]" if math.isfinite(lower) and math.isfinite(upper)
              else f"≥ {lower:.3g}" if math.isfinite(lower) else f"≤ {upper:.3g}")
    if not (math.isfinite(low) and math.isfinite(high)):
        return "scale", f"Scale: no finite interval (too few replicates) to set against the accepted region {region}."
    if high >= lower and low <= upper:
        return "scale", (f"Scale: the interval [{low:.3g}, {high:.3g}] still overlaps the accepted region {region}; "
                         "more replicates could settle it either way.")
    return "finding", (f"Finding at this scale: the whole interval [{low:.3g}, {high:.3g}] lies outside the accepted "
                       f"region {region}.")


def interval_inside(interval: dict, lower: float = -math.inf, upper: float = math.inf) -> bool:
    """Whether an interval (``low``, ``high``: dltheory.stats.mean_interval) lies wholly in [lower, upper]: the
    house rule for a claim on replicates. An interval without finite ends (too few replicates) does not."""
    low, high = interval["low"], interval["high"]
    return bool(math.isfinite(low) and math.isfinite(high) and lower <= low and high <= upper)


def interval_failure(interval: dict, lower: float = -math.inf, upper: float = math.inf) -> tuple[str, str]:
    """:func:`interval_diagnosis` of an interval not wholly in [lower, upper], whose evidence also says where the
    replicates' mean alone would have passed (so a reader sees why a mean inside the region is not enough)."""
    diagnosis, why = interval_diagnosis(interval["low"], interval["high"], lower, upper)
    if lower <= interval["mean"] <= upper:
        why += f" The seeds' mean ({interval['mean']:.3g}) alone would pass; the claim needs the whole interval."
    return diagnosis, why


def combined_diagnosis(categories) -> str:
    """One diagnosis for a claim whose failing parts (cells, intervals) each have one: the first of them in
    DIAGNOSES order (bug, scale, design, finding: what to look at first); the detail names each part's. ""
    where none has one."""
    present = set(categories)
    return next((category for category in DIAGNOSES if category in present), "")
