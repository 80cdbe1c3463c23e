"""Large exports are built by the real Celery worker, with progress, a notice when ready, and an audited download."""

import io

import openpyxl
import pandas as pd
import pytest

from accounts.models import AuditEvent
from exports.models import Export

pytestmark = pytest.mark.worker


def test_a_large_workbook_is_built_in_the_worker_and_downloaded_when_ready(
    people, worker, client_for, finished_analysis, settings
):
    from helpers import wait_for_job

    settings.EXPORT_SYNC_MAX_CUSTOMERS = 100  # this analysis (600 customers) counts as large
    analysis = finished_analysis(people.globex, people.charlie, name="Globex base")
    client = client_for(people.mia, people.acme)  # working in Acme; downloads from Globex on the Reports page

    response = client.get(f"/reports/analyses/{analysis.pk}/download/?format=xlsx&org={people.globex.pk}")
    export = Export.objects.for_organization(people.globex).get(analysis=analysis, format="xlsx")
    assert response.status_code == 302
    assert response["Location"] == f"/reports/exports/{export.pk}/?org={people.globex.pk}"
    assert export.job is not None and export.job.kind == "export.build"

    page = client.get(response["Location"])
    assert page.status_code == 200
    assert b'data-testid="job-progress"' in page.content or b'data-testid="export-ready"' in page.content
    # the progress widget polls the active organization's jobs endpoint: the page made Globex active
    assert client.session["active_organization_id"] == people.globex.pk
    assert client.get(f"/jobs/{export.job.pk}/").json()["kind"] == "export.build"

    job = wait_for_job(export.job, timeout=120)
    assert job.status == "succeeded", job.error
    assert job.progress == 100 and job.result["export_id"] == export.pk

    page = client.get(f"/reports/exports/{export.pk}/?org={people.globex.pk}")
    assert b'data-testid="export-ready"' in page.content and b"Your export is ready" in page.content
    assert not AuditEvent.objects.for_organization(people.globex).filter(action="export.downloaded").exists()

    download = client.get(f"/reports/exports/{export.pk}/file/?org={people.globex.pk}")
    assert download.status_code == 200
    assert download["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert download["Content-Disposition"].startswith('attachment; filename="globex-globex-base-customers-')
    book = openpyxl.load_workbook(io.BytesIO(b"".join(download.streaming_content)), read_only=True)
    assert len(list(book["Customers"].iter_rows(min_row=2))) == analysis.customer_count
    event = AuditEvent.objects.for_organization(people.globex).get(action="export.downloaded")
    assert event.actor == people.mia and event.details == {
        "format": "xlsx",
        "analysis_id": analysis.pk,
        "export_id": export.pk,
    }

    # the next request for the same workbook is served from the built file, no new job
    again = client.get(f"/reports/analyses/{analysis.pk}/download/?format=xlsx&org={people.globex.pk}")
    assert again.status_code == 200
    assert Export.objects.for_organization(people.globex).filter(analysis=analysis, format="xlsx").count() == 1
    # and the Reports page lists it under Globex
    assert b"Download (" in client.get("/reports/").content


def test_export_pages_of_another_organization_are_404(people, worker, client_for, finished_analysis, settings):
    from helpers import wait_for_job

    settings.EXPORT_SYNC_MAX_CUSTOMERS = 100
    analysis = finished_analysis(people.globex, people.charlie)
    charlie = client_for(people.charlie, people.globex)
    charlie.get(f"/reports/analyses/{analysis.pk}/download/?format=xlsx")
    export = Export.objects.for_organization(people.globex).get(analysis=analysis)
    wait_for_job(export.job, timeout=120)
    alice = client_for(people.alice, people.acme)
    for url in (f"/reports/exports/{export.pk}/", f"/reports/exports/{export.pk}/file/"):
        assert alice.get(url).status_code == 404
        assert alice.get(url + f"?org={people.globex.pk}").status_code == 404


def test_uploaded_formulas_reach_neither_the_csv_nor_the_workbook_as_formulas(people, client_for, finished_analysis):
    from segments.engine import generate_synthetic

    frame = generate_synthetic(rows=400, seed=5)
    frame["customer_id"] = frame["customer_id"].astype(str)
    hostile = ['=HYPERLINK("http://evil.example","x")', "+SUM(1,2)", "@cmd", "-5+5", "-42"]
    frame.loc[: len(hostile) - 1, "customer_id"] = hostile
    analysis = finished_analysis(people.acme, people.alice, frame=frame)
    client = client_for(people.bob, people.acme)

    csv = b"".join(client.get(f"/reports/analyses/{analysis.pk}/download/?format=csv").streaming_content)
    ids = pd.read_csv(io.BytesIO(csv), dtype={"customer_id": str})["customer_id"].tolist()
    assert ids[:5] == ["'" + v for v in hostile[:4]] + ["-42"]

    xlsx = client.get(f"/reports/analyses/{analysis.pk}/download/?format=xlsx")
    book = openpyxl.load_workbook(io.BytesIO(b"".join(xlsx.streaming_content)))
    cells = [row[0] for row in book["Customers"].iter_rows(min_row=2, max_row=6)]
    assert [c.value for c in cells] == hostile and all(c.data_type == "s" for c in cells)
