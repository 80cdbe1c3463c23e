"""Exports over the API: `?format=` picks the file (served by the exports service), errors name the parameter."""

import csv
import io

import pytest

pytestmark = pytest.mark.django_db


def _body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_json_export_has_the_segment_profiles(api, acme_analysis):
    response = api(scopes=["export"]).get(f"/api/v1/analyses/{acme_analysis.pk}/export/", {"format": "json"})
    assert response.status_code == 200 and response["Content-Type"].startswith("application/json")
    assert "attachment" in response["Content-Disposition"]
    document = response.json()  # the shape of GET analyses/{id}/segments/, plus descriptive fields
    assert document["analysis"] == acme_analysis.pk and document["count"] == 3
    assert [p["segment"] for p in document["results"]] == [0, 1, 2]
    assert document["results"][0]["name"] == acme_analysis.profile(0)["name"]


def test_csv_export_streams_every_customer_or_one_segment(api, acme_analysis):
    client = api(scopes=["export"])
    rows = list(
        csv.DictReader(
            io.StringIO(
                _body(client.get(f"/api/v1/analyses/{acme_analysis.pk}/export/?format=csv")).decode("utf-8-sig")
            )
        )
    )
    assert len(rows) == 400
    one = client.get(f"/api/v1/analyses/{acme_analysis.pk}/export/", {"format": "csv", "segment": 1})
    assert one.status_code == 200 and one["Content-Type"].startswith("text/csv")
    size = acme_analysis.profile(1)["size"]
    assert len(list(csv.DictReader(io.StringIO(_body(one).decode("utf-8-sig"))))) == size


def test_csv_export_takes_the_customers_endpoints_score_ranges(api, acme_analysis):
    client = api(scopes=["export", "read"])
    url = f"/api/v1/analyses/{acme_analysis.pk}/export/"
    response = client.get(url, {"format": "csv", "churn_risk_min": 0.3, "ltv_max": 2000})
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(_body(response).decode("utf-8-sig"))))
    assert rows and all(float(r["churn_risk"]) >= 0.3 and float(r["predicted_ltv"]) <= 2000 for r in rows)
    listed, cursor = [], None  # the same customers as the customers endpoint with the same ranges
    while True:
        page = client.get(
            f"/api/v1/analyses/{acme_analysis.pk}/customers/",
            {"churn_risk_min": 0.3, "ltv_max": 2000, "page_size": 1000, **({"cursor": cursor} if cursor else {})},
        ).json()
        listed += [c["customer_id"] for c in page["results"]]
        if not page["next"]:
            break
        cursor = page["next"].split("cursor=")[1].split("&")[0]
    assert [r["customer_id"] for r in rows] == listed
    bad = client.get(url, {"format": "csv", "ltv_min": 10, "ltv_max": 5})
    assert bad.status_code == 400 and list(bad.json()["error"]["details"]) == ["ltv_max"]
    bad = client.get(url, {"format": "xlsx", "churn_risk_max": 0.5})
    assert bad.status_code == 400 and list(bad.json()["error"]["details"]) == ["churn_risk_max"]


def test_xlsx_export_is_a_workbook(api, acme_analysis):
    response = api(scopes=["export"]).get(f"/api/v1/analyses/{acme_analysis.pk}/export/", {"format": "xlsx"})
    assert response.status_code == 200 and _body(response)[:2] == b"PK"


def test_export_errors_name_the_parameter(api, acme_analysis, acme_dataset):
    client = api(scopes=["export", "write"])
    response = client.get(f"/api/v1/analyses/{acme_analysis.pk}/export/", {"format": "docx"})
    assert response.status_code == 400 and list(response.json()["error"]["details"]) == ["format"]
    response = client.get(f"/api/v1/analyses/{acme_analysis.pk}/export/", {"format": "csv", "segment": 42})
    assert response.status_code == 400 and list(response.json()["error"]["details"]) == ["segment"]
    started = client.post("/api/v1/analyses/", {"dataset": acme_dataset.pk}).json()
    response = client.get(f"/api/v1/analyses/{started['id']}/export/", {"format": "json"})
    assert response.status_code == 409


def test_a_large_workbook_is_built_in_the_background_and_the_same_url_polls_it(api, acme_analysis, settings):
    settings.EXPORT_SYNC_MAX_CUSTOMERS = 100  # the 400-customer workbook now needs a job
    client = api(scopes=["export"])
    first = client.get(f"/api/v1/analyses/{acme_analysis.pk}/export/", {"format": "xlsx"})
    assert first.status_code == 202 and first["Retry-After"] == "3"
    body = first.json()
    assert body["format"] == "xlsx" and body["progress"]["status"] == "queued"
    again = client.get(f"/api/v1/analyses/{acme_analysis.pk}/export/", {"format": "xlsx"})
    assert again.status_code == 202 and again.json()["export"] == body["export"]
