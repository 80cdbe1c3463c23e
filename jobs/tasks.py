"""The Celery tasks: thin wrappers around `jobs.services`."""

import logging

from celery import Task, shared_task
from celery.exceptions import TimeLimitExceeded
from celery.signals import worker_ready

log = logging.getLogger(__name__)


class JobTask(Task):
    def on_failure(self, exc, task_id, args, kwargs, einfo):
        # Called in the worker's main process when the pool killed the job at its hard time limit.
        if isinstance(exc, TimeLimitExceeded) and args:
            from jobs.services import job_time_limit_exceeded

            job_time_limit_exceeded(args[0])


@shared_task(name="jobs.tasks.run_job", bind=True, max_retries=5, base=JobTask)
def run_job(self, job_id: int) -> str:
    from jobs.services import JobNotClaimed, job_execute

    try:
        return job_execute(job_id)
    except JobNotClaimed as exc:  # the database refused before the job started: try again shortly
        raise self.retry(exc=exc, countdown=2 * (self.request.retries + 1)) from exc


@shared_task(name="jobs.tasks.sweep_jobs")
def sweep_jobs() -> dict:
    from jobs.services import jobs_sweep

    return jobs_sweep()


@worker_ready.connect
def sweep_when_a_worker_starts(sender=None, **kwargs) -> None:
    """A worker that (re)starts runs again at once the jobs its killed processes left behind on this host."""
    from jobs.services import jobs_sweep

    try:
        log.info("Jobs swept at worker start: %s", jobs_sweep())
    except Exception:  # noqa: BLE001 - the periodic sweep will do it
        log.exception("Sweeping jobs at worker start failed")
