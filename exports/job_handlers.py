"""The export job: build one export's file (a large workbook) in the worker, with progress."""

from exports.services import JOB_KIND, export_on_job_fail
from jobs.services import JobError, register


@register(JOB_KIND, on_fail=export_on_job_fail)
def build_export(ctx) -> dict:
    from exports.models import Export
    from exports.services import export_build

    export_id = (ctx.job.params or {}).get("export_id")
    export = (
        Export.objects.for_organization(ctx.organization)
        .select_related("analysis", "analysis__dataset", "organization")
        .filter(pk=export_id)
        .first()
    )
    if export is None:
        raise JobError("This export was deleted before it could be built.")
    if not export.analysis.is_ready:
        raise JobError(f"Analysis “{export.analysis.name}” has no results to export.")
    ctx.progress("Starting the export", 1)
    export = export_build(export=export, progress=ctx.progress)
    ctx.progress("Done", 100)
    return {"export_id": export.pk, "size": export.size, "file_name": export.file_name}
