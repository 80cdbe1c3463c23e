"""`GET/PATCH /api/v1/organization/`: the organization of the caller (the API key's, or the signed-in person's active
one): its name, currency, the report's colours and logo, plan limits. Reading needs `view`; changing needs
`manage_organization` (owners, signed in: no API key scope grants it). Changes go through
`accounts.services.organization_update`, like the settings page: bad values come back in the one error format with
the field at fault."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api_auth import HasOrgPermission
from accounts.permissions import Perm
from segsaas.api_errors import BodySizeLimitMixin, error_responses


class PlanLimitsSerializer(serializers.Serializer):
    max_upload_bytes = serializers.IntegerField()
    max_rows = serializers.IntegerField()
    max_columns = serializers.IntegerField()
    max_concurrent_jobs = serializers.IntegerField()


class OrganizationSerializer(serializers.Serializer):
    name = serializers.CharField()
    slug = serializers.CharField()
    currency = serializers.CharField(help_text="ISO 4217 code every money figure is in.")
    report_primary_colour = serializers.CharField()
    report_accent_colour = serializers.CharField()
    has_logo = serializers.BooleanField()
    plan_limits = PlanLimitsSerializer()
    deletion_scheduled_for = serializers.DateTimeField(allow_null=True)


class OrganizationUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(required=False, max_length=400)
    currency = serializers.CharField(required=False, max_length=10)
    report_primary_colour = serializers.CharField(required=False, max_length=20)
    report_accent_colour = serializers.CharField(required=False, max_length=20)
    logo = serializers.FileField(required=False, help_text="PNG or JPEG (multipart/form-data).")
    remove_logo = serializers.BooleanField(required=False, default=False)


def organization_document(org) -> dict:
    return {
        "name": org.name,
        "slug": org.slug,
        "currency": org.currency,
        "report_primary_colour": org.report_primary_colour,
        "report_accent_colour": org.report_accent_colour,
        "has_logo": bool(org.report_logo),
        "plan_limits": {
            "max_upload_bytes": org.max_upload_bytes,
            "max_rows": org.max_rows,
            "max_columns": org.max_columns,
            "max_concurrent_jobs": org.max_concurrent_jobs,
        },
        "deletion_scheduled_for": org.purge_after,
    }


class OrganizationView(BodySizeLimitMixin, APIView):
    permission_classes = [HasOrgPermission]
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    @property
    def allowed_pending_deletion(self) -> bool:  # an owner still reads it (its `deletion_scheduled_for`)
        return self.request.method == "GET"

    @property
    def required_perm(self):
        return Perm.MANAGE_ORGANIZATION if self.request.method == "PATCH" else Perm.VIEW

    @extend_schema(
        summary="Your organization: name, currency, report look, plan limits",
        responses={200: OrganizationSerializer, **error_responses()},
    )
    def get(self, request):
        return Response(organization_document(request._request.organization))

    @extend_schema(
        summary="Change your organization's name, currency or report look (owners)",
        request={"application/json": OrganizationUpdateSerializer, "multipart/form-data": OrganizationUpdateSerializer},
        responses={200: OrganizationSerializer, **error_responses(400)},
    )
    def patch(self, request):
        from accounts.services import organization_update

        form = OrganizationUpdateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        org = request._request.organization
        organization_update(
            organization=org,
            actor=request.user,
            name=data.get("name"),
            currency=data.get("currency"),
            report_primary_colour=data.get("report_primary_colour"),
            report_accent_colour=data.get("report_accent_colour"),
            logo=data.get("logo"),
            remove_logo=data.get("remove_logo", False),
        )
        return Response(organization_document(org))
