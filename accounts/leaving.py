"""Leaving: an owner takes everything the organization holds out as one archive, deletes the organization with a
grace period in which it can be restored, after which it is purged (every row, every file); a person deletes their
own account.

Services like the rest of `accounts.services`: keyword-only, used by the pages, the API, the job handler
(`accounts/job_handlers.py`) and the `purge_organizations` command / periodic task.
"""

from __future__ import annotations

import json
import zipfile
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from accounts.models import Membership, Organization, User
from accounts.permissions import Role
from accounts.services import AccountsError, audit

ARCHIVE_JOB_KIND = "organization.archive"
_STORED_AS_IS = (".parquet", ".gz", ".xlsx", ".pdf", ".png", ".jpg", ".zip", ".joblib")


# --- the archive ---------------------------------------------------------------------------------------------------


def organization_archive_start(*, organization: Organization, actor):
    """Queue the job that builds the archive (one at a time: an archive being built is returned instead)."""
    from jobs.models import ACTIVE_STATUSES, Job
    from jobs.services import job_create

    running = (
        Job.objects.for_organization(organization).filter(kind=ARCHIVE_JOB_KIND, status__in=ACTIVE_STATUSES).first()
    )
    if running is not None:
        return running
    job = job_create(organization=organization, kind=ARCHIVE_JOB_KIND, params={}, created_by=actor)
    audit(organization=organization, action="organization.archive_requested", actor=actor, target=organization.name)
    return job


def archive_jobs(*, organization):
    from jobs.models import Job

    return Job.objects.for_organization(organization).filter(kind=ARCHIVE_JOB_KIND).order_by("-created_at")


def _archive_dir(organization) -> str:
    from datasets.storage import organization_dir

    return f"{organization_dir(organization.pk)}/archives"


def _slug(text: str, pk) -> str:
    return f"{pk}-{slugify(text)[:50] or 'unnamed'}"


def _write_json(zf: zipfile.ZipFile, name: str, document) -> None:
    zf.writestr(name, json.dumps(document, indent=2, ensure_ascii=False, default=str))


def _copy_stored(zf: zipfile.ZipFile, source: str, name: str) -> int:
    from segsaas import storage

    compress = zipfile.ZIP_STORED if name.endswith(_STORED_AS_IS) else zipfile.ZIP_DEFLATED
    info = zipfile.ZipInfo(name, date_time=timezone.now().timetuple()[:6])
    info.compress_type = compress
    copied = 0
    with storage.open(source) as src, zf.open(info, "w", force_zip64=True) as dst:
        while chunk := src.read(1024 * 1024):
            dst.write(chunk)
            copied += len(chunk)
    return copied


def organization_archive_build(*, organization: Organization, job, progress) -> dict:
    """Write the ZIP of everything the organization holds: its settings, members, invitations and API keys
    (no secrets), every dataset (original upload, normalised table, profile and roles), every analysis (settings,
    metrics, segment profiles, per-customer results as CSV, model and result files), every built export, the
    logo and the audit log. Stored through `segsaas.storage`; returns the job's result."""
    from accounts.models import AuditEvent, Invitation, OrganizationAPIKey
    from accounts.selectors import audit_csv_rows, audit_events
    from datasets.models import Dataset
    from datasets.storage import dataset_dir, organization_dir
    from segments.models import Analysis
    from segsaas import storage

    now = timezone.now()
    # named after the organization's name of today (its slug keeps the sign-up's name after a rename)
    file_name = f"{slugify(organization.name)[:60] or organization.slug}-archive-{now:%Y%m%d-%H%M}.zip"
    path = f"{_archive_dir(organization)}/{job.pk}/{file_name}"
    covered: set[str] = set()
    datasets = list(Dataset.objects.for_organization(organization).order_by("pk"))
    analyses = list(Analysis.objects.for_organization(organization).select_related("dataset").order_by("pk"))
    steps = max(1, len(datasets) + len(analyses))
    done = 0
    with storage.local_target(path) as target, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
        progress("Writing the organization's settings and members", 2)
        _write_json(
            zf,
            "organization.json",
            {
                "name": organization.name,
                "slug": organization.slug,
                "created_at": organization.created_at,
                "currency": organization.currency,
                "report_colours": [organization.report_primary_colour, organization.report_accent_colour],
                "plan_limits": {
                    "max_upload_bytes": organization.max_upload_bytes,
                    "max_rows": organization.max_rows,
                    "max_columns": organization.max_columns,
                    "max_concurrent_jobs": organization.max_concurrent_jobs,
                },
                "members": [
                    {"email": m.user.email, "role": m.role, "joined": m.created_at}
                    for m in Membership.objects.for_organization(organization).select_related("user")
                ],
                "invitations": [
                    {"email": i.email, "role": i.role, "created_at": i.created_at, "accepted_at": i.accepted_at}
                    for i in Invitation.objects.for_organization(organization)
                ],
                "api_keys": [
                    {"name": k.name, "prefix": k.prefix, "scopes": k.scopes, "created": k.created, "revoked": k.revoked}
                    for k in OrganizationAPIKey.objects.for_organization(organization)
                ],
                "archived_at": now,
            },
        )
        for dataset in datasets:
            folder = f"datasets/{_slug(dataset.name, dataset.pk)}"
            _write_json(
                zf,
                f"{folder}/dataset.json",
                {
                    "id": dataset.pk,
                    "name": dataset.name,
                    "source": dataset.source,
                    "status": dataset.status,
                    "original_filename": dataset.original_filename,
                    "rows": dataset.row_count,
                    "columns": dataset.column_count,
                    "schema": dataset.schema,
                    "roles": dataset.roles,
                    "behaviour_roles": dataset.behaviour_roles,
                    "profile": dataset.profile,
                    "created_at": getattr(dataset, "created_at", None),
                },
            )
            base = dataset_dir(dataset)
            for name in storage.list_tree(base):
                if "/analyses/" in name[len(base) :]:
                    continue  # with its analysis below
                _copy_stored(zf, name, f"{folder}/{name[len(base) + 1 :]}")
                covered.add(name)
            done += 1
            progress(f"Dataset “{dataset.name}”", 5 + 85 * done / steps)
        for analysis in analyses:
            folder = f"analyses/{_slug(analysis.name, analysis.pk)}"
            _write_json(
                zf,
                f"{folder}/analysis.json",
                {
                    "id": analysis.pk,
                    "name": analysis.name,
                    "dataset": {"id": analysis.dataset_id, "name": analysis.dataset.name},
                    "status": analysis.status,
                    "created_at": analysis.created_at,
                    "finished_at": analysis.finished_at,
                    "settings": analysis.config,
                    "customer_count": analysis.customer_count,
                    "currency": organization.currency,
                    "segments": analysis.profiles,
                    "metrics": analysis.metrics,
                },
            )
            if analysis.customers_file and storage.exists(analysis.customers_file):
                from exports.csv_export import csv_chunks
                from exports.sources import iter_customer_batches, open_customers_file

                with (
                    open_customers_file(analysis) as fh,
                    zf.open(f"{folder}/customers.csv", "w", force_zip64=True) as out,
                ):
                    for chunk in csv_chunks(iter_customer_batches(fh, currency=organization.currency)):
                        out.write(chunk)
            base = analysis.storage_dir
            for name in storage.list_tree(base):
                _copy_stored(zf, name, f"{folder}/files/{name[len(base) + 1 :]}")
                covered.add(name)
            done += 1
            progress(f"Analysis “{analysis.name}”", 5 + 85 * done / steps)
        progress("Writing the audit log", 92)
        with zf.open("audit-log.csv", "w") as out:
            for text in audit_csv_rows(audit_events(organization=organization)):
                out.write(text.encode("utf-8"))
        root = organization_dir(organization.pk)
        archives = _archive_dir(organization) + "/"
        for name in storage.list_tree(root):  # anything else the organization holds (the logo, ...)
            if name in covered or name.startswith(archives):
                continue
            _copy_stored(zf, name, f"other/{name[len(root) + 1 :]}")
        zf.writestr(
            "README.txt",
            f"Everything {organization.name} held in SegSaaS on {now:%Y-%m-%d %H:%M} UTC.\n\n"
            "organization.json   settings, plan limits, members, invitations, API keys (no secrets)\n"
            "datasets/<id>-<name>/   dataset.json (columns, roles, profile), the original upload, data.parquet\n"
            "analyses/<id>-<name>/   analysis.json (settings, segment profiles, metrics), customers.csv "
            "(each customer's segment, churn risk and predicted value), files/ (model, results, charts, exports)\n"
            "audit-log.csv       every recorded action\n"
            f"Money figures are in {organization.currency}.\n",
        )
        count = AuditEvent.objects.for_organization(organization).count()
    progress("Storing the archive", 98)
    _drop_old_archives(organization, keep_job=job)
    return {"file": path, "file_name": file_name, "size": storage.size(path), "audit_events": count}


ARCHIVES_KEPT = 3


def _drop_old_archives(organization, *, keep_job) -> None:
    """Keep the newest ARCHIVES_KEPT archives (this one included): each is a full copy of the organization."""
    from segsaas import storage

    older = [j for j in archive_jobs(organization=organization).filter(status="succeeded") if j.pk != keep_job.pk]
    for job in older[ARCHIVES_KEPT - 1 :]:
        storage.delete_tree(f"{_archive_dir(organization)}/{job.pk}")


def organization_archive_download(*, organization: Organization, job, actor):
    """The built archive as a streamed `Download` (audited)."""
    from segsaas import storage

    result = job.result or {}
    if job.kind != ARCHIVE_JOB_KIND or job.status != "succeeded" or not result.get("file"):
        raise AccountsError("This archive is not ready.")
    if not storage.exists(result["file"]):
        raise AccountsError("This archive was removed; build a new one.")
    audit(
        organization=organization,
        action="organization.archive_downloaded",
        actor=actor,
        target=result.get("file_name", ""),
        size=result.get("size"),
    )
    return storage.download(result["file"], filename=result["file_name"], content_type="application/zip")


# --- deletion, restore, purge ---------------------------------------------------------------------------------------


def organization_delete_request(*, organization: Organization, actor, confirm_name: str) -> Organization:
    """Schedule the organization's deletion: members lose access now; owners can restore it until `purge_after`
    (ORGANIZATION_DELETION_GRACE_DAYS), then `organizations_purge_due` removes every row and file."""
    if organization.is_pending_deletion:
        raise AccountsError(f"{organization.name} is already scheduled for deletion.")
    if (confirm_name or "").strip() != organization.name:
        raise AccountsError(
            f"Type the organization's name, {organization.name}, exactly to confirm.", field="confirm_name"
        )
    now = timezone.now()
    organization.deletion_requested_at = now
    organization.deletion_requested_by = actor if getattr(actor, "pk", None) else None
    organization.purge_after = now + timedelta(days=settings.ORGANIZATION_DELETION_GRACE_DAYS)
    organization.save(update_fields=["deletion_requested_at", "deletion_requested_by", "purge_after"])
    _cancel_running_jobs(organization, actor)
    _forget_cached_keys(organization)
    audit(
        organization=organization,
        action="organization.deletion_scheduled",
        actor=actor,
        target=organization.name,
        purge_after=organization.purge_after.strftime("%Y-%m-%d %H:%M UTC"),
    )
    return organization


def _forget_cached_keys(organization) -> None:
    """Keys this process verified carry their organization as it was: drop them now and once committed, so the
    deletion (or the restore) applies to the next request."""
    from accounts.api_auth import verified_keys
    from accounts.models import OrganizationAPIKey

    keys = list(OrganizationAPIKey.objects.for_organization(organization))

    def forget():
        for key in keys:
            verified_keys.forget(key)

    forget()
    transaction.on_commit(forget)


def _cancel_running_jobs(organization, actor) -> None:
    from jobs.models import ACTIVE_STATUSES, Job
    from jobs.services import job_cancel

    for job in Job.objects.for_organization(organization).filter(status__in=ACTIVE_STATUSES):
        job_cancel(job, actor=actor, target=f"{organization.name} is being deleted")


def organization_restore(*, organization: Organization, actor) -> Organization:
    if not organization.is_pending_deletion:
        raise AccountsError(f"{organization.name} is not scheduled for deletion.")
    organization.deletion_requested_at = organization.deletion_requested_by = organization.purge_after = None
    organization.save(update_fields=["deletion_requested_at", "deletion_requested_by", "purge_after"])
    _forget_cached_keys(organization)
    audit(organization=organization, action="organization.deletion_cancelled", actor=actor, target=organization.name)
    return organization


def organization_purge(*, organization: Organization) -> None:
    """Remove the organization: every row (the foreign keys cascade) and, once that commits, every file."""
    from datasets.storage import delete_organization_files

    pk = organization.pk
    with transaction.atomic():
        organization.delete()
        transaction.on_commit(lambda: delete_organization_files(pk))


def organizations_purge_due(*, now=None) -> list[str]:
    """Purge every organization whose grace period has passed; the names purged."""
    now = now or timezone.now()
    purged = []
    for organization in Organization.objects.filter(purge_after__isnull=False, purge_after__lte=now):
        purged.append(organization.name)
        organization_purge(organization=organization)
    return purged


# --- a person leaves -------------------------------------------------------------------------------------------


def user_memberships(*, user: User) -> list[Membership]:
    """Every organization the person belongs to (a person's own, across tenants: deliberately unscoped)."""
    return list(
        Membership.objects.unscoped().filter(user=user).select_related("organization").order_by("organization__name")
    )


def user_delete_blockers(*, user: User, memberships: list[Membership] | None = None) -> list[str]:
    """The organizations the person is the last owner of (not those already scheduled for deletion)."""
    blocking = []
    for m in memberships if memberships is not None else user_memberships(user=user):
        if m.role != Role.OWNER or m.organization.is_pending_deletion:
            continue
        owners = Membership.objects.for_organization(m.organization).filter(role=Role.OWNER).count()
        if owners <= 1:
            blocking.append(m.organization.name)
    return blocking


def user_delete(*, user: User, confirm_email: str) -> None:
    """Delete a person's account. The last owner of an organization must hand it over (make someone else an owner)
    or delete it first; elsewhere their memberships end (audited as `member.left`)."""
    if (confirm_email or "").strip().lower() != user.email.lower():
        raise AccountsError(f"Type your e-mail address, {user.email}, to confirm.", field="confirm_email")
    memberships = user_memberships(user=user)
    blocking = user_delete_blockers(user=user, memberships=memberships)
    if blocking:
        raise AccountsError(
            f"You are the last owner of {', '.join(blocking)}: make another member an owner, or delete "
            f"{'it' if len(blocking) == 1 else 'them'}, before deleting your account.",
            field="confirm_email",
        )
    with transaction.atomic():
        for m in memberships:
            audit(organization=m.organization, action="member.left", actor=user, target=user.email, role=m.role)
        user.delete()
