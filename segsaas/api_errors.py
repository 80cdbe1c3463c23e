"""The one error format of the API: `{"error": {"code", "message", "details"}}`.

A `UserFacingError` raised by a service (a refused upload, analysis setting, filter or export) becomes a 400 with
its message under each field it names (`details: {field: [message]}`), so views need no try/except to translate it.
"""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from rest_framework import exceptions
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


def exception_handler(exc, context):
    if isinstance(exc, UserFacingError):
        exc = exceptions.ValidationError(exc.details)
    if isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
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
