"""`/api/v1/datasets/`: upload, generate, read the profile, confirm column roles, delete.

Thin views over `datasets.services` (the same validation and import the upload page and the
`import_dataset` command run). Every object is reached through `TenantScopedViewSet`: another
organization's id is a 404.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from accounts.api import TenantScopedViewSet
from accounts.permissions import Perm
from datasets.models import Dataset, DatasetStatus
from datasets.serializers import (
    DatasetDetailSerializer,
    DatasetRolesSerializer,
    DatasetSerializer,
    DatasetUploadSerializer,
    DatasetVersionSerializer,
    DatasetVersionUploadSerializer,
    SyntheticDatasetSerializer,
)
from segsaas.api_errors import BodySizeLimitMixin, RequestTooLarge, error_response, error_responses


@extend_schema(tags=["datasets"])
class DatasetViewSet(BodySizeLimitMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantScopedViewSet):
    """Your organization's customer tables: uploads and synthetic sets, their profiles and column roles."""

    model = Dataset
    serializer_class = DatasetSerializer
    filter_backends = []
    parser_classes = [JSONParser, MultiPartParser, FormParser]
    # The upload's size is bounded by the organization's upload limit (checked by the service), not by
    # DATA_UPLOAD_MAX_MEMORY_SIZE, which is meant for form and JSON bodies.
    body_size_exempt_actions = ("create", "add_version")
    required_perm = Perm.VIEW  # methods without an action (PUT) then answer 405, not 403
    perms_by_action = {
        "list": Perm.VIEW,
        "retrieve": Perm.VIEW,
        "create": Perm.MANAGE_DATASETS,
        "synthetic": Perm.MANAGE_DATASETS,
        "versions": Perm.VIEW,
        "add_version": Perm.MANAGE_DATASETS,
        "partial_update": Perm.MANAGE_DATASETS,
        "destroy": Perm.MANAGE_DATASETS,
    }

    # Room for the multipart envelope (boundaries, the name field) around the file itself.
    MULTIPART_OVERHEAD = 64 * 1024

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if self.action in ("create", "add_version"):  # refuse an upload over the plan's limit before reading it
            limit = request._request.organization.max_upload_bytes
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            if length > limit + self.MULTIPART_OVERHEAD:
                raise RequestTooLarge(
                    f"The upload is {length:,} bytes; your organization's limit is {limit:,} bytes per file."
                )

    def get_parsers(self):
        # Uploads are multipart forms; every other body (roles, synthetic settings) is a JSON object, whose nulls and
        # nested objects a form cannot carry: the schema then lists JSON only for them, and a form is a 415.
        action = getattr(self, "action", None)
        request = getattr(self, "request", None)
        if action is None and request is not None and getattr(self, "action_map", None):
            action = self.action_map.get(request.method.lower())
        if action in ("create", "add_version"):
            return super().get_parsers()
        return [JSONParser()]

    def scope_queryset(self, queryset):
        queryset = queryset.select_related("job").defer("job__params", "job__result")
        if self.action == "list":  # the list shows no profile: do not read (and decode) the large JSON columns
            queryset = queryset.defer("profile", "schema", "roles", "behaviour_roles", "synthetic_params")
        return queryset

    def get_serializer_class(self):
        return DatasetDetailSerializer if self.action == "retrieve" else DatasetSerializer

    def _created(self, dataset: Dataset) -> Response:
        dataset = self.get_queryset().get(pk=dataset.pk)
        body = DatasetDetailSerializer(dataset, context=self.get_serializer_context()).data
        return Response(body, status=status.HTTP_201_CREATED, headers={"Location": f"/api/v1/datasets/{dataset.pk}/"})

    @extend_schema(summary="List datasets", responses={200: DatasetSerializer(many=True), **error_responses(400, 404)})
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(
        summary="A dataset: schema, profile and column roles",
        responses={200: DatasetDetailSerializer, **error_responses(404)},
    )
    def retrieve(self, request, *args, **kwargs):
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(
        summary="Upload a customer table",
        description="Multipart form with `file` (CSV, CSV.gz or XLSX) and an optional `name`. The file is validated "
        "as it is read; a rejected file leaves nothing behind and the `400` names the row, column or limit. "
        "Small files are profiled before the answer (`status: ready`); large ones are imported in the "
        "background (`status: processing`, see `progress`): poll the dataset.",
        request={"multipart/form-data": DatasetUploadSerializer},
        responses={
            201: DatasetDetailSerializer,
            **error_responses(
                400,
                413,
                rules="the file is not a table SegSaaS reads (its type, encoding or layout), or is over your "
                "organization's limits (rows, columns, bytes): `details.file` names the row, column or limit.",
            ),
        },
    )
    def create(self, request, *args, **kwargs):
        from datasets.services import dataset_create_from_upload

        form = DatasetUploadSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        upload = form.validated_data["file"]
        dataset = dataset_create_from_upload(
            organization=request._request.organization,
            uploaded_by=request.user,
            file=upload,
            name=form.validated_data.get("name") or None,
            filename=upload.name,
        )
        return self._created(dataset)

    @extend_schema(
        summary="Generate a synthetic dataset",
        description="Realistic synthetic customers from the engine's generator (with a churn label). Up to 50,000 rows "
        "are made before the answer; larger ones in the background (`status: processing`).",
        request=SyntheticDatasetSerializer,
        responses={
            201: DatasetDetailSerializer,
            **error_responses(400, rules="`rows` is above your organization's row limit (the message names it)."),
        },
    )
    @action(detail=False, methods=["post"])
    def synthetic(self, request):
        from datasets.services import dataset_create_synthetic

        form = SyntheticDatasetSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        dataset = dataset_create_synthetic(
            organization=request._request.organization,
            created_by=request.user,
            rows=data["rows"],
            seed=data["seed"],
            name=data.get("name") or None,
        )
        return self._created(dataset)

    @extend_schema(
        summary="Confirm or change column roles, or what the table is",
        description="Change the role of some columns, the behavioural columns (recency, frequency, tenure) and the "
        "engagement columns with their direction (engagement_cols). "
        "New analyses of the dataset use these roles by default. `kind` and `order_columns` confirm whether the "
        "table is an order log (one row per order) and which columns hold the customer id, date and amount; the "
        "answer's `order_log` says whether it has enough history for lifetime-value models.",
        request=DatasetRolesSerializer,
        responses={
            200: DatasetDetailSerializer,
            **error_responses(
                400,
                404,
                409,
                rules="a column named is not in the dataset or does not fit the role given it, or the order-log "
                "columns do not make an order log (`details` names the field).",
            ),
        },
    )
    def partial_update(self, request, pk=None):
        from datasets.services import dataset_set_kind, dataset_update_roles
        from segments.engine.config import BEHAVIOUR_KEYS, BEHAVIOUR_SETTING_KEYS

        dataset = self.get_object()
        form = DatasetRolesSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        if dataset.status != DatasetStatus.READY:
            return error_response(
                "dataset_not_ready",
                f"Dataset {dataset.pk} is {dataset.status}; roles can be set once it is ready.",
                {"status": dataset.status},
                http_status=status.HTTP_409_CONFLICT,
            )
        data = form.validated_data
        if "kind" in data or "order_columns" in data:
            dataset = dataset_set_kind(
                dataset=dataset,
                kind=data.get("kind", "transactions" if "order_columns" in data else dataset.kind),
                order_columns=data.get("order_columns"),
                actor=request.user,
            )
        behaviour = None
        if any(key in data for key in BEHAVIOUR_SETTING_KEYS):
            stored = dataset.behaviour_roles or {}
            behaviour = {
                **{k: stored.get(k) for k in BEHAVIOUR_KEYS},
                **{k: data[k] for k in BEHAVIOUR_SETTING_KEYS if k in data},
            }
        if "roles" in data or behaviour is not None or "engagement_cols" in data:
            dataset = dataset_update_roles(
                dataset=dataset,
                roles=data.get("roles") or {},
                behaviour_roles=behaviour,
                engagement=(data.get("engagement_cols") or {}) if "engagement_cols" in data else None,
                actor=request.user,
            )
        return Response(DatasetDetailSerializer(dataset, context=self.get_serializer_context()).data)

    @extend_schema(
        summary="The dataset's versions",
        description="Every version of the table, newest first, with its row count, columns and the schema changes "
        "against the version before it.",
        responses={200: DatasetVersionSerializer(many=True), **error_responses(404)},
    )
    @action(detail=True, methods=["get"], url_path="versions", pagination_class=None)
    def versions(self, request, pk=None):
        from datasets.versions import version_latest

        dataset = self.get_object()
        version_latest(dataset)  # a dataset made before versions existed gets its version 1
        rows = dataset.versions.all()
        return Response(DatasetVersionSerializer(rows, many=True).data)

    @extend_schema(
        summary="Add a new version of the table",
        description="Multipart form with `file` (the same validation as an upload) and an optional `column_map` "
        "({current column: column in the new file}) for renamed columns. The columns are compared with the latest "
        "version: a column the analyses use that is gone, or retyped so it no longer fits its role, is refused "
        "(`400` naming it); added columns take their detected roles; confirmed roles carry over. New analyses and "
        "re-runs read the new version.",
        request={"multipart/form-data": DatasetVersionUploadSerializer},
        responses={
            201: DatasetVersionSerializer,
            **error_responses(
                400,
                404,
                413,
                rules="the file is refused as an upload is, or a column the analyses use is gone or retyped "
                "(`details` names it).",
            ),
        },
    )
    @versions.mapping.post
    def add_version(self, request, pk=None):
        from datasets.services import dataset_add_version

        dataset = self.get_object()
        form = DatasetVersionUploadSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        upload = form.validated_data["file"]
        version = dataset_add_version(
            dataset=dataset,
            file=upload,
            filename=upload.name,
            uploaded_by=request.user,
            column_map=form.validated_data.get("column_map") or {},
        )
        return Response(
            DatasetVersionSerializer(version).data,
            status=status.HTTP_201_CREATED,
            headers={"Location": f"/api/v1/datasets/{dataset.pk}/versions/"},
        )

    @extend_schema(
        summary="Delete a dataset",
        description="Removes the dataset, its files and everything derived from it (analyses, results, exports).",
        responses={204: OpenApiResponse(description="Deleted."), **error_responses(404)},
    )
    def destroy(self, request, pk=None):
        from datasets.services import dataset_delete

        dataset_delete(dataset=self.get_object(), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


def register(router) -> None:
    router.register("datasets", DatasetViewSet, basename="dataset")
