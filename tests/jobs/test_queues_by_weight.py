"""Jobs go to a queue by weight: analyses and large imports on the heavy queue, exports and the rest (the sweeper
included) on the light one; with a worker per queue a light job never waits behind a heavy one."""

import time

import pytest
from helpers import TMP, start_worker, stop_worker, wait_for_job


def test_each_kind_goes_to_the_queue_of_its_weight(settings):
    from jobs.services import _load_handlers, job_queue

    _load_handlers()
    heavy, light = settings.JOB_QUEUES["heavy"], settings.JOB_QUEUES["light"]
    assert heavy != light
    assert job_queue("analysis.run", {"analysis_id": 1}) == heavy
    assert job_queue("datasets.import", {"dataset_id": 1}) == heavy  # only large uploads are imported in a job
    assert job_queue("datasets.synthetic", {"dataset_id": 1}) == heavy
    assert job_queue("export.build", {"export_id": 1}) == light
    assert settings.CELERY_BEAT_SCHEDULE["sweep-stale-jobs"]["options"]["queue"] == light


@pytest.mark.django_db(transaction=True)
def test_a_light_job_does_not_wait_behind_heavy_ones(people, private_queues):
    from jobs.services import job_create

    people.acme.max_concurrent_jobs = 10
    people.acme.save()
    heavy_worker = start_worker(
        name="heavy", log_path=TMP / "worker-heavy.log", queues=[private_queues.heavy], concurrency=1,
        env=private_queues.env,
    )  # fmt: skip
    light_worker = start_worker(
        name="light", log_path=TMP / "worker-light.log", queues=[private_queues.light], concurrency=1,
        env=private_queues.env,
    )  # fmt: skip
    try:
        heavy = [
            job_create(organization=people.acme, kind="test.heavy_sleep", params={"steps": 100, "step_seconds": 0.1})
            for _ in range(2)
        ]
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and heavy[0].status != "running":
            time.sleep(0.1)
            heavy[0].refresh_from_db()
        assert heavy[0].status == "running"
        t0 = time.monotonic()
        light = job_create(organization=people.acme, kind="test.sleep", params={"steps": 2, "step_seconds": 0.05})
        wait_for_job(light, timeout=60)
        light_seconds = time.monotonic() - t0
        for job in heavy:
            job.refresh_from_db()
        assert light.status == "succeeded"
        assert heavy[0].status == "running" and heavy[1].status == "queued"  # the light job overtook both
        assert light_seconds < 8, f"the light job took {light_seconds:.1f} s"
        for job in heavy:
            assert wait_for_job(job, timeout=120).status == "succeeded"
    finally:
        stop_worker(heavy_worker)
        stop_worker(light_worker)
