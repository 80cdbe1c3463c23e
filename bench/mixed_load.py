"""Mixed load from many organizations against the production server: pages, API reads, predictions and uploads.

    .venv/bin/python bench/mixed_load.py [--orgs 10] [--seconds 60] [--workers 4] [--concurrency 8]

Runs on PostgreSQL and Redis as a deployment does (database `segsaas_mixedbench`, created when missing; Redis db 13),
with `gunicorn segsaas.wsgi -w WORKERS` on the loopback interface. Set-up (reused by later runs): `--orgs`
organizations, each with an owner, an API key, a 5,000-customer synthetic dataset and a finished analysis.
Then CONCURRENCY client threads send, for SECONDS, a mix of requests, each from a random organization:
  pages 30 % (dashboard, analysis tabs, datasets) with the owner's session;
  API reads 40 % (datasets, analyses, a customers page with filters);
  predict 25 % (one record);
  uploads 5 % (a 300-row CSV through POST /api/v1/datasets/, validated and stored inline).
Printed: requests/s, errors (any non-2xx or socket error) and their share, p50/p95/p99 per kind.
Targets (issue 12): errors < 0.1 %, API reads p95 < 300 ms, single predict p99 < 50 ms.
"""

from __future__ import annotations

import argparse
import http.client
import io
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DB_NAME = "segsaas_mixedbench"
os.environ.setdefault("DATABASE_URL", f"postgres://postgres@127.0.0.1:5432/{DB_NAME}")
os.environ.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/13")
os.environ.setdefault("SEGSAAS_VAR_DIR", "/tmp/segsaas-mixedbench")
os.environ.setdefault("MEDIA_ROOT", "/tmp/segsaas-mixedbench/media")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "segsaas.settings")
os.environ.setdefault("API_THROTTLE_RATE", "100000000/hour")
os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost")
Path(os.environ["SEGSAAS_VAR_DIR"]).mkdir(parents=True, exist_ok=True)

from procs import free_port  # noqa: E402

KINDS = {"page": 0.30, "api_read": 0.40, "predict": 0.25, "upload": 0.05}


def ensure_database() -> None:
    if not os.environ["DATABASE_URL"].endswith(f"/{DB_NAME}"):
        return
    exists = subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-tAc", f"SELECT 1 FROM pg_database WHERE datname='{DB_NAME}'"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    if not exists:
        subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", DB_NAME], check=True)


def setup(n_orgs: int) -> list[dict]:
    import django

    django.setup()
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.core.management import call_command

    from accounts.models import Organization
    from accounts.services import api_key_create, organization_create, user_get_or_create
    from datasets.models import Dataset
    from datasets.services import dataset_create_synthetic, dataset_read_dataframe
    from jobs.services import job_execute
    from segments.models import Analysis
    from segments.services import analysis_create, analysis_default_config

    call_command("migrate", verbosity=0)
    tenants = []
    for i in range(n_orgs):
        email = f"owner{i}@mixedbench.example"
        owner, _ = user_get_or_create(email=email, password="bench-password-123")
        org = Organization.objects.filter(name=f"Mixed bench {i}").first() or organization_create(
            name=f"Mixed bench {i}", owner=owner
        )
        analysis = Analysis.objects.for_organization(org).filter(job__status="succeeded").first()
        if analysis is None:
            dataset = Dataset.objects.for_organization(org).filter(status="ready").first()
            if dataset is None:
                dataset = dataset_create_synthetic(
                    organization=org, created_by=owner, rows=5_000, seed=100 + i, background=False
                )
            analysis = analysis_create(
                organization=org,
                dataset=dataset,
                name="Bench run",
                config={**analysis_default_config(dataset), "n_clusters": 5, "nlp": False},
            )
            job_execute(analysis.job_id)
            analysis.refresh_from_db()
            print(f"  organization {i}: analysis #{analysis.pk} {analysis.job.status}", flush=True)
        key = api_key_create(
            organization=org, name=f"bench-{uuid.uuid4().hex[:6]}", scopes=["read", "write", "predict"]
        )[1]
        session = SessionStore()
        session[SESSION_KEY] = str(owner.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = owner.get_session_auth_hash()
        session["active_organization_id"] = org.pk
        session.save()
        frame = dataset_read_dataframe(analysis.dataset).head(200)
        records = json.loads(frame.to_json(orient="records", date_format="iso"))
        records = [
            {k: (v[:10] if isinstance(v, str) and "T00:00:00" in v else v) for k, v in r.items() if v is not None}
            for r in records
        ]
        upload = dataset_read_dataframe(analysis.dataset).head(300).to_csv(index=False).encode()
        tenants.append(
            {
                "org": org.pk,
                "analysis": analysis.pk,
                "dataset": analysis.dataset_id,
                "segments": [p["segment"] for p in analysis.profiles],
                "key": key,
                "session": session.session_key,
                "records": records,
                "upload": upload,
            }
        )
    from django.db import connections

    connections.close_all()
    return tenants


def multipart(csv: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    body = io.BytesIO()
    body.write(f'--{boundary}\r\nContent-Disposition: form-data; name="name"\r\n\r\nBench upload\r\n'.encode())
    body.write(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="bench.csv"\r\n'
        "Content-Type: text/csv\r\n\r\n".encode()
    )
    body.write(csv + f"\r\n--{boundary}--\r\n".encode())
    return body.getvalue(), f"multipart/form-data; boundary={boundary}"


def request_for(kind: str, t: dict) -> tuple[str, str, bytes | None, dict]:
    api = {"Authorization": f"Bearer {t['key']}"}
    if kind == "page":
        path = random.choice(
            [
                "/",
                "/datasets/",
                f"/analyses/{t['analysis']}/",
                f"/analyses/{t['analysis']}/profiles/",
                f"/analyses/{t['analysis']}/insights/",
            ]
        )
        return "GET", path, None, {"Cookie": f"sessionid={t['session']}"}
    if kind == "api_read":
        path = random.choice(
            [
                "/api/v1/datasets/",
                "/api/v1/analyses/",
                f"/api/v1/analyses/{t['analysis']}/",
                f"/api/v1/analyses/{t['analysis']}/customers/?page_size=50",
                f"/api/v1/analyses/{t['analysis']}/customers/?page_size=50&segment={random.choice(t['segments'])}"
                "&churn_risk_min=0.2",
            ]
        )
        return "GET", path, None, api
    if kind == "predict":
        body = json.dumps({"record": random.choice(t["records"])}).encode()
        return "POST", f"/api/v1/analyses/{t['analysis']}/predict/", body, {**api, "Content-Type": "application/json"}
    body, content_type = multipart(t["upload"])
    return "POST", "/api/v1/datasets/", body, {**api, "Content-Type": content_type}


def run(port: int, tenants: list[dict], seconds: float, concurrency: int) -> dict:
    results: dict[str, list[float]] = {k: [] for k in KINDS}
    errors: list[str] = []
    lock = threading.Lock()
    stop = time.perf_counter() + seconds
    kinds, weights = list(KINDS), list(KINDS.values())

    def client():
        mine = {k: [] for k in KINDS}
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while time.perf_counter() < stop:
            kind = random.choices(kinds, weights)[0]
            method, path, body, headers = request_for(kind, random.choice(tenants))
            t0 = time.perf_counter()
            try:
                conn.request(method, path, body=body, headers=headers)
                response = conn.getresponse()
                data = response.read()
                elapsed = time.perf_counter() - t0
                if response.status >= 300:
                    with lock:
                        errors.append(f"{method} {path} -> {response.status}: {data[:200]!r}")
                else:
                    mine[kind].append(elapsed)
                if response.getheader("Connection", "").lower() == "close":
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            except (OSError, http.client.HTTPException) as exc:
                with lock:
                    errors.append(f"{method} {path}: {type(exc).__name__} {exc}")
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.close()
        with lock:
            for k, v in mine.items():
                results[k].extend(v)

    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {"latencies": results, "errors": errors, "wall": time.perf_counter() - t0}


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(q / 100 * (len(values) - 1)))] if values else float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orgs", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (the README's recommendation)")
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()

    ensure_database()
    print(f"setting up {args.orgs} organizations (first run makes their analyses)...", flush=True)
    tenants = setup(args.orgs)
    port = free_port()
    server = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/gunicorn"),
            "segsaas.wsgi",
            "-w",
            str(args.workers),
            "-b",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=dict(os.environ),
        start_new_session=True,
    )
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                conn.request("GET", "/healthz")
                conn.getresponse().read()
                break
            except OSError:
                time.sleep(0.3)
        run(port, tenants, 5, args.concurrency)  # warm-up: imports, model caches, connections
        out = run(port, tenants, args.seconds, args.concurrency)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)

    total = sum(len(v) for v in out["latencies"].values()) + len(out["errors"])
    share = len(out["errors"]) / max(total, 1)
    print(
        f"\n{args.orgs} organizations, {args.concurrency} client threads, {args.seconds:.0f} s, gunicorn -w "
        f"{args.workers}, PostgreSQL + Redis; load average {Path('/proc/loadavg').read_text().split()[0]} on "
        f"{os.cpu_count()} cores"
    )
    print(f"  {total:,} requests, {total / out['wall']:.1f} requests/s; errors {len(out['errors'])} ({share:.3%})")
    for kind, lat in out["latencies"].items():
        if lat:
            print(
                f"  {kind:9s} {len(lat):6,}  p50 {statistics.median(lat) * 1000:7.1f} ms  "
                f"p95 {pct(lat, 95) * 1000:7.1f} ms  p99 {pct(lat, 99) * 1000:7.1f} ms"
            )
    for e in out["errors"][:5]:
        print(f"  error: {e}")
    api, predict = out["latencies"]["api_read"], out["latencies"]["predict"]
    print(
        f"\ntargets: errors < 0.1 % → {share:.3%}; API reads p95 < 300 ms → {pct(api, 95) * 1000:.0f} ms; "
        f"predict p99 < 50 ms → {pct(predict, 99) * 1000:.0f} ms"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
