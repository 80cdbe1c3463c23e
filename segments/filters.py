"""The one customer filter: segment, churn-risk and LTV ranges, customer id.

The Profiles tab's search, the API's `customers/` list and the customers CSV export all read their filter through
`CustomerFilterSet` (django-filter): the same parameters, the same checks, the same messages under the field at
fault. The page takes churn risk in percent (its inputs say "%"), the API and the export as a fraction 0–1.
Applied to the database table with `.qs`, and to the per-customer Parquet file with `parquet_filter()`.
"""

from __future__ import annotations

import math

import django_filters
from django import forms

from segments.engine.errors import UserFacingError
from segments.models import CustomerResult

RANGES = (
    ("churn_risk_min", "churn_risk_max"),
    ("ltv_min", "ltv_max"),
    ("clv_min", "clv_max"),
    ("p_active_min", "p_active_max"),
)
# Filters and sorts on the lifetime value of order-log analyses (segments/engine/clv): refused elsewhere.
CLV_PARAMETERS = ("clv_min", "clv_max", "p_active_min", "p_active_max")
CLV_SORTS = ("clv", "p_active", "expected_purchases")
# The pipeline's own LTV estimate: an order log's analysis has none (its lifetime value is the CLV).
LTV_PARAMETERS = ("ltv_min", "ltv_max")
# How a customer list can be sorted: {model field: parameter}, and what people read.
SORT_FIELDS = {
    "churn_risk": "churn_risk",
    "predicted_ltv": "ltv",
    "segment": "segment",
    "customer_id": "customer_id",
    "row_index": "row",
    "clv": "clv",
    "p_active": "p_active",
    "expected_purchases": "expected_purchases",
}
SORT_LABELS = {
    "churn_risk": "Churn risk",
    "predicted_ltv": "Predicted LTV",
    "segment": "Segment",
    "customer_id": "Customer id",
    "row_index": "Table order",
    "clv": "CLV",
    "p_active": "Probability active",
    "expected_purchases": "Expected purchases",
}


class FilterError(UserFacingError):
    """A customer filter that cannot be applied; `field` names the parameter."""


class FiniteFloatField(forms.FloatField):
    def validate(self, value):
        super().validate(value)
        if value is not None and not math.isfinite(value):
            raise forms.ValidationError("Enter a finite number.", code="invalid")


class FiniteNumberFilter(django_filters.NumberFilter):
    field_class = FiniteFloatField


class IntegerFilter(django_filters.NumberFilter):
    field_class = forms.IntegerField


class CustomerFilterForm(forms.Form):
    churn_scale = 1.0  # the page sets 100 (percent): churn risk and the probability of being active

    def clean(self):
        data = super().clean()
        for name in ("churn_risk_min", "churn_risk_max"):
            value = data.get(name)
            if value is None:
                continue
            if not 0 <= value <= self.churn_scale:
                what = "a percentage between 0 and 100" if self.churn_scale == 100 else "a fraction between 0 and 1"
                self.add_error(
                    name,
                    f"Churn risk is {what} (0.5 = 50 %), not {value:g}."
                    if self.churn_scale == 1
                    else f"Churn risk is {what}, not {value:g}.",
                )
            else:
                data[name] = value / self.churn_scale
        for name in ("p_active_min", "p_active_max"):
            value = data.get(name)
            if value is None:
                continue
            if not 0 <= value <= self.churn_scale:
                what = "a percentage between 0 and 100" if self.churn_scale == 100 else "a fraction between 0 and 1"
                self.add_error(name, f"The probability of being active is {what}, not {value:g}.")
            else:
                data[name] = value / self.churn_scale
        for low, high in RANGES:
            if data.get(low) is not None and data.get(high) is not None and data[low] > data[high]:
                lower = f"“{self.fields[low].label}”" if self.churn_scale == 100 else low
                self.add_error(high, f"Must be at least {lower} ({self[low].value()}).")
        return data


class CustomerFilterSet(django_filters.FilterSet):
    segment = IntegerFilter(
        field_name="segment", label="Segment", help_text="Segment id; -1 is noise.", min_value=-1, max_value=2**31 - 1
    )
    churn_risk_min = FiniteNumberFilter(
        field_name="churn_risk", lookup_expr="gte", label="Churn risk ≥", help_text="Churn risk at least (0-1)."
    )
    churn_risk_max = FiniteNumberFilter(
        field_name="churn_risk", lookup_expr="lte", label="Churn risk ≤", help_text="Churn risk at most (0-1)."
    )
    ltv_min = FiniteNumberFilter(
        field_name="predicted_ltv", lookup_expr="gte", label="LTV ≥", help_text="Predicted LTV at least."
    )
    ltv_max = FiniteNumberFilter(
        field_name="predicted_ltv", lookup_expr="lte", label="LTV ≤", help_text="Predicted LTV at most."
    )
    clv_min = FiniteNumberFilter(
        field_name="clv", lookup_expr="gte", label="CLV ≥", help_text="Order logs: CLV over the horizon at least."
    )
    clv_max = FiniteNumberFilter(
        field_name="clv", lookup_expr="lte", label="CLV ≤", help_text="Order logs: CLV over the horizon at most."
    )
    p_active_min = FiniteNumberFilter(
        field_name="p_active",
        lookup_expr="gte",
        label="P(active) ≥",
        help_text="Order logs: probability of being active at least (0-1; the page takes percent).",
    )
    p_active_max = FiniteNumberFilter(
        field_name="p_active",
        lookup_expr="lte",
        label="P(active) ≤",
        help_text="Order logs: probability of being active at most (0-1; the page takes percent).",
    )
    customer_id = django_filters.CharFilter(
        field_name="customer_id", max_length=100, label="Customer id", help_text="Exactly this customer id."
    )
    sort = django_filters.OrderingFilter(
        fields=SORT_FIELDS,
        field_labels=SORT_LABELS,
        label="Sort by",
        help_text="churn_risk, ltv, segment, customer_id or row (the table's order, the default), and for order "
        "logs clv, p_active or expected_purchases (not ltv: their lifetime value is the CLV); a leading '-' sorts "
        "from the highest. Ties keep the table's order.",
    )

    class Meta:
        model = CustomerResult
        fields: list[str] = []
        form = CustomerFilterForm

    def __init__(self, data=None, queryset=None, *, percent: bool = False, blank_is_error: bool = False, **kwargs):
        """`blank_is_error`: a parameter sent with an empty value is refused, naming it (the API, whose schema gives
        each parameter a type); a page's form sends empty fields for "no filter", which is what they mean there."""
        if queryset is None:  # only checking parameters (or filtering a queryset given later): no rows at all
            queryset = CustomerResult.objects.unscoped().none()
        super().__init__(data, queryset=queryset, **kwargs)
        self.form.churn_scale = 100.0 if percent else 1.0
        self.percent = percent
        self.blank_is_error = blank_is_error

    @property
    def values(self) -> dict:
        """The valid filter's values that are set (churn risk as a fraction), e.g. {"segment": 2}."""
        return {k: v for k, v in self.form.cleaned_data.items() if v not in (None, "")}

    def filter_values(self, queryset, values: dict):
        """`queryset` filtered and sorted by checked `values` (as `check()` returns them); ties (and a list without
        a sort) keep the table's order."""
        sort = values.get("sort") or []
        for name, value in values.items():
            if name != "sort":
                queryset = self.filters[name].filter(queryset, value)
        ordering = [self.filters["sort"].get_ordering_value(param) for param in sort]
        return queryset.order_by(*ordering, *(["row_index"] if "row_index" not in ordering else []))

    def check(self) -> dict:
        """`values`, or a FilterError naming every parameter at fault (`details`: {"ltv_min": ["Enter a number."]})."""
        errors = [FilterError(" ".join(messages), field=field) for field, messages in self.errors.items()]
        if self.blank_is_error and self.data is not None:
            errors += [
                FilterError("Empty value: leave the parameter out, or give it a value.", field=name)
                for name in self.base_filters
                if name not in self.errors and name in self.data and all(v == "" for v in _sent(self.data, name))
            ]
        if errors:
            raise FilterError.of(errors)
        return self.values

    def check_for(self, analysis) -> dict:
        """`check()`, and what this analysis has no figure for refused (naming the parameter): CLV filters or
        sorts without lifetime value from an order log; the predicted-LTV range or sort on an order log's analysis
        (its lifetime value is the CLV) or without any LTV (no money column, or no duration of known unit)."""
        values = self.check()
        sorts = [p.lstrip("-") for p in values.get("sort") or []]
        if not analysis.has_clv:
            asked = [name for name in CLV_PARAMETERS if name in values] + [p for p in sorts if p in CLV_SORTS]
            if asked:
                raise FilterError(
                    "This analysis has no lifetime value (only analyses of an order log with enough history have "
                    f"one): {asked[0]} cannot be used.",
                    field="sort" if asked[0] in CLV_SORTS else asked[0],
                )
        asked = [name for name in LTV_PARAMETERS if name in values] + [p for p in sorts if p == "ltv"]
        if asked and analysis.has_clv:
            raise FilterError(
                "This analysis's lifetime value is the CLV of its order log (there is no second, predicted LTV): "
                + ("sort by clv instead." if asked[0] == "ltv" else f"use {asked[0].replace('ltv', 'clv')} instead."),
                field="sort" if asked[0] == "ltv" else asked[0],
            )
        if asked and not analysis.has_ltv:  # the rule the charts follow (`Analysis.has_ltv`)
            why = ((analysis.metrics or {}).get("ltv") or {}).get("reason") or "its data has no money column"
            raise FilterError(
                f"This analysis has no predicted LTV ({why}), so {'sort=ltv' if asked[0] == 'ltv' else asked[0]} "
                "cannot be used: filter or sort by churn_risk, segment or customer_id.",
                field="sort" if asked[0] == "ltv" else asked[0],
            )
        return values

    def parquet_filter(self):
        """The same filter for the per-customer Parquet file (the CSV export)."""
        from exports.sources import CustomerFilter

        values = self.check()
        return CustomerFilter(**{k: values[k] for k in CustomerFilter.FIELDS if k in values})


def _sent(data, name: str) -> list:
    """Every value sent for `name` (a query string may repeat a parameter)."""
    return data.getlist(name) if hasattr(data, "getlist") else [data.get(name)]


def filter_parameters(*, sort: bool = True):
    """The filter's query parameters for the OpenAPI schema (the one definition documents itself); `sort=False`
    for a list that keeps the table's order (the streamed CSV)."""
    from drf_spectacular.types import OpenApiTypes
    from drf_spectacular.utils import OpenApiParameter

    fractions = {"churn_risk_min", "churn_risk_max", "p_active_min", "p_active_max"}  # the form's rule: 0 to 1

    def schema_of(name, f):
        if name == "sort":
            return OpenApiTypes.STR
        if isinstance(f, IntegerFilter):
            return {"type": "integer", "minimum": f.extra["min_value"], "maximum": f.extra["max_value"]}
        if isinstance(f, django_filters.CharFilter):
            return {"type": "string", "maxLength": f.extra["max_length"]}
        return {"type": "number", "minimum": 0, "maximum": 1} if name in fractions else OpenApiTypes.NUMBER

    sorts = [param for name in SORT_FIELDS.values() for param in (name, f"-{name}")]
    return [
        OpenApiParameter(
            name,
            schema_of(name, f),
            description=str(f.extra.get("help_text", "")),
            enum=sorts if name == "sort" else None,
        )
        for name, f in CustomerFilterSet.base_filters.items()
        if sort or name != "sort"
    ]
