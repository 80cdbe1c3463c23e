from django import template

from segments.engine import formatting as fmt

register = template.Library()


@register.filter
def get_item(mapping, key):
    """`{{ figures|get_item:"pca-scatter" }}`: a dict lookup with a dashed key."""
    if not mapping:
        return None
    return mapping.get(key)


@register.filter
def percent(value, digits=None):
    return fmt.percent(value, None if digits in (None, "") else int(digits))


@register.filter
def money(value):
    return fmt.money(value)


@register.filter
def value_figure(value, population):
    """`{{ p.avg_value|value_figure:population }}`: a value on the analysis' value basis with its unit ("$45.07 a
    month in charges", "predicted LTV $120.00"): segments.engine.vocabulary.value_text."""
    from segments.engine.vocabulary import value_text

    population = population or {}
    return value_text(fmt.money(value), population.get("value_measure"), population.get("value_per"))


@register.simple_tag
def currency_symbol():
    """`{% currency_symbol %}`: the organization's currency sign ("$", "€", "CHF") for labels such as "LTV ≥ €"."""
    return fmt.currency_symbol().strip()


@register.filter
def signed(value, digits=2):
    return fmt.signed(value, int(digits))


@register.filter
def level_class(level):
    return {"high": "danger", "medium": "warning", "low": "success"}.get(level, "secondary")


@register.filter
def tier_class(tier):
    return {"high": "success", "medium": "primary", "low": "secondary"}.get(tier, "secondary")


@register.filter
def human(value):
    return str(value or "").replace("_", " ")


@register.filter
def lifecycle_label(key):
    from segments.engine.vocabulary import lifecycle_label as label

    return label(key)


@register.filter
def algorithm_label(key):
    from segments.engine.vocabulary import algorithm_label as label

    return label(key)


# --- human labels and number formats (one module: segments.engine.formatting) ----------------------------------


@register.filter
def column_number(value, column):
    """`{{ c.numeric.mean|column_number:c }}` on the dataset page: formatted for that column (years plain)."""
    column = column or {}
    numeric = column.get("numeric") or {}
    year = fmt.is_year_column(
        column.get("name", ""),
        minimum=numeric.get("min"),
        maximum=numeric.get("max"),
        stored_type=column.get("stored_type", ""),
    )
    return fmt.format_value(value, "year" if year else "number")


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
