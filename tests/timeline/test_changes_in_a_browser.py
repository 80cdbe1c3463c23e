"""In Debian's Chromium: the Changes tab draws its Sankey chart (the vendored Plotly bundle has the sankey trace)
and the dataset page lists the versions and draws the history line charts."""

from pathlib import Path

import pytest
from timeline_data import month

pytestmark = [pytest.mark.browser]

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def _login(page, base):
    page.goto(base + "/accounts/login/")
    page.fill("input[name=login]", "alice@example.com")
    page.fill("input[name=password]", "correct-horse-battery-9")
    page.click("button[type=submit]")
    page.wait_for_url(base + "/")


def test_changes_tab_and_dataset_history_render(
    people, live_server, chromium, months, upload_frame, add_version, first_run, rerun
):
    ARTIFACTS.mkdir(exist_ok=True)
    first, second, _ = months
    dataset = upload_frame(month(first))
    run1 = first_run(dataset)
    add_version(dataset, month(second, seed=1))
    run2 = rerun(run1)
    page = chromium.new_page(viewport={"width": 1366, "height": 900})
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    base = live_server.url
    _login(page, base)

    page.goto(f"{base}/analyses/{run2.pk}/changes/")
    chart = page.locator("[data-testid=chart-sankey]")
    chart.locator(".sankey").first.wait_for(state="attached", timeout=15_000)
    assert page.locator("[data-testid=chart-sankey] .sankey-node").count() == 3 + 3 + 2  # before, after, new, gone
    page.screenshot(path=str(ARTIFACTS / "changes-tab.png"), full_page=True)

    page.goto(f"{base}/datasets/{dataset.pk}/")
    assert page.locator("[data-testid=versions-table] tbody tr").count() == 2
    for key in ("shares", "churn", "ltv"):
        page.locator(f"[data-testid=chart-history-{key}]").scroll_into_view_if_needed()
        page.locator(f"[data-testid=chart-history-{key}] .main-svg").first.wait_for(state="attached", timeout=15_000)
    page.locator("#versions").scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "dataset-versions-history.png"), full_page=True)
    assert errors == []
