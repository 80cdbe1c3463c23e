"""Segment profiles: statistics, behaviour levels, tiers, unique human-readable names, insights."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import engagement as eng
from .config import BEHAVIOUR_KEYS
from .recommend import customer_recommendations, mostly_new, segment_recommendations
from .traits import describe, is_trait, short_phrase
from .vocabulary import LIFECYCLE_STAGES

NEW_DAYS = 90
DORMANT_DAYS = 180

# ---- Risk level and value tier: the ONE rule, applied to a segment's averages (its label) and to each
# customer's own churn risk and predicted LTV (the per-customer columns of the results and exports). Both are
# relative to this client's own customers, so a client where most customers churn still sees who is worse than
# usual, and a label never contradicts its evidence: "high risk" is always above the average customer's risk.
RISK_HIGH = 0.5  # "likely to leave": a customer's own churn risk >= 0.5 (insights.population.likely_to_leave)
RISK_MARGIN_POINTS = 0.05  # high: at least this many points (and RISK_MARGIN_SHARE of the average) above average
RISK_MARGIN_SHARE = 0.25
RISK_HIGH_CAP = 0.9  # ... or at least 90 % whatever the average
VALUE_HIGH_RATIO = 1.25  # value >= 1.25 x the population's average: high
VALUE_LOW_RATIO = 0.8  # value <= 0.8 x the population's average: low; in between: medium
RULES = {
    "risk_level": f"relative to the average customer's churn risk p: high when at least max({RISK_MARGIN_POINTS:.0%} "
    f"points, {RISK_MARGIN_SHARE:.0%} of p) above it (or {RISK_HIGH_CAP:.0%} and more), low when as far below it, "
    "otherwise medium; a segment is labelled by its average churn risk, a customer by their own",
    "value_tier": f"high when predicted LTV >= {VALUE_HIGH_RATIO} x the average customer's, low when <= "
    f"{VALUE_LOW_RATIO} x, otherwise medium; a segment is labelled by its average predicted LTV, a customer by "
    "their own",
    "engagement_level": "the mean over engagement columns of the distance from the average customer in standard "
    "deviations, signed by the column's direction (more sessions: more engaged; more days since the last visit: "
    "less): high above +0.3, low below -0.3, otherwise medium; unknown without engagement columns",
}


_LEVELS = np.array(["low", "medium", "high", "unknown"], dtype=object)  # by code: a million labels by one take


def _risk_margin(population_avg: float) -> float:
    return max(RISK_MARGIN_POINTS, RISK_MARGIN_SHARE * population_avg)


def risk_levels(churn, population_avg: float | None, churn_method: str) -> np.ndarray:
    """Churn risk (one value per segment or per customer) -> "high" / "medium" / "low" relative to the
    population's average (see RULES); "unknown" when churn could not be estimated."""
    churn = np.asarray(churn, dtype=float)
    if churn_method == "unavailable" or population_avg is None:
        return _LEVELS[np.full(churn.shape, 3, dtype=np.int8)]
    pop = float(population_avg)
    margin = _risk_margin(pop)
    code = np.ones(churn.shape, dtype=np.int8)  # medium
    code[churn <= pop - margin] = 0
    code[(churn >= pop + margin) | (churn >= RISK_HIGH_CAP)] = 2
    code[np.isnan(churn)] = 3
    return _LEVELS[code]


def value_tiers(value, population_avg: float | None) -> np.ndarray:
    """Value (predicted LTV; one per segment or per customer) -> "high" / "medium" / "low" against the
    population's average (see RULES). Without a value measure the tier is "unknown"."""
    value = np.asarray(value, dtype=float)
    if population_avg is None or not np.isfinite(population_avg) or population_avg <= 0:
        return _LEVELS[np.full(value.shape, 3, dtype=np.int8)]
    ratio = value / float(population_avg)
    code = np.ones(value.shape, dtype=np.int8)
    code[ratio >= VALUE_HIGH_RATIO] = 2
    code[ratio <= VALUE_LOW_RATIO] = 0
    code[np.isnan(ratio)] = 3
    return _LEVELS[code]


def lifecycle_stages(beh: dict[str, np.ndarray], churn: np.ndarray) -> np.ndarray:
    """new: tenure <= 90 days; dormant: last activity >= 180 days ago (or churn risk >= 0.85 without recency);
    at_risk: churn risk >= 0.5; otherwise active."""
    n = len(churn)
    stage = np.full(n, "active", dtype=object)
    stage[churn >= 0.5] = "at_risk"
    if "recency" in beh:
        stage[beh["recency"] >= DORMANT_DAYS] = "dormant"
    else:
        stage[churn >= 0.85] = "dormant"
    if "tenure" in beh:
        stage[beh["tenure"] <= NEW_DAYS] = "new"
    return stage


def _f(x):
    if x is None:
        return None
    x = float(x)
    return x if np.isfinite(x) else None


def _segment_means(values: np.ndarray, k_off: np.ndarray, n_slots: int):
    """Per-segment mean, population mean and population SD (ddof=0) of one column, missing values left out,
    in float64; z = (segment mean - population mean) / population SD: the ONE definition of "n SD above/below
    the average" used for profiles, distinguishing features and engagement."""
    v = np.asarray(values, dtype=np.float64)
    ok = ~np.isnan(v)
    if ok.all():
        count = np.bincount(k_off, minlength=n_slots).astype(float)
        sums = np.bincount(k_off, weights=v, minlength=n_slots)
        pop = v
    else:
        count = np.bincount(k_off[ok], minlength=n_slots).astype(float)
        sums = np.bincount(k_off[ok], weights=v[ok], minlength=n_slots)
        pop = v[ok]
    with np.errstate(invalid="ignore", divide="ignore"):
        seg_mean = sums / count
    if pop.size == 0:
        return seg_mean, np.nan, np.nan, np.zeros(n_slots)
    pop_mean = float(pop.mean())
    pop_std = float(pop.std())
    z = (seg_mean - pop_mean) / pop_std if pop_std > 0 else np.zeros(n_slots)
    return seg_mean, pop_mean, pop_std, np.where(np.isfinite(z), z, 0.0)


@dataclass
class ProfileInputs:
    """What segment profiles are computed from, one entry per customer where it is an array.

    ``readable`` holds the values a person reads (recorded values; NaN where a value was missing, so averages
    are over the customers who have one). ``features`` is the model's standardised and weighted matrix, described
    by ``feature_names``, ``weights``, ``means`` and ``stds`` (Preprocessor.feature_names_, weights_, mean_,
    std_)."""

    labels: np.ndarray  # segment per customer (-1: unclustered)
    features: np.ndarray
    feature_names: list[str]
    weights: np.ndarray
    means: np.ndarray
    stds: np.ndarray
    readable: pd.DataFrame
    behaviour: dict[str, np.ndarray]  # recency, frequency, tenure (days, counts), monetary
    churn: np.ndarray  # churn risk
    ltv: np.ndarray  # predicted lifetime value
    revenue_column: str | None
    churn_method: str
    lifecycle: np.ndarray  # lifecycle stage per customer (lifecycle_stages)
    engagement: dict[str, str] = field(default_factory=dict)  # {column: "more" | "less"} (engagement.py)
    glossary: dict[str, dict] = field(default_factory=dict)  # what each feature means (traits.feature_glossary)
    # without a predicted LTV, what value tiers compare: {"column", "per"} (per: "month", "billing period", ... for a
    # charge per period; None for spend to date); see pipeline.value_basis
    value_basis: dict | None = None


def build_profiles(inputs: ProfileInputs) -> tuple[list[dict], dict, dict[str, np.ndarray]]:
    """Segment profiles, insights, and each customer's own risk level and value tier.

    Every "z" / "SD" figure is (segment mean - population mean) / population SD of exactly the readable values,
    the same numbers printed beside it."""
    labels, X, feature_names = inputs.labels, inputs.features, inputs.feature_names
    weights, means, stds = inputs.weights, inputs.means, inputs.stds
    profile_frame, beh, churn, ltv = inputs.readable, inputs.behaviour, inputs.churn, inputs.ltv
    revenue_col, churn_method, stage = inputs.revenue_column, inputs.churn_method, inputs.lifecycle
    n = len(labels)
    seg_ids = sorted(int(s) for s in np.unique(labels))
    frame = profile_frame.copy()
    frame["churn_risk"] = churn
    if np.isfinite(ltv).any():
        frame["predicted_ltv"] = ltv
    for key in (k.removesuffix("_col") for k in BEHAVIOUR_KEYS):
        if key in beh:
            frame[f"_{key}"] = beh[key]
    k_off = labels - min(seg_ids)
    n_slots = max(seg_ids) - min(seg_ids) + 1
    frame["_seg"] = labels
    seg_medians = frame.groupby("_seg", sort=True).median()
    columns = [c for c in frame.columns if c != "_seg"]
    col_stats = {c: _segment_means(frame[c].to_numpy(), k_off, n_slots) for c in columns}
    seg_mean = {c: v[0] for c, v in col_stats.items()}
    pop_mean = {c: v[1] for c, v in col_stats.items()}
    col_z = {c: v[3] for c, v in col_stats.items()}
    counts = np.bincount(labels - labels.min(), minlength=0)
    # model features that are not printed as a column of their own (one-hot levels, calendar parts, text
    # topics) are not transformed: their z on the model's standardised scale is the same definition
    if n_slots <= 20:
        onehot = np.zeros((n_slots, n), np.float32)
        onehot[k_off, np.arange(n)] = 1.0
        sums = (onehot @ X).astype(float)  # per-segment feature sums in one BLAS call
        del onehot
    else:
        sums = np.vstack([np.bincount(k_off, weights=X[:, j], minlength=n_slots) for j in range(X.shape[1])]).T
    seg_count = np.bincount(k_off, minlength=n_slots).astype(float)
    z_all = sums / np.maximum(seg_count, 1)[:, None] / np.where(weights > 0, weights, 1)[None, :]
    engagement_ref = eng.reference_stats(profile_frame, inputs.engagement)
    has_ltv = "predicted_ltv" in frame.columns
    revenue = beh.get("monetary") if revenue_col else None
    total_revenue_all = float(np.nansum(revenue)) if revenue is not None else None
    likely = churn >= RISK_HIGH
    population = {
        "avg_ltv": _f(pop_mean.get("predicted_ltv")) if has_ltv else None,
        "avg_churn_risk": _f(pop_mean["churn_risk"]),
        "avg_recency_days": _f(pop_mean.get("_recency")) if "_recency" in pop_mean else None,
        "likely_to_leave": {
            "threshold": RISK_HIGH,
            "customers": int(likely.sum()),
            "share": float(likely.mean()) if n else None,
            "predicted_value": float(np.nansum(ltv[likely])) if has_ltv else None,
            "definition": f"customers whose own churn risk is at least {RISK_HIGH:.0%}, and the sum of their "
            "predicted LTV",
        },
    }
    basis = inputs.value_basis or {}
    basis_col = basis.get("column") or revenue_col
    value_col = "predicted_ltv" if has_ltv else (basis_col if basis_col in frame.columns else None)
    value_per = None if has_ltv or value_col is None else basis.get("per")
    pop_value = _f(pop_mean[value_col]) if value_col else None
    seg_risk = risk_levels(
        [seg_mean["churn_risk"][s - min(seg_ids)] for s in seg_ids], population["avg_churn_risk"], churn_method
    )
    seg_tier = (
        value_tiers([seg_mean[value_col][s - min(seg_ids)] for s in seg_ids], pop_value)
        if value_col
        else value_tiers(np.full(len(seg_ids), np.nan), None)
    )
    population["engagement_columns"] = {
        ref["column"]: ("more" if ref["sign"] > 0 else "less") for ref in engagement_ref.values()
    }
    population["value_measure"] = "predicted_ltv" if has_ltv else value_col
    population["value_per"] = value_per
    population["avg_value"] = pop_value
    reference = {
        "avg_churn_risk": population["avg_churn_risk"],
        "avg_value": pop_value,
        "value_measure": population["value_measure"],
        "value_per": value_per,
        "churn_method": churn_method,
        "engagement": engagement_ref,
        "engagement_columns": population["engagement_columns"],
        # each segment's risk level and average churn risk: a customer's own advice says when it differs
        "segment_risk": {
            str(s): [str(seg_risk[i]), _f(seg_mean["churn_risk"][s - min(seg_ids)])]
            for i, s in enumerate(seg_ids)
            if s != -1  # the unclustered are no segment
        },
    }
    customer_levels = customer_advice(
        churn=churn,
        value=frame[value_col].to_numpy(float) if value_col else np.full(n, np.nan),
        readable={c: profile_frame[c].to_numpy(float) for c in engagement_ref},
        reference=reference,
        segments=labels,
    )
    profiles = []
    for i_seg, s in enumerate(seg_ids):
        slot = s - min(seg_ids)
        size = int(counts[s - labels.min()])
        med_row = seg_medians.loc[s]
        stats = {
            c: {"mean": _f(seg_mean[c][slot]), "median": _f(med_row[c]), "z": _f(col_z[c][slot])}
            for c in profile_frame.columns
        }
        z_row = np.array(
            [col_z[name][slot] if name in col_z else z_all[slot, j] for j, name in enumerate(feature_names)]
        )
        order = np.argsort(-np.abs(z_row), kind="stable")
        distinguishing = []
        for j in order[:12]:
            if abs(z_row[j]) < 0.25 or weights[j] == 0:
                continue
            name = feature_names[j]
            if not is_trait(name, inputs.glossary):
                continue
            if name in col_z:
                seg_m, pop_m = _f(seg_mean[name][slot]), _f(pop_mean[name])
            else:
                seg_m = _f(means[j] + z_row[j] * stds[j])
                pop_m = _f(means[j])
            if _repeats(name, _f(z_row[j]), seg_m, distinguishing):
                continue
            trait = {"feature": name, "z": _f(z_row[j]), "segment_mean": seg_m, "population_mean": pop_m}
            trait["text"] = describe(trait, inputs.glossary)
            trait["phrase"] = short_phrase(trait, inputs.glossary)
            distinguishing.append(trait)
            if len(distinguishing) == 5:
                break
        if engagement_ref:
            engagement = float(np.mean([ref["sign"] * col_z[c][slot] for c, ref in engagement_ref.items()]))
            engagement_level = str(eng.level(engagement))
        else:
            engagement, engagement_level = None, eng.UNKNOWN
        mask = labels == s
        seg_stage = stage[mask]
        lifecycle = {st: int((seg_stage == st).sum()) for st in LIFECYCLE_STAGES}
        seg_revenue = float(np.nansum(revenue[mask])) if revenue is not None else None
        sentiment_cols = [c for c in profile_frame.columns if c.endswith("(sentiment)")]

        def mean_of(c, slot=slot):
            return _f(seg_mean[c][slot]) if c in seg_mean else None

        p = {
            "segment": int(s),
            "size": size,
            "share": size / n,
            "value_tier": str(seg_tier[i_seg]),
            "risk_level": str(seg_risk[i_seg]),
            "engagement_level": engagement_level,
            "engagement_score": engagement,
            "avg_ltv": mean_of("predicted_ltv") if has_ltv else None,
            "avg_value": mean_of(value_col) if value_col else None,  # on population["value_measure"]
            "median_ltv": _f(med_row["predicted_ltv"]) if has_ltv else None,
            "avg_churn_risk": mean_of("churn_risk"),
            "total_revenue": seg_revenue,
            "revenue_share": (seg_revenue / total_revenue_all)
            if seg_revenue is not None and total_revenue_all
            else None,
            "avg_recency_days": mean_of("_recency"),
            "avg_frequency": mean_of("_frequency"),
            "avg_tenure_days": mean_of("_tenure"),
            "sentiment": {c: mean_of(c) for c in sentiment_cols} or None,
            "avg_sentiment": _f(np.mean([seg_mean[c][slot] for c in sentiment_cols])) if sentiment_cols else None,
            "lifecycle": lifecycle,
            "growth_potential": None,
            "development_potential": None,
            "stats": stats,
            "distinguishing_features": distinguishing,
        }
        p["growth_potential"], p["development_potential"] = _potentials(p, population, ltv[mask] if has_ltv else None)
        profiles.append(p)
    _name_segments(profiles)
    for p in profiles:
        p["recommendations"] = [] if p["segment"] == -1 else segment_recommendations(p, population)
    customer_levels["reference"] = reference
    insights = _insights(profiles)
    return profiles, {"population": population, "rules": dict(RULES), **insights}, customer_levels


def customer_advice(*, churn, value, readable: dict, reference: dict, segments=None) -> dict[str, np.ndarray]:
    """Each customer's own risk level, value tier, engagement level and top recommendation (with its reason),
    measured against the population of the analysis (`reference`, kept in the fitted model so `predict` gives a
    new customer the same treatment). One definition for the analysis's customers and for predict. With
    `segments` (each customer's segment), a reason says when the customer's own risk differs from an At-Risk or a
    low-risk segment's."""
    churn = np.asarray(churn, dtype=float)
    n = len(churn)
    levels = {
        "risk_level": risk_levels(churn, reference.get("avg_churn_risk"), reference.get("churn_method", "")),
        "value_tier": value_tiers(value, reference.get("avg_value")),
    }
    ref = reference.get("engagement") or {}
    if ref:
        levels["engagement_level"] = eng.level(eng.customer_scores(readable, ref))
    else:
        levels["engagement_level"] = _LEVELS[np.full(n, 3, dtype=np.int8)]
    seg_levels = reference.get("segment_risk") or {}
    segment_risk = segment_churn = None
    if segments is not None and seg_levels:
        keys = np.asarray(segments).astype(np.int64)
        uniq, inverse = np.unique(keys, return_inverse=True)
        known = [seg_levels.get(str(int(u)), ["unknown", None]) for u in uniq]
        segment_risk = np.asarray([k[0] for k in known], dtype=object)[inverse]
        segment_churn = np.asarray([np.nan if k[1] is None else k[1] for k in known], dtype=float)[inverse]
    action, reason = customer_recommendations(
        churn=churn,
        value=value,
        levels=levels,
        population=reference,
        segment_risk=segment_risk,
        segment_churn=segment_churn,
    )
    levels["recommendation"], levels["recommendation_reason"] = action, reason
    return levels


_VALUE_WORD = {"high": "High-Value", "medium": "Mid-Value", "low": "Budget", "unknown": "Customers"}
NOISE_NAME = "Unclustered (noise)"  # a group to look at, not a segment: no plan, no potentials
STAGE_STANDING = 1.5  # a stage names a segment when it is the segment's most common one and this x the overall share


def _stage_stands_out(p: dict, stage: str, overall: dict[str, float]) -> bool:
    """The segment's most common lifecycle stage is `stage`, at least STAGE_STANDING x its share among all
    customers: relative standing, not a fixed cut at half the segment."""
    life = p["lifecycle"]
    size = max(p["size"], 1)
    if not life.get(stage) or max(life.values()) != life[stage]:
        return False
    return life[stage] / size >= STAGE_STANDING * overall.get(stage, 0.0)


def _name_segments(profiles: list[dict]) -> None:
    """Names from the segment's levels (risk, value, engagement when known) and lifecycle standing; two segments
    with the same name are told apart by their strongest trait. Segments are named in order of size (then
    value), never of their arbitrary segment numbers, so the same customers get the same name in another run."""
    clustered = [p for p in profiles if p["segment"] != -1]
    total = sum(p["size"] for p in clustered) or 1
    overall = {st: sum(p["lifecycle"].get(st, 0) for p in clustered) / total for st in LIFECYCLE_STAGES}
    for p in profiles:
        if p["segment"] == -1:
            p["name"] = NOISE_NAME
            continue
        value = _VALUE_WORD.get(p["value_tier"], "Customers")
        if _stage_stands_out(p, "dormant", overall):
            prefix = "Dormant"
        elif p["risk_level"] == "high":
            prefix = "At-Risk"
        elif _stage_stands_out(p, "new", overall):
            prefix = "New"
        elif p["engagement_level"] == "high":
            prefix = "Engaged"
        elif p["engagement_level"] == "low":
            prefix = "Low-Engagement"
        elif p["risk_level"] == "low" and not mostly_new(p):  # loyalty needs time: not for a segment of newcomers
            prefix = "Loyal"
        else:
            prefix = "Steady"
        p["name"] = f"{prefix} {value}"
    ordered = sorted(clustered, key=lambda p: (-p["size"], -(p.get("avg_ltv") or 0), p["segment"]))
    seen: dict[str, list[dict]] = {}
    for p in ordered:
        seen.setdefault(p["name"], []).append(p)
    used = {p["name"] for p in clustered}
    for name, group in seen.items():
        if len(group) < 2:
            continue
        for p in group:
            label = None
            for d in p["distinguishing_features"]:
                cand = f"{name} ({d.get('phrase') or d['feature']})"
                if cand not in used:
                    label = cand
                    break
            if label is None:
                rank = 2
                while f"{name} {rank}" in used:
                    rank += 1
                label = f"{name} {rank}"
            used.add(label)
            p["name"] = label


# Potentials are ceilings, not forecasts: what the segment would add if every customer reached a benchmark.
GROWTH_LABEL = "Growth ceiling"
DEVELOPMENT_LABEL = "Development ceiling"
GROWTH_REASON = (
    "low churn risk and high/medium value. A ceiling, not a forecast: the predicted LTV the segment would add if "
    "every customer below the segment's 75th-percentile predicted LTV reached it"
)
DEVELOPMENT_REASON = (
    "value below the population but not at high churn risk. A ceiling, not a forecast: the predicted LTV the "
    "segment would add if every customer reached the average customer's predicted LTV (segment size x the gap)"
)


def _potentials(p: dict, population: dict, seg_ltv: np.ndarray | None) -> tuple[float | None, float | None]:
    """(growth potential, development potential) of a segment: each is set only for a segment in the matching
    opportunity list (growth: low risk and high/medium value; development: low value, not high risk), so a
    figure shown for a segment always carries the name and definition of the list it appears in."""
    if p["segment"] == -1:
        return None, None
    growth = development = None
    if p["risk_level"] == "low" and p["value_tier"] in ("high", "medium") and seg_ltv is not None:
        growth = float(np.maximum(np.quantile(seg_ltv, 0.75) - seg_ltv, 0).sum())
    if p["value_tier"] == "low" and p["risk_level"] != "high":
        pop_ltv = population.get("avg_ltv")
        if pop_ltv is not None and p["avg_ltv"] is not None:
            development = max(pop_ltv - p["avg_ltv"], 0.0) * p["size"]
    return growth, development


def _insights(profiles: list[dict]) -> dict:
    growth, under = [], []
    for p in profiles:
        if p["segment"] == -1:
            continue
        if p["risk_level"] == "low" and p["value_tier"] in ("high", "medium"):
            growth.append(
                {
                    "segment": p["segment"],
                    "name": p["name"],
                    "growth_potential": p["growth_potential"],
                    "label": GROWTH_LABEL,
                    "reason": GROWTH_REASON,
                }
            )
        if p["value_tier"] == "low" and p["risk_level"] != "high":
            under.append(
                {
                    "segment": p["segment"],
                    "name": p["name"],
                    "development_potential": p["development_potential"],
                    "label": DEVELOPMENT_LABEL,
                    "reason": DEVELOPMENT_REASON,
                }
            )
    growth.sort(key=lambda d: -(d["growth_potential"] or 0))
    under.sort(key=lambda d: -(d["development_potential"] or 0))
    return {"growth_opportunities": growth, "underperforming": under}


def _repeats(name: str, z, segment_mean, listed: list[dict]) -> bool:
    """A trait that says again what a listed one says: the year or month of a date whose age is listed (or the
    other way round), or the same fact under another column (`tenure_days` and `signup_date (days ago)` move
    together customer by customer, so their distances from the average agree to the third decimal)."""
    stem = name
    for part in (" (year)", " (month)", " (days ago)"):
        if name.endswith(part):
            stem = name[: -len(part)]
    for d in listed:
        other = d["feature"]
        if stem != name and other != name and other.startswith(stem + " (") and other.endswith(")"):
            return True  # another calendar view of the same date
        if z is not None and d["z"] is not None and abs(z - d["z"]) < 0.005:
            return True
    return False
