"""Fixtures for exports: finished analyses made in-process (the analyses app's own run service, no worker),
and the engine's result on a small synthetic table for the pure writers."""

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
    log = Path(os.environ.get("SEGSAAS_TEST_TMP", "/nonexistent")) / "worker.log"
    tail = log.read_text()[-3000:] if log.exists() else ""
    raise AssertionError(f"job {job.pk} still {job.status} at {job.stage} after {timeout}s; worker log:\n{tail}")


def _finish(analysis):
    """Run the analysis through segments.services.analysis_execute here, and mark its job succeeded."""
    from jobs.models import Job
    from segments.services import analysis_execute

    analysis_execute(analysis=analysis, progress=lambda stage, pct: None)
    job = Job.objects.for_organization(analysis.organization).create(
        kind="analysis.run", params={"analysis_id": analysis.pk}, status="succeeded", progress=100, stage="Done",
    )
    analysis.job = job
    analysis.save(update_fields=["job"])
    analysis.refresh_from_db()
    return analysis


@pytest.fixture
def finished_analysis():
    """finished_analysis(org, user, rows=600, name=..., frame=None): a succeeded analysis with stored results.
    `frame`: upload this DataFrame as CSV (e.g. with hostile customer ids) instead of a synthetic dataset."""

    def make(org, user, rows=600, seed=7, name="Spring customers", frame=None, n_clusters=4):
        from segments.models import Analysis
        from segments.services import analysis_default_config, validate_config

        if frame is None:
            from datasets.services import dataset_create_synthetic

            dataset = dataset_create_synthetic(organization=org, created_by=user, rows=rows, seed=seed, background=False)
        else:
            import io

            from datasets.services import dataset_create_from_upload

            raw = io.BytesIO(frame.to_csv(index=False).encode())
            dataset = dataset_create_from_upload(organization=org, uploaded_by=user, file=raw, filename="crm.csv",
                                                 background=False)
        config = analysis_default_config(dataset)
        config.update({"n_clusters": n_clusters, "nlp": False})
        analysis = Analysis.objects.for_organization(org).create(
            dataset=dataset, name=name, config=validate_config(config), created_by=user
        )
        return _finish(analysis)

    return make


@pytest.fixture(scope="session")
def engine_result():
    """The engine's result for 800 synthetic customers (fixed k: quick), computed once per test run."""
    from segments.engine import AnalysisConfig, analyze, generate_synthetic

    frame = generate_synthetic(rows=800, seed=11)
    return analyze(frame, AnalysisConfig.from_dict({"n_clusters": 4}))
