"""`/api/v1/webhooks/`: a partner's webhook endpoints (list, register, change, remove) and the log of their
deliveries.

The same rules as the Monitoring page, through the same services (`monitoring.services`): the URL is checked by
`monitoring.webhooks.check_url` (private and loopback addresses refused unless `WEBHOOK_ALLOW_PRIVATE_URLS`), the
events are `WebhookEvent`'s, the signing secret is in the answer to the registration only. Rights: the role table's
`manage_webhooks` (owners and admins; API keys with the `webhooks` scope). Another organization's id is a 404.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.api import TenantScopedViewSet
from accounts.permissions import Perm
from monitoring.models import WebhookDelivery, WebhookEndpoint, WebhookEvent
from segsaas.api_errors import BodySizeLimitMixin, error_responses
from segsaas.api_params import StrictJsonTypes


class WebhookEndpointSerializer(serializers.ModelSerializer):
    events = serializers.ListField(child=serializers.ChoiceField(choices=WebhookEvent.choices))

    class Meta:
        model = WebhookEndpoint
        fields = ["id", "url", "events", "active", "created_at"]
        read_only_fields = fields


class WebhookEndpointCreatedSerializer(WebhookEndpointSerializer):
    secret = serializers.CharField(
        help_text="The HMAC-SHA256 signing key of this endpoint. Shown only in this answer: store it now."
    )

    class Meta(WebhookEndpointSerializer.Meta):
        fields = [*WebhookEndpointSerializer.Meta.fields, "secret"]
        read_only_fields = fields


def _events_field(required: bool) -> serializers.ListField:
    return serializers.ListField(
        child=serializers.ChoiceField(choices=WebhookEvent.choices),
        required=required,
        help_text=f"One or more of: {', '.join(WebhookEvent.values)}.",
    )


class WebhookEndpointCreateSerializer(StrictJsonTypes, serializers.Serializer):
    url = serializers.CharField(
        max_length=500,
        help_text="http(s) URL of the receiver. Hosts resolving to private, loopback or reserved addresses are "
        "refused.",
    )
    events = _events_field(required=True)


class WebhookEndpointUpdateSerializer(StrictJsonTypes, serializers.Serializer):
    url = serializers.CharField(max_length=500, required=False, help_text="A new URL, checked like a new endpoint's.")
    events = _events_field(required=False)
    active = serializers.BooleanField(required=False, help_text="false: nothing is sent to it until true again.")

    def validate(self, attrs):
        if not attrs:
            raise serializers.ValidationError({"non_field_errors": ["Give at least one of url, events, active."]})
        return attrs


class WebhookDeliverySerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "endpoint",
            "event",
            "status",
            "attempts",
            "response_status",
            "response_body",
            "error",
            "next_attempt_at",
            "created_at",
            "delivered_at",
            "payload",
        ]
        read_only_fields = fields


@extend_schema(tags=["webhooks"])
class WebhookEndpointViewSet(BodySizeLimitMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantScopedViewSet):
    """Your organization's webhook endpoints and the log of what was sent to them."""

    model = WebhookEndpoint
    serializer_class = WebhookEndpointSerializer
    filter_backends = []
    required_perm = Perm.MANAGE_WEBHOOKS
    perms_by_action = {
        "list": Perm.MANAGE_WEBHOOKS,
        "retrieve": Perm.MANAGE_WEBHOOKS,
        "create": Perm.MANAGE_WEBHOOKS,
        "partial_update": Perm.MANAGE_WEBHOOKS,
        "destroy": Perm.MANAGE_WEBHOOKS,
        "deliveries": Perm.MANAGE_WEBHOOKS,
    }

    @extend_schema(
        summary="List webhook endpoints",
        responses={200: WebhookEndpointSerializer(many=True), **error_responses(400)},
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(summary="A webhook endpoint", responses={200: WebhookEndpointSerializer, **error_responses(404)})
    def retrieve(self, request, *args, **kwargs):
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(
        summary="Register a webhook endpoint",
        description="Events are POSTed to `url` as JSON signed with the endpoint's secret: header "
        "`X-SegSaaS-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of '<t>.<body>'>`; refuse a signature older than "
        "5 minutes. The answer carries `secret`, shown only here. A URL that is not http(s), carries a user name "
        "or password, or resolves to a private, loopback or reserved address is a `400` naming `url`.",
        request=WebhookEndpointCreateSerializer,
        responses={201: WebhookEndpointCreatedSerializer, **error_responses(400)},
    )
    def create(self, request, *args, **kwargs):
        from monitoring.services import endpoint_create

        form = WebhookEndpointCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        endpoint = endpoint_create(
            organization=request._request.organization,
            url=form.validated_data["url"],
            events=form.validated_data["events"],
            actor=request.user,
        )
        return Response(
            WebhookEndpointCreatedSerializer(endpoint).data,
            status=status.HTTP_201_CREATED,
            headers={"Location": f"/api/v1/webhooks/{endpoint.pk}/"},
        )

    @extend_schema(
        summary="Change a webhook endpoint",
        description="Any of `url` (checked like a new endpoint's), `events`, `active`. Nothing changes when any of "
        "them is refused. The secret stays the same.",
        request=WebhookEndpointUpdateSerializer,
        responses={200: WebhookEndpointSerializer, **error_responses(400, 404)},
    )
    def partial_update(self, request, pk=None):
        from monitoring.services import endpoint_update

        endpoint = self.get_object()
        form = WebhookEndpointUpdateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        endpoint = endpoint_update(endpoint=endpoint, actor=request.user, **form.validated_data)
        return Response(WebhookEndpointSerializer(endpoint).data)

    @extend_schema(
        summary="Remove a webhook endpoint",
        description="Nothing more is sent to it; its delivery log goes with it.",
        responses={204: OpenApiResponse(description="Removed."), **error_responses(404)},
    )
    def destroy(self, request, pk=None):
        from monitoring.services import endpoint_delete

        endpoint_delete(endpoint=self.get_object(), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="An endpoint's deliveries",
        description="Every event sent (or being sent) to the endpoint, newest first: its status (`pending` while "
        "retries remain, `succeeded`, `failed`), the attempts made, the last answer and the payload.",
        responses={200: WebhookDeliverySerializer(many=True), **error_responses(400, 404)},
    )
    @action(detail=True, methods=["get"])
    def deliveries(self, request, pk=None):
        endpoint = self.get_object()
        rows = WebhookDelivery.objects.for_organization(request._request.organization).filter(endpoint=endpoint)
        page = self.paginate_queryset(rows.order_by("-created_at", "-pk"))
        return self.get_paginated_response(WebhookDeliverySerializer(page, many=True).data)


def register(router) -> None:
    router.register("webhooks", WebhookEndpointViewSet, basename="webhook")
