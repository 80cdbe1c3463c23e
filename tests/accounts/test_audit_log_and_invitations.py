"""Every write an owner would ask about is in the audit log; the log filters by action, actor and dates and
downloads as CSV; inviting an address twice updates its one pending invitation."""

import csv
import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from helpers import as_file

from accounts.models import AuditEvent, Invitation, Membership


def _actions(org):
    return list(AuditEvent.objects.for_organization(org).order_by("pk").values_list("action", flat=True))


def test_inviting_the_same_address_twice_updates_the_pending_invitation(people, client_for):
    owner = client_for(people.alice, people.acme)
    owner.post(reverse("accounts:members"), {"email": "dan@example.com", "role": "viewer"})
    first = Invitation.objects.for_organization(people.acme).get()
    response = owner.post(reverse("accounts:members"), {"email": "Dan@Example.com", "role": "analyst"}, follow=True)
    invitations = list(Invitation.objects.for_organization(people.acme))
    assert len(invitations) == 1 and invitations[0].pk == first.pk
    assert invitations[0].role == "analyst" and invitations[0].token == first.token
    assert "already had a pending invitation" in response.content.decode()
    assert response.content.decode().count("dan@example.com") >= 1
    event = AuditEvent.objects.for_organization(people.acme).get(action="member.invitation_updated")
    assert event.details == {"old_role": "viewer", "role": "analyst"}


def test_an_expired_invitation_does_not_block_a_new_one(people):
    from accounts.services import invitation_create

    old = invitation_create(
        organization=people.acme, email="eve@example.com", role="viewer", invited_by=people.alice, inviter_role="owner"
    )
    Invitation.objects.for_organization(people.acme).filter(pk=old.pk).update(expires_at=timezone.now())
    new = invitation_create(
        organization=people.acme, email="eve@example.com", role="analyst", invited_by=people.alice, inviter_role="owner"
    )
    assert new.pk != old.pk and not new.was_updated


def test_every_write_an_owner_asks_about_is_audited(people, client_for, make_user):
    from accounts.services import (
        api_key_create,
        api_key_revoke,
        invitation_create,
        membership_change_role,
        membership_remove,
        organization_update,
    )
    from datasets.services import dataset_create_from_upload, dataset_create_synthetic, dataset_delete
    from segments.services import analysis_cancel, analysis_create, analysis_delete

    org, alice = people.acme, people.alice
    uploaded = dataset_create_from_upload(
        organization=org,
        uploaded_by=alice,
        file=as_file(b"customer_id,spend,visits\n" + b"".join(f"c{i},{i * 3},{i % 7}\n".encode() for i in range(60))),
        background=False,
    )
    synthetic = dataset_create_synthetic(organization=org, created_by=alice, rows=300, seed=3, background=False)
    analysis = analysis_create(organization=org, dataset=synthetic, created_by=alice)
    analysis_cancel(analysis=analysis, actor=alice)
    analysis_delete(analysis=analysis, actor=alice)
    dataset_delete(dataset=uploaded, actor=alice)
    invitation_create(organization=org, email="dan@example.com", role="viewer", invited_by=alice, inviter_role="owner")
    vera = Membership.objects.for_organization(org).get(user=people.vera)
    membership_change_role(membership=vera, role="analyst", actor=alice, actor_role="owner")
    membership_remove(membership=vera, actor=alice, actor_role="owner")
    key, _ = api_key_create(organization=org, name="CRM", scopes=["read"], created_by=alice)
    api_key_revoke(api_key=key, actor=alice)
    organization_update(organization=org, actor=alice, name="Acme Retail", currency="EUR")
    assert _actions(org) == [
        "dataset.uploaded",
        "dataset.generated",
        "analysis.started",
        "job.cancelled",
        "analysis.deleted",
        "dataset.deleted",
        "member.invited",
        "member.role_changed",
        "member.removed",
        "api_key.created",
        "api_key.revoked",
        "organization.updated",
    ]
    events = {e.action: e for e in AuditEvent.objects.for_organization(org)}
    assert all(e.actor == alice for e in events.values())
    assert events["organization.updated"].details == {"name": "Acme → Acme Retail", "currency": "USD → EUR"}
    assert events["job.cancelled"].target == analysis.name
    assert events["dataset.uploaded"].details["rows"] == 60


def test_an_api_key_write_is_recorded_as_the_key(people, client):
    from accounts.services import api_key_create

    key_obj, key = api_key_create(organization=people.acme, name="CRM", scopes=["write"], created_by=people.alice)
    response = client.post(
        "/api/v1/datasets/synthetic/",
        {"rows": 200, "seed": 1},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )
    assert response.status_code == 201, response.content
    event = AuditEvent.objects.for_organization(people.acme).get(action="dataset.generated")
    assert event.actor is None and event.api_key == key_obj
    page = client.get("/audit/")  # anonymous: the page needs a login
    assert page.status_code == 302


def _seed_events(org, alice, bob):
    from accounts.services import audit

    now = timezone.now()
    for days, action, actor in [
        (10, "dataset.uploaded", alice),
        (3, "analysis.started", bob),
        (0, "export.downloaded", bob),
    ]:
        event = audit(organization=org, action=action, actor=actor, target=f"{action} target")
        AuditEvent.objects.for_organization(org).filter(pk=event.pk).update(created_at=now - timedelta(days=days))


def test_the_audit_page_filters_by_action_actor_and_dates(people, client_for):
    _seed_events(people.acme, people.alice, people.bob)
    client = client_for(people.alice, people.acme)
    rows = lambda response: response.content.decode().count("<tr data-action=")  # noqa: E731
    assert rows(client.get("/audit/")) == 3
    assert rows(client.get("/audit/", {"action": "analysis.started"})) == 1
    assert rows(client.get("/audit/", {"actor": "bob@"})) == 2
    today = timezone.now().date()
    assert rows(client.get("/audit/", {"from": (today - timedelta(days=5)).isoformat()})) == 2
    assert rows(client.get("/audit/", {"to": (today - timedelta(days=5)).isoformat()})) == 1
    page = client.get("/audit/", {"actor": "bob@", "from": today.isoformat(), "to": today.isoformat()})
    assert rows(page) == 1 and "Export downloaded" in page.content.decode()


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [({"from": "yesterday"}, "from", "is not a date"), ({"from": "2026-05-02", "to": "2026-05-01"}, "to", "before")],
)
def test_a_bad_date_is_refused_beside_its_field(people, client_for, query, field, message):
    _seed_events(people.acme, people.alice, people.bob)
    page = client_for(people.alice, people.acme).get("/audit/", query).content.decode()
    assert message in page and f'id="f-{field}" class="form-control form-control-sm is-invalid"' in page
    assert 'data-testid="audit-csv"' not in page


def test_the_audit_log_downloads_as_csv_with_the_filter(people, client_for):
    _seed_events(people.acme, people.alice, people.bob)
    client = client_for(people.alice, people.acme)
    response = client.get("/audit/", {"actor": "bob@", "format": "csv"})
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="acme-audit-log.csv"' in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [r["action"] for r in rows] == ["export.downloaded", "analysis.started"]
    assert {r["actor"] for r in rows} == {"bob@example.com"}
    assert rows[0]["action_label"] == "Export downloaded"
    assert AuditEvent.objects.for_organization(people.acme).filter(action="audit_log.exported").count() == 1


def test_the_audit_log_stays_with_owners_and_admins(people, client_for):
    assert client_for(people.bob, people.acme).get("/audit/").status_code == 403
    assert client_for(people.bob, people.acme).get("/audit/?format=csv").status_code == 403
