"""Leaving through the API: owners build and download the organization's archive, schedule its deletion (the name
typed again) and cancel it during the grace period; a person deletes their own account, refused with the reason for
the last owner. Rights come from the one table (owners only for the organization; no API key scope for any of it),
errors in the one format, and another organization's archive is out of reach."""

import io
import zipfile
from datetime import timedelta

import pytest
from django.utils import timezone
from helpers import wait_for_job

from accounts.models import AuditEvent, Membership, User

ARCHIVE = "/api/v1/organization/archive/"
DOWNLOAD = "/api/v1/organization/archive/download/"
DELETION = "/api/v1/organization/deletion/"
ACCOUNT = "/api/v1/account/"
ORGANIZATION_ACTIONS = [
    ("get", ARCHIVE),
    ("post", ARCHIVE),
    ("get", DOWNLOAD),
    ("get", DELETION),
    ("post", DELETION),
    ("delete", DELETION),
]


def _call(client, method, url, data=None, **headers):
    return getattr(client, method)(url, data or {}, content_type="application/json", **headers)


@pytest.mark.django_db
def test_the_new_routes_are_in_the_walks_with_a_rule_for_each_action():
    from route_walk import every_route

    from accounts.permissions import Perm

    routes = {r.name: r for r in every_route()}
    expected = {
        "api-organization-archive": {"get": Perm.MANAGE_ORGANIZATION, "post": Perm.MANAGE_ORGANIZATION},
        "api-organization-archive-download": {"get": Perm.MANAGE_ORGANIZATION},
        "api-organization-deletion": {
            "get": Perm.MANAGE_ORGANIZATION,
            "post": Perm.MANAGE_ORGANIZATION,
            "delete": Perm.MANAGE_ORGANIZATION,
        },
        "api-account": {"get": Perm.OWN_ACCOUNT, "delete": Perm.OWN_ACCOUNT},
    }
    for name, rules in expected.items():
        route = routes[name]
        assert route.is_api
        actions = route.callback.actions
        assert {m: route.callback.cls.perms_by_action[a] for m, a in actions.items()} == rules


@pytest.mark.django_db
def test_owners_schedule_and_cancel_the_deletion_through_the_api(people, client_for, settings):
    settings.ORGANIZATION_DELETION_GRACE_DAYS = 14
    owner = client_for(people.alice, people.acme)
    assert owner.get(DELETION).json() == {
        "scheduled": False,
        "requested_at": None,
        "purge_after": None,
        "grace_days": 14,
    }
    wrong = _call(owner, "post", DELETION, {"confirm_name": "acme"})
    assert wrong.status_code == 400
    error = wrong.json()["error"]
    assert (
        error["code"] == "validation_error"
        and "Type the organization's name, Acme" in error["details"]["confirm_name"][0]
    )
    assert _call(owner, "post", DELETION, {"confirm_name": 5}).status_code == 400  # a JSON number is no name
    people.acme.refresh_from_db()
    assert people.acme.deletion_requested_at is None

    scheduled = _call(owner, "post", DELETION, {"confirm_name": "Acme"})
    assert scheduled.status_code == 202
    body = scheduled.json()
    assert body["scheduled"] is True
    people.acme.refresh_from_db()
    assert abs(people.acme.purge_after - (timezone.now() + timedelta(days=14))) < timedelta(minutes=1)
    # while it waits: the owner reaches only the archive, the deletion and the organization's description
    refused = owner.get("/api/v1/datasets/")
    assert refused.status_code == 403 and "scheduled for deletion" in refused.json()["error"]["message"]
    assert owner.get("/api/v1/organization/").json()["deletion_scheduled_for"] is not None
    assert owner.get(ARCHIVE).status_code == 200
    again = _call(owner, "post", DELETION, {"confirm_name": "Acme"})
    assert again.status_code == 400 and "already scheduled" in again.json()["error"]["message"] + str(
        again.json()["error"]["details"]
    )
    # bob (analyst) no longer has Acme at all
    assert client_for(people.bob, people.acme).get("/api/v1/datasets/").status_code == 403

    owner = client_for(people.alice, people.acme)  # (client_for signs the one test client in as that person)
    cancelled = _call(owner, "delete", DELETION)
    assert cancelled.status_code == 200 and cancelled.json()["scheduled"] is False
    people.acme.refresh_from_db()
    assert people.acme.purge_after is None
    assert client_for(people.bob, people.acme).get("/api/v1/datasets/").status_code == 200
    not_scheduled = _call(client_for(people.alice, people.acme), "delete", DELETION)
    assert not_scheduled.status_code == 400 and "not scheduled" in str(not_scheduled.json()["error"])
    actions = list(AuditEvent.objects.for_organization(people.acme).values_list("action", flat=True))
    assert actions.count("organization.deletion_scheduled") == 1 and "organization.deletion_cancelled" in actions


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["admin", "analyst", "account_manager", "viewer"])
def test_only_owners_reach_the_archive_and_the_deletion(people, client_for, role):
    Membership.objects.for_organization(people.acme).filter(user=people.bob).update(role=role)
    client = client_for(people.bob, people.acme)
    for method, url in ORGANIZATION_ACTIONS:
        response = _call(client, method, url, {"confirm_name": "Acme"})
        assert response.status_code == 403, (role, method, url, response.status_code)
        assert response.json()["error"]["code"] == "permission_denied"
    people.acme.refresh_from_db()
    assert people.acme.deletion_requested_at is None
    assert not AuditEvent.objects.for_organization(people.acme).filter(action__startswith="organization.").exists()


@pytest.mark.django_db
def test_no_api_key_scope_reaches_the_archive_the_deletion_or_an_account(people, client):
    from accounts.services import api_key_create

    _, key = api_key_create(
        organization=people.acme, name="all", scopes=["read", "write", "predict", "export"], created_by=people.alice
    )
    for method, url in [*ORGANIZATION_ACTIONS, ("get", ACCOUNT), ("delete", ACCOUNT)]:
        response = _call(client, method, url, {"confirm_name": "Acme", "confirm_email": "alice@example.com"},
                         HTTP_AUTHORIZATION=f"Bearer {key}")  # fmt: skip
        assert response.status_code == 403 and response.json()["error"]["code"] == "permission_denied", (method, url)
    assert User.objects.filter(email="alice@example.com").exists()
    people.acme.refresh_from_db()
    assert people.acme.deletion_requested_at is None


@pytest.mark.django_db
def test_a_person_deletes_their_own_account_but_not_as_the_last_owner(people, client_for):
    alice = client_for(people.alice, people.acme)
    assert alice.get(ACCOUNT).json()["deletion_blocked_by"] == ["Acme"]
    refused = _call(alice, "delete", ACCOUNT, {"confirm_email": "alice@example.com"})
    assert refused.status_code == 400
    reason = refused.json()["error"]["details"]["confirm_email"][0]
    assert "You are the last owner of Acme" in reason and "make another member an owner" in reason
    assert User.objects.filter(email="alice@example.com").exists()

    vera = client_for(people.vera, people.acme)
    me = vera.get(ACCOUNT).json()
    assert me["email"] == people.vera.email and me["deletion_blocked_by"] == []
    assert me["organizations"] == [{"name": "Acme", "role": "viewer"}]
    wrong = _call(vera, "delete", ACCOUNT, {"confirm_email": "someone@else.example"})
    assert wrong.status_code == 400 and "confirm_email" in wrong.json()["error"]["details"]
    assert User.objects.filter(pk=people.vera.pk).exists()
    gone = _call(vera, "delete", ACCOUNT, {"confirm_email": people.vera.email.upper()})
    assert gone.status_code == 204
    assert not User.objects.filter(pk=people.vera.pk).exists()
    assert AuditEvent.objects.for_organization(people.acme).filter(action="member.left", target=people.vera.email)
    assert vera.get(ACCOUNT).status_code in (401, 403)  # signed out with the account


@pytest.mark.worker
def test_owners_build_and_download_the_archive_through_the_api_and_nobody_else_s(people, worker, client_for):
    from accounts.leaving import archive_jobs
    from accounts.services import organization_update

    organization_update(organization=people.acme, actor=people.alice, name="Acme Retail GmbH")  # slug stays "acme"
    owner = client_for(people.alice, people.acme)
    empty = owner.get(ARCHIVE).json()
    assert empty == {"job": None, "download": None, "file_name": None, "size": None, "built_at": None}
    early = owner.get(DOWNLOAD)
    assert early.status_code == 409 and early.json()["error"]["code"] == "archive_not_ready"

    started = owner.post(ARCHIVE)
    assert started.status_code == 202
    job_id = started.json()["job"]["id"]
    assert started.json()["job"]["kind"] == "organization.archive"
    wait_for_job(archive_jobs(organization=people.acme).get(pk=job_id))
    ready = owner.get(ARCHIVE).json()
    assert ready["job"]["status"] == "succeeded" and ready["download"] == DOWNLOAD
    assert ready["file_name"].startswith("acme-retail-gmbh-archive-") and ready["file_name"].endswith(".zip")
    assert ready["size"] > 0
    response = owner.get(ready["download"])
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    assert {"organization.json", "audit-log.csv", "README.txt"} <= set(archive.namelist())
    assert b'"name": "Acme Retail GmbH"' in archive.read("organization.json")
    assert AuditEvent.objects.for_organization(people.acme).filter(action="organization.archive_downloaded").exists()

    # Globex's owner sees Globex's (none), never Acme's
    charlie = client_for(people.charlie, people.globex)
    assert charlie.get(ARCHIVE).json()["job"] is None
    assert charlie.get(DOWNLOAD).status_code == 409
