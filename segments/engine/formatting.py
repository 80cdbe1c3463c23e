"""How numbers read to people: money, percentages, counts, years, and "—" for a figure that is missing. One
module for the engine's own sentences, the pages (template filters), the charts and the reports (PDF, workbook).

Plain Python (no Django, no pandas): every function takes a number (or None, NaN, a string of a number) and
returns text. Money is in a currency: the one passed (an ISO code such as "EUR", or a symbol), else the active one
(`using_currency(code)`: the web middleware and the job runner make it the organization's), so an organization's
currency reaches every figure, chart axis, export and report.
"""

from __future__ import annotations

import contextlib
import contextvars
import math
import re

MISSING = "—"
DEFAULT_CURRENCY = "USD"
# ISO 4217 codes offered to organizations, with the symbol a figure starts with. A code without a symbol of its
# own reads "CHF 1,234".
CURRENCIES: dict[str, tuple[str, str]] = {
    "USD": ("$", "US dollar"),
    "EUR": ("€", "Euro"),
    "GBP": ("£", "Pound sterling"),
    "CHF": ("CHF\u00a0", "Swiss franc"),
    "CAD": ("CA$", "Canadian dollar"),
    "AUD": ("A$", "Australian dollar"),
    "NZD": ("NZ$", "New Zealand dollar"),
    "JPY": ("¥", "Japanese yen"),
    "CNY": ("CN¥", "Chinese yuan"),
    "INR": ("₹", "Indian rupee"),
    "BRL": ("R$", "Brazilian real"),
    "MXN": ("MX$", "Mexican peso"),
    "SEK": ("SEK\u00a0", "Swedish krona"),
    "NOK": ("NOK\u00a0", "Norwegian krone"),
    "DKK": ("DKK\u00a0", "Danish krone"),
    "PLN": ("PLN\u00a0", "Polish złoty"),
    "CZK": ("CZK\u00a0", "Czech koruna"),
    "ZAR": ("R\u00a0", "South African rand"),
    "SGD": ("S$", "Singapore dollar"),
    "HKD": ("HK$", "Hong Kong dollar"),
    "KRW": ("₩", "South Korean won"),
    "TRY": ("TRY\u00a0", "Turkish lira"),
    "AED": ("AED\u00a0", "UAE dirham"),
}
_ACTIVE_CURRENCY: contextvars.ContextVar[str] = contextvars.ContextVar("currency", default=DEFAULT_CURRENCY)
_YEAR_NAME = re.compile(r"(?<![a-z])(year|yr)s?(?![a-z])", re.I)
_DAYS_NAME = re.compile(r"(?<![a-z])days?(?![a-z])", re.I)


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


def currency_symbol(currency: str | None = None) -> str:
    """What a money figure starts with: the symbol of an ISO code ("EUR" -> "€"), "XYZ " for a code without one,
    a symbol as it is; the active currency's for None."""
    code = (currency if currency is not None else _ACTIVE_CURRENCY.get()) or DEFAULT_CURRENCY
    if code in CURRENCIES:
        return CURRENCIES[code][0]
    if len(code) == 3 and code.isalpha() and code.isupper():
        return f"{code}\u00a0"
    return code


def active_currency() -> str:
    """The ISO code money figures are in when no currency is passed."""
    return _ACTIVE_CURRENCY.get()


def activate_currency(code: str | None):
    """Make `code` the active currency; returns the token for `deactivate_currency` (the web middleware's pair)."""
    return _ACTIVE_CURRENCY.set((code or DEFAULT_CURRENCY).upper())


def deactivate_currency(token) -> None:
    _ACTIVE_CURRENCY.reset(token)


@contextlib.contextmanager
def using_currency(code: str | None):
    """Within the block, money figures without a currency of their own are in `code` (an ISO code)."""
    token = activate_currency(code)
    try:
        yield
    finally:
        deactivate_currency(token)


def money(value, currency: str | None = None, *, compact: bool = False, whole: bool = False) -> str:
    """$1,234 (no cents from 100 up) · €12.50 · −£40 · with `compact`, $12.3M from a million up (headlines);
    with `whole`, never cents (the ticks of an axis in whole amounts: $0, $50, $100).
    `currency`: an ISO code or a symbol; None: the active currency (`using_currency`)."""
    v = finite(value)
    if v is None:
        return MISSING
    symbol = currency_symbol(currency)
    sign = "−" if v < 0 else ""
    magnitude = abs(v)
    if compact and magnitude >= 1_000_000:
        text = f"{magnitude / 1_000_000:,.1f}M"
    elif magnitude >= 100 or whole:
        text = f"{magnitude:,.0f}"
    else:
        text = f"{magnitude:,.2f}"
    return f"{sign}{symbol}{text}"


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
    """How a feature's statistics read: "money", "year", "share" (a 0/1 column: one-hot level or missing flag),
    "days" / "days_ago" (durations: tenure_days, "signup_date (days ago)") or "number"."""
    name = str(feature or "")
    if name in money_columns:
        return "money"
    if is_year_column(name):
        return "year"
    if "=" in name or name.endswith(" (missing)"):
        return "share"
    if name.endswith("(days ago)"):
        return "days_ago"
    if _DAYS_NAME.search(name):  # tenure_days, days_since_last_visit
        return "days"
    return "number"


def days(value, *, ago: bool = False) -> str:
    """A duration in days: 51 days · 1 day · 0.5 days · "51 days ago" with `ago`."""
    v = finite(value)
    if v is None:
        return MISSING
    text = f"{v:,.0f}" if abs(v) >= 10 or v.is_integer() else f"{v:.1f}"
    unit = "day" if text == "1" else "days"
    return f"{text} {unit}{' ago' if ago else ''}"


def format_value(value, kind: str = "number", currency: str | None = None) -> str:
    """A statistic in its kind's format (see `feature_kind`)."""
    if kind == "money":
        return money(value, currency)
    if kind == "year":
        return year(value)
    if kind == "share":  # the mean of a 0/1 column: the share of customers with it
        return percent(value, 0)
    if kind in ("days", "days_ago"):
        return days(value, ago=kind == "days_ago")
    return number(value)
