"""Segments over time, watched: schedules that re-run an analysis, drift reports (and the alerts among them), the
members who get alerts by e-mail, and webhook endpoints with a log of every delivery."""

from django.conf import settings
from django.db import models

from accounts.scoping import TenantManager


class Frequency(models.TextChoices):
    DAILY = "daily", "Daily"
    WEEKLY = "weekly", "Weekly"
    MONTHLY = "monthly", "Monthly"
    ON_VERSION = "on_version", "On every new version of the dataset"


class AnalysisSchedule(models.Model):
    """Re-run `analysis` (then each run it started, so segments stay matched run to run) on a schedule."""

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    analysis = models.OneToOneField("segments.Analysis", on_delete=models.CASCADE, related_name="schedule")
    frequency = models.CharField(max_length=12, choices=Frequency.choices, default=Frequency.MONTHLY)
    enabled = models.BooleanField(default=True)
    next_run_at = models.DateTimeField(null=True, blank=True, db_index=True)  # null: on new versions only
    last_run_at = models.DateTimeField(null=True, blank=True)
    last_analysis = models.ForeignKey(
        "segments.Analysis", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_error = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    objects = TenantManager()

    def __str__(self) -> str:
        return f"{self.get_frequency_display()} re-run of {self.analysis}"


class DriftKind(models.TextChoices):
    FEATURES = "features", "Feature drift between versions"
    SEGMENTS = "segments", "Segment changes between runs"


class DriftReport(models.Model):
    """Drift between two consecutive versions of a dataset (per-feature PSI) or between a run and the run before it
    (per-segment share and churn changes). `alert` when its level reaches the alert level."""

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    dataset = models.ForeignKey("datasets.Dataset", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=10, choices=DriftKind.choices)
    version = models.ForeignKey("datasets.DatasetVersion", null=True, on_delete=models.CASCADE, related_name="+")
    previous_version = models.ForeignKey(
        "datasets.DatasetVersion", null=True, on_delete=models.CASCADE, related_name="+"
    )
    analysis = models.ForeignKey("segments.Analysis", null=True, on_delete=models.CASCADE, related_name="+")
    previous_analysis = models.ForeignKey("segments.Analysis", null=True, on_delete=models.SET_NULL, related_name="+")
    rows = models.JSONField(default=list)  # features: [{column, kind, psi, level}]; segments: [{segment, ...}]
    level = models.CharField(max_length=10, default="stable")  # stable | moderate | major
    note = models.TextField(blank=True)  # what was compared, when not the whole tables (an order log's new orders)
    alert = models.BooleanField(default=False, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    objects = TenantManager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.level}"

    @property
    def alert_rows(self) -> list[dict]:
        return [r for r in self.rows if r.get("level") in ("moderate", "major")]

    @property
    def held_rows(self) -> list[dict]:
        """Features over a PSI threshold that were not alerted (too few rows, within sampling noise), with why."""
        from segments.engine.drift import PSI_MODERATE

        return [r for r in self.rows if r.get("note") and r.get("psi", 0) >= PSI_MODERATE]


class AlertSubscription(models.Model):
    """A member who gets drift alerts by e-mail."""

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")

    objects = TenantManager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "user"], name="uniq_alert_subscription")]

    def __str__(self) -> str:
        return f"drift alerts for user {self.user_id}"


class WebhookEvent(models.TextChoices):
    ANALYSIS_SUCCEEDED = "analysis.succeeded", "Analysis succeeded"
    ANALYSIS_FAILED = "analysis.failed", "Analysis failed"
    VERSION_READY = "dataset.version_ready", "Dataset version ready"
    DRIFT_ALERT = "segments.drift_alert", "Drift alert"


class WebhookEndpoint(models.Model):
    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    url = models.URLField(max_length=500)
    secret = models.CharField(max_length=80)  # HMAC-SHA256 key, shown to the organization once
    events = models.JSONField(default=list)  # WebhookEvent values
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TenantManager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.url


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SUCCEEDED = "succeeded", "Delivered"
    FAILED = "failed", "Failed"


class WebhookDelivery(models.Model):
    """One event sent to one endpoint: every attempt is counted, the last answer kept."""

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(max_length=40)
    payload = models.JSONField(default=dict)
    status = models.CharField(max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.TextField(blank=True)  # the first 500 characters
    error = models.TextField(blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    objects = TenantManager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "webhook deliveries"

    def __str__(self) -> str:
        return f"{self.event} → {self.endpoint_id}: {self.status}"
