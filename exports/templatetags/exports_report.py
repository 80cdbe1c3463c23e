"""Number formatting for reports: money without decimals, percentages, adaptive precision."""

import math

from django import template

register = template.Library()


def _finite(value):
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


@register.filter
def money(value):
    value = _finite(value)
    if value is None:
        return "–"
    if abs(value) >= 10_000_000:
        return f"{value / 1_000_000:,.1f}M"
    return f"{value:,.0f}"


@register.filter
def pct(value):
    value = _finite(value)
    if value is None:
        return "–"
    return f"{value * 100:.1f}%" if abs(value) < 0.1 else f"{value * 100:.0f}%"


@register.filter
def number(value):
    """Enough digits to read: 12,345 / 123.4 / 1.23 / 0.123."""
    value = _finite(value)
    if value is None:
        return "–"
    magnitude = abs(value)
    if magnitude >= 1000:
        return f"{value:,.0f}"
    if magnitude >= 100:
        return f"{value:,.1f}"
    if magnitude >= 1:
        return f"{value:,.2f}"
    return f"{value:.3f}"


@register.filter
def humanize_key(value):
    return str(value or "").replace("_", " ").replace("mbg nbd", "MBG/NBD")


@register.filter
def algorithm_label(value):
    from exports.naming import algorithm_label as label

    return label(value)


@register.filter
def stat(value, feature):
    """`number`, except that calendar years are shown as years (2024, not 2,024)."""
    if "(year)" in str(feature or ""):
        value = _finite(value)
        return "–" if value is None else f"{value:.0f}"
    return number(value)
