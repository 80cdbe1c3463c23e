import math
import re

from django import template

register = template.Library()


@register.filter
def get_item(mapping, key):
    """`{{ figures|get_item:"pca-scatter" }}`: a dict lookup with a dashed key."""
    if not mapping:
        return None
    return mapping.get(key)


@register.filter
def percent(value, digits=0):
    if value is None:
        return "—"
    return f"{float(value) * 100:.{int(digits)}f}%"


@register.filter
def money(value, digits=0):
    if value is None:
        return "—"
    return f"${float(value):,.{int(digits)}f}"


@register.filter
def signed(value, digits=2):
    if value is None:
        return "—"
    return f"{float(value):+.{int(digits)}f}"


@register.filter
def level_class(level):
    return {"high": "danger", "medium": "warning", "low": "success"}.get(level, "secondary")


@register.filter
def tier_class(tier):
    return {"high": "success", "medium": "primary", "low": "secondary"}.get(tier, "secondary")


@register.filter
def human(value):
    return str(value or "").replace("_", " ")


# --- human labels and number formats --------------------------------------------------------------------------

_YEAR_NAME = re.compile(r"(?<![a-z])(year|yr)s?(?![a-z])", re.I)


def _finite(value) -> float | None:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def is_year_column(name: str, *, minimum=None, maximum=None, stored_type: str = "") -> bool:
    """A column of calendar years: named so ("signup_year", "signup_date (year)"), or whole numbers that all
    fall in 1900–2100."""
    if _YEAR_NAME.search(str(name or "")):
        return True
    lo, hi = _finite(minimum), _finite(maximum)
    return stored_type == "int" and lo is not None and hi is not None and 1900 <= lo <= hi <= 2100


def format_number(value, kind: str = "number") -> str:
    """A statistic for people: money with a currency sign and separators, years with neither (a mean year is
    "2025.9", not "2,025.96"), other numbers with separators and no more decimals than they need."""
    v = _finite(value)
    if v is None:
        return "—"
    if kind == "year":
        return f"{v:.0f}" if v.is_integer() else f"{v:.1f}"
    if kind == "share":  # the mean of a 0/1 column: the share of customers with it
        return f"{v * 100:.0f}%"
    if kind == "money":
        return f"${v:,.0f}" if abs(v) >= 100 else f"${v:,.2f}"
    if v.is_integer():
        return f"{v:,.0f}"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    if abs(v) >= 100:
        return f"{v:,.1f}"
    return f"{v:,.2f}"


def feature_kind(feature: str, money_columns=()) -> str:
    name = str(feature or "")
    if name in money_columns:
        return "money"
    if is_year_column(name):
        return "year"
    if "=" in name or name.endswith(" (missing)"):  # one-hot level or missing-value indicator: 0/1 per customer
        return "share"
    return "number"


@register.filter
def column_number(value, column):
    """`{{ c.numeric.mean|column_number:c }}` on the dataset page: formatted for that column (years plain)."""
    column = column or {}
    numeric = column.get("numeric") or {}
    year = is_year_column(
        column.get("name", ""),
        minimum=numeric.get("min"),
        maximum=numeric.get("max"),
        stored_type=column.get("stored_type", ""),
    )
    return format_number(value, "year" if year else "number")


@register.filter
def config_label(key):
    """`categorical_cols` -> "Categorical columns" (the one table of labels lives in segments.forms)."""
    from segments.forms import CONFIG_LABELS

    return CONFIG_LABELS.get(key, str(key or "").replace("_", " ").capitalize())


@register.filter
def role_label(role):
    """A column role as the dataset page and the analysis form name it ("identifier" -> "Identifier")."""
    from segments.forms import role_label as label

    return label(role)
