"""The Celery tasks: thin wrappers around `jobs.services`."""

from celery import shared_task


@shared_task(name="jobs.tasks.run_job", bind=True, max_retries=5)
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
