"""In Chromium: the segment cards read as sentences and the customer list gives each customer their own advice;
the dataset page offers the engagement columns with their direction. Screenshots go to test-artifacts/."""

from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser]

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def _login(page, base):
    page.goto(base + "/accounts/login/")
    page.fill("input[name=login]", "alice@example.com")
    page.fill("input[name=password]", "correct-horse-battery-9")
    page.click("button[type=submit]")
    page.wait_for_url(base + "/")


def test_the_profiles_tab_shows_readable_traits_and_each_customer_s_advice(
    transactional_db, people, finished_analysis, live_server, chromium
):
    ARTIFACTS.mkdir(exist_ok=True)
    analysis = finished_analysis(people.acme, people.alice)
    page = chromium.new_page(viewport={"width": 1440, "height": 1000})
    _login(page, live_server.url)
    page.goto(f"{live_server.url}/analyses/{analysis.pk}/profiles/")
    cards = page.locator("[data-testid=segment-card]")
    assert cards.count() == len(analysis.profiles)
    traits = page.locator("[data-testid=trait]").all_inner_texts()
    assert traits and not any("=" in t or "_" in t for t in traits), traits
    page.screenshot(path=str(ARTIFACTS / "profiles-cards.png"), full_page=False)
    advice = page.locator("[data-testid=customer-advice]")
    advice.first.scroll_into_view_if_needed()
    assert advice.count() == 50 and all(a.strip() and a != "—" for a in advice.all_inner_texts())
    page.locator("#customers").scroll_into_view_if_needed() if page.locator("#customers").count() else None
    page.screenshot(path=str(ARTIFACTS / "profiles-customer-advice.png"), full_page=True)
    page.goto(f"{live_server.url}/datasets/{analysis.dataset_id}/")
    box = page.locator("[data-testid=engagement-roles]")
    box.scroll_into_view_if_needed()
    assert box.locator("select").count() >= 4
    assert "more" in box.locator("select[data-column=sessions_per_month]").input_value()
    assert box.locator("select[data-column=days_since_last_visit]").input_value() == "less"
    box.screenshot(path=str(ARTIFACTS / "dataset-engagement-roles.png"))
