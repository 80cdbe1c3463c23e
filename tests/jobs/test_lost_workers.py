"""Workers that die: a job whose worker is SIGKILLed (the whole process group) runs again by itself on the next live
worker and succeeds once, with one set of results; after the last attempt it fails with the reason. A job delivered
three times runs once. A stale attempt writes nothing. Time limits end a job with a message, never a retry."""

import time

import pytest
from helpers import TMP, start_worker, stop_worker, wait_for_job

pytestmark = pytest.mark.django_db(transaction=True)


def _start(name, private_queues, **env):
    return start_worker(
        name=name,
        log_path=TMP / f"worker-{name}.log",
        queues=private_queues.names,
        env=private_queues.env | {k: str(v) for k, v in env.items()},
    )


def _wait_until(predicate, timeout=120, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _analysis(people, rows):
    from datasets.services import dataset_create_synthetic
    from segments.services import analysis_create, analysis_default_config

    dataset = dataset_create_synthetic(
        organization=people.acme, created_by=people.alice, rows=rows, seed=3, background=False
    )
    config = analysis_default_config(dataset) | {"nlp": False}
    return analysis_create(organization=people.acme, dataset=dataset, config=config, created_by=people.alice)


def _one_result_set(analysis) -> None:
    from segments.models import CustomerResult

    analysis.refresh_from_db()
    rows = CustomerResult.objects.for_organization(analysis.organization).filter(analysis=analysis)
    assert analysis.finished_at is not None and analysis.customers_file
    assert rows.count() == analysis.dataset.row_count
    assert rows.values("customer_id").distinct().count() == analysis.dataset.row_count


def test_an_analysis_whose_worker_is_killed_runs_again_and_succeeds_once(people, private_queues, client_for):
    analysis = _analysis(people, rows=20_000)
    job = analysis.job
    first = _start("lost-a", private_queues)
    try:
        _wait_until(lambda: job.refresh_from_db() or (job.status == "running" and job.progress >= 8), what="progress")
        assert job.status == "running" and job.attempts == 1
    finally:
        stop_worker(first, kill=True)  # SIGKILL to the whole process group, mid-analysis
    job.refresh_from_db()
    assert job.status == "running"  # nobody could record anything

    second = _start("lost-b", private_queues)
    back = time.monotonic()
    try:
        wait_for_job(job, timeout=240)
        recovered_in = time.monotonic() - back
    finally:
        stop_worker(second)
    assert job.status == "succeeded", job.error
    assert job.attempts == 2
    _one_result_set(analysis)
    # The worker that came back took the job at once (its killed processes were on this host), not after the
    # heartbeat timeout; the bound covers the analysis itself on a busy machine.
    assert recovered_in < 120
    body = client_for(people.alice, people.acme).get(f"/jobs/{job.pk}/").json()
    assert body["attempts"] == 2 and body["max_attempts"] == 3 and body["status"] == "succeeded"


def test_a_job_killed_on_every_attempt_fails_after_the_last_with_the_reason(people, private_queues, settings):
    from jobs.services import job_create

    settings.JOB_MAX_ATTEMPTS = 2
    job = job_create(organization=people.acme, kind="test.heavy_sleep", params={"steps": 400, "step_seconds": 0.1})
    for attempt in (1, 2):
        worker = _start(f"doomed-{attempt}", private_queues, JOB_MAX_ATTEMPTS=2)
        try:
            _wait_until(
                lambda a=attempt: job.refresh_from_db() or (job.status == "running" and job.attempts == a),
                what=f"attempt {attempt}",
            )
        finally:
            stop_worker(worker, kill=True)
    last = _start("doomed-3", private_queues, JOB_MAX_ATTEMPTS=2)
    try:
        wait_for_job(job, timeout=60)
    finally:
        stop_worker(last)
    assert job.status == "failed" and job.attempts == 2
    assert "tried 2 times" in job.error and "stopped" in job.error


def test_the_same_analysis_delivered_three_times_runs_once_with_one_result_set(people, worker):
    from django.conf import settings

    from jobs.tasks import run_job

    analysis = _analysis(people, rows=3_000)
    for _ in range(2):  # two more deliveries of the same message, as a broker may redeliver it
        run_job.apply_async(args=[analysis.job_id], queue=settings.JOB_QUEUES["heavy"])
    job = wait_for_job(analysis.job)
    time.sleep(1.0)  # let the duplicates reach the worker and be refused
    job.refresh_from_db()
    assert job.status == "succeeded" and job.attempts == 1
    _one_result_set(analysis)


def test_a_stale_attempt_writes_nothing_once_a_later_attempt_took_over(people, settings):
    from django.utils import timezone

    from jobs.models import Job
    from jobs.services import JobContext, JobSuperseded, _claim, _finish, job_execute, jobs_sweep
    from segments.models import Analysis
    from segments.services import analysis_execute

    people.acme.max_concurrent_jobs = 0  # no broker: this test plays the worker itself
    people.acme.save()
    analysis = _analysis(people, rows=1_500)
    job, _ = _claim(analysis.job_id)
    stale = JobContext(job=job)
    assert stale.attempt == 1
    # Its heartbeat stops (a hung process): the sweeper gives the attempt up and the job runs again.
    Job.objects.unscoped().filter(pk=job.pk).update(heartbeat_at=timezone.now() - timezone.timedelta(hours=1))
    assert jobs_sweep()["requeued_lost"] == 1
    assert job_execute(job.pk) == "succeeded"
    _one_result_set(analysis)
    finished = Analysis.objects.for_organization(people.acme).get(pk=analysis.pk).finished_at

    # The first attempt wakes up: it may neither report, store results nor finish the job.
    with pytest.raises(JobSuperseded):
        analysis_execute(
            analysis=Analysis.objects.for_organization(people.acme).get(pk=analysis.pk), progress=stale.progress
        )
    assert not _finish(job, "failed", stage="Failed", error="stale", attempt=stale.attempt)
    job.refresh_from_db()
    assert job.status == "succeeded" and job.attempts == 2 and job.error == ""
    _one_result_set(analysis)
    assert Analysis.objects.for_organization(people.acme).get(pk=analysis.pk).finished_at == finished


def test_time_limits_fail_the_job_with_the_limit_and_are_not_retried(people, private_queues):
    from jobs.services import job_create

    # The sender writes its task limits into the message: the jobs wait until the worker (with its own limits)
    # starts and sends them itself.
    people.acme.max_concurrent_jobs = 0
    people.acme.save()
    soft = job_create(organization=people.acme, kind="test.heavy_sleep", params={"steps": 100, "step_seconds": 0.1})
    hard = job_create(organization=people.acme, kind="test.stubborn", params={"seconds": 30})
    people.acme.max_concurrent_jobs = 2
    people.acme.save()
    worker = _start("limits", private_queues, CELERY_TASK_SOFT_TIME_LIMIT=2, CELERY_TASK_TIME_LIMIT=4)
    try:
        wait_for_job(soft, timeout=60)
        wait_for_job(hard, timeout=60)
        time.sleep(1)
    finally:
        stop_worker(worker)
    for job in (soft, hard):
        job.refresh_from_db()
        assert job.status == "failed" and job.attempts == 1, (job.kind, job.status, job.error)
        assert "ran longer than the limit of 2 seconds" in job.error


def test_a_long_step_without_progress_keeps_its_heartbeat_and_is_not_taken_for_lost(people, private_queues):
    from jobs.services import job_create

    job = job_create(organization=people.acme, kind="test.silent", params={"seconds": 6})
    worker = _start("silent", private_queues, JOB_HEARTBEAT_INTERVAL=0.5)
    try:
        _wait_until(lambda: job.refresh_from_db() or job.status == "running", what="start")
        first = job.heartbeat_at
        time.sleep(3)
        job.refresh_from_db()
        assert job.heartbeat_at > first and job.stage == "One long step"  # beaten while the step runs
        wait_for_job(job, timeout=60)
    finally:
        stop_worker(worker)
    assert job.status == "succeeded" and job.attempts == 1
