"""Helpers for dataset tests: files stored for an organization, uploads through the page, waiting for jobs."""

import io
import time
from pathlib import Path

import pytest


def stored_files(org) -> list[Path]:
    """Every file under the organization's part of MEDIA_ROOT."""
    from django.conf import settings

    root = Path(settings.MEDIA_ROOT) / f"org-{org.pk}"
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def dataset_count(org) -> int:
    from datasets.models import Dataset

    return Dataset.objects.for_organization(org).count()


def as_file(content: bytes, name: str = "upload.csv"):
    fh = io.BytesIO(content)
    fh.name = name
    return fh


def wait_for_job(job, timeout=120):
    from jobs.models import FINISHED_STATUSES

    deadline = time.time() + timeout
    while time.time() < deadline:
        job.refresh_from_db()
        if job.status in FINISHED_STATUSES:
            return job
        time.sleep(0.25)
    raise AssertionError(f"job {job.pk} still {job.status} at {job.stage} after {timeout}s")


@pytest.fixture
def upload(people):
    """Upload bytes as Acme through the service (the page, API and command call the same one)."""
    from datasets.services import dataset_create_from_upload

    def do(content: bytes, filename: str = "customers.csv", org=None, **kwargs):
        return dataset_create_from_upload(
            organization=org or people.acme, uploaded_by=people.alice, file=as_file(content, filename),
            filename=filename, **kwargs,
        )

    return do


@pytest.fixture(autouse=True)
def clean_media():
    """Organization ids repeat between tests (rolled-back transactions), so start each test with no stored files."""
    import shutil

    from django.conf import settings

    root = Path(settings.MEDIA_ROOT)
    for org_dir in root.glob("org-*"):
        shutil.rmtree(org_dir, ignore_errors=True)
    yield
