"""Analyses: one segmentation run of the engine on a dataset, and its per-customer results.

The run's state lives on its `jobs.Job` row (status, stage, percent, error); an `Analysis` holds the
configuration and, once the job succeeded, the results (written in one transaction at the end):
metrics and segment profiles as JSON, the fitted model and per-customer table as files under the
dataset's storage directory, and one `CustomerResult` row per customer for fast filtered paging.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone

from accounts.scoping import TenantManager
from segments.charts.palette import COLOR_SCHEMES, DEFAULT_COLOR_SCHEME  # noqa: F401 - schemes live with the palette


class Analysis(models.Model):
    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="analyses")
    dataset = models.ForeignKey("datasets.Dataset", on_delete=models.CASCADE, related_name="analyses")
    # The version of the dataset's table the run read (null only while a migration has not yet filled it in).
    dataset_version = models.ForeignKey(
        "datasets.DatasetVersion", null=True, blank=True, on_delete=models.CASCADE, related_name="analyses"
    )
    name = models.CharField(max_length=200)
    config = models.JSONField(default=dict, blank=True)  # engine AnalysisConfig as a dict
    color_scheme = models.CharField(max_length=20, default=DEFAULT_COLOR_SCHEME)
    rerun_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="reruns")
    job = models.OneToOneField("jobs.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="analysis")
    # Results (empty until the job succeeded)
    metrics = models.JSONField(default=dict, blank=True)
    profiles = models.JSONField(default=list, blank=True)
    summary = models.JSONField(default=dict, blank=True)  # derived aggregates for the pages (lifecycle mix...)
    n_segments = models.PositiveSmallIntegerField(null=True, blank=True)
    customer_count = models.PositiveIntegerField(default=0)
    silhouette = models.FloatField(null=True, blank=True)
    engine_version = models.CharField(max_length=40, blank=True)
    model_file = models.CharField(max_length=300, blank=True)  # storage-relative paths
    customers_file = models.CharField(max_length=300, blank=True)
    charts_file = models.CharField(max_length=300, blank=True)  # sampled points for the scatter charts
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = TenantManager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "analyses"
        indexes = [models.Index(fields=["organization", "dataset", "created_at"])]

    def __str__(self) -> str:
        return self.name

    @property
    def status(self) -> str:
        return self.job.status if self.job_id else "draft"

    @property
    def is_ready(self) -> bool:
        return self.status == "succeeded" and bool(self.profiles)

    @property
    def storage_dir(self) -> str:
        """Inside the dataset's directory, so deleting the dataset's files removes these too."""
        from datasets.storage import analysis_dir

        return analysis_dir(self.dataset, self.pk)

    @property
    def engine(self) -> dict | None:
        """{"name", "label", "reason"}: the engine that ran (or will run) it and why (segments.services.distributed)."""
        from segments.services.distributed import engine_of

        return engine_of(self)

    @property
    def has_ltv(self) -> bool:
        """Whether customers have a predicted LTV (not when the data has no money column)."""
        return any(p.get("avg_ltv") is not None for p in self.profiles or [])

    @property
    def clv(self) -> dict:
        """The lifetime-value evidence of an order-log analysis (fit_clv's metrics), {} for a customer table."""
        return (self.metrics or {}).get("clv") or {}

    @property
    def has_clv(self) -> bool:
        return bool(self.clv.get("eligible"))

    @property
    def algorithm(self) -> str:
        return self.config.get("algorithm", "kmeans")

    @property
    def k_label(self) -> str:
        k = self.config.get("n_clusters")
        if self.algorithm in ("dbscan", "hdbscan"):  # density: the groups the data has, no k
            return "found by density"
        return f"k = {k}" if k else f"auto ({self.config.get('k_min', 2)}–{self.config.get('k_max', 10)})"

    def profile(self, segment: int) -> dict | None:
        return next((p for p in self.profiles if p.get("segment") == segment), None)


class CustomerResult(models.Model):
    """One customer's scores in one analysis: the table behind filtered, paginated customer lists."""

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    analysis = models.ForeignKey(Analysis, on_delete=models.CASCADE, related_name="customers")
    row_index = models.PositiveIntegerField()  # position in the dataset
    customer_id = models.CharField(max_length=100)
    segment = models.SmallIntegerField()  # -1 = DBSCAN noise
    churn_risk = models.FloatField(null=True)  # null: no label and no behaviour to estimate it from, never a 0.5
    predicted_ltv = models.FloatField(null=True)  # null: the data holds no money column to value customers by
    value_tier = models.CharField(max_length=20, blank=True)
    risk_level = models.CharField(max_length=20, blank=True)
    engagement_level = models.CharField(max_length=20, blank=True)  # "unknown" without engagement columns
    lifecycle_stage = models.CharField(max_length=20, blank=True)
    # the customer's own advice (engine recommend.customer_recommendations), beside the segment's
    recommendation = models.CharField(max_length=200, blank=True)
    recommendation_reason = models.CharField(max_length=300, blank=True)
    # Lifetime value from an order log (segments/engine/clv); null for analyses of customer tables
    p_active = models.FloatField(null=True, blank=True)
    expected_purchases = models.FloatField(null=True, blank=True)
    clv = models.FloatField(null=True, blank=True)
    clv_low = models.FloatField(null=True, blank=True)
    clv_high = models.FloatField(null=True, blank=True)

    objects = TenantManager()

    class Meta:
        ordering = ["analysis", "row_index"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "analysis", "row_index"], name="uniq_customer_result_row"),
        ]
        indexes = [
            models.Index(fields=["analysis", "segment", "row_index"], name="custres_analysis_seg_row"),
            models.Index(fields=["analysis", "customer_id"], name="custres_analysis_cust"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} → segment {self.segment}"
