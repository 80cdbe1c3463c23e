"""API shapes for datasets.

Writes go through `datasets.services`; these serializers only validate input and describe output.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from datasets.models import ColumnRole, Dataset
from jobs.serializers import JobProgressSerializer, job_progress
from segments.engine.config import BEHAVIOUR_FIELDS, BEHAVIOUR_KEYS, ENGAGEMENT_DIRECTIONS, ENGAGEMENT_KEY


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


class BehaviourRolesSerializer(serializers.Serializer):
    recency_col = behaviour_column("recency_col")
    frequency_col = behaviour_column("frequency_col")
    tenure_col = behaviour_column("tenure_col")
    engagement_cols = serializers.DictField(
        child=serializers.ChoiceField(choices=list(ENGAGEMENT_DIRECTIONS.items())),
        allow_null=True,
        required=False,
        help_text="{column: direction} of the columns that measure engagement: “more” (more sessions, visits, "
        "logins, opens, orders = more engaged) or “less” (more days since the last visit, a higher cart-abandonment "
        "rate = less engaged). Inferred from column names (whole words); {} = none, so engagement is unknown.",
    )


class DatasetDetailSerializer(DatasetSerializer):
    columns = serializers.SerializerMethodField()
    roles = serializers.DictField(
        child=serializers.ChoiceField(choices=ColumnRole.choices),
        read_only=True,
        help_text="Role of each column (inferred, or as confirmed); an analysis uses these by default.",
    )
    behaviour_roles = serializers.SerializerMethodField()
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

    @extend_schema_field(BehaviourRolesSerializer)
    def get_behaviour_roles(self, dataset) -> dict:
        roles = dataset.behaviour_roles or {}
        engagement = roles.get(ENGAGEMENT_KEY)
        if engagement is None:
            engagement = (dataset.profile or {}).get("inferred_engagement")
        return {**{key: roles.get(key) for key in BEHAVIOUR_KEYS}, ENGAGEMENT_KEY: engagement}

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


class DatasetVersionUploadSerializer(serializers.Serializer):
    file = serializers.FileField(
        help_text="The new version of the table: CSV, CSV.gz or XLSX, validated like any upload.",
        allow_empty_file=True,
    )
    column_map = serializers.JSONField(
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

    def validate(self, attrs):
        if not attrs:
            raise serializers.ValidationError(
                {"non_field_errors": ["Send “roles” and/or recency_col, frequency_col, tenure_col, engagement_cols."]}
            )
        return attrs


class SyntheticDatasetSerializer(serializers.Serializer):
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
