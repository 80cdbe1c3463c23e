"""Report filters: the one number formatting (segments.engine.formatting) and the vocabulary's labels."""

from django import template

from segments.engine import formatting as fmt

register = template.Library()


@register.filter
def money(value):
    return fmt.money(value, compact=True)


@register.filter
def pct(value):
    return fmt.percent(value)


@register.filter
def number(value):
    return fmt.number(value)


@register.filter
def humanize_key(value):
    return str(value or "").replace("_", " ").replace("mbg nbd", "MBG/NBD")


@register.filter
def algorithm_label(value):
    from segments.engine.vocabulary import algorithm_label as label

    return label(value)


@register.filter
def stat(value, feature):
    """A feature's statistic in its kind's format (calendar years as 2024, 0/1 columns as shares)."""
    return fmt.format_value(value, fmt.feature_kind(feature))
