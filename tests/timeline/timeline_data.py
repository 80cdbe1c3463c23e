"""Customer tables for the segments-over-time tests: three well-separated groups (k-means with k=3 finds them
exactly) whose moves between two months are known."""

import numpy as np
import pandas as pd

# Three groups far apart in every feature: k-means with k=3 finds them exactly.
CENTRES = {
    "low": {"spend": 50.0, "visits": 2.0, "days_since_last": 300.0},
    "mid": {"spend": 800.0, "visits": 20.0, "days_since_last": 90.0},
    "high": {"spend": 5000.0, "visits": 80.0, "days_since_last": 5.0},
}


def month(groups: dict[str, str], seed: int = 0, extra: dict | None = None) -> pd.DataFrame:
    """A customer table: {customer id: group} -> rows near that group's centre (small noise)."""
    rng = np.random.default_rng(seed)
    rows = []
    for cid, group in groups.items():
        c = CENTRES[group]
        rows.append(
            {
                "customer_id": cid,
                "spend": round(c["spend"] * (1 + rng.normal(0, 0.03)), 2),
                "visits": int(max(1, round(c["visits"] * (1 + rng.normal(0, 0.03))))),
                "days_since_last": int(max(0, round(c["days_since_last"] * (1 + rng.normal(0, 0.03))))),
            }
        )
    frame = pd.DataFrame(rows)
    for name, values in (extra or {}).items():
        frame[name] = values
    return frame


def csv_bytes(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False).encode()
