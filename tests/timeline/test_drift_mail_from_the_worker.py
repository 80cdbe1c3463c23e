"""Drift alerts leave a real Celery worker process: a new version of a table arrives, the worker's
`monitoring.drift` job finds the shift, and the alert e-mail (written by Django's file-based backend, so this test
reads what the worker sent) reaches exactly the organization's subscribed members, while the signed
`segments.drift_alert` webhook, sent by the worker too, reaches a receiver on loopback."""

import json
import time
from email import message_from_string, policy

import pytest
from helpers import TMP, start_worker, stop_worker, wait_for_job
from receiver import Receiver
from timeline_data import month

from monitoring.webhooks import verify_signature

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def _wait(condition, timeout=90):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if condition():
            return True
        time.sleep(0.3)
    return False


def _messages(folder):
    """Every message the file-based backend wrote (one file per connection, messages separated by a line of
    79 dashes)."""
    out = []
    for path in sorted(folder.glob("*.log")):
        for chunk in path.read_text().split("-" * 79):
            if chunk.strip():
                out.append(message_from_string(chunk.strip(), policy=policy.default))
    return out


def test_the_worker_mails_subscribed_members_and_calls_webhooks_on_drift(
    people, make_user, months, upload_frame, add_version, private_queues, tmp_path
):
    from accounts.models import Membership
    from jobs.models import Job
    from monitoring.models import DriftReport, WebhookDelivery
    from monitoring.services import endpoint_create, subscription_set

    mail_dir = tmp_path / "mail"
    first, _, _ = months
    dataset = upload_frame(month(first))
    subscription_set(organization=people.acme, user=people.bob, subscribed=True)
    subscription_set(organization=people.acme, user=people.vera, subscribed=True)
    subscription_set(organization=people.globex, user=people.charlie, subscribed=True)  # another organization
    former = make_user("former@acme.example")
    membership = Membership.objects.for_organization(people.acme).create(user=former, role="viewer")
    subscription_set(organization=people.acme, user=former, subscribed=True)
    membership.delete()  # left Acme: no longer a member, no mail
    worker = start_worker(
        name="drift-mail",
        log_path=TMP / "worker-drift-mail.log",
        queues=private_queues.names,
        env=private_queues.env
        | {"EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend", "EMAIL_FILE_PATH": str(mail_dir)},
    )
    try:
        with Receiver() as receiver:
            endpoint = endpoint_create(organization=people.acme, url=receiver.url, events=["segments.drift_alert"])
            shifted = month(first, seed=2)
            shifted["spend"] = shifted["spend"] * 3  # everyone spends three times as much
            version = add_version(dataset, shifted)
            job = Job.objects.for_organization(people.acme).get(kind="monitoring.drift", params__version_id=version.pk)
            assert wait_for_job(job, timeout=120).status == "succeeded", job.error
            assert _wait(lambda: len(receiver.requests) >= 1), "no webhook reached the receiver"
            assert _wait(lambda: _messages(mail_dir) if mail_dir.exists() else False), "no mail written"
            assert _wait(
                lambda: WebhookDelivery.objects.for_organization(people.acme).filter(status="succeeded").exists()
            )
    finally:
        stop_worker(worker)

    report = DriftReport.objects.for_organization(people.acme).get(version=version)
    assert report.alert and report.level == "major"

    (mail,) = _messages(mail_dir)
    recipients = sorted(a.strip() for a in mail["To"].split(","))
    assert recipients == sorted([people.bob.email, people.vera.email])
    assert "Feature drift (major)" in mail["Subject"] and dataset.name in mail["Subject"]
    body = mail.get_content()
    assert "spend: PSI" in body and "major drift" in body

    (request,) = receiver.requests
    headers = {k.lower(): v for k, v in request["headers"].items()}
    assert headers["x-segsaas-event"] == "segments.drift_alert"
    assert verify_signature(endpoint.secret, request["body"], headers["x-segsaas-signature"])
    payload = json.loads(request["body"])
    assert payload["data"]["version"] == version.number == 2 and payload["data"]["rows"][0]["column"] == "spend"
    (delivery,) = WebhookDelivery.objects.for_organization(people.acme).filter(endpoint=endpoint)
    assert delivery.status == "succeeded" and delivery.attempts == 1
