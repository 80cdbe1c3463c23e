"""Benchmark: the Dask path (segments/engine/dask_path.py) on a synthetic table larger than one process should hold.

    .venv/bin/python bench/dask_engine.py [--rows 10000000] [--partition-rows 500000] [--workers 2] [--nlp]

Set-up (timed separately): the engine's generator writes `--rows` customers as Parquet partitions of
`--partition-rows` under /tmp/segsaas-bench-dask (each partition its own seed and id range).
Measured: the whole Dask run on a LocalCluster of `--workers` processes (one thread each): partition sizes, the
fit on a sample of `fit_sample_size` rows, scoring and writing every partition, the segment sizes; wall time,
rows/s, and the peak resident memory of the driver and of each worker process. No process reads the whole table.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
WORK = Path("/tmp/segsaas-bench-dask")


def write_table(rows: int, partition_rows: int) -> Path:
    from segments.engine import generate_synthetic

    source = WORK / "customers"
    shutil.rmtree(WORK, ignore_errors=True)
    source.mkdir(parents=True)
    done = 0
    part = 0
    while done < rows:
        n = min(partition_rows, rows - done)
        frame = generate_synthetic(n, seed=1000 + part)
        frame["customer_id"] = [f"C{done + i + 1:09d}" for i in range(n)]
        frame.to_parquet(source / f"part-{part:04d}.parquet", index=False)
        done += n
        part += 1
    return source


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--partition-rows", type=int, default=500_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--sample", type=int, default=200_000, help="fit_sample_size")
    parser.add_argument("--nlp", action=argparse.BooleanOptionalAction, default=True)
    args = parser.parse_args()

    from segments.engine import AnalysisConfig
    from segments.engine.dask_path import analyze_distributed

    t = time.perf_counter()
    source = write_table(args.rows, args.partition_rows)
    setup = time.perf_counter() - t
    size_mb = sum(f.stat().st_size for f in source.iterdir()) / 1e6
    print(
        f"set-up: {args.rows:,} synthetic customers in {len(list(source.iterdir()))} Parquet partitions "
        f"({size_mb:,.0f} MB) in {setup:.0f} s"
    )

    config = AnalysisConfig(fit_sample_size=args.sample, nlp=args.nlp)
    t = time.perf_counter()
    result = analyze_distributed(source, config, WORK / "results", n_workers=args.workers, memory_limit="4GiB")
    wall = time.perf_counter() - t
    d = result.metrics["distributed"]
    print(f"\nDask path, LocalCluster of {args.workers} worker processes × 1 thread, NLP {'on' if args.nlp else 'off'}")
    print(f"  rows {result.n_rows:,} · partitions {result.partitions} · fitted on {d['sample_rows']:,} sampled rows")
    print(f"  wall {wall:.1f} s · {result.n_rows / wall:,.0f} rows/s")
    for stage, seconds in d["timings"].items():
        print(f"    {stage:<28} {seconds:8.1f} s")
    print(f"  peak memory: driver {d['driver_peak_memory_mb']:,.0f} MB")
    for worker, mb in d["worker_peak_memory_mb"].items():
        print(f"               worker {worker}: {mb:,.0f} MB")
    sizes = ", ".join(f"{p['name']} {p['size']:,}" for p in result.profiles)
    print(f"  segments: {sizes}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
