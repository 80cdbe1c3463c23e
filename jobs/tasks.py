"""The Celery tasks: thin wrappers around `jobs.services`."""

from celery import shared_task
from django.db import OperationalError


# A database that is briefly unreachable or locked before the job could even be marked running: try again
# shortly rather than leave the job queued until the sweeper re-sends it.
@shared_task(
    name="jobs.tasks.run_job", autoretry_for=(OperationalError,), max_retries=5, retry_backoff=2, retry_jitter=True
)
def run_job(job_id: int) -> str:
    from jobs.services import job_execute

    return job_execute(job_id)


@shared_task(name="jobs.tasks.sweep_jobs")
def sweep_jobs() -> dict:
    from jobs.services import jobs_sweep

    return jobs_sweep()
