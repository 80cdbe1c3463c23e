"""The tenant fence: the one place that decides which organization's rows code may reach.

Every tenant-owned model carries an `organization` foreign key and uses `TenantManager` as its
default manager. The manager fails closed: `Model.objects.all()`, `.filter()`, `.get()` raise
`UnscopedQueryError` instead of returning every tenant's rows. Code asks for rows with

    Model.objects.for_organization(org)          # a request, a task, a command working for one tenant
    Model.objects.unscoped()                      # deliberate cross-tenant work (sweepers, migrations)

Related managers (`organization.datasets`, `dataset.analyses`) are allowed: they start from an
object that was itself reached through the fence.

Views use `get_object_for_org()` / `TenantScopedMixin`; DRF viewsets use
`accounts.api.TenantScopedViewSet`; Celery tasks receive a job id, load that one row with
`unscoped()` and reach everything else through `for_organization(job.organization)`. Nowhere
else decides tenancy.
"""

from __future__ import annotations

from django.db import models
from django.http import Http404


class UnscopedQueryError(RuntimeError):
    """A tenant-owned model was queried without saying for which organization."""


class TenantQuerySet(models.QuerySet):
    _tenant = None

    def _clone(self):
        clone = super()._clone()
        clone._tenant = self._tenant
        return clone

    def create(self, **kwargs):
        if self._tenant is not None:
            given = kwargs.get("organization")
            if given is not None and given.pk != self._tenant.pk:
                raise UnscopedQueryError("create() for another organization than the queryset's")
            kwargs["organization"] = self._tenant
        return super().create(**kwargs)


class TenantManager(models.Manager.from_queryset(TenantQuerySet)):
    """Fail-closed manager for tenant-owned models."""

    def get_queryset(self):
        # Related managers carry `core_filters` (set by Django) and start from a fenced object.
        if getattr(self, "core_filters", None) or getattr(self, "instance", None) is not None:
            return super().get_queryset()
        raise UnscopedQueryError(
            f"{self.model.__name__}.objects used without an organization: "
            f"use .for_organization(org) (or .unscoped() for deliberate cross-tenant work)"
        )

    def for_organization(self, organization) -> TenantQuerySet:
        if organization is None or getattr(organization, "pk", None) is None:
            raise UnscopedQueryError(f"{self.model.__name__}: no organization given")
        qs = super().get_queryset().filter(organization=organization)
        qs._tenant = organization
        return qs

    def unscoped(self) -> TenantQuerySet:
        return super().get_queryset()


def get_object_for_org(model_or_queryset, organization, **lookup):
    """The object of this organization matching `lookup`, or 404 (never 403: existence stays hidden)."""
    if isinstance(model_or_queryset, models.QuerySet):
        qs = model_or_queryset
        if getattr(qs, "_tenant", None) is None or qs._tenant.pk != organization.pk:
            raise UnscopedQueryError("get_object_for_org() needs a queryset from for_organization(org)")
    else:
        qs = model_or_queryset.objects.for_organization(organization)
    try:
        return qs.get(**lookup)
    except (qs.model.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404(f"No {qs.model._meta.verbose_name} here") from exc
