"""Schedules re-run an analysis on the latest version when due (beat) or on every new version; drift between
versions (PSI with stated thresholds) and between runs (segment share and churn) raises an alert on the dashboard,
by e-mail to subscribed members and to webhooks."""

from datetime import datetime, timedelta

import numpy as np
import pytest
from timeline_data import month

pytestmark = pytest.mark.django_db


# --- schedules ---


def test_next_run_of_each_frequency():
    from datetime import UTC

    from monitoring.services import next_run_after

    jan31 = datetime(2027, 1, 31, 6, 0, tzinfo=UTC)
    assert next_run_after("daily", jan31) == jan31 + timedelta(days=1)
    assert next_run_after("weekly", jan31) == jan31 + timedelta(days=7)
    assert next_run_after("monthly", jan31) == datetime(2027, 2, 28, 6, 0, tzinfo=UTC)
    assert next_run_after("on_version", jan31) is None


def test_a_due_schedule_reruns_on_the_latest_version_once(months, upload_frame, add_version, first_run):
    from django.utils import timezone

    from monitoring.services import schedule_save, schedules_run_due

    first, second, _ = months
    dataset = upload_frame(month(first))
    run1 = first_run(dataset)
    schedule = schedule_save(analysis=run1, frequency="weekly")
    assert schedules_run_due() == {"started": 0, "failed": 0}  # not due yet
    add_version(dataset, month(second, seed=1))
    later = timezone.now() + timedelta(days=7, minutes=1)
    assert schedules_run_due(now=later) == {"started": 1, "failed": 0}
    assert schedules_run_due(now=later) == {"started": 0, "failed": 0}  # claimed: not started twice
    schedule.refresh_from_db()
    new = schedule.last_analysis
    assert new.rerun_of_id == run1.pk and new.dataset_version.number == 2 and new.config == run1.config
    assert schedule.last_run_at == later and schedule.next_run_at == later + timedelta(days=7)


def test_an_on_version_schedule_runs_when_a_version_is_added(
    months, upload_frame, add_version, first_run, django_capture_on_commit_callbacks
):
    from monitoring.services import schedule_save
    from segments.models import Analysis

    first, second, _ = months
    dataset = upload_frame(month(first))
    run1 = first_run(dataset)
    schedule = schedule_save(analysis=run1, frequency="on_version")
    assert schedule.next_run_at is None
    with django_capture_on_commit_callbacks(execute=True):
        add_version(dataset, month(second, seed=1))
    rerun = Analysis.objects.for_organization(dataset.organization).get(rerun_of=run1)
    assert rerun.dataset_version.number == 2
    schedule.refresh_from_db()
    assert schedule.last_analysis_id == rerun.pk


def test_schedule_form_for_analysts_not_viewers(months, upload_frame, first_run, client_for, people):
    dataset = upload_frame(month(months[0]))
    run1 = first_run(dataset)
    url = f"/monitoring/analyses/{run1.pk}/schedule/"
    assert client_for(people.vera, people.acme).post(url, {"frequency": "daily", "enabled": "on"}).status_code == 403
    bob = client_for(people.bob, people.acme)
    assert bob.post(url, {"frequency": "daily", "enabled": "on"}).status_code == 302
    html = bob.get(f"/analyses/{run1.pk}/changes/").content.decode()
    assert 'data-testid="schedule-state">Daily' in html and "next run 20" in html
    assert (
        'data-testid="schedule-form"'
        not in client_for(people.vera, people.acme).get(f"/analyses/{run1.pk}/changes/").content.decode()
    )
    assert client_for(people.charlie, people.globex).post(url, {"frequency": "daily"}).status_code == 404


def test_beat_runs_the_schedule_and_webhook_sweeps():
    from django.conf import settings

    from segsaas.celery import app

    app.loader.import_default_modules()
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {"monitoring.tasks.run_due_schedules", "monitoring.tasks.retry_due_deliveries"} <= tasks
    assert tasks <= set(app.tasks)


# --- drift ---


def test_psi_is_zero_for_the_same_population_and_major_for_a_shift():
    from segments.engine.drift import level_of, psi_categorical, psi_numeric

    rng = np.random.default_rng(0)
    old = rng.normal(100, 10, 5000)
    assert psi_numeric(old, rng.normal(100, 10, 5000)) < 0.02
    assert 0.1 <= psi_numeric(old, rng.normal(104, 10, 5000)) < 0.25
    assert psi_numeric(old, rng.normal(115, 10, 5000)) >= 0.25
    assert psi_categorical(["a"] * 50 + ["b"] * 50, ["a"] * 50 + ["b"] * 50) == 0
    assert psi_categorical(["a"] * 50 + ["b"] * 50, ["a"] * 90 + ["b"] * 10) > 0.25
    assert [level_of(v, 0.1, 0.25) for v in (0.05, 0.1, 0.3)] == ["stable", "moderate", "major"]


def test_a_shifted_version_raises_an_alert_by_mail_webhook_and_dashboard(
    months, upload_frame, add_version, people, client_for, mailoutbox
):
    from monitoring.models import WebhookDelivery
    from monitoring.services import drift_for_version, endpoint_create, subscription_set

    first, _, _ = months
    dataset = upload_frame(month(first))
    subscription_set(organization=people.acme, user=people.bob, subscribed=True)
    endpoint_create(organization=people.acme, url="http://127.0.0.1:9/hook", events=["segments.drift_alert"])
    shifted = month(first, seed=2)
    shifted["spend"] = shifted["spend"] * 3  # everyone spends three times as much
    report = drift_for_version(add_version(dataset, shifted))
    rows = {r["column"]: r for r in report.rows}
    assert rows["spend"]["level"] == "major" and rows["spend"]["psi"] >= 0.25
    assert rows["visits"]["level"] == "stable"
    assert report.alert and report.level == "major"
    (mail,) = mailoutbox
    assert mail.to == [people.bob.email] and "spend: PSI" in mail.body and "Monthly customers" in mail.subject
    delivery = WebhookDelivery.objects.for_organization(people.acme).get(event="segments.drift_alert")
    assert delivery.payload["data"]["rows"][0]["column"] == "spend" and delivery.payload["data"]["version"] == 2
    home = client_for(people.vera, people.acme).get("/").content.decode()
    assert 'data-testid="drift-alerts"' in home and "spend" in home


def test_the_same_population_in_a_new_version_is_no_alert(upload_frame, add_version, mailoutbox, people):
    from monitoring.services import drift_for_version, subscription_set
    from segments.engine import generate_synthetic

    # Two draws of 4,000 customers from the generator's one population (PSI of small samples is noisy: about
    # (bins - 1) x (1/n1 + 1/n2), so 0.1 needs some thousands of rows to mean drift).
    dataset = upload_frame(generate_synthetic(rows=4000, seed=1, include_churn_label=False))
    subscription_set(organization=people.acme, user=people.alice, subscribed=True)
    report = drift_for_version(add_version(dataset, generate_synthetic(rows=4000, seed=2, include_churn_label=False)))
    assert len(report.rows) >= 5
    assert report.level == "stable", report.rows
    assert not report.alert and mailoutbox == []


def test_segment_share_changes_after_a_rerun_are_reported(
    months, upload_frame, add_version, first_run, rerun, people, mailoutbox
):
    from monitoring.models import DriftReport
    from monitoring.services import subscription_set

    first, second, _ = months
    subscription_set(organization=people.acme, user=people.alice, subscribed=True)
    dataset = upload_frame(month(first))
    run1 = first_run(dataset)
    add_version(dataset, month(second, seed=1))
    run2 = rerun(run1)  # the job handler compares its segments with run 1's
    report = DriftReport.objects.for_organization(people.acme).get(kind="segments", analysis=run2)
    low = next(r for r in report.rows if r["share_before"] == pytest.approx(60 / 150, abs=1e-4))
    assert low["share_after"] == pytest.approx(43 / 148, abs=1e-4)  # 38 stayed + 5 came from the high group
    assert low["level"] == "major" and report.alert
    assert len(mailoutbox) == 1 and "share 40" in mailoutbox[0].body


def test_schedule_api_reads_sets_and_removes(months, upload_frame, first_run, partner, people):
    dataset = upload_frame(month(months[0]))
    run1 = first_run(dataset)
    url = f"/api/v1/analyses/{run1.pk}/schedule/"
    client = partner()
    assert client.get(url).status_code == 404
    answer = client.put(url, {"frequency": "weekly"}, content_type="application/json")
    assert answer.status_code == 200, answer.content
    assert answer.json()["frequency"] == "weekly" and answer.json()["next_run_at"] and answer.json()["enabled"]
    assert client.get(url).json()["analysis"] == run1.pk
    bad = client.put(url, {"frequency": "hourly"}, content_type="application/json")
    assert bad.status_code == 400 and "frequency" in bad.json()["error"]["details"]
    coerced = client.put(url, {"frequency": "daily", "enabled": 0}, content_type="application/json")
    assert coerced.status_code == 400 and "enabled" in coerced.json()["error"]["details"]  # 0 is not false
    assert client.get(url).json()["frequency"] == "weekly"  # and nothing changed
    read_only = partner(scopes=["read"])
    assert read_only.get(url).status_code == 200
    assert read_only.put(url, {"frequency": "daily"}, content_type="application/json").status_code == 403
    assert partner(org=people.globex).get(url).status_code == 404
    assert client.delete(url).status_code == 204 and client.get(url).status_code == 404
