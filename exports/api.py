"""`GET /api/v1/analyses/{id}/export/?format=…`: the API's downloads, through the same `export_request` as the
pages. `ExportActionMixin` adds the action to the analyses viewset."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.response import Response

from jobs.serializers import JobProgressSerializer, job_progress
from segments.filters import filter_parameters
from segments.serializers import SegmentListSerializer
from segsaas.api_errors import analysis_not_ready_response, error_responses

EXPORT_FORMATS = {
    "csv": ("text/csv", "Per-customer results (streamed).", OpenApiTypes.BINARY),
    "xlsx": (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "Excel workbook.",
        OpenApiTypes.BINARY,
    ),
    "json": (
        "application/json",
        "Segment profiles (the shape of `segments/`, plus descriptive fields).",
        SegmentListSerializer,
    ),
    "pdf": ("application/pdf", "PDF report.", OpenApiTypes.BINARY),
}


class ExportPendingSerializer(serializers.Serializer):
    export = serializers.IntegerField()
    format = serializers.CharField()
    status = serializers.CharField()
    progress = JobProgressSerializer(allow_null=True)
    message = serializers.CharField()


class ExportFormatNegotiation(DefaultContentNegotiation):
    """`?format=` names the export's file format here, not DRF's renderer: answers are JSON (or the file)."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class ExportActionMixin:
    """The `export` action of a viewset whose objects are analyses (`perms_by_action["export"]` guards it)."""

    @extend_schema(
        summary="Download an export",
        description="`format=csv` streams the per-customer results, `json` the segment profiles with the metrics, "
        "`xlsx` a workbook, `pdf` the report. The customer exports take `segment` (csv, xlsx); the CSV also takes the "
        "customer filter's ranges and id, as `customers/` does. A large workbook is built in the background: the "
        "answer is then `202` with the build's progress, and the same URL returns the file once it is built.",
        parameters=[
            OpenApiParameter("format", OpenApiTypes.STR, enum=[*EXPORT_FORMATS], required=True),
            *filter_parameters(sort=False),
        ],
        responses={
            **{
                (200, media): OpenApiResponse(schema, description=text)
                for media, text, schema in EXPORT_FORMATS.values()
            },
            202: ExportPendingSerializer,
            **error_responses(
                400,
                404,
                409,
                rules="a minimum is above its maximum, or a lifetime-value filter is asked of an analysis without "
                "lifetime value (`details` names the parameter).",
            ),
        },
    )
    @action(detail=True, methods=["get"], content_negotiation_class=ExportFormatNegotiation)
    def export(self, request, pk=None):
        from exports.services import export_request

        analysis = self.get_object()
        if not analysis.is_ready:
            return analysis_not_ready_response(analysis)
        outcome = export_request(
            analysis=analysis,
            format=request.query_params.get("format", ""),
            params=request.query_params,
            actor=request.user,
            api_key=getattr(request._request, "api_key", None),
        )
        if outcome.download is not None:
            return outcome.download.as_response()
        export = outcome.export
        return Response(
            {
                "export": export.pk,
                "format": export.format,
                "status": export.status,
                "progress": job_progress(export.job),
                "message": "The file is being built. Request the same URL again (after Retry-After seconds) to "
                "download it.",
            },
            status=status.HTTP_202_ACCEPTED,
            headers={"Retry-After": "3"},
        )
