"""Background jobs: the one way work runs in Celery and reports progress.

The `Job` row is the source of truth for a job's state (Celery's own states are not). Analyses,
dataset imports/profiling, synthetic generation and large exports each own one `Job`.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone

from accounts.scoping import TenantManager


class JobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


ACTIVE_STATUSES = (JobStatus.QUEUED, JobStatus.RUNNING)
FINISHED_STATUSES = (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED)


class Job(models.Model):
    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="jobs")
    kind = models.CharField(max_length=40)
    params = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=12, choices=JobStatus.choices, default=JobStatus.QUEUED, db_index=True)
    stage = models.CharField(max_length=80, blank=True, default="Waiting to start")
    progress = models.FloatField(default=0.0)
    error = models.TextField(blank=True, default="")
    result = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    # Outbox: set when handed to the broker. A queued job with no dispatch (or a lost one) is re-sent by the sweeper.
    dispatched_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    cancel_requested = models.BooleanField(default=False)
    # Each claim is one attempt; its number is the fencing token: only the current attempt may report or finish.
    attempts = models.PositiveSmallIntegerField(default=0)
    # "host:pid" of the worker process running the current attempt (a dead pid on the same host = a lost attempt).
    worker = models.CharField(max_length=120, blank=True, default="")

    objects = TenantManager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["organization", "status", "created_at"])]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} ({self.status})"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def max_attempts(self) -> int:
        return settings.JOB_MAX_ATTEMPTS

    @property
    def elapsed_seconds(self) -> float | None:
        if self.started_at is None:
            return None
        end = self.finished_at or timezone.now()
        return (end - self.started_at).total_seconds()

    def queue_position(self) -> int | None:
        """1 for the next job of this organization to start, None once it runs."""
        if self.status != JobStatus.QUEUED or self.dispatched_at is not None:
            return None
        waiting = Job.objects.for_organization(self.organization_id and self.organization).filter(
            status=JobStatus.QUEUED, dispatched_at=None
        )
        return waiting.filter(created_at__lt=self.created_at).count() + 1
