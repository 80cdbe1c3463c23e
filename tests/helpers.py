"""Plain helpers shared by tests (fixtures live in the conftest files). Imported as `from helpers import ...`:
one module with a unique name, so no test depends on which `conftest` Python imported last."""

import io
import os
import tempfile
import time
from pathlib import Path, PurePosixPath

# segsaas.test_settings made this directory (files, broker messages) and shares it with the worker.
TMP = Path(os.environ.get("SEGSAAS_TEST_TMP") or tempfile.mkdtemp(prefix="segsaas-test-"))
ROOT = Path(__file__).resolve().parent.parent
WORKER_LOG = TMP / "worker.log"


SUBPROCESS_APPLICATION_NAME = "segsaas-test-subprocess"


def subprocess_env() -> dict:
    """Environment for a process the tests start (the Celery worker, `manage.py`, a shell script) so that it
    uses this run's test database, files and queue."""
    from django.conf import settings

    db = settings.DATABASES["default"]
    env = dict(os.environ)
    if db["ENGINE"].endswith("sqlite3"):
        env["DATABASE_URL"] = f"sqlite:///{db['NAME']}"
    else:
        # Named in pg_stat_activity, so a test can cut these processes' connections and no one else's.
        env["DATABASE_URL"] = (
            f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
            f"?application_name={SUBPROCESS_APPLICATION_NAME}"
        )
    env["PYTHONUNBUFFERED"] = "1"
    env.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    env["DJANGO_SETTINGS_MODULE"] = "segsaas.test_settings"
    # the queue names this test uses (a test's own queues, see conftest.private_queues), so that a process it starts
    # sends and takes the same jobs as the test
    env["CELERY_TASK_DEFAULT_QUEUE"] = settings.JOB_QUEUES["light"]
    env["JOB_HEAVY_QUEUE"] = settings.JOB_QUEUES["heavy"]
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "tests"), str(ROOT), env.get("PYTHONPATH", "")])
    return env


def start_worker(
    *, name: str, log_path: Path, queues=None, concurrency: int = 2, env: dict | None = None, extra_args=()
):
    """Start a real Celery worker process (its own process group) on this run's broker, database and files, and
    wait until it is ready. `queues`: the queue names it consumes (default: every job queue)."""
    import subprocess
    import sys

    from django.conf import settings

    queues = list(queues or settings.JOB_QUEUES.values())
    log = open(log_path, "w")  # noqa: SIM115 - handed to the process
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "segsaas",
            "worker",
            "--concurrency",
            str(concurrency),
            "--loglevel",
            "INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-Q",
            ",".join(queues),
            "-n",
            f"{name}-{os.getpid()}@%h",
            *extra_args,
        ],
        cwd=ROOT,
        env=subprocess_env() | (env or {}),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    log.close()
    deadline = time.time() + 60
    while time.time() < deadline:
        if "ready." in log_path.read_text():
            return proc
        if proc.poll() is not None:
            raise RuntimeError("Celery worker exited:\n" + log_path.read_text()[-3000:])
        time.sleep(0.2)
    raise RuntimeError("Celery worker did not become ready:\n" + log_path.read_text()[-3000:])


def free_port(start: int = 0) -> int:
    """A TCP port nobody listens on (from `start` upwards, or any the system picks)."""
    import socket

    for port in range(start, start + 200) if start else [0]:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return s.getsockname()[1]
    raise RuntimeError(f"no free port from {start}")


def stop_worker(proc, *, kill: bool = False, timeout: float = 20) -> None:
    """TERM (or KILL) the worker's whole process group and wait for it."""
    import signal
    import subprocess

    try:
        os.killpg(proc.pid, signal.SIGKILL if kill else signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


def wait_for_job(job, timeout=180):
    """Poll the job row (the source of truth) until it finishes."""
    from jobs.models import FINISHED_STATUSES

    deadline = time.time() + timeout
    while time.time() < deadline:
        job.refresh_from_db()
        if job.status in FINISHED_STATUSES:
            return job
        time.sleep(0.25)
    log = WORKER_LOG.read_text()[-3000:] if WORKER_LOG.exists() else "(no worker log)"
    raise AssertionError(f"job {job.pk} still {job.status} at {job.stage} after {timeout}s; worker log:\n{log}")


def stored_files(org) -> list[PurePosixPath]:
    """Every stored file of the organization (storage paths: on the local disk or in the S3 bucket)."""
    from datasets.storage import organization_dir
    from segsaas import storage

    return [PurePosixPath(name) for name in storage.list_tree(organization_dir(org.pk))]


def dataset_count(org) -> int:
    from datasets.models import Dataset

    return Dataset.objects.for_organization(org).count()


def as_file(content: bytes, name: str = "upload.csv"):
    fh = io.BytesIO(content)
    fh.name = name
    return fh


def sample_records(dataset, n=3, start=0):
    """Rows of the dataset as JSON-ready records (what a partner would send)."""
    import pandas as pd

    from datasets.services import dataset_read_dataframe

    df = dataset_read_dataframe(dataset).iloc[start : start + n]
    records = []
    for row in df.to_dict("records"):
        record = {}
        for key, value in row.items():
            if pd.isna(value):
                continue
            record[key] = value.isoformat()[:10] if hasattr(value, "isoformat") else value
        records.append(record)
    return records


# --- the moto S3 server of tests/storage (its fixture `s3_server` gives the endpoint) ---------------------------

S3_KEYS = {"AWS_ACCESS_KEY_ID": "segsaas-test", "AWS_SECRET_ACCESS_KEY": "segsaas-test-secret"}  # moto takes any
S3_REGION = "us-east-1"


def s3_client(endpoint: str):
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=S3_REGION,
        aws_access_key_id=S3_KEYS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=S3_KEYS["AWS_SECRET_ACCESS_KEY"],
    )


def new_bucket(endpoint: str) -> str:
    import uuid

    name = f"segsaas-{uuid.uuid4().hex[:12]}"
    s3_client(endpoint).create_bucket(Bucket=name)
    return name


def bucket_keys(endpoint: str, bucket: str) -> list[str]:
    pages = s3_client(endpoint).get_paginator("list_objects_v2").paginate(Bucket=bucket)
    return sorted(entry["Key"] for page in pages for entry in page.get("Contents", ()))


# What a test session of this suite sets for itself (test_settings.py); a nested session must choose its own.
SESSION_VARIABLES = (
    "SEGSAAS_TEST_TMP",
    "SEGSAAS_TEST_RUN",
    "MEDIA_ROOT",
    "CELERY_BROKER_DIR",
    "CELERY_TASK_DEFAULT_QUEUE",
)


def run_s3_session(session_file: str, s3_server: str, bucket: str, folder: Path, run: str, **env: str) -> str:
    """Runs `tests/storage/<session_file>` as a pytest session of its own whose settings come from the environment,
    as a deployment's would: storage on the S3 server's `bucket`, its own run name and temporary `folder`/session,
    plus `env`. Asserts that its one test passed; returns its output (stdout and stderr), also kept in TMP/<run>.log
    with the `*.log` files the session wrote in its folder."""
    import re
    import subprocess
    import sys

    session = folder / "session"
    session.mkdir()
    environment = {k: v for k, v in os.environ.items() if k not in SESSION_VARIABLES and not k.startswith("PYTEST_")}
    environment.update(
        {
            **S3_KEYS,
            "STORAGE_BACKEND": "s3",
            "AWS_S3_ENDPOINT_URL": s3_server,
            "AWS_STORAGE_BUCKET_NAME": bucket,
            "AWS_S3_REGION_NAME": S3_REGION,
            "SEGSAAS_TEST_TMP": str(session),
            "SEGSAAS_TEST_RUN": run,
            **env,
        }
    )
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"tests/storage/{session_file}"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=900,
    )
    logs = "".join(p.read_text() for p in sorted(session.glob("*.log")))
    (TMP / f"{run}.log").write_text(result.stdout + result.stderr + logs)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    assert re.search(r"^1 passed", result.stdout, re.MULTILINE), result.stdout[-3000:]
    return result.stdout + result.stderr + logs


def cdnow_csv() -> bytes:
    """The CDNOW 1/10 sample (tests/data) as the CSV a client would upload: one row per order."""
    import pandas as pd

    raw = pd.read_csv(
        ROOT / "tests" / "data" / "CDNOW_sample.txt",
        sep=r"\s+",
        header=None,
        names=["master_id", "customer_id", "date", "cds", "amount"],
        dtype=str,
    )
    frame = pd.DataFrame(
        {
            "customer_id": raw["customer_id"],
            "order_date": pd.to_datetime(raw["date"]).dt.strftime("%Y-%m-%d"),
            "cds": raw["cds"],
            "amount": raw["amount"],
        }
    )
    out = io.StringIO()
    frame.to_csv(out, index=False)
    return out.getvalue().encode()


def upload_orders(org, user, content: bytes, name="orders.csv"):
    from datasets.services import dataset_create_from_upload

    return dataset_create_from_upload(organization=org, uploaded_by=user, file=as_file(content, name), background=False)


def analysed_upload(people, content: bytes, filename: str):
    """A file uploaded to Acme by Alice and analysed with its default settings (no text analysis), in this process
    through the jobs machinery (the worker's code path); the finished Analysis."""
    from datasets.services import dataset_create_from_upload
    from jobs.services import job_execute
    from segments.services import analysis_create, analysis_default_config

    dataset = dataset_create_from_upload(
        organization=people.acme, uploaded_by=people.alice, file=as_file(content, filename), filename=filename
    )
    config = analysis_default_config(dataset) | {"nlp": False}
    analysis = analysis_create(organization=people.acme, dataset=dataset, config=config, created_by=people.alice)
    assert job_execute(analysis.job_id) == "succeeded"
    analysis.refresh_from_db()
    return analysis


def real_table(name: str = "mlc_churn.csv") -> Path:
    """A table of ../shared/realdata/ (real public customer data, see its README): beside this checkout, beside
    the folder that holds it (worktrees), or at SEGSAAS_REALDATA. Fails, naming where it looked, when absent."""
    import pytest

    places = [
        Path(os.environ["SEGSAAS_REALDATA"]) if os.environ.get("SEGSAAS_REALDATA") else None,
        ROOT.parent / "shared" / "realdata",
        ROOT.parent.parent / "shared" / "realdata",
        Path("/work/shared/realdata"),
    ]
    for folder in filter(None, places):
        if (folder / name).exists():
            return folder / name
    pytest.fail(f"{name} is not in any of {', '.join(str(p) for p in places if p)} (set SEGSAAS_REALDATA)")


PASSWORD = "correct-horse-battery-9"  # every `people` fixture user's password


def sign_in(page, base_url: str, email: str = "alice@example.com") -> None:
    """Sign in through the login form in a Playwright page, as a person would, and land on the dashboard."""
    page.goto(base_url + "/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(base_url + "/")
