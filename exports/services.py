"""Exports: one way to turn a finished analysis into a download, used by the pages and the API alike.

    outcome = export_request(analysis=a, format="pdf", params=request.GET, actor=request.user)
    if outcome.download:            # the file, ready to send: the view returns outcome.download.as_response()
        ...
    export = outcome.export          # a background build: poll export.job, then export_serve(export=...)

- CSV streams the per-customer results batch by batch (constant memory at any size); JSON is small.
- XLSX and PDF are built into a file, stored, and reused by the next request for the same analysis,
  format and segment. XLSX beyond `EXPORT_SYNC_MAX_CUSTOMERS` customers is built by an `export.build` job.
- Every file actually sent is recorded in the organization's audit log (`export.downloaded`).

Callers check permissions (`Perm.EXPORT` in the analysis's organization) before calling these.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from exports.models import CONTENT_TYPES, Export, ExportFormat
from exports.naming import export_file_name
from segments.engine.errors import UserFacingError
from segsaas import storage
from segsaas.storage import Download

log = logging.getLogger(__name__)

JOB_KIND = "export.build"
FILE_FORMATS = (ExportFormat.XLSX, ExportFormat.PDF)


class ExportError(UserFacingError):
    """The export cannot be made as asked; the message says why and `field` which parameter (shown to people and
    API clients)."""


@dataclass
class ExportOutcome:
    download: Download | None = None  # send this (a view returns `download.as_response()`)
    export: Export | None = None  # or wait for this export's job


def sync_max_customers() -> int:
    return int(settings.EXPORT_SYNC_MAX_CUSTOMERS)


# --- validation --------------------------------------------------------------------------------------


def export_validate(*, analysis, format: str, segment=None) -> tuple[str, int | None]:
    """The format and segment as values we can use, or an ExportError saying what is wrong."""
    format = (format or "").strip().lower()
    if format not in ExportFormat.values:
        raise ExportError(
            f"Unknown export format {format!r}; choose one of {', '.join(ExportFormat.values)}.", field="format"
        )
    if not analysis.is_ready:
        raise ExportError(f"Analysis “{analysis.name}” has no results yet (status: {analysis.status}).")
    if segment in (None, ""):
        return format, None
    if format not in (ExportFormat.CSV, ExportFormat.XLSX):
        raise ExportError("A segment filter applies to the customer exports (CSV and XLSX) only.", field="segment")
    try:
        segment = int(segment)
    except (TypeError, ValueError) as exc:
        raise ExportError(f"Segment must be a segment number, not {segment!r}.", field="segment") from exc
    if analysis.profile(segment) is None:
        known = ", ".join(str(p.get("segment")) for p in analysis.profiles)
        raise ExportError(
            f"Analysis “{analysis.name}” has no segment {segment} (its segments: {known}).", field="segment"
        )
    return format, segment


# --- the one entry point ------------------------------------------------------------------------------


def export_request(*, analysis, format: str, params=None, actor=None, api_key=None) -> ExportOutcome:
    """A download of `analysis` in `format`: the file now, or a queued export to wait for.

    `params`: the one customer filter's parameters (`segments.filters.CustomerFilterSet`): `segment` for the
    customer exports (CSV, XLSX); churn-risk and LTV ranges and a customer id for the customers CSV, e.g. the list
    the Profiles tab's search found, for a win-back campaign."""
    from segments.filters import CustomerFilterSet

    filterset = CustomerFilterSet(params or {})
    filterset.check_for(analysis)  # CLV filters only where there is a CLV
    where = filterset.parquet_filter()
    format, segment = export_validate(analysis=analysis, format=format, segment=where.segment)
    if format != ExportFormat.CSV and (where.has_ranges or where.customer_id is not None):
        field = next(k for k in where.FIELDS if k != "segment" and k in where.as_dict())
        what = "Churn risk, LTV, CLV, probability-active" if analysis.has_clv else "Churn risk, LTV"
        raise ExportError(f"{what} and customer id filters apply to the customers CSV only.", field=field)
    if format == ExportFormat.CSV:
        download = customers_csv(analysis=analysis, where=where)
        ranges = {k: v for k, v in where.as_dict().items() if k != "segment"}
        _audit_download(analysis=analysis, format=format, segment=segment, actor=actor, api_key=api_key, **ranges)
        return ExportOutcome(download=download)
    if format == ExportFormat.JSON:
        download = profiles_json(analysis=analysis)
        _audit_download(analysis=analysis, format=format, segment=segment, actor=actor, api_key=api_key)
        return ExportOutcome(download=download)

    existing = _reusable_export(analysis=analysis, format=format, segment=segment)
    if existing is not None and existing.is_ready:
        return ExportOutcome(download=export_serve(export=existing, actor=actor, api_key=api_key))
    if existing is not None:  # being built right now: wait for that one
        return ExportOutcome(export=existing)
    export = Export.objects.for_organization(analysis.organization).create(
        analysis=analysis,
        format=format,
        segment=segment,
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    if export_needs_job(analysis=analysis, format=format, segment=segment):
        return ExportOutcome(export=export_start_job(export=export, actor=actor))
    try:
        export_build(export=export)
    except BaseException:
        export.delete()  # no half-made export is left to be reused
        raise
    return ExportOutcome(download=export_serve(export=export, actor=actor, api_key=api_key))


def export_needs_job(*, analysis, format: str, segment: int | None = None) -> bool:
    """Large workbooks are built in the background; PDFs and small workbooks while the user waits."""
    if format != ExportFormat.XLSX:
        return False
    return _customer_total(analysis, segment) > sync_max_customers()


def export_start_job(*, export: Export, actor=None) -> Export:
    from jobs.services import job_create

    with transaction.atomic():
        export.job = job_create(
            organization=export.organization, kind=JOB_KIND, params={"export_id": export.pk}, created_by=actor
        )
        export.save(update_fields=["job"])
    return export


def _reusable_export(*, analysis, format: str, segment: int | None) -> Export | None:
    """The newest built (or building) export of the same file; failed or cancelled builds are not reused."""
    candidates = (
        Export.objects.for_organization(analysis.organization)
        .filter(analysis=analysis, format=format, segment=segment)
        .select_related("job", "analysis", "organization")
        .order_by("-created_at")
    )
    # a file built before the organization changed its name, currency, logo or colours is built again
    changed = analysis.organization.settings_changed_at
    for export in candidates[:5]:
        if export.is_ready and changed and export.created_at < changed:
            continue
        if export.is_ready and storage.exists(export.file):
            return export
        if export.job_id and export.job.is_active:
            return export
    return None


# --- streaming formats ---------------------------------------------------------------------------------


def customers_csv(*, analysis, where=None) -> Download:
    """The per-customer results as CSV, made batch by batch while it is sent (constant memory at any size)."""
    from exports.csv_export import csv_chunks
    from exports.sources import customer_columns, iter_customer_batches, open_customers_file

    columns = customer_columns(analysis)
    currency = analysis.organization.currency  # sent after the request has ended: named, not the active one

    def stream():
        with open_customers_file(analysis) as fh:
            batches = iter_customer_batches(fh, where=where, columns=[name for name, _ in columns], currency=currency)
            yield from csv_chunks(batches, columns)

    name = _file_name(analysis, ExportFormat.CSV, where.segment if where else None)
    if where and (where.has_ranges or where.customer_id is not None):
        name = name.replace(".csv", "-filtered.csv")
    return Download(filename=name, content_type=CONTENT_TYPES[ExportFormat.CSV], chunks=stream())


def profiles_json(*, analysis) -> Download:
    import json

    document = json.dumps(profiles_document_for(analysis), indent=2, ensure_ascii=False).encode()
    return Download(
        filename=_file_name(analysis, ExportFormat.JSON, None),
        content_type=CONTENT_TYPES[ExportFormat.JSON],
        content=document,
    )


def profiles_document_for(analysis) -> dict:
    from exports.json_export import profiles_document
    from segments.selectors import analysis_profiles

    return profiles_document(
        analysis_id=analysis.pk,
        analysis_name=analysis.name,
        organization_name=analysis.organization.name,
        currency=analysis.organization.currency,
        profiles=analysis_profiles(analysis=analysis),
        metrics=analysis.metrics or {},
        customer_count=analysis.customer_count,
        generated_at=timezone.now(),
    )


# --- built files ---------------------------------------------------------------------------------------


def export_build(*, export: Export, progress=None) -> Export:
    """Write the export's file (XLSX or PDF; CSV/JSON too when asked for as a file) and record it."""
    from segments.engine.formatting import using_currency

    progress = progress or (lambda stage, pct: None)
    analysis = export.analysis
    with using_currency(analysis.organization.currency):  # the analysis's organization, not the viewer's active one
        return _export_build(export, analysis, progress)


def _export_build(export: Export, analysis, progress) -> Export:
    now = timezone.now()
    name = export_file_name(
        organization_name=analysis.organization.name,
        analysis_name=analysis.name,
        format=export.format,
        segment=export.segment,
        when=now,
    )
    path = f"{analysis.storage_dir}/exports/{export.pk}/{name}"
    with storage.local_target(path) as target:
        if export.format == ExportFormat.XLSX:
            _build_xlsx(analysis, export.segment, target, progress, now)
        elif export.format == ExportFormat.PDF:
            _build_pdf(analysis, target, progress, now)
        elif export.format == ExportFormat.CSV:
            _build_csv(analysis, export.segment, target, progress)
        else:
            import json

            with open(target, "w", encoding="utf-8") as fh:
                json.dump(profiles_document_for(analysis), fh, indent=2, ensure_ascii=False)
        progress("Storing the file", 99)
    size = storage.size(path)
    Export.objects.for_organization(export.organization).filter(pk=export.pk).update(file=path, size=size, built_at=now)
    export.file, export.size, export.built_at = path, size, now
    return export


def _build_xlsx(analysis, segment, target, progress, now):
    from exports.sources import CustomerFilter, customer_columns, iter_customer_batches, open_customers_file
    from exports.xlsx_export import write_workbook
    from segments.selectors import analysis_profiles

    columns = customer_columns(analysis)
    with open_customers_file(analysis) as fh:
        write_workbook(
            target,
            profiles=analysis_profiles(analysis=analysis),
            metrics=analysis.metrics or {},
            customer_batches=iter_customer_batches(
                fh,
                where=CustomerFilter(segment=segment),
                columns=[n for n, _ in columns],
                currency=analysis.organization.currency,
            ),
            currency=analysis.organization.currency,
            customer_columns=columns,
            customer_total=_customer_total(analysis, segment),
            organization_name=analysis.organization.name,
            analysis_name=analysis.name,
            generated_at=now,
            segment=segment,
            progress=progress,
        )


def _history(analysis) -> list[dict]:
    """The dataset's finished runs up to this one, for the report's "Segments over time"."""
    from segments.services.timeline import dataset_history

    runs = [r for r in dataset_history(analysis.dataset) if r.created_at <= analysis.created_at]
    return [
        {"label": f"#{r.pk} v{r.dataset_version.number if r.dataset_version_id else '?'}", "profiles": r.profiles}
        for r in runs
    ]


def _build_pdf(analysis, target, progress, now):
    from exports.report import render_pdf, report_context
    from segments.selectors import analysis_profiles

    progress("Drawing the charts", 10)
    organization = analysis.organization
    context = report_context(
        profiles=analysis_profiles(analysis=analysis),
        metrics=analysis.metrics or {},
        organization_name=organization.name,
        branding=organization_branding(organization),
        money_columns=analysis.config.get("monetary_cols") or [],
        analysis_name=analysis.name,
        dataset_name=analysis.dataset.name,
        generated_at=now,
        color_scheme=analysis.color_scheme,
        customer_count=analysis.customer_count,
        history=_history(analysis),
    )
    progress("Laying out the report", 50)
    render_pdf(context, target)


def organization_branding(organization) -> dict:
    """The report's look from the organization's settings: currency, colours and the logo as a data URI."""
    from accounts.services import organization_logo_data_uri

    return {
        "currency": organization.currency,
        "primary": organization.report_primary_colour,
        "accent": organization.report_accent_colour,
        "logo": organization_logo_data_uri(organization),
    }


def _build_csv(analysis, segment, target, progress):
    from exports.csv_export import csv_chunks
    from exports.sources import CustomerFilter, customer_columns, iter_customer_batches, open_customers_file

    columns = customer_columns(analysis)
    with open_customers_file(analysis) as fh, open(target, "wb") as out:
        batches = iter_customer_batches(
            fh,
            where=CustomerFilter(segment=segment),
            columns=[n for n, _ in columns],
            currency=analysis.organization.currency,
        )
        for chunk in csv_chunks(batches, columns):
            out.write(chunk)


def export_serve(*, export: Export, actor=None, api_key=None) -> Download:
    """A built export to send as an attachment (streamed, or a redirect to a short-lived signed URL of the object
    store); recorded in the audit log."""
    if not export.is_ready:
        raise ExportError("This export is not ready yet.")
    download = storage.download(export.file, filename=export.file_name, content_type=export.content_type)
    _audit_download(
        analysis=export.analysis,
        format=export.format,
        segment=export.segment,
        actor=actor,
        api_key=api_key,
        export=export,
    )
    return download


def export_on_job_fail(job) -> None:
    """A failed or cancelled build leaves no file behind."""
    export = Export.objects.for_organization(job.organization).filter(pk=(job.params or {}).get("export_id")).first()
    if export is not None and export.file:
        storage.delete(export.file)
        Export.objects.for_organization(job.organization).filter(pk=export.pk).update(file="", size=0, built_at=None)


# --- helpers -------------------------------------------------------------------------------------------


def _customer_total(analysis, segment: int | None) -> int:
    if segment is None:
        return int(analysis.customer_count or 0)
    profile = analysis.profile(segment) or {}
    return int(profile.get("size") or 0)


def _file_name(analysis, format: str, segment: int | None) -> str:
    return export_file_name(
        organization_name=analysis.organization.name,
        analysis_name=analysis.name,
        format=format,
        segment=segment,
        when=timezone.now(),
    )


def _audit_download(
    *, analysis, format: str, segment: int | None, actor=None, api_key=None, export=None, **ranges
) -> None:
    from accounts.services import audit

    details = {"format": format, "analysis_id": analysis.pk, **ranges}
    if segment is not None:
        details["segment"] = segment
    if export is not None:
        details["export_id"] = export.pk
    if api_key is not None:
        details["via"] = "api"
    audit(
        organization=analysis.organization,
        action="export.downloaded",
        actor=actor,
        api_key=api_key,
        target=analysis.name,
        **details,
    )
