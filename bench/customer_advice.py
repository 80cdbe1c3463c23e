"""Each customer's own levels and recommendation (engine `profiles.customer_advice`) at scale.

    .venv/bin/python bench/customer_advice.py [--rows 100000 1000000]

Prints seconds per call and the actions' shares for random churn risks, values and two engagement columns (the
full analysis runs it once in its "Recommendations" stage; `bench/engine.py` reports that stage's time).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    import numpy as np
    import pandas as pd

    from segments.engine.profiles import customer_advice

    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000])
    args = parser.parse_args()
    for n in args.rows:
        rng = np.random.default_rng(0)
        churn = np.round(rng.beta(2, 5, n), 6)
        value = np.round(rng.gamma(2, 500, n), 2)
        readable = {"sessions": rng.gamma(3, 3, n), "days_since_last_visit": rng.gamma(2, 60, n)}
        reference = {
            "avg_churn_risk": float(churn.mean()),
            "avg_value": float(value.mean()),
            "value_measure": "predicted_ltv",
            "churn_method": "supervised",
            "engagement": {
                c: {"column": c, "mean": float(v.mean()), "std": float(v.std()), "sign": 1 if c == "sessions" else -1}
                for c, v in readable.items()
            },
            "engagement_columns": {"sessions": "more", "days_since_last_visit": "less"},
        }
        start = time.perf_counter()
        out = customer_advice(churn=churn, value=value, readable=readable, reference=reference)
        seconds = time.perf_counter() - start
        shares = pd.Series(out["recommendation"]).str.split(":").str[0].value_counts(normalize=True)
        print(f"{n:>9,} customers: {seconds:.2f} s ({n / seconds:,.0f} customers/s)")
        for action, share in shares.items():
            print(f"            {share:6.1%}  {action}")


if __name__ == "__main__":
    main()
