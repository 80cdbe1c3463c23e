"""Segments over time at scale: matching a re-run's segments, counting who moved where, and drift, on a million
customers (engine functions and the same pandas join the migration service uses; no database).

    .venv/bin/python bench/timeline.py [--rows 1000000]

Prints the seconds of: the overlap matrix + Hungarian assignment (continuity), the migration join and counts, and
PSI over ten columns (drift), with peak memory.
"""

import argparse
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from segments.engine.continuity import match_segments  # noqa: E402
from segments.engine.drift import feature_drift  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--k", type=int, default=8)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    n, k = args.rows, args.k
    ids = np.array([f"C{i:08d}" for i in range(n)])
    before = rng.integers(0, k, n)
    relabel = rng.permutation(k)
    after = relabel[before]
    movers = rng.random(n) < 0.1
    after[movers] = rng.integers(0, k, movers.sum())
    keep = rng.random(n) > 0.05  # 5 % gone, 5 % new
    new_ids = np.concatenate([ids[keep], np.array([f"N{i:08d}" for i in range(n - keep.sum())])])
    new_segments = np.concatenate([after[keep], rng.integers(0, k, n - keep.sum())])
    profiles = [{"segment": s, "name": f"S{s}", "stats": {}} for s in range(k)]

    t = time.perf_counter()
    match = match_segments(
        prev_profiles=profiles,
        new_profiles=profiles,
        prev_ids=ids,
        prev_segments=before,
        new_ids=new_ids,
        new_segments=new_segments,
    )
    t_match = time.perf_counter() - t
    recovered = all(match.mapping[int(relabel[s])] == s for s in range(k))

    t = time.perf_counter()
    a = pd.DataFrame({"customer_id": ids, "segment": before})
    b = pd.DataFrame({"customer_id": new_ids, "segment": new_segments})
    joined = a.merge(b, on="customer_id", how="outer", suffixes=("_from", "_to"), indicator=True)
    both = joined[joined["_merge"] == "both"]
    cells = both.groupby(["segment_from", "segment_to"]).size()
    new_customers = int((joined["_merge"] == "right_only").sum())
    t_migration = time.perf_counter() - t

    old = pd.DataFrame({f"x{j}": rng.normal(100, 10, n) for j in range(10)})
    new = pd.DataFrame({f"x{j}": rng.normal(100 + j, 10, n) for j in range(10)})
    t = time.perf_counter()
    drift = feature_drift(old, new, {c: "numeric" for c in old.columns})
    t_drift = time.perf_counter() - t

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"customers: {n:,}  segments: {k}")
    print(f"continuity (overlap matrix + Hungarian): {t_match:.2f} s; permutation recovered: {recovered}")
    print(f"migration join + counts: {t_migration:.2f} s; {len(cells)} cells, {new_customers:,} new customers")
    print(f"drift, PSI of 10 columns: {t_drift:.2f} s; " + ", ".join(f"{d['column']}={d['psi']}" for d in drift[:3]))
    print(f"peak memory: {peak:,.0f} MB")


if __name__ == "__main__":
    main()
