"""Benchmark: a 1,000,000-row x 25-column CSV uploaded and profiled, and the memory it costs.

    .venv/bin/python bench/upload.py [--rows 1000000] [--csv /tmp/segsaas-bench-1m.csv] [--skip-inline]

Everything runs on a throw-away SQLite database, media directory and file-system broker under /tmp.
The CSV is generated once (in a separate process) and reused. Three figures:

1. Web process. A real `manage.py runserver` process receives the file as a streamed multipart POST
   on /datasets/upload/ (the page's own request), spools it to a temporary file, validates it by
   streaming, stores it and queues the import job. Reported: seconds to the response and the growth
   of the server process's peak resident memory (VmHWM) over its idle peak.
2. Job path. A Celery worker (`--pool solo`, so the work happens in the process we measure) converts
   the upload to Parquet in chunks and profiles it column by column. Reported: seconds and the
   growth of the worker's peak resident memory.
3. Inline path (skip with --skip-inline). This process calls `dataset_create_from_upload(...,
   background=False)`, the service the web process uses, doing validation + conversion + profile in
   one process. Reported: seconds and peak memory growth (the peak is reset before the call).

Peak memory is read from /proc/<pid>/status (VmHWM); "growth" subtracts the same process's peak just
before the measured work, so library imports are not counted.
"""

from __future__ import annotations

import argparse
import http.client
import os
import secrets
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

from procs import bench_env, reset_peak, status_mb

ROOT = Path(__file__).resolve().parent.parent
WORK = Path("/tmp/segsaas-bench-upload")


def _generate_csv(path: Path, rows: int) -> None:
    code = r"""
import sys
import numpy as np, pandas as pd
rows, path = int(sys.argv[1]), sys.argv[2]
rng = np.random.default_rng(7)
regions = np.array(["North", "South", "East", "West", "Central"])
plans = np.array(["free", "basic", "pro", "enterprise"])
channels = np.array(["organic", "paid_search", "social", "email", "referral"])
devices = np.array(["mobile", "desktop", "tablet"])
words = np.array(["great", "service", "slow", "delivery", "love", "price", "support", "quality", "again", "never"])
first = True
for start in range(0, rows, 100_000):
    n = min(100_000, rows - start)
    ids = np.arange(start + 1, start + n + 1)
    df = pd.DataFrame({
        "customer_id": np.char.add("C", ids.astype(str)),
        "age": rng.integers(18, 90, n),
        "total_spend": np.round(rng.gamma(2.0, 150.0, n), 2),
        "orders": rng.poisson(6, n),
        "avg_order_value": np.round(rng.gamma(3.0, 20.0, n), 2),
        "days_since_last_purchase": rng.integers(0, 720, n),
        "sessions_per_month": np.round(rng.gamma(2.0, 4.0, n), 1),
        "support_tickets": rng.poisson(0.7, n),
        "tenure_days": rng.integers(1, 3000, n),
        "discount_share": np.round(rng.beta(2, 5, n), 3),
        "email_open_rate": np.round(rng.beta(3, 4, n), 3),
        "returns": rng.poisson(0.4, n),
        "nps": rng.integers(0, 11, n),
        "cart_abandons": rng.poisson(1.5, n),
        "pages_per_visit": np.round(rng.gamma(3.0, 1.5, n), 2),
        "region": regions[rng.integers(0, len(regions), n)],
        "plan": plans[rng.integers(0, len(plans), n)],
        "channel": channels[rng.integers(0, len(channels), n)],
        "device": devices[rng.integers(0, len(devices), n)],
        "city": np.char.add("City", rng.integers(0, 300, n).astype(str)),
        "signup_date": (np.datetime64("2018-01-01") + rng.integers(0, 2900, n).astype("timedelta64[D]")).astype(str),
        "last_purchase_date": (np.datetime64("2024-01-01") + rng.integers(0, 700, n).astype("timedelta64[D]")).astype(str),
        "review": [" ".join(x) for x in words[rng.integers(0, len(words), (n, 5))]],
        "is_member": rng.integers(0, 2, n),
        "churned": rng.integers(0, 2, n),
    })
    missing = rng.random(n) < 0.02
    df.loc[missing, "total_spend"] = np.nan
    df.to_csv(path, mode="w" if first else "a", header=first, index=False)
    first = False
"""
    subprocess.run([sys.executable, "-c", code, str(rows), str(path)], check=True)


def _setup_django():
    for key, value in bench_env(WORK, DATABASE_URL=f"sqlite:///{WORK / 'var' / 'bench.sqlite3'}").items():
        os.environ[key] = value
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from accounts.models import Organization
    from accounts.services import organization_create, user_get_or_create

    user, _ = user_get_or_create(email="bench@segsaas.local", password="bench-password-2026")
    org = Organization.objects.filter(slug="bench").first() or organization_create(name="Bench", owner=user)
    if org.slug != "bench":
        org.slug = "bench"
    org.max_upload_bytes = 2 * 1024**3
    org.save()
    return user, org


def _session_for(user, org) -> str:
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session["active_organization_id"] = org.pk
    session.save()
    return session.session_key


def _stream_upload(port: int, path: Path, session_key: str) -> tuple[int, str, float]:
    """POST the file as multipart/form-data, streamed from disk in 1 MB pieces (as a browser does)."""
    boundary = uuid.uuid4().hex
    csrf = secrets.token_hex(16)  # 32 characters: an unmasked CSRF secret
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="name"\r\n\r\nBench 1M\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{path.name}"\r\n'
        "Content-Type: text/csv\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    length = len(head) + path.stat().st_size + len(tail)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=3600)
    started = time.perf_counter()
    conn.putrequest("POST", "/datasets/upload/")
    for key, value in {
        "Content-Type": f"multipart/form-data; boundary={boundary}",
        "Content-Length": str(length),
        "Accept": "application/json",
        "Cookie": f"sessionid={session_key}; csrftoken={csrf}",
        "X-CSRFToken": csrf,
        "Referer": f"http://127.0.0.1:{port}/datasets/upload/",
    }.items():
        conn.putheader(key, value)
    conn.endheaders()
    conn.send(head)
    with open(path, "rb") as fh:
        while chunk := fh.read(1024 * 1024):
            conn.send(chunk)
    conn.send(tail)
    response = conn.getresponse()
    body = response.read().decode()
    return response.status, body, time.perf_counter() - started


def _wait_http(port: int, proc, timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("the server exited")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            conn.getresponse().read()
            return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError("the server did not answer")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--csv", type=Path, default=None)
    parser.add_argument("--port", type=int, default=8097)
    parser.add_argument("--skip-inline", action="store_true")
    args = parser.parse_args()
    csv_path = args.csv or Path(f"/tmp/segsaas-bench-{args.rows}x25.csv")
    if not csv_path.exists():
        print(f"Generating {csv_path} ({args.rows:,} rows x 25 columns) ...")
        t = time.perf_counter()
        _generate_csv(csv_path, args.rows)
        print(f"  generated in {time.perf_counter() - t:.1f} s")
    size_mb = csv_path.stat().st_size / 1024**2
    print(f"CSV: {csv_path} · {size_mb:.1f} MB · {args.rows:,} rows x 25 columns")

    shutil.rmtree(WORK, ignore_errors=True)
    (WORK / "var").mkdir(parents=True)
    user, org = _setup_django()
    session_key = _session_for(user, org)
    env = bench_env(WORK, DATABASE_URL=f"sqlite:///{WORK / 'var' / 'bench.sqlite3'}")
    results = {}

    # 1. The web process.
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{args.port}", "--noreload"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    worker = None
    try:
        _wait_http(args.port, server)
        # Warm the view (imports, templates) so only the upload's own memory is measured.
        conn = http.client.HTTPConnection("127.0.0.1", args.port, timeout=60)
        conn.request("GET", "/datasets/upload/", headers={"Cookie": f"sessionid={session_key}"})
        conn.getresponse().read()
        idle_peak = status_mb(server.pid, "VmHWM")
        idle_rss = status_mb(server.pid, "VmRSS")
        status, body, seconds = _stream_upload(args.port, csv_path, session_key)
        peak = status_mb(server.pid, "VmHWM")
        print(
            f"\n1. Web process (runserver, pid {server.pid}): HTTP {status} in {seconds:.1f} s "
            f"({args.rows / seconds:,.0f} rows/s incl. transfer)"
        )
        print(
            f"   idle RSS {idle_rss:.0f} MB, idle peak {idle_peak:.0f} MB -> peak during upload {peak:.0f} MB: "
            f"growth {peak - idle_peak:.1f} MB for a {size_mb:.0f} MB file"
        )
        if status != 200:
            print("   response:", body[:500])
            return
        import json

        dataset_id = json.loads(body)["id"]
        results["web"] = {"seconds": round(seconds, 1), "peak_growth_mb": round(peak - idle_peak, 1)}

        # 2. The job, in a worker whose one process does the work.
        from django.conf import settings

        worker = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "segsaas",
                "worker",
                "--pool",
                "solo",
                "--loglevel",
                "WARNING",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-Q",
                ",".join(settings.JOB_QUEUES.values()),
                "-n",
                f"bench-{os.getpid()}@%h",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        from datasets.models import Dataset
        from jobs.models import FINISHED_STATUSES

        dataset = Dataset.objects.for_organization(org).get(pk=dataset_id)
        job = dataset.job
        if job is None:
            print("   (small enough to be converted and profiled inline, in the web request: no job)")
            return
        worker_idle_peak = None
        started = None
        while True:
            job.refresh_from_db()
            if worker_idle_peak is None:
                # Imports done before the job starts: the worker's peak just before running is its baseline.
                worker_idle_peak = status_mb(worker.pid, "VmHWM")
            if job.status == "running" and started is None:
                started = time.perf_counter()
            if job.status in FINISHED_STATUSES:
                break
            if job.status == "queued":
                worker_idle_peak = status_mb(worker.pid, "VmHWM")
            time.sleep(0.2)
        job_seconds = (job.finished_at - job.started_at).total_seconds()
        worker_peak = status_mb(worker.pid, "VmHWM")
        dataset.refresh_from_db()
        print(
            f"\n2. Job path (celery --pool solo, pid {worker.pid}): {job.status} in {job_seconds:.1f} s "
            f"({args.rows / job_seconds:,.0f} rows/s): convert to Parquet + profile {dataset.column_count} columns"
        )
        print(
            f"   worker peak before the job {worker_idle_peak:.0f} MB -> during {worker_peak:.0f} MB: "
            f"growth {worker_peak - worker_idle_peak:.1f} MB"
        )
        print(
            f"   dataset #{dataset.pk}: {dataset.status}, {dataset.row_count:,} rows, profile computed in "
            f"{dataset.profile.get('seconds')} s, Parquet {dataset.data_file.size / 1024**2:.1f} MB"
        )
        results["job"] = {"seconds": round(job_seconds, 1), "peak_growth_mb": round(worker_peak - worker_idle_peak, 1)}
    finally:
        for proc in (server, worker):
            if proc is not None and proc.poll() is None:
                os.killpg(proc.pid, 15)
                proc.wait(timeout=30)

    # 3. The same service, inline in this process.
    if not args.skip_inline:
        import pandas  # noqa: F401 - imported before the baseline, as in a warm web process
        import pyarrow.parquet  # noqa: F401

        from datasets.services import dataset_create_from_upload

        reset_peak()
        base = status_mb("self", "VmHWM")
        t = time.perf_counter()
        with open(csv_path, "rb") as fh:
            dataset = dataset_create_from_upload(
                organization=org, uploaded_by=user, file=fh, filename=csv_path.name, background=False
            )
        seconds = time.perf_counter() - t
        peak = status_mb("self", "VmHWM")
        print(
            f"\n3. Inline service (this process): validate + store + convert + profile in {seconds:.1f} s "
            f"({args.rows / seconds:,.0f} rows/s); peak {base:.0f} MB -> {peak:.0f} MB: growth {peak - base:.1f} MB"
        )
        results["inline"] = {"seconds": round(seconds, 1), "peak_growth_mb": round(peak - base, 1)}
    print("\nSummary:", results)


if __name__ == "__main__":
    main()
