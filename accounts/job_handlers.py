"""The organization archive job: every dataset, analysis, export and the audit log in one ZIP, with progress."""

from accounts.leaving import ARCHIVE_JOB_KIND
from jobs.services import register


@register(ARCHIVE_JOB_KIND, weight="heavy")  # a full copy of the organization: never in front of light jobs
def build_organization_archive(ctx) -> dict:
    from accounts.leaving import organization_archive_build

    ctx.progress("Starting the archive", 1)
    return organization_archive_build(organization=ctx.organization, job=ctx.job, progress=ctx.progress)
