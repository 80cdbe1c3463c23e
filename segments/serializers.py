"""API shapes for analyses, segment profiles, per-customer results and predictions.

Request serializers validate input; response serializers describe (and render) what the API returns,
so the OpenAPI schema says exactly what a partner receives. Writes go through `segments.services`.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from datasets.models import ColumnRole
from datasets.serializers import BehaviourRolesSerializer
from jobs.serializers import JobProgressSerializer, job_progress
from segments.engine.vocabulary import algorithm_choices
from segments.models import COLOR_SCHEMES, DEFAULT_COLOR_SCHEME, Analysis
from segsaas.api_params import StrictJsonTypes

MAX_PREDICT_RECORDS = 10_000
MAX_SEGMENTS = 30

# --- analyses ------------------------------------------------------------------------------------


def progress_of(analysis: Analysis) -> dict:
    return job_progress(analysis.job, draft=True)


class AnalysisEngineSerializer(serializers.Serializer):
    name = serializers.ChoiceField(
        choices=["single", "dask"],
        help_text="single: one worker holds the table; dask: the Dask path (models fitted on a sample, every "
        "customer scored partition by partition on Dask workers).",
    )
    label = serializers.CharField()
    reason = serializers.CharField(
        help_text="Why this engine: the table's size against SEGSAAS_DASK_MIN_ROWS and "
        "its estimated memory against WORKER_MEMORY_BUDGET_MB."
    )


class AnalysisSerializer(serializers.ModelSerializer):
    status = serializers.SerializerMethodField()
    engine = serializers.SerializerMethodField()
    dataset_name = serializers.CharField(source="dataset.name", read_only=True)
    algorithm = serializers.CharField(read_only=True)
    dataset_version = serializers.IntegerField(
        source="dataset_version.number",
        read_only=True,
        allow_null=True,
        help_text="The version of the dataset it read.",
    )
    rerun_of = serializers.PrimaryKeyRelatedField(
        read_only=True, allow_null=True, help_text="The run this one re-ran (its segments are matched to it)."
    )

    class Meta:
        model = Analysis
        fields = [
            "id",
            "name",
            "dataset",
            "dataset_name",
            "dataset_version",
            "rerun_of",
            "status",
            "algorithm",
            "n_segments",
            "customer_count",
            "silhouette",
            "engine_version",
            "engine",
            "created_at",
            "finished_at",
        ]
        read_only_fields = fields

    @extend_schema_field(
        serializers.ChoiceField(choices=["draft", "queued", "running", "succeeded", "failed", "cancelled"])
    )
    def get_status(self, analysis) -> str:
        return analysis.status

    @extend_schema_field(AnalysisEngineSerializer(allow_null=True))
    def get_engine(self, analysis) -> dict | None:
        from segments.services.distributed import engine_of

        return engine_of(analysis)


class ModelScoresSerializer(serializers.Serializer):
    churn = serializers.DictField(
        help_text="Churn model: method, and when a churn label was given auc, brier, held_out_rows, model (the "
        "family kept by cross-validation) and, when the label looks computed from the features, "
        "leakage_suspected, leakage_columns and leakage_message (the AUC is then not a measure of quality).",
    )
    ltv = serializers.DictField(
        help_text="LTV model: method, target, horizon_months; r2 and mae measure how well the per-customer model "
        "reproduces its target estimate (fidelity says so in words), not accuracy (accuracy is null)."
    )
    quality = serializers.DictField(
        help_text="Clustering quality: silhouette, davies_bouldin, calinski_harabasz, stability_ari."
    )
    segment_structure = serializers.DictField(
        help_text='How strong the segments are: strength ("none", "weak" or "clear"), summary (a sentence), '
        "advice (a list of sentences) and evidence (stability, silhouette against a structureless reference).",
    )


def _scalars(section) -> dict:
    if not isinstance(section, dict):
        return {}
    return {k: v for k, v in section.items() if isinstance(v, str | int | float | bool) or v is None}


def model_scores_of(analysis: Analysis) -> dict:
    metrics = analysis.metrics or {}
    churn = _scalars(metrics.get("churn"))
    leakage = (metrics.get("churn") or {}).get("leakage")
    if isinstance(leakage, dict):  # a suspect AUC says so beside it
        churn["leakage_suspected"] = True
        churn["leakage_columns"] = list(leakage.get("columns") or [])
        churn["leakage_message"] = leakage.get("message")
    return {
        "churn": churn,
        "ltv": _scalars(metrics.get("ltv")),
        "quality": _scalars(metrics.get("quality")),
        "segment_structure": dict(metrics.get("segment_structure") or {}),
    }


class AnalysisDetailSerializer(AnalysisSerializer):
    progress = serializers.SerializerMethodField()
    config = serializers.JSONField(read_only=True, help_text="The engine configuration the run used.")
    metrics = serializers.JSONField(
        read_only=True,
        help_text="Everything the engine measured (k selection curves, quality, feature importance, churn, LTV, "
        "insights, timings); empty until the run succeeded.",
    )
    model_scores = serializers.SerializerMethodField()
    links = serializers.SerializerMethodField()

    class Meta(AnalysisSerializer.Meta):
        fields = [*AnalysisSerializer.Meta.fields, "progress", "config", "model_scores", "metrics", "links"]
        read_only_fields = fields

    @extend_schema_field(JobProgressSerializer)
    def get_progress(self, analysis) -> dict:
        return progress_of(analysis)

    @extend_schema_field(ModelScoresSerializer)
    def get_model_scores(self, analysis) -> dict:
        return model_scores_of(analysis)

    @extend_schema_field(serializers.DictField(child=serializers.CharField()))
    def get_links(self, analysis) -> dict:
        base = f"/api/v1/analyses/{analysis.pk}/"
        return {
            "self": base,
            "segments": base + "segments/",
            "customers": base + "customers/",
            "predict": base + "predict/",
            "cancel": base + "cancel/",
            "rerun": base + "rerun/",
            "migration": base + "migration/",
        }


class AnalysisCreateSerializer(BehaviourRolesSerializer):
    dataset = serializers.IntegerField(help_text="Id of a ready dataset of your organization.")
    version = serializers.IntegerField(
        min_value=1, required=False, help_text="Number of the dataset's version to analyse; default the latest."
    )
    name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    algorithm = serializers.ChoiceField(choices=algorithm_choices(), default="kmeans")
    n_clusters = serializers.IntegerField(
        min_value=2,
        max_value=MAX_SEGMENTS,
        allow_null=True,
        required=False,
        default=None,
        help_text="Number of segments; null (the default) chooses it automatically between k_min and k_max.",
    )
    k_min = serializers.IntegerField(min_value=2, max_value=MAX_SEGMENTS, required=False, default=2)
    k_max = serializers.IntegerField(min_value=2, max_value=MAX_SEGMENTS, required=False, default=10)
    roles = serializers.DictField(
        child=serializers.ChoiceField(choices=ColumnRole.choices),
        required=False,
        help_text="Column roles {column: role}; omitted: the dataset's confirmed roles.",
    )
    nlp = serializers.BooleanField(default=True, help_text="Use text columns (sentiment and topics).")
    dbscan_eps = serializers.FloatField(
        required=False,
        allow_null=True,
        default=None,
        min_value=0.0,
        help_text='algorithm "dbscan" only: the neighbourhood radius (in standardised feature units); null chooses it '
        'from the data. "hdbscan" needs no radius.',
    )
    random_state = serializers.IntegerField(min_value=0, max_value=2**31 - 1, required=False, default=42)
    color_scheme = serializers.ChoiceField(choices=list(COLOR_SCHEMES), default=DEFAULT_COLOR_SCHEME)
    clv_horizon_days = serializers.IntegerField(
        required=False,
        help_text="Order logs only: days of future spend the CLV covers (default 365).",
    )
    clv_discount_rate = serializers.FloatField(
        required=False,
        help_text="Order logs only: yearly discount rate of future spend, 0 to <1 (default 0.10).",
    )


class CancelResponseSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    progress = JobProgressSerializer()


# --- segments --------------------------------------------------------------------------------------


class RecommendationSerializer(serializers.Serializer):
    action = serializers.CharField()
    category = serializers.CharField()
    reason = serializers.CharField()
    priority = serializers.CharField()
    applies_to = serializers.ChoiceField(
        choices=["customer", "segment"],
        required=False,
        help_text="predict: “customer” for the action chosen from the record's own figures, “segment” for its "
        "segment's.",
    )


class SegmentProfileSerializer(serializers.Serializer):
    """One segment as the engine profiled it (further engine fields may appear; they are additive)."""

    segment = serializers.IntegerField(help_text="Segment id; -1 is DBSCAN noise.")
    name = serializers.CharField(help_text="e.g. “Engaged High-Value”.")
    size = serializers.IntegerField()
    share = serializers.FloatField(allow_null=True)
    value_tier = serializers.CharField(allow_null=True, required=False)
    risk_level = serializers.CharField(allow_null=True, required=False)
    engagement_level = serializers.CharField(allow_null=True, required=False)
    engagement_score = serializers.FloatField(
        allow_null=True, required=False, help_text="The segment's engagement against the average customer."
    )
    avg_ltv = serializers.FloatField(allow_null=True, required=False)
    median_ltv = serializers.FloatField(allow_null=True, required=False)
    avg_value = serializers.FloatField(
        allow_null=True,
        required=False,
        help_text="The segment's average on the figure its value tier compares (the analysis' "
        "insights.population.value_measure: predicted LTV, or a charge per period, or spend).",
    )
    avg_churn_risk = serializers.FloatField(allow_null=True, required=False)
    total_revenue = serializers.FloatField(allow_null=True, required=False)
    revenue_share = serializers.FloatField(allow_null=True, required=False)
    avg_recency_days = serializers.FloatField(allow_null=True, required=False)
    avg_frequency = serializers.FloatField(allow_null=True, required=False)
    avg_tenure_days = serializers.FloatField(allow_null=True, required=False)
    sentiment = serializers.DictField(
        child=serializers.FloatField(allow_null=True),
        allow_null=True,
        required=False,
        help_text="Per text column: the mean sentiment (-1 to 1); null without NLP.",
    )
    avg_sentiment = serializers.FloatField(allow_null=True, required=False)
    growth_potential = serializers.FloatField(allow_null=True, required=False)
    development_potential = serializers.FloatField(allow_null=True, required=False)
    stats = serializers.JSONField(required=False, help_text="Per feature: mean, median and more.")
    distinguishing_features = serializers.JSONField(required=False)
    lifecycle = serializers.JSONField(required=False, help_text="Customers per lifecycle stage.")
    recommendations = RecommendationSerializer(many=True, required=False)


class SegmentListSerializer(serializers.Serializer):
    analysis = serializers.IntegerField()
    count = serializers.IntegerField()
    results = SegmentProfileSerializer(many=True)


# --- customers -------------------------------------------------------------------------------------


class CustomerResultSerializer(serializers.Serializer):
    row_index = serializers.IntegerField(help_text="Row of the customer in the dataset (0-based).")
    customer_id = serializers.CharField()
    segment = serializers.IntegerField()
    segment_name = serializers.CharField()
    churn_risk = serializers.FloatField()
    predicted_ltv = serializers.FloatField(
        required=False,
        allow_null=True,
        help_text="Absent for an order log's analysis with lifetime value: its one lifetime value is `clv`.",
    )
    value_tier = serializers.CharField(allow_blank=True)
    risk_level = serializers.CharField(allow_blank=True)
    engagement_level = serializers.CharField(
        allow_blank=True,
        help_text="high, medium or low against the average customer; unknown without engagement columns.",
    )
    lifecycle_stage = serializers.CharField(allow_blank=True)
    recommendation = serializers.CharField(
        allow_blank=True, help_text="The action chosen from this customer's own churn risk, value and engagement."
    )
    recommendation_reason = serializers.CharField(allow_blank=True, help_text="This customer's own figures behind it.")
    p_active = serializers.FloatField(
        required=False, help_text="Order logs with lifetime value only: probability of being active (0-1)."
    )
    expected_purchases = serializers.FloatField(
        required=False, help_text="Order logs with lifetime value only: expected purchases over the CLV horizon."
    )
    clv = serializers.FloatField(
        required=False, help_text="Order logs with lifetime value only: expected discounted spend over the horizon."
    )
    clv_low = serializers.FloatField(required=False, help_text="Order logs: 10th percentile of that spend.")
    clv_high = serializers.FloatField(required=False, help_text="Order logs: 90th percentile of that spend.")


class ClvCustomerSerializer(serializers.Serializer):
    row_index = serializers.IntegerField(help_text="Row of the customer in the analysis's customer table (0-based).")
    customer_id = serializers.CharField()
    segment = serializers.IntegerField()
    segment_name = serializers.CharField()
    p_active = serializers.FloatField(help_text="Probability that the customer is still active (0-1).")
    expected_purchases = serializers.FloatField(help_text="Expected purchase days over the horizon.")
    clv = serializers.FloatField(help_text="Expected spend over the horizon, discounted.")
    clv_low = serializers.FloatField(help_text="10th percentile of the customer's discounted spend over the horizon.")
    clv_high = serializers.FloatField(help_text="90th percentile of the same.")


class ClvAccuracySerializer(serializers.Serializer):
    words = serializers.ListField(child=serializers.CharField(), help_text="The holdout result in plain sentences.")
    holdout_weeks = serializers.FloatField()
    purchases_expected = serializers.FloatField()
    purchases_actual = serializers.IntegerField()
    spend_expected = serializers.FloatField()
    spend_actual = serializers.FloatField()
    mae = serializers.FloatField(help_text="Mean absolute error of held-out purchases per customer.")
    range_coverage = serializers.FloatField(help_text="Share of customers whose held-out spend fell in the range.")


class ClvReasonSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField(help_text="What is missing, with the figures.")
    advice = serializers.CharField(help_text="What the client can do.")


class ClvPageSerializer(serializers.Serializer):
    analysis = serializers.IntegerField()
    eligible = serializers.BooleanField(help_text="False: no model was fitted; `reasons` say why.")
    reasons = ClvReasonSerializer(many=True)
    model = serializers.CharField(allow_null=True, help_text="The purchase model chosen on the holdout.")
    horizon_days = serializers.IntegerField(allow_null=True)
    discount_rate = serializers.FloatField(allow_null=True, help_text="Yearly discount rate.")
    periods = serializers.DictField(help_text="First order, fitting period end, holdout start and length, horizon.")
    accuracy = ClvAccuracySerializer(allow_null=True)
    totals = serializers.DictField(
        allow_null=True, help_text="Expected purchases, CLV and mean P(active), all customers."
    )
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = ClvCustomerSerializer(many=True)


# --- predict -----------------------------------------------------------------------------------------

_CUSTOMER_TABLE_RECORD = {
    "type": "object",
    "title": "Customer table record",
    "additionalProperties": True,
    "description": "An analysis of a customer table: field → value, with the columns the analysis was trained on "
    "(missing fields are imputed as in training; unknown fields are an error).",
    "example": {"total_spend": 812.5, "orders": 9, "region": "North", "signup_date": "2025-02-14"},
}
_ORDER_LOG_ORDERS_RECORD = {
    "type": "object",
    "title": "Order log: the customer's orders",
    "description": "An analysis of an order log: the customer's orders, read by the rules of an uploaded log "
    "(same-day orders are one purchase day, a refund is a negative amount, a zero amount is a purchase); none may "
    "be dated after the end of the analysis's log (the `reference_date` of the answer). Optionally the customer "
    "id field.",
    "properties": {
        "customer_id": {"type": "string"},
        "orders": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "properties": {
                    "date": {"type": "string", "format": "date", "example": "2024-05-01"},
                    "amount": {"type": "number", "example": 35.5},
                },
                "required": ["date", "amount"],
                "additionalProperties": False,
            },
        },
    },
    "required": ["orders"],
    "example": {"customer_id": "00042", "orders": [{"date": "2024-03-02", "amount": 35.5}]},
}
_ORDER_LOG_HISTORY_RECORD = {
    "type": "object",
    "title": "Order log: the customer's purchase history",
    "description": "An analysis of an order log: the aggregated fields of `clv_customers.csv` (days, as the "
    "models count them). Optionally the customer id field and `total_spend`.",
    "properties": {
        "customer_id": {"type": "string"},
        "frequency": {"type": "integer", "minimum": 0, "description": "Repeat purchase days (after the first)."},
        "recency": {"type": "number", "minimum": 0, "description": "Days from the first to the last purchase day."},
        "T": {"type": "number", "minimum": 0, "description": "Days from the first purchase to now."},
        "monetary": {
            "type": "number",
            "minimum": 0,
            "description": "Mean spend of the repeat purchase days; required when frequency > 0.",
        },
        "total_spend": {"type": "number", "minimum": 0, "description": "All net spend so far (optional)."},
    },
    "required": ["frequency", "recency", "T"],
    "additionalProperties": False,
    "example": {"customer_id": "00042", "frequency": 3, "recency": 210, "T": 400, "monetary": 31.9},
}
_RECORD_SCHEMA = {
    "description": "One customer. A customer table's analysis takes its columns; an order log's analysis takes "
    "either the customer's orders or their purchase history (frequency, recency, T, monetary), and anything else "
    "is a 400 naming the field and what to send.",
    "oneOf": [_CUSTOMER_TABLE_RECORD, _ORDER_LOG_ORDERS_RECORD, _ORDER_LOG_HISTORY_RECORD],
}


@extend_schema_field(_RECORD_SCHEMA)
class RecordField(serializers.Field):
    default_error_messages = {"not_object": "Expected an object of field → value."}

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            self.fail("not_object")
        return data

    def to_representation(self, value):
        return value


@extend_schema_field({"type": "array", "items": _RECORD_SCHEMA, "minItems": 1, "maxItems": MAX_PREDICT_RECORDS})
class RecordListField(serializers.Field):
    """A list of records, checked cheaply (a 10,000-record batch must not spend its time in validation)."""

    default_error_messages = {
        "not_list": "Expected a list of records.",
        "empty": "Send at least one record.",
        "too_many": f"At most {MAX_PREDICT_RECORDS:,} records per call; got {{count:,}}.",
        "not_object": "Record {index}: expected an object of field → value.",
    }

    def to_internal_value(self, data):
        if not isinstance(data, list):
            self.fail("not_list")
        if not data:
            self.fail("empty")
        if len(data) > MAX_PREDICT_RECORDS:
            self.fail("too_many", count=len(data))
        for index, record in enumerate(data, start=1):
            if not isinstance(record, dict):
                self.fail("not_object", index=index)
        return data

    def to_representation(self, value):
        return value


class PredictRequestSerializer(serializers.Serializer):
    record = RecordField(required=False, help_text="One customer to score.")
    records = RecordListField(required=False, help_text=f"Up to {MAX_PREDICT_RECORDS:,} customers to score.")

    def validate(self, attrs):
        if ("record" in attrs) == ("records" in attrs):
            raise serializers.ValidationError(
                {"non_field_errors": ["Send exactly one of “record” (an object) or “records” (a list)."]}
            )
        return attrs


class PredictionSerializer(serializers.Serializer):
    customer_id = serializers.CharField(
        allow_null=True, required=False, help_text="The record's id field, when the analysis has one and it was sent."
    )
    segment = serializers.IntegerField()
    segment_name = serializers.CharField()
    churn_risk = serializers.FloatField(
        min_value=0, max_value=1, allow_null=True, help_text="null when the analysis could not estimate churn."
    )
    predicted_ltv = serializers.FloatField(
        allow_null=True,
        help_text="null when the analysis has no LTV (no money column) and for an order log with a CLV (see `clv`).",
    )
    risk_level = serializers.CharField(
        required=False, help_text="The record's own churn risk against the analysis's average customer."
    )
    value_tier = serializers.CharField(required=False, help_text="The record's own value against the average.")
    engagement_level = serializers.CharField(
        required=False, help_text="The record's own engagement (only when the analysis has engagement columns)."
    )
    recommendations = RecommendationSerializer(
        many=True,
        help_text="Up to 3: the action chosen from the record's own figures first (applies_to “customer”), then "
        "its segment's that its own levels do not contradict.",
    )
    key_features = serializers.DictField(
        help_text="The key feature values the record gave (an imputed field is never listed as if observed)."
    )
    imputed_fields = serializers.ListField(
        child=serializers.CharField(),
        help_text="The model's fields the record did not give: scored as a typical training customer's value.",
    )
    unseen_values = serializers.DictField(
        help_text="{field: value} for categories the training data never had (scored as its most common level or "
        "“other”)."
    )
    p_active = serializers.FloatField(
        required=False,
        allow_null=True,
        help_text="Order-log analyses: probability that the customer is still active at the end of the log "
        "(null when the log had too little history for the models).",
    )
    expected_purchases = serializers.FloatField(
        required=False, allow_null=True, help_text="Order-log analyses: expected purchase days over the horizon."
    )
    clv = serializers.FloatField(
        required=False,
        allow_null=True,
        help_text="Order-log analyses: the lifetime value, expected spend over the horizon discounted to the end "
        "of the log (the analysis's one lifetime value: `predicted_ltv` is null there).",
    )
    clv_low = serializers.FloatField(
        required=False, allow_null=True, help_text="Order-log analyses: 10th percentile of the spend over the horizon."
    )
    clv_high = serializers.FloatField(
        required=False, allow_null=True, help_text="Order-log analyses: 90th percentile of the same."
    )
    history = serializers.DictField(
        required=False,
        help_text="Order-log analyses: the history scored (frequency, recency, T in days, monetary, total_spend), "
        "computed from `orders` when they were sent.",
    )
    lifetime_value = serializers.DictField(
        required=False,
        allow_null=True,
        help_text="Order-log analyses: the horizon (days), yearly discount rate and reference date (end of the log) "
        "of the CLV figures.",
    )


class PredictResponseSerializer(serializers.Serializer):
    analysis = serializers.IntegerField()
    count = serializers.IntegerField()
    prediction = PredictionSerializer(required=False, help_text="Present when the request sent “record”.")
    predictions = PredictionSerializer(
        many=True, required=False, help_text="Present when the request sent “records” (same order)."
    )


class MigrationCellSerializer(serializers.Serializer):
    from_segment = serializers.IntegerField()
    from_name = serializers.CharField()
    to_segment = serializers.IntegerField()
    to_name = serializers.CharField()
    customers = serializers.IntegerField()


class MigrationSerializer(serializers.Serializer):
    # "from" is a Python keyword: declared through the fields mapping
    to = serializers.IntegerField(help_text="This run.")
    matrix = MigrationCellSerializer(many=True)
    new_customers = serializers.IntegerField(help_text="Customers in this run only.")
    gone_customers = serializers.IntegerField(help_text="Customers in the other run only.")

    def get_fields(self):
        fields = super().get_fields()
        return {"from": serializers.IntegerField(help_text="The earlier run."), **fields}


def _frequencies():
    from monitoring.models import Frequency

    return Frequency.choices


FREQUENCIES = _frequencies()


class ScheduleRequestSerializer(StrictJsonTypes, serializers.Serializer):
    frequency = serializers.ChoiceField(choices=FREQUENCIES)
    enabled = serializers.BooleanField(default=True)


class ScheduleSerializer(serializers.Serializer):
    analysis = serializers.IntegerField(source="analysis_id")
    frequency = serializers.ChoiceField(choices=FREQUENCIES)
    enabled = serializers.BooleanField()
    last_run_at = serializers.DateTimeField(allow_null=True)
    last_analysis = serializers.IntegerField(source="last_analysis_id", allow_null=True)
    next_run_at = serializers.DateTimeField(allow_null=True, help_text="null: on the dataset's next version only.")
    last_error = serializers.CharField()
