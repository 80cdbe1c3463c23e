"""The PDF report: what it says (plain sentences built from the results) and how it is rendered.

`report_context(...)` turns the engine's profiles and metrics into the words, tables and charts of the
report; `render_pdf(context)` renders `templates/exports/report.html` with WeasyPrint. Both are pure
(no database): the service passes in the analysis's stored results.
"""

from __future__ import annotations

import base64
from datetime import datetime

from exports import charts
from segments.engine import formatting as fmt
from segments.engine.traits import money_trait_text
from segments.engine.vocabulary import (
    LTV_ACCURACY_UNKNOWN,
    algorithm_phrase,
    feature_label,
    lifecycle_label,
    ltv_fidelity,
)

PRIORITY_ORDER = {"high": 0, "medium": 1, "low": 2}


def _pct(x) -> str:
    return fmt.percent(x)


def _money(x) -> str:
    return fmt.money(x, compact=True)


def _join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _data_uri(svg: str | None) -> str | None:
    if not svg:
        return None
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


def lifetime_value(profiles: list[dict], metrics: dict) -> dict:
    """The report's one lifetime-value figure: an order log's CLV (with the customers' 80 % ranges) when its
    models were fitted, else the pipeline's predicted LTV. {"is_clv", "heading" (table column), "tile" (per
    customer), "total_label", "total", "note", "per_segment": {segment: {"value", "low", "high"}}}."""
    clv = metrics.get("clv") or {}
    if clv.get("eligible"):
        days = (clv.get("periods") or {}).get("horizon_days") or 365
        per = {
            p.get("segment"): {"value": p["clv"]["avg"], "low": p["clv"]["avg_low"], "high": p["clv"]["avg_high"]}
            for p in profiles
            if p.get("clv")
        }
        return {
            "is_clv": True,
            "heading": "Avg CLV",
            "tile": f"Avg CLV per customer, next {days:,} days",
            "total_label": f"CLV ({{currency}}), next {days:,} days",
            "total": (clv.get("totals") or {}).get("clv"),
            "note": f"Lifetime value is the CLV fitted on the order log: expected spend per customer over the next "
            f"{days:,} days, discounted, with 80 % ranges (the lifetime value page). No second LTV estimate is made "
            "for an order log.",
            "per_segment": per,
        }
    horizon = (metrics.get("ltv") or {}).get("horizon_months") or 12
    return {
        "is_clv": False,
        "heading": "Avg predicted value",
        "tile": f"Avg predicted value per customer, {horizon} months",
        "total_label": f"predicted value ({{currency}}), next {horizon} months",
        "total": sum((p.get("avg_ltv") or 0) * p.get("size", 0) for p in profiles),
        "note": f"Predicted value is per customer over the next {horizon} months.",
        "per_segment": {p.get("segment"): {"value": p.get("avg_ltv")} for p in profiles},
    }


def executive_summary(profiles: list[dict], metrics: dict) -> dict:
    """Plain sentences: the segments, where the revenue is, the key risks and the opportunities."""
    segments = [p for p in profiles if p.get("segment", 0) >= 0]
    total = sum(p.get("size", 0) for p in profiles)
    algorithm = algorithm_phrase(metrics.get("algorithm"))
    horizon = (metrics.get("ltv") or {}).get("horizon_months") or 12
    population = (metrics.get("insights") or {}).get("population") or {}
    overview = [
        f"We analysed {total:,} customers and grouped them into {len(segments)} segments of customers who "
        f"behave alike, using {algorithm}."
    ]
    if segments:
        largest = max(segments, key=lambda p: p.get("size", 0))
        overview.append(f"The largest segment, {largest['name']}, holds {_pct(largest.get('share'))} of customers.")
    noise = [p for p in profiles if p.get("segment", 0) < 0]
    if noise:
        overview.append(f"{noise[0].get('size', 0):,} customers fit no segment well and are reported separately.")
    clv = metrics.get("clv") or {}
    if clv.get("eligible") and total:
        days = (clv.get("periods") or {}).get("horizon_days") or 365
        overview.append(
            f"Fitted on their orders, a customer is expected to spend {_money((clv.get('totals') or {}).get('clv', 0) / total)} "
            f"over the next {days:,} days on average (CLV), with a {_pct(population.get('avg_churn_risk'))} risk of "
            "churning."
        )
    elif population.get("avg_ltv") is not None:
        overview.append(
            f"On average a customer is predicted to be worth {_money(population['avg_ltv'])} over the next "
            f"{horizon} months, with a {_pct(population.get('avg_churn_risk'))} risk of churning."
        )

    revenue = []
    with_revenue = [p for p in segments if p.get("revenue_share") is not None]
    if with_revenue:
        ranked = sorted(with_revenue, key=lambda p: p["revenue_share"], reverse=True)
        top = ranked[0]
        revenue.append(
            f"{top['name']} brings in {_pct(top['revenue_share'])} of revenue with "
            f"{_pct(top.get('share'))} of customers."
        )
        top_two = ranked[:2]
        if len(ranked) > 2:
            revenue.append(
                f"Together, {_join([p['name'] for p in top_two])} account for "
                f"{_pct(sum(p['revenue_share'] for p in top_two))} of revenue."
            )
        low = [p for p in ranked if p.get("share", 0) > 0 and p["revenue_share"] < 0.5 * p["share"]]
        if low:
            revenue.append(
                f"{_join([p['name'] for p in low])} "
                f"{'contributes' if len(low) == 1 else 'contribute'} far less revenue than "
                f"{'its' if len(low) == 1 else 'their'} size suggests."
            )

    risks = []
    for p in sorted(segments, key=lambda p: p.get("avg_churn_risk") or 0, reverse=True):
        if p.get("risk_level") == "high":
            risks.append(
                f"{p['name']}: {p.get('size', 0):,} customers ({_pct(p.get('share'))}) with an average churn "
                f"risk of {_pct(p.get('avg_churn_risk'))}"
                + (
                    f" and {_money(p['clv']['avg'])} expected spend (CLV) each."
                    if p.get("clv")
                    else (f" and {_money(p['avg_ltv'])} predicted value each." if p.get("avg_ltv") is not None else ".")
                )
            )
    if not risks:
        riskiest = max(segments, key=lambda p: p.get("avg_churn_risk") or 0, default=None)
        if riskiest is not None:
            risks.append(
                f"No segment is at high risk of churning; the highest average churn risk is "
                f"{_pct(riskiest.get('avg_churn_risk'))}, in {riskiest['name']}."
            )
    leaving = population.get("likely_to_leave") or {}
    at_risk = [p for p in segments if p.get("risk_level") == "high"]
    if leaving.get("customers"):
        # counted customer by customer: a low-risk segment has some likely leavers, a high-risk one some stayers
        held = (
            f", holding {_money(leaving['predicted_value'])} of predicted value"
            if leaving.get("predicted_value") is not None
            else ""
        )
        risks.append(
            f"In all, {leaving['customers']:,} customers ({_pct(leaving['customers'] / total if total else None)}) "
            f"have a churn risk of {_pct(leaving.get('threshold', 0.5))} or more{held}."
        )
    elif at_risk and "customers" not in leaving:  # results stored before the per-customer figure existed
        in_segments = sum(p.get("size", 0) for p in at_risk)
        risks.append(
            f"In all, {in_segments:,} customers ({_pct(in_segments / total if total else None)}) are in "
            f"high-risk segments, holding {_money(sum((p.get('avg_ltv') or 0) * p.get('size', 0) for p in at_risk))} "
            "of predicted value."
        )

    opportunities = []
    insights = metrics.get("insights") or {}
    for g in insights.get("growth_opportunities") or []:
        if g.get("growth_potential") is None:  # no predicted LTV: no ceiling to quote
            opportunities.append(f"{g.get('name')}: loyal and valuable (low churn risk, high or medium value).")
            continue
        opportunities.append(
            f"{g.get('name')}: loyal and valuable; growth ceiling {_money(g.get('growth_potential'))}, the predicted "
            "LTV it would add if every customer below the segment's 75th percentile reached it (an upper bound, not "
            "a forecast)."
            if g.get("growth_potential") is not None
            else f"{g.get('name')}: loyal and valuable, room to grow."
        )
    for u in insights.get("underperforming") or []:
        if u.get("development_potential") is None:
            opportunities.append(f"{u.get('name')}: below-average value but not at high risk.")
            continue
        opportunities.append(
            f"{u.get('name')}: below-average value but not at high risk; development ceiling "
            f"{_money(u.get('development_potential'))}, the predicted LTV it would add if every customer reached the "
            "average customer's (an upper bound, not a forecast)."
            if u.get("development_potential") is not None
            else f"{u.get('name')}: below-average value but not at high risk."
        )

    actions = []
    for p in segments:
        recs = sorted(p.get("recommendations") or [], key=lambda r: PRIORITY_ORDER.get(r.get("priority"), 3))
        if recs:
            actions.append(
                {"segment": p["name"], "action": recs[0].get("action", ""), "priority": recs[0].get("priority")}
            )
    return {
        "overview": overview,
        "revenue": revenue,
        "risks": risks,
        "opportunities": opportunities,
        "actions": actions,
    }


def segment_potential(p: dict, insights: dict) -> dict | None:
    """The one opportunity figure of a segment, named and valued exactly as in the opportunity lists
    (growth potential for a growth opportunity, development potential for an underperforming segment);
    None for a segment in neither list."""
    for g in insights.get("growth_opportunities") or []:
        if g.get("segment") == p.get("segment"):
            return {
                "label": "Growth ceiling (upper bound)",
                "value": g.get("growth_potential"),
                "reason": g.get("reason"),
            }
    for u in insights.get("underperforming") or []:
        if u.get("segment") == p.get("segment"):
            return {
                "label": "Development ceiling (upper bound)",
                "value": u.get("development_potential"),
                "reason": u.get("reason"),
            }
    return None


def _segment_page(
    p: dict, colour: str, population: dict, importance: list[str], insights: dict | None = None, money_columns=()
) -> dict:
    level = {"high": "high", "medium": "medium", "low": "low"}
    name = p.get("name", f"Segment {p.get('segment')}")
    if p.get("segment", 0) < 0:
        intro = "These customers sit between segments: the clustering found no group that fits them well."
    else:
        engagement = level.get(p.get("engagement_level"))
        intro = (
            f"{name} customers are {level.get(p.get('value_tier'), p.get('value_tier') or 'mixed')} value"
            f"{',' if engagement else ' and'} carry a {level.get(p.get('risk_level'), p.get('risk_level') or 'mixed')}"
            " churn risk (compared with the average customer)"
            + (f" and show {engagement} engagement." if engagement else ".")
        )
    comparisons = []
    pop_ltv, pop_churn = population.get("avg_ltv"), population.get("avg_churn_risk")
    if pop_ltv and p.get("avg_ltv") is not None:
        ratio = p["avg_ltv"] / pop_ltv
        if ratio >= 1.05:
            versus = f"{ratio:.1f}× the average customer"
        elif ratio <= 0.95:
            versus = f"{(1 - ratio) * 100:.0f}% below the average customer"
        else:
            versus = "close to the average customer"
        comparisons.append(f"Each is predicted to be worth {_money(p['avg_ltv'])}, {versus}.")
    if pop_churn is not None and p.get("avg_churn_risk") is not None:
        comparisons.append(
            f"Their churn risk is {_pct(p['avg_churn_risk'])} against {_pct(pop_churn)} for all customers."
        )
    features, seen = [], set()
    for d in p.get("distinguishing_features") or []:
        feature = d.get("feature")
        kind = fmt.feature_kind(feature, money_columns)
        segment_text = fmt.format_value(d.get("segment_mean"), kind)
        population_text = fmt.format_value(d.get("population_mean"), kind)
        if feature in seen or (segment_text == population_text and not d.get("text")):
            continue  # a figure that reads the same for the segment and everyone ("2024 vs 2024") tells nothing
        seen.add(feature)
        z = d.get("z") or 0
        features.append(
            {
                "feature": feature,
                "label": feature_label(feature),
                "text": money_trait_text(d) if kind == "money" and d.get("text") else d.get("text"),
                "segment_mean": d.get("segment_mean"),
                "population_mean": d.get("population_mean"),
                "segment_text": segment_text,
                "population_text": population_text,
                "z": z,
                "direction": "higher" if z >= 0 else "lower",
                "bar": min(abs(z) / 2.5, 1) * 100,
            }
        )
    stats = p.get("stats") or {}
    ordered = list(dict.fromkeys([f for f in importance if f in stats] + list(stats)))  # each feature once
    stat_rows, figures_seen = [], set()
    for f in ordered:
        mean, median = stats[f].get("mean"), stats[f].get("median")
        if (mean, median) in figures_seen:
            continue  # the same figures under another name (tenure in days and signup date in days ago)
        figures_seen.add((mean, median))
        kind = fmt.feature_kind(f, money_columns)
        stat_rows.append(
            {
                "feature": f,
                "label": feature_label(f),
                "mean": fmt.format_value(mean, kind),
                "median": fmt.format_value(median, kind),
            }
        )
        if len(stat_rows) == 8:  # the page holds the traits, the profile and the actions
            break
    lifecycle = p.get("lifecycle") or {}
    total = sum(v for v in lifecycle.values() if isinstance(v, int | float)) or 0
    lifecycle_rows = [
        {"stage": lifecycle_label(k).lower(), "count": v, "share": (v / total) if total else 0}
        for k, v in lifecycle.items()
    ]
    recs = sorted(p.get("recommendations") or [], key=lambda r: PRIORITY_ORDER.get(r.get("priority"), 3))
    return {
        **p,
        "name": name,
        "colour": colour,
        "intro": intro,
        "comparisons": comparisons,
        "features": features,
        "stat_rows": stat_rows,
        "lifecycle_rows": lifecycle_rows,
        "recommendations": recs,
        "potential": segment_potential(p, insights or {}),
    }


def report_context(
    *,
    profiles: list[dict],
    metrics: dict,
    organization_name: str,
    analysis_name: str,
    dataset_name: str = "",
    generated_at: datetime,
    color_scheme: str = "Plotly",
    customer_count: int | None = None,
    branding: dict | None = None,
    money_columns=(),
    history: list[dict] | None = None,
) -> dict:
    """Everything the report says. `branding`: the organization's currency (ISO code), colours (`primary`,
    `accent`) and logo (a data URI); `money_columns`: columns whose figures are money; `history`: the dataset's runs up to this one
    ([{label, profiles}], oldest first) for "Segments over time"."""
    brand = {**DEFAULT_BRANDING, **{k: v for k, v in (branding or {}).items() if v}}
    with fmt.using_currency(brand["currency"]):
        return _report_context(
            profiles=profiles,
            metrics=metrics,
            organization_name=organization_name,
            analysis_name=analysis_name,
            dataset_name=dataset_name,
            generated_at=generated_at,
            color_scheme=color_scheme,
            customer_count=customer_count,
            brand=brand,
            money_columns=set(money_columns) | _money_columns(metrics),
            history=history,
        )


DEFAULT_BRANDING = {"currency": fmt.DEFAULT_CURRENCY, "primary": "#1F3A5F", "accent": "#2A9D8F", "logo": None}


def _money_columns(metrics: dict) -> set[str]:
    return {c for c, r in (metrics.get("roles") or {}).items() if r == "monetary"}


def _report_context(
    *,
    profiles,
    metrics,
    organization_name,
    analysis_name,
    dataset_name,
    generated_at,
    color_scheme,
    customer_count,
    brand,
    money_columns,
    history=None,
) -> dict:
    from segments.engine.recommend import recommendations_in_active_currency

    insights = metrics.get("insights") or {}
    population = insights.get("population") or {}
    profiles = sorted(profiles, key=lambda p: (p.get("segment", 0) < 0, p.get("segment", 0)))
    profiles = recommendations_in_active_currency(profiles, population)
    colours = charts.segment_colours(profiles, color_scheme)
    importance_order = [d.get("feature") for d in metrics.get("feature_importance") or []]
    detail_order = [d.get("feature") for d in metrics.get("feature_importance_detail") or []]
    segments = [p for p in profiles if p.get("segment", 0) >= 0]
    quality = metrics.get("quality") or {}
    ks = metrics.get("k_selection") or {}
    ltv = metrics.get("ltv") or {}
    churn = metrics.get("churn") or {}
    total = customer_count or sum(p.get("size", 0) for p in profiles)
    lifetime = lifetime_value(profiles, metrics)
    lifetime["total_label"] = lifetime["total_label"].replace("{currency}", brand["currency"])
    return {
        "brand": brand,
        "currency": brand["currency"],
        "currency_symbol": fmt.currency_symbol(brand["currency"]).strip(),
        "organization_name": organization_name,
        "analysis_name": analysis_name,
        "analysis_title": analysis_name.replace("-", "\u2011"),  # the cover never breaks "K-means" at its hyphen
        "dataset_name": dataset_name,
        "generated_at": generated_at,
        "customer_count": total,
        "segment_count": len(segments),
        # an order log: its CLV total; else None without a predicted LTV (no money column or no duration of known
        # unit): "—", never a made-up 0
        "total_predicted_value": lifetime["total"]
        if lifetime["is_clv"] or any(p.get("avg_ltv") is not None for p in profiles)
        else None,
        "lifetime": lifetime,
        "avg_churn_risk": population.get("avg_churn_risk"),
        "horizon_months": ltv.get("horizon_months") or 12,
        "summary": executive_summary(profiles, metrics),
        "overview_rows": [
            {
                **p,
                "colour": colours.get(p.get("segment")),
                "lifetime": lifetime["per_segment"].get(p.get("segment")) or {},
            }
            for p in profiles
        ],
        "segments": [
            {
                **_segment_page(
                    p,
                    colours.get(p.get("segment")),
                    population,
                    detail_order + importance_order,
                    insights,
                    money_columns,
                ),
                "lifetime": lifetime["per_segment"].get(p.get("segment")) or {},
            }
            for p in profiles
        ],
        "charts": {
            "sizes": _data_uri(charts.segment_sizes(profiles, colours)),
            "ltv_churn": _data_uri(charts.ltv_vs_churn(segments, colours, population)),
            "revenue": _data_uri(charts.revenue_contribution(segments, colours)),
            "importance": _data_uri(charts.feature_importance(metrics)),
            "k_selection": _data_uri(charts.k_selection(metrics)),
            "history": _data_uri(
                charts.history(history or [], charts.segment_colours(_all_profiles(history), color_scheme))
            ),
            "clv_tracking": _data_uri(charts.clv_tracking(metrics.get("clv") or {})),
        },
        "history_runs": [r["label"] for r in history or []],
        "clv": clv_page(metrics.get("clv") or {}, profiles, colours),
        "methods": {
            "algorithm": algorithm_phrase(metrics.get("algorithm")),
            "algorithm_key": metrics.get("algorithm"),
            "k": metrics.get("k"),
            "chosen_by": ks.get("chosen_by") or "",
            "k_range": (f"{min(ks['k_values'])}–{max(ks['k_values'])}" if len(ks.get("k_values") or []) > 1 else None),
            "quality": quality,
            "churn": churn,
            "ltv": ltv,
            "importance_method": metrics.get("importance_method") or "",
            "n_rows": metrics.get("n_rows"),
            "n_features": metrics.get("n_features"),
            "sampling": metrics.get("sampling") or {},
            "reference_date": metrics.get("reference_date"),
            "engine_version": metrics.get("engine_version"),
            "warnings": metrics.get("warnings") or [],
            "pca_variance": sum((metrics.get("pca") or {}).get("explained_variance") or []) or None,
            "noise_customers": metrics.get("noise_customers") or 0,
            "structure": metrics.get("segment_structure") or {},
            "ltv_fidelity": ltv_fidelity(ltv) if ltv.get("r2") is not None else "",
            "ltv_accuracy": LTV_ACCURACY_UNKNOWN,
        },
    }


def _all_profiles(history: list[dict] | None) -> list[dict]:
    seen = {}
    for run in history or []:
        for p in run["profiles"]:
            seen[p.get("segment")] = p
    return list(seen.values())


def clv_page(clv: dict, profiles: list[dict], colours: dict) -> dict | None:
    """Order-log analyses: the lifetime-value page (holdout accuracy in plain words, the models' scores, the CLV
    per segment with ranges), or what is missing when no model could be fitted. None for customer tables."""
    if not clv:
        return None
    from segments.services.lifetime import accuracy_words

    if not clv.get("eligible"):
        return {"eligible": False, "reasons": clv.get("reasons") or []}
    holdout = clv.get("holdout") or {}
    periods = clv.get("periods") or {}
    days = periods.get("horizon_days") or 365
    models = []
    for name, s in (holdout.get("models") or {}).items():
        if "error" in s:
            models.append({"label": s.get("label", name), "error": s["error"]})
            continue
        models.append(
            {
                "label": s.get("label", name),
                "chosen": name == holdout.get("chosen"),
                "mae": f"{s['mae']:.3f}",
                "purchases": f"{s['purchases_expected']:,.0f} / {s['purchases_actual']:,}",
                "purchases_error": "—" if s.get("purchases_error") is None else f"{s['purchases_error']:+.1%}",
                "coverage": _pct((s.get("ranges") or {}).get("coverage")),
            }
        )
    segments = [
        {
            "name": p.get("name"),
            "colour": colours.get(p.get("segment")),
            "size": f"{p.get('size', 0):,}",
            "avg": fmt.money(p["clv"]["avg"]),
            "range": f"{fmt.money(p['clv']['avg_low'])}–{fmt.money(p['clv']['avg_high'])}",
            "total": _money(p["clv"]["total"]),
            "p_active": _pct(p["clv"]["avg_p_active"]),
        }
        for p in profiles
        if p.get("clv")
    ]
    totals = clv.get("totals") or {}
    return {
        "eligible": True,
        "words": accuracy_words(clv),
        "horizon": "12 months" if days == 365 else f"{days} days",
        "discount_rate": _pct(clv.get("discount_rate")),
        "total_clv": _money(totals.get("clv")),
        "expected_purchases": f"{totals.get('expected_purchases', 0):,.0f}",
        "holdout_rule": periods.get("holdout_rule"),
        "holdout_start": periods.get("holdout_start"),
        "models": models,
        "segments": segments,
    }


def render_pdf(context: dict, target=None) -> bytes | None:
    """The report as PDF bytes (or written to `target`, a path or binary file object)."""
    import logging

    # WeasyPrint logs every layout step at INFO, some while it is imported: quiet it first.
    for noisy in ("weasyprint", "weasyprint.progress", "fontTools"):
        logging.getLogger(noisy).setLevel(logging.WARNING)

    from django.conf import settings
    from django.template.loader import render_to_string
    from weasyprint import HTML

    with fmt.using_currency(context.get("currency")):  # the template's money filters
        html = render_to_string("exports/report.html", context)
    document = HTML(string=html, base_url=str(settings.BASE_DIR))
    return document.write_pdf(target)
