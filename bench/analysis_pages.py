"""Analysis pages at a million customers: run time, result storage, page and search latency.

    .venv/bin/python bench/analysis_pages.py [--rows 1000000] [--no-browser]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/segsaas_bench .venv/bin/python bench/analysis_pages.py

Uses its own SQLite database (unless DATABASE_URL is set), media and broker directories under var/bench/,
and prints:
  1. the 1M-customer analysis: wall time, engine seconds, time to store the per-customer rows;
  2. page responsiveness WHILE that analysis runs in another process (a 10k analysis's tabs);
  3. the 1M analysis's Visualizations tab: server time cold (figures built) and warm (cached),
     response size, and full render in Chromium (navigation start -> every Plotly chart drawn);
  4. customer search pages of 100 rows (keyset pagination with segment / churn / LTV filters).
"""

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# Own SQLite file, media and broker directory, apart from the dev server's (DATABASE_URL switches the database).
os.environ.setdefault("SEGSAAS_VAR_DIR", str(ROOT / "var" / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "segsaas.settings")
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
Path(os.environ.get("SEGSAAS_VAR_DIR", ROOT / "var")).mkdir(parents=True, exist_ok=True)

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def pct(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def setup_org():
    from accounts.models import Membership, Organization
    from accounts.services import user_get_or_create

    user, _ = user_get_or_create(email="bench@segsaas.local", password="bench-password-2026")
    org = Organization.objects.filter(slug="bench").first()
    if org is None:
        org = Organization.objects.create(name="Bench", slug="bench", max_concurrent_jobs=4, max_rows=5_000_000)
        Membership.objects.for_organization(org).create(user=user, role="owner")
    return org, user


def make_dataset(org, user, rows):
    from datasets.services import dataset_create_synthetic

    t0 = time.perf_counter()
    ds = dataset_create_synthetic(
        organization=org, created_by=user, rows=rows, seed=2026, background=False, name=f"Bench {rows:,}"
    )
    return ds, time.perf_counter() - t0


def queue(dataset, user, **config):
    from segments.services import analysis_create, analysis_default_config

    cfg = analysis_default_config(dataset) | config
    return analysis_create(organization=dataset.organization, dataset=dataset, config=cfg, name="", created_by=user)


def run_in_process(analysis):
    from jobs.services import job_execute

    assert job_execute(analysis.job_id) == "succeeded", analysis.job.error
    analysis.refresh_from_db()
    return analysis


def run_in_subprocess(analysis) -> subprocess.Popen:
    """The job in a separate process, like a Celery worker (this process keeps serving pages)."""
    code = (
        f"import django; django.setup(); from jobs.services import job_execute; print(job_execute({analysis.job_id}))"
    )
    return subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=dict(os.environ))


def time_get(client, url, n=1):
    times, size = [], 0
    for _ in range(n):
        t0 = time.perf_counter()
        response = client.get(url)
        times.append(time.perf_counter() - t0)
        assert response.status_code == 200, (url, response.status_code)
        size = len(response.content)
    return times, size


def browser_render(url_path, session_cookie, port):
    """Full render in Chromium against a runserver on `port`: navigation start -> every chart drawn."""
    from playwright.sync_api import sync_playwright

    args = [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
    ]
    results = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=args)
        context = browser.new_context(viewport={"width": 1366, "height": 900})
        context.add_cookies([{"name": "sessionid", "value": session_cookie, "domain": "127.0.0.1", "path": "/"}])
        page = context.new_page()
        for attempt in range(3):
            page.goto(f"http://127.0.0.1:{port}{url_path}", wait_until="commit")
            page.wait_for_function(
                "() => { const b = [...document.querySelectorAll('[data-figure]')].filter(e => {"
                " const r = e.getBoundingClientRect(); return r.top < innerHeight && r.bottom > 0; });"
                " return b.length > 0 && b.every(e => e.classList.contains('chart-ready')); }",
                timeout=60_000,
                polling=20,
            )
            first_screen = page.evaluate("() => performance.now() / 1000")
            page.wait_for_function(
                "() => { const b = document.querySelectorAll('[data-figure]');"
                " return b.length > 0 && [...b].every(e => e.classList.contains('chart-ready')); }",
                timeout=60_000,
                polling=50,
            )
            results.append(
                page.evaluate("""() => {
                const nav = performance.getEntriesByType('navigation')[0];
                const js = performance.getEntriesByType('resource').find(e => e.name.includes('plotly.min.js'));
                return {all: performance.now() / 1000, html: nav.responseEnd / 1000, first: 0,
                        dcl: nav.domContentLoadedEventEnd / 1000, plotly: js ? js.responseEnd / 1000 : null,
                        plotly_bytes: js ? js.transferSize : null};
            }""")
            )
            results[-1]["first"] = first_screen
            if attempt == 0:
                charts = page.locator("[data-figure]").count()
        browser.close()
    return results, charts


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--no-browser", action="store_true")
    parser.add_argument("--port", type=int, default=8097)
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="time the pages of an existing finished analysis of --rows customers (skips 1 and 2)",
    )
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    org, user = setup_org()
    print(f"database: {connection.vendor}   rows: {args.rows:,}   load: {os.getloadavg()[0]:.2f}")

    client = Client()
    client.force_login(user)
    session = client.session
    session["active_organization_id"] = org.pk
    session.save()
    from segments.models import Analysis

    existing = (
        Analysis.objects.for_organization(org)
        .filter(customer_count=args.rows, job__status="succeeded")
        .order_by("-created_at")
        .first()
    )
    if args.reuse and existing is not None:
        print(f"reusing analysis {existing.pk} ({existing.customer_count:,} customers)")
        time_pages(args, client, existing)
        return
    # A small finished analysis whose pages we time while the big one runs.
    small_ds, _ = make_dataset(org, user, 10_000)
    small = run_in_process(queue(small_ds, user))
    print(f"10k analysis: {small.n_segments} segments in {small.job.elapsed_seconds:.1f} s")

    big_ds, gen_s = make_dataset(org, user, args.rows)
    print(f"generated + profiled {args.rows:,} customers in {gen_s:.1f} s")
    big = queue(big_ds, user)

    t0 = time.perf_counter()
    proc = run_in_subprocess(big)
    page_times = {"data": [], "visualizations": [], "profiles": [], "job status": []}
    urls = {
        "data": f"/analyses/{small.pk}/",
        "visualizations": f"/analyses/{small.pk}/visualizations/",
        "profiles": f"/analyses/{small.pk}/profiles/?segment=1&churn_risk_min=30",
        "job status": f"/jobs/{big.job_id}/",
    }
    stages = []
    while proc.poll() is None:
        for name, url in urls.items():
            page_times[name].extend(time_get(client, url)[0])
        big.job.refresh_from_db()
        stage = big.job.stage.split(" (")[0]
        if not stages or stages[-1] != stage:
            stages.append(stage)
        time.sleep(0.3)
    wall = time.perf_counter() - t0
    big.refresh_from_db()
    big.job.refresh_from_db()
    assert big.job.status == "succeeded", big.job.error
    print(
        f"\n1) {args.rows:,}-customer analysis (default: auto k 2..10, NLP on): {wall:.1f} s wall in a separate process"
    )
    print(
        f"   engine total {big.metrics['timings'].get('total', 0):.1f} s; peak memory {big.metrics.get('peak_memory_mb', 0):.0f} MB;"
        f" storing {big.customer_count:,} CustomerResult rows {big.metrics['timings'].get('store_customers_seconds')} s;"
        f" {big.n_segments} segments"
    )
    print(f"   stages seen by the page: {' → '.join(stages)}")
    print("\n2) pages of a 10k analysis while the 1M analysis runs (server time):")
    for name, times in page_times.items():
        if times:
            print(
                f"   {name:15s} n={len(times):3d}  median {ms(statistics.median(times))}  p95 {ms(pct(times, 0.95))}  max {ms(max(times))}"
            )

    time_pages(args, client, big)


def time_pages(args, client, big):
    from django.core.cache import cache

    cache.clear()
    viz = f"/analyses/{big.pk}/visualizations/"
    cold, size = time_get(client, viz)
    warm, _ = time_get(client, viz, n=20)
    print(f"\n3) Visualizations tab of the {args.rows:,}-customer analysis (server time):")
    print(
        f"   cold (first request of this process: figure JSON read from the file the job wrote): {ms(cold[0])};  warm (cached): median {ms(statistics.median(warm))},"
        f" p95 {ms(pct(warm, 0.95))};  HTML {size / 1024:.0f} KiB"
    )
    for name, url in (
        ("data", f"/analyses/{big.pk}/"),
        ("insights", f"/analyses/{big.pk}/insights/"),
        ("profiles", f"/analyses/{big.pk}/profiles/"),
    ):
        cold_t, _ = time_get(client, url)
        warm_t, _ = time_get(client, url, n=10)
        print(f"   {name:9s} tab: cold {ms(cold_t[0])}, warm median {ms(statistics.median(warm_t))}")

    if not args.no_browser:
        env = dict(os.environ)
        server = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", f"127.0.0.1:{args.port}", "--noreload"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            for _ in range(100):
                try:
                    import urllib.request

                    urllib.request.urlopen(f"http://127.0.0.1:{args.port}/healthz", timeout=1)  # noqa: S310
                    break
                except Exception:  # noqa: BLE001
                    time.sleep(0.2)
            renders, charts = browser_render(viz, client.cookies["sessionid"].value, args.port)
            print(
                f"   full render in Chromium ({charts} charts), seconds from navigation start (empty browser cache first):"
            )
            for i, r in enumerate(renders):
                plotly = (
                    "cached"
                    if not r["plotly_bytes"]
                    else f"{r['plotly'] or 0:.2f} s ({r['plotly_bytes'] / 1e6:.1f} MB)"
                )
                print(
                    f"     visit {i + 1}: HTML received {r['html']:.2f} s, plotly.min.js {plotly}, "
                    f"DOM ready {r['dcl']:.2f} s, first screen's charts drawn {r['first']:.2f} s, "
                    f"all {charts} drawn {r['all']:.2f} s"
                )
        finally:
            server.terminate()
            server.wait(timeout=10)

    import random

    from segments.selectors import customer_page

    rnd = random.Random(1)
    n = big.customer_count
    cases = {
        "all customers": {},
        "one segment": {"segment": 1},
        "segment + churn ≥ 0.5": {"segment": 0, "churn_risk_min": 0.5},
        "churn 0.2–0.6 + LTV ≥ 100": {"churn_risk_min": 0.2, "churn_risk_max": 0.6, "ltv_min": 100.0},
    }
    print(f"\n4) customer pages of 100 rows on {n:,} customers (keyset after a random row; 50 pages each);")
    print("   page only (the API's cursor pages) | page + capped total (the Profiles tab's count)")
    for label, filters in cases.items():
        bare, counted = [], []
        for _ in range(50):
            after = rnd.randrange(0, n)
            t0 = time.perf_counter()
            customer_page(analysis=big, after=after, limit=100, with_total=False, **filters)
            bare.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            page = customer_page(analysis=big, after=after, limit=100, **filters)
            counted.append(time.perf_counter() - t0)
        print(
            f"   {label:28s} median {ms(statistics.median(bare))} p95 {ms(pct(bare, 0.95))} | median "
            f"{ms(statistics.median(counted))} p95 {ms(pct(counted, 0.95))}  (total {page.total:,}"
            f"{'+' if page.total_capped else ''})"
        )


if __name__ == "__main__":
    main()
