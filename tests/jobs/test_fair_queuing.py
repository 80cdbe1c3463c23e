"""Fair queuing: an organization has at most one job waiting in each broker queue (its next one is sent when that
one starts), so a job of another organization waits behind at most one of its jobs, whatever it submitted."""

import pytest

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_burst_of_one_organization_puts_one_job_in_the_broker_queue_at_a_time(people, private_queues):
    from jobs.models import Job
    from jobs.services import _claim, dispatch_waiting, job_create

    people.acme.max_concurrent_jobs = 3
    people.acme.save()
    burst = [job_create(organization=people.acme, kind="test.heavy_sleep", params={"steps": 1}) for _ in range(4)]
    export_like = job_create(organization=people.acme, kind="test.sleep", params={"steps": 1})  # light queue
    other = job_create(organization=people.globex, kind="test.heavy_sleep", params={"steps": 1})

    def sent():
        return set(Job.objects.unscoped().exclude(dispatched_at=None).values_list("pk", flat=True))

    # One heavy job of Acme's burst is in the heavy queue, its light job in the light queue, Globex's next to it.
    assert sent() == {burst[0].pk, export_like.pk, other.pk}
    # Acme's first job starts: the next of its burst takes its place in the queue (behind Globex's job).
    job, _ = _claim(burst[0].pk)
    assert job is not None
    dispatch_waiting(people.acme)
    assert sent() == {burst[0].pk, burst[1].pk, export_like.pk, other.pk}
    # The plan's limit still holds: 3 in flight at most (2 running + the light job in the broker), the rest wait.
    job, _ = _claim(burst[1].pk)
    dispatch_waiting(people.acme)
    assert burst[2].pk not in sent() and burst[3].pk not in sent()
    assert [Job.objects.unscoped().get(pk=j.pk).queue_position() for j in burst[2:]] == [1, 2]
