"""Large requests run as jobs in the real Celery worker, with progress, and end in a ready dataset."""

import pytest
from helpers import as_file, stored_files, wait_for_job

pytestmark = pytest.mark.worker


def test_a_job_sized_synthetic_request_is_generated_by_the_worker(worker, people, client_for, settings):
    settings.DATASETS_INLINE_MAX_ROWS = 1_000  # so a modest request takes the job path
    client = client_for(people.bob, people.acme)
    response = client.post("/datasets/synthetic/", {"rows": 2_000, "seed": 7, "name": ""})
    assert response.status_code == 302
    from datasets.models import Dataset

    dataset = Dataset.objects.for_organization(people.acme).get()
    assert dataset.status == "processing" and dataset.job is not None
    page = client.get(response["Location"]).content.decode()
    assert 'data-testid="job-progress"' in page
    job = wait_for_job(dataset.job, timeout=120)
    assert job.status == "succeeded", job.error
    assert job.progress == 100.0 and job.kind == "datasets.synthetic"
    dataset.refresh_from_db()
    assert dataset.status == "ready" and dataset.row_count == 2_000 and dataset.column_count == 17
    assert dataset.synthetic_params == {"rows": 2_000, "seed": 7, "include_churn_label": True}
    assert dataset.roles["churned"] == "churn_label" and dataset.roles["customer_id"] == "identifier"
    assert {p.name for p in stored_files(people.acme)} == {"data.parquet"}
    assert 'data-testid="row-count">2,000<' in client.get(response["Location"]).content.decode()


def test_a_large_upload_is_converted_and_profiled_by_the_worker(worker, people, settings):
    settings.DATASETS_INLINE_MAX_BYTES = 1_000
    from datasets.services import dataset_create_from_upload, dataset_read_dataframe

    body = "id;city;spend\n" + "".join(f"{i};Köln;{i},5\n" for i in range(3_000))
    dataset = dataset_create_from_upload(
        organization=people.acme, uploaded_by=people.bob, file=as_file(body.encode("cp1252"), "big.csv")
    )
    assert dataset.status == "processing" and dataset.row_count == 3_000  # counted while validating
    job = wait_for_job(dataset.job, timeout=120)
    assert job.status == "succeeded", job.error
    dataset.refresh_from_db()
    assert dataset.status == "ready" and dataset.encoding == "cp1252" and dataset.delimiter == ";"
    df = dataset_read_dataframe(dataset)
    assert len(df) == 3_000 and df["spend"].iloc[2] == 2.5 and df["city"].iloc[0] == "Köln"
    assert {p.name for p in stored_files(people.acme)} == {"original.csv", "data.parquet"}
