"""Shared fixtures. The people: Alice owns Acme, Bob is an analyst at Acme, Vera views Acme,
Charlie owns Globex (a stranger to Acme), Mia is an account manager at both."""

import pytest
from helpers import PASSWORD, WORKER_LOG, start_worker, stop_worker


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


@pytest.fixture(scope="session")
def celery_worker_process(django_db_setup, django_db_blocker):
    """A real Celery worker process on the configured broker and the test database (light and heavy queues)."""
    proc = start_worker(name="test", log_path=WORKER_LOG)
    yield proc
    stop_worker(proc)


@pytest.fixture
def worker(celery_worker_process, transactional_db):
    """Use in tests whose jobs run in the real worker (data must be committed for it to see)."""
    return celery_worker_process


@pytest.fixture
def private_queues(settings):
    """Queues of this test only, so the session's worker (if a test started it) takes none of these jobs.
    `.env` is the environment a worker (or web process) needs to use them as well."""
    light = f"{settings.JOB_QUEUES['light']}-private"
    queues = {"light": light, "heavy": f"{light}.heavy"}
    settings.JOB_QUEUES = queues
    env = {"CELERY_TASK_DEFAULT_QUEUE": queues["light"], "JOB_HEAVY_QUEUE": queues["heavy"]}
    return type("Queues", (), {"names": list(queues.values()), "env": env, **queues})


@pytest.fixture(autouse=True)
def _jobs_out_of_the_session_worker_s_reach(request):
    """A test that commits its data (transactional_db, live_server) without asking for the worker runs its jobs
    itself (`job_execute`): they go to queues of its own, so the session's worker, once an earlier test started it,
    cannot claim them first (job_execute then answered "skipped" and the test failed, depending on timing). The names
    are this test's alone: a message it leaves behind reaches no later test's worker."""
    import uuid

    names = set(request.fixturenames)
    if names & {"transactional_db", "live_server"} and not names & {
        "worker",
        "celery_worker_process",
        "private_queues",
    }:
        settings = request.getfixturevalue("settings")
        light = f"{settings.JOB_QUEUES['light']}-own-{uuid.uuid4().hex[:8]}"
        settings.JOB_QUEUES = {"light": light, "heavy": f"{light}.heavy"}


CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


@pytest.fixture
def chromium(monkeypatch):
    """Debian's Chromium driven by Playwright (the one way browser tests start a browser).

    Playwright's sync API runs an event loop in this thread, so Django's async-safety check is relaxed for the
    ORM calls the test makes; monkeypatch undoes it afterwards so no later subprocess (`check --deploy`, the
    worker) inherits it."""
    import shutil

    if not shutil.which("chromium"):
        pytest.fail("Debian's chromium is missing: bin/install-system-deps installs it")
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """pytest-django's test database, plus: before it is dropped, end any PostgreSQL session a thread left open
    (the live server's, or one opened under Playwright's event loop), so the drop succeeds and no
    `test_segsaas_<pid>` database is left behind."""
    yield
    with django_db_blocker.unblock():
        from django.db import connection

        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
