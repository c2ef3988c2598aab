"""Accuracy, speed and claims of the causal-direction family (issues 5 and 21), from the collected scores table.

Headline metric per benchmark: weighted accuracy on Tübingen (the benchmark's standard metric, with its official
weights) and on a user's benchmark (its Weight column, default 1), plain accuracy on the synthetic benchmarks (every
pair weighs 1, so the two coincide there). Every accuracy carries a Wilson interval over its pairs (a binomial
proportion over P pairs; Kish's effective count for the weighted accuracy), printed as "0.62 [0.49, 0.73] (Wilson,
60 pairs)".

Evaluations (issue 21): the methods trained on the meta-training pool (Meta-CGNN, its direction-term extension,
the supervised classifier) are scored in-distribution on the pool's synthetic families by the models of pool 'all',
on held-out mechanisms ("<family>_held_out") by the models of pool 'no_<family>' or, for a family outside the
pool's mix, of pool 'all', and on Tübingen and a user's own benchmarks (real data, held out for every pool). The
untrained methods (CGNN, ANM, IGCI, RECI) score each benchmark once; their scores serve both the in-distribution
and the held-out view of a synthetic family (the same test pairs and subsamples). The known-answer benchmark
(``settings.SANITY``) is scored by a Meta-CGNN trained on such pairs (pool 'sanity') and by the baselines: the
family's sanity case.
"""

import numpy as np
import pandas as pd
from scipy import stats

from dltheory.causal.evaluation import (
    REAL_BENCHMARKS,
    decision_credit,
    is_real,
    metrics_by_replicate,
    summarize_over_replicates,
)
from dltheory.causal.settings import SANITY
from dltheory.claims import Claim
from dltheory.stats import wilson_interval

META = "meta_cgnn"
EARLIER = ("cgnn", "anm", "igci", "reci")  # the earlier methods of the claims (CGNN: the paper's comparator)
HELD_OUT = "_held_out"
SOURCE_REPORT = ("Fukumizu's research report on Ton, Sejdinovic & Fukumizu (AAAI 2021): "
                 "'as accurate as the best earlier method'")
SOURCE_ABSTRACT = "Ton, Sejdinovic & Fukumizu, AAAI 2021, abstract: 'high accuracy ... across varying dataset sizes'"
SOURCE_SPEED = "Ton, Sejdinovic & Fukumizu, AAAI 2021 (via a review of Fig. 1): no retraining per dataset, unlike CGNN"


def family_of(view: str) -> str:
    """The benchmark a view scores ('ce_gauss_held_out' -> 'ce_gauss')."""
    return view.removesuffix(HELD_OUT)


def evaluation_of(view: str) -> str:
    """'held-out' (mechanisms the trained methods never saw), 'real' (Tübingen, a user's CSV of pairs), 'sanity'
    (the known-answer pairs) or 'in-distribution'."""
    if view.endswith(HELD_OUT):
        return "held-out"
    if view == SANITY:
        return "sanity"
    return "real" if is_real(view) else "in-distribution"


def headline_metric(benchmark: str) -> str:
    """The metric a benchmark is judged by: weighted accuracy on real data, accuracy on synthetic."""
    return "weighted_accuracy" if is_real(family_of(benchmark)) else "accuracy"


def evaluation_views(table: pd.DataFrame) -> pd.DataFrame:
    """The scores table with ``benchmark`` naming the view: the trained methods' rows marked held-out (column
    ``evaluation``, written by the pool's job; tables without it: the rows of pools 'no_<f>') become
    '<f>_held_out'. The untrained methods' rows of f (pool 'none') are copied there when f also has an
    in-distribution view, and moved there when it has none (a family outside every pool's mix)."""
    table = table.copy()
    pool = table["pool"].fillna("none") if "pool" in table else pd.Series("none", index=table.index)
    table["pool"] = pool
    if "evaluation" in table:
        evaluation = table["evaluation"].fillna("")
    else:
        evaluation = pd.Series(np.select([pool.str.startswith("no_"), pool != "none"], ["held-out", "in-distribution"],
                                         ""), index=table.index)
    held = evaluation == "held-out"
    inside = set(table.loc[evaluation == "in-distribution", "benchmark"])
    families = sorted(table.loc[held, "benchmark"].unique())
    table.loc[held, "benchmark"] = table.loc[held, "benchmark"] + HELD_OUT
    copies = []
    for family in families:
        untrained = (pool == "none") & (table["benchmark"] == family)
        if family in inside:
            copies.append(table[untrained].assign(benchmark=family + HELD_OUT))
        else:
            table.loc[untrained, "benchmark"] = family + HELD_OUT
    return pd.concat([table, *copies], ignore_index=True)


def accuracy_summary(table: pd.DataFrame, confidence: float = 0.95) -> pd.DataFrame:
    """Per (view, method, size, metric): the mean over subsamples, a Wilson interval (accuracies only) and the
    pair counts; metrics accuracy, weighted_accuracy, auc, aupr, pairs, effective_pairs."""
    return summarize_over_replicates(metrics_by_replicate(evaluation_views(table)), confidence)


def headline(summary: pd.DataFrame) -> pd.DataFrame:
    """The summary rows of each view's headline metric."""
    keep = summary["metric"] == summary["benchmark"].map(headline_metric)
    return summary[keep].reset_index(drop=True)


def with_interval(mean: float, low: float, high: float, pairs: float, weighted: bool = False) -> str:
    """'0.62 [0.49, 0.73] (Wilson, 60 pairs)'; a weighted accuracy names its effective pair count."""
    count = f"{pairs:.0f} effective pairs" if weighted else f"{pairs:.0f} pairs"
    return f"{mean:.2f} [{low:.2f}, {high:.2f}] (Wilson, {count})"


def describe(row, metric: str) -> str:
    """A summary row of an accuracy as '0.62 [0.49, 0.73] (Wilson, 60 pairs)'."""
    return with_interval(row["mean"], row["low"], row["high"], row["interval_pairs"], metric == "weighted_accuracy")


def seconds_per_pair(table: pd.DataFrame) -> pd.DataFrame:
    """Median and maximum seconds per pair of each (benchmark, method, size), over its scored subsamples (the
    scores of the pool 'all' and of the untrained methods)."""
    pool = table["pool"].fillna("none") if "pool" in table else pd.Series("none", index=table.index)
    seconds = table[(table["metric"] == "seconds") & (table["skipped"].fillna("") == "") & ~pool.str.startswith("no_")]
    return (seconds.groupby(["benchmark", "method", "size"])["value"].agg(median="median", max="max")
            .reset_index())


def skipped_pairs(table: pd.DataFrame) -> pd.DataFrame:
    """The subsamples no method could score, with the reason (one row per pair and reason)."""
    skipped = table[(table["metric"] == "score") & (table["skipped"].fillna("") != "")]
    return skipped[["benchmark", "pair", "size", "skipped"]].drop_duplicates().reset_index(drop=True)


def results_table(summary: pd.DataFrame, size: int) -> pd.DataFrame:
    """Rows (view, method) at one size: the headline accuracy with its Wilson interval and pair count, and
    AUC and AUPR (means over subsamples)."""
    at_size = summary[summary["size"] == size]
    rows = []
    for (view, method), group in at_size.groupby(["benchmark", "method"]):
        metrics = group.set_index("metric")
        main = metrics.loc[headline_metric(view)]
        rows.append({"benchmark": view, "evaluation": evaluation_of(view), "method": method,
                     "accuracy": describe(main, headline_metric(view)),
                     "auc": float(metrics["mean"].get("auc", np.nan)),
                     "aupr": float(metrics["mean"].get("aupr", np.nan))})
    return pd.DataFrame(rows)


def _pair_credit(table: pd.DataFrame, view: str, method: str, size: int) -> pd.Series:
    """Each scored pair's credit (mean over its subsamples) of ``method`` on a view at one size."""
    rows = table[(table["benchmark"] == view) & (table["method"] == method) & (table["size"] == size)
                 & (table["metric"] == "score") & (table["skipped"].fillna("") == "")]
    if rows.empty:
        return pd.Series(dtype=float)
    credit = decision_credit(rows["value"].to_numpy(), rows["label"].to_numpy())
    return pd.Series(credit, index=rows.index).groupby(rows["pair"].to_numpy()).mean()


def _weights(table: pd.DataFrame, view: str) -> pd.Series:
    rows = table[(table["benchmark"] == view) & (table["metric"] == "score")]
    return rows.groupby("pair")["weight"].first()


def best_earlier_comparisons(table: pd.DataFrame, views, max_size: int, confidence: float,
                             earlier=EARLIER) -> pd.DataFrame:
    """Per (view, size ≤ max_size): each earlier method's headline accuracy on the pairs it scored, with its
    Wilson interval and pair count, and Meta-CGNN's on the same pairs (paired: CGNN's 12 pairs are compared with
    Meta-CGNN's accuracy on those 12). The best earlier method is the one whose interval's lower end is highest (the
    one demonstrably best: a perfect score on 2 pairs does not outrank 0.9 on 60); ``holds``: Meta-CGNN's accuracy
    ≥ that lower end, i.e. ≥ every earlier method's lower end (the tolerance is the interval, so it follows the
    pair counts)."""
    table = evaluation_views(table)
    rows = []
    for view in views:
        weighted = headline_metric(view) == "weighted_accuracy"
        weights = _weights(table, view)
        sizes = sorted(table.loc[(table["benchmark"] == view) & (table["method"] == META), "size"].unique())
        for size in [s for s in sizes if s <= max_size]:
            meta = _pair_credit(table, view, META, size)
            candidates = []
            for method in earlier:
                theirs = _pair_credit(table, view, method, size)
                shared = theirs.index.intersection(meta.index)
                if len(shared) == 0:
                    continue
                w = weights.reindex(shared).to_numpy() if weighted else np.ones(len(shared))
                accuracy = float((theirs[shared] * w).sum() / w.sum())
                meta_accuracy = float((meta[shared] * w).sum() / w.sum())
                pairs = float(w.sum() ** 2 / (w**2).sum())
                low, high = wilson_interval(accuracy, pairs, confidence)
                candidates.append({"benchmark": view, "evaluation": evaluation_of(view), "size": int(size),
                                   "best_earlier": method, "best_accuracy": accuracy, "best_low": low,
                                   "best_high": high, "pairs": pairs, "weighted": weighted,
                                   "meta_cgnn": meta_accuracy, "gap": meta_accuracy - accuracy,
                                   "holds": meta_accuracy >= low})
            if candidates:
                rows.append(max(candidates, key=lambda c: c["best_low"]))
    return pd.DataFrame(rows)


def stability(summary: pd.DataFrame, views, confidence: float, earlier=EARLIER) -> pd.DataFrame:
    """Per view: Meta-CGNN's headline accuracy at the largest size minus that at the smallest (its drop as data
    shrink), against the drop of the earlier method scored at both sizes with the highest accuracy at the largest
    size. ``allowance``: z·√(Σ p(1−p)/P) over the four accuracies (their binomial errors, independent pairs
    assumed), so it follows the pair counts; ``holds``: Meta-CGNN's drop − the reference's drop ≤ allowance.
    ``learned`` (the did-it-learn guard): Meta-CGNN beats chance at the largest size (its Wilson interval's lower
    end > 0.5); a method at chance has no accuracy to lose, so the claim counts only the views where it learned."""
    head = headline(summary)
    z = float(stats.norm.ppf(0.5 + confidence / 2))
    rows = []
    for view in views:
        meta = head[(head["benchmark"] == view) & (head["method"] == META)].set_index("size")
        if len(meta) < 2:
            continue
        small, large = meta.index.min(), meta.index.max()
        references = []
        for method in earlier:
            theirs = head[(head["benchmark"] == view) & (head["method"] == method)].set_index("size")
            if small in theirs.index and large in theirs.index:
                references.append((float(theirs.loc[large, "mean"]), method, theirs))
        if not references:
            continue
        _, method, theirs = max(references, key=lambda r: r[0])
        parts = [(frame.loc[size, "mean"], frame.loc[size, "interval_pairs"])
                 for frame in (meta, theirs) for size in (small, large)]
        allowance = z * float(np.sqrt(sum(p * (1 - p) / n for p, n in parts)))
        meta_drop = float(meta.loc[large, "mean"] - meta.loc[small, "mean"])
        reference_drop = float(theirs.loc[large, "mean"] - theirs.loc[small, "mean"])
        rows.append({"benchmark": view, "evaluation": evaluation_of(view), "smallest": int(small),
                     "largest": int(large), "learned": bool(meta.loc[large, "low"] > 0.5),
                     "meta_small": float(meta.loc[small, "mean"]),
                     "meta_large": float(meta.loc[large, "mean"]), "meta_drop": meta_drop, "reference": method,
                     "reference_small": float(theirs.loc[small, "mean"]),
                     "reference_large": float(theirs.loc[large, "mean"]), "reference_drop": reference_drop,
                     "excess": meta_drop - reference_drop, "allowance": allowance,
                     "pairs": float(meta.loc[small, "interval_pairs"]),
                     "holds": meta_drop - reference_drop <= allowance})
    return pd.DataFrame(rows)


STABILITY_STATEMENT = ("Meta-CGNN loses no more accuracy than the earlier methods as datasets shrink from the "
                       "largest to the smallest size.")


def _stability_text(r) -> str:
    return (f"{r['benchmark']}: Meta-CGNN {r['meta_small']:.2f} (n = {r['smallest']}) → {r['meta_large']:.2f} "
            f"(n = {r['largest']}), {r['reference']} {r['reference_small']:.2f} → {r['reference_large']:.2f}; "
            f"excess drop {r['excess']:+.2f} against allowance {r['allowance']:.2f} ({r['pairs']:.0f} pairs)")


def _stability_claim(stable: pd.DataFrame, confidence: float) -> Claim:
    """The stability claim over the views where Meta-CGNN learned (``stability``'s guard); not tested where it
    learned on none, the flagged views listed in the detail either way."""
    base = {"id": "causal.meta_stable_across_sizes", "source": SOURCE_ABSTRACT, "statement": STABILITY_STATEMENT,
            "expected": ("Meta-CGNN's drop minus the reference method's drop ≤ the allowance z·√(Σ p(1−p)/P) "
                         f"(confidence {confidence}) on every benchmark where Meta-CGNN beats chance at the largest "
                         "n"), "ours": True}
    if stable.empty:
        return Claim(**base, measured="none", tolerance=None, holds=False, tested=False,
                     detail="fewer than two sizes, or no earlier method scored at both")
    learned, flagged = stable[stable["learned"]], stable[~stable["learned"]]
    guard = (f"did-it-learn guard: Meta-CGNN does not beat chance at the largest n (Wilson lower end ≤ 0.5) on "
             f"{len(flagged)} of {len(stable)} benchmarks, left out: "
             + "; ".join(f"{r['benchmark']} {r['meta_large']:.2f} at n = {r['largest']}" for _, r in flagged.iterrows())
             if len(flagged) else "Meta-CGNN beats chance at the largest n on every benchmark")
    if learned.empty:
        return Claim(**base, measured="none", tolerance=None, holds=False, tested=False,
                     detail=f"not tested: {guard}. A method at chance has no accuracy to lose, so its drop says "
                            "nothing about stability (read the two accuracy claims).")
    worst = learned.loc[(learned["excess"] - learned["allowance"]).idxmax()]
    holds = bool(learned["holds"].all())
    # The allowance is the half-width of the excess drop's normal-approximation interval (the four accuracies'
    # binomial variances over the pairs), so the claim holds where that interval reaches down to 0 or below; its
    # replicates are the pairs its detail names (Meta-CGNN's at the smallest n).
    excess, allowance = float(worst["excess"]), float(worst["allowance"])
    return Claim(**base, measured=excess, tolerance=allowance, holds=holds, replicates=_pair_count(worst["pairs"]),
                 interval=(excess - allowance, excess + allowance),
                 interval_kind=f"{confidence:.0%} normal approximation over pairs",
                 diagnosis="" if holds else "finding",
                 detail=("" if holds else "Finding at this scale: Meta-CGNN loses more accuracy towards the small n "
                         "than the reference method, beyond the pairs' noise, on the benchmarks marked FAILS. ")
                 + "; ".join(_stability_text(r) + ("" if r["holds"] else " FAILS") for _, r in learned.iterrows())
                 + f". {guard}.")


def sanity_claim(summary: pd.DataFrame, settings: dict) -> Claim:
    """The known-answer case: on pairs whose direction every consistent method finds (``SANITY``), Meta-CGNN
    trained on such pairs, ANM and RECI each reach the config's accuracy at the config's n."""
    size, threshold = settings.get("sanity_size", 100), settings.get("sanity_accuracy", 0.9)
    head = headline(summary)
    rows = head[(head["benchmark"] == SANITY) & (head["size"] == size)].set_index("method")
    base = {"id": "causal.sanity_known_direction", "ours": True,
            "source": "known answer: additive noise with little noise and a uniform cause (identifiable; ANM and "
                      "RECI decide such pairs)",
            "statement": (f"On pairs y = x³ or tanh(3x) plus 2-10% noise, Meta-CGNN meta-trained on such pairs, ANM "
                          f"and RECI each find the direction at n = {size}."),
            "expected": f"accuracy ≥ {threshold} for each of Meta-CGNN (pool 'sanity'), ANM, RECI"}
    missing = [m for m in (META, "anm", "reci") if m not in rows.index]
    if missing:
        return Claim(**base, measured="none", tolerance=None, holds=False, tested=False,
                     detail=f"not scored at n = {size}: {', '.join(missing)} (the benchmark {SANITY} or pool "
                            "'sanity' is not configured)")
    at_sizes = head[(head["benchmark"] == SANITY) & (head["method"] == META)].sort_values("size")
    worst = rows.loc[[META, "anm", "reci"], "mean"].idxmin()
    below = [m for m in (META, "anm", "reci") if rows.loc[m, "mean"] < threshold]
    # ANM or RECI missing a direction they decide by construction points at the pairs or the scoring (bug);
    # Meta-CGNN alone below it, at its meta-training budget (a control meta-trained on 900 such pairs scores 80/80).
    diagnosis = "" if not below else ("scale" if below == [META] else "bug")
    return Claim(**base, measured=float(rows.loc[worst, "mean"]), tolerance=None, holds=not below,
                 **_wilson_fields(rows.loc[worst], headline_metric(SANITY), settings.get("confidence", 0.95)),
                 diagnosis=diagnosis,
                 detail={"": "", "scale": "Scale: ANM and RECI find the direction, Meta-CGNN alone does not at this "
                                          "meta-training budget. ",
                         "bug": f"Bug: {', '.join(m for m in below if m != META)} misses directions it decides by "
                                "construction, so the pairs or the scoring are wrong. "}[diagnosis]
                 + "; ".join(f"{m}: {describe(rows.loc[m], 'accuracy')}" for m in rows.index)
                 + ". Meta-CGNN (pool 'sanity') at every size: "
                 + ", ".join(f"n = {int(r['size'])} {r['mean']:.2f}" for _, r in at_sizes.iterrows())
                 + ". Measured: the lowest of the three.")


def speedup(timing: pd.DataFrame) -> float:
    """Median over the timed pairs of CGNN's seconds divided by Meta-CGNN's, pair by pair."""
    by_pair = timing.pivot_table(index="pair", columns="method", values="seconds")
    return float(np.median(by_pair["cgnn"] / by_pair[META]))


def _comparison_text(row) -> str:
    unit = "effective pairs" if row["weighted"] else "pairs"
    return (f"{row['benchmark']} n = {row['size']}: Meta-CGNN {row['meta_cgnn']:.2f} against {row['best_earlier']} "
            f"{row['best_accuracy']:.2f} [{row['best_low']:.2f}, {row['best_high']:.2f}] "
            f"(Wilson, {row['pairs']:.0f} {unit})")


def _pair_count(pairs: float) -> int | None:
    """The pair count an interval rests on (Kish's effective count for a weighted accuracy), rounded as the details
    print it; None for none."""
    count = round(float(pairs)) if np.isfinite(pairs) else 0
    return count if count >= 1 else None


def _wilson_fields(row, metric: str, confidence: float) -> dict:
    """A summary row's Wilson interval, its kind and its pair count, as the Claim fields."""
    unit = "effective pairs" if metric == "weighted_accuracy" else "pairs"
    interval = (float(row["low"]), float(row["high"]))
    return {"interval": interval if all(np.isfinite(interval)) else None,
            "interval_kind": f"{confidence:.0%} Wilson over {unit}" if all(np.isfinite(interval)) else "",
            "replicates": _pair_count(row["interval_pairs"])}


def _accuracy_claim(claim_id: str, comparisons: pd.DataFrame, label: str, max_size: int, confidence: float,
                    cgnn_note: str, diagnosis: str = "") -> Claim:
    if comparisons.empty:
        return Claim(id=claim_id, source=SOURCE_REPORT, statement=f"({label}) nothing to compare", measured="none",
                     expected="", tolerance=None, holds=False, ours=True, tested=False,
                     detail="not tested: no comparison was scored")
    worst = comparisons.loc[(comparisons["meta_cgnn"] - comparisons["best_low"]).idxmin()]
    failing = comparisons[~comparisons["holds"]]
    detail = (f"worst: {_comparison_text(worst)}; {len(failing)} of {len(comparisons)} (benchmark, n) below the "
              f"interval" + (": " + "; ".join(_comparison_text(r) for _, r in failing.iterrows()) if len(failing)
                             else "") + f". {cgnn_note}")
    holds = bool(comparisons["holds"].all())
    # The measured margin (Meta-CGNN's accuracy minus the best earlier method's Wilson lower end) has no interval of
    # its own; both ends rest on the worst comparison's shared pairs.
    return Claim(
        id=claim_id,
        source=SOURCE_REPORT,
        statement=(f"At n ≤ {max_size}, Meta-CGNN (no direction term) is as accurate as the best earlier method "
                   f"(CGNN, ANM, IGCI, RECI) on {label}."),
        measured=float(worst["meta_cgnn"] - worst["best_low"]),
        expected=(f"Meta-CGNN's accuracy on the same pairs ≥ the lower end of the best earlier method's "
                  f"{confidence:.0%} Wilson interval at every (benchmark, n ≤ {max_size})"),
        tolerance=None,
        holds=holds,
        ours=True,
        detail=detail,
        replicates=_pair_count(worst["pairs"]),
        diagnosis="" if holds else diagnosis,
    )


# A control run outside the pipeline (2026-12-06, issue 21; default model sizes and a small one, n = 100): it
# separates a scoring bug from the method. Its in-pipeline form is the known-answer claim (``sanity_claim``).
CHANCE_CONTROL = (
    "control outside the pipeline: on 40 sharp pairs (y = x^3 or tanh(3x) plus small noise, half flipped) ANM and "
    "RECI score 40/40 and per-pair CGNN 37/40, the CE-pool Meta-CGNN 4/120 over 3 seeds, but the same code "
    "meta-trained on 900 such pairs scores 80/80 over 2 seeds, so the scoring rule and its sign are right; the task "
    "vector lets the generator fit the reversed reading as closely as the causal one (MMD^2 0.076-0.078 against "
    "0.076-0.081, noise floor 0.062; another dataset's task vector 0.24), so fit quality carries no direction")


# The settings chosen after pilots (config/config.yaml's comments give the numbers), named beside the claims they
# affect. None was chosen on test pairs of this family's current seeds.
PILOTS = (
    "Settings chosen after pilots: Meta-CGNN's learning rate 0.003 (issue 5: it beat 0.001 on every benchmark's "
    "accuracy in a 2000-step pilot, on pairs drawn as the benchmarks then were) and its score draws (issue 5: 32 "
    "beat 8 at n = 25 with the direction term; 12 since issue 21 for time); its 750 meta-steps and the extension's "
    "800 (issue 21 pilots on validation pairs only: no trend in the headline's validation accuracy from 250 to 2000 "
    "steps; the extension still rising at 1000). The checkpoint is chosen on validation pairs in every run.")


def _meta_at_size(summary: pd.DataFrame, views, max_size: int) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """The headline rows of the views at n ≤ max_size, Meta-CGNN's among them, and at how many of Meta-CGNN's its
    Wilson interval contains chance (0.5)."""
    head = headline(summary)
    head = head[head["benchmark"].isin(views) & (head["size"] <= max_size)]
    meta = head[head["method"] == META]
    return head, meta, int(((meta["low"] <= 0.5) & (meta["high"] >= 0.5)).sum())


def chance_category(summary: pd.DataFrame, views, max_size: int) -> str:
    """The diagnosis ``chance_diagnosis`` states, as a Claim's category: "finding" where Meta-CGNN's interval
    contains chance at at least half of its (view, n ≤ max_size) (the design of the pure MMD-scoring form) or where
    it beats chance but not the best earlier method; "bug" where its interval lies wholly below chance at at least
    half of them (a direction read reversed, which the known-answer control rules out only for the pools it ran)."""
    _, meta, _ = _meta_at_size(summary, views, max_size)
    if not len(meta):
        return ""
    return "bug" if 2 * int((meta["high"] < 0.5).sum()) >= len(meta) else "finding"


def chance_diagnosis(summary: pd.DataFrame, views, max_size: int, history: pd.DataFrame | None = None) -> str:
    """Evidence for a diagnosis, computed from the run: at how many (view, n ≤ max_size) Meta-CGNN's Wilson
    interval contains chance (0.5); its mean headline accuracy there beside the extension's and the supervised
    classifier's on the same views and sizes (each with its views counted); and the validation accuracy over
    the meta-steps (range over the checks) per pool."""
    head, meta, at_chance = _meta_at_size(summary, views, max_size)
    if meta.empty:
        return ""
    below = int((meta["high"] < 0.5).sum())
    parts = [f"Meta-CGNN's interval contains chance (0.5) at {at_chance} of {len(meta)} (benchmark, n ≤ {max_size})"
             + (f" and lies wholly below it at {below}" if below else "")]
    if 2 * below >= len(meta):
        parts.insert(0, "diagnosis: bug (Meta-CGNN reads most directions reversed, with its interval clear of "
                        "chance: a sign error until shown otherwise)")
    elif 2 * at_chance >= len(meta):
        parts.insert(0, "diagnosis: finding (design of the pure MMD-scoring form, not a bug of scoring: the "
                        "validation pairs, scored during training before any test pair, show it too) - without the "
                        "direction term Meta-CGNN's fit errors carry little direction signal; the labels carry it "
                        "(the extension, the supervised classifier)")
        parts.insert(1, CHANCE_CONTROL)
    else:
        parts.insert(0, "diagnosis: finding (Meta-CGNN beats chance at most sizes but not the best earlier method)")
    means = []
    for method, name in ((META, "Meta-CGNN"), ("meta_cgnn_contrast", "with the direction term"),
                         ("rcc", "supervised classifier")):
        rows = head[head["method"] == method]
        if len(rows):
            means.append(f"{name} {rows['mean'].mean():.2f} ({rows['benchmark'].nunique()} benchmarks)")
    parts.append("mean accuracy over them: " + ", ".join(means))
    if history is not None and "validation_accuracy" in history:
        checks = history[history["method"] == META].dropna(subset=["validation_accuracy"])
        for pool, curve in checks.groupby("pool"):
            parts.append(f"validation accuracy of Meta-CGNN (pool {pool}) {curve['validation_accuracy'].min():.2f}"
                         f"-{curve['validation_accuracy'].max():.2f} over steps {int(curve['step'].min())}-"
                         f"{int(curve['step'].max())}")
    return "; ".join(parts)


def causal_claims(table: pd.DataFrame, summary: pd.DataFrame, timing: pd.DataFrame, settings: dict,
                  history: pd.DataFrame | None = None) -> list[Claim]:
    """The issue-21 claims, with the confidence and sizes fixed in the config before the runs. Each detail ends
    with the evidence a diagnosis rests on (``chance_diagnosis``; ``history``: the meta-training curves)."""
    confidence, max_size, factor = settings["confidence"], settings["max_size"], settings["speedup"]
    views = sorted(summary["benchmark"].unique())
    held = [v for v in views if evaluation_of(v) in ("held-out", "real")]  # the sanity view is neither
    # A user's benchmark is real data, held out for every pool as Tübingen is: it joins that claim, named.
    users = [v for v in held if evaluation_of(v) == "real" and v not in REAL_BENCHMARKS]
    held_label = "held-out mechanisms and Tübingen" + (f" and the user benchmarks {', '.join(users)}" if users else "")
    inside = [v for v in views if evaluation_of(v) == "in-distribution"]
    pairs = summary[(summary["metric"] == "pairs") & (summary["method"] == "cgnn")]
    cgnn_note = ("CGNN compared on the pairs it scored: " + ", ".join(
        f"{b} {int(n)} pairs" for b, n in pairs.groupby("benchmark")["mean"].max().items())
        + " (the default run's CGNN is cut down; config/paper.yaml scores every pair at its defaults)"
        if len(pairs) else "CGNN not configured")
    claims = [
        _accuracy_claim("causal.meta_matches_best_earlier_held_out",
                        best_earlier_comparisons(table, held, max_size, confidence), held_label, max_size,
                        confidence,
                        cgnn_note + " Evidence: " + chance_diagnosis(summary, held, max_size, history) + ". "
                        + PILOTS, chance_category(summary, held, max_size)),
        _accuracy_claim("causal.meta_matches_best_earlier_in_distribution",
                        best_earlier_comparisons(table, inside, max_size, confidence),
                        "in-distribution synthetic benchmarks", max_size, confidence,
                        cgnn_note + " Evidence: " + chance_diagnosis(summary, inside, max_size, history) + ". "
                        + PILOTS, chance_category(summary, inside, max_size)),
    ]
    claims.append(_stability_claim(stability(summary, [v for v in views if evaluation_of(v) != "sanity"],
                                             confidence), confidence))
    claims.append(sanity_claim(summary, settings))
    ratio = speedup(timing)
    cgnn_seconds = float(timing.loc[timing["method"] == "cgnn", "seconds"].median())
    meta_seconds = float(timing.loc[timing["method"] == META, "seconds"].median())
    claims.append(Claim(
        id="causal.meta_faster_than_cgnn",
        source=SOURCE_SPEED,
        statement=f"Meta-CGNN decides a pair at least {factor:g}× faster than CGNN at CGNN's default settings.",
        measured=ratio,
        expected=f"median CGNN seconds / Meta-CGNN seconds per pair ≥ {factor}",
        tolerance=None,
        holds=bool(ratio >= factor),
        ours=True,
        diagnosis="" if ratio >= factor else "finding",
        detail=("" if ratio >= factor else "Finding: on this machine the speed-up is below the paper's. ")
               + (f"median seconds per pair over {timing['pair'].nunique()} pairs: CGNN {cgnn_seconds:.2f}, "
                  f"Meta-CGNN {meta_seconds:.4f}"),
        replicates=int(timing["pair"].nunique()) or None,  # a median ratio over the pairs timed: no interval
    ))
    return claims
