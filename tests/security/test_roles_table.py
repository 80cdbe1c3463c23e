"""Role x action -> allowed or refused, generated from the one permission table (accounts/permissions.py).

Every page action the server takes (URL name x method that does not answer 405) must have its line in
`PAGE_ACTIONS`, every API action its entry in its viewset's `perms_by_action`: a new action without a rule fails
here. Each action is then requested as every role (pages) and with a key of every scope (API), each inside a
rolled-back transaction, and must be refused (403) exactly when ROLE_PERMISSIONS / SCOPE_PERMISSIONS say so.
"""

import pytest
from django.db import transaction
from route_walk import every_route, make_sample_objects, sample_url

from accounts.permissions import (
    API_SCOPES,
    PAGE_ACTIONS,
    ROLE_PERMISSIONS,
    Perm,
    Role,
    job_permission,
    role_can,
    scopes_can,
)

# Pages whose rights are not a role's, with the reason.
NOT_ROLE_ACTIONS = {
    "account_": "the person's own account (django-allauth)",
    "admin:": "Django admin: staff users only",
    "healthz": "public probe",
    "accounts:switch_org": "switches among the person's own memberships",
    "accounts:no_organization": "shown to people without an organization",
    "accounts:accept_invitation": "the invitation token is the credential",
    "exports:reports": "lists each of the person's organizations with that organization's export right",
    "schema": "public API description",
    "swagger-ui": "public API docs",
    "redoc": "public API docs",
    "api-root": "the API's list of endpoints (no data)",
}


def _exempt(name: str) -> bool:
    return any(name == k or name.startswith(k) for k in NOT_ROLE_ACTIONS)


def _perm(name, method, people):
    perm = PAGE_ACTIONS[(name, method)]
    if perm == "job kind":
        from jobs.models import Job

        return job_permission(Job.objects.for_organization(people.acme).first().kind)
    return perm


def _page_actions():
    for route in every_route():
        if not route.is_api and not _exempt(route.name):
            yield route


def _request_rolled_back(client, method, url, **extra):
    with transaction.atomic():
        response = getattr(client, method.lower())(url, **extra)
        transaction.set_rollback(True)
    return response


@pytest.mark.django_db
def test_every_page_action_has_a_rule(people, client_for):
    """Owner (every right) requests every page route with GET and POST: what is not 405 must be in PAGE_ACTIONS."""
    make_sample_objects(people.acme, people.alice)
    client = client_for(people.alice, people.acme)
    taken = set()
    for route in _page_actions():
        url = sample_url(route, people.acme, people.alice)
        for method in ("GET", "POST"):
            if _request_rolled_back(client, method, url).status_code != 405:
                taken.add((route.name, method))
    missing = sorted(taken - set(PAGE_ACTIONS))
    assert not missing, f"page actions without a rule in accounts/permissions.py PAGE_ACTIONS: {missing}"
    stale = sorted(set(PAGE_ACTIONS) - taken)
    assert not stale, f"PAGE_ACTIONS names actions the server does not take: {stale}"


def test_the_table_covers_every_role_and_permission():
    assert set(ROLE_PERMISSIONS) == set(Role)
    assert all(p in {*ROLE_PERMISSIONS[Role.OWNER], "job kind"} for p in PAGE_ACTIONS.values())


@pytest.mark.django_db
@pytest.mark.parametrize("role", [r.value for r in Role])
def test_each_role_may_do_exactly_what_the_table_says(role, people, make_user, client_for):
    from accounts.models import Membership

    make_sample_objects(people.acme, people.alice)
    user = make_user(f"{role}@acme.example")
    Membership.objects.for_organization(people.acme).create(user=user, role=role)
    client = client_for(user, people.acme)
    rows = []
    for route in _page_actions():
        url = sample_url(route, people.acme, people.alice)
        for method in ("GET", "POST"):
            if (route.name, method) not in PAGE_ACTIONS:
                continue
            allowed = role_can(role, _perm(route.name, method, people))
            status = _request_rolled_back(client, method, url).status_code
            rows.append((route.name, method, allowed, status))
            assert (status != 403) == allowed, (
                f"{role} {method} {url} ({route.name}): expected {'allowed' if allowed else 'refused'}, got {status}"
            )
            assert status < 500
    assert len(rows) == len(PAGE_ACTIONS)
    if role == Role.OWNER:
        assert all(allowed for _, _, allowed, _ in rows)
    if role == Role.ADMIN:  # everything but the organization's settings, archive and deletion (owners only)
        refused = {name for name, method, allowed, _ in rows if not allowed}
        assert refused == {n for (n, m), perm in PAGE_ACTIONS.items() if perm == Perm.MANAGE_ORGANIZATION}
    if role == Role.VIEWER:
        assert sum(not allowed for _, _, allowed, _ in rows) >= 20


def _api_actions():
    """(route, method, action, perm) for every API action; perm None when the viewset has no rule for it."""
    for route in every_route():
        cls = getattr(route.callback, "cls", None)
        actions = getattr(route.callback, "actions", None)
        if not route.is_api or actions is None or _exempt(route.name):
            continue
        for method, action in list(actions.items()):
            if method in ("head", "options"):
                continue
            yield route, method, action, getattr(cls, "perms_by_action", {}).get(action)


def test_every_api_action_has_a_rule():
    actions = list(_api_actions())
    missing = [(r.name, m, a) for r, m, a, perm in actions if perm is None]
    assert not missing, f"API actions without an entry in their viewset's perms_by_action: {missing}"
    assert {a for _, _, a, _ in actions} >= {"list", "create", "destroy", "predict", "export", "customers"}


@pytest.mark.django_db
@pytest.mark.parametrize("scope", API_SCOPES)
def test_each_api_key_scope_may_do_exactly_what_the_table_says(scope, people, client):
    from accounts.services import api_key_create

    make_sample_objects(people.acme, people.alice)
    _, key = api_key_create(organization=people.acme, name=f"only {scope}", scopes=[scope], created_by=people.alice)
    checked = 0
    for route, method, action, perm in _api_actions():
        url = sample_url(route, people.acme, people.alice)
        allowed = scopes_can([scope], perm)
        response = _request_rolled_back(
            client, method, url, HTTP_AUTHORIZATION=f"Bearer {key}", content_type="application/json"
        )
        assert (response.status_code != 403) == allowed, (
            f"key with scope {scope}: {method.upper()} {url} ({action}) expected "
            f"{'allowed' if allowed else 'refused'}, got {response.status_code}"
        )
        assert response.status_code < 500
        checked += 1
    assert checked >= 10
