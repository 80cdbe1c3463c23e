"""The analysis job: load the analysis named by the job, run it through the service, report."""

from jobs.services import JobError, register
from segments.services import JOB_KIND, analysis_memory_mb, analysis_on_job_fail


def _on_fail(job) -> None:
    """Clean up after the run, then tell whoever listens (webhooks)."""
    from monitoring.services import on_analysis_failed
    from segments.models import Analysis

    analysis_on_job_fail(job)
    analysis = Analysis.objects.for_organization(job.organization).filter(pk=(job.params or {}).get("analysis_id"))
    analysis = analysis.select_related("dataset", "dataset_version").first()
    if analysis is not None:
        reason = job.error or ("Cancelled." if job.status == "cancelled" else "The run failed.")
        on_analysis_failed(analysis, reason)


@register(JOB_KIND, on_fail=_on_fail, weight="heavy", memory_mb=analysis_memory_mb)
def run_analysis(ctx) -> dict:
    from segments.models import Analysis
    from segments.services import analysis_execute

    analysis_id = (ctx.job.params or {}).get("analysis_id")
    analysis = (
        Analysis.objects.for_organization(ctx.organization)
        .select_related("dataset", "organization")
        .filter(pk=analysis_id)
        .first()
    )
    if analysis is None:
        raise JobError("This analysis was deleted before it could run.")
    if analysis.dataset.status != "ready":
        raise JobError(f"Dataset “{analysis.dataset.name}” is not ready (status: {analysis.dataset.status}).")
    outcome = analysis_execute(analysis=analysis, progress=ctx.progress, engine=(ctx.job.params or {}).get("engine"))
    if not outcome.get("deleted"):
        from monitoring.services import on_analysis_succeeded

        analysis.refresh_from_db()
        on_analysis_succeeded(analysis)
    return outcome
