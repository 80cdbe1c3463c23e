"""Population drift between two versions of a customer table, and segment changes between two runs.

Per feature, the population stability index (PSI) of the new values against the old:

    PSI = sum over bins of (new share - old share) * ln(new share / old share)

Numbers (and dates, as days) are cut into `BINS` bins at the old values' deciles, missing values in a bin of
their own; categories are compared by share (the `TOP_CATEGORIES` most common values of both versions, the rest
pooled). Shares are floored at `EPSILON` so an empty bin does not make the index infinite.

Thresholds (the usual reading of PSI): below 0.1 stable, 0.1 to 0.25 moderate drift, 0.25 and above major drift.

Small tables. Two random samples of one population have a PSI of about (cells - 1) x (1/n_old + 1/n_new) (a
chi-squared variable with cells - 1 degrees of freedom, scaled), so on a few hundred rows sampling alone crosses 0.1:
with 10 bins, two samples of 200 rows average 0.09. Hence (`feature_drift`):
- fewer than `MIN_ROWS` (100) rows in either version: the PSI is shown, nothing is alerted ("too few rows");
- bins (and kept categories) are at most one per `MIN_ROWS_PER_BIN` (50) rows of the smaller version, so 200 rows
  get 4 bins, 1,000 rows and more the full 10; a category is compared on its own only with 50 rows in the two
  versions together, rarer ones are pooled;
- a PSI counts as drift only above `noise_bound`: the 99.99th percentile of what sampling alone gives for those row
  counts and cells. Below it the feature is stable "within sampling noise", whatever the thresholds say.
From about 1,000 rows a side the bound is under 0.1 and the usual thresholds decide alone. Measured on
`mlc_churn.csv` (20 columns; tests/engine/test_drift_small_tables.py runs 25 pairs): 100 pairs of random draws of
200 and of 1,000 rows raised no alert (the largest PSI 0.61 and 0.71 of its bound), while day minutes up 30 % in
the second draw alerted in 20 of 20 pairs at both sizes, and so did a draw with half churners (14 % in the table).
Without the rule (10 bins, the old draw's top 20 categories) the same 200-row draws crossed 0.1 on several columns.

Per segment (two runs with matched segment numbers): a share change of `SEGMENT_SHARE_MODERATE` (5 points) or
more is moderate, `SEGMENT_SHARE_MAJOR` (10 points) major; the same for average churn risk.

Plain Python, NumPy, pandas and SciPy (the chi-squared quantile): no Django.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

BINS = 10
TOP_CATEGORIES = 20
MIN_ROWS = 100
MIN_ROWS_PER_BIN = 50
NOISE_QUANTILE = 0.9999  # per feature: a 20-column table then rarely sees a false alert in one comparison
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


def bins_for(n_old: int, n_new: int) -> int:
    """How many bins (or kept categories) two samples of these sizes support: one per `MIN_ROWS_PER_BIN` rows of
    the smaller one, at least 2, at most `BINS`."""
    return int(min(BINS, max(2, min(n_old, n_new) // MIN_ROWS_PER_BIN)))


def noise_bound(n_old: int, n_new: int, cells: int) -> float:
    """The PSI that two random samples of one population (sizes `n_old`, `n_new`, compared over `cells` cells)
    stay under with probability `NOISE_QUANTILE`: chi2(cells - 1) quantile x (1/n_old + 1/n_new)."""
    if n_old <= 0 or n_new <= 0:
        return float("inf")
    return _chi2_quantile(max(cells - 1, 1)) * (1 / n_old + 1 / n_new)


@lru_cache(maxsize=64)
def _chi2_quantile(dof: int) -> float:
    from scipy.stats import chi2

    return float(chi2.ppf(NOISE_QUANTILE, dof))


def _numeric_shares(old, new, bins: int) -> tuple[np.ndarray, np.ndarray]:
    old = np.asarray(old, dtype=float)
    new = np.asarray(new, dtype=float)
    old_ok, new_ok = old[~np.isnan(old)], new[~np.isnan(new)]
    if len(old_ok) == 0 or len(new_ok) == 0:
        edges = np.array([])
    else:
        edges = np.unique(np.quantile(old_ok, np.linspace(0, 1, bins + 1)[1:-1]))

    def shares(values, ok):
        counts = np.bincount(np.searchsorted(edges, ok, side="right"), minlength=len(edges) + 1).astype(float)
        counts = np.append(counts, len(values) - len(ok))  # missing values
        return counts / max(len(values), 1)

    return shares(old, old_ok), shares(new, new_ok)


def _categorical_shares(old, new, kept: int) -> tuple[np.ndarray, np.ndarray]:
    import pandas as pd

    old = pd.Series(old, dtype="object").fillna("∅missing").astype(str)
    new = pd.Series(new, dtype="object").fillna("∅missing").astype(str)
    # Kept: the most common values of both samples together (chosen on the old sample alone, its luckiest values
    # would fall back in any new sample), each with `MIN_ROWS_PER_BIN` rows between them; the rest pooled.
    both = pd.concat([old, new]).value_counts()
    keep = set(both[both >= MIN_ROWS_PER_BIN].index[:kept])
    old_c = old.where(old.isin(keep), "∅other").value_counts(normalize=True)
    new_c = new.where(new.isin(keep), "∅other").value_counts(normalize=True)
    cats = sorted(set(old_c.index) | set(new_c.index))
    return old_c.reindex(cats, fill_value=0).to_numpy(), new_c.reindex(cats, fill_value=0).to_numpy()


def psi_numeric(old, new, bins: int = BINS) -> float:
    """PSI of two numeric samples (NaN = missing), `bins` bins at the old sample's quantiles."""
    return _psi(*_numeric_shares(old, new, bins))


def psi_categorical(old, new, kept: int = TOP_CATEGORIES) -> float:
    """PSI of two samples of categories (None/NaN = missing): the `kept` most common values of both (each with at
    least `MIN_ROWS_PER_BIN` rows in the two together) compared one by one, the rest pooled."""
    return _psi(*_categorical_shares(old, new, kept))


def _days(values):
    """Dates as days since 1970 (NaN where missing or unreadable)."""
    import pandas as pd

    stamps = pd.to_datetime(pd.Series(values), errors="coerce")
    if getattr(stamps.dt, "tz", None) is not None:
        stamps = stamps.dt.tz_localize(None)
    return (stamps - pd.Timestamp("1970-01-01")).dt.total_seconds() / 86_400


def feature_psi(old, new, kind: str) -> dict:
    """One feature's PSI with the small-table rule applied: {psi, level, rows_old, rows_new, bins, noise, note}.
    `level` is "stable" when either sample has fewer than `MIN_ROWS` rows or the PSI is within `noise_bound`;
    `note` then says why in a sentence people read."""
    import pandas as pd

    n_old, n_new = len(old), len(new)
    bins = bins_for(n_old, n_new)
    if kind == "date":
        old_s, new_s = _numeric_shares(_days(old), _days(new), bins)
    elif kind == "numeric":
        old_s, new_s = _numeric_shares(pd.to_numeric(old, errors="coerce"), pd.to_numeric(new, errors="coerce"), bins)
    else:
        old_s, new_s = _categorical_shares(old, new, bins)
    value = _psi(old_s, new_s)
    cells = int(np.count_nonzero((old_s > 0) | (new_s > 0)))
    noise = noise_bound(n_old, n_new, cells)
    level, note = level_of(value, PSI_MODERATE, PSI_MAJOR), ""
    if min(n_old, n_new) < MIN_ROWS:
        note = (
            f"too few rows to judge ({n_old:,} and {n_new:,}): drift is alerted from {MIN_ROWS:,} rows in each version"
        )
    elif level != "stable" and value <= noise:
        note = (
            f"within sampling noise: two random draws of {n_old:,} and {n_new:,} rows reach PSI {noise:.2f} "
            f"over {cells} {'bins' if kind != 'categorical' else 'categories'} without any change"
        )
    if note:
        level = "stable"
    return {
        "psi": round(value, 4),
        "level": level,
        "rows_old": n_old,
        "rows_new": n_new,
        "bins": cells,
        "noise": round(min(noise, 99.0), 4),
        "note": note,
    }


def feature_drift(old_frame, new_frame, columns: dict[str, str]) -> list[dict]:
    """[{column, kind, psi, level, rows_old, rows_new, bins, noise, note}] for `columns` ({column: "numeric" |
    "categorical" | "date"}) present in both tables, largest drift first (see `feature_psi` for the small-table
    rule)."""
    out = []
    for column, kind in columns.items():
        if column not in old_frame.columns or column not in new_frame.columns:
            continue
        out.append({"column": column, "kind": kind, **feature_psi(old_frame[column], new_frame[column], kind)})
    return sorted(out, key=lambda d: -d["psi"])


def small_table_rule() -> str:
    """The small-table rule as the pages state it."""
    return (
        f"On small tables PSI is noisy, so drift is not alerted when a version has fewer than {MIN_ROWS:,} rows, "
        f"bins are at most one per {MIN_ROWS_PER_BIN} rows, and a PSI counts only above what two random draws of "
        f"the same population stay under {NOISE_QUANTILE:.2%} of the time at those sizes."
    )


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
