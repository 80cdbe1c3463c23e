"""Shared fixtures. The people: Alice owns Acme, Bob is an analyst at Acme, Vera views Acme,
Charlie owns Globex (a stranger to Acme), Mia is an account manager at both."""

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

# segsaas.test_settings made this directory (files, broker messages) and shares it with the worker.
_TMP = Path(os.environ.get("SEGSAAS_TEST_TMP") or tempfile.mkdtemp(prefix="segsaas-test-"))

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "correct-horse-battery-9"


@pytest.fixture
def make_user(db):
    from accounts.services import user_get_or_create

    def make(email):
        user, _ = user_get_or_create(email=email, password=PASSWORD)
        return user

    return make


@pytest.fixture
def make_org(db):
    from accounts.models import Membership, Organization

    def make(name, members=()):
        org = Organization.objects.create(name=name, slug=Organization.unique_slug_for(name))
        for user, role in members:
            Membership.objects.for_organization(org).create(user=user, role=role)
        return org

    return make


@pytest.fixture
def people(make_user, make_org):
    """alice/bob/vera/mia in Acme, charlie (and mia) in Globex."""
    alice, bob, vera, charlie, mia = (make_user(f"{n}@example.com") for n in ("alice", "bob", "vera", "charlie", "mia"))
    acme = make_org("Acme", [(alice, "owner"), (bob, "analyst"), (vera, "viewer"), (mia, "account_manager")])
    globex = make_org("Globex", [(charlie, "owner"), (mia, "account_manager")])
    return type("People", (), dict(alice=alice, bob=bob, vera=vera, charlie=charlie, mia=mia, acme=acme, globex=globex))


@pytest.fixture
def client_for(client):
    """A logged-in test client working in the given organization."""

    def login(user, org=None):
        client.force_login(user)
        if org is not None:
            session = client.session
            session["active_organization_id"] = org.pk
            session.save()
        return client

    return login


def _worker_env() -> dict:
    from django.conf import settings

    db = settings.DATABASES["default"]
    env = dict(os.environ)
    if db["ENGINE"].endswith("sqlite3"):
        env["DATABASE_URL"] = f"sqlite:///{db['NAME']}"
    else:
        env["DATABASE_URL"] = f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    env["PYTHONUNBUFFERED"] = "1"
    env["DJANGO_SETTINGS_MODULE"] = "segsaas.test_settings"
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "tests"), str(ROOT), env.get("PYTHONPATH", "")])
    return env


@pytest.fixture(scope="session")
def celery_worker_process(django_db_setup, django_db_blocker):
    """A real Celery worker process on the configured broker and the test database."""
    log = open(_TMP / "worker.log", "w")  # noqa: SIM115 - kept open for the session
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "segsaas", "worker", "--concurrency", "2", "--loglevel", "INFO",
         "--without-gossip", "--without-mingle", "--without-heartbeat", "-n", f"test-{os.getpid()}@%h"],
        cwd=ROOT, env=_worker_env(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    deadline = time.time() + 60
    while time.time() < deadline:
        if "ready." in (_TMP / "worker.log").read_text():
            break
        if proc.poll() is not None:
            raise RuntimeError("Celery worker exited:\n" + (_TMP / "worker.log").read_text()[-3000:])
        time.sleep(0.3)
    else:
        raise RuntimeError("Celery worker did not become ready:\n" + (_TMP / "worker.log").read_text()[-3000:])
    yield proc
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
    log.close()


def wait_for_job(job, timeout=120):
    """Poll the job row (the source of truth) until it finishes."""
    from jobs.models import FINISHED_STATUSES

    deadline = time.time() + timeout
    while time.time() < deadline:
        job.refresh_from_db()
        if job.status in FINISHED_STATUSES:
            return job
        time.sleep(0.25)
    raise AssertionError(f"job {job.pk} still {job.status} at {job.stage} after {timeout}s; worker log:\n"
                         + (_TMP / "worker.log").read_text()[-3000:])


@pytest.fixture
def worker(celery_worker_process, transactional_db):
    """Use in tests whose jobs run in the real worker (data must be committed for it to see)."""
    return celery_worker_process
