"""`/api/v1/webhooks/`: partners list, register, change and remove their webhook endpoints and read the delivery log,
with the page's rules (the one role table: owners, admins and keys with the `webhooks` scope; the URL checked, private
and loopback addresses refused under production settings; the secret shown only in the registration's answer), the
one error format, organizations kept apart, and the routes in the OpenAPI schema."""

import pytest
from timeline.receiver import Receiver  # tests/timeline: the loopback receiver

from accounts.permissions import API_SCOPES, Role, role_can, scopes_can
from monitoring.models import WebhookDelivery, WebhookEndpoint
from monitoring.webhooks import verify_signature

pytestmark = pytest.mark.django_db

HOOKS = "/api/v1/webhooks/"


def _endpoints(org):
    return list(WebhookEndpoint.objects.for_organization(org).values_list("url", "events", "active", "secret"))


def test_registering_answers_the_secret_once_and_deliveries_are_signed_with_it(api, people):
    from monitoring.services import delivery_attempt, emit

    partner = api(scopes=["webhooks"])
    with Receiver() as receiver:
        created = partner.post(HOOKS, {"url": receiver.url, "events": ["dataset.version_ready", "analysis.failed"]})
        assert created.status_code == 201, created.content
        body = created.json()
        assert body["secret"].startswith("whsec_") and body["active"] is True
        assert body["events"] == ["analysis.failed", "dataset.version_ready"]
        assert created["Location"] == f"{HOOKS}{body['id']}/"
        # the secret never shows again
        listed = partner.get(HOOKS).json()
        assert [e["id"] for e in listed["results"]] == [body["id"]]
        assert "secret" not in listed["results"][0]
        assert "secret" not in partner.get(f"{HOOKS}{body['id']}/").json()

        (delivery,) = emit(organization=people.acme, event="dataset.version_ready", data={"dataset": 3, "version": 2})
        delivery_attempt(delivery.pk)
    (request,) = receiver.requests
    headers = {k.lower(): v for k, v in request["headers"].items()}
    assert verify_signature(body["secret"], request["body"], headers["x-segsaas-signature"])

    log = partner.get(f"{HOOKS}{body['id']}/deliveries/")
    assert log.status_code == 200
    (row,) = log.json()["results"]
    assert row["id"] == delivery.pk and row["event"] == "dataset.version_ready"
    assert row["status"] == "succeeded" and row["attempts"] == 1 and row["response_status"] == 200
    assert row["payload"]["data"] == {"dataset": 3, "version": 2}


def test_changing_an_endpoint_keeps_its_secret_and_pausing_stops_deliveries(api, people):
    from monitoring.services import emit

    partner = api(scopes=["webhooks"])
    made = partner.post(HOOKS, {"url": "http://127.0.0.1:9/a", "events": ["analysis.failed"]}).json()
    secret = WebhookEndpoint.objects.for_organization(people.acme).get(pk=made["id"]).secret
    changed = partner.patch(f"{HOOKS}{made['id']}/", {"url": "http://127.0.0.1:9/b", "events": ["analysis.succeeded"]})
    assert changed.status_code == 200, changed.content
    assert changed.json()["url"] == "http://127.0.0.1:9/b" and changed.json()["events"] == ["analysis.succeeded"]
    assert _endpoints(people.acme) == [("http://127.0.0.1:9/b", ["analysis.succeeded"], True, secret)]

    assert partner.patch(f"{HOOKS}{made['id']}/", {"active": False}).json()["active"] is False
    with_capture = emit(organization=people.acme, event="analysis.succeeded", data={"analysis": 1})
    assert with_capture == [] and not WebhookDelivery.objects.for_organization(people.acme).exists()

    assert partner.delete(f"{HOOKS}{made['id']}/").status_code == 204
    assert _endpoints(people.acme) == []
    assert partner.get(f"{HOOKS}{made['id']}/").status_code == 404


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"url": "http://127.0.0.1:8000/hook", "events": ["analysis.failed"]}, "url", "private, loopback"),
        ({"url": "http://10.0.0.5/hook", "events": ["analysis.failed"]}, "url", "10.0.0.5"),
        ({"url": "ftp://example.com/hook", "events": ["analysis.failed"]}, "url", "http:// or https://"),
        ({"url": "https://user:pw@example.com/", "events": ["analysis.failed"]}, "url", "user name or password"),
        ({"url": "https://example.com/hook", "events": []}, "events", "Choose events among"),
        ({"url": "https://example.com/hook", "events": ["segments.everything"]}, "events", "not a valid choice"),
        ({"url": "https://example.com/hook", "events": "analysis.failed"}, "events", "Expected a list"),
        ({"events": ["analysis.failed"]}, "url", "required"),
    ],
)
def test_bad_registrations_are_refused_naming_the_field_and_nothing_is_saved(
    api, people, settings, body, field, message
):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = False  # production
    response = api(scopes=["webhooks"]).post(HOOKS, body)
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert message in str(error["details"][field]), error
    assert _endpoints(people.acme) == []


def test_a_refused_change_changes_nothing(api, people, settings):
    partner = api(scopes=["webhooks"])
    made = partner.post(HOOKS, {"url": "http://127.0.0.1:9/a", "events": ["analysis.failed"]}).json()
    before = _endpoints(people.acme)
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = False
    for body, field in (
        ({"url": "http://192.168.1.10/x", "events": ["analysis.succeeded"]}, "url"),
        ({"url": "http://127.0.0.1:9/a", "events": ["nope"], "active": False}, "events"),
        ({"active": "no"}, "active"),
        ({}, "url, events, active"),
    ):
        response = partner.patch(f"{HOOKS}{made['id']}/", body)
        assert response.status_code == 400, (body, response.content)
        assert field in str(response.json()["error"]["details"]), response.json()
    assert _endpoints(people.acme) == before


@pytest.mark.parametrize("role", [r.value for r in Role])
def test_each_role_may_manage_webhooks_exactly_when_the_table_says(role, people, make_user, client_for):
    from accounts.models import Membership

    user = make_user(f"{role}-hooks@acme.example")
    Membership.objects.for_organization(people.acme).create(user=user, role=role)
    client = client_for(user, people.acme)
    allowed = role_can(role, "manage_webhooks")
    assert allowed == (role in ("owner", "admin"))
    response = client.post(
        HOOKS, {"url": "http://127.0.0.1:9/x", "events": ["analysis.failed"]}, content_type="application/json"
    )
    assert response.status_code == (201 if allowed else 403), response.content
    assert client.get(HOOKS).status_code == (200 if allowed else 403)
    if not allowed:
        assert response.json()["error"]["code"] == "permission_denied"
        assert _endpoints(people.acme) == []


@pytest.mark.parametrize("scope", API_SCOPES)
def test_only_keys_with_the_webhooks_scope_reach_the_endpoints(scope, api, people):
    assert scopes_can([scope], "manage_webhooks") == (scope == "webhooks")
    response = api(scopes=[scope]).post(HOOKS, {"url": "http://127.0.0.1:9/x", "events": ["analysis.failed"]})
    assert response.status_code == (201 if scope == "webhooks" else 403), response.content


def test_organizations_see_and_touch_only_their_own_endpoints_and_deliveries(api, people):
    from monitoring.services import emit

    acme, globex = api(scopes=["webhooks"]), api(scopes=["webhooks"], org=people.globex)
    mine = acme.post(HOOKS, {"url": "http://127.0.0.1:9/acme", "events": ["analysis.failed"]}).json()
    theirs = globex.post(HOOKS, {"url": "http://127.0.0.1:9/globex", "events": ["analysis.failed"]}).json()
    emit(organization=people.acme, event="analysis.failed", data={"analysis": 1})
    before = (_endpoints(people.acme), _endpoints(people.globex))

    assert [e["id"] for e in globex.get(HOOKS).json()["results"]] == [theirs["id"]]
    for method, url, body in (
        ("get", f"{HOOKS}{mine['id']}/", None),
        ("get", f"{HOOKS}{mine['id']}/deliveries/", None),
        ("patch", f"{HOOKS}{mine['id']}/", {"active": False}),
        ("delete", f"{HOOKS}{mine['id']}/", None),
    ):
        response = getattr(globex, method)(url, *([body] if body is not None else []))
        assert response.status_code == 404, (method, url, response.status_code)
        assert response.json()["error"]["code"] == "not_found"
    assert globex.get(f"{HOOKS}{theirs['id']}/deliveries/").json()["results"] == []
    assert len(acme.get(f"{HOOKS}{mine['id']}/deliveries/").json()["results"]) == 1
    assert (_endpoints(people.acme), _endpoints(people.globex)) == before


def test_the_webhook_routes_are_in_the_openapi_schema(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    paths = schema["paths"]
    assert set(paths["/api/v1/webhooks/"]) >= {"get", "post"}
    assert set(paths["/api/v1/webhooks/{id}/"]) >= {"get", "patch", "delete"}
    assert "get" in paths["/api/v1/webhooks/{id}/deliveries/"]
    created = paths["/api/v1/webhooks/"]["post"]["responses"]["201"]["content"]["application/json"]["schema"]
    name = created["$ref"].rsplit("/", 1)[1]
    assert "secret" in schema["components"]["schemas"][name]["properties"]
    assert "400" in paths["/api/v1/webhooks/"]["post"]["responses"]
