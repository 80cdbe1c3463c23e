"""The organization settings, the audit log's filter and the delete / restore flow, driven in Debian's Chromium;
screenshots land in test-artifacts/."""

from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture
def page(chromium):
    page = chromium.new_page(viewport={"width": 1280, "height": 900})
    page.console_errors = []
    page.on("console", lambda m: page.console_errors.append(m.text) if m.type == "error" else None)
    return page


def _unexpected(errors):
    """Console errors apart from the refused forms' own 400 answers (a refused form is sent back with 400)."""
    return [e for e in errors if "status of 400 (Bad Request)" not in e]


def _login(page, live_server, email):
    page.goto(live_server.url + "/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", "correct-horse-battery-9")
    page.click("button[type=submit]")
    page.wait_for_url(live_server.url + "/")


def _logo(tmp_path) -> str:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (240, 70), "white")
    ImageDraw.Draw(image).ellipse((8, 8, 62, 62), fill=(91, 44, 111))
    path = tmp_path / "logo.png"
    image.save(path)
    return str(path)


def test_an_owner_renames_sets_the_currency_and_uploads_a_logo(people, live_server, page, tmp_path):
    ARTIFACTS.mkdir(exist_ok=True)
    _login(page, live_server, "alice@example.com")
    page.click("[data-testid=user-menu]")
    page.click("text=Organization settings")
    page.wait_for_selector("[data-testid=plan-limits]")
    page.fill("#id_name", "Acme Retail GmbH")
    page.select_option("#id_currency", "EUR")
    page.fill("#id_report_primary_colour", "not a colour")
    page.set_input_files("#id_logo", _logo(tmp_path))
    page.click("text=Save settings")
    # the bad colour is refused beside its field and nothing is saved
    assert (
        "is not a colour"
        in page.locator("#id_report_primary_colour ~ .invalid-feedback, .invalid-feedback").first.inner_text()
    )
    page.screenshot(path=str(ARTIFACTS / "org-settings-refused.png"), full_page=True)
    people.acme.refresh_from_db()
    assert people.acme.name == "Acme" and people.acme.currency == "USD"
    page.fill("#id_report_primary_colour", "#5B2C6F")
    page.set_input_files("#id_logo", _logo(tmp_path))
    page.click("text=Save settings")
    page.wait_for_selector("text=Settings saved.")
    assert page.locator("[data-testid=current-logo]").evaluate("img => img.naturalWidth") == 240
    assert "Acme Retail GmbH" in page.locator("h1").inner_text()
    page.screenshot(path=str(ARTIFACTS / "org-settings.png"), full_page=True)
    people.acme.refresh_from_db()
    assert (people.acme.name, people.acme.currency, people.acme.report_primary_colour) == (
        "Acme Retail GmbH",
        "EUR",
        "#5B2C6F",
    )
    assert _unexpected(page.console_errors) == []


def test_the_audit_log_filters_by_actor_and_action(people, live_server, page):
    from accounts.services import audit

    for action, actor in [
        ("dataset.uploaded", people.alice),
        ("analysis.started", people.bob),
        ("job.cancelled", people.bob),
    ]:
        audit(organization=people.acme, action=action, actor=actor, target="Spring customers")
    _login(page, live_server, "alice@example.com")
    page.goto(live_server.url + "/audit/")
    assert page.locator("[data-testid=audit-table] tbody tr").count() == 3
    page.fill("#f-actor", "bob@")
    page.select_option("#f-action", "job.cancelled")
    page.get_by_role("button", name="Filter", exact=True).click()
    page.wait_for_url("**/audit/?*")
    rows = page.locator("[data-testid=audit-table] tbody tr")
    assert rows.count() == 1 and "Job cancelled" in rows.first.inner_text()
    assert "1 event matches the filter" in page.locator("[data-testid=audit-count]").inner_text()
    page.fill("#f-from", "2030-01-01")
    page.fill("#f-to", "2029-01-01")
    page.get_by_role("button", name="Filter", exact=True).click()
    page.wait_for_selector("text=The To date is before the From date.")
    assert page.locator("[data-testid=audit-table] tbody tr").count() == 0  # a bad filter shows nothing unfiltered
    assert "Correct the filter" in page.locator("[data-testid=audit-count]").inner_text()
    page.screenshot(path=str(ARTIFACTS / "audit-filter-refused.png"), full_page=True)
    page.fill("#f-from", "")
    page.fill("#f-to", "")
    page.get_by_role("button", name="Filter", exact=True).click()
    page.wait_for_selector("[data-testid=audit-csv]")
    with page.expect_download() as download:
        page.click("[data-testid=audit-csv]")
    text = Path(download.value.path()).read_text()
    assert text.splitlines()[0] == "when_utc,actor,action,action_label,target,details"
    assert len(text.splitlines()) == 2 and "job.cancelled" in text
    page.screenshot(path=str(ARTIFACTS / "audit-filter.png"), full_page=True)
    assert _unexpected(page.console_errors) == []


def test_an_owner_deletes_then_restores_the_organization(people, live_server, page):
    _login(page, live_server, "alice@example.com")
    page.goto(live_server.url + "/organization/")
    page.fill("#id_confirm_name", "acme")
    page.click("[data-testid=confirm-delete-organization]")
    page.wait_for_selector("text=Type the organization's name, Acme, exactly to confirm.")
    people.acme.refresh_from_db()
    assert people.acme.deletion_requested_at is None
    page.fill("#id_confirm_name", "Acme")
    page.click("[data-testid=confirm-delete-organization]")
    page.wait_for_selector("[data-testid=pending-deletion]")
    assert "scheduled for deletion on" in page.locator("[data-testid=pending-deletion]").inner_text()
    page.screenshot(path=str(ARTIFACTS / "org-pending-deletion.png"), full_page=True)
    page.goto(live_server.url + "/datasets/")  # the rest of the product is closed: back to the settings
    assert page.url.endswith("/organization/")
    page.click("[data-testid=restore-organization]")
    page.wait_for_selector("text=is restored; nothing was deleted.")
    people.acme.refresh_from_db()
    assert people.acme.deletion_requested_at is None
    assert _unexpected(page.console_errors) == []


def test_the_last_owner_is_told_to_hand_over_before_deleting_their_account(people, live_server, page):
    _login(page, live_server, "alice@example.com")
    page.click("[data-testid=user-menu]")
    page.click("text=Your account")
    page.fill("#id_confirm_email", "alice@example.com")
    page.click("text=Delete my account")
    error = page.locator("[data-testid=account-error]")
    assert "You are the last owner of Acme" in error.inner_text()
    page.screenshot(path=str(ARTIFACTS / "account-delete-refused.png"), full_page=True)
    # hand over: make Bob an owner on the Members page, then delete
    page.goto(live_server.url + "/members/")
    page.select_option("select[aria-label='Role of bob@example.com']", "owner")
    page.locator("form:has(select[aria-label='Role of bob@example.com']) button").click()
    page.wait_for_selector("text=bob@example.com is now Owner.")
    page.goto(live_server.url + "/account/")
    page.fill("#id_confirm_email", "alice@example.com")
    page.click("text=Delete my account")
    page.wait_for_url("**/accounts/login/")
    assert "Your account was deleted." in page.content()
    from accounts.models import User

    assert not User.objects.filter(email="alice@example.com").exists()
    assert _unexpected(page.console_errors) == []
