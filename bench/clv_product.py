"""Order logs through the product: upload (validation, conversion, profiling, order-log detection and the
eligibility check), then an analysis (CLV models with holdout, customer table, segmentation, storing results),
in this process through the services and the job's own entry point.

    .venv/bin/python bench/clv_product.py [--customers 25000] [--days 730]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/segsaas_bench .venv/bin/python bench/clv_product.py

Uses its own SQLite database (unless DATABASE_URL is set) and files under var/bench-clv/, and prints the orders,
each stage's seconds (the job's own timings), the holdout accuracy sentence and the peak memory.
"""

import argparse
import io
import resource
import time

from procs import ROOT, django_in_process, organization


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=25_000)
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    django_in_process(ROOT / "var" / "bench-clv", "clv")

    from accounts.services import user_get_or_create
    from datasets.services import dataset_create_from_upload
    from jobs.services import job_execute
    from segments.engine.clv import generate_order_log
    from segments.services import analysis_create

    user, _ = user_get_or_create(email="bench@segsaas.local", password="bench-password-2026")
    org = organization("Bench CLV", user, max_rows=50_000_000, max_upload_bytes=4 << 30, max_concurrent_jobs=4)

    t = time.perf_counter()
    log = generate_order_log(args.customers, days=args.days, seed=args.seed, mess=True)
    buf = io.BytesIO()
    log.to_csv(buf, index=False)
    buf.seek(0)
    buf.name = "orders.csv"
    print(
        f"order log: {len(log):,} rows, {log['customer_id'].nunique():,} customers, {buf.getbuffer().nbytes / 1e6:.1f} MB "
        f"CSV (generated in {time.perf_counter() - t:.1f} s)"
    )

    t = time.perf_counter()
    dataset = dataset_create_from_upload(organization=org, uploaded_by=user, file=buf, background=False)
    upload_s = time.perf_counter() - t
    check = dataset.order_log
    print(
        f"upload + profile + detection + eligibility: {upload_s:.2f} s; kind {dataset.kind}, eligible "
        f"{check.get('eligible')}, columns {dataset.order_columns}"
    )

    t = time.perf_counter()
    analysis = analysis_create(organization=org, dataset=dataset, settings={"nlp": False}, created_by=user)
    status = job_execute(analysis.job_id)
    run_s = time.perf_counter() - t
    analysis.refresh_from_db()
    clv = analysis.metrics.get("clv") or {}
    print(
        f"analysis ({status}): {run_s:.2f} s wall, {analysis.customer_count:,} customers, {analysis.n_segments} "
        "segments"
    )
    print("  CLV stages (wall s): " + ", ".join(f"{k} {v:.2f}" for k, v in (clv.get("timings") or {}).items()))
    print("  segmentation stages (s): " + ", ".join(f"{k} {v:.2f}" for k, v in analysis.metrics["timings"].items()))
    print("  " + ((clv.get("holdout") or {}).get("accuracy_sentence") or "no model: " + str(clv.get("reasons"))))
    print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
