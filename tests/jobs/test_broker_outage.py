"""Redis (the broker) stopped while people submit analyses: the API and the pages answer within 5 s (the job waits
in the outbox, no HTTP 500), /healthz says the broker is down, and once Redis is back every one of those jobs
completes (the sweeper relays the outbox). Uses a private redis-server on its own port, never the shared one."""

import re
import shutil
import subprocess
import sys
import time

import pytest
from helpers import ROOT, TMP, free_port, start_worker, stop_worker, subprocess_env, wait_for_job

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "correct-horse-battery-9"  # the `people` fixture's password


def _redis(port):
    if not shutil.which("redis-server"):
        pytest.fail("redis-server is missing (apt-get install redis-server)")
    proc = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    import redis

    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            if redis.Redis(port=port, socket_connect_timeout=0.5).ping():
                return proc
        except redis.ConnectionError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("private redis-server did not start")


def _stop(proc):
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _web(port, env):
    log = open(TMP / "web-outage.log", "w")  # noqa: SIM115 - handed to the process
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    import requests

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200:
                return proc
        except requests.ConnectionError:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError("web server did not start:\n" + (TMP / "web-outage.log").read_text()[-3000:])


def _timed(fn):
    t0 = time.monotonic()
    response = fn()
    return response, time.monotonic() - t0


def _page_session(base, user):
    import requests

    session = requests.Session()
    page = session.get(f"{base}/accounts/login/", timeout=10).text
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    response = session.post(
        f"{base}/accounts/login/",
        data={"login": user.email, "password": PASSWORD, "csrfmiddlewaretoken": token},
        headers={"Referer": f"{base}/accounts/login/"},
        timeout=10,
    )
    assert response.status_code == 200 and "/accounts/login/" not in response.url, response.url
    return session


def _page_form(session, base, dataset):
    page = session.get(f"{base}/analyses/new/{dataset.pk}/", timeout=10).text
    data = dict(re.findall(r'<select name="([^"]+)"[^>]*>.*?<option value="([^"]*)"[^>]*selected', page, re.S))
    data.update(algorithm="kmeans", color_scheme="Plotly", k_mode="fixed", n_clusters=3, k_min=2, k_max=10)
    data["csrfmiddlewaretoken"] = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    return data


def test_with_redis_down_pages_and_api_answer_fast_and_every_job_completes_once_it_is_back(people, private_queues):
    import requests

    from accounts.services import api_key_create
    from datasets.services import dataset_create_synthetic
    from jobs.models import Job

    people.acme.max_concurrent_jobs = 20
    people.acme.save()
    dataset = dataset_create_synthetic(
        organization=people.acme, created_by=people.alice, rows=400, seed=5, background=False
    )
    key = api_key_create(organization=people.acme, name="Partner", scopes=["read", "write"], created_by=people.alice)[1]
    redis_port = free_port(6390)
    broker = f"redis://127.0.0.1:{redis_port}/0"
    env = subprocess_env() | private_queues.env | {"CELERY_BROKER_URL": broker, "JOB_SWEEP_SECONDS": "2"}
    redis_proc = _redis(redis_port)
    web_port = free_port()
    base = f"http://127.0.0.1:{web_port}"
    web = _web(web_port, env)
    worker = start_worker(
        name="outage",
        log_path=TMP / "worker-outage.log",
        queues=private_queues.names,
        env=env,
        extra_args=["--beat", "--schedule", str(TMP / "beat-outage")],
    )
    try:
        session = _page_session(base, people.bob)
        form = _page_form(session, base, dataset)
        api = {"Authorization": f"Bearer {key}"}

        _stop(redis_proc)  # Redis goes away while people work
        health, seconds = _timed(lambda: requests.get(f"{base}/healthz", timeout=10))
        assert health.status_code == 503 and seconds < 5
        checks = health.json()["checks"]
        assert checks["database"] == "ok" and checks["storage"] == "ok" and checks["broker"].startswith("failed")

        slowest = 0.0
        for i in range(5):
            response, seconds = _timed(
                lambda i=i: requests.post(
                    f"{base}/api/v1/analyses/",
                    json={"dataset": dataset.pk, "n_clusters": 3, "nlp": False, "name": f"API run {i}"},
                    headers=api,
                    timeout=10,
                )
            )
            slowest = max(slowest, seconds)
            assert response.status_code == 202, response.text
            assert response.json()["status"] == "queued"
        for i in range(3):
            form = _page_form(session, base, dataset) if i else form
            response, seconds = _timed(
                lambda form=form: session.post(
                    f"{base}/analyses/new/{dataset.pk}/",
                    data=form,
                    headers={"Referer": base},
                    timeout=10,
                )
            )
            slowest = max(slowest, seconds)
            assert response.status_code == 200 and re.search(r"/analyses/\d+/$", response.url), response.url
        assert slowest < 5, f"slowest answer {slowest:.1f} s"
        jobs = list(Job.objects.for_organization(people.acme).filter(kind="analysis.run"))
        assert len(jobs) == 8
        assert all(job.status == "queued" and job.dispatched_at is None for job in jobs)  # the outbox

        redis_proc = _redis(redis_port)  # Redis is back (empty: it kept nothing)
        for job in jobs:
            wait_for_job(job, timeout=240)
        assert [job.status for job in jobs] == ["succeeded"] * 8, [job.error for job in jobs]
        assert all(job.attempts == 1 for job in jobs)
        assert requests.get(f"{base}/healthz", timeout=10).status_code == 200
    finally:
        stop_worker(worker)
        web.terminate()
        web.wait(timeout=20)
        _stop(redis_proc)
