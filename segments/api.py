"""`/api/v1/analyses/`: runs, their segment profiles, per-customer results, scoring and exports.

Thin views over `segments.services` (create, cancel, delete), the `CustomerResult` table (filtered
keyset pages) and the engine's `predict_segment` with the model cached per process
(`segments.predict_cache`). Every object is reached through `TenantScopedViewSet`: another
organization's id is a 404.
"""

from __future__ import annotations

import logging

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.pagination import CursorPagination
from rest_framework.parsers import JSONParser
from rest_framework.response import Response

from accounts.api import TenantScopedViewSet
from accounts.permissions import Perm
from exports.api import ExportActionMixin
from segments.filters import CustomerFilterSet, filter_parameters
from segments.models import Analysis
from segments.serializers import (
    AnalysisCreateSerializer,
    AnalysisDetailSerializer,
    AnalysisSerializer,
    CancelResponseSerializer,
    ClvPageSerializer,
    CustomerResultSerializer,
    MigrationSerializer,
    PredictRequestSerializer,
    PredictResponseSerializer,
    ScheduleRequestSerializer,
    ScheduleSerializer,
    SegmentListSerializer,
    progress_of,
)
from segsaas.api_errors import BodySizeLimitMixin, analysis_not_ready_response, error_response, error_responses
from segsaas.api_params import MAX_ID, StrictPageSizeMixin, query_int

log = logging.getLogger(__name__)

# Batches up to this size are scored on one thread: the thread pools' start-up costs more than they save.
SINGLE_THREAD_MAX_RECORDS = 2_000
CUSTOMER_FIELDS = (
    "row_index",
    "customer_id",
    "segment",
    "churn_risk",
    "predicted_ltv",
    "value_tier",
    "risk_level",
    "engagement_level",
    "lifecycle_stage",
    "recommendation",
    "recommendation_reason",
)
# Lifetime value: in customers/ of analyses with CLV (order logs) only.
CLV_VALUE_FIELDS = ("p_active", "expected_purchases", "clv", "clv_low", "clv_high")
CLV_FIELDS = (
    "row_index",
    "customer_id",
    "segment",
    "p_active",
    "expected_purchases",
    "clv",
    "clv_low",
    "clv_high",
)


class CustomerPagination(StrictPageSizeMixin, CursorPagination):
    """Keyset pages in dataset order: constant time at any depth of a million-customer table."""

    ordering = ("row_index",)
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1_000


@extend_schema(tags=["analyses"])
class AnalysisViewSet(
    BodySizeLimitMixin,
    ExportActionMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    TenantScopedViewSet,
):
    """Segmentation runs of your datasets, their segment profiles, per-customer results, scoring and exports."""

    model = Analysis
    serializer_class = AnalysisSerializer
    filter_backends = []
    parser_classes = [JSONParser]  # bodies are JSON objects (records, roles, settings): no form encodings
    required_perm = Perm.VIEW  # methods without an action (PUT) then answer 405, not 403
    perms_by_action = {
        "list": Perm.VIEW,
        "retrieve": Perm.VIEW,
        "segments": Perm.VIEW,
        "customers": Perm.VIEW,
        "clv": Perm.VIEW,
        "create": Perm.RUN_ANALYSES,
        "cancel": Perm.RUN_ANALYSES,
        "rerun": Perm.RUN_ANALYSES,
        "schedule": Perm.VIEW,
        "schedule_update": Perm.RUN_ANALYSES,
        "schedule_delete": Perm.RUN_ANALYSES,
        "migration": Perm.VIEW,
        "destroy": Perm.RUN_ANALYSES,
        "predict": Perm.PREDICT,
        "export": Perm.EXPORT,
    }

    # Per action, the columns a request does not need (large JSON: metrics, the pages' summary, profiles):
    # predict and customer pages run at hundreds per second, so they read only what they use.
    deferred_by_action = {
        "predict": ("metrics", "summary", "profiles", "config", "charts_file", "customers_file"),
        "customers": ("metrics", "summary", "config"),
        "clv": ("summary", "config"),
        "segments": ("metrics", "summary", "config"),
        "export": ("summary",),
        "cancel": ("metrics", "summary", "profiles"),
        "list": ("metrics", "summary", "profiles"),
    }

    def scope_queryset(self, queryset):
        action_name = getattr(self, "action", None)
        if action_name == "predict":  # the hot path: only what scoring needs (status and the model's file)
            return queryset.select_related("job").only("id", "organization_id", "model_file", "job__status")
        queryset = queryset.defer(*self.deferred_by_action.get(action_name, ()))
        if action_name in ("list", "retrieve", "create", "rerun"):
            queryset = queryset.select_related("job", "dataset", "dataset_version").defer(
                "dataset_version__profile",
                "dataset_version__schema",
                "dataset__profile",
                "dataset__schema",
                "dataset__roles",
                "dataset__behaviour_roles",
                "dataset__synthetic_params",
            )
        else:
            queryset = queryset.select_related("job")
        queryset = queryset.defer("job__params", "job__result")
        if action_name == "list":
            dataset = query_int(self.request.query_params, "dataset", minimum=1, maximum=MAX_ID)
            if dataset is not None:
                queryset = queryset.filter(dataset_id=dataset)
        return queryset

    def get_serializer_class(self):
        if self.action == "retrieve":
            return AnalysisDetailSerializer
        return AnalysisSerializer

    def _organization(self):
        return self.request._request.organization

    # --- runs --------------------------------------------------------------------------------------

    @extend_schema(
        summary="List analyses",
        parameters=[
            OpenApiParameter(
                "dataset",
                {"type": "integer", "minimum": 1, "maximum": MAX_ID},
                description="Only analyses of this dataset.",
            )
        ],
        responses={200: AnalysisSerializer(many=True), **error_responses(400, 404)},
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(
        summary="An analysis: status, progress, metrics and model scores",
        responses={200: AnalysisDetailSerializer, **error_responses(404)},
    )
    def retrieve(self, request, *args, **kwargs):
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(
        summary="Start an analysis",
        description="Queues a run on a ready dataset and answers at once with `202` and the analysis; poll "
        "`GET /api/v1/analyses/{id}/` until `status` is `succeeded` (or `failed`/`cancelled`).",
        request=AnalysisCreateSerializer,
        responses={
            202: AnalysisDetailSerializer,
            **error_responses(
                400,
                404,
                rules="the settings do not fit the dataset: a column named is not in it or does not fit its role, a "
                "setting of order logs for a customer table, or a version the dataset does not have (`details` "
                "names the field).",
            ),
        },
        examples=[
            OpenApiExample(
                "Automatic number of segments",
                value={"dataset": 1, "algorithm": "kmeans", "n_clusters": None, "nlp": True},
                request_only=True,
            )
        ],
    )
    def create(self, request, *args, **kwargs):
        from datasets.models import Dataset
        from segments.engine.config import BEHAVIOUR_SETTING_KEYS
        from segments.services import DEFAULT_SETTINGS, analysis_create
        from segments.services.analyses import CLV_SETTING_KEYS

        form = AnalysisCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        organization = self._organization()
        dataset = Dataset.objects.for_organization(organization).filter(pk=data["dataset"]).first()
        if dataset is None:  # like any id of another organization's (or of nothing): 404, naming the field
            message = f"No dataset {data['dataset']} in your organization."
            return error_response("not_found", message, {"dataset": [message]}, http_status=status.HTTP_404_NOT_FOUND)
        analysis = analysis_create(
            organization=organization,
            dataset=dataset,
            roles=data.get("roles"),
            behaviour={key: data[key] for key in BEHAVIOUR_SETTING_KEYS if key in data},
            settings={key: data[key] for key in (*DEFAULT_SETTINGS, *CLV_SETTING_KEYS) if key in data},
            name=data.get("name", ""),
            created_by=request.user,
            color_scheme=data["color_scheme"],
            version=data.get("version"),
        )
        return self._accepted(analysis)

    def _accepted(self, analysis):
        analysis = self.get_queryset().get(pk=analysis.pk)
        body = AnalysisDetailSerializer(analysis, context=self.get_serializer_context()).data
        return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": body["links"]["self"]})

    @extend_schema(
        summary="Who moved where since another run",
        description="Customers of this run and of an earlier run of the same dataset (any version), matched by "
        "customer id: counts by (segment before, segment after), plus customers only in this run (`new_customers`) "
        "or only in the other (`gone_customers`).",
        parameters=[
            OpenApiParameter(
                "from",
                {"type": "integer", "minimum": 1, "maximum": MAX_ID},
                required=True,
                description="The other run's id.",
            )
        ],
        responses={
            200: MigrationSerializer,
            **error_responses(
                400,
                404,
                rules="the other run is this run, is of another dataset, has no results yet, or either run has no "
                "customer id column.",
            ),
        },
    )
    @action(detail=True, methods=["get"])
    def migration(self, request, pk=None):
        from segments.services.timeline import MigrationError, migration

        analysis = self.get_object()
        other = query_int(request.query_params, "from", minimum=1, maximum=MAX_ID)
        if other is None:
            raise MigrationError("Give the other run's id: ?from=<analysis id>.", field="from")
        before = self.get_queryset().filter(pk=other).first()
        if before is None:  # like any id of another organization's (or of nothing): 404, naming the parameter
            message = f"No analysis {other} in your organization."
            return error_response("not_found", message, {"from": [message]}, http_status=status.HTTP_404_NOT_FOUND)
        return Response(migration(after=analysis, before=before).as_api())

    @extend_schema(
        summary="The analysis's re-run schedule",
        description="How often the analysis is re-run on its dataset's latest version (daily, weekly, monthly, or "
        "on every new version), when it last ran (and which run that started) and when it runs next.",
        responses={200: ScheduleSerializer, **error_responses(404)},
    )
    @action(detail=True, methods=["get"])
    def schedule(self, request, pk=None):
        from monitoring.models import AnalysisSchedule

        analysis = self.get_object()
        found = AnalysisSchedule.objects.for_organization(self._organization()).filter(analysis=analysis).first()
        if found is None:
            return error_response(
                "not_scheduled", f"Analysis {analysis.pk} has no schedule.", {}, http_status=status.HTTP_404_NOT_FOUND
            )
        return Response(ScheduleSerializer(found).data)

    @extend_schema(
        summary="Set the re-run schedule",
        request=ScheduleRequestSerializer,
        responses={200: ScheduleSerializer, **error_responses(400, 404)},
    )
    @schedule.mapping.put
    def schedule_update(self, request, pk=None):
        from monitoring.services import schedule_save

        analysis = self.get_object()
        form = ScheduleRequestSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        saved = schedule_save(
            analysis=analysis,
            frequency=form.validated_data["frequency"],
            enabled=form.validated_data["enabled"],
            actor=request.user,
        )
        return Response(ScheduleSerializer(saved).data)

    @extend_schema(
        summary="Remove the re-run schedule",
        responses={204: OpenApiResponse(description="Removed."), **error_responses(404)},
    )
    @schedule.mapping.delete
    def schedule_delete(self, request, pk=None):
        from monitoring.models import AnalysisSchedule
        from monitoring.services import schedule_delete

        analysis = self.get_object()
        found = AnalysisSchedule.objects.for_organization(self._organization()).filter(analysis=analysis).first()
        if found is not None:
            schedule_delete(schedule=found, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Re-run on the latest version",
        description="Starts a new analysis with the same configuration on the dataset's latest version and answers "
        "`202` with it. Its segments are matched to this run's, so groups that stay keep their numbers and names.",
        request=None,
        responses={
            202: AnalysisDetailSerializer,
            **error_responses(
                400, 404, rules="this run's settings no longer fit the dataset's latest version (a column gone)."
            ),
        },
    )
    @action(detail=True, methods=["post"])
    def rerun(self, request, pk=None):
        from segments.services import analysis_rerun

        analysis = analysis_rerun(analysis=self.get_object(), created_by=request.user)
        return self._accepted(analysis)

    @extend_schema(
        summary="Cancel a queued or running analysis",
        request=None,
        responses={202: CancelResponseSerializer, **error_responses(404, 409)},
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        from segments.services import analysis_cancel

        analysis = self.get_object()
        if analysis.job is None or not analysis.job.is_active:
            return error_response(
                "not_running",
                f"Analysis {analysis.pk} is not queued or running (status: {analysis.status}).",
                {"status": analysis.status},
                http_status=status.HTTP_409_CONFLICT,
            )
        analysis = analysis_cancel(analysis=analysis, actor=request.user)
        return Response({"id": analysis.pk, "progress": progress_of(analysis)}, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        summary="Delete an analysis and its results",
        description="Stops the run if it is still going and removes its model, per-customer results and exports.",
        responses={204: OpenApiResponse(description="Deleted."), **error_responses(404)},
    )
    def destroy(self, request, pk=None):
        from segments.services import analysis_delete

        analysis_delete(analysis=self.get_object(), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    # --- results -----------------------------------------------------------------------------------

    @extend_schema(
        summary="Segment profiles",
        description="One profile per segment: name, size and share, value tier, risk and engagement levels, average "
        "LTV and churn risk, revenue, statistics per feature, distinguishing features and recommendations.",
        responses={200: SegmentListSerializer, **error_responses(404, 409)},
    )
    @action(detail=True, methods=["get"])
    def segments(self, request, pk=None):
        analysis = self.get_object()
        if not analysis.is_ready:
            return analysis_not_ready_response(analysis)
        return Response({"analysis": analysis.pk, "count": len(analysis.profiles), "results": analysis.profiles})

    @extend_schema(
        summary="Per-customer results",
        description="Customers, 100 per page by default (`page_size` up to 1,000), as keyset pages: follow `next`. "
        "Filter by segment, by churn-risk and predicted-LTV ranges (inclusive) and by customer id; `sort` by churn "
        "risk, LTV, segment or customer id (`-` for the highest first; default: the table's order). Analyses of an "
        "order log with lifetime value add `p_active`, `expected_purchases`, `clv`, `clv_low` and `clv_high` to "
        "each customer in place of `predicted_ltv` (the CLV is their one lifetime value; `ltv_min`/`ltv_max` and "
        "`sort=ltv` are refused there, naming the CLV parameter to use) and take the CLV and probability-active "
        "filters and sorts `clv`, `p_active`, `expected_purchases` (see `clv/`).",
        parameters=filter_parameters(),
        responses={
            200: CustomerResultSerializer(many=True),
            **error_responses(
                400,
                404,
                409,
                rules="a minimum is above its maximum, or a lifetime-value filter or sort is asked of an analysis "
                "without lifetime value (`details` names the parameter).",
            ),
        },
    )
    @action(detail=True, methods=["get"], pagination_class=CustomerPagination)
    def customers(self, request, pk=None):
        from segments.advice import advice_in_currency

        analysis = self.get_object()
        if not analysis.is_ready:
            return analysis_not_ready_response(analysis)
        # an order log's lifetime value is its CLV (with range): no predicted LTV beside it
        fields = (
            tuple(f for f in CUSTOMER_FIELDS if f != "predicted_ltv") + CLV_VALUE_FIELDS
            if analysis.has_clv
            else CUSTOMER_FIELDS
        )
        page = self._customer_page(request, analysis, fields)
        for row in page:
            row["recommendation_reason"] = advice_in_currency(row["recommendation_reason"])  # today's currency
        return self.get_paginated_response(page)

    def _customer_page(self, request, analysis, fields, *, none: bool = False) -> list[dict]:
        """One keyset page of the analysis's customers as the query asks (the one customer filter; `sort`, then the
        table's order), each with its segment's name. `none`: the query is checked but no customer is listed."""
        from segments.selectors import customer_results

        filterset = CustomerFilterSet(request.query_params, blank_is_error=True)
        values = filterset.check_for(analysis)
        sort = [filterset.filters["sort"].get_ordering_value(p) for p in values.get("sort") or []]
        rows = customer_results(analysis=analysis, **values)
        # Keyset pages in the order asked for (the first field places the cursor; the table's order breaks ties).
        self.paginator.ordering = (*sort, "row_index") if sort and sort[-1] != "row_index" else (sort or ["row_index"])
        page = self.paginate_queryset((rows.none() if none else rows).values(*fields))
        names = {p.get("segment"): p.get("name", "") for p in analysis.profiles}
        for row in page:
            row["segment_name"] = names.get(row["segment"]) or f"Segment {row['segment']}"
        return page

    @extend_schema(
        summary="Lifetime value per customer (order logs)",
        description="For an analysis of an order log: whether lifetime-value models could be fitted (`eligible`; "
        "if not, `reasons` say what is missing and what to do), the chosen model, the holdout accuracy in plain "
        "words and figures, and per customer the probability of being active, the expected purchases and the CLV "
        "over the horizon with its 80 % range (`clv_low`, `clv_high`: 10th and 90th percentiles of the customer's "
        "discounted spend, parameter uncertainty included). Keyset pages of 100 (`page_size` up to 1,000; follow "
        "`next`), filtered by CLV and probability-active ranges (inclusive), segment and customer id; `sort` as "
        "for customers/, plus `clv` and `p_active` (`-clv`: the most valuable first). An analysis of a customer "
        "table answers `409`.",
        parameters=filter_parameters(),
        responses={
            200: ClvPageSerializer,
            **error_responses(
                400,
                404,
                409,
                rules="a minimum is above its maximum, or a lifetime-value filter or sort is asked of an analysis "
                "without lifetime value (`details` names the parameter).",
            ),
        },
    )
    @action(detail=True, methods=["get"], pagination_class=CustomerPagination)
    def clv(self, request, pk=None):
        from segments.services.lifetime import accuracy_words

        analysis = self.get_object()
        if not analysis.dataset.is_order_log:
            return error_response(
                "not_an_order_log",
                f"Analysis {analysis.pk} is of a customer table, not an order log: it has no lifetime value. Upload "
                "an order log (customer id, date, amount per order) to get one.",
                {"dataset": analysis.dataset_id},
                http_status=status.HTTP_409_CONFLICT,
            )
        if not analysis.is_ready:
            return analysis_not_ready_response(analysis)
        clv = analysis.clv
        page = self._customer_page(request, analysis, CLV_FIELDS, none=not analysis.has_clv)
        response = self.get_paginated_response(page)
        holdout = clv.get("holdout") or {}
        chosen = (holdout.get("models") or {}).get(holdout.get("chosen") or "") or {}
        head = {
            "analysis": analysis.pk,
            "eligible": bool(clv.get("eligible")),
            "reasons": clv.get("reasons") or [],
            "model": (clv.get("model") or {}).get("label"),
            "horizon_days": (clv.get("periods") or {}).get("horizon_days"),
            "discount_rate": clv.get("discount_rate"),
            "periods": clv.get("periods") or {},
            "accuracy": {
                "words": accuracy_words(clv),
                "holdout_weeks": chosen.get("holdout_weeks"),
                "purchases_expected": chosen.get("purchases_expected"),
                "purchases_actual": chosen.get("purchases_actual"),
                "spend_expected": chosen.get("spend_expected"),
                "spend_actual": chosen.get("spend_actual"),
                "mae": chosen.get("mae"),
                "range_coverage": (chosen.get("ranges") or {}).get("coverage"),
            }
            if chosen
            else None,
            "totals": clv.get("totals"),
        }
        response.data = {**head, **response.data}
        return response

    # --- scoring -----------------------------------------------------------------------------------

    @extend_schema(
        summary="Score new customers",
        description="Send `record` (one customer) or `records` (up to 10,000). Each gets its segment id and name, "
        "churn risk, predicted LTV, top recommendations and the key feature values used. Fields are the "
        "dataset's columns; a missing field is imputed as in training and listed in `imputed_fields`, a category "
        "never seen in training in `unseen_values`. An unknown or wrongly typed field is a `400` naming it, and so "
        "is a record that cannot describe a customer: no usable field, a negative count or amount where the "
        "training data had none, a date after the analysis' reference date, a recency longer than the tenure.\n\n"
        "**Order-log analyses** score a customer from what an order log says about them: either `orders` (a list "
        "of `{date, amount}`, read by the rules of an uploaded log) or the purchase history `frequency` (repeat "
        "purchase days), `recency` (days from the first to the last purchase day), `T` (days from the first "
        "purchase to now) and `monetary` (mean spend of the repeat purchase days, needed when frequency > 0), "
        "optionally with `customer_id` and `total_spend`. Each answer adds `p_active`, `expected_purchases`, "
        "`clv`, `clv_low` and `clv_high` (the 80 % range) over the analysis's horizon, and the `history` scored; "
        "`predicted_ltv` is null there (the CLV is the lifetime value). A customer-table field, both shapes at "
        "once, or an impossible history (recency longer than T, an order after the end of the log) is a `400` "
        "naming the field and what to send.",
        request=PredictRequestSerializer,
        responses={
            200: PredictResponseSerializer,
            **error_responses(
                400,
                404,
                409,
                413,
                rules="a record's values do not fit the columns the analysis was fitted on (a number that is not a "
                "number, a date that is not a date; `details` names the record and column).",
            ),
        },
        examples=[
            OpenApiExample(
                "One customer",
                request_only=True,
                value={
                    "record": {
                        "customer_id": "NEW-1",
                        "total_spend": 420.5,
                        "orders": 6,
                        "region": "North",
                        "signup_date": "2025-03-01",
                    }
                },
            ),
            OpenApiExample(
                "Order log: a customer's orders",
                request_only=True,
                value={
                    "record": {
                        "customer_id": "00042",
                        "orders": [
                            {"date": "2024-01-15", "amount": 42.0},
                            {"date": "2024-03-02", "amount": 35.5},
                            {"date": "2024-03-09", "amount": -10.0},
                        ],
                    }
                },
            ),
            OpenApiExample(
                "Order log: a purchase history",
                request_only=True,
                value={"record": {"customer_id": "00042", "frequency": 3, "recency": 210, "T": 400, "monetary": 31.9}},
            ),
            OpenApiExample(
                "A batch",
                request_only=True,
                value={
                    "records": [
                        {"customer_id": "NEW-1", "total_spend": 420.5, "orders": 6, "region": "North"},
                        {"customer_id": "NEW-2", "total_spend": 88.0, "orders": 1, "region": "South"},
                    ]
                },
            ),
        ],
    )
    @action(detail=True, methods=["post"])
    def predict(self, request, pk=None):
        from segments.engine import EngineError, predict_segment
        from segments.predict_cache import model_cache

        analysis = self.get_object()
        form = PredictRequestSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        if analysis.status != "succeeded" or not analysis.model_file:
            return analysis_not_ready_response(analysis)
        single = "record" in form.validated_data
        field = "record" if single else "records"
        records = [form.validated_data["record"]] if single else form.validated_data["records"]
        try:
            model = model_cache.get(analysis)
            with _thread_limit(len(records)):
                results = predict_segment(model, records)
        except EngineError as exc:  # every refused record and field, each message naming both and the value
            raise serializers.ValidationError({field: [m for ms in exc.details.values() for m in ms]}) from exc
        except (ValueError, TypeError) as exc:  # values the preprocessing could not read
            log.info("predict on analysis %s rejected: %s", analysis.pk, exc)
            raise serializers.ValidationError({field: [f"Could not score the {field}: {exc}"]}) from exc
        id_col = getattr(model, "id_col", None)
        for record, result in zip(records, results, strict=True):
            value = record.get(id_col) if id_col else None
            result["customer_id"] = None if value is None else str(value)
        body = {"analysis": analysis.pk, "count": len(results)}
        body["prediction" if single else "predictions"] = results[0] if single else results
        return Response(body)


_controller = None


def _thread_limit(n_records: int):
    """One BLAS/OpenMP thread for small batches: with several web workers per core, thread pools only add latency."""
    import contextlib

    global _controller
    if n_records > SINGLE_THREAD_MAX_RECORDS:
        return contextlib.nullcontext()
    if _controller is None:  # inspecting the loaded libraries takes milliseconds: once per process
        from threadpoolctl import ThreadpoolController

        _controller = ThreadpoolController()
    return _controller.limit(limits=1)


def register(router) -> None:
    router.register("analyses", AnalysisViewSet, basename="analysis")
