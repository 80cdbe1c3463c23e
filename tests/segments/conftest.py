"""Fixtures for analyses: small synthetic datasets (made inline, no worker needed) and a helper
that queues an analysis through the service and waits for the real worker to finish it."""

import os
import time
from pathlib import Path

import pytest


def wait_for_job(job, timeout=180):
    """Poll the job row (the source of truth) until it finishes (the shared conftest's pattern)."""
    from jobs.models import FINISHED_STATUSES

    deadline = time.time() + timeout
    while time.time() < deadline:
        job.refresh_from_db()
        if job.status in FINISHED_STATUSES:
            return job
        time.sleep(0.25)
    tmp = os.environ.get("SEGSAAS_TEST_TMP") or str(Path(os.environ.get("CELERY_BROKER_DIR", "/nonexistent")).parent)
    log = Path(tmp) / "worker.log"
    tail = log.read_text()[-3000:] if log.exists() else ""
    raise AssertionError(f"job {job.pk} still {job.status} at {job.stage} after {timeout}s; worker log:\n{tail}")


@pytest.fixture
def make_dataset():
    def make(org, user, rows=2_000, seed=7, name=None):
        from datasets.services import dataset_create_synthetic

        return dataset_create_synthetic(organization=org, created_by=user, rows=rows, seed=seed, name=name,
                                        background=False)

    return make


@pytest.fixture
def run_analysis():
    """Queue an analysis (fixed k keeps it quick) and wait for the worker."""
    def run(dataset, user, wait=True, timeout=180, **config):
        from segments.services import analysis_create, analysis_default_config

        cfg = analysis_default_config(dataset)
        cfg.update({"n_clusters": 4, "nlp": False})
        cfg.update(config)
        analysis = analysis_create(organization=dataset.organization, dataset=dataset, config=cfg,
                                   name=config.pop("name", "") if "name" in config else "", created_by=user)
        if wait:
            wait_for_job(analysis.job, timeout=timeout)
            analysis.refresh_from_db()
        return analysis

    return run


@pytest.fixture
def finished_analysis(make_dataset):
    """An analysis run in this process through the job's own entry point (no worker needed): for page tests."""

    def make(org, user, rows=1_500, **config):
        from jobs.services import job_execute
        from segments.services import analysis_create, analysis_default_config

        dataset = make_dataset(org, user, rows=rows)
        cfg = analysis_default_config(dataset) | {"n_clusters": 4, "nlp": False} | config
        analysis = analysis_create(organization=org, dataset=dataset, config=cfg, name="", created_by=user)
        assert job_execute(analysis.job_id) == "succeeded"
        analysis.refresh_from_db()
        analysis.job.refresh_from_db()
        return analysis

    return make
