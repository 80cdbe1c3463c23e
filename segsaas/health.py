"""`GET /healthz`: which part is down: the database, the Celery broker, the file storage (local disk or S3)."""

from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


def _check_database() -> str | None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # noqa: BLE001 - any failure means "unreachable"
        return f"{type(exc).__name__}: {exc}"
    return None


def _check_broker() -> str | None:
    from segsaas.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
    except Exception as exc:  # noqa: BLE001
        return f"{type(exc).__name__}: {exc}"
    return None


def _check_storage() -> str | None:
    """Write, read back and remove a small file through the one storage module."""
    import os

    from segsaas import storage

    try:
        name = storage.save_text(f"healthz/probe-{os.getpid()}.txt", "ok")
        try:
            if storage.read_text(name) != "ok":
                return "the file read back differs from the one written"
        finally:
            storage.delete(name)
    except Exception as exc:  # noqa: BLE001
        return f"{type(exc).__name__}: {exc}"
    return None


@never_cache
@require_GET
def healthz(request):
    checks = {"database": _check_database(), "broker": _check_broker(), "storage": _check_storage()}
    body = {
        "status": "ok" if not any(checks.values()) else "unavailable",
        "checks": {name: ("ok" if err is None else f"failed: {err}") for name, err in checks.items()},
    }
    return JsonResponse(body, status=200 if body["status"] == "ok" else 503)
