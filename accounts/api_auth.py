"""API authentication: `Authorization: Bearer <key>` with an organization API key, and the
DRF permission class that applies the one role/scope table."""

import hashlib
import threading
import time
from collections import OrderedDict

from django.conf import settings
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


class VerifiedKeyCache:
    """Keys this process verified in the last `API_KEY_CACHE_SECONDS` (default 5), by the SHA-512 of the
    presented secret: a partner's burst of calls costs one database lookup per process every few seconds instead
    of one per call. Revoking through `accounts.services.api_key_revoke` drops the key here at once; other
    processes stop accepting it within those seconds (0 turns the cache off)."""

    clock = staticmethod(time.monotonic)

    def __init__(self, max_size: int = 1024):
        self._entries: OrderedDict[str, tuple[float, object]] = OrderedDict()
        self._lock = threading.Lock()
        self._generation = 0  # bumped by every forget(): a lookup that started before it is not stored
        self.max_size = max_size

    def get(self, presented: str):
        from accounts.models import OrganizationAPIKey

        ttl = settings.API_KEY_CACHE_SECONDS
        digest = hashlib.sha512(presented.encode()).hexdigest()
        now = self.clock()
        if ttl > 0:
            with self._lock:
                entry = self._entries.get(digest)
                if entry is not None and entry[0] > now:
                    return entry[1]
                generation = self._generation
        try:
            key = OrganizationAPIKey.objects.get_from_key(presented)
        except OrganizationAPIKey.DoesNotExist:
            return None
        if ttl > 0:
            with self._lock:
                if generation != self._generation:  # a key was revoked meanwhile: this row may predate it
                    return key
                self._entries[digest] = (now + ttl, key)
                self._entries.move_to_end(digest)
                while len(self._entries) > self.max_size:
                    self._entries.popitem(last=False)
        return key

    def forget(self, api_key) -> None:
        with self._lock:
            self._generation += 1
            for digest in [d for d, (_, k) in self._entries.items() if k.pk == api_key.pk]:
                del self._entries[digest]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


verified_keys = VerifiedKeyCache()


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
        key = verified_keys.get(parts[1])
        if key is None:
            raise exceptions.AuthenticationFailed("Invalid or revoked API key.")
        if key.has_expired:
            raise exceptions.AuthenticationFailed("This API key has expired.")
        if key.organization.deletion_requested_at is not None:
            raise exceptions.AuthenticationFailed("This API key's organization is scheduled for deletion.")
        now = timezone.now()
        if key.last_used_at is None or (now - key.last_used_at).total_seconds() > 60:
            type(key).objects.unscoped().filter(pk=key.pk).update(last_used_at=now)
            key.last_used_at = now  # the cached copy too, or every call would write once a minute has passed
        django_request = request._request
        django_request.api_key = key
        django_request.organization = key.organization
        django_request.membership = None
        from segments.engine.formatting import activate_currency

        activate_currency(key.organization.currency)  # reset by ActiveOrganizationMiddleware when the request ends
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
        if django_request.organization.is_pending_deletion and not getattr(view, "allowed_pending_deletion", False):
            # as on the pages: while it awaits its purge an owner reaches only the archive, the deletion (to
            # cancel it) and their own account (API keys are refused at authentication)
            raise exceptions.PermissionDenied(
                f"{django_request.organization.name} is scheduled for deletion: only its archive and cancelling "
                "the deletion are available (/api/v1/organization/archive/, /api/v1/organization/deletion/)."
            )
        return actor_can(django_request, perm)


class OwnAccountPermission(HasOrgPermission):
    """A person's own account: the one table's OWN_ACCOUNT for members (and refused to API keys, whose scopes never
    carry it); a signed-in person without any organization may still act on their own account."""

    def has_permission(self, request, view):
        django_request = request._request
        if getattr(django_request, "organization", None) is None and getattr(django_request, "api_key", None) is None:
            return bool(request.user and request.user.is_authenticated)
        return super().has_permission(request, view)


class APIKeyRateThrottle(SimpleRateThrottle):
    """Per API key (or per signed-in user for the pages' own calls); `429` with `Retry-After`.

    A fixed-window counter: one atomic cache increment per request. DRF's SimpleRateThrottle keeps the timestamp
    of every request in the window and reads and rewrites that whole list on each request (up to 60,000 entries
    per key at the default rate), which made a busy key's requests slower the busier it was."""

    scope = "api_key"

    def get_cache_key(self, request, view):
        api_key = getattr(request._request, "api_key", None)
        if api_key is not None:
            ident = f"key:{api_key.prefix}"  # random per key: no clash with another database's ids on a shared cache
        elif request.user and request.user.is_authenticated:
            ident = f"user:{request.user.pk}"
        else:
            ident = f"ip:{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        self.now = self.timer()
        window = int(self.now // self.duration)
        self.window_end = (window + 1) * self.duration
        key = f"{self.key}:{window}"
        try:
            count = self.cache.incr(key)
        except ValueError:  # the window's first request
            count = 1 if self.cache.add(key, 1, timeout=self.duration + 5) else self.cache.incr(key)
        return count <= self.num_requests

    def wait(self):
        return max(self.window_end - self.now, 1)
