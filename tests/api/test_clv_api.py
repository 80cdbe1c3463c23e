"""The lifetime value of an order log through the API: upload (detected as an order log, eligibility in the
answer), confirm columns (a bad column is a 400 naming it), start an analysis, and read /clv/ (paged, filtered by
CLV and probability active, sorted), the CLV columns of customers/ and of the CSV export."""

import csv
import io

import pytest
from helpers import cdnow_csv

pytestmark = pytest.mark.django_db


def test_an_uploaded_order_log_is_reported_with_its_columns_and_eligibility(api):
    client = api()
    made = client.upload("/api/v1/datasets/", "orders.csv", cdnow_csv())
    assert made.status_code == 201, made.content
    detail = client.get(f"/api/v1/datasets/{made.json()['id']}/").json()
    assert detail["kind"] == "transactions"
    assert detail["order_columns"]["customer_col"] == "customer_id"
    assert detail["order_log"]["eligible"] is True
    assert detail["order_log"]["customers"] == 2357


def test_confirming_order_columns_through_the_api_names_a_bad_column_and_changes_nothing(api):
    client = api()
    dataset_id = client.upload("/api/v1/datasets/", "orders.csv", cdnow_csv()).json()["id"]
    bad = client.patch(f"/api/v1/datasets/{dataset_id}/", {"order_columns": {"amount_col": "no_such_column"}})
    assert bad.status_code == 400
    details = bad.json()["error"]["details"]
    assert "no_such_column" in details["amount_col"][0]
    assert client.get(f"/api/v1/datasets/{dataset_id}/").json()["order_columns"]["amount_col"] == "amount"
    unreadable = client.patch(f"/api/v1/datasets/{dataset_id}/", {"order_columns": {"date_col": "cds"}})
    assert unreadable.status_code == 400
    assert "cds" in str(unreadable.json()["error"]["details"]["order_columns"])
    as_table = client.patch(f"/api/v1/datasets/{dataset_id}/", {"kind": "customers"})
    assert as_table.status_code == 200 and as_table.json()["kind"] == "customers"
    assert as_table.json()["order_log"] is None


def test_clv_pages_carry_ranges_and_filter_by_clv_and_probability_active(api, order_analysis):
    client = api(scopes=["read"])
    url = f"/api/v1/analyses/{order_analysis.pk}/clv/"
    first = client.get(url, {"page_size": 50})
    assert first.status_code == 200
    body = first.json()
    assert body["eligible"] is True and body["reasons"] == []
    assert body["model"] in ("Pareto/NBD", "BG/NBD", "MBG/NBD")
    assert body["accuracy"]["words"][0].startswith("Over your last")
    assert body["accuracy"]["purchases_actual"] > 0
    assert len(body["results"]) == 50 and body["next"]
    row = body["results"][0]
    assert set(row) >= {"customer_id", "segment_name", "p_active", "expected_purchases", "clv", "clv_low", "clv_high"}
    assert row["clv_low"] <= row["clv_high"]

    rich = client.get(url, {"clv_min": 200, "p_active_min": 0.5, "sort": "-clv", "page_size": 1000}).json()["results"]
    assert rich, "CDNOW has customers worth more than $200 a year"
    assert all(r["clv"] >= 200 and r["p_active"] >= 0.5 for r in rich)
    assert [r["clv"] for r in rich] == sorted((r["clv"] for r in rich), reverse=True)
    from segments.models import CustomerResult

    expected = (
        CustomerResult.objects.for_organization(order_analysis.organization)
        .filter(analysis=order_analysis, clv__gte=200, p_active__gte=0.5)
        .count()
    )
    assert len(rich) == expected

    refused = client.get(url, {"p_active_min": 2})
    assert refused.status_code == 400
    assert "p_active_min" in refused.json()["error"]["details"]

    customers = client.get(f"/api/v1/analyses/{order_analysis.pk}/customers/", {"page_size": 5}).json()["results"]
    assert all(r["clv"] is not None and r["clv_low"] <= r["clv_high"] for r in customers)


def test_a_customer_table_analysis_has_no_clv_and_says_so(api, acme_analysis):
    client = api(scopes=["read"])
    answer = client.get(f"/api/v1/analyses/{acme_analysis.pk}/clv/")
    assert answer.status_code == 409
    assert answer.json()["error"]["code"] == "not_an_order_log"
    refused = client.get(f"/api/v1/analyses/{acme_analysis.pk}/customers/", {"clv_min": 10})
    assert refused.status_code == 400
    assert "clv_min" in refused.json()["error"]["details"]


def test_another_organizations_clv_is_a_404(api, order_analysis, people):
    assert api(org=people.globex).get(f"/api/v1/analyses/{order_analysis.pk}/clv/").status_code == 404


def test_the_customers_csv_of_an_order_log_analysis_carries_the_clv_columns(api, order_analysis):
    client = api()
    answer = client.get(f"/api/v1/analyses/{order_analysis.pk}/export/", {"format": "csv", "clv_min": 100})
    assert answer.status_code == 200
    body = b"".join(answer.streaming_content) if answer.streaming else answer.content
    rows = list(csv.DictReader(io.StringIO(body.decode())))
    assert rows
    assert {"p_active", "expected_purchases", "clv", "clv_low", "clv_high"} <= set(rows[0])
    assert all(float(r["clv"]) >= 100 and float(r["clv_low"]) <= float(r["clv_high"]) for r in rows)


def test_the_clv_endpoint_is_in_the_openapi_schema_with_its_filters(api):
    schema = api().client.get("/api/schema/", HTTP_ACCEPT="application/json").content.decode()
    assert "/api/v1/analyses/{id}/clv/" in schema
    for name in ("clv_min", "clv_max", "p_active_min", "p_active_max"):
        assert name in schema


def test_the_pdf_report_of_an_order_log_analysis_has_a_clv_page_with_the_holdout_accuracy(
    api, order_analysis, tmp_path
):
    import subprocess
    from pathlib import Path

    from exports.models import Export
    from exports.services import export_build

    answer = api().get(f"/api/v1/analyses/{order_analysis.pk}/export/", {"format": "pdf"})
    assert answer.status_code in (200, 202), answer.content
    if answer.status_code == 202:  # built in a job: build it here, the worker's code path
        export = Export.objects.for_organization(order_analysis.organization).get(pk=answer.json()["id"])
        export_build(export=export)
        answer = api().get(f"/api/v1/analyses/{order_analysis.pk}/export/", {"format": "pdf"})
    body = b"".join(answer.streaming_content) if answer.streaming else answer.content
    path = tmp_path / "report.pdf"
    path.write_bytes(body)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    text = " ".join(text.split())
    chosen = order_analysis.metrics["clv"]["holdout"]["models"][order_analysis.metrics["clv"]["holdout"]["chosen"]]
    assert "Lifetime value from the order log" in text
    assert f"the model expected {chosen['purchases_expected']:,.0f} purchases" in text
    assert f"they made {chosen['purchases_actual']:,}" in text
    assert "models scored on the held-out weeks" in text.lower()
    assert "each segment's lifetime value" in text.lower()
    # the page as an image, to look at
    pages = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    n = int(next(line.split()[-1] for line in pages.splitlines() if line.startswith("Pages:")))
    for page in range(1, n + 1):
        one = subprocess.run(
            ["pdftotext", "-f", str(page), "-l", str(page), str(path), "-"], capture_output=True, text=True
        )
        if "Lifetime value from the order log" in one.stdout:
            artifacts = Path(__file__).resolve().parents[2] / "test-artifacts"
            artifacts.mkdir(exist_ok=True)
            subprocess.run(
                [
                    "pdftoppm",
                    "-png",
                    "-r",
                    "80",
                    "-f",
                    str(page),
                    "-l",
                    str(page),
                    str(path),
                    str(artifacts / "report-clv"),
                ],
                check=True,
            )
            break
    else:
        raise AssertionError("no page of the report is the lifetime value page")


def test_the_clv_horizon_and_discount_rate_are_settings_of_an_order_log_run(api, people):
    from helpers import upload_orders

    from jobs.services import job_execute
    from segments.models import Analysis

    dataset = upload_orders(people.acme, people.alice, cdnow_csv())
    client = api()
    bad = client.post("/api/v1/analyses/", {"dataset": dataset.pk, "clv_discount_rate": 1.5, "nlp": False})
    assert bad.status_code == 400
    assert "clv_discount_rate" in bad.json()["error"]["details"]
    made = client.post(
        "/api/v1/analyses/",
        {"dataset": dataset.pk, "n_clusters": 3, "nlp": False, "clv_horizon_days": 180, "clv_discount_rate": 0.05},
    )
    assert made.status_code == 202, made.content
    analysis = Analysis.objects.for_organization(people.acme).get(pk=made.json()["id"])
    assert analysis.config["clv"] == {"horizon_days": 180, "discount_rate": 0.05}
    assert job_execute(analysis.job_id) == "succeeded"
    analysis.refresh_from_db()
    assert analysis.metrics["clv"]["periods"]["horizon_days"] == 180
    assert analysis.metrics["clv"]["discount_rate"] == 0.05
    body = client.get(f"/api/v1/analyses/{analysis.pk}/clv/").json()
    assert body["horizon_days"] == 180


def test_clv_settings_are_refused_for_a_customer_table(api, acme_dataset):
    refused = api().post("/api/v1/analyses/", {"dataset": acme_dataset.pk, "clv_horizon_days": 90})
    assert refused.status_code == 400
    assert "order logs only" in refused.json()["error"]["details"]["clv_horizon_days"][0]
