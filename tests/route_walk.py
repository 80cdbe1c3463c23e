"""Every URL pattern of the project, with sample arguments: the walks of tests/test_tenant_url_walk.py (who may
reach what), tests/security/test_roles_table.py (role x action) and tests/security/test_headers.py (every page's
headers) use it. Imported as `from route_walk import ...` (a plain module, not a conftest).

A URL kwarg this module does not know fails the walks: whoever adds a route has to say which tenant model it
names (KWARG_MODELS, or a DRF viewset's `model` for `pk`) or give a sample value (SAMPLE_ARGS).
"""

import re
from dataclasses import dataclass

from django.apps import apps
from django.urls import URLPattern, URLResolver, get_resolver

# URL kwarg -> the tenant-owned model it names.
KWARG_MODELS = {
    "membership_id": "accounts.Membership",
    "invitation_id": "accounts.Invitation",
    "key_id": "accounts.OrganizationAPIKey",
    "job_id": "jobs.Job",
    "dataset_id": "datasets.Dataset",
    "analysis_id": "segments.Analysis",
    "export_id": "exports.Export",
    "endpoint_id": "monitoring.WebhookEndpoint",
}
# URL kwargs that name no organization's object, with a sample value (credentials are made-up, so refused).
SAMPLE_ARGS = {
    "format": "json",  # DRF format suffixes
    "key": "not-a-real-key",  # allauth e-mail confirmation / password reset keys
    "uidb36": "1z",
    "token": "not-a-real-invitation-token",  # invitation links: the token is the credential
    "content_type_id": "1",  # Django admin (staff only)
    "object_id": "1",
    "id": "1",
    "app_label": "auth",
    "url": "nowhere/",
}
# URL names (or prefixes, or view modules) that carry no organization data, with the reason: the cross-tenant
# walk skips them (the anonymous and viewer walks do not).
NOT_TENANT_URLS = {
    "account_": "django-allauth: the user's own account (keys, tokens), not organization data",
    "accept_invitation": "the invitation token is the credential; an unknown token is a 404 page",
    "admin:": "Django admin: staff only",
    "schema": "OpenAPI schema",
    "swagger": "API docs",
    "redoc": "API docs",
    "django.views.static": "static files",
}


@dataclass(frozen=True)
class Route:
    route: str
    name: str
    entry: URLPattern
    kwargs: tuple[str, ...]

    @property
    def is_api(self) -> bool:
        return self.route.startswith("api/v1/")

    @property
    def is_format_suffix(self) -> bool:
        return "format" in self.kwargs

    @property
    def callback(self):
        return self.entry.callback

    @property
    def view_name(self) -> str:
        return f"{self.callback.__module__}.{self.callback.__name__}"


def _walk(resolver, prefix="", namespace=""):
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _walk(entry, prefix + str(entry.pattern), ns)
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), f"{namespace}{entry.name or ''}", entry


def kwargs_of(route: str) -> tuple[str, ...]:
    found = re.findall(r"\(\?P<(\w+)>", route) + re.findall(r"<(?:\w+:)?(\w+)>", route)
    return tuple(dict.fromkeys(found))


def every_route() -> list[Route]:
    return [Route(route, name, entry, kwargs_of(route)) for route, name, entry in _walk(get_resolver())]


def is_tenant_route(route: Route) -> bool:
    """Routes with an object id of an organization (everything else is exempt with a reason)."""
    exempt = any(route.name.startswith(k) or k in route.name or route.view_name.startswith(k) for k in NOT_TENANT_URLS)
    return bool(route.kwargs) and not exempt and any(k != "format" for k in route.kwargs)


def model_for(kwarg: str, route: Route):
    if kwarg in KWARG_MODELS:
        return apps.get_model(KWARG_MODELS[kwarg])
    if kwarg == "pk":
        view_cls = getattr(route.callback, "cls", None)
        model = getattr(view_cls, "model", None) or getattr(getattr(view_cls, "queryset", None), "model", None)
        if model is not None:
            return model
    return None


def fill(route: str, values: dict) -> str:
    """The route with its kwargs replaced by `values` (regex routes included)."""
    route = route.replace("^", "").replace("$", "")
    route = re.sub(r"\(\?P<(\w+)>(?:[^()]|\([^()]*\))*\)", lambda m: str(values[m.group(1)]), route)
    route = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(values[m.group(1)]), route)
    route = route.replace("\\.", ".").replace("\\", "").replace("/?", "/")
    assert "(?" not in route and "[" not in route, f"could not fill {route}"
    return "/" + route


def sample_url(route: Route, org, user) -> str:
    """The route's URL with `org`'s objects for its tenant kwargs and SAMPLE_ARGS for the others. A kwarg in
    neither fails: say what it names."""
    values = {}
    for kwarg in route.kwargs:
        model = model_for(kwarg, route)
        if model is not None:
            values[kwarg] = org_object(model, org, user).pk
        elif kwarg in SAMPLE_ARGS:
            values[kwarg] = SAMPLE_ARGS[kwarg]
        else:
            raise AssertionError(
                f"URL {route.route} ({route.name or route.view_name}) has kwarg {kwarg!r} without sample arguments: "
                "add it to KWARG_MODELS (tenant data) or SAMPLE_ARGS in tests/route_walk.py"
            )
    return fill(route.route, values)


def org_object(model, org, user):
    """Some object of `model` owned by `org` (made if there is none)."""
    existing = model.objects.for_organization(org).order_by("pk").first()
    if existing is not None:
        return existing
    factory = OBJECT_FACTORIES.get(f"{model._meta.app_label}.{model.__name__}")
    if factory is None:
        raise AssertionError(f"no {org} {model.__name__} to point at: add a factory to OBJECT_FACTORIES")
    return factory(org, user)


def _make_invitation(org, user):
    from accounts.models import Invitation

    return Invitation.objects.for_organization(org).create(
        email=f"someone@{org.slug}.example", role="viewer", invited_by=user
    )


def _make_api_key(org, user):
    from accounts.services import api_key_create

    return api_key_create(organization=org, name=f"{org.name} CRM", scopes=["read"], created_by=user)[0]


def _make_job(org, user):
    from jobs.models import Job

    return Job.objects.for_organization(org).create(kind="analysis.run", status="succeeded")


def _make_dataset(org, user):
    from datasets.models import Dataset

    return Dataset.objects.for_organization(org).create(
        name=f"{org.name} customers", storage_key=f"{org.slug}key", status="ready"
    )


def _make_analysis(org, user):
    model = apps.get_model("segments.Analysis")
    dataset = org_object(apps.get_model("datasets.Dataset"), org, user)
    return model.objects.for_organization(org).create(dataset=dataset, name=f"{org.name} analysis", config={})


def _make_export(org, user):
    model = apps.get_model("exports.Export")
    analysis = org_object(apps.get_model("segments.Analysis"), org, user)
    return model.objects.for_organization(org).create(analysis=analysis, format="csv")


def _make_membership(org, user):
    from accounts.models import Membership

    return Membership.objects.for_organization(org).create(user=user, role="viewer")


def _make_endpoint(org, user):
    model = apps.get_model("monitoring.WebhookEndpoint")
    return model.objects.for_organization(org).create(url="https://example.com/hook", secret="s", events=[])


OBJECT_FACTORIES = {
    "monitoring.WebhookEndpoint": _make_endpoint,
    "accounts.Invitation": _make_invitation,
    "accounts.OrganizationAPIKey": _make_api_key,
    "accounts.Membership": _make_membership,
    "jobs.Job": _make_job,
    "datasets.Dataset": _make_dataset,
    "segments.Analysis": _make_analysis,
    "exports.Export": _make_export,
}


def tenant_fingerprint() -> dict:
    """Everything a write could change, across both organizations: rows of each tenant model with their
    organization and the fields people edit."""
    from accounts.models import Invitation, Membership, OrganizationAPIKey
    from datasets.models import Dataset
    from exports.models import Export
    from jobs.models import Job

    out = {
        "datasets": sorted(Dataset.objects.unscoped().values_list("pk", "organization_id", "status", "name")),
        "dataset roles": sorted((d.pk, repr(d.roles)) for d in Dataset.objects.unscoped().all()),
        "analyses": sorted(apps.get_model("segments.Analysis").objects.unscoped().values_list("pk", "name")),
        "exports": sorted(Export.objects.unscoped().values_list("pk", "organization_id")),
        "jobs": sorted(Job.objects.unscoped().values_list("pk", "organization_id", "status")),
    }
    out["memberships"] = sorted(Membership.objects.unscoped().values_list("pk", "organization_id", "role"))
    out["invitations"] = sorted(Invitation.objects.unscoped().values_list("pk", "organization_id", "role"))
    out["api_keys"] = sorted(OrganizationAPIKey.objects.unscoped().values_list("pk", "organization_id", "revoked"))
    endpoints = apps.get_model("monitoring.WebhookEndpoint").objects.unscoped()
    out["webhook endpoints"] = sorted(
        (e.pk, e.organization_id, e.url, repr(e.events), e.active, e.secret) for e in endpoints.all()
    )
    return out


def make_sample_objects(org, user) -> None:
    """One object of every tenant model in `org`, so that a walk's fingerprint is taken after they exist."""
    for label in OBJECT_FACTORIES:
        org_object(apps.get_model(label), org, user)
