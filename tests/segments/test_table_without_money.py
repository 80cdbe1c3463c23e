"""A customer table without any money column analyses end to end: the money figures are left out and the product
says why, instead of failing (or showing a made-up $0). A German table whose revenue column carries the currency in
its header has that column offered as money."""

import io
import re

import numpy as np
import pandas as pd
import pytest

from segments.models import CustomerResult


def _table(rows=900, seed=3):
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "kunde": [f"K{i:05d}" for i in range(rows)],
            "besuche": rng.poisson(6, rows),
            "alter": rng.integers(18, 80, rows),
            "tickets": rng.poisson(1, rows),
            "region": rng.choice(["Nord", "Süd", "West"], rows),
            "Umsatz (€)": rng.gamma(2.0, 60.0, rows).round(2),
        }
    )


def _upload(org, user, frame, name):
    from datasets.services import dataset_create_from_upload

    return dataset_create_from_upload(
        organization=org, uploaded_by=user, file=io.BytesIO(frame.to_csv(index=False).encode()), filename=name
    )


def test_a_header_with_a_currency_is_offered_as_money(people):
    dataset = _upload(people.acme, people.alice, _table(), "kunden.csv")
    assert dataset.roles["Umsatz (€)"] == "monetary"
    assert dataset.roles["besuche"] == "numeric"


def test_a_table_without_money_analyses_and_says_why_there_is_no_ltv(people, worker, client_for):
    from helpers import wait_for_job

    from segments.services import analysis_create

    dataset = _upload(people.acme, people.alice, _table().drop(columns=["Umsatz (€)"]), "ohne-umsatz.csv")
    analysis = analysis_create(
        organization=people.acme, dataset=dataset, settings={"n_clusters": 3, "nlp": False}, created_by=people.alice
    )
    job = wait_for_job(analysis.job)
    assert job.status == "succeeded", job.error
    analysis.refresh_from_db()
    assert analysis.summary["avg_predicted_ltv"] is None and analysis.summary["total_predicted_ltv"] is None
    rows = CustomerResult.objects.for_organization(people.acme).filter(analysis=analysis)
    assert rows.count() == 900 and not rows.filter(predicted_ltv__isnull=False).exists()

    client = client_for(people.alice, people.acme)
    for tab in ("", "profiles/", "visualizations/", "insights/"):
        response = client.get(f"/analyses/{analysis.pk}/{tab}")
        assert response.status_code == 200, tab
        text = re.sub(r"<[^>]+>", " ", response.content.decode())
        assert not re.search(r"\bNaN\b|\bnan\b|\bNone\b|\$0(?![.,\d])", text), (
            tab,
            re.findall(r".{40}(?:NaN|nan|None|\$0).{40}", text),
        )
    data_tab = client.get(f"/analyses/{analysis.pk}/").content.decode()
    assert "lifetime value cannot be estimated" in data_tab

    api = client.get(f"/api/v1/analyses/{analysis.pk}/customers/?page_size=5").json()
    assert all(row["predicted_ltv"] is None for row in api["results"])
    refused = client.get(f"/api/v1/analyses/{analysis.pk}/customers/?sort=-ltv").json()["error"]["details"]
    assert "no predicted LTV" in refused["sort"][0]
    segments = client.get(f"/api/v1/analyses/{analysis.pk}/segments/").json()["results"]
    assert all(p["avg_ltv"] is None for p in segments)
    csv = client.get(f"/reports/analyses/{analysis.pk}/download/?format=csv")
    frame = pd.read_csv(io.BytesIO(b"".join(csv.streaming_content)))
    assert len(frame) == 900 and frame["predicted_ltv"].isna().all()
    for fmt in ("xlsx", "pdf", "json"):
        assert client.get(f"/reports/analyses/{analysis.pk}/download/?format={fmt}").status_code == 200, fmt


@pytest.mark.parametrize("column", ["Umsatz (€)"])
def test_a_numeric_spend_column_marked_numeric_still_analyses(people, column):
    """Marked as an ordinary number (not money), the spend column gives no LTV, and the run still finishes."""
    from jobs.services import job_execute
    from segments.services import analysis_create

    dataset = _upload(people.acme, people.alice, _table(), "kunden.csv")
    analysis = analysis_create(
        organization=people.acme,
        dataset=dataset,
        roles={column: "numeric"},
        settings={"n_clusters": 3, "nlp": False},
        created_by=people.alice,
    )
    assert job_execute(analysis.job_id) == "succeeded"
