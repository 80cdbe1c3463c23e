"""Walk every URL pattern of the project with ids of another organization's objects: each must 404.

A new URL with an object id that forgets the tenant fence fails here. A URL kwarg this test does not
know fails too, so whoever adds it has to say which model it names (KWARG_MODELS) or why it is not
tenant data (NOT_TENANT_URLS).
"""

import re

import pytest
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
# DRF routers name the object `pk`: the model is the viewset's.
# URL names (or prefixes) that carry no tenant data, with the reason.
NOT_TENANT_URLS = {
    "account_": "django-allauth: the user's own account (keys, tokens), not organization data",
    "accept_invitation": "the invitation token is the credential; an unknown token is a 404 page",
    "admin:": "Django admin: staff only",
    "schema": "OpenAPI schema",
    "swagger": "API docs",
    "redoc": "API docs",
    "django.views.static": "static files",
}


def _walk(resolver, prefix="", namespace=""):
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _walk(entry, prefix + str(entry.pattern), ns)
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), f"{namespace}{entry.name or ''}", entry


def _is_exempt(name, entry):
    callback = f"{entry.callback.__module__}.{entry.callback.__name__}"
    return any(name.startswith(k) or k in name or callback.startswith(k) for k in NOT_TENANT_URLS)


def _kwargs_of(route):
    if route.startswith("^"):
        return re.findall(r"\(\?P<(\w+)>", route)
    return re.findall(r"<(?:\w+:)?(\w+)>", route)


def _model_for(kwarg, entry):
    if kwarg in KWARG_MODELS:
        return apps.get_model(KWARG_MODELS[kwarg])
    if kwarg == "pk":
        view_cls = getattr(entry.callback, "cls", None)
        model = getattr(view_cls, "model", None) or getattr(getattr(view_cls, "queryset", None), "model", None)
        if model is not None:
            return model
    raise AssertionError(f"URL {entry.pattern} has kwarg {kwarg!r}: add it to KWARG_MODELS or NOT_TENANT_URLS")


def _fill(route, values):
    route = route.lstrip("^").rstrip("$")
    route = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: str(values[m.group(1)]), route)
    route = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(values[m.group(1)]), route)
    route = route.replace("\\.", ".").replace("\\", "")
    if "(?" in route or "[" in route:  # format suffix patterns and the like
        return None
    return "/" + route


def tenant_urls():
    for route, name, entry in _walk(get_resolver()):
        kwargs = _kwargs_of(route)
        if kwargs and not _is_exempt(name, entry):
            yield route, name, entry, kwargs


def _other_org_object(model, other_org, stranger):
    """Some object of `model` owned by Globex (the stranger's organization)."""
    existing = model.objects.for_organization(other_org).first()
    if existing is not None:
        return existing
    factory = OBJECT_FACTORIES.get(f"{model._meta.app_label}.{model.__name__}")
    if factory is None:
        raise AssertionError(f"no Globex {model.__name__} to point at: add a factory to OBJECT_FACTORIES")
    return factory(other_org, stranger)


def _make_invitation(org, user):
    from accounts.models import Invitation

    return Invitation.objects.for_organization(org).create(
        email="someone@globex.example", role="viewer", invited_by=user
    )


def _make_api_key(org, user):
    from accounts.services import api_key_create

    return api_key_create(organization=org, name="Globex CRM", scopes=["read"], created_by=user)[0]


def _make_job(org, user):
    from jobs.models import Job

    return Job.objects.for_organization(org).create(kind="test.none", status="succeeded")


def _make_dataset(org, user):
    from datasets.models import Dataset

    return Dataset.objects.for_organization(org).create(
        name="Globex customers", storage_key="globexkey", status="ready"
    )


def _make_analysis(org, user):
    model = apps.get_model("segments.Analysis")
    dataset = _other_org_object(apps.get_model("datasets.Dataset"), org, user)
    return model.objects.for_organization(org).create(dataset=dataset, name="Globex analysis", config={})


def _make_export(org, user):
    model = apps.get_model("exports.Export")
    analysis = _other_org_object(apps.get_model("segments.Analysis"), org, user)
    return model.objects.for_organization(org).create(analysis=analysis, format="csv")


def _make_endpoint(org, user):
    model = apps.get_model("monitoring.WebhookEndpoint")
    return model.objects.for_organization(org).create(url="https://globex.example/hook", secret="s", events=[])


OBJECT_FACTORIES = {
    "monitoring.WebhookEndpoint": _make_endpoint,
    "accounts.Invitation": _make_invitation,
    "accounts.OrganizationAPIKey": _make_api_key,
    "jobs.Job": _make_job,
    "datasets.Dataset": _make_dataset,
    "segments.Analysis": _make_analysis,
    "exports.Export": _make_export,
}


def test_the_walk_sees_the_object_urls_of_every_app():
    names = {name for _, name, _, _ in tenant_urls()}
    assert "accounts:member_role" in names and "jobs:status" in names


@pytest.mark.django_db
def test_every_object_url_hides_other_organizations_objects(people, client_for):
    from accounts.services import api_key_create

    alice_client = client_for(people.alice, people.acme)
    _, acme_key = api_key_create(
        organization=people.acme,
        name="Acme all",
        scopes=["read", "write", "predict", "export"],
        created_by=people.alice,
    )
    checked = []
    for route, name, entry, kwargs in tenant_urls():
        values = {}
        for kwarg in kwargs:
            if kwarg == "format":
                values[kwarg] = "json"
                continue
            obj = _other_org_object(_model_for(kwarg, entry), people.globex, people.charlie)
            values[kwarg] = obj.pk
        url = _fill(route, values)
        if url is None:
            continue
        is_api = url.startswith("/api/")
        for method in ("get", "post", "patch", "delete"):
            if is_api:
                response = getattr(alice_client, method)(
                    url, HTTP_AUTHORIZATION=f"Bearer {acme_key}", content_type="application/json"
                )
            else:
                response = getattr(alice_client, method)(url)
            if response.status_code == 405:
                continue
            assert response.status_code == 404, (
                f"{method.upper()} {url} ({name}) answered {response.status_code} for another organization's object"
            )
            checked.append((method, url))
    assert checked, "no object URL was checked"
    # Globex's objects are untouched.
    from accounts.models import Membership

    assert Membership.objects.for_organization(people.globex).count() == 2
