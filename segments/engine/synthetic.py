"""Synthetic customers with hidden segments, generated vectorised from a seed.

Purchases follow a buy-till-you-die process per customer (a purchase rate and a
dropout time), so recency, frequency and tenure are mutually consistent and the
optional churn label ("no purchase in the next 90 days") is a genuine future
outcome rather than a function of the columns.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

REFERENCE_DATE = np.datetime64("2026-06-30")

# name, share, tenure days, days between purchases, P(still active), AOV, sessions/month,
# tickets, discount share, P(positive review), P(negative review), P(mobile)
SEGMENTS = [
    ("VIP loyalists", 0.15, 900, 14, 0.95, 160.0, 22, 0.4, 0.08, 0.80, 0.05, 0.35),
    ("At-risk budget buyers", 0.25, 500, 45, 0.35, 28.0, 4, 3.0, 0.60, 0.10, 0.65, 0.55),
    ("New explorers", 0.20, 40, 18, 0.85, 45.0, 16, 1.2, 0.45, 0.45, 0.10, 0.85),
    ("Dormant", 0.20, 1000, 110, 0.12, 45.0, 1, 0.3, 0.20, 0.15, 0.30, 0.45),
    ("Growth potential", 0.20, 400, 25, 0.90, 110.0, 7, 0.3, 0.10, 0.60, 0.08, 0.25),
]
REGIONS = ["North", "South", "East", "West", "Central"]
CHANNELS = ["organic", "paid_search", "social", "email", "referral", "affiliate"]
_CITY_A = ["North", "South", "East", "West", "New", "Port", "Lake", "Fort", "Mount", "Glen", "Bay", "Old"]
_CITY_B = [
    "field",
    "ville",
    "ton",
    "burg",
    "haven",
    "ford",
    "port",
    "wood",
    "view",
    "dale",
    "bridge",
    "stead",
    "more",
    "side",
    "brook",
    "mouth",
    "minster",
    "gate",
    "hill",
    "water",
]
CITIES = [a + b for a in _CITY_A for b in _CITY_B]  # 240 cities, Zipf-distributed

_POS_A = [
    "Great service",
    "Love the products",
    "Excellent quality",
    "Fast delivery and great prices",
    "Really happy with my orders",
    "Wonderful experience",
    "Best shop I know",
    "Very good support",
]
_NEU_A = [
    "Delivery was okay",
    "Products are fine",
    "Average experience",
    "It does the job",
    "Nothing special",
    "Prices are normal",
    "Ordered a few things",
    "Standard shop",
]
_NEG_A = [
    "Terrible support",
    "Delivery was late again",
    "Poor quality products",
    "Too expensive",
    "Disappointed with my last order",
    "Bad experience",
    "Awful website",
    "Items arrived broken",
]
_TAILS = [
    "",
    ", will order again",
    ", thanks",
    " overall",
    ", the app is slow",
    ", nice discounts",
    " this year",
    ", customer service answered quickly",
]


def _templates(heads: list[str]) -> np.ndarray:
    return np.array([h + t + "." for h in heads for t in _TAILS], dtype=object)


def generate_synthetic(
    rows: int = 10_000,
    seed: int = 42,
    include_segment_labels: bool = False,
    include_churn_label: bool = False,
    include_future_value: bool = False,
    missing_share: float = 0.02,
) -> pd.DataFrame:
    """N synthetic customers. Hidden columns (only when asked): ``true_segment``,
    ``churned`` (0/1, no purchase in the 90 days after the reference date) and
    ``future_spend_12m`` (simulated spend over the next 12 months)."""
    if rows < 1:
        raise ValueError("rows must be at least 1")
    rng = np.random.default_rng(seed)
    n = int(rows)
    seg_params = np.array([s[1:] for s in SEGMENTS], dtype=float)
    shares = seg_params[:, 0] / seg_params[:, 0].sum()
    seg = rng.choice(len(SEGMENTS), size=n, p=shares)
    p = seg_params[seg]  # n x params

    tenure = np.maximum(1.0, p[:, 1] * rng.lognormal(0.0, 0.35, n))
    gap = p[:, 2] * rng.lognormal(0.0, 0.3, n)  # mean days between purchases
    lam = 1.0 / gap
    alive = rng.random(n) < p[:, 3]
    death = tenure * rng.uniform(0.05, 0.9, n)
    active_len = np.where(alive, tenure, death)
    orders = 1 + rng.poisson(lam * active_len)
    last_gap = rng.exponential(gap)
    t_last = np.where(orders > 1, np.clip(active_len - last_gap, 0.0, active_len), 0.0)
    recency = np.round(tenure - t_last)
    tenure = np.round(tenure)
    aov = p[:, 4] * rng.gamma(8.0, 1 / 8.0, n)
    spend = orders * aov * rng.gamma(30.0, 1 / 30.0, n)
    sessions = rng.poisson(p[:, 5] * np.where(alive, 1.0, 0.25) * rng.gamma(4.0, 0.25, n))
    visit_recency = np.minimum(recency, np.round(rng.exponential(30.0 / np.maximum(sessions, 0.3))))
    tickets = rng.poisson(p[:, 6])
    d = p[:, 7]
    discount = rng.beta(d * 12 + 0.5, (1 - d) * 12 + 0.5)

    region = rng.choice(len(REGIONS), size=n, p=[0.24, 0.22, 0.2, 0.2, 0.14])
    mobile = rng.random(n) < p[:, 10]
    chan_p = np.array([0.3, 0.2, 0.2, 0.12, 0.1, 0.08])
    channel = rng.choice(len(CHANNELS), size=n, p=chan_p)
    zipf = 1.0 / np.arange(1, len(CITIES) + 1) ** 0.9
    city = rng.choice(len(CITIES), size=n, p=zipf / zipf.sum())

    u = rng.random(n)
    tone = np.where(u < p[:, 8], 0, np.where(u < p[:, 8] + p[:, 9], 2, 1))  # 0 pos, 1 neu, 2 neg
    pools = [_templates(_POS_A), _templates(_NEU_A), _templates(_NEG_A)]
    review = np.empty(n, dtype=object)
    for t, pool in enumerate(pools):
        idx = np.flatnonzero(tone == t)
        review[idx] = pool[rng.integers(0, len(pool), idx.size)]

    signup = REFERENCE_DATE - tenure.astype("timedelta64[D]")
    last_purchase = REFERENCE_DATE - recency.astype("timedelta64[D]")

    ids = "C" + pd.Series(np.arange(1, n + 1), dtype="int64").astype("str").str.zfill(7)
    columns = {
        "customer_id": ids.to_numpy(),
        "total_spend": np.round(spend, 2),
        "orders": orders.astype(float),
        "avg_order_value": np.round(aov, 2),
        "days_since_last_visit": visit_recency,
        "sessions_per_month": sessions.astype(float),
        "support_tickets": tickets.astype(float),
        "tenure_days": tenure,
        "discount_usage": np.round(discount, 3),
        "region": np.array(REGIONS, dtype=object)[region],
        "device": np.array(["mobile", "desktop", "tablet"], dtype=object)[
            np.where(mobile, 0, np.where(rng.random(n) < 0.8, 1, 2))
        ],
        "channel": np.array(CHANNELS, dtype=object)[channel],
        "city": np.array(CITIES, dtype=object)[city],
        "signup_date": signup.astype("datetime64[s]"),
        "last_purchase_date": last_purchase.astype("datetime64[s]"),
        "review": review,
    }
    if missing_share > 0:
        # about 2% missing in the columns a CRM export typically leaves blank (set before building the frame:
        # assigning into string columns afterwards would copy them)
        for col in (
            "total_spend",
            "avg_order_value",
            "days_since_last_visit",
            "sessions_per_month",
            "support_tickets",
            "discount_usage",
            "region",
            "device",
            "city",
            "review",
        ):
            mask = rng.random(n) < missing_share
            values = columns[col]
            if values.dtype == object:
                values = values.copy() if values is review else values
                values[mask] = None
            else:
                values = values.astype(float, copy=True)
                values[mask] = np.nan
            columns[col] = values
    df = pd.DataFrame(columns)
    if include_churn_label:
        p_no_purchase = np.exp(-lam * 90.0)
        df["churned"] = np.where(alive, rng.random(n) < p_no_purchase, True).astype(int)
    if include_future_value:
        future_orders = np.where(alive, rng.poisson(lam * 365.0 * 0.85), 0)
        df["future_spend_12m"] = np.round(future_orders * aov, 2)
    if include_segment_labels:
        df["true_segment"] = seg
    return df
