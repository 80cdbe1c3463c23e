"""A new user's path in Debian's Chromium: generate customers, run the default analysis, watch its
progress reach 100 %, then open every tab and check that every chart really rendered."""

from pathlib import Path

import pytest
from helpers import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.worker]

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
TABS = [("data", 1), ("profiles", 0), ("visualizations", 8), ("insights", 3)]  # tab, minimum number of charts


@pytest.fixture
def page(chromium):
    page = chromium.new_page(viewport={"width": 1366, "height": 900})
    page.console_errors = []
    page.on("console", lambda m: page.console_errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: page.console_errors.append(str(exc)))
    return page


def _charts_rendered(page, minimum):
    boxes = page.locator("[data-figure]")
    count = boxes.count()
    assert count >= minimum, f"expected at least {minimum} charts, found {count}"
    for i in range(count):
        box = boxes.nth(i)
        box.scroll_into_view_if_needed()
        box.locator(".main-svg").first.wait_for(state="attached", timeout=15_000)
        assert "js-plotly-plot" in box.get_attribute("class"), f"chart {box.get_attribute('id')} not drawn"
    return count


def test_alice_generates_customers_runs_an_analysis_and_reads_every_tab(people, worker, live_server, page):
    ARTIFACTS.mkdir(exist_ok=True)
    base = live_server.url
    sign_in(page, base)

    # Generate a small synthetic dataset through the datasets page.
    page.goto(base + "/datasets/synthetic/")
    page.fill("#id_rows", "3000")
    page.fill("#id_seed", "11")
    page.fill("#id_name", "Browser test customers")
    page.click("[data-testid=generate]")
    page.wait_for_load_state("networkidle")

    # Configure the default analysis from the Analyses page.
    page.goto(base + "/analyses/")
    page.select_option("#pick-dataset", label=page.locator("#pick-dataset option").first.inner_text())
    page.click("[data-testid=new-analysis-form] button")
    page.wait_for_selector("[data-testid=analysis-form]")
    page.screenshot(path=str(ARTIFACTS / "analysis-form.png"), full_page=True)
    page.fill("input[name=name]", "Default analysis")
    page.click("[data-testid=run-analysis]")

    # Live progress, updated without reloading, up to 100 %.
    page.wait_for_selector("[data-testid=job-progress]")
    page.wait_for_function(
        "() => { const el = document.querySelector('.job-percent'); return el && el.textContent.trim() === '100'; }",
        polling="raf",
        timeout=180_000,
    )
    page.wait_for_selector("[data-testid=n-segments]", timeout=30_000)

    for tab, minimum in TABS:
        page.click(f"[data-testid=tab-{tab}]")
        page.wait_for_load_state("load")
        count = _charts_rendered(page, minimum)
        if tab == "profiles":
            assert page.locator("[data-testid=segment-card]").count() >= 2
            assert page.locator("[data-testid=customer-rows] tr").count() == 50
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(ARTIFACTS / f"analysis-tab-{tab}.png"), full_page=True)
        assert count >= minimum

    first_run_url = page.url
    # Re-run with changed settings, then compare the two runs side by side.
    page.click("text=Re-run with changes")
    page.wait_for_selector("[data-testid=analysis-form]")
    page.check("input[name=k_mode][value=fixed]")
    page.fill("#id_n_clusters", "3")
    page.select_option("#id_color_scheme", "Safe")
    page.fill("input[name=name]", "Three segments")
    page.click("[data-testid=run-analysis]")
    page.wait_for_selector("[data-testid=n-segments]", timeout=180_000)
    assert page.locator("[data-testid=n-segments]").inner_text() == "3"
    page.click("text=Compare runs")
    page.wait_for_selector("[data-testid=compare-table]")
    _charts_rendered(page, 4)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(ARTIFACTS / "analysis-compare.png"), full_page=True)

    # Tablet width: the charts reflow and still render.
    page.set_viewport_size({"width": 820, "height": 1100})
    page.goto(first_run_url)
    page.click("[data-testid=tab-visualizations]")
    page.wait_for_load_state("load")
    _charts_rendered(page, 8)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(ARTIFACTS / "analysis-tab-visualizations-tablet.png"), full_page=True)
    assert page.console_errors == []
