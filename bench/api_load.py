"""The partner API under load, on loopback, with the production server (gunicorn, workers as the README says).

    .venv/bin/python bench/api_load.py [--rows 1000000] [--workers 4] [--seconds 20] [--concurrency 4]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/segsaas_apibench .venv/bin/python bench/api_load.py

Its own database and files under /tmp/segsaas-apibench (unless DATABASE_URL is set; that database must exist).
Setup (once, reused by later runs): an organization, a 10,000-customer analysis for `predict`, and a
`--rows`-customer analysis (1,000,000 by default) for `customers/` pages, both made by the real services and
engine in this process, and an API key. Then it starts `gunicorn segsaas.wsgi -w WORKERS` on 127.0.0.1 and prints:
  0. a baseline: the cheapest authenticated call, to separate serving overhead from scoring;
  1. `predict` with one record: requests/s and p50/p99 latency from CONCURRENCY client threads for SECONDS;
  2. `predict` with 10,000 records in one call: time per call;
  3. `customers/` pages of 100 rows of the big analysis at random depths, unfiltered and filtered: p50/p95.
The per-key throttle is raised for the run (API_THROTTLE_RATE) so the figures measure serving, not the limit.
"""

import argparse
import base64
import http.client
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
if "DATABASE_URL" not in os.environ:
    os.environ.setdefault("SEGSAAS_VAR_DIR", "/tmp/segsaas-apibench")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "segsaas.settings")
os.environ.setdefault("API_THROTTLE_RATE", "100000000/hour")
os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost")
os.environ.setdefault("CELERY_BROKER_DIR", str(Path(os.environ.get("SEGSAAS_VAR_DIR", "/tmp")) / "broker"))
Path(os.environ.get("SEGSAAS_VAR_DIR", ROOT / "var")).mkdir(parents=True, exist_ok=True)

import django  # noqa: E402

django.setup()

from procs import closed_loop as requests_loop  # noqa: E402
from procs import load_average, median, percentile, predict_records, start_gunicorn  # noqa: E402

BENCH_ORG = "API bench"


def ms(seconds):
    return f"{seconds * 1000:.1f} ms"


# --- setup ---------------------------------------------------------------------------------------


def setup(rows: int):
    from django.core.management import call_command

    from accounts.models import Organization
    from accounts.services import api_key_create
    from datasets.models import Dataset
    from datasets.services import dataset_create_synthetic
    from jobs.services import job_execute
    from segments.models import Analysis
    from segments.services import analysis_create, analysis_default_config

    call_command("migrate", verbosity=0)
    org = Organization.objects.filter(slug="api-bench").first()
    if org is None:
        org = Organization.objects.create(name=BENCH_ORG, slug="api-bench")
    Organization.objects.filter(pk=org.pk).update(max_rows=max(rows, 2_000_000))
    org.refresh_from_db()

    def analysis_of(n):
        name = f"bench {n} customers"
        found = (
            Analysis.objects.for_organization(org).filter(name=name, customer_count=n).exclude(model_file="").first()
        )
        if found is not None:
            return found
        dataset = Dataset.objects.for_organization(org).filter(name=name, status="ready").first()
        if dataset is None:
            t0 = time.perf_counter()
            dataset = dataset_create_synthetic(
                organization=org, created_by=None, rows=n, seed=11, name=name, background=False
            )
            print(f"  made dataset of {n:,} customers in {time.perf_counter() - t0:.0f} s", flush=True)
        t0 = time.perf_counter()
        analysis = analysis_create(
            organization=org,
            dataset=dataset,
            name=name,
            config={**analysis_default_config(dataset), "n_clusters": 6, "nlp": False},
        )
        outcome = job_execute(analysis.job_id)
        analysis.refresh_from_db()
        print(f"  ran the analysis of {n:,} customers in {time.perf_counter() - t0:.0f} s ({outcome})", flush=True)
        if outcome != "succeeded":
            raise SystemExit(f"analysis failed: {analysis.job.error}")
        return analysis

    small = analysis_of(10_000)
    big = analysis_of(rows)
    key = api_key_create(organization=org, name="bench", scopes=["read", "predict"])[1]
    from datasets.services import dataset_read_dataframe

    records = predict_records(dataset_read_dataframe(small.dataset).head(10_000))
    return small, big, key, records


# --- load ----------------------------------------------------------------------------------------


class Target:
    def __init__(self, port, key):
        self.port = port
        self.headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}

    def call(self, method, path, body=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            t0 = time.perf_counter()
            conn.request(method, path, body=None if body is None else json.dumps(body), headers=self.headers)
            response = conn.getresponse()
            data = response.read()
            elapsed = time.perf_counter() - t0
        finally:
            conn.close()
        if response.status != 200:
            raise RuntimeError(f"{method} {path} -> {response.status}: {data[:300]!r}")
        return elapsed, data


def closed_loop(target, make_request, seconds, concurrency):
    """`make_request()` -> (method, path, JSON body or None), sent for SECONDS from CONCURRENCY threads, a connection
    per request: (latencies of the 200s, errors, wall seconds)."""

    def next_request():
        method, path, body = make_request()
        return "call", method, path, None if body is None else json.dumps(body), target.headers

    out = requests_loop(
        target.port, next_request, seconds, concurrency, keep_alive=False, timeout=60, ok=lambda status: status == 200,
        body_chars=300,
    )  # fmt: skip
    return out["latencies"].get("call", []), out["errors"], out["wall"]


def workers_cpu_seconds(master_pid):
    """User + system CPU seconds used so far by gunicorn's worker processes (from /proc)."""
    total = 0.0
    children = Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()
    for pid in children:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


WRK_SCRIPT = """
local bodies = {BODIES}
local i = 0
request = function()
  i = i + 1
  return wrk.format("POST", nil, nil, bodies[(i % #bodies) + 1])
end
done = function(summary, latency, requests)
  io.write(string.format("BENCH %d %d %d %d %d %d %d\\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(99), summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write, summary.errors.timeout))
end
"""


def run_wrk(port, key, path, records, seconds, connections):
    """`wrk` POSTing one random record per request; returns counts and latency percentiles."""
    import tempfile

    bodies = [json.dumps({"record": r}) for r in random.sample(records, min(200, len(records)))]
    lua = WRK_SCRIPT.replace("{BODIES}", "{" + ",".join(json.dumps(b) for b in bodies) + "}")
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
        fh.write(lua)
    out = subprocess.run(
        [
            "wrk",
            "-t",
            "1",
            "-c",
            str(connections),
            "-d",
            f"{int(seconds)}s",
            "--timeout",
            "10s",
            "-s",
            fh.name,
            "-H",
            f"Authorization: Bearer {key}",
            "-H",
            "Content-Type: application/json",
            f"http://127.0.0.1:{port}{path}",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    os.unlink(fh.name)
    fields = next(line for line in out.splitlines() if line.startswith("BENCH ")).split()[1:]
    requests, duration_us, p50_us, p99_us, non_2xx, socket_errors, timeouts = (int(f) for f in fields)
    return {
        "requests": requests,
        "seconds": duration_us / 1e6,
        "p50": ms(p50_us / 1e6),
        "p99": ms(p99_us / 1e6),
        "non_2xx": non_2xx,
        "socket_errors": socket_errors + timeouts,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (README: -w 4)")
    parser.add_argument("--port", type=int, default=8013)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--page-requests", type=int, default=300)
    parser.add_argument("--batch-calls", type=int, default=5)
    args = parser.parse_args()

    from django.db import connection

    print(f"database: {connection.vendor}; setting up (first run makes the analyses)...", flush=True)
    small, big, key, records = setup(args.rows)
    connection.close()
    print(
        f"predict analysis #{small.pk} ({small.customer_count:,} customers), customers analysis #{big.pk} "
        f"({big.customer_count:,} customers); gunicorn -w {args.workers} on 127.0.0.1:{args.port}",
        flush=True,
    )
    proc, _ = start_gunicorn(dict(os.environ), args.port, 30, workers=args.workers)
    try:
        target = Target(args.port, key)
        predict = f"/api/v1/analyses/{small.pk}/predict/"
        # warm every worker's model cache (and the OS file cache) before measuring
        closed_loop(target, lambda: ("POST", predict, {"record": random.choice(records)}), 3, args.workers * 2)

        print("\n0. baseline: the cheapest authenticated call (GET datasets/?page_size=1), same clients", flush=True)
        cpu0 = workers_cpu_seconds(proc.pid)
        lat, errors, wall = closed_loop(
            target, lambda: ("GET", "/api/v1/datasets/?page_size=1", None), min(args.seconds, 10), args.concurrency
        )
        cpu = (workers_cpu_seconds(proc.pid) - cpu0) / max(len(lat), 1)
        print(
            f"   {len(lat) / wall:.0f} requests/s; p50 {ms(median(lat))}, p99 {ms(percentile(lat, 99))}; "
            f"errors {len(errors)}; server CPU {ms(cpu)} per request; load average {load_average()}"
        )

        print("\n1. predict, one record per request", flush=True)
        cpu0 = workers_cpu_seconds(proc.pid)
        lat, errors, wall = closed_loop(
            target, lambda: ("POST", predict, {"record": random.choice(records)}), args.seconds, args.concurrency
        )
        cpu = (workers_cpu_seconds(proc.pid) - cpu0) / max(len(lat), 1)
        print(
            f"   {len(lat):,} requests in {wall:.1f} s from {args.concurrency} client threads: "
            f"{len(lat) / wall:.0f} requests/s; p50 {ms(median(lat))}, p99 {ms(percentile(lat, 99))}, "
            f"max {ms(max(lat))}; errors {len(errors)}" + (f" (e.g. {errors[0]})" if errors else "")
        )
        print(
            f"   server CPU {ms(cpu)} per request (all {args.workers} workers); load average {load_average()} on "
            f"{os.cpu_count()} cores: an otherwise idle machine would serve about {os.cpu_count() / cpu:.0f} "
            f"requests/s at full CPU"
        )

        if shutil.which("wrk"):
            print(
                "\n1b. predict, one record per request, from wrk (a C load generator: the Python clients above "
                "use a core themselves)",
                flush=True,
            )
            cpu0 = workers_cpu_seconds(proc.pid)
            report = run_wrk(args.port, key, predict, records, args.seconds, args.concurrency)
            cpu = (workers_cpu_seconds(proc.pid) - cpu0) / max(report["requests"], 1)
            print(
                f"   {report['requests']:,} requests in {report['seconds']:.1f} s over {args.concurrency} connections: "
                f"{report['requests'] / report['seconds']:.0f} requests/s; p50 {report['p50']}, p99 {report['p99']}; "
                f"non-2xx {report['non_2xx']}, socket errors {report['socket_errors']}"
            )
            print(f"   server CPU {ms(cpu)} per request; load average {load_average()}")
        else:
            print("\n1b. (install Debian's `wrk` for a load generator that leaves the cores to the server)")

        print("\n2. predict, 10,000 records in one call", flush=True)
        batch = (records * (10_000 // len(records) + 1))[:10_000]
        times = []
        for _ in range(args.batch_calls):
            elapsed, data = target.call("POST", predict, {"records": batch})
            assert json.loads(data)["count"] == 10_000
            times.append(elapsed)
        print(
            f"   {len(times)} calls: median {ms(median(times))}, max {ms(max(times))} "
            f"(request body {len(json.dumps({'records': batch})) / 1e6:.1f} MB)"
        )

        print(f"\n3. customers/ pages of 100 rows, {big.customer_count:,}-customer analysis", flush=True)
        base = f"/api/v1/analyses/{big.pk}/customers/"
        segments = [p["segment"] for p in big.profiles]

        def cursor(position):
            return base64.b64encode(f"p={position}".encode()).decode()

        kinds = {
            "first page": lambda: f"{base}?page_size=100",
            "random depth": lambda: f"{base}?page_size=100&cursor={cursor(random.randrange(big.customer_count - 200))}",
            "segment filter, random depth": lambda: (
                f"{base}?page_size=100&segment={random.choice(segments)}"
                f"&cursor={cursor(random.randrange(big.customer_count // 2))}"
            ),
            "churn_risk_min=0.5 & ltv_min=100": lambda: f"{base}?page_size=100&churn_risk_min=0.5&ltv_min=100",
        }
        for label, make in kinds.items():
            lat = [target.call("GET", make())[0] for _ in range(args.page_requests // len(kinds))]
            print(
                f"   {label:36s} p50 {ms(median(lat))}, p95 {ms(percentile(lat, 95))}, "
                f"max {ms(max(lat))} ({len(lat)} requests, one at a time)"
            )
        lat, errors, wall = closed_loop(target, lambda: ("GET", kinds["random depth"](), None), 10, args.concurrency)
        print(
            f"   random depth under load ({args.concurrency} threads): {len(lat) / wall:.0f} pages/s, "
            f"p50 {ms(median(lat))}, p95 {ms(percentile(lat, 95))}; errors {len(errors)}"
        )
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


if __name__ == "__main__":
    main()
