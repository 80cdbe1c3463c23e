"""Schedules, drift, alerts and webhooks: the rules, used by the pages, the Celery beat tasks and the job handlers.

- Schedules: `schedule_save()` / `schedule_delete()`; `schedules_run_due()` (beat, every minute) re-runs every due
  schedule's analysis through `segments.services.analysis_rerun` (a normal `analysis.run` job); schedules "on every
  new version" run from `on_version_ready()`.
- Drift: `drift_for_version()` (the `monitoring.drift` job, after each new version) compares the new version's
  columns with the previous version's (PSI per feature, `segments.engine.drift`); `drift_for_analysis()` (after a
  re-run succeeded) compares each segment's share and churn with the run before. A report at or above
  `settings.DRIFT_ALERT_LEVEL` is an alert: shown on the dashboard, e-mailed to subscribed members and sent to
  webhooks (`segments.drift_alert`).
- Webhooks: `endpoint_create()` (URL checked, secret made), `emit()` stores one delivery per subscribed endpoint and
  sends it after the transaction commits; `delivery_attempt()` makes one signed attempt and schedules the next one
  with exponential backoff until `WEBHOOK_MAX_ATTEMPTS`.
"""

from __future__ import annotations

import calendar
import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from monitoring.models import (
    AlertSubscription,
    AnalysisSchedule,
    DeliveryStatus,
    DriftKind,
    DriftReport,
    Frequency,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from monitoring.webhooks import WebhookError, check_url, new_secret, post
from segments.engine.errors import UserFacingError

log = logging.getLogger(__name__)

DRIFT_JOB_KIND = "monitoring.drift"


class ScheduleError(UserFacingError):
    """A schedule that cannot be saved as asked; `field` names the form field."""


# --- schedules ------------------------------------------------------------------------------------


def _add_month(moment: datetime) -> datetime:
    year, month = (moment.year + 1, 1) if moment.month == 12 else (moment.year, moment.month + 1)
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def next_run_after(frequency: str, moment: datetime) -> datetime | None:
    """When a schedule of `frequency` runs next after `moment` (None: only on new versions)."""
    if frequency == Frequency.DAILY:
        return moment + timedelta(days=1)
    if frequency == Frequency.WEEKLY:
        return moment + timedelta(days=7)
    if frequency == Frequency.MONTHLY:
        return _add_month(moment)
    return None


def schedule_save(*, analysis, frequency: str, enabled: bool = True, actor=None) -> AnalysisSchedule:
    """Create or change the analysis's schedule (its next run counts from now)."""
    if frequency not in Frequency.values:
        raise ScheduleError(
            f"{frequency!r} is not a frequency; choose one of {', '.join(Frequency.values)}.", field="frequency"
        )
    now = timezone.now()
    schedule = AnalysisSchedule.objects.for_organization(analysis.organization).filter(analysis=analysis).first()
    if schedule is None:
        user = actor if getattr(actor, "pk", None) else None  # an API key acts for nobody in particular
        schedule = AnalysisSchedule(organization=analysis.organization, analysis=analysis, created_by=user)
    changed = schedule.frequency != frequency or not schedule.pk or schedule.enabled != enabled
    schedule.frequency, schedule.enabled = frequency, bool(enabled)
    if changed:
        schedule.next_run_at = next_run_after(frequency, now) if enabled else None
    schedule.save()
    if actor is not None:
        from accounts.services import audit

        audit(
            organization=analysis.organization,
            action="schedule.saved",
            actor=actor,
            target=analysis.name,
            analysis_id=analysis.pk,
            frequency=frequency,
            enabled=bool(enabled),
        )
    return schedule


def schedule_delete(*, schedule: AnalysisSchedule, actor=None) -> None:
    from accounts.services import audit

    organization, name = schedule.organization, schedule.analysis.name
    schedule.delete()
    audit(organization=organization, action="schedule.deleted", actor=actor, target=name)


def _base_run(schedule: AnalysisSchedule):
    """The run a scheduled re-run re-runs: the schedule's latest finished run, so segments stay matched."""
    last = schedule.last_analysis
    if last is not None and last.is_ready:
        return last
    return schedule.analysis


def schedule_run(schedule: AnalysisSchedule, *, now: datetime | None = None):
    """Start the schedule's re-run now (a normal analysis job). Returns the new analysis, or None (its error is kept
    on the schedule)."""
    from segments.services import analysis_rerun

    now = now or timezone.now()
    schedule.last_run_at = now
    schedule.next_run_at = next_run_after(schedule.frequency, now) if schedule.enabled else None
    try:
        new = analysis_rerun(analysis=_base_run(schedule), created_by=schedule.created_by)
    except UserFacingError as exc:
        schedule.last_error = exc.message
        schedule.save(update_fields=["last_run_at", "next_run_at", "last_error", "updated_at"])
        return None
    schedule.last_analysis, schedule.last_error = new, ""
    schedule.save(update_fields=["last_run_at", "next_run_at", "last_analysis", "last_error", "updated_at"])
    return new


def schedules_run_due(*, now: datetime | None = None) -> dict:
    """Beat, every minute: start every enabled schedule whose time has come (across organizations: the sweeper)."""
    now = now or timezone.now()
    started = failed = 0
    due = AnalysisSchedule.objects.unscoped().filter(enabled=True, next_run_at__lte=now).select_related("analysis")
    for schedule in due:
        with transaction.atomic():
            # Claim it: a second beat (or a slow one) must not start the same run twice.
            claimed = (
                AnalysisSchedule.objects.unscoped()
                .filter(pk=schedule.pk, next_run_at=schedule.next_run_at)
                .update(next_run_at=next_run_after(schedule.frequency, now))
            )
            if not claimed:
                continue
            if schedule_run(schedule, now=now) is None:
                failed += 1
            else:
                started += 1
    return {"started": started, "failed": failed}


# --- webhooks -------------------------------------------------------------------------------------


def _checked_events(events) -> list[str]:
    events = list(events or [])
    unknown = [e for e in events if e not in WebhookEvent.values]
    if not events or unknown:
        raise WebhookError(
            f"Choose events among {', '.join(WebhookEvent.values)}"
            + (f"; {unknown[0]!r} is not one." if unknown else "."),
            field="events",
        )
    return sorted(set(events))


def endpoint_create(*, organization, url: str, events: list[str], actor=None) -> WebhookEndpoint:
    """Register an endpoint (the URL checked; private and loopback addresses refused unless the settings allow
    them). Its secret is on the returned object: show it once."""
    events = _checked_events(events)
    url = check_url(url, allow_private=settings.WEBHOOK_ALLOW_PRIVATE_URLS)
    endpoint = WebhookEndpoint.objects.for_organization(organization).create(
        url=url,
        secret=new_secret(),
        events=events,
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    if actor is not None:
        from accounts.services import audit

        audit(organization=organization, action="webhook.created", actor=actor, target=url, events=endpoint.events)
    return endpoint


def endpoint_update(
    *,
    endpoint: WebhookEndpoint,
    url: str | None = None,
    events: list[str] | None = None,
    active: bool | None = None,
    actor=None,
) -> WebhookEndpoint:
    """Change an endpoint's URL (checked like a new one), events or whether it is active; what is not given stays.
    Everything is checked before anything is saved. The secret does not change."""
    changes = {}
    if events is not None:
        changes["events"] = _checked_events(events)
    if url is not None:
        changes["url"] = check_url(url, allow_private=settings.WEBHOOK_ALLOW_PRIVATE_URLS)
    if active is not None:
        changes["active"] = bool(active)
    changes = {k: v for k, v in changes.items() if getattr(endpoint, k) != v}
    if not changes:
        return endpoint
    for field, value in changes.items():
        setattr(endpoint, field, value)
    endpoint.save(update_fields=list(changes))
    from accounts.services import audit

    audit(organization=endpoint.organization, action="webhook.updated", actor=actor, target=endpoint.url, **changes)
    return endpoint


def endpoint_delete(*, endpoint: WebhookEndpoint, actor=None) -> None:
    from accounts.services import audit

    organization, url = endpoint.organization, endpoint.url
    endpoint.delete()
    audit(organization=organization, action="webhook.deleted", actor=actor, target=url)


def emit(*, organization, event: str, data: dict) -> list[WebhookDelivery]:
    """Store one delivery per active endpoint subscribed to `event`, sent once the transaction commits."""
    endpoints = [
        e for e in WebhookEndpoint.objects.for_organization(organization).filter(active=True) if event in e.events
    ]
    deliveries = []
    for endpoint in endpoints:
        delivery = WebhookDelivery.objects.for_organization(organization).create(
            endpoint=endpoint, event=event, payload={}, next_attempt_at=timezone.now()
        )
        delivery.payload = {
            "id": delivery.pk,
            "event": event,
            "created_at": timezone.now().isoformat(),
            "organization": organization.slug,
            "data": data,
        }
        delivery.save(update_fields=["payload"])
        deliveries.append(delivery)
    for delivery in deliveries:
        transaction.on_commit(lambda pk=delivery.pk: _send_later(pk, 0))
    return deliveries


def _send_later(delivery_id: int, countdown: float) -> None:
    from monitoring.tasks import deliver_webhook

    try:
        deliver_webhook.apply_async((delivery_id,), countdown=countdown)
    except Exception:  # noqa: BLE001 - broker down: the beat sweep retries due deliveries
        log.exception("Could not queue webhook delivery %s; the sweep will retry it", delivery_id)


def retry_delay(attempts: int) -> float:
    """Seconds before the next attempt after `attempts` failed ones: the base, doubling each time."""
    return float(settings.WEBHOOK_RETRY_BASE_SECONDS) * (2 ** max(attempts - 1, 0))


def delivery_attempt(delivery_id: int) -> WebhookDelivery | None:
    """One signed attempt of a pending delivery (claimed, so two workers never send the same attempt); on failure
    the next attempt is scheduled with backoff, until the last one marks it failed."""
    row = WebhookDelivery.objects.unscoped().select_related("endpoint").filter(pk=delivery_id).first()
    if row is None or row.status != DeliveryStatus.PENDING:
        return row
    claimed = (
        WebhookDelivery.objects.unscoped()
        .filter(pk=row.pk, status=DeliveryStatus.PENDING, attempts=row.attempts)
        .update(attempts=F("attempts") + 1, next_attempt_at=None)
    )
    if not claimed:
        return row
    row.attempts += 1
    endpoint = row.endpoint
    try:
        # Checked again at each attempt: a host may resolve elsewhere than when it was registered.
        check_url(endpoint.url, allow_private=settings.WEBHOOK_ALLOW_PRIVATE_URLS)
    except WebhookError as exc:
        outcome_ok, status, body, error = False, None, "", exc.message
    else:
        attempt = post(
            endpoint.url,
            secret=endpoint.secret,
            event=row.event,
            delivery_id=row.pk,
            payload=row.payload,
            timeout=float(settings.WEBHOOK_TIMEOUT_SECONDS),
        )
        outcome_ok, status, body, error = attempt.ok, attempt.status, attempt.body, attempt.error
    now = timezone.now()
    fields = {"response_status": status, "response_body": body, "error": error}
    if outcome_ok:
        fields.update(status=DeliveryStatus.SUCCEEDED, delivered_at=now, error="")
    elif row.attempts >= int(settings.WEBHOOK_MAX_ATTEMPTS):
        fields.update(status=DeliveryStatus.FAILED, error=f"{error} (gave up after {row.attempts} attempts)")
    else:
        delay = retry_delay(row.attempts)
        fields.update(next_attempt_at=now + timedelta(seconds=delay))
        transaction.on_commit(lambda: _send_later(row.pk, delay))
    WebhookDelivery.objects.unscoped().filter(pk=row.pk).update(**fields)
    row.refresh_from_db()
    return row


def deliveries_retry_due(*, now: datetime | None = None, grace_seconds: float = 60.0) -> int:
    """Beat: re-queue pending deliveries whose attempt is overdue by `grace_seconds` (the broker lost it)."""
    now = now or timezone.now()
    overdue = WebhookDelivery.objects.unscoped().filter(
        status=DeliveryStatus.PENDING, next_attempt_at__lte=now - timedelta(seconds=grace_seconds)
    )
    ids = list(overdue.values_list("pk", flat=True)[:500])
    for pk in ids:
        _send_later(pk, 0)
    return len(ids)


# --- drift and alerts -----------------------------------------------------------------------------


def _alerting(level: str) -> bool:
    from segments.engine.drift import LEVELS

    threshold = settings.DRIFT_ALERT_LEVEL if settings.DRIFT_ALERT_LEVEL in LEVELS else "moderate"
    return LEVELS.index(level) >= LEVELS.index(threshold) and level != "stable"


def _drift_columns(dataset) -> dict[str, str]:
    kinds = {"numeric": "numeric", "monetary": "numeric", "categorical": "categorical", "date": "date"}
    return {c: kinds[r] for c, r in (dataset.roles or {}).items() if r in kinds}


def drift_for_version(version, *, progress=None) -> DriftReport | None:
    """Per-feature PSI between `version` and the version before it (None for version 1)."""
    from datasets.models import DatasetVersion
    from segments.engine.drift import feature_drift, worst_level
    from segsaas import storage

    progress = progress or (lambda stage, pct: None)
    dataset = version.dataset
    previous = (
        DatasetVersion.objects.for_organization(version.organization)
        .filter(dataset=dataset, number__lt=version.number)
        .order_by("-number")
        .first()
    )
    if previous is None:
        return None
    columns = {c: k for c, k in _drift_columns(dataset).items() if c in previous.column_names}
    columns = {c: k for c, k in columns.items() if c in version.column_names}
    note = ""
    progress(f"Reading versions {previous.number} and {version.number}", 10)
    if dataset.is_order_log:
        old, new, columns, note = _order_log_drift_frames(dataset, previous, version, columns)
    else:
        old = storage.read_parquet(previous.data_file, columns=list(columns))
        new = storage.read_parquet(version.data_file, columns=list(columns))
    progress(f"Comparing {len(columns)} columns", 50)
    rows = feature_drift(old, new, columns)
    level = worst_level(r["level"] for r in rows)
    report = DriftReport.objects.for_organization(version.organization).create(
        dataset=dataset,
        kind=DriftKind.FEATURES,
        version=version,
        previous_version=previous,
        rows=rows,
        level=level,
        note=note,
        alert=_alerting(level),
    )
    if report.alert:
        raise_alert(report)
    progress("Done", 100)
    return report


def _order_log_drift_frames(dataset, previous, version, columns: dict[str, str]):
    """An order log grows: its next version holds the earlier orders again plus the new ones, so comparing the two
    whole logs would show the dates moving every time and dilute any change in the rest. Compared instead: the
    orders dated after the previous version's last order against the previous version's orders, on the log's
    columns other than the customer id and the date. Returns (old, new, columns, note)."""
    import pandas as pd

    from segsaas import storage

    order = dataset.order_columns or {}
    id_col, date_col = order.get("customer_col"), order.get("date_col")
    compared = {c: k for c, k in columns.items() if c not in (id_col, date_col)}
    read = [*compared, *([date_col] if date_col else [])]
    old = storage.read_parquet(previous.data_file, columns=read)
    new = storage.read_parquet(version.data_file, columns=read)
    if date_col:
        old_dates = pd.to_datetime(old[date_col], errors="coerce")
        new_dates = pd.to_datetime(new[date_col], errors="coerce")
        last = old_dates.max()
        new = new[new_dates > last] if pd.notna(last) else new
        since = f"after {last:%Y-%m-%d} (the last order of version {previous.number})" if pd.notna(last) else ""
    else:
        since = ""
    skipped = " and ".join(f"“{c}”" for c in (id_col, date_col) if c)
    added = (
        f"the {len(new):,} orders dated {since}" if since else f"the {len(new):,} orders of version {version.number}"
    )
    note = (
        f"Order log: {added} compared with the {len(old):,} orders of version {previous.number}; {skipped} not "
        "compared (a growing log always moves its dates). Who moved between segments is on a re-run's Changes tab."
    )
    return old[list(compared)], new[list(compared)], compared, note


def drift_for_analysis(analysis) -> DriftReport | None:
    """Per-segment share and churn changes between a re-run and the run it re-ran (segments matched by number)."""
    from segments.engine.drift import segment_changes, worst_level
    from segments.services.timeline import previous_run

    previous = previous_run(analysis)
    if previous is None or not analysis.profiles:
        return None
    rows = segment_changes(previous.profiles, analysis.profiles)
    level = worst_level(r["level"] for r in rows)
    report = DriftReport.objects.for_organization(analysis.organization).create(
        dataset=analysis.dataset,
        kind=DriftKind.SEGMENTS,
        version=analysis.dataset_version,
        previous_version=previous.dataset_version,
        analysis=analysis,
        previous_analysis=previous,
        rows=rows,
        level=level,
        alert=_alerting(level),
    )
    if report.alert:
        raise_alert(report)
    return report


def alert_summary(report: DriftReport) -> str:
    """One line per row at or above moderate, as people read it."""
    from segments.engine.formatting import percent

    lines = []
    for r in report.alert_rows:
        if report.kind == DriftKind.FEATURES:
            lines.append(f"{r['column']}: PSI {r['psi']:.2f} ({r['level']} drift)")
        elif r["status"] != "continued":
            lines.append(f"{r['name']}: {r['status']} segment")
        else:
            parts = [f"share {percent(r['share_before'])} → {percent(r['share_after'])}"]
            if r.get("churn_change") is not None:
                parts.append(f"churn risk {percent(r['churn_before'])} → {percent(r['churn_after'])}")
            lines.append(f"{r['name']}: {', '.join(parts)} ({r['level']})")
    return "\n".join(lines)


def raise_alert(report: DriftReport) -> None:
    """E-mail subscribed members and send `segments.drift_alert` to webhooks (the dashboard reads the report)."""
    from django.core.mail import send_mail

    from accounts.models import Membership

    org = report.organization
    what = "Feature drift" if report.kind == DriftKind.FEATURES else "Segment changes"
    where = f"dataset “{report.dataset.name}”"
    if report.version_id:
        where += f", version {report.version.number}"
    subject = f"[SegSaaS] {what} ({report.level}) in {where}"
    body = f"{what} over the alert threshold in {where}:\n\n{alert_summary(report)}\n"
    members = set(Membership.objects.for_organization(org).values_list("user_id", flat=True))
    recipients = sorted(
        s.user.email
        for s in AlertSubscription.objects.for_organization(org).select_related("user")
        if s.user_id in members and s.user.email
    )
    if recipients:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, recipients, fail_silently=False)
    emit(
        organization=org,
        event=WebhookEvent.DRIFT_ALERT,
        data={
            "kind": report.kind,
            "level": report.level,
            "dataset": report.dataset_id,
            "version": report.version.number if report.version_id else None,
            "previous_version": report.previous_version.number if report.previous_version_id else None,
            "analysis": report.analysis_id,
            "previous_analysis": report.previous_analysis_id,
            "rows": report.alert_rows,
        },
    )


def subscription_set(*, organization, user, subscribed: bool) -> bool:
    rows = AlertSubscription.objects.for_organization(organization).filter(user=user)
    if subscribed:
        AlertSubscription.objects.for_organization(organization).get_or_create(user=user)
    else:
        rows.delete()
    return subscribed


def is_subscribed(*, organization, user) -> bool:
    return AlertSubscription.objects.for_organization(organization).filter(user=user).exists()


def recent_alerts(*, organization, days: int = 30, limit: int = 5) -> list[DriftReport]:
    since = timezone.now() - timedelta(days=days)
    return list(
        DriftReport.objects.for_organization(organization)
        .filter(alert=True, created_at__gte=since)
        .select_related("dataset", "version", "previous_version")
        .order_by("-created_at")[:limit]
    )


# --- what happens when ----------------------------------------------------------------------------


def on_version_ready(version) -> None:
    """A new version is stored: tell webhooks, compare it with the version before (a job), start the schedules that
    run on every new version."""
    from jobs.services import job_create

    org = version.organization
    emit(
        organization=org,
        event=WebhookEvent.VERSION_READY,
        data={
            "dataset": version.dataset_id,
            "dataset_name": version.dataset.name,
            "version": version.number,
            "rows": version.row_count,
            "columns": version.column_count,
            "schema_changes": version.schema_changes,
        },
    )
    if version.number > 1:
        job_create(
            organization=org,
            kind=DRIFT_JOB_KIND,
            params={"version_id": version.pk, "dataset_id": version.dataset_id},
            created_by=version.uploaded_by,
        )
    schedules = AnalysisSchedule.objects.for_organization(org).filter(
        enabled=True, frequency=Frequency.ON_VERSION, analysis__dataset_id=version.dataset_id
    )
    for schedule in schedules.select_related("analysis", "last_analysis"):
        schedule_run(schedule)


def analysis_payload(analysis, status: str) -> dict:
    return {
        "analysis": analysis.pk,
        "name": analysis.name,
        "dataset": analysis.dataset_id,
        "version": analysis.dataset_version.number if analysis.dataset_version_id else None,
        "status": status,
        "segments": analysis.n_segments,
        "customers": analysis.customer_count,
        "rerun_of": analysis.rerun_of_id,
        "links": {"self": f"/api/v1/analyses/{analysis.pk}/"},
    }


def on_analysis_succeeded(analysis) -> None:
    """A run's results are stored: compare its segments with the run before, tell webhooks."""
    try:
        drift_for_analysis(analysis)
    except Exception:  # noqa: BLE001 - the run succeeded; a failed comparison must not fail it
        log.exception("Segment drift for analysis %s failed", analysis.pk)
    try:
        emit(
            organization=analysis.organization,
            event=WebhookEvent.ANALYSIS_SUCCEEDED,
            data=analysis_payload(analysis, "succeeded"),
        )
    except Exception:  # noqa: BLE001 - the results are stored; telling partners must not fail the run
        log.exception("Could not queue analysis.succeeded webhooks for analysis %s", analysis.pk)


def on_analysis_failed(analysis, error: str) -> None:
    emit(
        organization=analysis.organization,
        event=WebhookEvent.ANALYSIS_FAILED,
        data={**analysis_payload(analysis, "failed"), "error": error},
    )
