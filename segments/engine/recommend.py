"""Rule-based marketing recommendations, each with the reason that triggered it."""

from __future__ import annotations

import contextlib

from .formatting import money


def _money(x) -> str:
    return money(x)  # in the active currency: the organization's, set by the job that runs the analysis


def segment_recommendations(p: dict, population: dict) -> list[dict]:
    recs: list[dict] = []
    ltv, pop_ltv = p.get("avg_ltv"), population.get("avg_ltv")
    churn, pop_churn = p.get("avg_churn_risk"), population.get("avg_churn_risk")
    if p["value_tier"] == "high":
        recs.append(
            {
                "action": "Enrol in a VIP loyalty programme: early access, dedicated support, premium perks",
                "category": "loyalty",
                "reason": f"average predicted LTV {_money(ltv)} vs {_money(pop_ltv)} for all customers",
                "priority": "high",
            }
        )
    if p["risk_level"] == "high":
        recs.append(
            {
                "action": "Run a retention / win-back campaign: personal outreach and a time-limited incentive",
                "category": "retention",
                "reason": f"average churn risk {churn:.0%} vs {pop_churn:.0%} overall"
                if churn is not None
                else "high churn risk",
                "priority": "high" if p["value_tier"] != "low" else "medium",
            }
        )
    elif p["risk_level"] == "medium" and p["value_tier"] == "high":
        recs.append(
            {
                "action": "Protect revenue with proactive check-ins and satisfaction surveys",
                "category": "retention",
                "reason": f"valuable segment with churn risk {churn:.0%}",
                "priority": "medium",
            }
        )
    if p["engagement_level"] == "low":
        recs.append(
            {
                "action": "Re-engage with onboarding tutorials, how-to content and gamified challenges",
                "category": "engagement",
                "reason": f"engagement {abs(p['engagement_score']):.2f} standard deviations below the average customer's",
                "priority": "medium",
            }
        )
    if p["value_tier"] == "low":
        recs.append(
            {
                "action": "Offer bundles and upsell entry-level upgrades to lift basket size",
                "category": "upsell",
                "reason": f"average predicted LTV {_money(ltv)} vs {_money(pop_ltv)} overall",
                "priority": "medium" if p["risk_level"] != "high" else "low",
            }
        )
    if p["lifecycle"].get("new", 0) >= 0.4 * max(p["size"], 1):
        recs.append(
            {
                "action": "Nurture new customers with a welcome series and a second-purchase incentive",
                "category": "onboarding",
                "reason": f"{p['lifecycle'].get('new', 0):,} of {p['size']:,} customers joined in the last 90 days",
                "priority": "medium",
            }
        )
    if p["risk_level"] == "low" and p["value_tier"] in ("medium", "high"):
        recs.append(
            {
                "action": "Cross-sell complementary products and invite referrals",
                "category": "growth",
                "reason": f"low churn risk ({churn:.0%}) and {p['value_tier']} value: room to grow share of wallet"
                if churn is not None
                else "low churn risk and solid value",
                "priority": "medium",
            }
        )
    if not recs:
        recs.append(
            {
                "action": "Keep in regular lifecycle communication and test personalised offers",
                "category": "maintain",
                "reason": "no segment trait stands out from the population",
                "priority": "low",
            }
        )
    order = {"high": 0, "medium": 1, "low": 2}
    recs.sort(key=lambda r: order[r["priority"]])
    return recs


def recommendations_in_active_currency(profiles: list[dict], population: dict) -> list[dict]:
    """The profiles with their recommendations written again now: the rules are the same, so the actions are too,
    and the reasons quote money in the active currency (the organization's today, not the one of the run). A profile
    stored without the fields the rules read keeps its stored recommendations."""
    out = []
    for p in profiles:
        if p.get("segment", 0) >= 0 and p.get("recommendations"):
            with contextlib.suppress(KeyError, TypeError):
                p = {**p, "recommendations": segment_recommendations(p, population or {})}
        out.append(p)
    return out
