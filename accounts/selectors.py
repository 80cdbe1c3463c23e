"""Reads for accounts: the audit log, filtered as the audit page and its CSV export ask."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.utils import timezone

from accounts.models import AuditEvent
from segments.engine.errors import UserFacingError

AUDIT_CSV_COLUMNS = ["when_utc", "actor", "action", "action_label", "target", "details"]


class AuditFilterError(UserFacingError):
    """A filter value of the audit log cannot be read; `field` names it."""


@dataclass(frozen=True)
class AuditFilter:
    action: str = ""
    actor: str = ""
    date_from: date | None = None
    date_to: date | None = None

    @property
    def active(self) -> bool:
        return bool(self.action or self.actor or self.date_from or self.date_to)

    def as_query(self) -> dict:
        return {
            "action": self.action,
            "actor": self.actor,
            "from": self.date_from.isoformat() if self.date_from else "",
            "to": self.date_to.isoformat() if self.date_to else "",
        }


def _date(value: str, field: str, label: str) -> date | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise AuditFilterError(f"{label} “{value}” is not a date; use YYYY-MM-DD.", field=field) from exc


def audit_filter_from(params) -> AuditFilter:
    """The filter from query parameters `action`, `actor` (an e-mail, part of one, or an API key prefix),
    `from` and `to` (YYYY-MM-DD, both days included). Raises AuditFilterError naming every bad field."""
    errors = []
    dates = {}
    for field, label in (("from", "From date"), ("to", "To date")):
        try:
            dates[field] = _date(params.get(field, ""), field, label)
        except AuditFilterError as exc:
            errors.append(exc)
    if not errors and dates["from"] and dates["to"] and dates["from"] > dates["to"]:
        errors.append(AuditFilterError("The To date is before the From date.", field="to"))
    if errors:
        raise AuditFilterError.of(errors)
    return AuditFilter(
        action=(params.get("action") or "").strip()[:60],
        actor=(params.get("actor") or "").strip()[:200],
        date_from=dates["from"],
        date_to=dates["to"],
    )


def audit_events(*, organization, where: AuditFilter | None = None):
    """The organization's audit events, newest first, narrowed by `where`."""
    from django.db.models import Q

    qs = AuditEvent.objects.for_organization(organization).select_related("actor", "api_key")
    where = where or AuditFilter()
    if where.action:
        qs = qs.filter(action=where.action)
    if where.actor:
        if where.actor == "system":
            qs = qs.filter(actor=None, api_key=None, actor_label="")
        else:
            qs = qs.filter(
                Q(actor__email__icontains=where.actor)
                | Q(actor_label__icontains=where.actor)
                | Q(api_key__prefix__startswith=where.actor)
            )
    tz = timezone.get_current_timezone()
    if where.date_from:
        qs = qs.filter(created_at__gte=datetime.combine(where.date_from, time.min, tzinfo=tz))
    if where.date_to:
        qs = qs.filter(created_at__lt=datetime.combine(where.date_to + timedelta(days=1), time.min, tzinfo=tz))
    return qs.order_by("-created_at", "-pk")


def audit_actions(*, organization) -> list[tuple[str, str]]:
    """(action, label) of the actions recorded in this organization, by label (the filter's choices)."""
    from accounts.models import audit_action_label

    keys = AuditEvent.objects.for_organization(organization).order_by().values_list("action", flat=True).distinct()
    return sorted(((k, audit_action_label(k)) for k in set(keys)), key=lambda kv: kv[1])


def actor_label(event: AuditEvent) -> str:
    if event.actor_id:
        return event.actor.email
    if event.api_key_id:
        return f"API key {event.api_key.prefix}"
    if event.actor_label:  # the person's account or the key was deleted since
        return f"{event.actor_label} (deleted)"
    return "system"


def details_text(event: AuditEvent) -> str:
    return " ".join(f"{k}={v}" for k, v in (event.details or {}).items())


def audit_csv_rows(events):
    """The CSV text, row by row (a header first): for a streamed download."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow(AUDIT_CSV_COLUMNS)
    yield flush()
    for event in events.iterator(chunk_size=1000):
        writer.writerow(
            [
                event.created_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S"),
                actor_label(event),
                event.action,
                event.action_label,
                event.target,
                details_text(event),
            ]
        )
        yield flush()
