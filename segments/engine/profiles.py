"""Segment profiles: statistics, behaviour levels, tiers, unique human-readable names, insights."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from .recommend import segment_recommendations

NEW_DAYS = 90
DORMANT_DAYS = 180
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


def build_profiles(
    labels,
    X,
    feature_names,
    weights,
    means,
    stds,
    profile_frame: pd.DataFrame,
    beh,
    churn,
    ltv,
    revenue_col: str | None,
    churn_method: str,
    stage: np.ndarray,
) -> tuple[list[dict], dict]:
    n = len(labels)
    seg_ids = sorted(int(s) for s in np.unique(labels))
    frame = profile_frame.copy()
    frame["churn_risk"] = churn
    if np.isfinite(ltv).any():
        frame["predicted_ltv"] = ltv
    for key in ("recency", "frequency", "tenure"):
        if key in beh:
            frame[f"_{key}"] = beh[key]
    frame["_seg"] = labels
    grouped = frame.groupby("_seg", sort=True)
    seg_means = grouped.mean()
    seg_medians = grouped.median()
    pop_mean = frame.drop(columns="_seg").mean()
    pop_std = frame.drop(columns="_seg").std(ddof=0).replace(0, 1.0)
    counts = np.bincount(labels - labels.min(), minlength=0)
    # z of every model feature per segment (X is standardised then weighted)
    k_off = labels - min(seg_ids)
    n_slots = max(seg_ids) - min(seg_ids) + 1
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
    population = {
        "avg_ltv": _f(pop_mean.get("predicted_ltv")) if has_ltv else None,
        "avg_churn_risk": _f(pop_mean["churn_risk"]),
        "avg_recency_days": _f(pop_mean.get("_recency")) if "_recency" in pop_mean else None,
    }
    value_col = "predicted_ltv" if has_ltv else (revenue_col if revenue_col in frame.columns else None)
    profiles = []
    for s in seg_ids:
        size = int(counts[s - labels.min()])
        mean_row, med_row = seg_means.loc[s], seg_medians.loc[s]
        stats = {c: {"mean": _f(mean_row[c]), "median": _f(med_row[c])} for c in profile_frame.columns}
        z_row = z_all[s - min(seg_ids)]
        order = np.argsort(-np.abs(z_row))
        distinguishing = []
        for j in order[:8]:
            if abs(z_row[j]) < 0.25 or weights[j] == 0:
                continue
            name = feature_names[j]
            if name in frame.columns:
                seg_m, pop_m = _f(mean_row[name]), _f(pop_mean[name])
            else:
                seg_m = _f(means[j] + z_row[j] * stds[j])
                pop_m = _f(means[j])
            distinguishing.append({"feature": name, "z": _f(z_row[j]), "segment_mean": seg_m, "population_mean": pop_m})
            if len(distinguishing) == 5:
                break
        if engagement_cols or "_recency" in frame.columns:
            parts = [(mean_row[c] - pop_mean[c]) / pop_std[c] for c in engagement_cols]
            if "_recency" in frame.columns:
                parts.append(-(mean_row["_recency"] - pop_mean["_recency"]) / pop_std["_recency"])
            engagement = float(np.mean(parts))
        else:
            engagement = 0.0
        engagement_level = "high" if engagement > 0.3 else "low" if engagement < -0.3 else "medium"
        avg_churn = _f(mean_row["churn_risk"])
        if churn_method == "unavailable":
            risk_level = "unknown"
        elif avg_churn >= 0.5 or (avg_churn >= 0.35 and avg_churn >= 1.4 * population["avg_churn_risk"]):
            risk_level = "high"
        elif avg_churn >= 0.25:
            risk_level = "medium"
        else:
            risk_level = "low"
        if value_col:
            ratio = float(mean_row[value_col]) / max(float(pop_mean[value_col]), 1e-9)
            value_tier = "high" if ratio >= 1.3 else "low" if ratio <= 0.7 else "medium"
        else:
            value_tier = "medium"
        mask = labels == s
        seg_stage = stage[mask]
        lifecycle = {st: int((seg_stage == st).sum()) for st in ("new", "active", "at_risk", "dormant")}
        seg_revenue = float(np.nansum(revenue[mask])) if revenue is not None else None
        growth_potential = None
        if has_ltv:
            seg_ltv = ltv[mask]
            growth_potential = float(np.maximum(np.quantile(seg_ltv, 0.75) - seg_ltv, 0).sum())
        sentiment_cols = [c for c in profile_frame.columns if c.endswith("(sentiment)")]
        p = {
            "segment": int(s),
            "size": size,
            "share": size / n,
            "value_tier": value_tier,
            "risk_level": risk_level,
            "engagement_level": engagement_level,
            "engagement_score": engagement,
            "avg_ltv": _f(mean_row["predicted_ltv"]) if has_ltv else None,
            "median_ltv": _f(med_row["predicted_ltv"]) if has_ltv else None,
            "avg_churn_risk": avg_churn,
            "total_revenue": seg_revenue,
            "revenue_share": (seg_revenue / total_revenue_all)
            if seg_revenue is not None and total_revenue_all
            else None,
            "avg_recency_days": _f(mean_row["_recency"]) if "_recency" in frame.columns else None,
            "avg_frequency": _f(mean_row["_frequency"]) if "_frequency" in frame.columns else None,
            "avg_tenure_days": _f(mean_row["_tenure"]) if "_tenure" in frame.columns else None,
            "sentiment": {c: _f(mean_row[c]) for c in sentiment_cols} or None,
            "avg_sentiment": _f(np.mean([mean_row[c] for c in sentiment_cols])) if sentiment_cols else None,
            "lifecycle": lifecycle,
            "growth_potential": growth_potential,
            "stats": stats,
            "distinguishing_features": distinguishing,
        }
        profiles.append(p)
    _name_segments(profiles)
    for p in profiles:
        p["recommendations"] = segment_recommendations(p, population)
    insights = _insights(profiles, population)
    return profiles, {"population": population, **insights}


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


def _insights(profiles: list[dict], population: dict) -> dict:
    growth, under = [], []
    pop_ltv = population.get("avg_ltv")
    for p in profiles:
        if p["segment"] == -1:
            continue
        if p["risk_level"] == "low" and p["value_tier"] in ("high", "medium"):
            growth.append(
                {
                    "segment": p["segment"],
                    "name": p["name"],
                    "growth_potential": p["growth_potential"],
                    "reason": "low churn risk and high/medium value; potential = sum over the segment's customers of the gap "
                    "to the segment's 75th-percentile predicted LTV",
                }
            )
        if p["value_tier"] == "low" and p["risk_level"] != "high":
            potential = None
            if pop_ltv is not None and p["avg_ltv"] is not None:
                potential = max(pop_ltv - p["avg_ltv"], 0.0) * p["size"]
            under.append(
                {
                    "segment": p["segment"],
                    "name": p["name"],
                    "development_potential": potential,
                    "reason": "value below the population but not at high churn risk; potential = segment size x gap to the "
                    "population's average predicted LTV",
                }
            )
    growth.sort(key=lambda d: -(d["growth_potential"] or 0))
    under.sort(key=lambda d: -(d["development_potential"] or 0))
    return {"growth_opportunities": growth, "underperforming": under}
