"""How numbers read to people: money, percentages, counts, years, and "—" for a figure that is missing. One
module for the engine's own sentences, the pages (template filters), the charts and the reports (PDF, workbook).

Plain Python (no Django, no pandas): every function takes a number (or None, NaN, a string of a number) and
returns text. Money takes the currency symbol, so an organization's currency reaches every figure.
"""

from __future__ import annotations

import math
import re

MISSING = "—"
DEFAULT_CURRENCY = "$"
_YEAR_NAME = re.compile(r"(?<![a-z])(year|yr)s?(?![a-z])", re.I)


def finite(value) -> float | None:
    """The value as a finite float, or None (missing, NaN, infinite, not a number)."""
    if value is None or isinstance(value, bool):
        return None if value is None else float(value)
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def number(value) -> str:
    """Enough digits to read, no more: 12,345 · 123.4 · 1.23 · 0.33 · 0.0041; whole numbers without decimals."""
    v = finite(value)
    if v is None:
        return MISSING
    magnitude = abs(v)
    if v == 0:
        return "0"  # never "-0"
    if v.is_integer() or magnitude >= 1000:
        return f"{v:,.0f}"
    if magnitude >= 100:
        return f"{v:,.1f}"
    if magnitude >= 0.01:
        return f"{v:,.2f}"
    return f"{v:.{1 - math.floor(math.log10(magnitude))}f}"  # two significant digits


def money(value, currency: str = DEFAULT_CURRENCY, *, compact: bool = False, whole: bool = False) -> str:
    """$1,234 (no cents from 100 up) · $12.50 · −$40 · with `compact`, $12.3M from a million up (headlines);
    with `whole`, never cents (the ticks of an axis in whole amounts: $0, $50, $100)."""
    v = finite(value)
    if v is None:
        return MISSING
    sign = "−" if v < 0 else ""
    magnitude = abs(v)
    if compact and magnitude >= 1_000_000:
        text = f"{magnitude / 1_000_000:,.1f}M"
    elif magnitude >= 100 or whole:
        text = f"{magnitude:,.0f}"
    else:
        text = f"{magnitude:,.2f}"
    return f"{sign}{currency}{text}"


def percent(share, digits: int | None = None) -> str:
    """A share 0–1 as a percentage: 42% · 3.5% (one decimal under 10 %) · a fixed number of `digits` if given."""
    v = finite(share)
    if v is None:
        return MISSING
    pct = v * 100
    if digits is None:
        digits = 1 if 0 < abs(pct) < 10 else 0
    return f"{round(pct, digits) + 0.0:.{digits}f}%"  # never "-0%"


def signed(value, digits: int = 2) -> str:
    """+1.25 · −0.40 · a figure that rounds to zero reads +0.00, never −0.00."""
    v = finite(value)
    if v is None:
        return MISSING
    v = round(v, digits) + 0.0  # + 0.0 turns −0.0 into 0.0
    return f"{v:+.{digits}f}"


def year(value) -> str:
    """A calendar year (or a mean of years): 2024 · 2025.9, never 2,024."""
    v = finite(value)
    if v is None:
        return MISSING
    return f"{v:.0f}" if v.is_integer() else f"{v:.1f}"


def is_year_column(name: str, *, minimum=None, maximum=None, stored_type: str = "") -> bool:
    """A column of calendar years: named so ("signup_year", "signup_date (year)"), or whole numbers that all
    fall in 1900–2100."""
    if _YEAR_NAME.search(str(name or "")):
        return True
    lo, hi = finite(minimum), finite(maximum)
    return stored_type == "int" and lo is not None and hi is not None and 1900 <= lo <= hi <= 2100


def feature_kind(feature: str, money_columns=()) -> str:
    """How a feature's statistics read: "money", "year", "share" (a 0/1 column: one-hot level or missing flag)
    or "number"."""
    name = str(feature or "")
    if name in money_columns:
        return "money"
    if is_year_column(name):
        return "year"
    if "=" in name or name.endswith(" (missing)"):
        return "share"
    return "number"


def format_value(value, kind: str = "number", currency: str = DEFAULT_CURRENCY) -> str:
    """A statistic in its kind's format (see `feature_kind`)."""
    if kind == "money":
        return money(value, currency)
    if kind == "year":
        return year(value)
    if kind == "share":  # the mean of a 0/1 column: the share of customers with it
        return percent(value, 0)
    return number(value)
