"""Webhooks: payloads signed with HMAC-SHA256 and a timestamp (a replayed or altered request fails verification),
delivered to a receiver on loopback, retried with doubling delays, given up after the last attempt, every attempt
logged; private and loopback URLs refused when the settings do not allow them (production)."""

import json
import time

import pytest
from receiver import Receiver

from monitoring.webhooks import WebhookError, check_url, sign, verify_signature

pytestmark = pytest.mark.django_db


def test_signature_verifies_and_refuses_altered_bodies_other_secrets_and_replays():
    body = b'{"event":"analysis.succeeded"}'
    now = int(time.time())
    header = sign("whsec_1", body, now)
    assert verify_signature("whsec_1", body, header, now=now)
    assert not verify_signature("whsec_1", body + b" ", header, now=now)
    assert not verify_signature("whsec_2", body, header, now=now)
    assert not verify_signature("whsec_1", body, header, now=now + 301)  # replayed 5 minutes later
    assert not verify_signature("whsec_1", body, "garbage", now=now)


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:8000/hook", "http://localhost/hook", "http://10.1.2.3/x", "http://169.254.169.254/latest"],
)
def test_private_and_loopback_urls_are_refused_in_production(url):
    with pytest.raises(WebhookError, match="private, loopback or reserved") as caught:
        check_url(url, allow_private=False)
    assert caught.value.field == "url"


def test_endpoint_registration_refuses_loopback_under_production_settings(people, settings):
    from monitoring.services import endpoint_create

    settings.WEBHOOK_ALLOW_PRIVATE_URLS = False
    with pytest.raises(WebhookError, match=r"127\.0\.0\.1"):
        endpoint_create(organization=people.acme, url="http://127.0.0.1:9/hook", events=["analysis.succeeded"])
    with pytest.raises(WebhookError, match="events"):
        endpoint_create(organization=people.acme, url="https://example.com/hook", events=["nope"])


def test_a_delivery_reaches_the_receiver_signed_with_the_endpoint_secret(people):
    from monitoring.services import delivery_attempt, emit, endpoint_create

    with Receiver() as receiver:
        endpoint = endpoint_create(organization=people.acme, url=receiver.url, events=["dataset.version_ready"])
        (delivery,) = emit(organization=people.acme, event="dataset.version_ready", data={"dataset": 7, "version": 2})
        delivered = delivery_attempt(delivery.pk)
    assert delivered.status == "succeeded" and delivered.attempts == 1 and delivered.response_status == 200
    (request,) = receiver.requests
    headers = {k.lower(): v for k, v in request["headers"].items()}
    assert headers["x-segsaas-event"] == "dataset.version_ready"
    assert headers["x-segsaas-delivery"] == str(delivery.pk)
    assert verify_signature(endpoint.secret, request["body"], headers["x-segsaas-signature"])
    assert headers["x-segsaas-signature"].startswith(f"t={headers['x-segsaas-timestamp']},")
    payload = json.loads(request["body"])
    assert payload["event"] == "dataset.version_ready" and payload["data"] == {"dataset": 7, "version": 2}


def test_failures_are_retried_with_doubling_delays_then_given_up_and_logged(people, settings):
    from django.utils import timezone

    from monitoring.services import delivery_attempt, emit, endpoint_create

    settings.WEBHOOK_RETRY_BASE_SECONDS = 30
    settings.WEBHOOK_MAX_ATTEMPTS = 4
    with Receiver(statuses=[500, 503, 500, 500]) as receiver:
        endpoint_create(organization=people.acme, url=receiver.url, events=["analysis.failed"])
        (delivery,) = emit(organization=people.acme, event="analysis.failed", data={"analysis": 1})
        delays = []
        for _ in range(3):
            before = timezone.now()
            row = delivery_attempt(delivery.pk)
            assert row.status == "pending" and row.response_status in (500, 503)
            delays.append((row.next_attempt_at - before).total_seconds())
        last = delivery_attempt(delivery.pk)
    assert [round(d) for d in delays] == [30, 60, 120]
    assert last.status == "failed" and last.attempts == 4 and "gave up after 4 attempts" in last.error
    assert len(receiver.requests) == 4


def test_a_retry_that_succeeds_and_the_log_page(people, client_for):
    from monitoring.services import delivery_attempt, emit, endpoint_create

    with Receiver(statuses=[502]) as receiver:
        endpoint_create(organization=people.acme, url=receiver.url, events=["analysis.succeeded"])
        (delivery,) = emit(organization=people.acme, event="analysis.succeeded", data={"analysis": 3})
        assert delivery_attempt(delivery.pk).status == "pending"
        done = delivery_attempt(delivery.pk)
    assert done.status == "succeeded" and done.attempts == 2
    # the two attempts were signed separately (fresh timestamps and signatures are allowed to differ)
    assert all("x-segsaas-signature" in {k.lower() for k in r["headers"]} for r in receiver.requests)
    page = client_for(people.alice, people.acme).get("/monitoring/")
    html = page.content.decode()
    assert 'data-status="succeeded"' in html and receiver.url in html
    assert client_for(people.vera, people.acme).get("/monitoring/").content.decode().count(receiver.url) == 0


def test_page_adds_an_endpoint_and_shows_its_secret_once(people, client_for, settings):
    from monitoring.models import WebhookEndpoint

    client = client_for(people.alice, people.acme)
    answer = client.post(
        "/monitoring/webhooks/", {"url": "http://127.0.0.1:9/hook", "events": ["segments.drift_alert"]}, follow=True
    )
    endpoint = WebhookEndpoint.objects.for_organization(people.acme).get()
    assert endpoint.secret in answer.content.decode()
    assert endpoint.secret not in client.get("/monitoring/").content.decode()
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = False
    refused = client.post("/monitoring/webhooks/", {"url": "http://127.0.0.1:9/x", "events": ["analysis.failed"]})
    assert refused.status_code == 400 and "private, loopback or reserved" in refused.content.decode()
    bob = client_for(people.bob, people.acme)  # an analyst may not manage the organization's webhooks
    assert (
        bob.post("/monitoring/webhooks/", {"url": "https://a.example/x", "events": ["analysis.failed"]}).status_code
        == 403
    )


def test_a_failed_analysis_queues_an_analysis_failed_event(people):
    from datasets.services import dataset_create_synthetic
    from jobs.services import job_execute
    from monitoring.models import WebhookDelivery
    from monitoring.services import endpoint_create
    from segments.services import analysis_create, analysis_default_config

    dataset = dataset_create_synthetic(organization=people.acme, created_by=people.alice, rows=300, seed=3)
    endpoint_create(organization=people.acme, url="http://127.0.0.1:9/hook", events=["analysis.failed"])
    analysis = analysis_create(
        organization=people.acme,
        dataset=dataset,
        config={**analysis_default_config(dataset), "n_clusters": 3, "nlp": False},
    )
    from segsaas import storage

    storage.delete(dataset.data_file.name)  # the table is gone when the run starts: it fails
    assert job_execute(analysis.job_id) == "failed"
    delivery = WebhookDelivery.objects.for_organization(people.acme).get()
    assert delivery.event == "analysis.failed"
    assert delivery.payload["data"]["analysis"] == analysis.pk and delivery.payload["data"]["status"] == "failed"
    assert delivery.payload["data"]["error"]
