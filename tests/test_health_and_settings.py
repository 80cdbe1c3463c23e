import os
import subprocess
import sys
from pathlib import Path

from django.test import override_settings

ROOT = Path(__file__).resolve().parent.parent


def test_healthz_reports_database_broker_and_storage(db, client):
    response = client.get("/healthz")
    assert response.status_code == 200, response.content
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "broker": "ok", "storage": "ok"}}


def test_healthz_says_which_part_failed(db, client, monkeypatch):
    from segsaas import health

    monkeypatch.setattr(health, "_check_broker", lambda: "ConnectionRefusedError: nobody listens")
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"] == {
        "database": "ok",
        "broker": "failed: ConnectionRefusedError: nobody listens",
        "storage": "ok",
    }


def test_healthz_says_when_the_storage_fails(db, client, monkeypatch):
    from segsaas import storage

    def refuse(name, text):
        raise PermissionError(13, "Permission denied", name)

    monkeypatch.setattr(storage, "save_text", refuse)
    response = client.get("/healthz")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["database"] == "ok" and checks["broker"] == "ok"
    assert checks["storage"].startswith("failed: PermissionError") and "Permission denied" in checks["storage"]


def test_check_deploy_is_clean_in_production_mode():
    env = dict(
        os.environ,
        SEGSAAS_PRODUCTION="1",
        SECRET_KEY="x" * 20 + "prod-secret-key-for-the-check-0123456789",
        ALLOWED_HOSTS="segsaas.example.com",
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_celery_is_configured_for_long_ml_jobs():
    from segsaas.celery import app

    conf = app.conf
    assert conf.task_acks_late and conf.task_reject_on_worker_lost
    assert conf.worker_prefetch_multiplier == 1
    assert conf.task_serializer == "json" and conf.accept_content == ["json"]
    assert conf.task_soft_time_limit < conf.task_time_limit < conf.broker_transport_options["visibility_timeout"]


@override_settings(DEBUG=False)
def test_static_css_is_served_locally(client):
    from django.contrib.staticfiles import finders

    assert finders.find("vendor/bootstrap/bootstrap.min.css")
    assert finders.find("css/app.css")
