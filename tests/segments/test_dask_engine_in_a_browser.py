"""In Chromium: an analysis that ran on the Dask path says so, and why, above its tabs; its profiles and charts
show as any run's. Screenshots go to test-artifacts/."""

from pathlib import Path

import pytest
from helpers import sign_in

pytestmark = [pytest.mark.browser]

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def test_the_analysis_page_names_the_dask_engine_and_why(
    transactional_db, people, finished_analysis, live_server, chromium, monkeypatch
):
    from segments.engine import dask_path

    ARTIFACTS.mkdir(exist_ok=True)
    monkeypatch.setattr(dask_path, "DASK_MIN_ROWS", 500)
    analysis = finished_analysis(people.acme, people.alice, rows=1_200)  # the job run here: a LocalCluster
    assert analysis.metrics["engine"]["name"] == "dask", analysis.metrics.get("engine")
    page = chromium.new_page(viewport={"width": 1440, "height": 900})
    sign_in(page, live_server.url)
    page.goto(f"{live_server.url}/analyses/{analysis.pk}/")
    engine = page.locator("[data-testid=analysis-engine]")
    assert engine.is_visible()
    assert engine.inner_text().startswith("Engine: Dask (partition by partition) — 1,200 customers, more than")
    page.screenshot(path=str(ARTIFACTS / "analysis-dask-engine.png"), full_page=False)
    page.goto(f"{live_server.url}/analyses/{analysis.pk}/visualizations/")
    assert page.locator("[data-testid=analysis-engine]").is_visible()
    page.wait_for_selector(".js-plotly-plot", timeout=60_000)
    page.screenshot(path=str(ARTIFACTS / "analysis-dask-visualizations.png"), full_page=False)
