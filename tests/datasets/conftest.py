"""Fixtures for dataset tests: uploads through the service, a clean media directory."""

from pathlib import Path

import pytest
from helpers import as_file


@pytest.fixture
def upload(people):
    """Upload bytes as Acme through the service (the page, API and command call the same one)."""
    from datasets.services import dataset_create_from_upload

    def do(content: bytes, filename: str = "customers.csv", org=None, **kwargs):
        return dataset_create_from_upload(
            organization=org or people.acme,
            uploaded_by=people.alice,
            file=as_file(content, filename),
            filename=filename,
            **kwargs,
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
