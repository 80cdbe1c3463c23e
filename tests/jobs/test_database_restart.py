"""The database drops every connection in the middle of a job (as a restarted PostgreSQL does; simulated with
pg_terminate_backend, never by restarting the shared server): the job ends succeeded or failed with a reason,
never running forever."""

import time

import pytest
from helpers import SUBPROCESS_APPLICATION_NAME, wait_for_job

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_job_whose_database_connections_are_cut_ends_and_is_not_left_running(people, worker):
    from django.db import connection

    from jobs.services import job_create

    if connection.vendor != "postgresql":
        pytest.skip("pg_terminate_backend needs PostgreSQL (CI runs this test there)")
    job = job_create(organization=people.acme, kind="test.heavy_sleep", params={"steps": 60, "step_seconds": 0.1})
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (job.status == "running" and job.progress >= 10):
        time.sleep(0.1)
        job.refresh_from_db()
    assert job.status == "running"
    with connection.cursor() as cursor:
        cursor.execute(
            # the worker's connections only: the live server's thread of later browser tests keeps its own
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND application_name = %s",
            [SUBPROCESS_APPLICATION_NAME],
        )
        assert cursor.fetchone()[0] >= 1  # the worker's connections
    job = wait_for_job(job, timeout=90)
    assert job.status == "succeeded" or (job.status == "failed" and job.error), (job.status, job.error)
    assert job.status == "succeeded" and job.attempts == 2  # it lost its connection once and ran again
