"""Kill the Celery worker (SIGKILL to its whole process group) in the middle of an analysis, at a random stage, N
times; after each kill start a new worker and check the analysis ran again by itself and succeeded exactly once.

    .venv/bin/python bench/kill_workers.py [--kills 20] [--rows 20000] [--seed 1] [--postgres-redis]

Runs on its own database, broker and files: a temporary SQLite database and file-system broker, or with
`--postgres-redis` PostgreSQL + Redis as a deployment does (database `segsaas_killbench` on 127.0.0.1, created when
missing and migrated; Redis db 12; the queues are this run's own), or whatever DATABASE_URL / CELERY_BROKER_URL say
(use a database of your own: it is migrated).
Prints, per kill: the stage and percent the job had reached, the attempts, whether the analysis has exactly one
result set (one row per customer, no duplicates), the seconds from the new worker being ready to the job running
again and to it succeeding; then the totals.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import sys
import tempfile
import time
from pathlib import Path

from procs import django_in_process, organization, postgres_redis, start_worker, stop_worker

KILLBENCH_DATABASE, KILLBENCH_REDIS_DB = "segsaas_killbench", 12


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--postgres-redis",
        action="store_true",
        help=f"PostgreSQL database {KILLBENCH_DATABASE} and Redis db {KILLBENCH_REDIS_DB} instead of SQLite + files",
    )
    args = parser.parse_args()
    if args.postgres_redis:
        os.environ.update(postgres_redis(KILLBENCH_DATABASE, KILLBENCH_REDIS_DB))
    rng = random.Random(args.seed)
    started = time.monotonic()

    tmp = Path(tempfile.mkdtemp(prefix="segsaas-kill-"))
    env = django_in_process(tmp, "kill")
    from django.conf import settings

    from accounts.services import user_get_or_create
    from datasets.services import dataset_create_synthetic
    from segments.models import CustomerResult
    from segments.services import analysis_create, analysis_default_config

    user, _ = user_get_or_create(email=f"kill-{os.getpid()}@example.com", password="kill-bench-password-1")
    org = organization(f"Kill bench {os.getpid()}", user)
    dataset = dataset_create_synthetic(organization=org, created_by=user, rows=args.rows, seed=3, background=False)
    print(f"database {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}, broker {settings.CELERY_BROKER_URL}")
    print(f"dataset: {dataset.row_count:,} rows x {dataset.column_count} columns; {args.kills} kills\n")

    def start(n: int):
        return start_worker(tmp, env, f"kill{n}", queues=list(settings.JOB_QUEUES.values()))

    print(f"{'#':>3} {'killed at':<44} {'attempts':>8} {'status':<10} {'rows':>8} {'one set':>7} "
          f"{'rerun after':>11} {'done after':>10}")  # fmt: skip
    outcomes = []
    worker = start(0)
    for i in range(1, args.kills + 1):
        config = analysis_default_config(dataset) | {"nlp": False}
        analysis = analysis_create(organization=org, dataset=dataset, config=config, created_by=user)
        job = analysis.job
        target = rng.uniform(1, 96)  # kill once the job reports this percent (a random stage)
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            job.refresh_from_db()
            if (job.status == "running" and job.progress >= target) or job.status not in ("queued", "running"):
                break
            time.sleep(0.02)
        killed_at = f"{job.progress:5.1f}% {job.stage[:36]}" if job.status == "running" else f"(already {job.status})"
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()
        worker = start(i)
        back = time.monotonic()
        rerun_after = None
        while time.monotonic() - back < 600:
            job.refresh_from_db()
            if rerun_after is None and job.attempts >= 2:
                rerun_after = time.monotonic() - back
            if job.status not in ("queued", "running"):
                break
            time.sleep(0.1)
        done_after = time.monotonic() - back
        analysis.refresh_from_db()
        rows = CustomerResult.objects.for_organization(org).filter(analysis=analysis)
        n_rows = rows.count()
        one_set = n_rows == dataset.row_count and rows.values("customer_id").distinct().count() == n_rows
        ok = job.status == "succeeded" and one_set and analysis.finished_at is not None
        outcomes.append((ok, job.attempts, rerun_after, done_after, killed_at.startswith("(")))
        print(
            f"{i:>3} {killed_at:<44} {job.attempts:>8} {job.status:<10} {n_rows:>8,} {'yes' if one_set else 'NO':>7} "
            f"{'-' if rerun_after is None else f'{rerun_after:.1f} s':>11} {done_after:>8.1f} s",
            flush=True,
        )
    stop_worker(worker)

    succeeded = sum(ok for ok, *_ in outcomes)
    mid_run = [o for o in outcomes if not o[4]]
    reruns = [o[2] for o in mid_run if o[2] is not None]
    print(f"\n{succeeded}/{len(outcomes)} succeeded exactly once (one result set each)")
    print(f"killed mid-run: {len(mid_run)}; run again by the next worker: {len(reruns)}")
    if reruns:
        print(f"new worker ready -> job running again: max {max(reruns):.1f} s, mean {sum(reruns) / len(reruns):.1f} s")
    dones = [o[3] for o in outcomes]
    print(f"new worker ready -> job succeeded: max {max(dones):.1f} s, mean {sum(dones) / len(dones):.1f} s")
    print(f"attempts: {sorted(o[1] for o in outcomes)}")
    load = Path("/proc/loadavg").read_text().split()[0]
    print(f"whole bench: {time.monotonic() - started:.0f} s; load average at the end {load} on {os.cpu_count()} cores")
    return 0 if succeeded == len(outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
