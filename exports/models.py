"""Exports: files built from a finished analysis (customers CSV, XLSX workbook, JSON profiles, PDF report).

CSV and JSON are produced while they are sent (streamed), so they need no row. XLSX and PDF are built
into a file: small ones while the user waits, large ones by an `export.build` job. An `Export` row is that
file (plus the job that builds it); a built file is served again to the next person who asks for the same
analysis, format and segment, so a report is built once.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone

from accounts.scoping import TenantManager


class ExportFormat(models.TextChoices):
    CSV = "csv", "Customers CSV"
    XLSX = "xlsx", "Excel workbook"
    JSON = "json", "Segment profiles (JSON)"
    PDF = "pdf", "PDF report"


CONTENT_TYPES = {
    ExportFormat.CSV: "text/csv; charset=utf-8",
    ExportFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ExportFormat.JSON: "application/json",
    ExportFormat.PDF: "application/pdf",
}


class Export(models.Model):
    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="exports")
    analysis = models.ForeignKey("segments.Analysis", on_delete=models.CASCADE, related_name="exports")
    format = models.CharField(max_length=8, choices=ExportFormat.choices, default=ExportFormat.CSV)
    segment = models.SmallIntegerField(null=True, blank=True)  # customers of one segment only (CSV/XLSX)
    job = models.OneToOneField("jobs.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="export")
    file = models.CharField(max_length=400, blank=True)  # storage-relative path once built
    size = models.BigIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    built_at = models.DateTimeField(null=True, blank=True)

    objects = TenantManager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["organization", "analysis", "format", "created_at"])]

    def __str__(self) -> str:
        return f"{self.get_format_display()} of {self.analysis_id}"

    @property
    def is_ready(self) -> bool:
        return bool(self.file) and self.built_at is not None

    @property
    def status(self) -> str:
        if self.is_ready:
            return "ready"
        if self.job_id:
            return self.job.status
        return "pending"

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[ExportFormat(self.format)]

    def as_dict(self) -> dict:
        """What a poller needs (the API's 202 body): the status, the job's progress, the file when ready."""
        from jobs.serializers import job_progress

        return {
            "id": self.pk,
            "analysis": self.analysis_id,
            "format": self.format,
            "segment": self.segment,
            "status": self.status,
            "job": job_progress(self.job),
            "file_name": self.file_name if self.is_ready else None,
            "size": self.size if self.is_ready else None,
            "created_at": self.created_at.isoformat(),
            "built_at": self.built_at.isoformat() if self.built_at else None,
        }

    @property
    def file_name(self) -> str:
        from exports.naming import export_file_name

        return export_file_name(
            organization_name=self.organization.name,
            analysis_name=self.analysis.name,
            format=self.format,
            segment=self.segment,
            when=self.built_at or self.created_at,
        )
