"""Queue, run, report on and cancel background jobs. Every kind of background work goes through here.

- `job_create(...)` stores a queued `Job` and hands it to the broker after the transaction commits,
  unless the organization already has `max_concurrent_jobs` jobs running: then it waits in the
  organization's queue (visible position) and is dispatched when a slot frees up.
- `job_execute(job_id)` (called by the one Celery task) runs the registered handler with a
  `JobContext`: `ctx.progress(stage, percent)` is the single way to report progress; it records a
  heartbeat and raises `JobCancelled` once a cancel was requested.
- Each claim is an attempt; its number (`Job.attempts`) fences the attempt: progress, heartbeats and the
  final state are written only while the job is still on that attempt, so a stale attempt writes nothing.
  A thread beats the job's heartbeat while the handler runs, whatever it is doing.
- Failures store a readable message (`JobError`, or the engine's `EngineError`), never a traceback.
- A lost attempt (worker killed, out of memory, database connection lost) is run again, up to
  JOB_MAX_ATTEMPTS in all; only then does the job fail, with the reason.
- `jobs_sweep()` (Celery beat, every JOB_SWEEP_SECONDS, and when a worker starts) re-queues jobs whose
  worker was lost and re-sends queued jobs the broker never saw (the outbox).
- Jobs go to a queue by weight (`register(..., weight="heavy")`); a kind may declare its memory need
  (`memory_mb=`) and is refused up front when that exceeds WORKER_MEMORY_BUDGET_MB.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection, transaction
from django.utils import timezone

from jobs.models import ACTIVE_STATUSES, Job, JobStatus
from segments.engine.errors import UserFacingError
from segments.engine.formatting import using_currency

log = logging.getLogger(__name__)

Handler = Callable[["JobContext"], dict | None]
_HANDLERS: dict[str, Handler] = {}
_FAIL_HOOKS: dict[str, Callable[[Job], None]] = {}
_WEIGHTS: dict[str, str | Callable[[dict], str]] = {}
_MEMORY: dict[str, Callable[..., float | None]] = {}
HEAVY, LIGHT = "heavy", "light"
# Broker unreachable: requests stop trying it for a few seconds (jobs wait in the outbox for the sweeper).
_BROKER_RETRY_AFTER = 10.0
_broker_down_until = 0.0


class JobError(UserFacingError):
    """A failure whose message is meant for the user (any `UserFacingError` a handler raises is shown as well)."""


class JobNotClaimed(Exception):
    """The database refused before the job was marked running: nothing ran, so the task may simply retry."""


class JobCancelled(Exception):
    pass


class JobSuperseded(JobCancelled):
    """This attempt is no longer the job's current one (it was given up as lost and run again): stop, write nothing."""


class JobMemoryError(JobError):
    """The job would need more memory than a worker may use."""


def register(
    kind: str,
    *,
    on_fail: Callable[[Job], None] | None = None,
    weight: str | Callable[[dict], str] = LIGHT,
    memory_mb: Callable[..., float | None] | None = None,
):
    """Register the handler for a kind of job. `on_fail` cleans up after failure or cancellation. `weight`
    ("light" or "heavy", or a function of the params) picks the queue. `memory_mb(params=, organization=)`
    estimates the job's peak memory before it starts (None: unknown)."""

    def decorator(fn: Handler) -> Handler:
        _HANDLERS[kind] = fn
        _WEIGHTS[kind] = weight
        if on_fail is not None:
            _FAIL_HOOKS[kind] = on_fail
        if memory_mb is not None:
            _MEMORY[kind] = memory_mb
        return fn

    return decorator


def job_weight(kind: str, params: dict | None) -> str:
    weight = _WEIGHTS.get(kind, LIGHT)
    if callable(weight):
        weight = weight(params or {})
    return HEAVY if weight == HEAVY else LIGHT


def job_queue(kind: str, params: dict | None) -> str:
    """The Celery queue a job of this kind goes to."""
    return settings.JOB_QUEUES[job_weight(kind, params)]


def check_memory(*, kind: str, params: dict | None, organization) -> None:
    """Refuse (JobMemoryError naming the limit) a job whose estimated memory exceeds the worker's budget."""
    estimate = _MEMORY.get(kind)
    if estimate is None:
        return
    need = estimate(params=params or {}, organization=organization)
    budget = settings.WORKER_MEMORY_BUDGET_MB
    if need is not None and need > budget:
        raise JobMemoryError(
            f"This job would need about {need:,.0f} MB of memory, more than the {budget:,} MB a worker may use "
            "(WORKER_MEMORY_BUDGET_MB). Use a smaller dataset or fewer columns, or ask your administrator to "
            "raise the limit.",
            field="dataset",
        )


def _this_worker() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _worker_is_gone(worker: str) -> bool:
    """True when `worker` ("host:pid") ran on this host in a process that no longer exists."""
    host, _, pid = worker.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    if int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    try:  # a zombie (killed, not yet reaped by its parent) is gone too
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[-1].split()[0] == "Z"
    except OSError:
        return False


@dataclass
class JobContext:
    job: Job
    attempt: int = 0
    _last_write: float = 0.0
    _lost: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self):
        self.attempt = self.attempt or self.job.attempts

    @property
    def organization(self):
        return self.job.organization

    def _current(self):
        return Job.objects.unscoped().filter(pk=self.job.pk, attempts=self.attempt, status=JobStatus.RUNNING)

    def progress(self, stage: str, percent: float) -> None:
        """Record stage and percent (at most one write per 0.5 s, and at every new stage); raise JobCancelled if
        asked to stop, JobSuperseded if this attempt was given up as lost and run again."""
        if self._lost.is_set():
            raise JobSuperseded()
        now = time.monotonic()
        new_stage = stage[:80] != self.job.stage
        self.job.stage = stage[:80]
        self.job.progress = max(self.job.progress, min(float(percent), 100.0))
        if now - self._last_write < 0.5 and percent < 100 and not new_stage:
            return
        self._last_write = now
        updated = (
            self._current()
            .filter(cancel_requested=False)
            .update(stage=self.job.stage, progress=self.job.progress, heartbeat_at=timezone.now())
        )
        if not updated:
            if self._current().exists():
                raise JobCancelled()
            self._lost.set()
            raise JobSuperseded()


class _Heartbeat(threading.Thread):
    """Beats the job's heartbeat while its handler runs (a long step reports no progress for minutes)."""

    def __init__(self, ctx: JobContext):
        super().__init__(name=f"job-{ctx.job.pk}-heartbeat", daemon=True)
        self.ctx = ctx
        self.done = threading.Event()

    def run(self) -> None:
        try:
            while not self.done.wait(settings.JOB_HEARTBEAT_INTERVAL):
                try:
                    if not self.ctx._current().update(heartbeat_at=timezone.now()) and self._superseded():
                        self.ctx._lost.set()
                        return
                except Exception:  # noqa: BLE001 - a missed beat; the next one tries a new connection
                    log.warning("Heartbeat of job %s failed", self.ctx.job.pk, exc_info=True)
                    _reset_connection()
        finally:
            connection.close()

    def _superseded(self) -> bool:
        """The job is on another attempt or no longer running (a row this connection cannot see is left alone)."""
        row = Job.objects.unscoped().filter(pk=self.ctx.job.pk).values("attempts", "status").first()
        return row is not None and (row["attempts"] != self.ctx.attempt or row["status"] != JobStatus.RUNNING)

    def start(self) -> None:
        # Inside a transaction (a job run in-process by a test or a command) no other connection could see the
        # job's row; the caller's own progress calls keep it alive there.
        if not connection.in_atomic_block:
            super().start()

    def stop(self) -> None:
        self.done.set()
        if self.is_alive():
            self.join(timeout=5)


def job_create(*, organization, kind: str, params: dict | None = None, created_by=None) -> Job:
    if kind not in _HANDLERS:
        _load_handlers()
    if kind not in _HANDLERS:
        raise ValueError(f"Unknown job kind {kind!r}")
    check_memory(kind=kind, params=params, organization=organization)
    job = Job.objects.for_organization(organization).create(
        kind=kind, params=params or {}, created_by=created_by if getattr(created_by, "pk", None) else None
    )
    transaction.on_commit(lambda: dispatch_waiting(organization))
    return job


def dispatch_waiting(organization) -> list[int]:
    """Hand the organization's oldest waiting jobs to the broker while it has free slots (its plan's
    `max_concurrent_jobs`). Fair queuing: an organization has at most one job waiting in each broker queue; the
    next is sent when that one starts, so another organization's job waits behind at most one of its jobs."""
    from jobs.tasks import run_job

    global _broker_down_until
    sent = []
    if time.monotonic() < _broker_down_until:
        return sent  # the broker failed moments ago: the jobs wait in the outbox for the sweeper
    with transaction.atomic():
        jobs = Job.objects.for_organization(organization)
        in_flight = jobs.filter(status__in=ACTIVE_STATUSES).exclude(dispatched_at=None).count()
        free = max(organization.max_concurrent_jobs - in_flight, 0)
        if free == 0:
            return sent
        in_broker = {
            job_queue(kind, params)
            for kind, params in jobs.filter(status=JobStatus.QUEUED)
            .exclude(dispatched_at=None)
            .values_list("kind", "params")
        }
        candidates = (
            jobs.select_for_update(skip_locked=_skip_locked_supported())
            .filter(status=JobStatus.QUEUED, dispatched_at=None)
            .order_by("created_at")[:100]
        )
        waiting = []
        for job in candidates:
            queue = job_queue(job.kind, job.params)
            if queue in in_broker:
                continue
            in_broker.add(queue)
            waiting.append(job)
            if len(waiting) == free:
                break
        now = timezone.now()
        for job in waiting:
            Job.objects.unscoped().filter(pk=job.pk).update(dispatched_at=now)
            sent.append(job.pk)
    for job in waiting:
        if time.monotonic() < _broker_down_until:
            Job.objects.unscoped().filter(pk=job.pk, status=JobStatus.QUEUED).update(dispatched_at=None)
            sent.remove(job.pk)
            continue
        try:
            run_job.apply_async(args=[job.pk], queue=job_queue(job.kind, job.params))
        except Exception as exc:  # noqa: BLE001 - broker down: the job waits in the outbox; the sweeper re-sends it
            log.warning("Could not send job %s to the broker (%s); the sweeper will send it", job.pk, exc)
            _broker_down_until = time.monotonic() + _BROKER_RETRY_AFTER
            Job.objects.unscoped().filter(pk=job.pk, status=JobStatus.QUEUED).update(dispatched_at=None)
            sent.remove(job.pk)
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


def _claim(job_id: int) -> tuple[Job | None, str]:
    """Start a new attempt of the job: (job, "") or (None, why nothing runs: finished, cancelled, running
    elsewhere, or out of attempts, in which case the job is now failed)."""
    with transaction.atomic():
        job = Job.objects.unscoped().select_for_update().select_related("organization").filter(pk=job_id).first()
        if job is None or job.status not in ACTIVE_STATUSES or job.cancel_requested:
            return None, "finished"
        now = timezone.now()
        if job.status == JobStatus.RUNNING and not _attempt_lost(job, now):
            return None, "running elsewhere"  # a duplicate delivery while the job runs
        if job.attempts >= settings.JOB_MAX_ATTEMPTS:
            exhausted = True
        else:
            exhausted = False
            job.status, job.started_at, job.heartbeat_at = JobStatus.RUNNING, job.started_at or now, now
            job.attempts += 1
            job.worker = _this_worker()[:120]
            job.stage = "Starting" if job.attempts == 1 else f"Starting attempt {job.attempts}"
            job.save(update_fields=["status", "started_at", "heartbeat_at", "attempts", "worker", "stage"])
    if exhausted:
        _give_up(job, reason="the worker running it stopped")
        return None, "out of attempts"
    return job, ""


def _attempt_lost(job: Job, now) -> bool:
    """A running attempt whose heartbeat stopped, or whose worker process on this host is gone."""
    stale_before = now - timezone.timedelta(seconds=settings.JOB_HEARTBEAT_TIMEOUT)
    beat = job.heartbeat_at or job.started_at
    return beat is None or beat < stale_before or _worker_is_gone(job.worker)


def job_execute(job_id: int) -> str:
    """Run one attempt of a job. Idempotent: a finished, cancelled or running-elsewhere job is left alone."""
    _load_handlers()
    try:
        job, why = _claim(job_id)
    except (OperationalError, InterfaceError) as exc:  # locked or unreachable database: nothing has run yet
        _reset_connection()
        raise JobNotClaimed(f"job {job_id}: {exc}") from exc
    if job is None:
        return "skipped" if why != "out of attempts" else "failed"
    try:  # it left the broker queue: the organization's next job of this weight may take its place there
        dispatch_waiting(job.organization)
    except Exception:  # noqa: BLE001 - the sweeper dispatches it otherwise
        log.exception("Dispatching the jobs waiting behind job %s failed", job.pk)
    ctx = JobContext(job=job, attempt=job.attempts)
    heartbeat = _Heartbeat(ctx)
    heartbeat.start()
    try:
        check_memory(kind=job.kind, params=job.params, organization=job.organization)
        # every money figure the job writes (recommendations, charts, exports) is in the organization's currency
        with using_currency(getattr(job.organization, "currency", None)):
            result = _HANDLERS[job.kind](ctx) or {}
    except JobSuperseded:
        log.warning(
            "Job %s attempt %s was superseded by a later attempt; it stops without writing", job.pk, ctx.attempt
        )
        return "superseded"
    except JobCancelled:
        _finish(job, JobStatus.CANCELLED, stage="Cancelled", attempt=ctx.attempt)
        return "cancelled"
    except (OperationalError, InterfaceError) as exc:  # the database went away under the job: run it again
        log.warning("Job %s lost its database connection (%s)", job.pk, exc)
        _with_database(lambda: _requeue_or_fail(job, attempt=ctx.attempt, reason="it lost its database connection"))
        return "requeued"
    except Exception as exc:  # noqa: BLE001 - every failure ends as a readable message
        message = _user_message(exc)
        if not isinstance(exc, UserFacingError):
            log.exception("Job %s (%s) failed", job.pk, job.kind)
        _finish(job, JobStatus.FAILED, stage="Failed", error=message, attempt=ctx.attempt)
        return "failed"
    finally:
        heartbeat.stop()
    if not _finish(job, JobStatus.SUCCEEDED, stage="Done", result=result, progress=100.0, attempt=ctx.attempt):
        return "superseded"
    return "succeeded"


def _with_database(fn, tries: int = 5):
    """Run a short write, reconnecting if the database connection was lost (a restarted server)."""
    for i in range(tries):
        try:
            return fn()
        except (OperationalError, InterfaceError):
            if i == tries - 1:
                raise
            _reset_connection()
            time.sleep(min(0.5 * 2**i, 5))
    return None


def _reset_connection() -> None:
    """Drop a broken connection so the next query opens a new one (never inside a transaction)."""
    if not connection.in_atomic_block:
        connection.close()


def _user_message(exc: Exception) -> str:
    if isinstance(exc, UserFacingError):
        return str(exc)
    from celery.exceptions import SoftTimeLimitExceeded, TimeLimitExceeded

    if isinstance(exc, SoftTimeLimitExceeded | TimeLimitExceeded):
        limit = settings.CELERY_TASK_SOFT_TIME_LIMIT
        said = f"{limit // 60} minutes" if limit >= 120 else f"{limit} seconds"
        return f"The job ran longer than the limit of {said} (CELERY_TASK_SOFT_TIME_LIMIT) and was stopped."
    if isinstance(exc, MemoryError):
        return "The job ran out of memory. Try a smaller dataset or fewer columns."
    return f"An internal error stopped the job ({type(exc).__name__}). The team has been notified; please retry."


def _finish(
    job: Job,
    status: str,
    *,
    stage: str,
    error: str = "",
    result: dict | None = None,
    progress=None,
    attempt: int | None = None,
) -> bool:
    """Store the job's final state, only if it is still running (on `attempt`, when given). False: it was not."""
    fields = {"status": status, "stage": stage, "error": error, "finished_at": timezone.now()}
    if result is not None:
        fields["result"] = result
    if progress is not None:
        fields["progress"] = progress
    rows = Job.objects.unscoped().filter(pk=job.pk, status__in=ACTIVE_STATUSES)
    if attempt is not None:
        rows = rows.filter(attempts=attempt)
    if not _with_database(lambda: rows.update(**fields)):
        return False
    for key, value in fields.items():
        setattr(job, key, value)
    if status != JobStatus.SUCCEEDED:
        _run_fail_hook(job)
    dispatch_waiting(job.organization)
    return True


def _requeue_or_fail(job: Job, *, attempt: int, reason: str) -> str:
    """A lost attempt: queue the job again while attempts remain, else fail it with the reason."""
    if attempt >= settings.JOB_MAX_ATTEMPTS:
        return "failed" if _give_up(job, reason=reason, attempt=attempt) else "skipped"
    requeued = (
        Job.objects.unscoped()
        .filter(pk=job.pk, status=JobStatus.RUNNING, attempts=attempt)
        .update(
            status=JobStatus.QUEUED,
            dispatched_at=None,
            worker="",
            progress=0.0,
            # `stage` holds 80 characters: the reason goes to the log (and to `error` after the last attempt).
            stage=f"Queued again: attempt {attempt} of {settings.JOB_MAX_ATTEMPTS} stopped ({reason})"[:80],
        )
    )
    if requeued:
        log.warning("Job %s: attempt %s stopped because %s; queued again", job.pk, attempt, reason)
        dispatch_waiting(job.organization)
    return "requeued" if requeued else "skipped"


def _give_up(job: Job, *, reason: str, attempt: int | None = None) -> bool:
    n = settings.JOB_MAX_ATTEMPTS
    return _finish(
        job,
        JobStatus.FAILED,
        stage="Failed",
        attempt=attempt,
        error=f"The job was tried {n} time{'s' if n != 1 else ''} and stopped each time; the last time because "
        f"{reason} (it may have run out of memory or been restarted). Please contact support if it happens again.",
    )


def job_time_limit_exceeded(job_id: int) -> None:
    """The worker killed the job at its hard time limit: it fails (a run this long is not tried again)."""
    job = Job.objects.unscoped().select_related("organization").filter(pk=job_id).first()
    if job is not None:
        from celery.exceptions import TimeLimitExceeded

        _finish(job, JobStatus.FAILED, stage="Failed", error=_user_message(TimeLimitExceeded()), attempt=job.attempts)


def _run_fail_hook(job: Job) -> None:
    hook = _FAIL_HOOKS.get(job.kind)
    if hook is not None:
        try:
            hook(job)
        except Exception:  # noqa: BLE001
            log.exception("Cleanup after job %s failed", job.pk)


def jobs_sweep() -> dict:
    """Run again (or fail, after the last attempt) jobs whose worker was lost; re-send queued jobs the broker
    lost or never got (the outbox); dispatch waiting ones."""
    from accounts.models import Organization

    _load_handlers()
    now = timezone.now()
    running = Job.objects.unscoped().filter(status=JobStatus.RUNNING).select_related("organization")
    outcomes = {"requeued": 0, "failed": 0}
    for job in running:
        if _attempt_lost(job, now):
            outcome = _requeue_or_fail(job, attempt=job.attempts, reason="the worker running it stopped responding")
            if outcome in outcomes:
                outcomes[outcome] += 1
    lost_before = now - timezone.timedelta(seconds=settings.JOB_RESEND_AFTER)
    resent = (
        Job.objects.unscoped().filter(status=JobStatus.QUEUED, dispatched_at__lt=lost_before).update(dispatched_at=None)
    )
    org_ids = set(
        Job.objects.unscoped()
        .filter(status=JobStatus.QUEUED, dispatched_at=None)
        .values_list("organization_id", flat=True)
    )
    global _broker_down_until
    _broker_down_until = 0.0  # the sweeper runs because the broker delivered it: try it again
    for org in Organization.objects.filter(pk__in=org_ids):
        dispatch_waiting(org)
    return {
        "requeued_lost": outcomes["requeued"],
        "failed_lost": outcomes["failed"],
        "resent": resent,
        "organizations": len(org_ids),
    }


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
