"""Each segment's recommendations carry their reason: the segment figure that triggered it, with its unit, beside
the figure for all customers; the Profiles and Insights tabs, the API and the PDF report show the same reason."""

import html as html_lib
import re
from datetime import UTC, datetime

import pytest

pytestmark = pytest.mark.django_db

UNIT = re.compile(r"\d+(\.\d+)?%|\$[\d,]+(\.\d\d)?|standard deviations|days")


def test_segment_reasons_cite_their_figure_with_a_unit_on_the_pages_the_api_and_the_report(
    people, client_for, finished_analysis
):
    from django.template.loader import render_to_string

    from exports.report import report_context

    analysis = finished_analysis(people.acme, people.alice)
    reasons = [r["reason"] for p in analysis.profiles for r in p["recommendations"]]
    assert reasons
    for reason in reasons:
        assert UNIT.search(reason), reason
        assert "—" not in reason, reason  # never a figure that was not computed
    client = client_for(people.vera, people.acme)
    profiles_tab = html_lib.unescape(client.get(f"/analyses/{analysis.pk}/profiles/").content.decode())
    insights_tab = html_lib.unescape(client.get(f"/analyses/{analysis.pk}/insights/").content.decode())
    api = client.get(f"/api/v1/analyses/{analysis.pk}/segments/").json()["results"]
    report = html_lib.unescape(
        render_to_string(
            "exports/report.html",
            report_context(
                profiles=analysis.profiles,
                metrics=analysis.metrics,
                organization_name="Acme",
                analysis_name=analysis.name,
                generated_at=datetime.now(UTC),
            ),
        )
    )
    assert [r["reason"] for p in api for r in p["recommendations"]] == reasons
    for reason in reasons:
        assert f"Why: {reason}" in profiles_tab and f"Why: {reason}" in insights_tab
        assert f"Why: {reason}" in report
