"""API contract pieces shared by `datasets.api` and `segments.api`: the OpenAPI description of the
API-key authentication (loaded at startup by `segsaas.api_urls`), the documented error body, and the
request-body size limit.

drf-spectacular finds `OrganizationAPIKeyAuthentication` on every view and, through this extension,
documents it as HTTP bearer auth named `ApiKeyAuth` on every operation (beside `cookieAuth`, the session).
"""

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiResponse
from rest_framework import exceptions, serializers


class OrganizationAPIKeyScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.api_auth.OrganizationAPIKeyAuthentication"
    name = "ApiKeyAuth"
    priority = 1

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "SegSaaS organization API key",
            "description": (
                "An organization API key: `Authorization: Bearer <key>`. Owners and admins create keys on the "
                "API keys page (or `manage.py create_api_key`). Scopes: `read` (see datasets, analyses, results), "
                "`write` (read + upload datasets, run and delete analyses), `predict` (score customers), "
                "`export` (download exports). A key only ever sees its own organization."
            ),
        }


# --- shared by datasets/api.py and segments/api.py: the error body, documented, and the body-size limit ---


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(
        help_text="Machine-readable: validation_error, not_found, not_authenticated, "
        "permission_denied, throttled, request_too_large, conflict, ..."
    )
    message = serializers.CharField(help_text="Human-readable summary.")
    details = serializers.JSONField(help_text="For validation errors: {field: [messages]}; otherwise usually {}.")


class ErrorSerializer(serializers.Serializer):
    """The one error body of the API."""

    error = ErrorDetailSerializer()


_ERROR_DESCRIPTIONS = {
    400: "Invalid request; `details` names each field at fault.",
    401: "Missing or invalid API key (`Authorization: Bearer <key>`).",
    403: "The key's scopes (or the user's role) do not allow this.",
    404: "No such object in your organization (for lists: no such page).",
    409: "The object is not in a state that allows this (e.g. the analysis has not finished).",
    413: "The request body is larger than the limit.",
    429: "Too many requests; retry after the number of seconds in the `Retry-After` header.",
}


def error_responses(*codes: int) -> dict:
    """`extend_schema(responses=...)` entries for error statuses (401, 403, 429 always apply)."""
    wanted = sorted(set(codes) | {401, 403, 429})
    return {code: OpenApiResponse(ErrorSerializer, description=_ERROR_DESCRIPTIONS[code]) for code in wanted}


class RequestTooLarge(exceptions.APIException):
    status_code = 413
    default_code = "request_too_large"
    default_detail = "The request body is too large."


class BodySizeLimitMixin:
    # Refuse request bodies over DATA_UPLOAD_MAX_MEMORY_SIZE with 413 in the one error format. DRF reads JSON
    # bodies from the stream, bypassing Django's own check, so the Content-Length is checked before parsing;
    # multipart bodies (uploads) are bounded by the organization's upload limit instead, and Django's check of
    # their non-file fields is turned into the same 413. (A comment, not a docstring: drf-spectacular would
    # show a docstring inherited by the viewsets as the description of their operations.)

    body_size_exempt_actions: tuple[str, ...] = ()

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is None or getattr(self, "action", None) in self.body_size_exempt_actions:
            return
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > limit:
            raise RequestTooLarge(f"The request body is {length:,} bytes; the limit is {limit:,} bytes.")

    def handle_exception(self, exc):
        if isinstance(exc, RequestDataTooBig):
            exc = RequestTooLarge(
                f"The request body is over the limit of {settings.DATA_UPLOAD_MAX_MEMORY_SIZE:,} bytes."
            )
        return super().handle_exception(exc)
