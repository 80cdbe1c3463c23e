"""Each customer's own levels and advice on the Profiles tab, in the stored results, the CSV and the workbook; the
segment cards say what their levels compare with, what engagement rests on, and show ceilings as ceilings."""

import html as html_lib
import io
import re

import openpyxl
import pandas as pd
import pytest

from segments.models import CustomerResult

pytestmark = pytest.mark.django_db


def _body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_the_profiles_list_shows_each_customer_s_own_engagement_and_advice(people, client_for, finished_analysis):
    analysis = finished_analysis(people.acme, people.alice)
    client = client_for(people.vera, people.acme)
    page = html_lib.unescape(client.get(f"/analyses/{analysis.pk}/profiles/?size=100").content.decode())
    assert "<th>Engagement</th>" in page and "Recommended for this customer" in page
    rows = list(
        CustomerResult.objects.for_organization(people.acme)
        .filter(analysis=analysis)
        .order_by("row_index")
        .values("customer_id", "engagement_level", "recommendation", "recommendation_reason")[:100]
    )
    cells = re.findall(r'data-testid="customer-advice">(.*?)</td>', page, re.S)
    assert len(cells) == len(rows) == 100
    for row, cell in zip(rows, cells, strict=True):
        assert row["recommendation"] in cell
        assert row["recommendation_reason"][0].upper() + row["recommendation_reason"][1:] in cell
        assert row["engagement_level"] in ("high", "medium", "low")
    # advice follows the customer, not the segment: one segment holds customers with different actions
    per_segment = (
        CustomerResult.objects.for_organization(people.acme)
        .filter(analysis=analysis)
        .values_list("segment", "recommendation")
    )
    actions: dict[int, set] = {}
    for seg, action in per_segment:
        actions.setdefault(seg, set()).add(action)
    assert any(len(a) > 1 for a in actions.values())


def test_the_segment_cards_say_what_levels_compare_with(people, client_for, finished_analysis):
    analysis = finished_analysis(people.acme, people.alice)
    page = html_lib.unescape(
        client_for(people.vera, people.acme).get(f"/analyses/{analysis.pk}/profiles/").content.decode()
    )
    population = analysis.metrics["insights"]["population"]
    basis = re.findall(r'data-testid="levels-basis">(.*?)</p>', page, re.S)
    assert len(basis) == len([p for p in analysis.profiles if p["segment"] != -1])
    from segments.engine.formatting import percent

    assert all(f"vs {percent(population['avg_churn_risk'])}" in b for b in basis), basis
    for p in analysis.profiles:
        for d in p["distinguishing_features"]:
            assert d["text"][0].upper() + d["text"][1:] in page
            assert f"<strong>{d['feature']}</strong>" not in page


def test_the_csv_and_workbook_carry_each_customer_s_own_levels_and_advice(people, client_for, finished_analysis):
    analysis = finished_analysis(people.acme, people.alice)
    client = client_for(people.bob, people.acme)
    back = pd.read_csv(io.BytesIO(_body(client.get(f"/reports/analyses/{analysis.pk}/download/?format=csv"))))
    assert {"engagement_level", "recommendation", "recommendation_reason"} <= set(back.columns)
    high = back["risk_level"] == "high"
    assert high.any() and back.loc[high, "recommendation"].str.contains("retention").all()
    assert back.loc[high, "recommendation_reason"].str.startswith("own churn risk").all()
    avg = analysis.metrics["insights"]["population"]["avg_churn_risk"]
    assert back.loc[high, "recommendation_reason"].str.contains(f"vs {avg * 100:.0f}% for the average").all()
    workbook = openpyxl.load_workbook(
        io.BytesIO(_body(client.get(f"/reports/analyses/{analysis.pk}/download/?format=xlsx"))), read_only=True
    )
    header = next(workbook["Customers"].iter_rows(max_row=1, values_only=True))
    assert "Engagement level" in header and "Recommendation for this customer" in header


def test_the_growth_figures_read_as_ceilings_on_the_insights_tab(people, client_for, finished_analysis):
    analysis = finished_analysis(people.acme, people.alice)
    page = client_for(people.vera, people.acme).get(f"/analyses/{analysis.pk}/insights/").content.decode()
    assert "growth potential" not in page.lower() and "development potential" not in page.lower()
    if analysis.metrics["insights"]["growth_opportunities"]:
        assert "growth ceiling" in page and "not a forecast" in page


def test_a_table_without_engagement_columns_says_engagement_is_unknown(people, client_for, make_dataset):
    from jobs.services import job_execute
    from segments.services import analysis_create, analysis_default_config

    dataset = make_dataset(people.acme, people.alice, rows=600)
    config = analysis_default_config(dataset) | {"n_clusters": 3, "nlp": False, "engagement_cols": {}}
    analysis = analysis_create(organization=people.acme, dataset=dataset, config=config, created_by=people.alice)
    assert job_execute(analysis.job_id) == "succeeded"
    analysis.refresh_from_db()
    page = client_for(people.vera, people.acme).get(f"/analyses/{analysis.pk}/profiles/").content.decode()
    assert "Engagement unknown" in page and "<th>Engagement</th>" not in page
    assert not any(w in p["name"] for p in analysis.profiles for w in ("Engaged", "Engagement"))
    assert set(
        CustomerResult.objects.for_organization(people.acme)
        .filter(analysis=analysis)
        .values_list("engagement_level", flat=True)
    ) == {"unknown"}
