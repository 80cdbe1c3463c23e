"""Mixed load from many organizations against the production server: pages, API reads, predictions and uploads.

    .venv/bin/python bench/mixed_load.py [--orgs 10] [--seconds 60] [--workers 4] [--concurrency 8] [--rate R]

Runs on PostgreSQL and Redis as a deployment does (database `segsaas_mixedbench`, created when missing; Redis db 13),
with `gunicorn segsaas.wsgi -w WORKERS` on the loopback interface. Set-up (reused by later runs): `--orgs`
organizations, each with an owner, an API key, a 5,000-customer synthetic dataset and a finished analysis.
Then CONCURRENCY client threads send, for SECONDS, a mix of requests, each from a random organization:
  pages 30 % (dashboard, analysis tabs, datasets) with the owner's session;
  API reads 40 % (datasets, analyses, a customers page with filters);
  predict 25 % (one record);
  uploads 5 % (a 300-row CSV through POST /api/v1/datasets/, validated and stored inline).
With --rate R the requests instead arrive on their own schedule (Poisson, R per second, as users' requests do) and
each is timed from its arrival: the latency users see at that traffic. The closed loop measures the server's
capacity (requests/s when saturated) and the latency of its queue at saturation.
Printed: requests/s, errors (any non-2xx or socket error) and their share, p50/p95/p99 per kind.
Targets (issue 12): errors < 0.1 %, API reads p95 < 300 ms, single predict p99 < 50 ms.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import signal
import sys
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

from procs import (  # noqa: E402
    closed_loop,
    ensure_database,
    free_port,
    load_average,
    median,
    open_loop,
    percentile,
    predict_records,
    start_gunicorn,
)

KINDS = {"page": 0.30, "api_read": 0.40, "predict": 0.25, "upload": 0.05}


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
        records = predict_records(dataset_read_dataframe(analysis.dataset).head(200))
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


def run(port, tenants: list[dict], seconds: float, concurrency: int, rate: float | None = None, only=None) -> dict:
    mix = {k: w for k, w in KINDS.items() if not only or k in only}
    kinds, weights = list(mix), list(mix.values())

    def next_request():
        kind = random.choices(kinds, weights)[0]
        return (kind, *request_for(kind, random.choice(tenants)))

    if rate:
        out = open_loop(port, next_request, seconds, rate, ok=lambda status: status < 300)
    else:
        out = closed_loop(port, next_request, seconds, concurrency, ok=lambda status: status < 300)
    out["latencies"] = {kind: out["latencies"].get(kind, []) for kind in KINDS}
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orgs", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (the README's recommendation)")
    parser.add_argument("--concurrency", type=int, default=8, help="client threads of the closed loop")
    parser.add_argument("--rate", type=float, help="open loop: requests arriving per second (Poisson)")
    parser.add_argument("--warm-up", type=float, default=15, help="seconds of the same load before measuring")
    parser.add_argument("--only", help=f"comma-separated kinds to send (of {', '.join(KINDS)}; default all)")
    parser.add_argument(
        "--predict-workers",
        type=int,
        default=0,
        help="open loop: serve predict from its own gunicorn with this many workers (a deployment routes "
        "/api/v1/analyses/*/predict/ to it), so a prediction never waits behind a page or an upload",
    )
    args = parser.parse_args()

    if os.environ["DATABASE_URL"].endswith(f"/{DB_NAME}"):
        ensure_database(DB_NAME)
    print(f"setting up {args.orgs} organizations (first run makes their analyses)...", flush=True)
    tenants = setup(args.orgs)
    port = free_port()
    servers = [start_gunicorn(dict(os.environ), port, 30, workers=args.workers)[0]]
    route = port
    if args.predict_workers and args.rate:
        predict_port = free_port()
        servers.append(start_gunicorn(dict(os.environ), predict_port, 30, workers=args.predict_workers)[0])
        route = {None: port, "predict": predict_port}
    try:
        only = set(args.only.split(",")) if args.only else None
        # warm-up: imports, connections, and each worker's model cache (10 organizations x 4 workers: 40 first loads)
        run(route, tenants, args.warm_up, args.concurrency, args.rate, only)
        out = run(route, tenants, args.seconds, args.concurrency, args.rate, only)
    finally:
        for server in servers:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)

    total = sum(len(v) for v in out["latencies"].values()) + len(out["errors"])
    share = len(out["errors"]) / max(total, 1)
    pool = f", predict on its own gunicorn -w {args.predict_workers}" if len(servers) > 1 else ""
    shape = (
        f"open loop at {args.rate:g} arrivals/s ({out['late']} sent over 100 ms late){pool}"
        if args.rate
        else f"closed loop of {args.concurrency} client threads"
    )
    print(
        f"\n{args.orgs} organizations, {shape}, {args.seconds:.0f} s, gunicorn -w "
        f"{args.workers}, PostgreSQL + Redis; load average {load_average()} on "
        f"{os.cpu_count()} cores"
    )
    print(f"  {total:,} requests, {total / out['wall']:.1f} requests/s; errors {len(out['errors'])} ({share:.3%})")
    for kind, lat in out["latencies"].items():
        if lat:
            print(
                f"  {kind:9s} {len(lat):6,}  p50 {median(lat) * 1000:7.1f} ms  "
                f"p95 {percentile(lat, 95) * 1000:7.1f} ms  p99 {percentile(lat, 99) * 1000:7.1f} ms"
            )
    for e in out["errors"][:5]:
        print(f"  error: {e}")
    api, predict = out["latencies"]["api_read"], out["latencies"]["predict"]
    print(
        f"\ntargets: errors < 0.1 % → {share:.3%}; API reads p95 < 300 ms → {percentile(api, 95) * 1000:.0f} ms; "
        f"predict p99 < 50 ms → {percentile(predict, 99) * 1000:.0f} ms"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
