import pytest
from django.core import mail
from django.core.management import call_command
from django.urls import reverse

from accounts.models import AuditEvent, Invitation, Membership, Organization, User
from accounts.permissions import ROLE_PERMISSIONS, Perm, Role, role_can
from accounts.scoping import UnscopedQueryError


def test_every_role_has_a_row_in_the_permission_table():
    assert set(ROLE_PERMISSIONS) == set(Role)
    assert role_can(Role.OWNER, Perm.MANAGE_MEMBERS)
    assert not role_can(Role.ANALYST, Perm.MANAGE_MEMBERS)
    assert role_can(Role.ACCOUNT_MANAGER, Perm.EXPORT)
    assert not role_can(Role.ACCOUNT_MANAGER, Perm.RUN_ANALYSES)
    assert not role_can(Role.VIEWER, Perm.EXPORT)
    assert not role_can(None, Perm.VIEW)


def test_the_tenant_manager_refuses_unscoped_queries(people):
    with pytest.raises(UnscopedQueryError):
        list(Membership.objects.all())
    with pytest.raises(UnscopedQueryError):
        Membership.objects.filter(role="owner").count()
    assert Membership.objects.for_organization(people.acme).count() == 4
    assert Membership.objects.for_organization(people.globex).count() == 2
    # Related managers start from a fenced object and are allowed.
    assert people.acme.memberships.count() == 4


def test_create_organization_command_prints_the_slug(db, capsys):
    call_command(
        "create_organization", "Initech Ltd", "--owner-email", "Peter@Initech.example", "--password", "pw-123-secret-x"
    )
    slug = capsys.readouterr().out.strip()
    assert slug == "initech-ltd"
    org = Organization.objects.get(slug=slug)
    user = User.objects.get(email="peter@initech.example")
    assert user.check_password("pw-123-secret-x")
    assert Membership.objects.for_organization(org).get(user=user).role == Role.OWNER
    call_command("create_organization", "Initech Ltd", "--owner-email", "peter@initech.example")
    assert capsys.readouterr().out.strip() == "initech-ltd-2"


def test_login_page_serves_and_demo_style_login_works(people, client):
    response = client.get(reverse("account_login"))
    assert response.status_code == 200
    assert b"Sign In" in response.content
    response = client.post(
        reverse("account_login"), {"login": "alice@example.com", "password": "correct-horse-battery-9"}
    )
    assert response.status_code == 302
    home = client.get("/")
    assert home.status_code == 200
    assert b"Acme" in home.content


def test_anonymous_visitors_are_sent_to_login(db, client):
    response = client.get("/")
    assert response.status_code == 302
    assert reverse("account_login") in response["Location"]


def test_mia_switches_between_her_two_organizations(people, client_for):
    client = client_for(people.mia, people.acme)
    page = client.get(reverse("accounts:members")).content.decode()
    assert "Members of Acme" in page
    assert 'data-testid="org-switcher"' in page and "Globex" in page
    response = client.post(reverse("accounts:switch_org"), {"organization": people.globex.pk, "next": "/members/"})
    assert response.status_code == 302
    assert "Members of Globex" in client.get(reverse("accounts:members")).content.decode()


def test_a_user_cannot_switch_into_an_organization_they_do_not_belong_to(people, client_for):
    client = client_for(people.bob, people.acme)
    response = client.post(reverse("accounts:switch_org"), {"organization": people.globex.pk})
    assert response.status_code == 404
    assert "Members of Acme" in client.get(reverse("accounts:members")).content.decode()


def test_alice_invites_dan_who_accepts_by_email_link(people, client_for, client):
    owner = client_for(people.alice, people.acme)
    response = owner.post(reverse("accounts:members"), {"email": "Dan@Example.com", "role": "analyst"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    invitation = Invitation.objects.for_organization(people.acme).get()
    assert invitation.email == "dan@example.com"
    link = reverse("accounts:accept_invitation", args=[invitation.token])
    assert link in mail.outbox[0].body
    client.logout()
    page = client.get(link)
    assert b"Join Acme" in page.content
    response = client.post(link, {"password1": "a-long-new-passphrase", "password2": "a-long-new-passphrase"})
    assert response.status_code == 302
    dan = User.objects.get(email="dan@example.com")
    assert Membership.objects.for_organization(people.acme).get(user=dan).role == Role.ANALYST
    assert client.get("/").status_code == 200
    assert client.get(link).status_code == 404  # used once
    assert AuditEvent.objects.for_organization(people.acme).filter(action="member.joined").exists()


def test_analysts_cannot_invite_or_change_roles(people, client_for):
    client = client_for(people.bob, people.acme)
    assert client.post(reverse("accounts:members"), {"email": "x@example.com", "role": "viewer"}).status_code == 403
    vera_membership = Membership.objects.for_organization(people.acme).get(user=people.vera)
    response = client.post(reverse("accounts:member_role", args=[vera_membership.pk]), {"role": "admin"})
    assert response.status_code == 403
    vera_membership.refresh_from_db()
    assert vera_membership.role == Role.VIEWER


def test_owner_changes_a_role_and_it_is_audited(people, client_for):
    client = client_for(people.alice, people.acme)
    vera_membership = Membership.objects.for_organization(people.acme).get(user=people.vera)
    client.post(reverse("accounts:member_role", args=[vera_membership.pk]), {"role": "analyst"})
    vera_membership.refresh_from_db()
    assert vera_membership.role == Role.ANALYST
    event = AuditEvent.objects.for_organization(people.acme).get(action="member.role_changed")
    assert event.details == {"old": "viewer", "new": "analyst"}


def test_the_last_owner_cannot_be_demoted(people):
    from accounts.services import AccountsError, membership_change_role

    alice_membership = Membership.objects.for_organization(people.acme).get(user=people.alice)
    with pytest.raises(AccountsError, match="at least one owner"):
        membership_change_role(membership=alice_membership, role="admin", actor=people.alice, actor_role="owner")


def test_password_reset_sends_a_mail(people, client):
    response = client.post(reverse("account_reset_password"), {"email": "bob@example.com"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    assert "bob@example.com" in mail.outbox[0].to


def test_password_change_works(people, client_for):
    client = client_for(people.bob, people.acme)
    response = client.post(
        reverse("account_change_password"),
        {
            "oldpassword": "correct-horse-battery-9",
            "password1": "another-good-pass-77",
            "password2": "another-good-pass-77",
        },
    )
    assert response.status_code == 302
    people.bob.refresh_from_db()
    assert people.bob.check_password("another-good-pass-77")


def test_a_new_signup_gets_their_own_organization(db, client):
    response = client.post(
        reverse("account_signup"),
        {"email": "zoe@newco.example", "password1": "zoe-strong-pass-1", "password2": "zoe-strong-pass-1"},
    )
    assert response.status_code == 302
    zoe = User.objects.get(email="zoe@newco.example")
    membership = zoe.memberships.get()
    assert membership.role == Role.OWNER


def test_api_keys_page_shows_a_new_key_once(people, client_for):
    client = client_for(people.alice, people.acme)
    response = client.post(reverse("accounts:api_keys"), {"name": "CRM sync", "scopes": ["read", "predict"]})
    body = response.content.decode()
    assert 'data-testid="new-key"' in body
    page = client.get(reverse("accounts:api_keys")).content.decode()
    assert "CRM sync" in page and 'data-testid="new-key"' not in page
    assert client_for(people.bob, people.acme).get(reverse("accounts:api_keys")).status_code == 403


def test_every_kind_of_job_the_product_runs_has_a_cancel_permission():
    """Cancelling a job needs the permission that starts it (`accounts.permissions.JOB_PERMISSIONS`); a new job kind
    without a line there fails here rather than answering 500 on its cancel button."""
    from accounts.permissions import job_permission
    from jobs.services import _HANDLERS, _load_handlers

    _load_handlers()
    kinds = {kind for kind in _HANDLERS if not kind.startswith("test.")}
    permissions = {kind: job_permission(kind) for kind in kinds}  # a KeyError names the kind without a rule
    assert permissions["analysis.run"] == Perm.RUN_ANALYSES
    assert permissions["export.build"] == Perm.EXPORT
    assert permissions["datasets.import"] == permissions["datasets.synthetic"] == Perm.MANAGE_DATASETS
