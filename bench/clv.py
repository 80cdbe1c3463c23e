"""Benchmark customer lifetime value from order logs (segments/engine/clv).

    .venv/bin/python bench/clv.py                       # 25,000 and 1,000,000 customers
    .venv/bin/python bench/clv.py --customers 25000     # one size
    .venv/bin/python bench/clv.py --customers 1000000 --activity 1.75   # ~10 million orders

Order logs come from ``generate_order_log`` (seasonal, renewal-type purchases, Weibull lifetimes, heavy-tailed
spend, split orders, refunds, zero amounts, duplicate rows: none of the fitted models), written to CSV by a
separate process. A fresh process then runs ``fit_clv`` on the file (streamed reading, holdout scoring of
Pareto/NBD, BG/NBD and MBG/NBD, refit, expected value and 80 % ranges for every customer) and prints: seconds per
stage, wall and CPU (user + sys) time, peak resident memory (ru_maxrss: includes the imported libraries),
orders/s, and the load average of the machine before and after (the machine is shared: CPU time is what the
wall time would be on an idle box, the run being single-threaded).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _generate(customers: int, activity: float, seed: int, path: Path) -> None:
    code = (
        f"import sys; sys.path.insert(0, {str(ROOT)!r})\n"
        "import pyarrow as pa, pyarrow.csv as pacsv\n"
        "from segments.engine.clv import generate_order_log\n"
        f"df = generate_order_log({customers}, seed={seed}, activity={activity})\n"
        "df['order_date'] = df['order_date'].dt.strftime('%Y-%m-%d')\n"
        f"pacsv.write_csv(pa.Table.from_pandas(df, preserve_index=False), {str(path)!r})\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def _run(path: str) -> dict:
    import resource

    t0 = time.perf_counter()
    from segments.engine.clv import CLVConfig, fit_clv

    import_s = time.perf_counter() - t0
    config = CLVConfig(
        customer_col="customer_id",
        date_col="order_date",
        amount_col="amount",
        order_id_col="order_id",
        observation_end="2024-12-31",
    )
    cpu0, wall0 = time.process_time(), time.perf_counter()
    result = fit_clv(path, config)
    wall = time.perf_counter() - wall0
    cpu = time.process_time() - cpu0
    m = result.metrics
    h = m.get("holdout", {})
    return {
        "import_s": import_s,
        "wall_s": wall,
        "cpu_s": cpu,
        "timings": result.timings,
        "cpu": m["cpu_seconds"],
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "orders": m["ingest"]["rows"],
        "customers": m["summary"]["customers"],
        "eligible": result.eligible,
        "chosen": h.get("chosen"),
        "holdout": {
            k: {f: s.get(f) for f in ("mae", "purchases_error", "spend_error")}
            | {"coverage": s["ranges"]["coverage"], "pit": s["ranges"]["pit_coverage"]}
            for k, s in h.get("models", {}).items()
        },
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, action="append")
    parser.add_argument(
        "--activity",
        type=float,
        default=None,
        help="purchase-rate multiplier (default: 1.0 below 100k customers, 1.75 above)",
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--run", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run:
        print(json.dumps(_run(args.run)))
        return 0
    sizes = args.customers or [25_000, 1_000_000]
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            activity = args.activity if args.activity is not None else (1.0 if n < 100_000 else 1.75)
            path = Path(tmp) / f"orders_{n}.csv"
            t = time.perf_counter()
            _generate(n, activity, args.seed, path)
            gen_s = time.perf_counter() - t
            load_before = os.getloadavg()
            out = subprocess.run(
                [sys.executable, __file__, "--run", str(path)], check=True, capture_output=True, text=True
            )
            load_after = os.getloadavg()
            r = json.loads(out.stdout.strip().splitlines()[-1])
            tm = r["timings"]
            model_s = tm["total"] - tm["read"] - tm["summarize"]
            model_cpu = r["cpu"]["total"] - r["cpu"]["read"] - r["cpu"]["summarize"]
            print(
                f"\n{n:,} customers, {r['orders']:,} orders ({path.stat().st_size / 1e6:,.0f} MB CSV, generated in {gen_s:.0f} s)"
            )
            print(
                f"  load average before {load_before[0]:.1f} / {load_before[1]:.1f}, after {load_after[0]:.1f} / "
                f"{load_after[1]:.1f} (1 / 5 min, 2 cores)"
            )
            print(
                "  stages (wall / CPU s): "
                + ", ".join(f"{k} {v:.2f} / {r['cpu'][k]:.2f}" for k, v in tm.items() if k != "total")
            )
            print(
                f"  total {r['wall_s']:.2f} s wall, {r['cpu_s']:.2f} s CPU; fit + holdout + ranges {model_s:.2f} s wall / {model_cpu:.2f} s CPU; "
                f"peak RSS {r['peak_rss_mb']:,.0f} MB; {r['orders'] / r['wall_s']:,.0f} orders/s; imports {r['import_s']:.2f} s"
            )
            print(f"  eligible {r['eligible']}, chosen {r['chosen']}")
            for k, s in r["holdout"].items():
                print(
                    f"    {k:<10} MAE {s['mae']:.3f}  purchases {s['purchases_error']:+.1%}  spend {s['spend_error']:+.1%}  "
                    f"range coverage {s['coverage']:.3f} (PIT {s['pit']:.3f})"
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
