"""Benchmark: a 1,000,000-row customers CSV streamed through the web path, and the web process's memory.

    .venv/bin/python bench/export_csv.py [--rows 1000000] [--small 100000] [--port 8057]

Everything runs on a throw-away SQLite database and media directory under /tmp/segsaas-bench-export.

Set-up (not measured): the engine analyses 3,000 synthetic customers (real profiles, metrics and
per-customer results); that per-customer table is then tiled, with fresh unique customer ids, to
`--rows` rows and stored as the analysis's per-customer Parquet file, exactly where an analysis run
puts it. A second analysis gets `--small` rows, to show that memory does not grow with the export.

Measured: the production server (gunicorn, one sync worker) answers
GET /reports/analyses/<id>/download/?format=csv (the Reports page's button, logged in as an analyst).
The client reads the stream in 64 KiB pieces and counts rows; a sampler thread reads the gunicorn
worker's resident memory (VmRSS) every 100 ms, and its peak (VmHWM) before and after. Reported:
time to first byte, rows/s, MB/s, the worker's RSS before / during (min-max) / peak growth.
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
from pathlib import Path

from procs import bench_env, start_gunicorn, status_mb

ROOT = Path(__file__).resolve().parent.parent
WORK = Path("/tmp/segsaas-bench-export")

SETUP = r"""
import json, sys
import django
django.setup()
import numpy as np, pandas as pd
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from segsaas import storage
from accounts.services import organization_create, user_get_or_create
from accounts.models import Membership
from datasets.services import dataset_create_synthetic
from jobs.models import Job
from segments.models import Analysis
from segments.services import analysis_config, analysis_default_config, analysis_execute

rows, small = int(sys.argv[1]), int(sys.argv[2])
owner, _ = user_get_or_create(email="owner@bench.example", password="bench-password-123")
analyst, _ = user_get_or_create(email="analyst@bench.example", password="bench-password-123")
org = organization_create(name="Bench Retail", owner=owner)
Membership.objects.for_organization(org).create(user=analyst, role="analyst")
dataset = dataset_create_synthetic(organization=org, created_by=owner, rows=3000, seed=42, background=False)
config = analysis_default_config(dataset); config.update({"n_clusters": 5, "nlp": False})
base = Analysis.objects.for_organization(org).create(dataset=dataset, name="Base run", config=analysis_config(dataset=dataset, config=config))
analysis_execute(analysis=base, progress=lambda s, p: None)
base.refresh_from_db()
seed_rows = storage.read_parquet(base.customers_file)

def big_analysis(n, name):
    a = Analysis.objects.for_organization(org).create(dataset=dataset, name=name, config=base.config,
        metrics=base.metrics, profiles=base.profiles, summary=base.summary, n_segments=base.n_segments,
        customer_count=n, engine_version=base.engine_version)
    reps = -(-n // len(seed_rows))
    frame = pd.concat([seed_rows] * reps, ignore_index=True).iloc[:n].copy()
    frame["customer_id"] = [f"C{i:08d}" for i in range(n)]
    rel = storage.write_parquet(f"{a.storage_dir}/customers.parquet", frame, row_group_size=100_000)
    a.customers_file = rel
    a.job = Job.objects.for_organization(org).create(kind="analysis.run", status="succeeded", progress=100)
    a.save()
    return a.pk

big = big_analysis(rows, f"{rows:,} customers")
little = big_analysis(small, f"{small:,} customers")
session = SessionStore()
session[SESSION_KEY] = str(analyst.pk)
session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
session[HASH_SESSION_KEY] = analyst.get_session_auth_hash()
session["active_organization_id"] = org.pk
session.save()
print(json.dumps({"big": big, "small": little, "session": session.session_key}))
"""


def _stream(port: int, path: str, session: str, pid: int) -> dict:
    samples: list[float] = []
    done = threading.Event()

    def sample():
        while not done.is_set():
            samples.append(status_mb(pid, "VmRSS"))
            time.sleep(0.1)

    rss_before, hwm_before = status_mb(pid, "VmRSS"), status_mb(pid, "VmHWM")
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    start = time.perf_counter()
    conn.request("GET", path, headers={"Cookie": f"sessionid={session}"})
    response = conn.getresponse()
    first = None
    size = lines = 0
    while True:
        chunk = response.read(65536)
        if not chunk:
            break
        if first is None:
            first = time.perf_counter() - start
        size += len(chunk)
        lines += chunk.count(b"\n")
    seconds = time.perf_counter() - start
    done.set()
    sampler.join()
    conn.close()
    return {
        "status": response.status,
        "content_type": response.getheader("Content-Type"),
        "disposition": response.getheader("Content-Disposition"),
        "rows": lines - 1,
        "bytes": size,
        "first_byte_s": first,
        "seconds": seconds,
        "rows_per_s": (lines - 1) / seconds,
        "mb_per_s": size / seconds / 1e6,
        "rss_before_mb": rss_before,
        "rss_min_mb": min(samples or [rss_before]),
        "rss_max_mb": max(samples or [rss_before]),
        "peak_growth_mb": status_mb(pid, "VmHWM") - hwm_before,
        "hwm_after_mb": status_mb(pid, "VmHWM"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--small", type=int, default=100_000)
    parser.add_argument("--port", type=int, default=8057)
    args = parser.parse_args()

    shutil.rmtree(WORK, ignore_errors=True)
    (WORK / "var").mkdir(parents=True)
    env = bench_env(WORK)
    py = str(ROOT / ".venv/bin/python")
    subprocess.run([py, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    print(
        f"Setting up: engine on 3,000 customers, per-customer tables of {args.rows:,} and {args.small:,} rows ...",
        flush=True,
    )
    out = subprocess.run(
        [py, "-c", SETUP, str(args.rows), str(args.small)],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    ids = json.loads(out.strip().splitlines()[-1])

    server, pid = start_gunicorn(env, args.port, timeout=900)
    try:
        # Warm-up: imports (pyarrow, the views) and the first query happen before measuring.
        _stream(args.port, f"/reports/analyses/{ids['small']}/download/?format=csv&segment=0", ids["session"], pid)
        results = {}
        for label, analysis_id in (("small", ids["small"]), ("big", ids["big"])):
            results[label] = _stream(
                args.port, f"/reports/analyses/{analysis_id}/download/?format=csv", ids["session"], pid
            )
        print(f"\nweb process: gunicorn, 1 sync worker (pid {pid}); Python {sys.version.split()[0]}")
        for label in ("small", "big"):
            r = results[label]
            print(f"\n{r['rows']:,} rows  HTTP {r['status']}  {r['content_type']}  {r['disposition']}")
            print(
                f"  first byte {r['first_byte_s'] * 1000:.0f} ms · {r['seconds']:.2f} s · {r['rows_per_s']:,.0f} rows/s · "
                f"{r['bytes'] / 1e6:,.1f} MB at {r['mb_per_s']:.1f} MB/s"
            )
            print(
                f"  worker RSS before {r['rss_before_mb']:.0f} MB · during {r['rss_min_mb']:.0f}–{r['rss_max_mb']:.0f} MB · "
                f"peak (VmHWM) growth {r['peak_growth_mb']:.1f} MB · peak {r['hwm_after_mb']:.0f} MB"
            )
        assert results["big"]["rows"] == args.rows and results["small"]["rows"] == args.small
        (ROOT / "bench/out").mkdir(exist_ok=True)
        (ROOT / "bench/out/export_csv.json").write_text(json.dumps(results, indent=2))
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
