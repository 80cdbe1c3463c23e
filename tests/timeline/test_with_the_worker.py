"""The whole loop with the real Celery worker: a new month's file arrives as a new version, the schedule "on every
new version" re-runs the analysis by itself, the drift job compares the versions, and a partner's endpoint on
loopback receives the signed events (the first attempt refused, the retry delivered)."""

import json
import time

import pytest
from helpers import wait_for_job
from receiver import Receiver
from timeline_data import month

from monitoring.webhooks import verify_signature

pytestmark = [pytest.mark.worker]


def _wait(condition, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if condition():
            return True
        time.sleep(0.3)
    return False


def test_new_version_reruns_by_itself_and_partners_get_signed_events(worker, people, months, upload_frame, add_version):
    from monitoring.models import DriftReport, WebhookDelivery
    from monitoring.services import endpoint_create, schedule_save
    from segments.models import Analysis
    from segments.services import analysis_create, analysis_default_config

    first, second, expected = months
    dataset = upload_frame(month(first))
    run1 = analysis_create(
        organization=people.acme,
        dataset=dataset,
        config={**analysis_default_config(dataset), "n_clusters": 3, "nlp": False},
        created_by=people.alice,
    )
    assert wait_for_job(run1.job).status == "succeeded"
    schedule_save(analysis=run1, frequency="on_version")
    with Receiver(statuses=[503]) as receiver:
        endpoint = endpoint_create(
            organization=people.acme,
            url=receiver.url,
            events=["dataset.version_ready", "analysis.succeeded", "segments.drift_alert"],
        )
        add_version(dataset, month(second, seed=1))
        rerun = Analysis.objects.for_organization(people.acme).get(rerun_of=run1)
        assert wait_for_job(rerun.job).status == "succeeded"
        events = lambda: {json.loads(r["body"])["event"] for r in receiver.requests}  # noqa: E731
        assert _wait(lambda: {"dataset.version_ready", "analysis.succeeded", "segments.drift_alert"} <= events()), (
            events()
        )
        assert _wait(
            lambda: not WebhookDelivery.objects.for_organization(people.acme).filter(status="pending").exists()
        )
    deliveries = list(WebhookDelivery.objects.for_organization(people.acme).order_by("pk"))
    assert {d.status for d in deliveries} == {"succeeded"}
    assert max(d.attempts for d in deliveries) == 2  # the one refused with 503 was retried
    for request in receiver.requests:
        headers = {k.lower(): v for k, v in request["headers"].items()}
        assert verify_signature(endpoint.secret, request["body"], headers["x-segsaas-signature"])
    succeeded = next(json.loads(r["body"]) for r in receiver.requests if b"analysis.succeeded" in r["body"])
    assert succeeded["data"]["analysis"] == rerun.pk and succeeded["data"]["version"] == 2
    # The feature comparison is its own job on the heavy queue, queued beside the re-run: the segment-change alert
    # (raised when the re-run finishes) can reach the partner before it, so wait for it rather than assume an order.
    assert _wait(
        lambda: DriftReport.objects.for_organization(people.acme).filter(kind="features", version__number=2).exists()
    )
    rerun.refresh_from_db()
    assert rerun.summary["continuity"]["previous_analysis"] == run1.pk
    assert len(expected) == 6


def test_a_large_version_is_processed_by_the_worker_and_a_refused_one_is_marked_with_the_column(
    worker, people, months, upload_frame, add_version, settings, client_for
):
    from datasets.models import DatasetVersion

    first, second, _ = months
    dataset = upload_frame(month(first))
    settings.DATASETS_INLINE_MAX_BYTES = 100  # so these files take the job path
    version = add_version(dataset, month(second, seed=1))
    assert version.status == "processing" and version.job is not None
    page = client_for(people.alice, people.acme).get(f"/datasets/{dataset.pk}/").content.decode()
    version.job.refresh_from_db()
    # the page shows the job's progress while it runs (the worker may already have finished this small file)
    assert 'data-testid="job-progress"' in page or version.job.status == "succeeded"
    assert wait_for_job(version.job).status == "succeeded"
    version.refresh_from_db()
    dataset.refresh_from_db()
    assert version.status == "ready" and version.row_count == 148 and dataset.data_file.name == version.data_file
    refused = add_version(dataset, month(second).drop(columns=["spend"]), filename="month-3.csv")
    job = wait_for_job(refused.job)
    assert job.status == "failed" and "'spend'" in job.error
    rows = DatasetVersion.objects.for_organization(people.acme).filter(pk=refused.pk)
    assert _wait(lambda: rows.get().status != "processing", timeout=30)  # the fail hook runs after the status
    refused = rows.get()
    assert refused.status == "failed" and "'spend'" in refused.error and refused.data_file == ""
    dataset.refresh_from_db()
    assert dataset.data_file.name == version.data_file  # the dataset stays on the last good version
    page = client_for(people.alice, people.acme).get(f"/datasets/{dataset.pk}/").content.decode()
    assert 'data-testid="version-failed"' in page
