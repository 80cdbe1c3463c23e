"""Shared by the job benchmarks: a private database, broker and files (or PostgreSQL + Redis from DATABASE_URL /
CELERY_BROKER_URL), Django set up, and real Celery worker processes."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def setup(name: str) -> tuple[Path, dict]:
    """Migrate a private database (unless DATABASE_URL names one) and set Django up; returns (tmp dir, env)."""
    sys.path.insert(0, str(ROOT))
    tmp = Path(tempfile.mkdtemp(prefix=f"segsaas-{name}-"))
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{tmp / 'db.sqlite3'}")
    os.environ["MEDIA_ROOT"] = str(tmp / "media")
    os.environ["CELERY_BROKER_DIR"] = str(tmp / "broker")
    os.environ["CELERY_TASK_DEFAULT_QUEUE"] = f"{name}-bench-{os.getpid()}"
    os.environ["DJANGO_SETTINGS_MODULE"] = "segsaas.settings"
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    import django

    django.setup()
    return tmp, env


def organization(name: str, user):
    from accounts.models import Membership, Organization

    org = Organization.objects.create(name=name, slug=Organization.unique_slug_for(name))
    Membership.objects.for_organization(org).create(user=user, role="owner")
    return org


def start_worker(tmp: Path, env: dict, name: str, *, queues: list[str], concurrency: int = 1):
    """A Celery worker in its own process group (os.killpg(proc.pid, ...) stops it), once it is ready."""
    log = tmp / f"worker-{name}.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "segsaas", "worker", "--concurrency", str(concurrency),
         "--loglevel", "INFO", "--without-gossip", "--without-mingle", "--without-heartbeat",
         "-Q", ",".join(queues), "-n", f"{name}-{os.getpid()}@%h"],
        cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    while "ready." not in log.read_text():
        if proc.poll() is not None:
            raise RuntimeError(log.read_text()[-3000:])
        time.sleep(0.1)
    return proc
