"""Queue, run, report on and cancel background jobs. Every kind of background work goes through here.

- `job_create(...)` stores a queued `Job` and hands it to the broker after the transaction commits,
  unless the organization already has `max_concurrent_jobs` jobs running: then it waits in the
  organization's queue (visible position) and is dispatched when a slot frees up.
- `job_execute(job_id)` (called by the one Celery task) runs the registered handler with a
  `JobContext`: `ctx.progress(stage, percent)` is the single way to report progress; it records a
  heartbeat and raises `JobCancelled` once a cancel was requested.
- Failures store a readable message (`JobError`, or the engine's `EngineError`), never a traceback.
- `jobs_sweep()` (Celery beat, every minute) marks jobs whose heartbeat stopped as failed and re-sends
  queued jobs the broker never saw (the outbox).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import OperationalError, transaction
from django.db.models import Q
from django.utils import timezone

from jobs.models import ACTIVE_STATUSES, Job, JobStatus
from segments.engine.errors import UserFacingError
from segments.engine.formatting import using_currency

log = logging.getLogger(__name__)

Handler = Callable[["JobContext"], dict | None]
_HANDLERS: dict[str, Handler] = {}
_FAIL_HOOKS: dict[str, Callable[[Job], None]] = {}


class JobError(UserFacingError):
    """A failure whose message is meant for the user (any `UserFacingError` a handler raises is shown as well)."""


class JobNotClaimed(Exception):
    """The database refused before the job was marked running: nothing ran, so the task may simply retry."""


class JobCancelled(Exception):
    pass


def register(kind: str, *, on_fail: Callable[[Job], None] | None = None):
    """Register the handler for a kind of job. `on_fail` cleans up after failure or cancellation."""

    def decorator(fn: Handler) -> Handler:
        _HANDLERS[kind] = fn
        if on_fail is not None:
            _FAIL_HOOKS[kind] = on_fail
        return fn

    return decorator


@dataclass
class JobContext:
    job: Job
    _last_write: float = 0.0

    @property
    def organization(self):
        return self.job.organization

    def progress(self, stage: str, percent: float) -> None:
        """Record stage and percent (throttled to one write per 0.5 s); raise JobCancelled if asked to stop."""
        now = time.monotonic()
        self.job.stage = stage[:80]
        self.job.progress = max(self.job.progress, min(float(percent), 100.0))
        if now - self._last_write < 0.5 and percent < 100:
            return
        self._last_write = now
        updated = (
            Job.objects.unscoped()
            .filter(pk=self.job.pk, cancel_requested=False, status=JobStatus.RUNNING)
            .update(stage=self.job.stage, progress=self.job.progress, heartbeat_at=timezone.now())
        )
        if not updated:
            raise JobCancelled()


def job_create(*, organization, kind: str, params: dict | None = None, created_by=None) -> Job:
    if kind not in _HANDLERS:
        _load_handlers()
    if kind not in _HANDLERS:
        raise ValueError(f"Unknown job kind {kind!r}")
    job = Job.objects.for_organization(organization).create(
        kind=kind, params=params or {}, created_by=created_by if getattr(created_by, "pk", None) else None
    )
    transaction.on_commit(lambda: dispatch_waiting(organization))
    return job


def dispatch_waiting(organization) -> list[int]:
    """Hand the organization's oldest waiting jobs to the broker while it has free slots."""
    from jobs.tasks import run_job

    sent = []
    with transaction.atomic():
        jobs = Job.objects.for_organization(organization)
        in_flight = jobs.filter(status__in=ACTIVE_STATUSES).exclude(dispatched_at=None).count()
        free = max(organization.max_concurrent_jobs - in_flight, 0)
        if free == 0:
            return sent
        waiting = list(
            jobs.select_for_update(skip_locked=_skip_locked_supported())
            .filter(status=JobStatus.QUEUED, dispatched_at=None)
            .order_by("created_at")[:free]
        )
        now = timezone.now()
        for job in waiting:
            Job.objects.unscoped().filter(pk=job.pk).update(dispatched_at=now)
            sent.append(job.pk)
    for job_id in sent:
        try:
            run_job.delay(job_id)
        except Exception:  # noqa: BLE001 - broker down: the sweeper re-sends it
            log.exception("Could not send job %s to the broker; the sweeper will retry", job_id)
            Job.objects.unscoped().filter(pk=job_id, status=JobStatus.QUEUED).update(dispatched_at=None)
    return sent


def _skip_locked_supported() -> bool:
    from django.db import connection

    return connection.features.has_select_for_update_skip_locked


def job_cancel(job: Job, *, actor=None, target: str = "") -> Job:
    """Ask a job to stop. A job that has not started is cancelled at once. Audited (`job.cancelled`) when the
    job was still queued or running; `target` names what the job works on (an analysis, a dataset)."""
    from accounts.services import audit

    now = timezone.now()
    with transaction.atomic():
        job = Job.objects.unscoped().select_for_update().get(pk=job.pk)
        if job.status in ACTIVE_STATUSES:
            audit(
                organization=job.organization,
                action="job.cancelled",
                actor=actor,
                target=target or job.kind,
                job_id=job.pk,
                kind=job.kind,
                was=job.status,
            )
        if job.status == JobStatus.QUEUED:
            job.status, job.cancel_requested, job.finished_at, job.stage = JobStatus.CANCELLED, True, now, "Cancelled"
            job.save(update_fields=["status", "cancel_requested", "finished_at", "stage"])
            _run_fail_hook(job)
        elif job.status == JobStatus.RUNNING:
            job.cancel_requested = True
            job.save(update_fields=["cancel_requested"])
    transaction.on_commit(lambda: dispatch_waiting(job.organization))
    return job


def _claim(job_id: int) -> Job | None:
    """Mark the job running (None: nothing to run: finished, cancelled, or running elsewhere)."""
    with transaction.atomic():
        job = Job.objects.unscoped().select_for_update().select_related("organization").filter(pk=job_id).first()
        if job is None or job.status not in ACTIVE_STATUSES or job.cancel_requested:
            return None
        now = timezone.now()
        stale_before = now - timezone.timedelta(seconds=settings.JOB_HEARTBEAT_TIMEOUT)
        if job.status == JobStatus.RUNNING and job.heartbeat_at and job.heartbeat_at > stale_before:
            return None  # a duplicate delivery while the job runs elsewhere
        job.status, job.started_at, job.heartbeat_at = JobStatus.RUNNING, job.started_at or now, now
        job.attempts += 1
        job.stage = "Starting"
        job.save(update_fields=["status", "started_at", "heartbeat_at", "attempts", "stage"])
    return job


def job_execute(job_id: int) -> str:
    """Run one job to completion. Idempotent: a finished or cancelled job is left alone."""
    _load_handlers()
    try:
        job = _claim(job_id)
    except OperationalError as exc:  # locked or unreachable database: nothing has run yet
        raise JobNotClaimed(f"job {job_id}: {exc}") from exc
    if job is None:
        return "skipped"
    ctx = JobContext(job=job)
    try:
        # every money figure the job writes (recommendations, charts, exports) is in the organization's currency
        with using_currency(getattr(job.organization, "currency", None)):
            result = _HANDLERS[job.kind](ctx) or {}
    except JobCancelled:
        _finish(job, JobStatus.CANCELLED, stage="Cancelled")
        return "cancelled"
    except Exception as exc:  # noqa: BLE001 - every failure ends as a readable message
        message = _user_message(exc)
        if not isinstance(exc, UserFacingError):
            log.exception("Job %s (%s) failed", job.pk, job.kind)
        _finish(job, JobStatus.FAILED, stage="Failed", error=message)
        return "failed"
    _finish(job, JobStatus.SUCCEEDED, stage="Done", result=result, progress=100.0)
    return "succeeded"


def _user_message(exc: Exception) -> str:
    if isinstance(exc, UserFacingError):
        return str(exc)
    from celery.exceptions import SoftTimeLimitExceeded

    if isinstance(exc, SoftTimeLimitExceeded):
        return f"The job ran longer than the limit of {settings.CELERY_TASK_SOFT_TIME_LIMIT // 60} minutes and was stopped."
    if isinstance(exc, MemoryError):
        return "The job ran out of memory. Try a smaller dataset or fewer columns."
    return f"An internal error stopped the job ({type(exc).__name__}). The team has been notified; please retry."


def _finish(job: Job, status: str, *, stage: str, error: str = "", result: dict | None = None, progress=None) -> None:
    fields = {"status": status, "stage": stage, "error": error, "finished_at": timezone.now()}
    if result is not None:
        fields["result"] = result
    if progress is not None:
        fields["progress"] = progress
    Job.objects.unscoped().filter(pk=job.pk).update(**fields)
    for key, value in fields.items():
        setattr(job, key, value)
    if status != JobStatus.SUCCEEDED:
        _run_fail_hook(job)
    dispatch_waiting(job.organization)


def _run_fail_hook(job: Job) -> None:
    hook = _FAIL_HOOKS.get(job.kind)
    if hook is not None:
        try:
            hook(job)
        except Exception:  # noqa: BLE001
            log.exception("Cleanup after job %s failed", job.pk)


def jobs_sweep() -> dict:
    """Fail jobs whose worker died; re-send queued jobs the broker lost; dispatch waiting ones."""
    from accounts.models import Organization

    _load_handlers()
    now = timezone.now()
    stale_before = now - timezone.timedelta(seconds=settings.JOB_HEARTBEAT_TIMEOUT)
    stale = list(
        Job.objects.unscoped()
        .filter(status=JobStatus.RUNNING)
        .filter(Q(heartbeat_at__lt=stale_before) | Q(heartbeat_at=None, started_at__lt=stale_before))
    )
    for job in stale:
        _finish(
            job,
            JobStatus.FAILED,
            stage="Failed",
            error="The worker running this job stopped responding (it may have been restarted or run out of "
            "memory). Please run it again.",
        )
    lost_before = now - timezone.timedelta(seconds=settings.JOB_HEARTBEAT_TIMEOUT)
    resent = (
        Job.objects.unscoped().filter(status=JobStatus.QUEUED, dispatched_at__lt=lost_before).update(dispatched_at=None)
    )
    org_ids = set(
        Job.objects.unscoped()
        .filter(status=JobStatus.QUEUED, dispatched_at=None)
        .values_list("organization_id", flat=True)
    )
    for org in Organization.objects.filter(pk__in=org_ids):
        dispatch_waiting(org)
    return {"failed_stale": len(stale), "resent": resent, "organizations": len(org_ids)}


def _load_handlers() -> None:
    """Handlers register themselves in each app's `job_handlers` module (plus JOB_HANDLER_MODULES)."""
    from importlib import import_module

    from django.apps import apps

    for module in settings.JOB_HANDLER_MODULES:
        import_module(module)
    for app in apps.get_app_configs():
        try:
            import_module(f"{app.name}.job_handlers")
        except ModuleNotFoundError as exc:
            if exc.name != f"{app.name}.job_handlers":
                raise
