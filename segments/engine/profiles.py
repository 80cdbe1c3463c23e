"""Segment profiles: statistics, behaviour levels, tiers, unique human-readable names, insights."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .config import BEHAVIOUR_KEYS
from .recommend import segment_recommendations
from .vocabulary import LIFECYCLE_STAGES

NEW_DAYS = 90
DORMANT_DAYS = 180

# ---- Risk level and value tier: the ONE rule, applied to a segment's averages (its label) and to each
# customer's own churn risk and predicted LTV (the per-customer columns of the results and exports).
RISK_HIGH = 0.5  # churn risk >= 0.5: high ("likely to leave")
RISK_HIGH_RELATIVE = 0.35  # ... or >= 0.35 and at least RISK_RELATIVE_FACTOR x the population's average
RISK_RELATIVE_FACTOR = 1.4
RISK_MEDIUM = 0.25  # >= 0.25: medium; below: low
VALUE_HIGH_RATIO = 1.3  # value >= 1.3 x the population's average: high
VALUE_LOW_RATIO = 0.7  # value <= 0.7 x the population's average: low; in between: medium
RULES = {
    "risk_level": f"high when churn risk >= {RISK_HIGH} (or >= {RISK_HIGH_RELATIVE} and at least "
    f"{RISK_RELATIVE_FACTOR} x the average customer's churn risk), medium when >= {RISK_MEDIUM}, otherwise low; "
    "a segment is labelled by its average churn risk, a customer by their own",
    "value_tier": f"high when predicted LTV >= {VALUE_HIGH_RATIO} x the average customer's, low when <= "
    f"{VALUE_LOW_RATIO} x, otherwise medium; a segment is labelled by its average predicted LTV, a customer by "
    "their own",
}


def risk_levels(churn, population_avg: float | None, churn_method: str) -> np.ndarray:
    """Churn risk (one value per segment or per customer) -> "high" / "medium" / "low" (see RULES);
    "unknown" when churn could not be estimated."""
    churn = np.asarray(churn, dtype=float)
    if churn_method == "unavailable":
        return np.full(churn.shape, "unknown", dtype=object)
    pop = population_avg if population_avg is not None else np.inf
    out = np.full(churn.shape, "low", dtype=object)
    out[churn >= RISK_MEDIUM] = "medium"
    out[(churn >= RISK_HIGH) | ((churn >= RISK_HIGH_RELATIVE) & (churn >= RISK_RELATIVE_FACTOR * pop))] = "high"
    out[np.isnan(churn)] = "unknown"
    return out


def value_tiers(value, population_avg: float | None) -> np.ndarray:
    """Value (predicted LTV; one per segment or per customer) -> "high" / "medium" / "low" against the
    population's average (see RULES). Without a value measure everyone is "medium"; a missing value is
    "unknown"."""
    value = np.asarray(value, dtype=float)
    if population_avg is None:
        return np.full(value.shape, "medium", dtype=object)
    ratio = value / max(float(population_avg), 1e-9)
    out = np.full(value.shape, "medium", dtype=object)
    out[ratio >= VALUE_HIGH_RATIO] = "high"
    out[ratio <= VALUE_LOW_RATIO] = "low"
    out[np.isnan(ratio)] = "unknown"
    return out


_ENGAGEMENT = re.compile(
    r"session|visit|login|click|engag|activity|page|view|open|order|purchase|frequency|transaction", re.I
)


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
    engagement_cols = [c for c in profile_frame.columns if _ENGAGEMENT.search(c)]
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
    value_col = "predicted_ltv" if has_ltv else (revenue_col if revenue_col in frame.columns else None)
    pop_value = _f(pop_mean[value_col]) if value_col else None
    seg_risk = risk_levels(
        [seg_mean["churn_risk"][s - min(seg_ids)] for s in seg_ids], population["avg_churn_risk"], churn_method
    )
    seg_tier = (
        value_tiers([seg_mean[value_col][s - min(seg_ids)] for s in seg_ids], pop_value)
        if value_col
        else value_tiers(np.full(len(seg_ids), np.nan), None)
    )
    customer_levels = {
        "risk_level": risk_levels(churn, population["avg_churn_risk"], churn_method),
        "value_tier": value_tiers(frame[value_col].to_numpy(float), pop_value)
        if value_col
        else value_tiers(np.full(n, np.nan), None),
    }
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
        for j in order[:8]:
            if abs(z_row[j]) < 0.25 or weights[j] == 0:
                continue
            name = feature_names[j]
            if name in col_z:
                seg_m, pop_m = _f(seg_mean[name][slot]), _f(pop_mean[name])
            else:
                seg_m = _f(means[j] + z_row[j] * stds[j])
                pop_m = _f(means[j])
            if _repeats(name, _f(z_row[j]), seg_m, distinguishing):
                continue
            distinguishing.append({"feature": name, "z": _f(z_row[j]), "segment_mean": seg_m, "population_mean": pop_m})
            if len(distinguishing) == 5:
                break
        if engagement_cols or "_recency" in frame.columns:
            parts = [col_z[c][slot] for c in engagement_cols]
            if "_recency" in frame.columns:
                parts.append(-col_z["_recency"][slot])
            engagement = float(np.mean(parts))
        else:
            engagement = 0.0
        engagement_level = "high" if engagement > 0.3 else "low" if engagement < -0.3 else "medium"
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
        p["recommendations"] = segment_recommendations(p, population)
    insights = _insights(profiles)
    return profiles, {"population": population, "rules": dict(RULES), **insights}, customer_levels


_VALUE_WORD = {"high": "High-Value", "medium": "Mid-Value", "low": "Budget"}


def _name_segments(profiles: list[dict]) -> None:
    for p in profiles:
        if p["segment"] == -1:
            p["name"] = "Unclustered (noise)"
            continue
        size = max(p["size"], 1)
        life = p["lifecycle"]
        value = _VALUE_WORD[p["value_tier"]]
        if life["dormant"] >= 0.5 * size:
            prefix = "Dormant"
        elif p["risk_level"] == "high":
            prefix = "At-Risk"
        elif life["new"] >= 0.5 * size:
            prefix = "New"
        elif p["engagement_level"] == "high":
            prefix = "Engaged"
        elif p["engagement_level"] == "low":
            prefix = "Low-Engagement"
        else:
            prefix = "Steady"
        p["name"] = f"{prefix} {value}"
    seen: dict[str, list[dict]] = {}
    for p in profiles:
        seen.setdefault(p["name"], []).append(p)
    for name, group in seen.items():
        if len(group) < 2:
            continue
        used = set()
        for p in group:
            label = None
            for d in p["distinguishing_features"]:
                cand = f"{name} ({_trait(d['feature'], d['z'])})"
                if cand not in used:
                    label = cand
                    break
            label = label or f"{name} #{p['segment']}"
            used.add(label)
            p["name"] = label
    names = [p["name"] for p in profiles]
    for i, p in enumerate(profiles):  # final guarantee of uniqueness
        if names.count(p["name"]) > 1:
            p["name"] = f"{p['name']} #{p['segment']}"
            names[i] = p["name"]


def _trait(feature: str, z: float) -> str:
    """'support_tickets', +1.2 -> 'high support tickets'; 'last_purchase_date (days ago)', -0.8 -> 'recent last
    purchase date'; 'device=mobile', +0.9 -> 'mostly mobile device'."""
    if "=" in feature:
        col, level = feature.split("=", 1)
        return f"{'mostly' if z > 0 else 'rarely'} {level} {col.replace('_', ' ')}"
    if feature.endswith(" (days ago)"):
        col = feature.removesuffix(" (days ago)").replace("_", " ")
        return f"{'old' if z > 0 else 'recent'} {col}"
    return f"{'high' if z > 0 else 'low'} {feature.replace('_', ' ')}"


GROWTH_REASON = (
    "low churn risk and high/medium value; growth potential = sum over the segment's customers of the gap to the "
    "segment's 75th-percentile predicted LTV"
)
DEVELOPMENT_REASON = (
    "value below the population but not at high churn risk; development potential = segment size x gap to the "
    "population's average predicted LTV"
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
                    "reason": GROWTH_REASON,
                }
            )
        if p["value_tier"] == "low" and p["risk_level"] != "high":
            under.append(
                {
                    "segment": p["segment"],
                    "name": p["name"],
                    "development_potential": p["development_potential"],
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
