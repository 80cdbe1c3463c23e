"""Walk every URL pattern of the project (pages and API) as four kinds of caller who must get nothing:

- anonymous: every route that is not public (PUBLIC_ROUTES, each with its reason) answers a redirect to a login
  page, 401, 403, 404 or 405, never a 2xx;
- a member of another organization (session) and another organization's API key (all scopes): every URL with an
  object id of Acme answers 404 (never 403: the id's existence is not revealed), for every method;
- a viewer of the same organization (session) and a read-only API key: every write (POST, PUT, PATCH, DELETE) is
  refused, except the few that act on the person's own account (VIEWER_MAY_WRITE, with reasons).

After each walk, no organization's data changed (`tenant_fingerprint`). A route whose kwarg has no sample argument
fails (tests/route_walk.py says where to add it).
"""

import pytest
from route_walk import (
    NOT_TENANT_URLS,
    Route,
    every_route,
    fill,
    is_tenant_route,
    make_sample_objects,
    sample_url,
    tenant_fingerprint,
)

from accounts.permissions import API_SCOPES

METHODS = ("get", "post", "put", "patch", "delete")
WRITES = ("post", "put", "patch", "delete")

# Routes anyone may open without signing in (name or name prefix -> reason).
PUBLIC_ROUTES = {
    "healthz": "load balancers probe it; it names only which part is down",
    "account_login": "the sign-in page",
    "account_signup": "sign-up creates a new user with no organization",
    "account_reset_password": "password reset by e-mail (answers the same for unknown addresses)",
    "account_confirm_email": "the e-mailed key is the credential",
    "account_email_verification_sent": "a static notice",
    "account_inactive": "a static notice",
    "account_confirm_login_code": "allauth's login-code step (refuses without a pending login)",
    "account_logout": "signing out",
    "accounts:accept_invitation": "the invitation token is the credential (an unknown token is a 404 page)",
    "schema": "the OpenAPI description of the public API",
    "swagger-ui": "API docs",
    "redoc": "API docs",
    "admin:login": "the admin's sign-in page",
    "admin:jsi18n": "the admin's translation catalogue (static text)",
    "admin:logout": "signing out of the admin (sends to the admin sign-in)",
}
# Writes a viewer may make: they act on the person's own account or session, not on the organization's data.
VIEWER_MAY_WRITE = {
    "accounts:switch_org": "chooses which of the person's organizations is active",
    "account_": "the person's own account: password, e-mail addresses, sign-out",
    "accounts:accept_invitation": "joins with an invitation token (an unknown token is a 404 page)",
    "admin:login": "the admin's sign-in form (a viewer is not staff)",
    "admin:logout": "signs out",
    "monitoring:subscription": "the person's own choice of drift alert e-mails",
    "accounts:account": "the person deletes their own account (their e-mail typed again; a wrong one is a 400)",
    "api-account": "the person deletes their own account through the API (e-mail typed again; a wrong one is a 400)",
}


def _matches(route: Route, table: dict) -> bool:
    return any(route.name == k or route.name.startswith(k) for k in table)


def _request(client, method, url, key=None):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {key}"} if key else {}
    return getattr(client, method)(url, content_type="application/json", **headers)


def _is_login_redirect(response) -> bool:
    return response.status_code in (301, 302) and "login" in response.get("Location", "")


def test_the_walk_sees_every_app_and_refuses_a_route_without_sample_arguments(db):
    routes = every_route()
    names = {r.name for r in routes}
    assert {"accounts:member_role", "jobs:status", "datasets:detail", "segments:detail", "exports:file"} <= names
    assert {"dataset-detail", "analysis-customers", "analysis-export"} <= names
    unknown = Route("things/<int:thing_id>/", "things:detail", routes[0].entry, ("thing_id",))
    with pytest.raises(AssertionError, match="thing_id"):
        sample_url(unknown, None, None)


@pytest.mark.django_db
def test_every_route_has_sample_arguments(people):
    urls = [sample_url(route, people.acme, people.alice) for route in every_route()]
    assert len(urls) == len(every_route()) > 60
    assert all(url.startswith("/") and "<" not in url and "(?" not in url for url in urls)


@pytest.mark.django_db
def test_anonymous_callers_reach_only_public_routes(people, client):
    make_sample_objects(people.acme, people.alice)
    before = tenant_fingerprint()
    checked = 0
    for route in every_route():
        if _matches(route, PUBLIC_ROUTES):
            continue
        url = sample_url(route, people.acme, people.alice)
        for method in METHODS:
            response = _request(client, method, url)
            status = response.status_code
            assert status in (401, 403, 404, 405) or _is_login_redirect(response), (
                f"anonymous {method.upper()} {url} ({route.name}) answered {status} {response.get('Location', '')}"
            )
            if route.is_api and status != 405:
                assert status in (401, 403, 404) and "error" in response.json(), (method, url, status)
            checked += 1
    assert checked > 200
    assert tenant_fingerprint() == before


def _missing_url(route: Route, people) -> str:
    """The route with ids that no organization has."""
    from route_walk import SAMPLE_ARGS

    return fill(route.route, {k: SAMPLE_ARGS.get(k, 987654321) if k == "format" else 987654321 for k in route.kwargs})


def _cross_tenant_walk(client, people, key=None):
    """Every object URL with Acme's ids, every method: 404, or exactly what an id nobody has gets (a 403 when the
    caller's role may not do this at all, a 405 for a method the URL does not take): the answer reveals nothing."""
    make_sample_objects(people.acme, people.alice)
    before = tenant_fingerprint()
    checked = []
    for route in every_route():
        if not is_tenant_route(route):
            continue
        url = sample_url(route, people.acme, people.alice)
        for method in METHODS:
            response = _request(client, method, url, key=key)
            if response.status_code == 405:
                continue
            if key is not None and not route.is_api:
                # pages do not take API keys: the caller is anonymous there
                assert _is_login_redirect(response), (method, url, response.status_code)
                checked.append((method, url, "login"))
                continue
            missing = _request(client, method, _missing_url(route, people), key=key).status_code
            assert response.status_code in (403, 404) and response.status_code == missing, (
                f"{method.upper()} {url} ({route.name}) answered {response.status_code} to another organization "
                f"({missing} for an id nobody has)"
            )
            if route.is_api:
                assert response.json()["error"]["code"] in ("not_found", "permission_denied")
            checked.append((method, url, response.status_code))
    assert len({url for _, url, _ in checked}) >= 25, checked
    assert tenant_fingerprint() == before
    return checked


@pytest.mark.django_db
def test_a_member_of_another_organization_gets_404_for_every_object_url(people, client_for):
    # Charlie owns Globex: every right there, so every answer is the 404 of an object not found.
    checked = _cross_tenant_walk(client_for(people.charlie, people.globex), people)
    assert {status for *_, status in checked} == {404}


@pytest.mark.django_db
def test_a_member_of_both_organizations_working_in_the_other_gets_404(people, client_for):
    # Mia belongs to both: while Globex is active, Acme's objects are out of reach too.
    _cross_tenant_walk(client_for(people.mia, people.globex), people)


@pytest.mark.django_db
def test_another_organizations_api_key_gets_404_for_every_object_url(people, client):
    from accounts.services import api_key_create

    _, globex_key = api_key_create(
        organization=people.globex,
        name="Globex all",
        scopes=list(API_SCOPES),
        created_by=people.charlie,
    )
    checked = _cross_tenant_walk(client, people, key=globex_key)
    assert any(url.startswith("/api/v1/analyses/") for _, url, _ in checked)
    assert any(url.startswith("/api/v1/webhooks/") for _, url, _ in checked)
    assert {status for _, url, status in checked if url.startswith("/api/")} == {404}


def _viewer_walk(client, people, key=None):
    make_sample_objects(people.acme, people.alice)
    before = tenant_fingerprint()
    refused = 0
    for route in every_route():
        if _matches(route, VIEWER_MAY_WRITE):
            continue
        url = sample_url(route, people.acme, people.alice)
        # pages write with POST (Django's views treat other methods as they please); the API with any write
        for method in WRITES if route.is_api else ("post",):
            response = _request(client, method, url, key=key)
            status = response.status_code
            assert status in (401, 403, 404, 405) or (not route.is_api and _is_login_redirect(response)), (
                f"viewer {method.upper()} {url} ({route.name}) answered {status}"
            )
            refused += status != 405
    assert refused > 20
    assert tenant_fingerprint() == before, "a viewer changed the organization's data"


@pytest.mark.django_db
def test_a_viewer_of_the_same_organization_cannot_write(people, client_for):
    _viewer_walk(client_for(people.vera, people.acme), people)


@pytest.mark.django_db
def test_a_read_only_api_key_cannot_write(people, client):
    from accounts.services import api_key_create

    _, read_key = api_key_create(organization=people.acme, name="Acme read", scopes=["read"], created_by=people.alice)
    _viewer_walk(client, people, key=read_key)


def test_exemptions_name_their_reason():
    for table in (PUBLIC_ROUTES, VIEWER_MAY_WRITE, NOT_TENANT_URLS):
        assert all(isinstance(reason, str) and len(reason.split()) >= 2 for reason in table.values())
    assert fill("api/v1/^analyses/(?P<pk>[^/.]+)/$", {"pk": 7}) == "/api/v1/analyses/7/"
