"""API shapes for datasets.

Writes go through `datasets.services`; these serializers only validate input and describe output.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from datasets.models import ColumnRole, Dataset, DatasetKind
from jobs.serializers import JobProgressSerializer, job_progress
from segments.engine.config import (
    BEHAVIOUR_FIELDS,
    BEHAVIOUR_SETTING_KEYS,
    ENGAGEMENT_DIRECTIONS,
    ENGAGEMENT_KEY,
)
from segsaas.api_params import StrictJsonTypes


class DatasetSerializer(serializers.ModelSerializer):
    class Meta:
        model = Dataset
        fields = [
            "id",
            "name",
            "source",
            "status",
            "row_count",
            "column_count",
            "file_size",
            "original_filename",
            "encoding",
            "delimiter",
            "roles_confirmed",
            "kind",
            "error",
            "created_at",
        ]
        read_only_fields = fields


class ColumnSchemaSerializer(serializers.Serializer):
    name = serializers.CharField()
    type = serializers.CharField(help_text="Stored type: integer, float, boolean, date, datetime, text.")


def behaviour_column(key: str) -> serializers.CharField:
    """One of the behaviour columns (recency, frequency, tenure), described once: `BEHAVIOUR_FIELDS`."""
    label, help_text = next((label, help_text) for k, label, help_text in BEHAVIOUR_FIELDS if k == key)
    return serializers.CharField(
        allow_null=True, required=False, help_text=f"{label}: {help_text} (a numeric or date column; null: none)."
    )


def behaviour_unit(key: str) -> serializers.ChoiceField:
    """The unit of a duration behaviour column (segments.engine.units: the one vocabulary)."""
    from segments.engine.units import UNITS

    what = key.removesuffix("_unit")
    return serializers.ChoiceField(
        choices=UNITS,
        allow_null=True,
        required=False,
        help_text=f"What the {what} column counts: {', '.join(UNITS)}; null: inferred from its name, values and the "
        "money columns (see behaviour_units for the inference and its evidence; an unknown unit derives no duration "
        "figure).",
    )


class BehaviourRolesSerializer(StrictJsonTypes, serializers.Serializer):
    recency_col = behaviour_column("recency_col")
    frequency_col = behaviour_column("frequency_col")
    tenure_col = behaviour_column("tenure_col")
    recency_unit = behaviour_unit("recency_unit")
    tenure_unit = behaviour_unit("tenure_unit")
    charge_col = serializers.CharField(
        allow_null=True,
        required=False,
        help_text="A recurring charge per period whose name does not say the period (e.g. plan_price, charges): "
        "with charge_period it gives a subscription LTV (the charge × the paid periods a customer is expected to "
        "stay), like a column named monthly_charges. null: found from names and the money columns.",
    )
    charge_period = serializers.ChoiceField(
        choices=["weeks", "months", "years"],
        allow_null=True,
        required=False,
        help_text="What charge_col is charged per: weeks, months or years (required with charge_col).",
    )
    engagement_cols = serializers.DictField(
        child=serializers.ChoiceField(choices=list(ENGAGEMENT_DIRECTIONS.items())),
        allow_null=True,
        required=False,
        help_text="{column: direction} of the columns that measure engagement: “more” (more sessions, visits, "
        "logins, opens, orders = more engaged) or “less” (more days since the last visit, a higher cart-abandonment "
        "rate = less engaged). Inferred from column names (whole words); {} = none, so engagement is unknown.",
    )


class OrderColumnsSerializer(serializers.Serializer):
    """Which column of an order log is which (customer id, date, amount required; the others optional)."""

    customer_col = serializers.CharField(required=False, allow_null=True, help_text="Customer id column.")
    date_col = serializers.CharField(required=False, allow_null=True, help_text="Order date or timestamp column.")
    amount_col = serializers.CharField(required=False, allow_null=True, help_text="Order amount (refunds negative).")
    order_id_col = serializers.CharField(
        required=False, allow_null=True, help_text="Optional: order id (repeated ids are duplicates, dropped)."
    )
    currency_col = serializers.CharField(required=False, allow_null=True, help_text="Optional: currency.")
    product_col = serializers.CharField(required=False, allow_null=True, help_text="Optional: product or category.")


class EligibilityReasonSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField(help_text="What is missing, with the figures.")
    advice = serializers.CharField(help_text="What the client can do.")


class OrderLogCheckSerializer(serializers.Serializer):
    """The eligibility of an order log for lifetime-value models (checked when the log is detected or confirmed)."""

    eligible = serializers.BooleanField()
    reasons = EligibilityReasonSerializer(many=True)
    customers = serializers.IntegerField(required=False)
    repeat_customers = serializers.IntegerField(required=False)
    orders = serializers.IntegerField(required=False)
    first_order = serializers.DateField(required=False)
    last_order = serializers.DateField(required=False)
    purchase_cycle_days = serializers.FloatField(required=False, allow_null=True)
    holdout_days = serializers.IntegerField(required=False)


class DatasetDetailSerializer(DatasetSerializer):
    columns = serializers.SerializerMethodField()
    order_columns = serializers.SerializerMethodField()
    order_log = serializers.SerializerMethodField()
    roles = serializers.DictField(
        child=serializers.ChoiceField(choices=ColumnRole.choices),
        read_only=True,
        help_text="Role of each column (inferred, or as confirmed); an analysis uses these by default.",
    )
    behaviour_roles = serializers.SerializerMethodField()
    behaviour_units = serializers.JSONField(
        read_only=True,
        source="inferred_behaviour_units",
        help_text="The inferred unit of the recency and tenure columns with its evidence "
        "({tenure_unit: {unit, source, evidence}, recurring_charge: {column, period, evidence} or null}); "
        "a stated unit in behaviour_roles wins, and so does a declared recurring charge (charge_col, charge_period).",
    )
    profile = serializers.JSONField(
        read_only=True,
        help_text="Per column: stored type, inferred role, missing count and share, distinct count, statistics for "
        "numbers, top values for categories, date range, text length, warnings; plus a 50-row preview.",
    )
    synthetic_params = serializers.JSONField(read_only=True)
    progress = serializers.SerializerMethodField()

    class Meta(DatasetSerializer.Meta):
        fields = [
            *DatasetSerializer.Meta.fields,
            "columns",
            "roles",
            "behaviour_roles",
            "behaviour_units",
            "order_columns",
            "order_log",
            "profile",
            "synthetic_params",
            "progress",
        ]
        read_only_fields = fields

    @extend_schema_field(ColumnSchemaSerializer(many=True))
    def get_columns(self, dataset) -> list:
        return [
            {"name": str(c.get("name")), "type": str(c.get("type") or c.get("dtype") or "")}
            for c in dataset.schema or []
            if isinstance(c, dict)
        ]

    @extend_schema_field(OrderColumnsSerializer(allow_null=True))
    def get_order_columns(self, dataset) -> dict | None:
        """An order log's columns (null for a customer table)."""
        return dict(dataset.order_columns) if dataset.is_order_log else None

    @extend_schema_field(OrderLogCheckSerializer(allow_null=True))
    def get_order_log(self, dataset) -> dict | None:
        """Whether the order log has enough history for lifetime-value models, and if not what is missing and
        what to do (null for a customer table)."""
        if not dataset.is_order_log:
            return None
        check = dataset.order_log
        keys = ("eligible", "reasons", "customers", "repeat_customers", "orders", "first_order", "last_order")
        out = {key: check[key] for key in keys if key in check}
        out.update({k: check.get(k) for k in ("purchase_cycle_days", "holdout_days") if k in check})
        return out

    @extend_schema_field(BehaviourRolesSerializer)
    def get_behaviour_roles(self, dataset) -> dict:
        roles = dataset.behaviour_roles or {}
        engagement = roles.get(ENGAGEMENT_KEY)
        if engagement is None:
            engagement = (dataset.profile or {}).get("inferred_engagement")
        return {**{key: roles.get(key) for key in BEHAVIOUR_SETTING_KEYS}, ENGAGEMENT_KEY: engagement}

    @extend_schema_field(JobProgressSerializer(allow_null=True))
    def get_progress(self, dataset) -> dict | None:
        """The import / generation job, while the dataset is being processed (null for inline ones)."""
        return job_progress(dataset.job)


class DatasetUploadSerializer(serializers.Serializer):
    file = serializers.FileField(
        help_text="CSV (comma, semicolon, tab or pipe; UTF-8, UTF-8 with BOM, Windows-1252 or Latin-1), .csv.gz or "
        ".xlsx.",
        allow_empty_file=True,  # the service rejects an empty file with its own message
    )
    name = serializers.CharField(
        max_length=200, required=False, allow_blank=True, help_text="Default: the file's name without its extension."
    )


@extend_schema_field({"type": "object", "additionalProperties": {"type": "string"}})
class ColumnMapField(serializers.JSONField):
    """{current column: column in the new file}: documented as the object of strings it must be."""


class DatasetVersionUploadSerializer(serializers.Serializer):
    file = serializers.FileField(
        help_text="The new version of the table: CSV, CSV.gz or XLSX, validated like any upload.",
        allow_empty_file=True,
    )
    column_map = ColumnMapField(
        required=False,
        help_text="Columns renamed in the new file, as {current column: column in the new file} (a JSON object; "
        "in a multipart form, its JSON text).",
    )

    def validate_column_map(self, value):
        import json

        if isinstance(value, str):
            try:
                value = json.loads(value or "{}")
            except ValueError as exc:
                raise serializers.ValidationError("Not valid JSON.") from exc
        if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
            raise serializers.ValidationError("Give an object of column names: {current column: new column}.")
        return value


class DatasetVersionSerializer(serializers.Serializer):
    number = serializers.IntegerField(read_only=True)
    status = serializers.ChoiceField(
        choices=["processing", "ready", "failed"],
        read_only=True,
        help_text="Large files are processed in the background: poll the versions until ready (or failed, with "
        "`error`).",
    )
    error = serializers.CharField(read_only=True)
    original_filename = serializers.CharField(read_only=True)
    row_count = serializers.IntegerField(read_only=True)
    column_count = serializers.IntegerField(read_only=True)
    file_size = serializers.IntegerField(read_only=True)
    columns = serializers.SerializerMethodField()
    schema_changes = serializers.JSONField(
        read_only=True, help_text="Against the previous version: added, removed, retyped and mapped columns."
    )
    created_at = serializers.DateTimeField(read_only=True)

    def get_columns(self, version) -> list[dict]:
        return list(version.schema or [])


class DatasetRolesSerializer(BehaviourRolesSerializer):
    roles = serializers.DictField(
        child=serializers.ChoiceField(choices=ColumnRole.choices),
        required=False,
        help_text="{column: role} for the columns to change; the others keep their role.",
    )
    kind = serializers.ChoiceField(
        choices=DatasetKind.choices,
        required=False,
        help_text="“customers” (one row per customer) or “transactions” (an order log: one row per order).",
    )
    order_columns = OrderColumnsSerializer(
        required=False,
        help_text="An order log's columns (those sent change; the others keep the detected ones). The log is read "
        "with the order-log rules and its eligibility checked; an unreadable column is a 400 naming it.",
    )

    def validate(self, attrs):
        if not attrs:
            raise serializers.ValidationError(
                {
                    "non_field_errors": [
                        "Send “roles” and/or recency_col, frequency_col, tenure_col, recency_unit, tenure_unit, "
                        "charge_col, charge_period, engagement_cols, or “kind” and “order_columns”."
                    ]
                }
            )
        return attrs


class SyntheticDatasetSerializer(StrictJsonTypes, serializers.Serializer):
    rows = serializers.IntegerField(
        min_value=100,
        max_value=1_000_000,
        default=10_000,
        help_text="Customers to generate (up to your organization's row limit).",
    )
    seed = serializers.IntegerField(
        min_value=0, max_value=2**32 - 1, default=42, help_text="Same seed, same customers."
    )
    name = serializers.CharField(max_length=200, required=False, allow_blank=True)
