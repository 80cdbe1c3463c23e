"""Numeric and monetary columns: coerced, median-imputed, log1p when skewed, a missing-value indicator when common."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..coerce import coerce_numeric, parse_number
from ..errors import EngineError
from .encoder import Encoded, Encoder, UnusableColumn, tolerate_unparseable

W_MISSING_INDICATOR = 0.5


def read_numbers(series: pd.Series, column: str, strict: bool, warnings: list[str] | None) -> np.ndarray:
    """A batch's values as float64, NaN where missing. Infinities are missing values; unparseable values are
    missing up to BAD_VALUE_TOLERANCE of the filled values (with a warning), an error beyond it or when strict."""
    values, bad = coerce_numeric(series)
    infinite = np.isinf(values)
    if infinite.any():  # stated rule: infinities (e.g. a division by zero in a spreadsheet) are missing values
        values = np.where(infinite, np.nan, values)
        if warnings is not None:
            warnings.append(f"column {column!r}: {int(infinite.sum())} infinite values treated as missing")
    tolerate_unparseable(
        series,
        column,
        bad,
        int((~np.isnan(values)).sum()),
        strict,
        warnings,
        refused="column {column!r}: {n} values are not numbers ({share:.1%} of filled values; e.g. {example}). "
        "Fix them, or declare the column categorical/text.",
        tolerated="column {column!r}: {n} non-numeric values treated as missing (e.g. {example})",
    )
    return values


def read_numbers_small(values: list, column: str) -> np.ndarray:
    """A few records' values (the single-record path): any unparseable value is an error naming it."""
    out = np.empty(len(values))
    for i, v in enumerate(values):
        try:
            out[i] = parse_number(v)
        except (ValueError, TypeError):
            raise EngineError(f"column {column!r}: {v!r} (row {i + 1}) is not a number") from None
    out[np.isinf(out)] = np.nan  # same rule as a batch: infinities are missing
    return out


def skewness(x: np.ndarray) -> float:
    if x.size < 3:
        return 0.0
    sample = x if x.size <= 200_000 else x[:: x.size // 200_000]
    m = sample.mean()
    s = sample.std()
    if s == 0:
        return 0.0
    return float(np.mean(((sample - m) / s) ** 3))


class NumericEncoder(Encoder):
    """numeric / monetary: median imputation; a "<column> (missing)" indicator (weight 0.5) when at least
    ``missing_indicator_min_share`` of the training values is missing; log1p when the column is non-negative and
    right-skewed (money and counts usually are). The profile shows the recorded values, never the log."""

    def __init__(self, column: str, role: str = "numeric", missing_indicator_min_share: float = 0.05):
        self.column = column
        self.role = role
        self.missing_indicator_min_share = missing_indicator_min_share

    def read(self, series, strict, warnings):
        return read_numbers(series, self.column, strict, warnings)

    def read_small(self, values):
        return read_numbers_small(values, self.column)

    def fit(self, values: np.ndarray) -> NumericEncoder:
        missing = np.isnan(values)
        if missing.all():
            raise UnusableColumn("all values missing", refuse_if_declared=True)
        filled = values[~missing]
        if filled.min() == filled.max():
            raise UnusableColumn("constant")
        self.median_ = float(np.median(filled))
        self.min_ = float(filled.min())  # a value below a non-negative column's range cannot be scored (predict)
        self.log_ = bool(filled.min() >= 0 and skewness(filled) > 1.0)
        self.indicator_ = bool(missing.mean() >= self.missing_indicator_min_share)
        self.features_ = [self.column] + ([f"{self.column} (missing)"] if self.indicator_ else [])
        self.weights_ = [1.0] + ([W_MISSING_INDICATOR] if self.indicator_ else [])
        return self

    def impute(self, values: np.ndarray) -> np.ndarray:
        return np.where(np.isnan(values), self.median_, values)

    def transform(self, values: np.ndarray, observed: bool = False) -> Encoded:
        imputed = self.impute(values)
        features = [np.log1p(np.maximum(imputed, 0)) if self.log_ else imputed]
        if self.indicator_:
            features.append(np.isnan(values).astype(float))
        return Encoded(features, {self.column: (values if observed else imputed).astype(np.float32)})
