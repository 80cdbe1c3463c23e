"""An analysis of an order log shows ONE lifetime value, the CLV with its range, on every surface: no
pipeline "predicted LTV" beside it in the customers API, the segment profiles, the CSV and XLSX exports or the
PDF report; the run's LTV note says what the lifetime value is; asking for the predicted-LTV range or sort is
refused naming the CLV parameter to use (API and export alike)."""

import csv
import io
import subprocess

import pytest

pytestmark = pytest.mark.django_db


def _body(answer) -> bytes:
    return b"".join(answer.streaming_content) if answer.streaming else answer.content


def _download(client, analysis, fmt: str, **params) -> bytes:
    from exports.models import Export
    from exports.services import export_build

    url = f"/api/v1/analyses/{analysis.pk}/export/"
    answer = client.get(url, {"format": fmt, **params})
    if answer.status_code == 202:  # built in a job: build it here, the worker's code path
        export_build(export=Export.objects.for_organization(analysis.organization).get(pk=answer.json()["export"]))
        answer = client.get(url, {"format": fmt, **params})
    assert answer.status_code == 200, answer.content
    return _body(answer)


def test_an_order_log_analysis_shows_the_clv_as_its_one_lifetime_value(api, order_analysis, tmp_path):
    client = api()
    analysis = order_analysis
    assert analysis.has_clv and not analysis.has_ltv
    assert "order log's CLV" in analysis.metrics["ltv"]["note"]

    rows = client.get(f"/api/v1/analyses/{analysis.pk}/customers/", {"page_size": 5}).json()["results"]
    assert rows and all("predicted_ltv" not in r and r["clv_low"] <= r["clv_high"] and r["clv"] >= 0 for r in rows)
    segments = client.get(f"/api/v1/analyses/{analysis.pk}/segments/").json()["results"]
    assert all(s["avg_ltv"] is None and s["clv"]["avg"] > 0 for s in segments)
    reasons = " ".join(r["reason"] for s in segments for r in s["recommendations"])
    assert "predicted LTV" not in reasons and "—" not in reasons

    for params, field in (({"ltv_min": 50}, "ltv_min"), ({"sort": "-ltv"}, "sort")):
        refused = client.get(f"/api/v1/analyses/{analysis.pk}/customers/", params)
        assert refused.status_code == 400
        message = refused.json()["error"]["details"][field][0]
        assert "CLV of its order log" in message and ("clv_min" in message or "sort by clv" in message)
    refused = client.get(f"/api/v1/analyses/{analysis.pk}/export/", {"format": "csv", "ltv_max": 50})
    assert refused.status_code == 400 and "clv_max" in refused.json()["error"]["details"]["ltv_max"][0]

    header = next(csv.reader(io.StringIO(_download(client, analysis, "csv").decode())))
    assert not any("LTV" in h or "ltv" in h for h in header)
    assert any(h.lower().startswith("clv") for h in header)

    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(_download(client, analysis, "xlsx")), read_only=True)
    cells = {str(v) for ws in book.worksheets for row in ws.iter_rows(values_only=True) for v in row if v}
    assert "Avg CLV" in cells and "Predicted LTV" not in cells and "Avg predicted LTV" not in cells

    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(_download(client, analysis, "pdf"))
    text = " ".join(subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout.split())
    assert "avg clv" in text.lower() and "predicted value" not in text.lower()  # headings may be capitalised
    assert "No second LTV estimate is made for an order log" in text
