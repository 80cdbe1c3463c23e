"""The Lifetime value tab of an order-log analysis in Debian's Chromium: every chart draws (no unknown trace type
in the vendored Plotly bundle, no console error), the accuracy sentence and the top customers' ranges are there."""

from pathlib import Path

import pytest
from helpers import cdnow_csv, upload_orders

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHARTS = ("clv-tracking", "clv-conditional", "clv-distribution", "clv-p-active", "clv-top")


def test_the_lifetime_value_tab_draws_every_chart_without_console_errors(people, live_server, chromium):
    from jobs.services import job_execute
    from segments.services import analysis_create

    dataset = upload_orders(people.acme, people.alice, cdnow_csv(), name="cdnow-orders.csv")
    analysis = analysis_create(
        organization=people.acme, dataset=dataset, settings={"n_clusters": 4, "nlp": False}, created_by=people.alice
    )
    assert job_execute(analysis.job_id) == "succeeded"

    ARTIFACTS.mkdir(exist_ok=True)
    page = chromium.new_page(viewport={"width": 1366, "height": 900})
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    base = live_server.url
    page.goto(base + "/accounts/login/")
    page.fill("input[name=login]", "alice@example.com")
    page.fill("input[name=password]", "correct-horse-battery-9")
    page.click("button[type=submit]")
    page.wait_for_url(base + "/")

    page.goto(f"{base}/datasets/{dataset.pk}/")
    assert "Ready for lifetime value." in page.locator("[data-testid=eligibility]").inner_text()
    page.locator("[data-testid=order-log]").screenshot(path=str(ARTIFACTS / "dataset-order-log.png"))

    page.goto(f"{base}/analyses/{analysis.pk}/")
    page.click("[data-testid=tab-clv]")
    page.wait_for_load_state("load")
    for name in CHARTS:
        box = page.locator(f"[data-testid=chart-{name}]")
        box.scroll_into_view_if_needed()
        box.locator(".main-svg").first.wait_for(state="attached", timeout=15_000)
        assert "js-plotly-plot" in box.get_attribute("class"), f"chart {name} not drawn"
    # the heat map and the error bars really have marks, not just axes
    assert (
        page.locator(
            "[data-testid=chart-clv-p-active] .hm image, [data-testid=chart-clv-p-active] .heatmaplayer"
        ).count()
        >= 1
    )
    assert page.locator("[data-testid=chart-clv-top] .errorbar").count() == 15
    accuracy = page.locator("[data-testid=clv-accuracy]").inner_text()
    assert "the model expected" in accuracy and "they made" in accuracy
    assert page.locator("[data-testid=clv-top-table] tbody tr").count() == 25
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(ARTIFACTS / "analysis-tab-clv.png"), full_page=True)

    page.click("[data-testid=tab-profiles]")
    page.wait_for_load_state("load")
    assert page.locator("[data-testid=segment-clv]").count() == 4
    page.screenshot(path=str(ARTIFACTS / "analysis-tab-profiles-clv.png"), full_page=True)
    assert errors == []
