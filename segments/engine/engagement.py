"""Engagement: which columns measure it, in which direction, and how engaged a segment or a customer is.

A column is engagement evidence only through its name read as whole words (``page_views`` is, ``review_text``
is not: "view" inside "review" is no word) and only with a direction: more sessions, visits, logins, opens,
clicks or orders is *more* engaged; more days since the last visit or purchase, a higher cart-abandonment or
bounce rate is *less*. Money is never engagement (average order value, order amount). The user confirms or
changes the mapping like any other role (config ``engagement_cols``: {column: "more" | "less"}). Without any
engagement column, engagement is "unknown": no level, no name word, no recommendation.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

import numpy as np

from .config import ENGAGEMENT_DIRECTIONS as DIRECTIONS  # direction key -> how it reads (roles form, API)

UNKNOWN = "unknown"
# a segment's or customer's engagement score (mean of signed SDs from the average) -> level, with a dead band:
# above +HIGH high, below -HIGH low, in between medium
LEVEL_SD = 0.3

_LEVELS = np.array(["low", "medium", "high", UNKNOWN], dtype=object)

_ACTIVITY = {
    "session", "sessions", "visit", "visits", "login", "logins", "logon", "logons", "signin", "signins",
    "open", "opens", "click", "clicks", "pageview", "pageviews", "view", "views", "order", "orders",
    "purchase", "purchases", "transaction", "transactions", "interaction", "interactions", "engagement",
    "activity", "activities", "active", "app", "streams", "plays", "downloads", "posts", "likes", "shares",
}  # fmt: skip
_STRONG = {  # words that name an activity count on their own ("sessions", "logins"); the others need a count word
    "session", "sessions", "visit", "visits", "login", "logins", "logon", "logons", "signin", "signins",
    "opens", "clicks", "pageview", "pageviews", "views", "orders", "purchases", "transactions",
    "interactions", "engagement", "streams", "plays", "downloads", "posts", "likes",
}  # fmt: skip
_COUNT = {"count", "counts", "num", "number", "n", "total", "per", "rate", "frequency", "monthly", "weekly", "daily"}
_SINCE = {"since", "ago", "recency", "inactive", "inactivity", "idle", "dormant"}
_NEGATIVE = {"abandon", "abandons", "abandoned", "abandonment", "bounce", "bounces", "unsubscribe", "unsubscribes",
             "unsubscribed", "complaints", "churned"}  # fmt: skip
_MONEY = {
    "value", "amount", "spend", "spent", "revenue", "price", "cost", "sales", "aov", "total_spend", "margin",
    "profit", "basket", "income", "paid", "charge", "charges", "ltv", "size",
}  # fmt: skip
_EXCLUDE = {"first", "signup", "registration", "created", "id", "status"}


def name_words(name: str) -> list[str]:
    """'daysSinceLastVisit' / 'days_since_last_visit' / 'Page-Views' -> lower-case whole words."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", str(name))
    return [w for w in re.split(r"[^A-Za-z0-9]+", spaced.lower()) if w]


def column_direction(name: str, role: str | None = None) -> str | None:
    """ "more", "less" or None (not engagement evidence) for one column, from its name's whole words and role."""
    if role not in (None, "numeric", "monetary", "date"):
        return None
    words = name_words(name)
    ws = set(words)
    if not ws or ws & _EXCLUDE:
        return None
    if ws & _MONEY or (role == "monetary" and not ws & _SINCE):
        return None  # average order value, purchase amount: money, not engagement
    if ws & _NEGATIVE:
        return "less"
    if role == "date":  # last_visit_date, last_login: how long ago (days ago) -> less engaged the older
        return "less" if "last" in ws and ws & _ACTIVITY else None
    if ws & _SINCE or "recency" in ws:
        return "less" if (ws & _ACTIVITY or "recency" in ws or "inactive" in ws) else None
    if ws & _STRONG or (ws & _ACTIVITY and ws & _COUNT):
        return "more"
    return None


def infer_engagement(roles: Mapping[str, str], recency_col: str | None = None) -> dict[str, str]:
    """{column: direction} for every column whose name shows engagement (see ``column_direction``); the
    recency behaviour column counts as "less" when its name says what it measures the time since."""
    out: dict[str, str] = {}
    for col, role in roles.items():
        direction = column_direction(col, role)
        if direction:
            out[col] = direction
    if recency_col and recency_col not in out and column_direction(recency_col, "numeric") is not None:
        out[recency_col] = "less"
    return out


def check_directions(mapping: Mapping[str, str] | None, columns: Iterable[str]) -> list[tuple[str, str]]:
    """(column, message) for each entry of an engagement mapping that names no column or no direction."""
    problems = []
    known = set(map(str, columns))
    for col, direction in (mapping or {}).items():
        if col not in known:
            problems.append((col, f"Engagement column {col!r} is not in the data."))
        elif direction not in DIRECTIONS:
            problems.append(
                (col, f"Engagement column {col!r}: direction {direction!r} is not one of {', '.join(DIRECTIONS)}.")
            )
    return problems


def readable_column(col: str, readable_columns: Iterable[str]) -> str | None:
    """The profile column that holds a column's recorded values: itself, or a date's "(days ago)"."""
    cols = set(readable_columns)
    if col in cols:
        return col
    if f"{col} (days ago)" in cols:
        return f"{col} (days ago)"
    return None


def level(score) -> np.ndarray:
    """Engagement score(s) (mean signed SD from the average) -> "high" / "medium" / "low" ("unknown" for NaN)."""
    s = np.asarray(score, dtype=float)
    code = np.ones(s.shape, dtype=np.int8)
    code[s > LEVEL_SD] = 2
    code[s < -LEVEL_SD] = 0
    code[np.isnan(s)] = 3
    return _LEVELS[code]


def customer_scores(values: Mapping[str, np.ndarray], reference: Mapping[str, dict]) -> np.ndarray:
    """Each customer's engagement score: the mean over engagement columns of the signed distance of their own
    value from the population mean, in population SDs (NaN when none of their values is known).
    ``reference`` = {readable column: {"mean", "std", "sign"}} (``reference_stats``)."""
    parts = []
    for col, ref in reference.items():
        if col not in values or not ref.get("std"):
            continue
        v = np.asarray(values[col], dtype=float)
        parts.append(ref["sign"] * (v - ref["mean"]) / ref["std"])
    if not parts:
        n = len(next(iter(values.values()))) if values else 0
        return np.full(n, np.nan)
    stack = np.vstack(parts)
    known = (~np.isnan(stack)).sum(axis=0)
    total = np.nansum(stack, axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(known > 0, total / np.maximum(known, 1), np.nan)


def reference_stats(frame, mapping: Mapping[str, str]) -> dict[str, dict]:
    """{readable column: {"column", "mean", "std", "sign"}} of the population, for each engagement column."""
    out = {}
    for col, direction in mapping.items():
        rc = readable_column(col, frame.columns)
        if rc is None:
            continue
        v = np.asarray(frame[rc], dtype=float)
        v = v[~np.isnan(v)]
        if v.size == 0 or float(v.std()) == 0:
            continue
        out[rc] = {
            "column": col,
            "mean": float(v.mean()),
            "std": float(v.std()),
            "sign": 1 if direction == "more" else -1,
        }
    return out
