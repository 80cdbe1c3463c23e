"""A job whose claim the database refuses (locked, unreachable) has not run: the task retries it, and nothing
else (a database error after the handler ran) makes the task run a job twice."""

import pytest
from django.db import OperationalError

pytestmark = pytest.mark.django_db


def test_a_refused_claim_is_retried_and_nothing_ran(people, monkeypatch):
    from celery.exceptions import Retry

    from jobs import services
    from jobs.services import job_create
    from jobs.tasks import run_job

    job = job_create(
        organization=people.acme, kind="test.sleep", params={"steps": 1, "step_seconds": 0}, created_by=people.alice
    )

    def locked(job_id):
        raise OperationalError("database is locked")

    monkeypatch.setattr(services, "_claim", locked)
    with pytest.raises(Retry):
        run_job.apply(args=[job.pk], throw=True)
    job.refresh_from_db()
    assert job.status == "queued" and job.attempts == 0


def test_an_error_after_the_handler_ran_is_not_retried(people, monkeypatch):
    from jobs import services
    from jobs.services import job_create
    from jobs.tasks import run_job

    job = job_create(
        organization=people.acme, kind="test.sleep", params={"steps": 1, "step_seconds": 0}, created_by=people.alice
    )

    def broken_finish(*args, **kwargs):
        raise OperationalError("connection lost")

    monkeypatch.setattr(services, "_finish", broken_finish)
    result = run_job.apply(args=[job.pk])
    assert result.failed() and isinstance(result.result, OperationalError)  # surfaced, not retried
    job.refresh_from_db()
    assert job.attempts == 1
