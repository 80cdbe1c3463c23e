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
