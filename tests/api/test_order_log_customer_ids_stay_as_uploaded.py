"""Customer ids of an order log stay the text that was uploaded ("00017" is not 17.0, nor 17) in the stored table,
the customers list, the CLV pages, the CSV and XLSX exports and predict's answer."""

import csv
import io

import pytest
from helpers import cdnow_csv

pytestmark = pytest.mark.django_db


def _as_uploaded(original: str) -> str:
    """CDNOW's ids recoded three ways, all digits (so every value of the column reads as a number): five digits
    zero-padded, plain, and with one leading zero."""
    n = int(original)
    return (f"{n:05d}", str(n), f"0{n}")[n % 3]


def _mixed_id_orders() -> tuple[bytes, set[str]]:
    import pandas as pd

    frame = pd.read_csv(io.BytesIO(cdnow_csv()), dtype=str)
    frame["customer_id"] = frame["customer_id"].map(_as_uploaded)
    out = io.StringIO()
    frame.to_csv(out, index=False)
    return out.getvalue().encode(), set(frame["customer_id"])


@pytest.fixture
def mixed_id_analysis(people):
    from helpers import upload_orders

    from jobs.services import job_execute
    from segments.models import Analysis
    from segments.services import analysis_create

    content, ids = _mixed_id_orders()
    dataset = upload_orders(people.acme, people.alice, content)
    assert dataset.is_order_log
    analysis = analysis_create(
        organization=people.acme, dataset=dataset, settings={"n_clusters": 3, "nlp": False}, created_by=people.alice
    )
    assert job_execute(analysis.job_id) == "succeeded"
    return Analysis.objects.for_organization(people.acme).get(pk=analysis.pk), ids


def test_leading_zeros_and_mixed_ids_are_kept_everywhere(api, mixed_id_analysis):
    from segments.models import CustomerResult

    analysis, uploaded = mixed_id_analysis
    assert any(i.startswith("000") for i in uploaded) and any(not i.startswith("0") for i in uploaded)
    stored = set(
        CustomerResult.objects.for_organization(analysis.organization)
        .filter(analysis=analysis)
        .values_list("customer_id", flat=True)
    )
    assert stored == uploaded

    client = api(scopes=["read", "export", "predict"])
    padded = sorted(i for i in uploaded if i.startswith("000"))[0]
    listed = client.get(f"/api/v1/analyses/{analysis.pk}/customers/", {"customer_id": padded}).json()["results"]
    assert [r["customer_id"] for r in listed] == [padded]
    clv_rows = client.get(f"/api/v1/analyses/{analysis.pk}/clv/", {"page_size": 1000}).json()["results"]
    assert {r["customer_id"] for r in clv_rows} <= uploaded and any(
        r["customer_id"].startswith("000") for r in clv_rows
    )

    answer = client.get(f"/api/v1/analyses/{analysis.pk}/export/", {"format": "csv"})
    body = b"".join(answer.streaming_content) if answer.streaming else answer.content
    rows = list(csv.DictReader(io.StringIO(body.decode())))
    id_key = next(k for k in rows[0] if k.lower().replace(" ", "_") == "customer_id")
    assert {r[id_key] for r in rows} == uploaded

    workbook = client.get(f"/api/v1/analyses/{analysis.pk}/export/", {"format": "xlsx"})
    assert workbook.status_code == 200
    import openpyxl

    data = b"".join(workbook.streaming_content) if workbook.streaming else workbook.content
    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    cells = {str(v) for ws in book.worksheets for row in ws.iter_rows(values_only=True) for v in row if v is not None}
    assert padded in cells
    assert str(int(padded)) + ".0" not in cells

    predicted = client.post(
        f"/api/v1/analyses/{analysis.pk}/predict/",
        {"record": {"customer_id": "00042", "frequency": 3, "recency": 200, "T": 400, "monetary": 30.0}},
    )
    assert predicted.status_code == 200, predicted.content
    assert predicted.json()["prediction"]["customer_id"] == "00042"
