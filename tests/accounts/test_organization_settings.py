"""Owners rename and configure their organization (page and API): name, currency in every money figure, the
report's logo and colours; plan limits are visible; bad values are refused beside their field and change nothing."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.models import AuditEvent, Organization


def _png(width=120, height=40, colour=(31, 58, 95)) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buffer, format="PNG")
    return buffer.getvalue()


def _form(org, **changes):
    data = {
        "name": org.name,
        "currency": org.currency,
        "report_primary_colour": org.report_primary_colour,
        "report_accent_colour": org.report_accent_colour,
    }
    return {**data, **changes}


def test_a_self_signup_renames_its_organization(client, db):
    client.post(
        reverse("account_signup"),
        {
            "email": "new.founder@example.com",
            "password1": "a-long-new-passphrase",
            "password2": "a-long-new-passphrase",
        },
    )
    org = Organization.objects.get()
    assert org.name == "new.founder's organization"
    page = client.get(reverse("accounts:organization_settings"))
    assert page.status_code == 200 and b"Plan limits" in page.content
    response = client.post(reverse("accounts:organization_settings"), _form(org, name="  Founder   Coffee Ltd "))
    assert response.status_code == 302
    org.refresh_from_db()
    assert org.name == "Founder Coffee Ltd"
    assert AuditEvent.objects.for_organization(org).get(action="organization.updated").details == {
        "name": "new.founder's organization → Founder Coffee Ltd"
    }


def test_the_page_shows_the_plan_limits(people, client_for):
    page = client_for(people.alice, people.acme).get(reverse("accounts:organization_settings")).content.decode()
    assert "500.0\xa0MB" in page and "2,000,000" in page and "Jobs running at once" in page


@pytest.mark.parametrize("who", ["bob", "vera", "mia"])
def test_only_owners_reach_the_settings(people, client_for, who):
    from accounts.models import Membership

    Membership.objects.for_organization(people.acme).filter(user=people.bob).update(role="admin")
    client = client_for(getattr(people, who), people.acme)
    assert client.get(reverse("accounts:organization_settings")).status_code == 403
    assert client.post(reverse("accounts:organization_settings"), _form(people.acme, name="X")).status_code == 403


def test_a_logo_is_stored_and_a_bad_one_refused_beside_the_field(people, client_for):
    from helpers import stored_files

    client = client_for(people.alice, people.acme)
    url = reverse("accounts:organization_settings")
    logo = SimpleUploadedFile("logo.png", _png(), content_type="image/png")
    assert client.post(url, {**_form(people.acme), "logo": logo}).status_code == 302
    people.acme.refresh_from_db()
    assert people.acme.report_logo.endswith(".png")
    assert people.acme.report_logo.startswith(f"org-{people.acme.pk}/branding/logo-")
    assert people.acme.report_logo in [str(p) for p in stored_files(people.acme)]
    served = client.get(reverse("accounts:organization_logo"))
    assert b"".join(served.streaming_content) == _png()

    before = people.acme.report_logo
    fake = SimpleUploadedFile("logo.png", b"<svg onload=alert(1)>", content_type="image/png")
    page = client.post(url, {**_form(people.acme, name="Renamed"), "logo": fake})
    assert page.status_code == 400
    assert "The logo logo.png is not a PNG or JPEG image." in page.content.decode()
    people.acme.refresh_from_db()
    assert people.acme.report_logo == before and people.acme.name == "Acme"  # nothing changed


def test_a_logo_over_the_limit_is_refused(people, settings):
    from accounts.services import AccountsError, organization_update

    settings.ORGANIZATION_LOGO_MAX_BYTES = 1000
    with pytest.raises(AccountsError) as caught:
        organization_update(organization=people.acme, actor=people.alice, logo=io.BytesIO(_png(800, 800) * 3))
    assert caught.value.field == "logo"
    assert str(caught.value) == "The logo is larger than 1000 bytes; use a smaller PNG or JPEG."
    people.acme.refresh_from_db()
    assert people.acme.report_logo == ""


def test_every_bad_field_is_named_at_once(people):
    from accounts.services import AccountsError, organization_update

    with pytest.raises(AccountsError) as caught:
        organization_update(
            organization=people.acme,
            actor=people.alice,
            name=" ",
            currency="EURO",
            report_primary_colour="blue",
        )
    assert set(caught.value.details) == {"name", "currency", "report_primary_colour"}
    people.acme.refresh_from_db()
    assert people.acme.currency == "USD"


def test_the_currency_reaches_pages_and_formatting(people, client_for):
    from accounts.services import organization_update
    from segments.engine import formatting as fmt

    organization_update(organization=people.acme, actor=people.alice, currency="EUR")
    assert fmt.money(1234.5, "EUR") == "€1,234" and fmt.money(12.5, "CHF") == "CHF\u00a012.50"
    with fmt.using_currency("GBP"):
        assert fmt.money(40) == "£40.00"
    assert fmt.money(40) == "$40.00"  # the default outside an organization


def test_the_api_reads_and_changes_the_organization(people, client_for, client):
    from accounts.services import api_key_create

    _, key = api_key_create(organization=people.acme, name="CRM", scopes=["read"], created_by=people.alice)
    body = client.get("/api/v1/organization/", HTTP_AUTHORIZATION=f"Bearer {key}").json()
    assert body["name"] == "Acme" and body["currency"] == "USD"
    assert body["plan_limits"]["max_rows"] == 2_000_000
    # a key cannot change the organization; a signed-in owner can
    refused = client.patch(
        "/api/v1/organization/", {"name": "X"}, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {key}"
    )
    assert refused.status_code == 403
    owner = client_for(people.alice, people.acme)
    changed = owner.patch(
        "/api/v1/organization/", {"name": "Acme GmbH", "currency": "eur"}, content_type="application/json"
    )
    assert changed.status_code == 200, changed.content
    assert changed.json()["name"] == "Acme GmbH" and changed.json()["currency"] == "EUR"
    bad = owner.patch("/api/v1/organization/", {"currency": "XXX"}, content_type="application/json")
    assert bad.status_code == 400
    assert bad.json()["error"]["details"]["currency"][0].startswith("“XXX” is not a currency")


def test_an_admin_cannot_patch_the_organization(people, client_for):
    from accounts.models import Membership

    Membership.objects.for_organization(people.acme).filter(user=people.bob).update(role="admin")
    response = client_for(people.bob, people.acme).patch(
        "/api/v1/organization/", {"name": "Mine"}, content_type="application/json"
    )
    assert response.status_code == 403
