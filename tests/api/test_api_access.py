"""Who may call what: API key scopes, members' roles over session auth, other organizations' ids (404),
authentication failures, throttling and body-size limits, all in the one error format."""

import pytest
from helpers import sample_records

pytestmark = pytest.mark.django_db


def _calls(analysis, dataset, record):
    a, d = f"/api/v1/analyses/{analysis.pk}/", f"/api/v1/datasets/{dataset.pk}/"
    return {
        "list datasets": ("get", "/api/v1/datasets/", None),
        "read dataset": ("get", d, None),
        "list analyses": ("get", "/api/v1/analyses/", None),
        "read analysis": ("get", a, None),
        "read segments": ("get", a + "segments/", None),
        "read customers": ("get", a + "customers/", None),
        "change roles": ("patch", d, {"roles": {"city": "ignore"}}),
        "generate dataset": ("post", "/api/v1/datasets/synthetic/", {"rows": 100}),
        "start analysis": ("post", "/api/v1/analyses/", {"dataset": dataset.pk}),
        "predict": ("post", a + "predict/", {"record": record}),
        "export": ("get", a + "export/?format=json", None),
    }


ALLOWED_BY_SCOPE = {
    "read": {"list datasets", "read dataset", "list analyses", "read analysis", "read segments", "read customers"},
    "write": {
        "list datasets",
        "read dataset",
        "list analyses",
        "read analysis",
        "read segments",
        "read customers",
        "change roles",
        "generate dataset",
        "start analysis",
    },
    "predict": {"predict"},
    "export": {"export"},
}
ALLOWED_BY_ROLE = {
    "alice": ALLOWED_BY_SCOPE["write"] | {"predict", "export"},  # owner
    "bob": ALLOWED_BY_SCOPE["write"] | {"predict", "export"},  # analyst
    "mia": ALLOWED_BY_SCOPE["read"] | {"predict", "export"},  # account manager
    "vera": ALLOWED_BY_SCOPE["read"],  # viewer
}


def _call(client, method, url, body, headers):
    if method == "get":
        return client.get(url, **headers)
    return getattr(client, method)(url, body, content_type="application/json", **headers)


@pytest.mark.parametrize("scope", ["read", "write", "predict", "export"])
def test_each_scope_allows_exactly_its_calls(scope, api, acme_analysis, acme_dataset, model_cache):
    record = sample_records(acme_dataset, 1)[0]
    key = api(scopes=[scope])
    for name, (method, url, body) in _calls(acme_analysis, acme_dataset, record).items():
        response = _call(key.client, method, url, body, key._headers())
        if name in ALLOWED_BY_SCOPE[scope]:
            assert response.status_code in (200, 201, 202), f"{scope} key: {name} answered {response.status_code}"
        else:
            assert response.status_code == 403, f"{scope} key: {name} answered {response.status_code}"
            assert response.json()["error"]["code"] == "permission_denied"


@pytest.mark.parametrize("who", ["alice", "bob", "mia", "vera"])
def test_session_users_get_what_their_role_allows(who, people, client_for, acme_analysis, acme_dataset, model_cache):
    record = sample_records(acme_dataset, 1)[0]
    client = client_for(getattr(people, who), people.acme)
    for name, (method, url, body) in _calls(acme_analysis, acme_dataset, record).items():
        response = _call(client, method, url, body, {})
        expected_ok = name in ALLOWED_BY_ROLE[who]
        assert (response.status_code in (200, 201, 202)) == expected_ok, (
            f"{who}: {name} answered {response.status_code}"
        )
        if not expected_ok:
            assert response.status_code == 403


def test_a_viewer_cannot_upload_delete_or_cancel(people, client_for, acme_analysis, acme_dataset):
    client = client_for(people.vera, people.acme)
    assert client.delete(f"/api/v1/analyses/{acme_analysis.pk}/").status_code == 403
    assert client.delete(f"/api/v1/datasets/{acme_dataset.pk}/").status_code == 403
    assert client.post(f"/api/v1/analyses/{acme_analysis.pk}/cancel/").status_code == 403
    assert client.post("/api/v1/datasets/", {}).status_code == 403


def test_another_organizations_ids_are_not_found(api, people, acme_analysis, acme_dataset, model_cache):
    globex = api(org=people.globex)
    record = sample_records(acme_dataset, 1)[0]
    a, d = f"/api/v1/analyses/{acme_analysis.pk}/", f"/api/v1/datasets/{acme_dataset.pk}/"
    for method, url, body in [
        ("get", a, None),
        ("get", a + "segments/", None),
        ("get", a + "customers/", None),
        ("post", a + "predict/", {"record": record}),
        ("post", a + "cancel/", None),
        ("delete", a, None),
        ("get", a + "export/?format=csv", None),
        ("get", d, None),
        ("patch", d, {"roles": {"city": "ignore"}}),
        ("delete", d, None),
    ]:
        response = _call(globex.client, method, url, body, globex._headers())
        assert response.status_code == 404, f"{method} {url} answered {response.status_code}"
        assert response.json()["error"]["code"] == "not_found"
    assert globex.get("/api/v1/analyses/").json()["count"] == 0
    assert globex.get("/api/v1/datasets/").json()["count"] == 0
    # Mia works at both: in her Globex session she does not see Acme's analysis either.
    from django.test import Client

    mia = Client()
    mia.force_login(people.mia)
    session = mia.session
    session["active_organization_id"] = people.globex.pk
    session.save()
    assert mia.get(a).status_code == 404


def test_requests_without_a_valid_key_are_401(api, acme_dataset):
    anonymous = api(key=None).get("/api/v1/datasets/")
    assert anonymous.status_code == 401 and anonymous["WWW-Authenticate"] == "Bearer"
    assert anonymous.json()["error"]["code"] == "not_authenticated"
    wrong = api(key="abcdefgh.not-a-real-key").get("/api/v1/datasets/")
    assert wrong.status_code == 401 and wrong.json()["error"] == {
        "code": "authentication_failed",
        "message": "Invalid or revoked API key.",
        "details": {},
    }


def test_a_key_revoked_on_the_keys_page_stops_working_at_once(api, people, client_for):
    from accounts.models import OrganizationAPIKey

    client = api(scopes=["read"])
    assert client.get("/api/v1/datasets/").status_code == 200  # verified, and remembered for a few seconds
    key = OrganizationAPIKey.objects.for_organization(people.acme).latest("created")
    client_for(people.alice, people.acme).post(f"/api-keys/{key.pk}/revoke/")
    assert OrganizationAPIKey.objects.for_organization(people.acme).get(pk=key.pk).revoked
    assert client.get("/api/v1/datasets/").status_code == 401


def test_a_key_revoked_elsewhere_stops_working_within_the_cache_seconds(api, people, settings, monkeypatch):
    """Another process (or an operator in the database) revoked it: this process notices within
    API_KEY_CACHE_SECONDS."""
    from accounts.api_auth import verified_keys
    from accounts.models import OrganizationAPIKey

    settings.API_KEY_CACHE_SECONDS = 5
    now = [1000.0]
    monkeypatch.setattr(verified_keys, "clock", lambda: now[0])
    client = api(scopes=["read"])
    assert client.get("/api/v1/datasets/").status_code == 200
    OrganizationAPIKey.objects.for_organization(people.acme).update(revoked=True)
    now[0] += 4.9
    assert client.get("/api/v1/datasets/").status_code == 200  # still within the 5 seconds
    now[0] += 0.2
    assert client.get("/api/v1/datasets/").status_code == 401


def test_too_many_requests_get_429_with_retry_after(api, people, monkeypatch):
    from django.core.cache import cache

    from accounts.api_auth import APIKeyRateThrottle
    from accounts.models import OrganizationAPIKey

    monkeypatch.setattr(APIKeyRateThrottle, "THROTTLE_RATES", {"api_key": "3/minute"})
    # 30 s into a one-minute window, frozen, so the four requests cannot straddle two windows
    monkeypatch.setattr(APIKeyRateThrottle, "timer", staticmethod(lambda: 60 * 29_000_000 + 30.0))
    client = api(scopes=["read"])
    statuses = [client.get("/api/v1/datasets/").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    response = client.get("/api/v1/datasets/")
    assert response.status_code == 429 and int(response["Retry-After"]) == 30  # until the window ends
    assert response.json()["error"]["code"] == "throttled"
    # the key's whole state is one counter, however many requests it made
    key = OrganizationAPIKey.objects.for_organization(people.acme).latest("created")
    assert cache.get(f"throttle_api_key_key:{key.prefix}:29000000") == 5
    # another key of the same organization has its own budget
    assert api(scopes=["read"]).get("/api/v1/datasets/").status_code == 200


def test_an_oversized_body_is_413_in_the_error_format(api, acme_analysis, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    records = [{"orders": i, "region": "North" * 10} for i in range(400)]
    response = api().post(f"/api/v1/analyses/{acme_analysis.pk}/predict/", {"records": records})
    assert response.status_code == 413
    error = response.json()["error"]
    assert error["code"] == "request_too_large" and "limit is 10,000 bytes" in error["message"]


def test_unknown_ids_are_404_in_the_error_format(api):
    response = api().get("/api/v1/analyses/999999/")
    assert response.status_code == 404
    assert response.json() == {
        "error": {"code": "not_found", "message": "No Analysis matches the given query.", "details": {}}
    }


def test_a_key_read_while_it_is_being_revoked_is_not_remembered(api, people, monkeypatch):
    """Request A reads the key's row, then the key is revoked (another thread), then A would cache what it read:
    the next request must not be authenticated by that stale copy."""
    from accounts.models import OrganizationAPIKey
    from accounts.services import api_key_revoke

    client = api(scopes=["read"])
    key = OrganizationAPIKey.objects.for_organization(people.acme).latest("created")
    manager = type(OrganizationAPIKey.objects)
    real_get_from_key = manager.get_from_key

    def read_then_revoked(self, presented):
        row = real_get_from_key(self, presented)
        api_key_revoke(api_key=key, actor=people.alice)
        return row

    monkeypatch.setattr(manager, "get_from_key", read_then_revoked)
    assert client.get("/api/v1/datasets/").status_code == 200  # in flight before the revoke
    monkeypatch.undo()
    assert client.get("/api/v1/datasets/").status_code == 401
