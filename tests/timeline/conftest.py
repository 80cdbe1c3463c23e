"""Fixtures for segments over time: customer tables with three well-separated groups whose moves between two
months are known, uploads and new versions through the services, and analyses run in-process (the worker's
code path, no mocks)."""

from pathlib import Path

import pytest
from helpers import as_file
from timeline_data import csv_bytes


@pytest.fixture
def months():
    """Month 1: 60 low, 50 mid, 40 high (ids C0000...). Month 2: 12 low -> mid, 7 mid -> high, 5 high -> low,
    10 low customers gone, 8 new mid customers. Returns (month1, month2, expected moves)."""
    ids = [f"C{i:04d}" for i in range(150)]
    first = {cid: "low" for cid in ids[:60]} | {cid: "mid" for cid in ids[60:110]} | {cid: "high" for cid in ids[110:]}
    second = dict(first)
    for cid in ids[:12]:
        second[cid] = "mid"
    for cid in ids[60:67]:
        second[cid] = "high"
    for cid in ids[110:115]:
        second[cid] = "low"
    for cid in ids[50:60]:
        del second[cid]
    for i in range(8):
        second[f"N{i:04d}"] = "mid"
    expected = {
        ("low", "low"): 60 - 12 - 10,
        ("low", "mid"): 12,
        ("mid", "mid"): 50 - 7,
        ("mid", "high"): 7,
        ("high", "high"): 40 - 5,
        ("high", "low"): 5,
    }
    return first, second, expected


@pytest.fixture
def upload_frame(people):
    """Upload a DataFrame as a new Acme dataset through the upload service."""
    from datasets.services import dataset_create_from_upload

    def do(frame, name="Monthly customers", org=None):
        return dataset_create_from_upload(
            organization=org or people.acme,
            uploaded_by=people.alice,
            file=as_file(csv_bytes(frame), "month-1.csv"),
            filename="month-1.csv",
            name=name,
            background=False,
        )

    return do


@pytest.fixture
def add_version(people):
    from datasets.services import dataset_add_version

    def do(dataset, frame, filename="month-2.csv", **kwargs):
        return dataset_add_version(
            dataset=dataset,
            file=as_file(csv_bytes(frame), filename),
            filename=filename,
            uploaded_by=people.alice,
            **kwargs,
        )

    return do


def run_in_process(analysis):
    """Run a queued analysis's job here (the worker's code path) and reload it."""
    from jobs.services import job_execute
    from segments.models import Analysis

    outcome = job_execute(analysis.job_id)
    analysis = Analysis.objects.for_organization(analysis.organization).select_related("job").get(pk=analysis.pk)
    assert outcome == "succeeded", analysis.job.error
    return analysis


@pytest.fixture
def first_run(people):
    """A finished k=3 analysis of a dataset (its latest version)."""
    from segments.services import analysis_create, analysis_default_config

    def do(dataset, **config):
        analysis = analysis_create(
            organization=dataset.organization,
            dataset=dataset,
            config={**analysis_default_config(dataset), "n_clusters": 3, "nlp": False, **config},
            created_by=people.alice,
        )
        return run_in_process(analysis)

    return do


@pytest.fixture
def rerun(people):
    """Re-run an analysis on the latest version through the service, run it here."""
    from segments.services import analysis_rerun

    def do(analysis):
        return run_in_process(analysis_rerun(analysis=analysis, created_by=people.alice))

    return do


@pytest.fixture(autouse=True)
def clean_media():
    import shutil

    from django.conf import settings

    for org_dir in Path(settings.MEDIA_ROOT).glob("org-*"):
        shutil.rmtree(org_dir, ignore_errors=True)
    yield


@pytest.fixture
def partner(people):
    """`partner(org=None, scopes=...)`: a test client that sends a new API key of that organization."""
    from django.test import Client

    from accounts.services import api_key_create

    def make(org=None, scopes=("read", "write", "predict", "export")):
        key = api_key_create(
            organization=org or people.acme, name="Partner", scopes=list(scopes), created_by=people.alice
        )[1]
        return Client(HTTP_AUTHORIZATION=f"Bearer {key}")

    return make
