"""Rule-based marketing recommendations, each with the reason that triggered it: for a segment (from its
averages and levels) and for each customer (from their own churn risk, value and engagement).

The seed's rules: high value -> loyalty / VIP; high risk -> retention / win-back; low engagement -> tutorials,
gamification; low value -> bundles, upsell. The actions are written once (ACTIONS) for both."""

from __future__ import annotations

import contextlib

import numpy as np

from .formatting import money, percent
from .vocabulary import value_text

ACTIONS = {
    "loyalty": "Enrol in a VIP loyalty programme: early access, dedicated support, premium perks",
    "retention": "Run a retention / win-back campaign: personal outreach and a time-limited incentive",
    "protect": "Protect revenue with proactive check-ins and satisfaction surveys",
    "engagement": "Re-engage with onboarding tutorials, how-to content and gamified challenges",
    "upsell": "Offer bundles and upsell entry-level upgrades to lift basket size",
    "growth": "Cross-sell complementary products and invite referrals",
    "maintain": "Keep in regular lifecycle communication and test personalised offers",
}


def _money(x) -> str:
    return money(x)  # in the active currency: the organization's, set by the job that runs the analysis


def _segment_value(p: dict, population: dict) -> tuple[str, str]:
    """(the segment's average value with its unit, the population's) on the measure its value tier came from."""
    measure = population.get("value_measure") or ("predicted_ltv" if p.get("avg_ltv") is not None else None)
    per = population.get("value_per")
    if measure == "predicted_ltv" or "avg_value" not in p:
        seg, pop = p.get("avg_ltv"), population.get("avg_ltv")
        measure = "predicted_ltv"
    else:
        seg, pop = p.get("avg_value"), population.get("avg_value")
    return value_text(_money(seg), measure, per), _money(pop)


NEW_SHARE = 0.4  # a segment where this share joined in the last 90 days gets a welcome series


def mostly_new(p: dict) -> bool:
    """Whether enough of a segment's customers are new for onboarding advice (and for a name other than "Loyal")."""
    return p["lifecycle"].get("new", 0) >= NEW_SHARE * max(p["size"], 1)


def segment_recommendations(p: dict, population: dict) -> list[dict]:
    """The segment's actions, each with the reason: the segment figure that triggered it, with its unit, beside the
    figure for all customers."""
    recs: list[dict] = []
    churn, pop_churn = p.get("avg_churn_risk"), population.get("avg_churn_risk")
    seg_value, pop_value = _segment_value(p, population)
    vs_churn = f" vs {pop_churn:.0%} overall" if pop_churn is not None else ""
    if p["value_tier"] == "high":
        recs.append(
            {
                "action": ACTIONS["loyalty"],
                "category": "loyalty",
                "reason": f"average {seg_value} vs {pop_value} for all customers",
                "priority": "high",
            }
        )
    if p["risk_level"] == "high":
        recs.append(
            {
                "action": ACTIONS["retention"],
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
                "action": ACTIONS["protect"],
                "category": "retention",
                "reason": f"valuable segment (average {seg_value} vs {pop_value} for all customers) with average "
                f"churn risk {churn:.0%}{vs_churn}",
                "priority": "medium",
            }
        )
    if p["engagement_level"] == "low":
        recs.append(
            {
                "action": ACTIONS["engagement"],
                "category": "engagement",
                "reason": f"engagement {abs(p['engagement_score']):.2f} standard deviations below the average customer's "
                f"(on {', '.join(population.get('engagement_columns') or {}) or 'the engagement columns'})",
                "priority": "medium",
            }
        )
    if p["value_tier"] == "low":
        recs.append(
            {
                "action": ACTIONS["upsell"],
                "category": "upsell",
                "reason": f"average {seg_value} vs {pop_value} overall",
                "priority": "medium" if p["risk_level"] != "high" else "low",
            }
        )
    if mostly_new(p):
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
                "action": ACTIONS["growth"],
                "category": "growth",
                "reason": f"low average churn risk ({churn:.0%}{vs_churn}) and {p['value_tier']} value (average "
                f"{seg_value} vs {pop_value} for all customers): room to grow share of wallet"
                if churn is not None
                else "low churn risk and solid value",
                "priority": "medium",
            }
        )
    if not recs:
        figures = []
        if churn is not None:
            figures.append(f"average churn risk {churn:.0%}{vs_churn}")
        if p.get("value_tier") not in (None, "unknown"):
            figures.append(f"average {seg_value} vs {pop_value} for all customers")
        recs.append(
            {
                "action": ACTIONS["maintain"],
                "category": "maintain",
                "reason": "no segment figure stands out from the population"
                + (f" ({', '.join(figures)})" if figures else ""),
                "priority": "low",
            }
        )
    order = {"high": 0, "medium": 1, "low": 2}
    recs.sort(key=lambda r: order[r["priority"]])
    return recs


def recommendations_in_active_currency(profiles: list[dict], population: dict) -> list[dict]:
    """The profiles, with the recommendations of those whose reasons quote money in another currency than the active
    one (the organization changed its currency after the run) written again now: the rules are the same, so the
    actions are too, and the reasons quote today's currency. Others, and a profile stored without the fields the
    rules read, keep their stored recommendations."""
    from .formatting import CURRENCIES, currency_symbol

    active = currency_symbol().strip()
    others = {s.strip() for s, _ in CURRENCIES.values()} - {active}
    others = {s for s in others if s not in active}  # "$" is no other currency when "CA$" is active

    def stale(recs) -> bool:  # a reason quoting money in another currency than today's
        return any(symbol in str(r.get("reason", "")) for r in recs for symbol in others)

    out = []
    for p in profiles:
        if p.get("segment", 0) >= 0 and p.get("recommendations") and stale(p["recommendations"]):
            with contextlib.suppress(KeyError, TypeError):
                p = {**p, "recommendations": segment_recommendations(p, population or {})}
        out.append(p)
    return out


def customer_recommendations(
    *, churn, value, levels: dict, population: dict, segment_risk=None, segment_churn=None
) -> tuple[np.ndarray, np.ndarray]:
    """Each customer's own top action and its reason, from their own churn risk, value (predicted LTV) and
    engagement level, by the seed's rules in order of urgency: high risk -> retention (citing their risk);
    low engagement -> tutorials; high value -> VIP loyalty; low value -> bundles; low risk -> cross-sell;
    otherwise regular communication. Returns (actions, reasons), one per customer.

    A million customers share few printed figures (a churn risk in whole percent, a value as printed), so each
    reason is written once per distinct figure and taken by index."""
    churn = np.asarray(churn, dtype=float)
    value = np.asarray(value, dtype=float)
    n = len(churn)
    risk, tier = levels["risk_level"], levels["value_tier"]
    engaged = levels.get("engagement_level")
    pop_churn, pop_value = population.get("avg_churn_risk"), population.get("avg_value")
    measure, per = population.get("value_measure"), population.get("value_per")
    avg_churn, avg_value = percent(pop_churn, 0), money(pop_value)  # money in the active (organization's) currency
    on_columns = ", ".join(population.get("engagement_columns") or {})
    churn_codes, churn_texts = _distinct_texts(lambda v: percent(v, 0), np.round(churn, 2))
    shown = np.where(np.abs(value) >= 100, np.round(value), np.round(value, 2))  # rounded as printed
    value_codes, value_texts = _distinct_texts(money, shown)
    own_risk = (churn_codes, [f"own churn risk {t} vs {avg_churn} for the average customer" for t in churn_texts])
    own_value = (
        value_codes,
        [f"own {value_text(t, measure, per)} vs {avg_value} for the average customer" for t in value_texts],
    )
    growth = (
        churn_codes,
        [f"own churn risk {t} (below the average {avg_churn}) and average value: room to grow share of wallet"
         for t in churn_texts],
    )  # fmt: skip
    engagement = (np.zeros(n, np.int32), [f"own engagement well below the average customer's (on {on_columns})"])
    rules = [  # the first rule a customer meets decides (urgency order)
        ("retention", risk == "high", own_risk),
        ("engagement", engaged == "low" if engaged is not None else np.zeros(n, bool), engagement),
        ("loyalty", tier == "high", own_value),
        ("upsell", tier == "low", own_value),
        ("growth", (risk == "low") & (tier == "medium"), growth),
    ]
    categories = ["maintain", *[category for category, _, _ in rules]]
    reason_texts = ["no figure of this customer's stands out from the average customer's"]
    rule = np.zeros(n, dtype=np.int8)  # 0: maintain
    reason_code = np.zeros(n, dtype=np.int64)
    for number_of_rule, (_, mask, (codes, texts)) in enumerate(rules, start=1):
        pick = np.asarray(mask, dtype=bool) & (rule == 0)
        rule[pick] = number_of_rule
        reason_code[pick] = codes[pick] + len(reason_texts)
        reason_texts.extend(texts)
    actions = np.asarray([ACTIONS[c] for c in categories], dtype=object)[rule]
    reasons = np.asarray(reason_texts, dtype=object)[reason_code]
    if segment_risk is not None:
        reasons = _acknowledge_segment(reasons, churn, risk, segment_risk, segment_churn, avg_churn)
    return actions, reasons


def _acknowledge_segment(reasons, churn, risk, segment_risk, segment_churn, avg_churn) -> np.ndarray:
    """A customer whose own risk level differs from an At-Risk (or a low-risk) segment's is told so beside their
    own advice, so "VIP loyalty" never sits unexplained next to the segment's retention action.

    Written once per distinct (own level, own risk as printed, segment's risk, reason) and taken by index: a
    million customers share few of those, and a string per customer cost 370 MB at 1M rows."""
    segment_risk = np.asarray(segment_risk, dtype=object)
    seg_churn = np.full(len(churn), np.nan) if segment_churn is None else np.asarray(segment_churn, dtype=float)
    out = reasons.copy()
    for rows, write in (
        (
            np.flatnonzero((segment_risk == "high") & (risk != "high")),
            lambda level, own, seg, reason: (
                f"{level} own churn risk ({own} vs {avg_churn} for the average customer) although in an At-Risk "
                f"segment{seg}: {reason}"
            ),
        ),
        (
            np.flatnonzero((segment_risk == "low") & (risk == "high")),
            lambda level, own, seg, reason: f"{reason}, although in a low-risk segment{seg}",
        ),
    ):
        if not len(rows):
            continue
        seg = seg_churn[rows]
        keys = zip(
            np.asarray(risk, dtype=object)[rows].tolist(),
            np.round(churn[rows], 3).tolist(),  # percent(…, 1) prints 0.1 % steps
            np.where(np.isnan(seg), -1.0, seg).tolist(),  # -1: the segment's average is unknown
            reasons[rows].tolist(),
            strict=True,
        )
        seen: dict[tuple, int] = {}
        texts: list[str] = []
        codes = np.empty(len(rows), dtype=np.int64)
        for j, key in enumerate(keys):
            code = seen.get(key)
            if code is None:
                level, own, seg_avg, reason = key
                shown = f" (its average churn risk {percent(seg_avg, 0)})" if seg_avg >= 0 else ""
                code = seen[key] = len(texts)
                texts.append(write(level, percent(own, 1), shown, reason))
            codes[j] = code
        out[rows] = np.asarray(texts, dtype=object)[codes]
    return out


def _distinct_texts(fmt, values: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """(code per value, fmt of each distinct value): fmt runs once per distinct figure."""
    values = np.asarray(values, dtype=float)
    if values.size == 0:
        return np.zeros(0, dtype=np.int64), []
    uniq, inverse = np.unique(values, return_inverse=True)
    return inverse.astype(np.int64), [fmt(u) for u in uniq]
