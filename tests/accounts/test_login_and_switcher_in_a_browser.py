"""Log in through the real page in Debian's Chromium and switch organizations from the header."""

from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture
def page(chromium):
    page = chromium.new_page(viewport={"width": 1280, "height": 800})
    page.console_errors = []
    page.on("console", lambda m: page.console_errors.append(m.text) if m.type == "error" else None)
    return page


def test_mia_logs_in_and_switches_organization(people, live_server, page):
    ARTIFACTS.mkdir(exist_ok=True)
    page.goto(live_server.url + "/")
    assert "/accounts/login/" in page.url
    page.fill("input[name=login]", "mia@example.com")
    page.fill("input[name=password]", "correct-horse-battery-9")
    page.click("button[type=submit]")
    page.wait_for_url(live_server.url + "/")
    assert page.locator("h1").inner_text() == "Acme"
    page.select_option("#org-select", str(people.globex.pk))
    page.wait_for_selector("text=Now working in Globex")
    assert page.locator("h1").inner_text() == "Globex"
    page.screenshot(path=str(ARTIFACTS / "org-switched.png"))
    # Tablet width: the navigation collapses behind the toggler and still works.
    page.set_viewport_size({"width": 768, "height": 900})
    page.goto(live_server.url + "/members/")
    assert "Members of Globex" in page.content()
    assert page.console_errors == []
