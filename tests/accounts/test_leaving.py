"""Leaving without the worker: deleting an organization shuts members and keys out at once while owners can
restore it; a person deletes their own account once no organization depends on them as its last owner."""

import pytest
from django.urls import reverse

from accounts.models import AuditEvent, Membership, Organization, User


def test_a_deleted_organization_shuts_out_members_and_keys_until_restored(people, client_for, client):
    from accounts.services import api_key_create

    _, key = api_key_create(organization=people.acme, name="CRM", scopes=["read"], created_by=people.alice)
    owner = client_for(people.alice, people.acme)
    response = owner.post(reverse("accounts:organization_delete"), {"confirm_name": "Acme"}, follow=True)
    assert "scheduled for deletion" in response.content.decode()
    # the owner lands on the settings page from anywhere else, to restore it or take the data out
    assert owner.get("/datasets/").url == reverse("accounts:organization_settings")
    assert owner.get(reverse("accounts:organization_settings")).status_code == 200
    # bob (analyst) no longer sees Acme at all; the key is refused
    bob = client_for(people.bob, people.acme)
    assert bob.get("/datasets/").url == reverse("accounts:no_organization")
    api = client.get("/api/v1/organization/", HTTP_AUTHORIZATION=f"Bearer {key}")
    assert api.status_code == 401 and "scheduled for deletion" in api.json()["error"]["message"]
    # restore: everything is back (client_for signs one test client in as another person)
    client_for(people.alice, people.acme).post(reverse("accounts:organization_restore"))
    people.acme.refresh_from_db()
    assert people.acme.deletion_requested_at is None and people.acme.purge_after is None
    assert client_for(people.bob, people.acme).get("/datasets/").status_code == 200
    assert client.get("/api/v1/organization/", HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 200
    actions = set(AuditEvent.objects.for_organization(people.acme).values_list("action", flat=True))
    assert {"organization.deletion_scheduled", "organization.deletion_cancelled"} <= actions


@pytest.mark.parametrize("role", ["admin", "analyst", "viewer"])
def test_only_owners_delete_or_archive(people, client_for, role):
    Membership.objects.for_organization(people.acme).filter(user=people.bob).update(role=role)
    client = client_for(people.bob, people.acme)
    assert client.post(reverse("accounts:organization_delete"), {"confirm_name": "Acme"}).status_code == 403
    assert client.post(reverse("accounts:organization_archive")).status_code == 403
    people.acme.refresh_from_db()
    assert people.acme.deletion_requested_at is None


def test_the_grace_period_is_a_setting(people, settings):
    from accounts.leaving import organization_delete_request

    settings.ORGANIZATION_DELETION_GRACE_DAYS = 2
    org = organization_delete_request(organization=people.acme, actor=people.alice, confirm_name="Acme")
    assert (org.purge_after - org.deletion_requested_at).days == 2


def test_the_last_owner_hands_over_before_deleting_their_account(people, client_for):
    client = client_for(people.alice, people.acme)
    page = client.post(reverse("accounts:account"), {"confirm_email": "alice@example.com"})
    assert page.status_code == 400
    assert "You are the last owner of Acme" in page.content.decode()
    assert User.objects.filter(email="alice@example.com").exists()
    assert client.post(reverse("accounts:account"), {"confirm_email": "nobody@example.com"}).status_code == 400

    vera = Membership.objects.for_organization(people.acme).get(user=people.vera)
    vera.role = "owner"
    vera.save()
    response = client.post(reverse("accounts:account"), {"confirm_email": "Alice@Example.com"})
    assert response.status_code == 302
    assert not User.objects.filter(email="alice@example.com").exists()
    assert Membership.objects.for_organization(people.acme).filter(user__email="alice@example.com").count() == 0
    event = AuditEvent.objects.for_organization(people.acme).get(action="member.left")
    assert event.target == "alice@example.com" and event.details == {"role": "owner"}
    # the log still names her after her account is gone
    page = client_for(people.vera, people.acme).get("/audit/", {"actor": "alice@"}).content.decode()
    assert page.count("alice@example.com <span") == 1  # her leaving, by her
    assert "(deleted)" in page
    assert Organization.objects.filter(pk=people.acme.pk).exists()


def test_a_member_who_owns_nothing_deletes_their_account(people, client_for):
    client = client_for(people.mia, people.acme)
    assert client.post(reverse("accounts:account"), {"confirm_email": "mia@example.com"}).status_code == 302
    assert not User.objects.filter(email="mia@example.com").exists()
    for org in (people.acme, people.globex):
        assert AuditEvent.objects.for_organization(org).filter(action="member.left").count() == 1


def test_only_the_newest_three_archives_are_kept(people):
    import io
    from datetime import timedelta

    from django.utils import timezone

    from accounts.leaving import ARCHIVE_JOB_KIND, _drop_old_archives
    from jobs.models import Job
    from segsaas import storage

    storage.delete_tree(f"org-{people.acme.pk}/archives")  # files an earlier test left under the same id
    now = timezone.now()
    jobs = [
        Job.objects.for_organization(people.acme).create(
            kind=ARCHIVE_JOB_KIND, status="succeeded", created_at=now - timedelta(hours=10 - i)
        )
        for i in range(4)
    ]
    try:
        for job in jobs:
            storage.save(f"org-{people.acme.pk}/archives/{job.pk}/acme.zip", io.BytesIO(b"zip"))
        _drop_old_archives(people.acme, keep_job=jobs[-1])
        left = {p.split("/")[2] for p in storage.list_tree(f"org-{people.acme.pk}/archives")}
        assert left == {str(j.pk) for j in jobs[1:]}
    finally:  # the database rolls back but files stay: a later test whose organization gets the same id finds them
        storage.delete_tree(f"org-{people.acme.pk}/archives")
