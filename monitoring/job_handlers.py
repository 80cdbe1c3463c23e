"""The drift job: after a new version of a dataset, compare its columns with the version before."""

from jobs.services import JobError, register
from monitoring.services import DRIFT_JOB_KIND


@register(DRIFT_JOB_KIND, weight="heavy")  # reads two versions of the table
def version_drift(ctx) -> dict:
    from datasets.models import DatasetVersion
    from monitoring.services import drift_for_version

    version = (
        DatasetVersion.objects.for_organization(ctx.organization)
        .select_related("dataset")
        .filter(pk=ctx.job.params.get("version_id"))
        .first()
    )
    if version is None:
        raise JobError("The dataset version was deleted before it could be compared.")
    report = drift_for_version(version, progress=ctx.progress)
    if report is None:
        return {"version": version.number, "compared": False}
    return {"version": version.number, "level": report.level, "alert": report.alert, "report": report.pk}
