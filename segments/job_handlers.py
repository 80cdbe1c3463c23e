"""The analysis job: load the analysis named by the job, run it through the service, report."""

from jobs.services import JobError, register
from segments.services import JOB_KIND, analysis_memory_mb, analysis_on_job_fail


@register(JOB_KIND, on_fail=analysis_on_job_fail, weight="heavy", memory_mb=analysis_memory_mb)
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
    return analysis_execute(analysis=analysis, progress=ctx.progress)
