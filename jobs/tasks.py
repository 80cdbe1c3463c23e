"""The Celery tasks: thin wrappers around `jobs.services`."""

from celery import shared_task


@shared_task(name="jobs.tasks.run_job")
def run_job(job_id: int) -> str:
    from jobs.services import job_execute

    return job_execute(job_id)


@shared_task(name="jobs.tasks.sweep_jobs")
def sweep_jobs() -> dict:
    from jobs.services import jobs_sweep

    return jobs_sweep()
