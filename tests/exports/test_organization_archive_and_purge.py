"""Leaving: the owner downloads everything the organization holds as one ZIP built by the real worker, deletes the
organization (typing its name), can restore it during the grace period, and after it the purge removes every row
and every file of it (counted per tenant model and in storage), leaving other organizations untouched."""

import csv
import io
import json
import zipfile
from datetime import timedelta

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from helpers import stored_files, wait_for_job

pytestmark = pytest.mark.worker


def _png() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (60, 20), (200, 40, 40)).save(buffer, format="PNG")
    return buffer.getvalue()


def tenant_row_counts(org) -> dict[str, int]:
    """Rows of every model with an `organization` foreign key, for this organization (plus the organization)."""
    from accounts.models import Organization

    counts = {"accounts.Organization": Organization.objects.filter(pk=org.pk).count()}
    for model in apps.get_models():
        field = next((f for f in model._meta.get_fields() if f.name == "organization" and f.is_relation), None)
        if field is not None and field.related_model is Organization:
            counts[model._meta.label] = model._base_manager.filter(organization_id=org.pk).count()
    return counts


def _archive(client, org):
    from accounts.leaving import archive_jobs

    response = client.post(reverse("accounts:organization_archive"))
    assert response.status_code == 302
    job = wait_for_job(archive_jobs(organization=org).get())
    assert job.status == "succeeded", job.error
    download = client.get(reverse("accounts:organization_archive_download", args=[job.pk]))
    assert download.status_code == 200 and download["Content-Type"] == "application/zip"
    return job, zipfile.ZipFile(io.BytesIO(b"".join(download.streaming_content)))


def test_the_archive_holds_everything_and_the_purge_leaves_nothing(people, worker, client_for, finished_analysis):
    from accounts.models import AuditEvent
    from accounts.services import organization_update
    from segments.models import Analysis

    acme, globex = people.acme, people.globex
    analysis = finished_analysis(acme, people.alice, rows=600)
    finished_analysis(globex, people.charlie, rows=600)
    organization_update(organization=acme, actor=people.alice, currency="EUR", logo=SimpleUploadedFile("l.png", _png()))
    owner = client_for(people.alice, acme)
    built = owner.get(f"/reports/analyses/{analysis.pk}/download/?format=xlsx")
    assert built.status_code == 200
    b"".join(built.streaming_content)

    held = list(stored_files(acme))
    _, archive = _archive(owner, acme)
    names = set(archive.namelist())
    org_doc = json.loads(archive.read("organization.json"))
    assert org_doc["name"] == "Acme" and org_doc["currency"] == "EUR"
    assert {m["email"] for m in org_doc["members"]} == {
        "alice@example.com",
        "bob@example.com",
        "vera@example.com",
        "mia@example.com",
    }
    folder = next(n.rsplit("/", 1)[0] for n in names if n.endswith("/analysis.json"))
    doc = json.loads(archive.read(f"{folder}/analysis.json"))
    assert doc["name"] == analysis.name and len(doc["segments"]) == len(analysis.profiles)
    customers = list(csv.DictReader(io.StringIO(archive.read(f"{folder}/customers.csv").decode())))
    assert len(customers) == analysis.customer_count == 600
    assert any(n.startswith(f"{folder}/files/exports/") and n.endswith(".xlsx") for n in names)  # the built workbook
    assert any(n.startswith("datasets/") and n.endswith("/data.parquet") for n in names)
    assert any(n.startswith("other/branding/logo-") for n in names)
    audit_rows = list(csv.DictReader(io.StringIO(archive.read("audit-log.csv").decode())))
    assert "organization.archive_requested" in {r["action"] for r in audit_rows}
    # every stored file of the organization is in the archive, apart from the archives themselves
    copies = [
        n
        for n in names
        if "/files/" in n or n.startswith("other/") or (n.startswith("datasets/") and not n.endswith("/dataset.json"))
    ]
    assert len(copies) == len(held) and len(held) >= 5, (copies, held)
    assert sorted(n.rsplit("/", 1)[-1] for n in copies) == sorted(p.name for p in held)
    assert AuditEvent.objects.for_organization(acme).filter(action="organization.archive_downloaded").count() == 1

    # delete: the wrong name changes nothing; the right one schedules the purge
    refused = owner.post(reverse("accounts:organization_delete"), {"confirm_name": "acme"})
    assert refused.status_code == 400 and "Type the organization" in refused.content.decode()
    acme.refresh_from_db()
    assert acme.deletion_requested_at is None
    assert owner.post(reverse("accounts:organization_delete"), {"confirm_name": "Acme"}).status_code == 302
    acme.refresh_from_db()
    assert acme.purge_after - acme.deletion_requested_at == timedelta(days=7)

    before_acme, before_globex = tenant_row_counts(acme), tenant_row_counts(globex)
    files_globex = stored_files(globex)
    assert before_acme["segments.CustomerResult"] == 600 and before_acme["exports.Export"] >= 1
    assert stored_files(acme)

    call_command("purge_organizations")  # not due yet: nothing happens
    assert tenant_row_counts(acme) == before_acme

    type(acme).objects.filter(pk=acme.pk).update(purge_after=timezone.now() - timedelta(seconds=1))
    out = io.StringIO()
    call_command("purge_organizations", stdout=out)
    assert "purged Acme" in out.getvalue()
    after = tenant_row_counts(acme)
    assert set(after.values()) == {0}, after
    assert stored_files(acme) == []
    assert tenant_row_counts(globex) == before_globex and stored_files(globex) == files_globex
    assert Analysis.objects.for_organization(globex).count() == 1
    # the people stay (they may belong elsewhere); mia still works in Globex
    people.mia.refresh_from_db()
    assert client_for(people.mia, globex).get("/").status_code == 200
