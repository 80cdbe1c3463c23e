"""A report of an analysis without a predicted LTV (no money column, or no duration of known unit, as on
mlc_churn.csv) says the value was not estimated: no "€0.00 predicted value" on the cover, no "— predicted value"
or "growth ceiling —" in its sentences."""

import copy
import re
from datetime import UTC, datetime

from django.template.loader import render_to_string

from exports.report import report_context
from segments.engine import formatting as fmt


def _without_ltv(engine_result):
    profiles = [
        {**p, "avg_ltv": None, "median_ltv": None, "growth_potential": None, "development_potential": None}
        for p in engine_result.profiles
    ]
    metrics = copy.deepcopy(engine_result.metrics)
    insights = metrics.setdefault("insights", {})
    insights["population"] = {**(insights.get("population") or {}), "avg_ltv": None}
    insights["population"]["likely_to_leave"] = {
        **(insights["population"].get("likely_to_leave") or {}),
        "predicted_value": None,
    }
    for key, field in (("growth_opportunities", "growth_potential"), ("underperforming", "development_potential")):
        insights[key] = [{**g, field: None} for g in insights.get(key) or []] or [
            {"segment": profiles[0]["segment"], "name": profiles[0]["name"], field: None}
        ]
    return profiles, metrics


def test_a_report_without_predicted_value_says_so_instead_of_zero(engine_result):
    profiles, metrics = _without_ltv(engine_result)
    branding = {"currency": "EUR", "primary": "#1F3A5F", "accent": "#2A9D8F", "logo": None}
    context = report_context(
        profiles=profiles,
        metrics=metrics,
        organization_name="Brightwater Telecom GmbH",
        analysis_name="Telecom customers",
        generated_at=datetime(2026, 11, 30, 3, 0, tzinfo=UTC),
        branding=branding,
    )
    assert context["total_predicted_value"] is None
    sentences = [s for key in ("risks", "opportunities") for s in context["summary"][key]]
    assert context["summary"]["opportunities"]
    assert not any("—" in s for s in sentences), sentences
    with fmt.using_currency("EUR"):
        html = render_to_string("exports/report.html", context)
    assert "€0.00" not in html and html.count("not estimated (see the appendix)") == 2

    # with a predicted LTV, the same report states the figure
    with_ltv = report_context(
        profiles=engine_result.profiles,
        metrics=engine_result.metrics,
        organization_name="Brightwater Telecom GmbH",
        analysis_name="Telecom customers",
        generated_at=datetime(2026, 11, 30, 3, 0, tzinfo=UTC),
        branding=branding,
    )
    assert with_ltv["total_predicted_value"] > 0


def test_the_insights_tab_names_opportunities_without_a_ceiling_it_cannot_compute(
    db, people, client_for, finished_analysis
):
    analysis = finished_analysis(people.acme, people.alice)
    metrics = copy.deepcopy(analysis.metrics)
    insights = metrics["insights"]
    insights["growth_opportunities"] = [
        {**g, "growth_potential": None} for g in insights.get("growth_opportunities") or []
    ] or [{"segment": analysis.profiles[0]["segment"], "name": analysis.profiles[0]["name"], "growth_potential": None}]
    type(analysis).objects.for_organization(people.acme).filter(pk=analysis.pk).update(metrics=metrics)
    page = client_for(people.vera, people.acme).get(f"/analyses/{analysis.pk}/insights/").content.decode()
    text = re.sub(r"<script.*?</script>", "", page, flags=re.S)  # the page's words, not the figures' data
    assert "growth ceiling —" not in text and "growth ceiling $" not in text
    assert page.count('data-testid="no-ceiling"') >= len(insights["growth_opportunities"])
    assert "not estimated (no predicted LTV)" in page
