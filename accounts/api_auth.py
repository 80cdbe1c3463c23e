"""API authentication: `Authorization: Bearer <key>` with an organization API key, and the
DRF permission class that applies the one role/scope table."""

from django.utils import timezone
from rest_framework import authentication, exceptions, permissions
from rest_framework.throttling import SimpleRateThrottle

from accounts.context import actor_can


class APIKeyActor:
    """Stands in for `request.user` when a partner's key authenticates a request."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = False
    pk = id = None

    def __init__(self, api_key):
        self.api_key = api_key

    def __str__(self) -> str:
        return f"API key {self.api_key.prefix}"


class OrganizationAPIKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        parts = header.split()
        if parts[0] != self.keyword:
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed("Authorization header must be 'Bearer <key>'.")
        from accounts.models import OrganizationAPIKey

        try:
            key = OrganizationAPIKey.objects.get_from_key(parts[1])
        except OrganizationAPIKey.DoesNotExist as exc:
            raise exceptions.AuthenticationFailed("Invalid or revoked API key.") from exc
        if key.has_expired:
            raise exceptions.AuthenticationFailed("This API key has expired.")
        now = timezone.now()
        if key.last_used_at is None or (now - key.last_used_at).total_seconds() > 60:
            type(key).objects.unscoped().filter(pk=key.pk).update(last_used_at=now)
        django_request = request._request
        django_request.api_key = key
        django_request.organization = key.organization
        django_request.membership = None
        return APIKeyActor(key), key

    def authenticate_header(self, request):
        return self.keyword


class HasOrgPermission(permissions.BasePermission):
    """The view names `required_perm` (or `perms_by_action`); the role/scope table decides."""

    message = "Your role or API key scopes do not allow this."

    def has_permission(self, request, view):
        django_request = request._request
        if getattr(django_request, "organization", None) is None:
            return False
        perm = getattr(view, "perms_by_action", {}).get(getattr(view, "action", None)) or getattr(
            view, "required_perm", None
        )
        if perm is None:
            return False
        return actor_can(django_request, perm)


class APIKeyRateThrottle(SimpleRateThrottle):
    """Per API key (or per signed-in user for the pages' own calls); `429` with `Retry-After`."""

    scope = "api_key"

    def get_cache_key(self, request, view):
        api_key = getattr(request._request, "api_key", None)
        if api_key is not None:
            ident = f"key:{api_key.pk}"
        elif request.user and request.user.is_authenticated:
            ident = f"user:{request.user.pk}"
        else:
            ident = f"ip:{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}
