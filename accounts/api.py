"""The one base for tenant-scoped API views.

Subclasses set `model` (a tenant-owned model) and `required_perm` or `perms_by_action`; the queryset
is always `model.objects.for_organization(request.organization)`. Overriding `get_queryset` is
refused at class creation: narrow the rows with `scope_queryset(qs)` instead, which only ever
receives the already-fenced queryset.
"""

from rest_framework import viewsets

from accounts.api_auth import HasOrgPermission


class _NoGetQuerysetOverride(type(viewsets.GenericViewSet)):
    def __new__(mcs, name, bases, attrs):
        if "get_queryset" in attrs and attrs.get("__module__") != __name__:
            raise TypeError(f"{name}: do not override get_queryset on a tenant-scoped view; use scope_queryset()")
        return super().__new__(mcs, name, bases, attrs)


class TenantScopedMixin(metaclass=_NoGetQuerysetOverride):
    model = None
    permission_classes = [HasOrgPermission]

    def get_queryset(self):
        organization = getattr(self.request._request, "organization", None)
        if getattr(self, "swagger_fake_view", False):  # drf-spectacular introspection
            return self.model.objects.unscoped().none()
        return self.scope_queryset(self.model.objects.for_organization(organization))

    def scope_queryset(self, queryset):
        return queryset

    def perform_create(self, serializer):
        serializer.save(organization=self.request._request.organization)


class TenantScopedViewSet(TenantScopedMixin, viewsets.GenericViewSet):
    pass
