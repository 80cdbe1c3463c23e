"""schemathesis over the whole partner API with a partner key: every operation, every check, every phase (examples,
coverage, fuzzing and the stateful phase that chains operations through the schema's links).

    .venv/bin/python bench/schemathesis_api.py [--examples 100] [--workers 1] [--max-time 1500] [--paths REGEX]

A throw-away SQLite database and media directory under /tmp/segsaas-stbench: an organization (its synthetic datasets
kept small: 2,000 rows at most, so generated requests stay quick), a 600-customer synthetic dataset and a finished
analysis made by the real services in this process, and an API key with every scope. Then the production server
(`gunicorn segsaas.wsgi`, DEBUG off) on 127.0.0.1 and `schemathesis run` against /api/schema/ with `-n EXAMPLES`
(at most EXAMPLES generated cases per operation and phase). Prints schemathesis's own summary (operations, test
cases, failures by check) and exits with its status: 0 means no server error and no schema violation. The project's
`schemathesis.toml` applies (the operations whose 400 also states a business rule). gunicorn starts from the project
root, so it reads gunicorn.conf.py (request lines up to 8,190 bytes reach the API, which answers over-long URLs itself).
The always-on suite runs a smaller version in-process (tests/api/test_openapi.py).
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = Path("/tmp/segsaas-stbench")


def _env() -> dict:
    env = dict(os.environ)
    env.update(
        SEGSAAS_VAR_DIR=str(WORK / "var"),
        MEDIA_ROOT=str(WORK / "media"),
        CELERY_BROKER_DIR=str(WORK / "broker"),
        DATABASE_URL=f"sqlite:///{WORK / 'var' / 'bench.sqlite3'}",
        CELERY_BROKER_URL="filesystem://",
        DJANGO_SETTINGS_MODULE="segsaas.settings",
        DEBUG="0",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        API_THROTTLE_RATE="100000000/hour",
        LOG_LEVEL="ERROR",
        PYTHONUNBUFFERED="1",
    )
    return env


def _setup() -> str:
    os.environ.update(_env())
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from accounts.services import api_key_create, organization_create, user_get_or_create
    from datasets.services import dataset_create_synthetic
    from jobs.services import job_execute
    from segments.services import analysis_create, analysis_default_config

    user, _ = user_get_or_create(email="partner@segsaas.local", password="bench-password-2026")
    org = organization_create(name="Partner", owner=user)
    org.max_rows = 2_000
    org.save()
    dataset = dataset_create_synthetic(
        organization=org, created_by=user, rows=600, seed=1, name="Partner customers", background=False
    )
    analysis = analysis_create(
        organization=org,
        dataset=dataset,
        config={**analysis_default_config(dataset), "n_clusters": 3, "nlp": False},
        name="Partner segments",
        created_by=user,
    )
    assert job_execute(analysis.job_id) == "succeeded"
    analysis.refresh_from_db()
    _, key = api_key_create(
        organization=org, name="schemathesis", scopes=["read", "write", "predict", "export"], created_by=user
    )
    print(f"setup: dataset {dataset.pk}, analysis {analysis.pk} ({analysis.customer_count} customers), key issued")
    return key


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=100)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--max-time", type=int, default=1500, help="seconds for the whole schemathesis run")
    parser.add_argument("--paths", help="only the operations whose path matches this regular expression")
    args = parser.parse_args()
    shutil.rmtree(WORK, ignore_errors=True)
    (WORK / "var").mkdir(parents=True)
    key = _setup()
    port = _free_port()
    server = subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "gunicorn"),
            "segsaas.wsgi",
            "-w",
            "2",
            "-b",
            f"127.0.0.1:{port}",
            "--timeout",
            "120",
        ],
        cwd=ROOT,
        env=_env(),
        stdout=(WORK / "server.log").open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.time() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api/schema/", timeout=5).read()  # noqa: S310
                break
            except OSError:
                if time.time() > deadline or server.poll() is not None:
                    print((WORK / "server.log").read_text()[-3000:])
                    return 2
                time.sleep(0.5)
        started = time.perf_counter()
        run = subprocess.run(
            [
                str(ROOT / ".venv" / "bin" / "schemathesis"),
                "--config-file",
                str(ROOT / "schemathesis.toml"),  # the business rules the schema cannot state (see the file)
                "run",
                f"http://127.0.0.1:{port}/api/schema/",
                "-H",
                f"Authorization: Bearer {key}",
                "--checks",
                "all",
                "--phases",
                "examples,coverage,fuzzing,stateful",
                "-n",
                str(args.examples),
                "--workers",
                str(args.workers),
                "--max-time",
                str(args.max_time),
                "--seed",
                "2026",
                "--continue-on-failure",
                "--request-timeout",
                "60",
                "--report",
                "junit",
                "--report-dir",
                str(WORK / "report"),
                "--output-truncate",
                "true",
                *(["--include-path-regex", args.paths] if args.paths else []),
            ],
            cwd=WORK,  # its cache (.schemathesis/) stays out of the repository
            env=_env(),
            timeout=args.max_time + 600,
        )
        print(f"schemathesis: {time.perf_counter() - started:.0f} s, exit status {run.returncode}")
        log = (WORK / "server.log").read_text()
        print(f"server log: {log.count('Internal Server Error')} 'Internal Server Error' lines")
        return run.returncode
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


if __name__ == "__main__":
    sys.exit(main())
