"""Population drift between two versions of a customer table, and segment changes between two runs.

Per feature, the population stability index (PSI) of the new values against the old:

    PSI = sum over bins of (new share - old share) * ln(new share / old share)

Numbers (and dates, as days) are cut into `BINS` bins at the old values' deciles, missing values in a bin of
their own; categories are compared by share (the old version's `TOP_CATEGORIES` most common values, the rest
pooled). Shares are floored at `EPSILON` so an empty bin does not make the index infinite.

Thresholds (the usual reading of PSI): below 0.1 stable, 0.1 to 0.25 moderate drift, 0.25 and above major drift.
Per segment (two runs with matched segment numbers): a share change of `SEGMENT_SHARE_MODERATE` (5 points) or
more is moderate, `SEGMENT_SHARE_MAJOR` (10 points) major; the same for average churn risk.

Plain Python, NumPy and pandas: no Django.
"""

from __future__ import annotations

import numpy as np

BINS = 10
TOP_CATEGORIES = 20
EPSILON = 1e-4
PSI_MODERATE = 0.1
PSI_MAJOR = 0.25
SEGMENT_SHARE_MODERATE = 0.05
SEGMENT_SHARE_MAJOR = 0.10
SEGMENT_CHURN_MODERATE = 0.05
SEGMENT_CHURN_MAJOR = 0.10
LEVELS = ("stable", "moderate", "major")


def level_of(value: float, moderate: float, major: float) -> str:
    value = abs(float(value))
    return "major" if value >= major else "moderate" if value >= moderate else "stable"


def _psi(old_shares: np.ndarray, new_shares: np.ndarray) -> float:
    old = np.clip(old_shares, EPSILON, None)
    new = np.clip(new_shares, EPSILON, None)
    return float(np.sum((new - old) * np.log(new / old)))


def psi_numeric(old, new) -> float:
    """PSI of two numeric samples (NaN = missing), bins at the old sample's deciles."""
    old = np.asarray(old, dtype=float)
    new = np.asarray(new, dtype=float)
    old_ok, new_ok = old[~np.isnan(old)], new[~np.isnan(new)]
    if len(old_ok) == 0 or len(new_ok) == 0:
        edges = np.array([])
    else:
        edges = np.unique(np.quantile(old_ok, np.linspace(0, 1, BINS + 1)[1:-1]))

    def shares(values, ok):
        counts = np.bincount(np.searchsorted(edges, ok, side="right"), minlength=len(edges) + 1).astype(float)
        counts = np.append(counts, len(values) - len(ok))  # missing values
        return counts / max(len(values), 1)

    return _psi(shares(old, old_ok), shares(new, new_ok))


def psi_categorical(old, new) -> float:
    """PSI of two samples of categories (None/NaN = missing), the old sample's top values kept, the rest pooled."""
    import pandas as pd

    old = pd.Series(old, dtype="object").fillna("∅missing").astype(str)
    new = pd.Series(new, dtype="object").fillna("∅missing").astype(str)
    top = list(old.value_counts().index[:TOP_CATEGORIES])
    keep = {*top}
    old_c = old.where(old.isin(keep), "∅other").value_counts(normalize=True)
    new_c = new.where(new.isin(keep), "∅other").value_counts(normalize=True)
    cats = sorted(set(old_c.index) | set(new_c.index))
    return _psi(old_c.reindex(cats, fill_value=0).to_numpy(), new_c.reindex(cats, fill_value=0).to_numpy())


def _days(values):
    """Dates as days since 1970 (NaN where missing or unreadable)."""
    import pandas as pd

    stamps = pd.to_datetime(pd.Series(values), errors="coerce")
    if getattr(stamps.dt, "tz", None) is not None:
        stamps = stamps.dt.tz_localize(None)
    return (stamps - pd.Timestamp("1970-01-01")).dt.total_seconds() / 86_400


def feature_drift(old_frame, new_frame, columns: dict[str, str]) -> list[dict]:
    """[{column, kind, psi, level}] for `columns` ({column: "numeric" | "categorical" | "date"}) present in both
    tables, largest drift first."""
    import pandas as pd

    out = []
    for column, kind in columns.items():
        if column not in old_frame.columns or column not in new_frame.columns:
            continue
        old, new = old_frame[column], new_frame[column]
        if kind == "date":
            value = psi_numeric(_days(old), _days(new))
        elif kind == "numeric":
            value = psi_numeric(pd.to_numeric(old, errors="coerce"), pd.to_numeric(new, errors="coerce"))
        else:
            value = psi_categorical(old, new)
        out.append(
            {"column": column, "kind": kind, "psi": round(value, 4), "level": level_of(value, PSI_MODERATE, PSI_MAJOR)}
        )
    return sorted(out, key=lambda d: -d["psi"])


def segment_changes(before: list[dict], after: list[dict]) -> list[dict]:
    """Per segment number in either run: share and average churn risk before and after, their changes and levels
    (a segment in one run only is "new" or "vanished", a major change)."""
    b = {p["segment"]: p for p in before if p.get("segment", -1) >= 0}
    a = {p["segment"]: p for p in after if p.get("segment", -1) >= 0}
    out = []
    for s in sorted(set(a) | set(b)):
        pb, pa = b.get(s), a.get(s)
        share_b = float(pb["share"]) if pb else 0.0
        share_a = float(pa["share"]) if pa else 0.0
        churn_b = pb.get("avg_churn_risk") if pb else None
        churn_a = pa.get("avg_churn_risk") if pa else None
        churn_change = None if churn_a is None or churn_b is None else float(churn_a) - float(churn_b)
        share_level = level_of(share_a - share_b, SEGMENT_SHARE_MODERATE, SEGMENT_SHARE_MAJOR)
        churn_level = (
            "stable" if churn_change is None else level_of(churn_change, SEGMENT_CHURN_MODERATE, SEGMENT_CHURN_MAJOR)
        )
        status = "continued" if pa and pb else "new" if pa else "vanished"
        out.append(
            {
                "segment": s,
                "name": (pa or pb).get("name", f"Segment {s}"),
                "status": status,
                "share_before": round(share_b, 4),
                "share_after": round(share_a, 4),
                "share_change": round(share_a - share_b, 4),
                "churn_before": None if churn_b is None else round(float(churn_b), 4),
                "churn_after": None if churn_a is None else round(float(churn_a), 4),
                "churn_change": None if churn_change is None else round(churn_change, 4),
                "level": "major" if status != "continued" else max(share_level, churn_level, key=LEVELS.index),
            }
        )
    return out


def worst_level(levels) -> str:
    return max(levels, key=LEVELS.index, default="stable")
