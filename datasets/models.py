"""Datasets: an organization's customer table, its original file, a normalised Parquet copy,
its detected schema, profile and the column roles the user confirmed."""

from django.conf import settings
from django.db import models

from accounts.scoping import TenantManager


class DatasetSource(models.TextChoices):
    UPLOAD = "upload", "Upload"
    SYNTHETIC = "synthetic", "Synthetic"


class DatasetKind(models.TextChoices):
    CUSTOMERS = "customers", "Customer table"
    TRANSACTIONS = "transactions", "Order log (transactions)"


class DatasetStatus(models.TextChoices):
    PROCESSING = "processing", "Processing"
    READY = "ready", "Ready"
    FAILED = "failed", "Failed"


# Column roles a user may assign (the engine's vocabulary).
class ColumnRole(models.TextChoices):
    NUMERIC = "numeric", "Numeric"
    MONETARY = "monetary", "Monetary"
    CATEGORICAL = "categorical", "Categorical"
    DATE = "date", "Date"
    TEXT = "text", "Text"
    IDENTIFIER = "identifier", "Identifier"
    CHURN_LABEL = "churn_label", "Churn label"
    IGNORE = "ignore", "Ignore"


def dataset_upload_to(instance, filename):
    # The uploaded file's own name is never used as a path.
    return f"org-{instance.organization_id}/datasets/{instance.storage_key}/{filename}"


class Dataset(models.Model):
    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="datasets")
    name = models.CharField(max_length=200)
    source = models.CharField(max_length=12, choices=DatasetSource.choices, default=DatasetSource.UPLOAD)
    status = models.CharField(max_length=12, choices=DatasetStatus.choices, default=DatasetStatus.PROCESSING)
    # Random directory name under which its files live (original + normalised Parquet).
    storage_key = models.CharField(max_length=40)
    original_file = models.FileField(upload_to=dataset_upload_to, max_length=300, blank=True)
    original_filename = models.CharField(max_length=255, blank=True)  # shown to people, never a path
    data_file = models.FileField(upload_to=dataset_upload_to, max_length=300, blank=True)  # Parquet
    file_size = models.BigIntegerField(default=0)
    encoding = models.CharField(max_length=40, blank=True)
    delimiter = models.CharField(max_length=8, blank=True)
    row_count = models.PositiveIntegerField(default=0)
    column_count = models.PositiveIntegerField(default=0)
    schema = models.JSONField(default=list, blank=True)  # [{name, dtype}]
    profile = models.JSONField(default=dict, blank=True)
    roles = models.JSONField(default=dict, blank=True)  # {column: role}
    behaviour_roles = models.JSONField(default=dict, blank=True)  # {recency_col, frequency_col, tenure_col}
    roles_confirmed = models.BooleanField(default=False)
    synthetic_params = models.JSONField(default=dict, blank=True)
    # "customers": one row per customer; "transactions": one row per order (segments/engine/clv). Detected from
    # the columns when the dataset is profiled, confirmable with the columns below.
    kind = models.CharField(max_length=20, choices=DatasetKind.choices, default=DatasetKind.CUSTOMERS)
    # {customer_col, date_col, amount_col, order_id_col, currency_col, product_col} of an order log
    order_columns = models.JSONField(default=dict, blank=True)
    job = models.OneToOneField("jobs.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="dataset")
    error = models.TextField(blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TenantManager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["organization", "storage_key"], name="uniq_dataset_storage_key")]

    def __str__(self) -> str:
        return self.name

    @property
    def is_order_log(self) -> bool:
        return self.kind == DatasetKind.TRANSACTIONS

    @property
    def order_log(self) -> dict:
        """What the eligibility check said about the order log (datasets.services.dataset_set_kind)."""
        return (self.profile or {}).get("order_log") or {}

    @property
    def column_names(self) -> list[str]:
        """The table's columns, in file order."""
        return [c["name"] for c in self.schema or [] if isinstance(c, dict) and c.get("name")]

    def in_column_order(self, roles: dict) -> dict:
        """{column: role} in file order (which column comes first decides, e.g., the customer id)."""
        order = {c: i for i, c in enumerate(self.column_names)}
        return dict(sorted((roles or {}).items(), key=lambda kv: order.get(kv[0], len(order))))

    @property
    def inferred_behaviour_units(self) -> dict:
        """The unit the engine infers for the current recency and tenure columns, with its evidence
        ({"tenure_unit": {"unit", "source", "evidence"}, ..., "recurring_charge": {...} or None}), from the profile."""
        from segments.engine.units import DATE, UNIT_KEYS

        profile = self.profile or {}
        per_column = profile.get("column_units") or {}
        behaviour = self.behaviour_roles or {}
        out: dict = {}
        for key, unit_key in UNIT_KEYS.items():
            column = behaviour.get(key)
            if not column:
                continue
            if self.column_role(column) == ColumnRole.DATE:
                out[unit_key] = {"unit": DATE, "source": "date", "evidence": f"{column!r} holds dates"}
            elif column in per_column:
                out[unit_key] = per_column[column]
        out["recurring_charge"] = profile.get("recurring_charge")
        if behaviour.get("charge_col") and behaviour.get("charge_period"):  # declared: wins over inference
            column, period = behaviour["charge_col"], behaviour["charge_period"]
            out["recurring_charge"] = {
                "column": column,
                "period": period,
                "evidence": f"stated: {column!r} is charged per {period.removesuffix('s')}",
                "total_column": None,
            }
        return out

    def column_role(self, column: str, declared: str | None = None) -> str:
        """A column's role in a run: the declared one, else the one detected when the dataset was profiled, else
        one read from its stored type ("numeric", "date"), else the stored type itself."""
        if declared and declared != "auto":
            return declared
        detected = ((self.profile or {}).get("inferred_roles") or {}).get(column)
        if detected:
            return detected
        stored = {c.get("name"): c.get("type") for c in self.schema or [] if isinstance(c, dict)}.get(column) or "text"
        return {"int": ColumnRole.NUMERIC, "float": ColumnRole.NUMERIC, "date": ColumnRole.DATE}.get(stored, stored)


class DatasetVersion(models.Model):
    """One version of a dataset's customer table (version 1 is the first upload; later ones are new months'
    files of the same table). Each keeps its own files (under the dataset's directory), schema, profile and
    row count; the dataset's own fields mirror its latest ready version, so every reader of "the dataset"
    reads the latest table."""

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    original_file = models.CharField(max_length=300, blank=True)  # storage-relative paths
    original_filename = models.CharField(max_length=255, blank=True)  # shown to people, never a path
    data_file = models.CharField(max_length=300, blank=True)  # Parquet
    file_size = models.BigIntegerField(default=0)
    row_count = models.PositiveIntegerField(default=0)
    column_count = models.PositiveIntegerField(default=0)
    schema = models.JSONField(default=list, blank=True)  # [{name, type}]
    profile = models.JSONField(default=dict, blank=True)
    # Against the previous version: {"added": [...], "removed": [...], "retyped": [{column, from, to}],
    # "mapped": {old: new}}
    schema_changes = models.JSONField(default=dict, blank=True)
    # A large file is converted and profiled in a `datasets.version` job: processing until then; failed (with the
    # reason) when the job refused it. Only ready versions are analysed.
    status = models.CharField(max_length=12, choices=DatasetStatus.choices, default=DatasetStatus.READY)
    error = models.TextField(blank=True)
    column_map = models.JSONField(default=dict, blank=True)  # {current column: column in the new file}
    job = models.OneToOneField("jobs.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TenantManager()

    class Meta:
        ordering = ["dataset", "-number"]
        constraints = [models.UniqueConstraint(fields=["dataset", "number"], name="uniq_dataset_version_number")]

    def __str__(self) -> str:
        return f"{self.dataset} v{self.number}"

    @property
    def column_names(self) -> list[str]:
        return [c["name"] for c in self.schema or [] if isinstance(c, dict) and c.get("name")]
