"""Turning messy spreadsheet values into numbers and dates.

Rules (stated once, used by role inference, preprocessing and prediction):
- Missing tokens ("", "NA", "N/A", "null", "none", "nan", "-", "?") are missing values.
- Numbers may carry currency symbols, thousands separators, surrounding spaces, a trailing
  percent sign or accounting parentheses: "$1,234.50" -> 1234.5, "(12)" -> -12, "15%" -> 15.
- Work is done once per distinct value, so a million rows with a few thousand distinct
  strings cost a few thousand parses.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd

MISSING_TOKENS = {"", "na", "n/a", "n.a.", "null", "none", "nan", "-", "--", "?", "missing", "#n/a", "nat"}
_CURRENCY_RE = re.compile(r"[$€£¥₹]|\b(?:usd|eur|gbp)\b", re.IGNORECASE)
_NUMBER_RE = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_THOUSANDS_RE = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d*)?$")


def is_missing_token(value) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and np.isnan(value):
        return True
    return isinstance(value, str) and value.strip().lower() in MISSING_TOKENS


def parse_number(value) -> float:
    """One value -> float, NaN for missing; raises ValueError when it is not a number."""
    if value is None:
        return np.nan
    if isinstance(value, bool | np.bool_):
        return float(value)
    if isinstance(value, int | float | np.integer | np.floating):
        return float(value)
    if not isinstance(value, str):
        raise ValueError(f"{type(value).__name__} is not a number")
    s = value.strip()
    if s.lower() in MISSING_TOKENS:
        return np.nan
    negative = False
    if s.startswith("(") and s.endswith(")"):
        negative, s = True, s[1:-1].strip()
    s = _CURRENCY_RE.sub("", s).replace(" ", "").replace("\u00a0", "")
    if s.endswith("%"):
        s = s[:-1]
    if s.startswith("-") and len(s) > 1 and not s[1].isdigit() and s[1] != ".":
        raise ValueError(value)
    if _THOUSANDS_RE.match(s):
        s = s.replace(",", "")
    if not _NUMBER_RE.match(s):
        raise ValueError(value)
    out = float(s)
    return -out if negative else out


def has_currency(values) -> bool:
    return any(isinstance(v, str) and _CURRENCY_RE.search(v) for v in values)


def coerce_numeric(series: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Series -> (float64 values with NaN for missing/bad, boolean mask of unparseable values)."""
    if pd.api.types.is_bool_dtype(series.dtype):
        return series.astype(float).to_numpy(), np.zeros(len(series), bool)
    if pd.api.types.is_numeric_dtype(series.dtype):
        return series.to_numpy(dtype=float, na_value=np.nan), np.zeros(len(series), bool)
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    parsed = np.empty(len(uniques) + 1, dtype=float)
    bad = np.zeros(len(uniques) + 1, dtype=bool)
    for i, u in enumerate(uniques):
        try:
            parsed[i] = parse_number(u)
        except (ValueError, TypeError):
            parsed[i], bad[i] = np.nan, True
    parsed[-1], bad[-1] = np.nan, False  # code -1 (missing) indexes the last slot
    return parsed[codes], bad[codes]


def numeric_parse_share(values: pd.Series) -> float:
    """Share of non-missing values that parse as numbers (on the values given; pass a sample)."""
    vals = [v for v in values.tolist() if not is_missing_token(v)]
    if not vals:
        return 0.0
    ok = 0
    for v in vals:
        try:
            parse_number(v)
            ok += 1
        except (ValueError, TypeError):
            pass
    return ok / len(vals)


_ISO_RE = re.compile(r"^\d{4}-\d{1,2}-\d{1,2}([ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$")
_DATEISH_RE = re.compile(
    r"\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}|[A-Za-z]{3,9}\.? \d{1,2},? \d{4}|\d{1,2} [A-Za-z]{3,9}\.? \d{4}"
)


def _parse_date_uniques(uniques: np.ndarray) -> np.ndarray:
    """Distinct strings -> datetime64[ns] (NaT when unparseable). ISO first, then mixed formats,
    month-first for ambiguous day/month (the spreadsheet default in the US locale)."""
    s = pd.Series(uniques, dtype=object).astype(str).str.strip()
    out = pd.to_datetime(s, format="ISO8601", errors="coerce", utc=True)
    rest = out.isna() & ~s.str.lower().isin(MISSING_TOKENS)
    if rest.any():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out[rest] = pd.to_datetime(s[rest], format="mixed", errors="coerce", utc=True)
    return out.dt.tz_localize(None).to_numpy(dtype="datetime64[ns]")


def coerce_datetime(series: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Series -> (datetime64[ns] with NaT for missing/bad, mask of unparseable non-missing values)."""
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        values = series
        if getattr(series.dt, "tz", None) is not None:
            values = series.dt.tz_localize(None)
        return values.to_numpy(dtype="datetime64[ns]"), np.zeros(len(series), bool)
    if pd.api.types.is_numeric_dtype(series.dtype):
        return np.full(len(series), np.datetime64("NaT"), "datetime64[ns]"), series.notna().to_numpy()
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    parsed = np.empty(len(uniques) + 1, dtype="datetime64[ns]")
    parsed[:-1] = _parse_date_uniques(np.asarray(uniques, dtype=object))
    parsed[-1] = np.datetime64("NaT")
    missing_u = np.array([is_missing_token(u) for u in uniques] + [True])
    bad_u = np.isnat(parsed) & ~missing_u
    return parsed[codes], bad_u[codes]


def date_parse_share(values: pd.Series) -> float:
    vals = [v for v in values.tolist() if not is_missing_token(v)]
    if not vals:
        return 0.0
    strs = [str(v) for v in vals]
    if sum(bool(_DATEISH_RE.search(s)) for s in strs) < 0.9 * len(strs):
        return 0.0
    parsed = _parse_date_uniques(np.array(sorted(set(strs)), dtype=object))
    return float((~np.isnat(parsed)).mean())


def first_bad_example(series: pd.Series, bad: np.ndarray) -> str:
    idx = int(np.flatnonzero(bad)[0])
    return f"row {idx + 1}: {str(series.iloc[idx])!r}"
