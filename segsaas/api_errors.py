"""The one error format of the API: `{"error": {"code", "message", "details"}}`, its OpenAPI description
(`error_responses`), the request-body size limit that answers in it (`BodySizeLimitMixin`), and the answers for
requests no API view handles: `not_found`/`bad_request` (Django's handler404/handler400) and
`ApiErrorPagesMiddleware` (the same when DEBUG is on, where Django shows its debug pages instead of the handlers).

A `UserFacingError` raised by a service (a refused upload, analysis setting, filter or export) becomes a 400 with
its message under each field it names (`details: {field: [message]}`), so views need no try/except to translate it.
"""

import logging

from django.conf import settings
from django.core.exceptions import BadRequest, PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse
from rest_framework import exceptions, serializers
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from segments.engine.errors import UserFacingError


def _code_for(exc: Exception) -> str:
    if isinstance(exc, exceptions.ValidationError):
        return "validation_error"
    if isinstance(exc, (Http404, exceptions.NotFound)):
        return "not_found"
    if isinstance(exc, exceptions.APIException):
        code = exc.get_codes()
        return code if isinstance(code, str) else exc.default_code
    return "error"


def _message_for(exc: Exception, data) -> str:
    if isinstance(exc, exceptions.ValidationError):
        return "The request is invalid; see details for each field."
    if isinstance(data, dict) and "detail" in data:
        return str(data["detail"])
    return str(exc)


def error_response(code: str, message: str, details=None, http_status: int = 400, headers=None) -> Response:
    return Response(
        {"error": {"code": code, "message": message, "details": details or {}}},
        status=http_status,
        headers=headers,
    )


class BadRequestError(exceptions.APIException):
    status_code = 400
    default_code = "bad_request"
    default_detail = "The request could not be read."


def exception_handler(exc, context):
    if isinstance(exc, UserFacingError):
        exc = exceptions.ValidationError(exc.details)
    if isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    if isinstance(exc, RequestDataTooBig):
        exc = RequestTooLarge(f"The request body is over the limit of {settings.DATA_UPLOAD_MAX_MEMORY_SIZE:,} bytes.")
    elif isinstance(exc, (SuspiciousOperation, BadRequest)):
        # Django refuses the request while a view reads it (too many query or form fields, a malformed multipart
        # body): a 400 in the one format, DEBUG or not (DRF would re-raise it, and under DEBUG fail on it), logged
        # where Django logs it.
        if isinstance(exc, SuspiciousOperation):
            logging.getLogger(f"django.security.{type(exc).__name__}").error(str(exc))
        exc = BadRequestError(str(exc) or BadRequestError.default_detail)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    details = response.data if isinstance(exc, exceptions.ValidationError) else {}
    if isinstance(details, list):
        details = {"non_field_errors": details}
    response.data = {"error": {"code": _code_for(exc), "message": _message_for(exc, response.data), "details": details}}
    return response


def analysis_not_ready_response(analysis) -> Response:
    """409: the analysis has no results yet (queued, running, failed or cancelled)."""
    return error_response(
        "analysis_not_ready",
        f"Analysis {analysis.pk} has no results yet (status: {analysis.status}).",
        {"status": analysis.status},
        http_status=409,
    )


# --- the error body, documented, and the body-size limit that answers in it ---


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
    414: "The URL is longer than the API reads (`API_MAX_URL_LENGTH`, 4,096 characters), in the one error format "
    "(JSON); a request line over 8,190 bytes is refused by the HTTP server itself, before the API reads it, with its "
    "own HTML page (text/html).",
    429: "Too many requests; retry after the number of seconds in the `Retry-After` header.",
}


def error_responses(*codes: int, rules: str = "") -> dict:
    """`extend_schema(responses=...)` entries for error statuses (401, 403, 414, 429 always apply). `rules`: what
    the 400 also refuses in a request that fits the schema (a rule of the data, of the plan or between fields, which
    the schema cannot state), said in the operation's 400; `schemathesis.toml` lists the same operations."""
    wanted = sorted(set(codes) | {401, 403, 414, 429} | ({400} if rules else set()))
    descriptions = dict(_ERROR_DESCRIPTIONS)
    if rules:
        descriptions[400] += f" A request that fits this schema is also refused (400) when {rules}"
    responses: dict = {code: OpenApiResponse(ErrorSerializer, description=descriptions[code]) for code in wanted}
    # Two kinds of 414: the API's own (JSON) over API_MAX_URL_LENGTH, and the HTTP server's over its request-line
    # limit (gunicorn.conf.py: 8,190 bytes, gunicorn's maximum), an HTML page the API never sees.
    responses[(414, "application/json")] = responses.pop(414)
    responses[(414, "text/html")] = OpenApiResponse(OpenApiTypes.STR, description=descriptions[414])
    return responses


def uri_too_long(request):
    """414 in the one error format: the URL (path and query) is over `API_MAX_URL_LENGTH`."""
    length, limit = len(request.get_full_path()), settings.API_MAX_URL_LENGTH
    return _api_error_page(
        request, 414, "uri_too_long", f"The URL is {length:,} characters; the API reads at most {limit:,}."
    )


class RequestTooLarge(exceptions.APIException):
    status_code = 413
    default_code = "request_too_large"
    default_detail = "The request body is too large."


class BodySizeLimitMixin:
    # Refuse request bodies over DATA_UPLOAD_MAX_MEMORY_SIZE with 413 in the one error format. DRF reads JSON
    # bodies from the stream, bypassing Django's own check, so the Content-Length is checked before parsing;
    # multipart bodies (uploads) are bounded by the organization's upload limit instead, and Django's check of
    # their non-file fields is turned into the same 413 by `exception_handler`. (A comment, not a docstring: drf-spectacular would
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


def _api_error_page(request, status: int, code: str, message: str):
    from django.http import JsonResponse

    return JsonResponse({"error": {"code": code, "message": message, "details": {}}}, status=status)


def not_found(request, exception=None):
    """`handler404`: under /api/ a path no route matches (`/api/v1/analyses/1.5/`, a typo) answers in the one error
    format, like every other API error; elsewhere the product's 404 page. (With DEBUG on Django shows its debug page
    instead of calling this; `ApiErrorPagesMiddleware` brings /api/ back here.)"""
    from django.views.defaults import page_not_found

    if _is_api(request):
        return _api_error_page(
            request, 404, "not_found", f"No API endpoint matches {request.path!r}: see /api/schema/ for the paths."
        )
    return page_not_found(request, exception)


def bad_request(request, exception=None):
    """`handler400`: a request Django refuses before any view (too many fields, a malformed multipart body) answers
    in the one error format under /api/; elsewhere Django's 400 page."""
    from django.views.defaults import bad_request as page_bad_request

    if _is_api(request):
        reason = str(exception) if exception is not None and str(exception) else "The request could not be read."
        return _api_error_page(request, 400, "bad_request", reason)
    return page_bad_request(request, exception)


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


class ApiErrorPagesMiddleware:
    """Under /api/, a URL longer than `API_MAX_URL_LENGTH` is a 414 in the one error format (gunicorn, configured in
    gunicorn.conf.py, lets request lines of up to 8,190 bytes through, so the API answers them itself), and a 404 or 400 that Django answered with a page instead of calling `not_found`/`bad_request` (with
    DEBUG on it shows its technical 404 and 400 pages) answers in the one error format all the same, so API clients
    see the same shape whatever DEBUG says. Last in MIDDLEWARE: the response it gives still goes through the others
    (security headers, CommonMiddleware's redirect of a path missing its slash)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if _is_api(request) and len(request.get_full_path()) > settings.API_MAX_URL_LENGTH:
            return uri_too_long(request)
        response = self.get_response(request)
        if response.status_code not in (400, 404) or not _is_api(request) or isinstance(response, Response):
            return response  # an API view's answer (JSON, or DRF's browsable page of the same error) stays as it is
        if response.get("Content-Type", "").startswith("application/json"):
            return response
        if response.status_code == 404:
            return not_found(request)
        return bad_request(request)
