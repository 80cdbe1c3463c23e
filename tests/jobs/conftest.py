"""Fixtures of the jobs tests: queues private to one test, for workers the test starts and stops itself."""

import pytest


@pytest.fixture
def private_queues(settings):
    """Queues of this test only, so the session's worker (if a test started it) takes none of these jobs.
    `.env` is the environment a worker (or web process) needs to use them as well."""
    light = f"{settings.JOB_QUEUES['light']}-private"
    queues = {"light": light, "heavy": f"{light}.heavy"}
    settings.JOB_QUEUES = queues
    env = {"CELERY_TASK_DEFAULT_QUEUE": queues["light"], "JOB_HEAVY_QUEUE": queues["heavy"]}
    return type("Queues", (), {"names": list(queues.values()), "env": env, **queues})
