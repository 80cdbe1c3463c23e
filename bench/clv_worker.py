"""An order log through the product's own path, as an operator runs it: `manage.py import_dataset --kind
transactions` (the upload's validation, conversion to Parquet, profiling, order-log detection and the eligibility
check), then the analysis job (CLV models with holdout, the customer table, segmentation, storing every customer)
run by a real Celery worker.

    .venv/bin/python bench/clv_worker.py                                  # 1,000,000 customers, ~10 million orders
    .venv/bin/python bench/clv_worker.py --customers 20000 --activity 1   # a quick check of the script

Runs on its own SQLite database, file-system broker and files under a temporary folder (or on PostgreSQL + Redis
when DATABASE_URL / CELERY_BROKER_URL are set: use a database of your own, it is migrated). The order log comes
from ``generate_order_log`` (bench/clv.py's generator, written to CSV by a separate process). Prints, for the
import and for the analysis: wall time, peak memory (the import command's process; the worker's pool process,
sampled from /proc while the job runs, and its high-water mark), orders per second, and the job's own stage
timings; the load average before and after (the machine may be shared).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from procs import ROOT, django_in_process, organization, start_worker, status_mb, stop_worker


def _descendants(pid: int) -> list[int]:
    out = []
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return out
    for child in map(int, children):
        out += [child, *_descendants(child)]
    return out


def _import(work: Path, env: dict, slug: str, path: Path) -> tuple[float, float, str]:
    """(wall seconds, peak RSS MB of the command's process, its standard error) of import_dataset."""
    report = work / "import-time.txt"
    started = time.perf_counter()
    proc = subprocess.run(
        ["/usr/bin/time", "-f", "%M", "-o", str(report), str(ROOT / ".venv/bin/python"), "manage.py",
         "import_dataset", "--organization", slug, str(path), "--name", "bench orders", "--kind", "transactions",
         "--customer-col", "customer_id", "--date-col", "order_date", "--amount-col", "amount",
         "--order-id-col", "order_id"],
        cwd=ROOT, env=env, capture_output=True, text=True,
    )  # fmt: skip
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"import_dataset failed:\n{proc.stderr[-3000:]}")
    peak_kb = int(report.read_text().split()[-1])
    return wall, peak_kb / 1024, proc.stderr.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--activity", type=float, default=1.75, help="1.75: about 10 orders per customer")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--budget-mb", type=int, default=4096, help="WORKER_MEMORY_BUDGET_MB of the worker")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="segsaas-clv-worker-"))
    env = django_in_process(work, "clv")
    env["WORKER_MEMORY_BUDGET_MB"] = str(args.budget_mb)
    os.environ["WORKER_MEMORY_BUDGET_MB"] = str(args.budget_mb)
    sys.path.insert(0, str(ROOT / "bench"))
    from clv import _generate
    from django.conf import settings

    from accounts.services import user_get_or_create
    from datasets.models import Dataset
    from jobs.models import Job
    from segments.services import analysis_create

    print(f"load average before: {os.getloadavg()[0]:.1f}, {os.cpu_count()} cores; work folder {work}")
    print(f"database {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}, broker {settings.CELERY_BROKER_URL}")
    csv_path = work / "orders.csv"
    t = time.perf_counter()
    _generate(args.customers, args.activity, args.seed, csv_path)
    print(f"order log: {csv_path.stat().st_size / 1e6:,.0f} MB CSV, generated in {time.perf_counter() - t:.0f} s")

    user, _ = user_get_or_create(email=f"clv-{os.getpid()}@example.com", password="clv-bench-password-1")
    org = organization(f"CLV bench {os.getpid()}", user)
    org.max_rows, org.max_upload_bytes, org.max_concurrent_jobs = 100_000_000, 8 << 30, 4
    org.save()

    wall, peak, said = _import(work, env, org.slug, csv_path)
    dataset = Dataset.objects.for_organization(org).get()
    orders = dataset.row_count
    check = dataset.order_log
    print(f"\nimport_dataset: {wall:.1f} s wall, peak {peak:,.0f} MB, {orders / wall:,.0f} orders/s")
    print(f"  {orders:,} rows; eligible {check.get('eligible')}, {check.get('customers', 0):,} customers, "
          f"{check.get('orders', 0):,} orders kept")  # fmt: skip
    print("  " + said.replace("\n", "\n  "))

    worker = start_worker(work, env, "clv", queues=list(settings.JOB_QUEUES.values()))
    try:
        analysis = analysis_create(organization=org, dataset=dataset, settings={"nlp": False}, created_by=user)
        job = Job.objects.for_organization(org).get(pk=analysis.job_id)
        started = time.perf_counter()
        peak_seen, pool = 0.0, set()
        while True:
            for pid in _descendants(worker.pid):
                pool.add(pid)
                with contextlib.suppress(OSError):
                    peak_seen = max(peak_seen, status_mb(pid, "VmRSS"))
            job.refresh_from_db()
            if job.status not in ("queued", "running"):
                break
            time.sleep(0.25)
        run_wall = time.perf_counter() - started
        hwm = 0.0
        for pid in pool:
            with contextlib.suppress(OSError):
                hwm = max(hwm, status_mb(pid, "VmHWM"))
    finally:
        stop_worker(worker)
    analysis.refresh_from_db()
    print(f"\nanalysis job ({job.status}{': ' + job.error if job.error else ''}): {run_wall:.1f} s wall, "
          f"{orders / run_wall:,.0f} orders/s, {analysis.customer_count:,} customers, {analysis.n_segments} segments")  # fmt: skip
    print(f"  worker pool process peak: {hwm:,.0f} MB (VmHWM; {peak_seen:,.0f} MB the highest RSS sampled)")
    clv = (analysis.metrics or {}).get("clv") or {}
    print("  CLV stages (wall s): " + ", ".join(f"{k} {v:.1f}" for k, v in (clv.get("timings") or {}).items()))
    print(
        "  segmentation stages (s): "
        + ", ".join(f"{k} {v:.1f}" for k, v in ((analysis.metrics or {}).get("timings") or {}).items())
    )
    print("  " + ((clv.get("holdout") or {}).get("accuracy_sentence") or f"no model: {clv.get('reasons')}"))
    total = wall + run_wall
    print(f"\nimport + analysis: {total:.1f} s, {orders / total:,.0f} orders/s end to end")
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
