"""Settings for the test suite: the product's settings, with files, broker messages and job kinds of
the test run kept apart from the dev server's. Set in the environment so the real Celery worker the
tests start (a separate process) sees the same values."""

import os
import tempfile
from pathlib import Path

_tmp = Path(os.environ.get("SEGSAAS_TEST_TMP") or tempfile.mkdtemp(prefix="segsaas-test-"))
os.environ["SEGSAAS_TEST_TMP"] = str(_tmp)
os.environ.setdefault("MEDIA_ROOT", str(_tmp / "media"))
os.environ.setdefault("CELERY_BROKER_DIR", str(_tmp / "broker"))
os.environ.setdefault("JOB_HANDLER_MODULES", "worker_job_kinds")
# Webhook tests deliver to a receiver on loopback, with retries a fraction of a second apart.
os.environ.setdefault("WEBHOOK_ALLOW_PRIVATE_URLS", "true")
os.environ.setdefault("WEBHOOK_RETRY_BASE_SECONDS", "0.3")
# Concurrent test runs on one machine (developers, CI) must not share a test database or a queue.
_run = os.environ.setdefault("SEGSAAS_TEST_RUN", str(os.getpid()))
os.environ.setdefault("CELERY_TASK_DEFAULT_QUEUE", f"test-{_run}")

from segsaas.settings import *  # noqa: E402, F403

_db = DATABASES["default"]  # noqa: F405
if _db["ENGINE"].endswith("sqlite3"):
    _db["TEST"] = {"NAME": str(VAR_DIR / f"test_segsaas_{_run}.sqlite3")}  # noqa: F405
else:
    _db["TEST"] = {"NAME": f"test_{_db['NAME']}_{_run}"}

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast logins in tests (test only)
