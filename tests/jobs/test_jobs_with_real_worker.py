"""The one job mechanism, with a real Celery worker process on the configured broker."""

import time

from django.utils import timezone
from helpers import wait_for_job

from jobs.models import Job
from jobs.services import job_cancel, job_create, jobs_sweep


def test_a_job_runs_in_the_worker_and_reports_progress(people, worker):
    job = job_create(organization=people.acme, kind="test.sleep", params={"steps": 5}, created_by=people.alice)
    job = wait_for_job(job)
    assert job.status == "succeeded", job.error
    assert job.progress == 100 and job.stage == "Done"
    assert job.result == {"slept_steps": 5}
    assert job.started_at and job.finished_at and job.attempts == 1


def test_a_failing_job_keeps_the_users_message_not_a_traceback(people, worker):
    job = wait_for_job(job_create(organization=people.acme, kind="test.fail"))
    assert job.status == "failed"
    assert job.error == "column 'spend': the test asked this job to fail"
    crashed = wait_for_job(job_create(organization=people.acme, kind="test.crash"))
    assert crashed.status == "failed"
    assert "ZeroDivisionError" in crashed.error and "Traceback" not in crashed.error


def test_a_running_job_can_be_cancelled(people, worker):
    job = job_create(organization=people.acme, kind="test.sleep", params={"steps": 200, "step_seconds": 0.05})
    deadline = time.time() + 30
    while time.time() < deadline:
        job.refresh_from_db()
        if job.status == "running" and job.progress > 0:
            break
        time.sleep(0.1)
    job_cancel(job)
    job = wait_for_job(job)
    assert job.status == "cancelled"
    assert job.progress < 100


def test_jobs_beyond_the_plan_limit_wait_with_a_visible_position(people, worker):
    people.acme.max_concurrent_jobs = 1
    people.acme.save()
    jobs = [
        job_create(organization=people.acme, kind="test.sleep", params={"steps": 8, "step_seconds": 0.1})
        for _ in range(3)
    ]
    time.sleep(0.5)
    for job in jobs:
        job.refresh_from_db()
    positions = [job.queue_position() for job in jobs]
    assert positions[0] is None  # dispatched
    assert positions[1:] == [1, 2]
    # Another organization is not held up by Acme's queue.
    other = job_create(organization=people.globex, kind="test.sleep", params={"steps": 1})
    assert wait_for_job(other, timeout=60).status == "succeeded"
    for job in jobs:
        assert wait_for_job(job).status == "succeeded"


def test_the_sweeper_runs_again_a_job_whose_worker_died_and_fails_it_after_the_last_attempt(people, db, settings):
    people.acme.max_concurrent_jobs = 0  # the re-queued job stays in the outbox (nothing is dispatched)
    people.acme.save()
    stale = timezone.now() - timezone.timedelta(hours=1)
    job = Job.objects.for_organization(people.acme).create(
        kind="test.sleep", status="running", started_at=stale, heartbeat_at=stale, dispatched_at=stale, attempts=1
    )
    result = jobs_sweep()
    job.refresh_from_db()
    assert result["requeued_lost"] == 1 and result["failed_lost"] == 0
    assert job.status == "queued" and job.dispatched_at is None and job.attempts == 1
    assert "attempt 1 of 3" in job.stage

    Job.objects.unscoped().filter(pk=job.pk).update(status="running", attempts=settings.JOB_MAX_ATTEMPTS)
    result = jobs_sweep()
    job.refresh_from_db()
    assert result["failed_lost"] == 1
    assert job.status == "failed" and "tried 3 times" in job.error and "stopped responding" in job.error


def test_a_cancelled_queued_job_never_starts(people, db):
    people.acme.max_concurrent_jobs = 0  # nothing is dispatched
    people.acme.save()
    job = job_create(organization=people.acme, kind="test.sleep")
    job_cancel(job)
    job.refresh_from_db()
    assert job.status == "cancelled"
