"""In Debian's Chromium: the Changes tab draws its Sankey chart (the vendored Plotly bundle has the sankey trace),
the dataset page lists the versions and draws the history line charts, the dashboard shows the drift alert and the
Monitoring page the schedule."""

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
    version = add_version(dataset, month(second, seed=1))
    run2 = rerun(run1)  # its segment changes against run 1 are an alert (shares moved by 10 points)
    from monitoring.services import drift_for_version, schedule_save

    drift_for_version(version)
    schedule_save(analysis=run1, frequency="monthly")
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
    # LTV lines only when the runs value customers (this table has no purchase history to value them by)
    keys = ["shares", "churn"] + (["ltv"] if run2.has_ltv else [])
    assert page.locator("[data-testid^=chart-history-]").count() == len(keys)
    for key in keys:
        page.locator(f"[data-testid=chart-history-{key}]").scroll_into_view_if_needed()
        page.locator(f"[data-testid=chart-history-{key}] .main-svg").first.wait_for(state="attached", timeout=15_000)
    page.locator("#versions").scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "dataset-versions-history.png"), full_page=True)
    page.goto(f"{base}/")
    assert page.locator("[data-testid=drift-alerts] [data-testid=drift-report]").count() >= 1
    page.screenshot(path=str(ARTIFACTS / "dashboard-drift-alert.png"), full_page=True)
    page.goto(f"{base}/monitoring/")
    assert page.locator("[data-testid=schedules] tbody tr").count() == 1
    page.screenshot(path=str(ARTIFACTS / "monitoring.png"), full_page=True)
    assert errors == []
