"""Benchmark: large files through the web process on an S3-compatible store, and that process's memory.

    .venv/bin/python bench/storage_s3.py [--rows 1000000] [--port 8058]

Everything runs on a throw-away SQLite database and a moto S3 server (started here on the loopback interface)
under /tmp/segsaas-bench-s3, with STORAGE_BACKEND=s3 and STORAGE_SIGNED_URLS=0, so that downloads stream
through the web process (the worst case for its memory; with signed URLs it only answers a redirect).

Set-up (not measured): a `--rows` customers CSV from the engine's generator; an analysis of 3,000 customers
whose per-customer table is tiled to `--rows` rows and stored in the bucket where a run puts it.

Measured, in the production server (gunicorn, one sync worker), while a sampler reads the worker's resident
memory every 100 ms:
  1. POST /api/v1/datasets/ of the CSV (streamed by the client; the server spools it to a temporary file,
     validates it, and stores it in the bucket as a multipart upload; the import waits for a worker);
  2. GET /datasets/<id>/original/: the same file streamed back out of the bucket;
  3. GET the customers CSV export of the `--rows` analysis, read from the bucket a row group at a time.
Reported: seconds, MB/s, the worker's RSS before and its largest growth during each request, and that
nothing was written under MEDIA_ROOT.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

from procs import bench_env, free_port, start_gunicorn, status_mb

ROOT = Path(__file__).resolve().parent.parent
WORK = Path("/tmp/segsaas-bench-s3")
BUCKET = "segsaas-bench"

SETUP = r"""
import json, sys
import django
django.setup()
import pandas as pd
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from accounts.models import Membership
from accounts.services import api_key_create, organization_create, user_get_or_create
from datasets.services import dataset_create_synthetic
from jobs.models import Job
from segments.models import Analysis
from segments.services import analysis_config, analysis_default_config, analysis_execute
from segsaas import storage

rows = int(sys.argv[1])
owner, _ = user_get_or_create(email="owner@bench.example", password="bench-password-123")
org = organization_create(name="Bench Retail", owner=owner)
org.max_upload_bytes = 4 * 1024**3
org.max_rows = max(org.max_rows, rows)
org.save()
dataset = dataset_create_synthetic(organization=org, created_by=owner, rows=3000, seed=42, background=False)
config = analysis_default_config(dataset); config.update({"n_clusters": 5, "nlp": False})
base = Analysis.objects.for_organization(org).create(dataset=dataset, name="Base run", config=analysis_config(dataset=dataset, config=config))
analysis_execute(analysis=base, progress=lambda s, p: None)
base.refresh_from_db()
seed_rows = storage.read_parquet(base.customers_file)
big = Analysis.objects.for_organization(org).create(dataset=dataset, name="Big", config=base.config,
    metrics=base.metrics, profiles=base.profiles, summary=base.summary, n_segments=base.n_segments,
    customer_count=rows, engine_version=base.engine_version)
frame = pd.concat([seed_rows] * -(-rows // len(seed_rows)), ignore_index=True).iloc[:rows].copy()
frame["customer_id"] = [f"C{i:08d}" for i in range(rows)]
big.customers_file = storage.write_parquet(f"{big.storage_dir}/customers.parquet", frame, row_group_size=100_000)
big.job = Job.objects.for_organization(org).create(kind="analysis.run", status="succeeded", progress=100)
big.save()
_, key = api_key_create(organization=org, name="bench", scopes=["read", "write", "export"])
session = SessionStore()
session[SESSION_KEY] = str(owner.pk)
session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
session[HASH_SESSION_KEY] = owner.get_session_auth_hash()
session["active_organization_id"] = org.pk
session.save()
print(json.dumps({"big": big.pk, "key": key, "session": session.session_key}))
"""


def _measured(pid: int, request) -> dict:
    """Run `request()` (returns (status, bytes moved)) while sampling the worker's RSS."""
    samples: list[float] = []
    done = threading.Event()

    def sample():
        while not done.is_set():
            samples.append(status_mb(pid, "VmRSS"))
            time.sleep(0.1)

    before = status_mb(pid, "VmRSS")
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    start = time.perf_counter()
    status, size, body = request()
    seconds = time.perf_counter() - start
    done.set()
    sampler.join()
    return {
        "status": status,
        "bytes": size,
        "seconds": seconds,
        "mb_per_s": size / seconds / 1e6,
        "rss_before_mb": before,
        "rss_max_mb": max(samples or [before]),
        "growth_mb": max(samples or [before]) - before,
        "body": body,
    }


def _upload(port: int, key: str, path: Path):
    boundary = uuid.uuid4().hex
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="name"\r\n\r\nBench upload\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{path.name}"\r\n'
        "Content-Type: text/csv\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    size = path.stat().st_size
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1800)
    conn.putrequest("POST", "/api/v1/datasets/")
    conn.putheader("Authorization", f"Bearer {key}")
    conn.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
    conn.putheader("Content-Length", str(len(head) + size + len(tail)))
    conn.endheaders()
    conn.send(head)
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            conn.send(chunk)
    conn.send(tail)
    response = conn.getresponse()
    body = response.read()
    conn.close()
    return response.status, size, json.loads(body)


def _download(port: int, path: str, session: str):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1800)
    conn.request("GET", path, headers={"Cookie": f"sessionid={session}"})
    response = conn.getresponse()
    size = 0
    while chunk := response.read(65536):
        size += len(chunk)
    conn.close()
    return response.status, size, None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--port", type=int, default=8058)
    args = parser.parse_args()

    shutil.rmtree(WORK, ignore_errors=True)
    (WORK / "var").mkdir(parents=True)
    py = str(ROOT / ".venv/bin/python")
    s3_port = free_port()
    moto = subprocess.Popen(
        [py, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(s3_port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    server = None
    try:
        endpoint = f"http://127.0.0.1:{s3_port}"
        import boto3

        client = boto3.client(
            "s3",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id="bench",
            aws_secret_access_key="bench-secret",
        )
        deadline = time.time() + 60
        while True:
            try:
                client.create_bucket(Bucket=BUCKET)
                break
            except Exception:
                if time.time() > deadline:
                    raise
                time.sleep(0.3)
        env = bench_env(
            WORK,
            STORAGE_BACKEND="s3",
            AWS_S3_ENDPOINT_URL=endpoint,
            AWS_STORAGE_BUCKET_NAME=BUCKET,
            AWS_ACCESS_KEY_ID="bench",
            AWS_SECRET_ACCESS_KEY="bench-secret",
            AWS_S3_REGION_NAME="us-east-1",
            STORAGE_SIGNED_URLS="0",
        )
        subprocess.run([py, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
        print(
            f"Setting up: a {args.rows:,}-row CSV and a {args.rows:,}-customer analysis in the bucket ...", flush=True
        )
        csv = WORK / "customers.csv"
        subprocess.run(
            [py, "-m", "segments.engine", "synth", "--rows", str(args.rows), "--churn-label", str(csv)],
            cwd=ROOT,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        out = subprocess.run(
            [py, "-c", SETUP, str(args.rows)], cwd=ROOT, env=env, check=True, capture_output=True, text=True
        ).stdout
        ids = json.loads(out.strip().splitlines()[-1])

        server, pid = start_gunicorn(env, args.port, timeout=1800)
        # Warm-up: imports (pyarrow, boto3, the views) and pyarrow's memory pool happen before measuring.
        _download(args.port, f"/reports/analyses/{ids['big']}/download/?format=csv&segment=0", ids["session"])

        results = {"upload": _measured(pid, lambda: _upload(args.port, ids["key"], csv))}
        assert results["upload"]["status"] == 201, results["upload"]["body"]
        dataset_id = results["upload"]["body"]["id"]
        results["original"] = _measured(
            pid, lambda: _download(args.port, f"/datasets/{dataset_id}/original/", ids["session"])
        )
        results["export_csv"] = _measured(
            pid, lambda: _download(args.port, f"/reports/analyses/{ids['big']}/download/?format=csv", ids["session"])
        )
        media_files = [p for p in (WORK / "media").rglob("*") if p.is_file()] if (WORK / "media").exists() else []

        print(
            f"\nweb process: gunicorn, 1 sync worker (pid {pid}); moto S3 at {endpoint}; Python {sys.version.split()[0]}"
        )
        labels = {
            "upload": "upload of the CSV (API) into the bucket",
            "original": "the original streamed back from the bucket",
            "export_csv": f"customers CSV export of {args.rows:,} customers from the bucket",
        }
        for name, label in labels.items():
            r = results[name]
            print(
                f"{label}: HTTP {r['status']} · {r['bytes'] / 1e6:,.1f} MB in {r['seconds']:.1f} s "
                f"({r['mb_per_s']:.1f} MB/s) · worker RSS {r['rss_before_mb']:.0f} MB before, "
                f"at most {r['rss_max_mb']:.0f} MB during (+{r['growth_mb']:.0f} MB)"
            )
        print(f"files under MEDIA_ROOT: {len(media_files)}")
        assert results["original"]["bytes"] == csv.stat().st_size
        assert not media_files
        (ROOT / "bench/out").mkdir(exist_ok=True)
        for r in results.values():
            r.pop("body", None)
        (ROOT / "bench/out/storage_s3.json").write_text(json.dumps(results, indent=2))
    finally:
        if server is not None:
            os.killpg(server.pid, 15)
            server.wait(timeout=30)
        os.killpg(moto.pid, 15)
        moto.wait(timeout=30)


if __name__ == "__main__":
    main()
