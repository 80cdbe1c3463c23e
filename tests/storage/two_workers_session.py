"""Two worker hosts sharing only the database, the broker and the bucket. Not collected by the main run (the file
name does not start with `test_`): `test_two_workers.py` runs it in a pytest session of its own whose settings come
from the environment (`STORAGE_BACKEND=s3`, a bucket on the suite's moto server). This process plays the web
server; each worker is a real Celery process with its own MEDIA_ROOT and STORAGE_SCRATCH_DIR (as on another
machine), and both directories must stay empty: everything a worker reads or writes is in the bucket."""

import os
from pathlib import Path

import pytest
from helpers import TMP, start_worker, stop_worker, wait_for_job

pytestmark = [pytest.mark.worker]


def _files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def _runs_in(proc, job) -> bool:
    """The job's attempt ran in a pool process of this worker (its process group, started in a session of its own)."""
    pid = int(job.worker.rpartition(":")[2])
    try:
        return os.getpgid(pid) == proc.pid
    except ProcessLookupError:
        return False


def _start(name: str):
    root = TMP / name
    env = {"MEDIA_ROOT": str(root / "media"), "STORAGE_SCRATCH_DIR": str(root / "scratch")}
    (root / "scratch").mkdir(parents=True, exist_ok=True)
    return start_worker(name=name, log_path=TMP / f"{name}.log", concurrency=1, env=env), root


def test_a_dataset_uploaded_through_the_web_is_analysed_by_whichever_worker_takes_it(
    people, client_for, transactional_db, settings
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from datasets.models import Dataset
    from segments.engine import generate_synthetic
    from segments.models import Analysis, CustomerResult
    from segsaas import storage

    assert settings.STORAGE_BACKEND == "s3" and storage.is_remote()
    settings.DATASETS_INLINE_MAX_BYTES = 10_000  # the upload is converted by a worker, from the bucket
    client = client_for(people.alice, people.acme)
    csv = generate_synthetic(rows=1_200, seed=4).to_csv(index=False).encode()

    first, first_root = _start("host-a")
    try:
        response = client.post("/api/v1/datasets/", {"file": SimpleUploadedFile("crm.csv", csv), "name": "CRM"})
        assert response.status_code == 201, response.content
        dataset = Dataset.objects.for_organization(people.acme).get(pk=response.json()["id"])
        assert wait_for_job(dataset.job).status == "succeeded", dataset.job.error
        assert _runs_in(first, dataset.job)
        runs = []
        response = client.post(
            "/api/v1/analyses/", {"dataset": dataset.pk, "n_clusters": 3, "nlp": False}, content_type="application/json"
        )
        assert response.status_code == 202, response.content
        runs.append(Analysis.objects.for_organization(people.acme).get(pk=response.json()["id"]))
        assert wait_for_job(runs[0].job).status == "succeeded", runs[0].job.error
        assert _runs_in(first, runs[0].job)
    finally:
        stop_worker(first)

    # The first host is gone; the second, with other directories, takes the next analysis of the same upload.
    second, second_root = _start("host-b")
    try:
        response = client.post(
            "/api/v1/analyses/", {"dataset": dataset.pk, "n_clusters": 3, "nlp": False}, content_type="application/json"
        )
        assert response.status_code == 202, response.content
        runs.append(Analysis.objects.for_organization(people.acme).get(pk=response.json()["id"]))
        assert wait_for_job(runs[1].job).status == "succeeded", runs[1].job.error
        assert _runs_in(second, runs[1].job)
    finally:
        stop_worker(second)

    assert runs[0].job.worker != runs[1].job.worker
    for run in runs:
        run.refresh_from_db()
        assert run.customer_count == 1_200
        assert CustomerResult.objects.for_organization(people.acme).filter(analysis=run).count() == 1_200
        assert storage.exists(run.customers_file) and storage.exists(run.model_file)
    # the same table and settings: the same segments, whichever host ran it
    assert [p["name"] for p in runs[0].profiles] == [p["name"] for p in runs[1].profiles]
    a = storage.read_parquet(runs[0].customers_file, columns=["segment"])["segment"].tolist()
    b = storage.read_parquet(runs[1].customers_file, columns=["segment"])["segment"].tolist()
    assert a == b
    page = client.get(f"/analyses/{runs[1].pk}/")
    assert page.status_code == 200 and runs[1].profiles[0]["name"] in page.content.decode()
    # nothing on either host's disk: no media, no scratch copy left behind
    for root in (first_root, second_root):
        assert _files(root / "media") == [] and _files(root / "scratch") == [], root
    assert _files(Path(settings.MEDIA_ROOT)) == []
