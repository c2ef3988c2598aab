"""The embedding family's tables and claims (FYMT19; Fukumizu & Amari 2000): one row per narrow or embedded point,
the eigenvalue-count table, and the claims M6-1 to M6-5 with the sanity cases. Torch-free.

Counts are integers: a count claim holds only when it holds in every case, and its detail names the cases that
broke, with what their own numbers say about why.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import numpy as np
import pandas as pd

from dltheory.claims import Claim
from dltheory.embedding.experiment import DIVERGING
from dltheory.embedding.settings import EmbeddingSettings
from dltheory.settings import from_config
from dltheory.stats import wilson_interval

PAPER = "Fukumizu, Yamaguchi, Mototake & Tanaka, NeurIPS 2019"
POINT_KEYS = ["activation", "input_dim", "n", "teacher", "narrow_width", "embedding", "unit", "lam", "bias"]
NARROW_KEYS = ["activation", "input_dim", "teacher", "narrow_width"]
# The settings chosen after pilots that every claim reads (config/config.yaml and EmbeddingSettings give the numbers).
PILOTS = ("Chosen after pilots: the zero threshold 1e-9 and the gradient tolerance 1e-10 (the digest's 1e-7: at "
          "1e-7, 16 of 150 smooth replication points had an eigenvalue within a factor 3-30 of it), and trust-region "
          "least squares with a Newton polish for the narrow fits instead of L-BFGS.")


def points(table: pd.DataFrame, part: str | tuple = ("narrow", "embedded")) -> pd.DataFrame:
    """One row per point (narrow or embedded), its metrics as columns; embedded points get the narrow point's
    counts (narrow_negative, narrow_zero, narrow_positive) and their excess over them."""
    parts = (part,) if isinstance(part, str) else part
    rows = table[table["part"].isin(parts)]
    wide = rows.pivot_table(index=POINT_KEYS, columns="metric", values="value", dropna=False).reset_index()
    wide = wide.dropna(subset=["loss"]) if "loss" in wide else wide.iloc[0:0]
    if "narrow" in parts:
        narrow = wide[wide["embedding"] == "narrow"][[*NARROW_KEYS, "negative", "zero", "positive"]]
        narrow = narrow.rename(columns={k: f"narrow_{k}" for k in ("negative", "zero", "positive")})
        wide = wide.merge(narrow, on=NARROW_KEYS, how="left")
        for kind in ("negative", "zero", "positive"):
            wide[f"excess_{kind}"] = wide[kind] - wide[f"narrow_{kind}"]
    return wide


def case_label(row) -> str:
    """A readable name of one point: activation, d, teacher, H0 and the embedding."""
    what = row["embedding"]
    if what == "replication":
        what = f"replication of unit {int(row['unit'])}, lambda {row['lam']:g}"
    elif what == "constant":
        what = f"constant unit, b {row['bias']:g}"
    elif what == "inactive":
        what = "inactive unit"
    return f"{row['activation']}, d = {int(row['input_dim'])}, teacher {int(row['teacher'])}, H0 = " \
           f"{int(row['narrow_width'])}: {what}"


def embedding_group(row) -> str:
    """The figure's and count table's group: replication split by whether lambda is inside (0, 1)."""
    if row["embedding"] == "replication":
        return "replication, λ in (0, 1)" if 0 < row["lam"] < 1 else "replication, λ outside [0, 1]"
    if row["embedding"] == "constant":
        return f"constant unit, b {'>' if row['bias'] > 0 else '<'} 0"
    return {"inactive": "inactive unit", "narrow": "narrow"}[row["embedding"]]


def expected_excess_zeros(row) -> str:
    """The digest's and the derivation's extra zero eigenvalues per added unit, as text ('' where none is
    claimed)."""
    d = int(row["input_dim"])
    if row["activation"] == "relu" and row["embedding"] in ("replication", "inactive"):
        return str(d + 2)
    if row["activation"] == "relu" and row["embedding"] == "constant":
        return str(d + 2) if row["bias"] < 0 else str(d)
    if row["embedding"] == "replication":
        return "1"
    if row["embedding"] == "constant":
        return str(d)
    return ""


def count_table(table: pd.DataFrame) -> pd.DataFrame:
    """Per (activation, input dimension, embedding group): the cases, the (negative, zero, positive) counts
    (min-max over cases), the excess zeros over the narrow point (min-max), the expected excess, how many cases
    matched the prediction from B_j / the coupling g, and the smallest eigenvalue gap."""
    wide = points(table)
    wide["group"] = wide.apply(embedding_group, axis=1)
    wide["matches"] = ((wide["negative"] == wide.get("predicted_negative")) & (wide["zero"] == wide.get(
        "predicted_zero")) & (wide["positive"] == wide.get("predicted_positive")))

    def span(values) -> str:
        low, high = int(values.min()), int(values.max())
        return f"{low}" if low == high else f"{low}-{high}"

    rows = []
    for (act, d, group), of in wide.groupby(["activation", "input_dim", "group"], sort=False):
        embedded = group != "narrow"
        rows.append({"activation": act, "d": int(d), "embedding": group, "cases": len(of),
                     "negative": span(of["negative"]), "zero": span(of["zero"]), "positive": span(of["positive"]),
                     "excess zeros": span(of["excess_zero"]) if embedded else "",
                     "expected excess zeros": expected_excess_zeros(of.iloc[0]) if embedded else "",
                     "excess negative": span(of["excess_negative"]) if embedded else "",
                     "matches prediction": f"{int(of['matches'].sum())}/{len(of)}" if embedded else "",
                     "smallest gap": float(of["gap"].min())})
    order = {name: i for i, name in enumerate(["narrow", "replication, λ in (0, 1)", "replication, λ outside [0, 1]",
                                                "inactive unit", "constant unit, b > 0", "constant unit, b < 0"])}
    frame = pd.DataFrame(rows)
    frame["_order"] = frame["embedding"].map(order)
    return frame.sort_values(["activation", "d", "_order"]).drop(columns="_order").reset_index(drop=True)


def _broken(frame: pd.DataFrame, why, limit: int = 4) -> str:
    """The first ``limit`` broken cases with ``why(row)`` each, and how many more."""
    texts = [f"{case_label(row)} ({why(row)})" for _, row in frame.head(limit).iterrows()]
    more = f"; and {len(frame) - limit} more" if len(frame) > limit else ""
    return "; ".join(texts) + more


def _counts(row, prefix: str = "") -> str:
    return f"{int(row[prefix + 'negative'])}/{int(row[prefix + 'zero'])}/{int(row[prefix + 'positive'])}"


def embedding_claims(table: pd.DataFrame, section: Mapping | EmbeddingSettings) -> list[Claim]:
    settings = from_config(EmbeddingSettings, section, "embedding")
    c = settings.claims
    wide = points(table)
    narrow = wide[wide["embedding"] == "narrow"]
    embedded = wide[wide["embedding"] != "narrow"].copy()
    claims = [_sanity_claim(table, settings), _narrow_claim(table, settings)]
    claims.append(_critical_claim(embedded, c))
    claims.append(_saddle_claim(embedded, c))
    claims.append(_prediction_claim(embedded, settings))
    claims.append(_inactive_claim(embedded, narrow, c))
    claims.append(_zeros_claim(embedded, settings))
    claims.append(_constant_claim(embedded, settings))
    return [dataclasses.replace(claim, detail=f"{claim.detail} {PILOTS}".strip()) for claim in claims]


def _sanity_claim(table, settings) -> Claim:
    sanity = points(table, "sanity")
    if sanity.empty:
        return Claim(id="embedding.sanity_closed_form_counts", source="ours (known answer)",
                     statement="a realizable narrow network has closed-form Hessian counts", measured=float("nan"),
                     expected="every count as derived", tolerance=None, holds=False, ours=True, tested=False,
                     detail="not tested: the config has no smooth activation (the sanity case needs one)")
    ok = ((sanity["negative"] == sanity["expected_negative"]) & (sanity["zero"] == sanity["expected_zero"])
          & (sanity["positive"] == sanity["expected_positive"]))
    broken = sanity[~ok]
    detail = (f"Known answer (ours): a hand-built width-2 network (dltheory.embedding.experiment.sanity_network) "
              f"fits its own outputs (zero residual), so every B_j and the constant unit's coupling vanish: narrow "
              f"0/0/P, replication (lambda 1.5) and constant unit (b 0.5) 0/(d+2)/P (negative/zero/positive). "
              f"{int(ok.sum())} of {len(sanity)} points ({', '.join(sorted(set(sanity['activation'])))}; d = "
              f"{', '.join(str(int(d)) for d in sorted(set(sanity['input_dim'])))}) match; smallest eigenvalue gap "
              f"{sanity['gap'].min():.3g}.")
    if len(broken):
        detail += " Broken: " + _broken(broken, lambda r: f"measured {_counts(r)}, expected "
                                                          f"{_counts(r, 'expected_')}, gap {r['gap']:.3g}")
    return Claim(id="embedding.sanity_closed_form_counts", source="ours (known answer); FYMT19 Sec. 3 embeddings",
                 statement="At a zero-residual minimum every embedding only adds flat directions: the Hessian "
                           "counts are known in closed form.",
                 measured=f"{int(ok.sum())}/{len(sanity)} points", expected="every point's counts as derived",
                 tolerance=None, holds=bool(ok.all()), ours=True, detail=detail,
                 diagnosis="" if ok.all() else "bug", replicates=len(sanity))


def _narrow_claim(table, settings) -> Claim:
    narrow = table[(table["part"] == "narrow")]
    tallies = narrow[narrow["metric"].str.startswith("restarts_")].pivot_table(
        index=NARROW_KEYS, columns="metric", values="value", aggfunc="sum")
    found = tallies["restarts_accepted"] > 0
    total = tallies.sum()
    missing = tallies[~found].reset_index()
    detail = (f"Did-it-converge guard: of {settings.restarts} restarts (trust-region least squares then Newton, "
              f"float64) "
              f"per (activation, input, teacher, narrow width), a narrow point is accepted only when critical "
              f"(||grad E|| < {settings.grad_tol:g}), a minimum (no negative eigenvalue), with exactly its symmetry "
              f"zeros (smooth: none; ReLU: the Jacobian's nullity: scaling, dead units, shared patterns) and, for "
              f"ReLU, no live pre-activation within {settings.kink_margin:g} of its kink. Over all restarts: "
              + ", ".join(f"{k.removeprefix('restarts_').replace('_', ' ')} {int(v)}" for k, v in total.items())
              + f". Configurations with a narrow point: {int(found.sum())} of {len(found)}.")
    if len(missing):
        detail += " None accepted: " + "; ".join(
            f"{r['activation']}, d = {int(r['input_dim'])}, teacher {int(r['teacher'])}, H0 = "
            f"{int(r['narrow_width'])} (diverging {int(r['restarts_diverging'])}, not critical "
            f"{int(r['restarts_not_critical'])}, degenerate "
            f"{int(r['restarts_degenerate'])}, saddle {int(r['restarts_saddle'])}, at a kink "
            f"{int(r['restarts_at_kink'])})" for _, r in missing.iterrows()) + (
            ". Those configurations drop out of every other claim.")
    diagnosis = ""
    if len(missing):
        diverging = missing["restarts_diverging"].sum() / max(1, missing.filter(like="restarts_").sum().sum())
        if diverging >= 0.5:
            detail += (f" Most of their restarts ({diverging:.0%}) diverge: a unit's incoming weights grow past "
                       f"{DIVERGING:g} while the loss creeps down, so the narrow loss has no finite minimiser there "
                       f"(its infimum is approached by a saturating unit); a degenerate point is a narrower network "
                       f"embedded, which FA2000 predict optimisers are drawn to.")
            diagnosis = "finding"
        else:
            detail += " Scale: more restarts or evaluations (config/paper.yaml) should find them."
            diagnosis = "scale"
    detail += (" The acceptance follows the digest (positive definite for smooth activations); the first default "
               "run had accepted the Jacobian's nullity as symmetry zeros for smooth activations too, which let in "
               "saturated tanh and softplus units (B_j ~ 1e-18) and failed M6-2 and M6-4 on them; fixed after that run "
               "(the digest's stated criterion, no threshold changed).")
    return Claim(id="embedding.sanity_narrow_minima_found", source="ours (did-it-converge guard)",
                 statement="Every narrow configuration yields a non-degenerate critical minimum to embed.",
                 measured=f"{int(found.sum())}/{len(found)} configurations", expected="all configurations",
                 tolerance=None, holds=bool(found.all()), ours=True, detail=detail, diagnosis=diagnosis,
                 replicates=len(found))


def _critical_claim(embedded, c) -> Claim:
    grad_ok = embedded["grad_norm"] <= c.grad_factor * embedded["narrow_grad_norm"] + c.grad_floor
    loss_ok = embedded["loss_change"].abs() <= c.loss_change_max
    ok = grad_ok & loss_ok
    detail = (f"At every embedded point (all activations, embeddings, lambdas; constant unit with v_new = 0): "
              f"||grad E|| <= {c.grad_factor:g} x the narrow point's + {c.grad_floor:g} and |E - E_narrow| <= "
              f"{c.loss_change_max:g}. Largest ||grad E|| {embedded['grad_norm'].max():.3g}, largest |E - "
              f"E_narrow| {embedded['loss_change'].abs().max():.3g}; {int(ok.sum())} of {len(ok)} points pass.")
    broken = embedded[~ok]
    if len(broken):
        detail += " Broken: " + _broken(broken, lambda r: f"||grad|| {r['grad_norm']:.3g} vs narrow "
                                                          f"{r['narrow_grad_norm']:.3g}, dE {r['loss_change']:.3g}")
    return Claim(id="embedding.critical_after_embedding", source=f"{PAPER}, Sec. 3; Fukumizu & Amari 2000",
                 statement="Every embedding of a critical point of the narrow network is a critical point of the "
                           "wider one, with the same loss.",
                 measured=f"{int(ok.sum())}/{len(ok)} points", expected="every point critical, same loss",
                 tolerance=c.grad_floor, holds=bool(ok.all()), detail=detail,
                 diagnosis="" if ok.all() else "bug", replicates=len(ok))


def _replication_cases(embedded, act: str) -> pd.DataFrame:
    """One row per (input, teacher, narrow width, unit) of ``act``'s replications with lambda outside [0, 1]:
    a saddle when every such lambda's point has a negative eigenvalue."""
    of = embedded[(embedded["activation"] == act) & (embedded["embedding"] == "replication")
                  & ((embedded["lam"] < 0) | (embedded["lam"] > 1))]
    return of.groupby(["activation", "input_dim", "teacher", "narrow_width", "unit", "embedding"]).agg(
        negative=("negative", "min"), b_max=("b_max", "first"), b_min=("b_min", "first"),
        lam=("lam", "first"), bias=("bias", "first")).reset_index()


def _saddle_claim(embedded, c) -> Claim:
    cases = _replication_cases(embedded, "tanh")
    saddles = cases["negative"] > 0
    k, n = int(saddles.sum()), len(cases)
    fraction = k / n if n else float("nan")
    low, high = wilson_interval(k / n if n else np.nan, n, c.confidence)
    holds = n > 0 and fraction >= c.saddle_fraction_min
    detail = (f"tanh, lambda outside [0, 1] (every such lambda of the config): {k} of {n} (input, teacher, narrow "
              f"width, unit) cases have an eigenvalue below minus the zero threshold; the claim holds when that "
              f"fraction is at least {c.saddle_fraction_min:g} (the digest's test, fixed before the first run; the "
              f"Wilson interval shows how much {n} cases pin it down). Derived condition: "
              f"lambda (1 - lambda) < 0 there, so a negative eigenvalue needs B_j to have a positive one "
              f"(B_j's largest eigenvalue > 0 in {int((cases['b_max'] > 0).sum())} cases).")
    for other in sorted(set(embedded["activation"]) - {"tanh", "relu"}):
        more = _replication_cases(embedded, other)
        detail += (f" {other} (not claimed): {int((more['negative'] > 0).sum())} of {len(more)} cases are "
                   f"saddles.")
    diagnosis = ""
    if not holds and n:
        misses = cases[~saddles]
        detail += (" Not saddles: " + _broken(misses, lambda r: f"B_j eigenvalues {r['b_min']:.2g} to "
                                                                  f"{r['b_max']:.2g}")
                   + ". Where B_j is negative semi-definite the lambda outside [0, 1] is a candidate minimum "
                     "segment (Fukumizu & Amari 2000) and lambda in (0, 1) is the saddle instead; where B_j "
                     "vanishes to the zero threshold the split directions are flat (extra zeros, no sign).")
        diagnosis = "finding"
    return Claim(id="embedding.tanh_replication_is_saddle", source=f"{PAPER}, Thm 5 (per reviewer 1); FA2000",
                 statement="Replicating a unit of a tanh network's non-zero-residual minimum with the splitting "
                           "ratio outside [0, 1] gives a saddle.",
                 measured=fraction, expected=f"fraction of cases >= {c.saddle_fraction_min:g}",
                 tolerance=c.saddle_fraction_min, holds=bool(holds), detail=detail, diagnosis=diagnosis,
                 interval=(low, high), interval_kind=f"{c.confidence:.0%} Wilson over cases", replicates=n or None)


def _prediction_claim(embedded, settings) -> Claim:
    of = embedded[embedded["embedding"].isin(["replication", "constant", "inactive"])]
    ok = ((of["negative"] == of["predicted_negative"]) & (of["zero"] == of["predicted_zero"])
          & (of["positive"] == of["predicted_positive"]))
    rep = of["embedding"] == "replication"
    detail = (f"Sylvester's law of inertia on the block-diagonal Hessian in embedded coordinates (derived; "
              f"dltheory.embedding.shallow): replication adds the counts of lambda (1 - lambda) B_j plus one zero; "
              f"the constant unit adds 1/d/1 when g = phi'(b) (1/n) sum r x~ != 0, else 0/(d+2)/0; the inactive "
              f"unit 0/(d+2)/0. Same zero threshold ({settings.eig_rel_tol:g} x the largest |eigenvalue|) for "
              f"prediction and measurement. Replication {int(ok[rep].sum())}/{int(rep.sum())}, constant and "
              f"inactive {int(ok[~rep].sum())}/{int((~rep).sum())} match.")
    broken = of[~ok]
    if len(broken):
        detail += (" Broken: " + _broken(broken, lambda r: f"measured {_counts(r)}, predicted "
                                                            f"{_counts(r, 'predicted_')}, gap {r['gap']:.3g}")
                   + ". Where the gap is small (< 100), an eigenvalue sits within two decades of the zero threshold "
                     "and Sylvester's congruence, which keeps signs but not sizes, moved it across: a threshold "
                     "effect, not a sign error.")
    small_gap = len(broken) and (broken["gap"] < 100).all()
    return Claim(id="embedding.counts_follow_the_split_matrix", source=f"{PAPER}, Sec. 3-4; FA2000 (derived)",
                 statement="The embedded Hessian's negative/zero/positive counts are the narrow ones plus those of "
                           "lambda (1 - lambda) B_j (replication) or of the new unit's block.",
                 measured=f"{int(ok.sum())}/{len(ok)} points", expected="every point's counts as predicted",
                 tolerance=None, holds=bool(ok.all()), ours=True, detail=detail,
                 diagnosis="" if ok.all() else ("design" if small_gap else "bug"), replicates=len(ok))


def _inactive_claim(embedded, narrow, c) -> Claim:
    of = embedded[(embedded["activation"] == "relu") & (embedded["embedding"] == "inactive")]
    narrow_semi_flat = narrow[NARROW_KEYS + ["semi_flat_min"]].rename(
        columns={"semi_flat_min": "narrow_semi_flat_min"})
    if of.empty:
        return Claim(id="embedding.relu_inactive_unit_is_minimum", source=f"{PAPER}, Sec. 4.2",
                     statement="An inactive ReLU unit embeds a minimum as a minimum.", measured=float("nan"),
                     expected="no negative eigenvalue; semi-flat test >= threshold", tolerance=c.semi_flat_min,
                     holds=False, tested=False, detail="not tested: relu is not among the activations")
    ok = (of["negative"] == 0) & (of["semi_flat_min"] >= c.semi_flat_min)
    escaped = of["escape_final"].dropna() < -c.escape_min
    detail = (f"Every ReLU inactive-unit point (max_i w . x~_i = -margin, v_new random): no eigenvalue below minus "
              f"the zero threshold, and the smallest loss change over random perturbations of norm "
              f"{EmbeddingSettings().semi_flat.radius:g} >= {c.semi_flat_min:g}. {int(ok.sum())} of {len(of)} "
              f"pass; smallest semi-flat change {of['semi_flat_min'].min():.3g}; escape runs that went below the "
              f"narrow loss: {int(escaped.sum())} of {len(escaped)}. A perturbation this small cannot wake the "
              f"unit (margin 1), so this checks that the narrow minimum carries over and that nothing else moved; "
              f"the contrast is the constant unit with b > 0, a saddle.")
    broken = of[~ok].merge(narrow_semi_flat, on=NARROW_KEYS, how="left")
    diagnosis = ""
    if len(broken):
        detail += " Broken: " + _broken(broken, lambda r: f"{int(r['negative'])} negative, semi-flat "
                                                          f"{r['semi_flat_min']:.3g}; the narrow point's own "
                                                          f"{r['narrow_semi_flat_min']:.3g}, its kink distance "
                                                          f"{r['kink_distance']:.2g}")
        if (broken["narrow_semi_flat_min"] < c.semi_flat_min).all():
            detail += (". The narrow point itself fails the same test: it is a minimum of its smooth piece (on its "
                       "activation pattern), but a data point sits closer to a kink than the perturbations reach, "
                       "and across that kink the loss falls at first order. The inactive unit carried over what the "
                       "narrow point had; the acceptance's kink margin is below the perturbation radius.")
            diagnosis = "design"
        else:
            diagnosis = "bug"
    return Claim(id="embedding.relu_inactive_unit_is_minimum", source=f"{PAPER}, Sec. 4.2 (per reviewer 1)",
                 statement="For ReLU, an inactive unit embeds a minimum as a (semi-flat) minimum.",
                 measured=float(of["semi_flat_min"].min()), expected=f"no negative eigenvalue and min dE >= "
                                                                    f"{c.semi_flat_min:g} in every case",
                 tolerance=c.semi_flat_min, holds=bool(ok.all()), detail=detail, diagnosis=diagnosis,
                 replicates=len(of))


def _zeros_claim(embedded, settings) -> Claim:
    rules = {("relu", "replication"): lambda d: d + 2, ("relu", "inactive"): lambda d: d + 2,
             ("tanh", "replication"): lambda d: 1}
    parts, broken = [], []
    for (act, what), expected in rules.items():
        of = embedded[(embedded["activation"] == act) & (embedded["embedding"] == what)]
        if of.empty:
            continue
        want = of["input_dim"].map(expected)
        ok = (of["excess_zero"] == want) & (of["excess_negative"] >= 0)
        parts.append(f"{act} {what}: {int(ok.sum())}/{len(of)}")
        broken.append(of[~ok].assign(want=want[~ok]))
    broken = pd.concat(broken) if broken else pd.DataFrame()
    total = sum(int(p.split(": ")[1].split("/")[1]) for p in parts)
    good = total - len(broken)
    detail = (f"Excess zero eigenvalues over the narrow point's (zero threshold {settings.eig_rel_tol:g} x the "
              f"largest |eigenvalue|), expected d + 2 for ReLU replication and inactive units and exactly 1 (the "
              f"lambda line) for tanh replication: " + "; ".join(parts) + ".")
    diagnosis = ""
    if len(broken):
        detail += " Broken: " + _broken(broken, lambda r: f"{int(r['excess_zero'])} extra zeros, expected "
                                                          f"{int(r['want'])}; B_j eigenvalues {r.get('b_min', 0):.2g} "
                                                          f"to {r.get('b_max', 0):.2g}, gap {r['gap']:.3g}")
        tanh_broken = broken[broken["activation"] == "tanh"]
        if len(tanh_broken) == len(broken):
            detail += (". Every break is tanh replication of a unit whose B_j has an eigenvalue within the zero "
                       "threshold (a nearly saturated or nearly linear unit on the data): the split direction is "
                       "then flat to the threshold's resolution, so the count is 2 or more.")
            diagnosis = "finding"
        else:
            diagnosis = "bug"
    return Claim(id="embedding.extra_zero_eigenvalues", source=f"{PAPER}, Sec. 4.1; counts derived (digest)",
                 statement="Each added unit brings exactly d + 2 zero eigenvalues for ReLU (replication or inactive) "
                           "and exactly one for tanh replication.",
                 measured=f"{good}/{total} points", expected="every point: d + 2 (ReLU), 1 (tanh)",
                 tolerance=None, holds=len(broken) == 0 and total > 0, detail=detail, diagnosis=diagnosis,
                 replicates=total or None)


def _constant_claim(embedded, settings) -> Claim:
    of = embedded[embedded["embedding"] == "constant"].copy()
    saddle_expected = (of["activation"] != "relu") | (of["bias"] > 0)
    d = of["input_dim"]
    ok = np.where(saddle_expected, of["negative"] > 0, (of["negative"] == 0) & (of["excess_zero"] == d + 2))
    ok = pd.Series(ok, index=of.index)
    detail = (f"Constant unit w_new = (0, ..., 0, b), v_new = 0, b in {list(settings.constant_biases)}: a strict "
              f"saddle (a negative eigenvalue) for the smooth activations and for ReLU with b > 0, where "
              f"phi'(b) != 0; ReLU with b < 0 is the inactive unit, a semi-flat minimum (no negative eigenvalue, "
              f"d + 2 extra zeros). {int(ok[saddle_expected].sum())} of {int(saddle_expected.sum())} saddle cases "
              f"and {int(ok[~saddle_expected].sum())} of {int((~saddle_expected).sum())} semi-flat cases hold; the "
              f"coupling |g| ranges {of['coupling_norm'].min():.2g} to {of['coupling_norm'].max():.2g}.")
    broken = of[~ok]
    diagnosis = ""
    if len(broken):
        detail += " Broken: " + _broken(broken, lambda r: f"counts {_counts(r)}, |g| = {r['coupling_norm']:.2g}")
        if (broken["coupling_norm"] <= broken["zero_threshold"]).all():
            detail += (". In each, g = phi'(b) (1/n) sum r_i x~_i vanishes to rounding: the residual is orthogonal "
                       "to the inputs, which the stationarity of any narrow unit that is linear on every input (a "
                       "ReLU unit active on all of them) forces; the constant unit then adds only flat directions. "
                       "The claim's 'whenever phi'(b) != 0' needs g != 0 as well.")
            diagnosis = "finding"
        else:
            diagnosis = "bug"
    return Claim(id="embedding.constant_unit_is_strict_saddle", source="ours (derived, digest M6-5); FYMT19 Sec. 3",
                 statement="A constant unit is a strict saddle whenever phi'(b) != 0, and the semi-flat minimum for "
                           "ReLU with b < 0.",
                 measured=f"{int(ok.sum())}/{len(ok)} points", expected="every point as stated", tolerance=None,
                 holds=bool(ok.all()) and len(ok) > 0, ours=True, detail=detail, diagnosis=diagnosis,
                 replicates=len(ok) or None)
