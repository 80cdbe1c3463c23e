"""The product on an S3-compatible object store, end to end. Not collected by the main run (the file name does
not start with `test_`): `test_s3_deployment.py` runs it in a pytest session of its own whose settings come
from the environment, `STORAGE_BACKEND=s3` and a bucket on the suite's moto server, as a deployment's would.
This process plays the web server; the real Celery worker (the `worker` fixture, same environment) shares
only the database, the broker and the bucket with it, and MEDIA_ROOT must stay empty throughout."""

import io
import os
import urllib.request
from pathlib import Path

import pytest
from helpers import stored_files, wait_for_job

pytestmark = [pytest.mark.worker]


def _nothing_under_media_root():
    from django.conf import settings

    root = Path(settings.MEDIA_ROOT)
    return not root.exists() or not any(p.is_file() for p in root.rglob("*"))


def _fetch(url: str) -> bytes:
    assert url.startswith(os.environ["AWS_S3_ENDPOINT_URL"] + "/"), url  # a signed URL of the object store
    with urllib.request.urlopen(url) as response:  # noqa: S310 - the suite's moto server on the loopback interface
        return response.read()


def test_upload_analysis_predict_export_and_delete_keep_every_file_in_the_bucket(people, worker, client_for, settings):
    import openpyxl
    import pandas as pd

    from datasets.models import Dataset
    from exports.models import Export
    from segments.engine import generate_synthetic
    from segments.models import Analysis
    from segsaas import storage

    assert settings.STORAGE_BACKEND == "s3" and storage.is_remote()
    settings.DATASETS_INLINE_MAX_BYTES = 10_000  # the upload is converted and profiled by the worker
    settings.EXPORT_SYNC_MAX_CUSTOMERS = 100  # the workbook is built by the worker
    client = client_for(people.alice, people.acme)

    # Upload: the web process streams the file into the bucket; the worker reads it from there and writes the Parquet.
    frame = generate_synthetic(rows=1_500, seed=5, include_churn_label=True)
    csv = frame.to_csv(index=False).encode()
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = client.post("/api/v1/datasets/", {"file": SimpleUploadedFile("crm.csv", csv), "name": "CRM"})
    assert response.status_code == 201, response.content
    dataset = Dataset.objects.for_organization(people.acme).get(pk=response.json()["id"])
    assert dataset.job is not None and dataset.job.kind == "datasets.import"
    assert wait_for_job(dataset.job).status == "succeeded", dataset.job.error
    dataset.refresh_from_db()
    assert dataset.status == "ready" and dataset.row_count == 1_500
    prefix = f"org-{people.acme.pk}/datasets/{dataset.storage_key}"
    assert [str(p) for p in stored_files(people.acme)] == [f"{prefix}/data.parquet", f"{prefix}/original.csv"]
    original = client.get(f"/datasets/{dataset.pk}/original/")
    assert original.status_code == 302 and _fetch(original["Location"]) == csv

    # Analysis in the worker: model, per-customer table and chart sample go to the bucket.
    response = client.post(
        "/api/v1/analyses/",
        {"dataset": dataset.pk, "n_clusters": 3, "nlp": False},
        content_type="application/json",
    )
    assert response.status_code == 202, response.content
    analysis = Analysis.objects.for_organization(people.acme).get(pk=response.json()["id"])
    assert wait_for_job(analysis.job).status == "succeeded", analysis.job.error
    analysis.refresh_from_db()
    names = {p.name for p in stored_files(people.acme)}
    assert {"model.joblib", "customers.parquet", "chart_sample.parquet"} <= names
    assert len(storage.read_parquet(analysis.customers_file)) == 1_500

    # Predict loads the fitted model from the bucket.
    record = {k: v for k, v in frame.drop(columns=["churned"]).iloc[0].items() if not pd.isna(v)}
    record = {k: (v.isoformat()[:10] if hasattr(v, "isoformat") else v) for k, v in record.items()}
    scored = client.post(
        f"/api/v1/analyses/{analysis.pk}/predict/", {"record": record}, content_type="application/json"
    )
    assert scored.status_code == 200, scored.content

    # The customers CSV streams from the bucket a row group at a time.
    download = client.get(f"/reports/analyses/{analysis.pk}/download/?format=csv")
    assert download.status_code == 200
    lines = b"".join(download.streaming_content).decode("utf-8-sig").strip().splitlines()
    assert len(lines) == 1_501

    # A workbook built by the worker into the bucket, downloaded through a short-lived signed URL.
    response = client.get(f"/reports/analyses/{analysis.pk}/download/?format=xlsx")
    assert response.status_code == 302
    export = Export.objects.for_organization(people.acme).get(analysis=analysis, format="xlsx")
    assert wait_for_job(export.job).status == "succeeded", export.job.error
    export.refresh_from_db()
    assert export.file.startswith(f"{prefix}/analyses/{analysis.pk}/exports/{export.pk}/") and export.size > 0
    served = client.get(f"/reports/exports/{export.pk}/file/")
    assert served.status_code == 302
    book = openpyxl.load_workbook(io.BytesIO(_fetch(served["Location"])), read_only=True)
    assert len(list(book["Customers"].iter_rows(min_row=2))) == 1_500
    assert _nothing_under_media_root()

    # Deleting the dataset removes every object under it (analyses and exports included).
    response = client.delete(f"/api/v1/datasets/{dataset.pk}/")
    assert response.status_code == 204
    assert stored_files(people.acme) == []

    # Deleting an organization removes all of its objects, and only its own.
    from accounts.models import Organization
    from datasets.services import dataset_create_synthetic

    dataset_create_synthetic(organization=people.globex, created_by=people.charlie, rows=500, seed=1, background=False)
    kept = dataset_create_synthetic(
        organization=people.acme, created_by=people.alice, rows=500, seed=2, background=False
    )
    assert len(stored_files(people.globex)) == 1 and len(stored_files(people.acme)) == 1
    Organization.objects.get(pk=people.globex.pk).delete()
    assert stored_files(people.globex) == []
    assert [p.name for p in stored_files(people.acme)] == ["data.parquet"] and kept.data_file
    assert _nothing_under_media_root()
