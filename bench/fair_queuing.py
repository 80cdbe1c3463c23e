"""Fair queuing across organizations: one organization submits a burst of analyses, then the others each submit
one, all at once; one heavy worker runs them. Prints the order they started in and, for every job, the most jobs of
any ONE other organization that started while it waited (fair: at most 1), and whether all completed.

    .venv/bin/python bench/fair_queuing.py [--orgs 10] [--burst 3] [--rows 50000] [--concurrency 1]

A private SQLite database and file-system broker, or PostgreSQL + Redis from DATABASE_URL / CELERY_BROKER_URL.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from procs import django_in_process, organization, start_worker, stop_worker


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orgs", type=int, default=10)
    parser.add_argument("--burst", type=int, default=3, help="analyses the first organization submits first")
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--concurrency", type=int, default=1, help="pool processes of the heavy worker")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="segsaas-fair-"))
    env = django_in_process(tmp, "fair")
    from django.conf import settings

    from accounts.services import user_get_or_create
    from datasets.services import dataset_create_synthetic
    from jobs.models import Job
    from segments.services import analysis_create, analysis_default_config

    user, _ = user_get_or_create(email=f"fair-{os.getpid()}@example.com", password="fair-bench-password-1")
    orgs = [organization(f"Org {i:02d} {os.getpid()}", user) for i in range(args.orgs)]
    datasets = [
        dataset_create_synthetic(organization=org, created_by=user, rows=args.rows, seed=i, background=False)
        for i, org in enumerate(orgs)
    ]
    print(
        f"{args.orgs} organizations, {args.rows:,}-row analyses; Org 00 submits {args.burst} first, the others 1 each"
    )
    print(f"one heavy worker, concurrency {args.concurrency}; max_concurrent_jobs per organization: "
          f"{orgs[0].max_concurrent_jobs}\n")  # fmt: skip

    worker = start_worker(tmp, env, "heavy", queues=[settings.JOB_QUEUES["heavy"]], concurrency=args.concurrency)
    t0 = time.monotonic()
    jobs = []
    for i, (org, dataset) in enumerate(zip(orgs, datasets, strict=True)):
        for _ in range(args.burst if i == 0 else 1):
            config = analysis_default_config(dataset) | {"nlp": False}
            jobs.append(analysis_create(organization=org, dataset=dataset, config=config, created_by=user).job)
    while time.monotonic() - t0 < 3600:
        if all(j.status not in ("queued", "running") for j in jobs):
            break
        time.sleep(1)
        for j in jobs:
            j.refresh_from_db()
    wall = time.monotonic() - t0
    stop_worker(worker)

    jobs = list(Job.objects.unscoped().filter(pk__in=[j.pk for j in jobs]).select_related("organization"))
    order = sorted(jobs, key=lambda j: j.started_at)
    print(
        f"{'#':>3} {'organization':<22} {'job':>5} {'status':<10} {'waited':>8} {'ran':>7}  most jobs of one other org ahead"
    )
    worst = 0
    for n, job in enumerate(order, 1):
        ahead = Counter(
            other.organization.name
            for other in jobs
            if other.organization_id != job.organization_id and job.created_at <= other.started_at < job.started_at
        )
        most = max(ahead.values(), default=0)
        worst = max(worst, most)
        waited = (job.started_at - job.created_at).total_seconds()
        ran = (job.finished_at - job.started_at).total_seconds() if job.finished_at else float("nan")
        print(f"{n:>3} {job.organization.name:<22} {job.pk:>5} {job.status:<10} {waited:>7.1f}s {ran:>6.1f}s  {most}")
    done = sum(j.status == "succeeded" for j in jobs)
    print(f"\n{done}/{len(jobs)} completed in {wall:.0f} s")
    print(f"most jobs of any one other organization that started while a job waited: {worst} (fair: <= 1)")
    return 0 if done == len(jobs) and worst <= 1 else 1


if __name__ == "__main__":
    sys.exit(main())
