"""Every label of the analysis charts, as Chromium draws them: on the compare page, the Data, Visualizations,
Insights, Changes and Lifetime value tabs, at laptop (1366 px) and tablet (768 px) widths, for synthetic customers,
an order log and a real telecom table (../shared/realdata/mlc_churn.csv), no text overlaps another, none is cut off
by the chart's edge, no label is slanted (where slanted labels could meet unseen) except the comparison grid's
feature names, no chart is an empty frame and the radars are large enough to read."""

from pathlib import Path

import pytest
from helpers import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.worker]

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

# Boxes of every drawn text of each chart (titles, tick labels, axis titles, bar and bubble labels, annotations).
# A slanted label's screen box is not its outline, so only text at 0° or 90° is compared.
TEXT_PROBLEMS_JS = """
(selector) => {
  const problems = [];
  document.querySelectorAll(selector).forEach((chart) => {
    const frame = chart.getBoundingClientRect();
    const texts = [];
    chart.querySelectorAll("svg text").forEach((t) => {
      if (t.closest(".hoverlayer") || !t.textContent.trim()) return;
      for (let el = t; el && el !== chart; el = el.parentNode) {
        const m = /rotate\\((-?[\\d.]+)/.exec((el.getAttribute && el.getAttribute("transform")) || "");
        if (m && Math.abs(parseFloat(m[1])) % 90 > 0.5) return;
      }
      const style = getComputedStyle(t);
      if (style.display === "none" || style.visibility === "hidden" || style.opacity === "0") return;
      const r = t.getBoundingClientRect();
      if (r.width >= 1 && r.height >= 1) texts.push({ text: t.textContent.trim(), r });
    });
    for (const t of texts) {
      if (t.r.left < frame.left - 1 || t.r.right > frame.right + 1 || t.r.top < frame.top - 1 || t.r.bottom > frame.bottom + 1)
        problems.push(`${chart.id}: "${t.text}" is cut off by the chart's edge`);
    }
    for (let i = 0; i < texts.length; i++) {
      for (let j = i + 1; j < texts.length; j++) {
        const a = texts[i].r, b = texts[j].r;
        const w = Math.min(a.right, b.right) - Math.max(a.left, b.left);
        const h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
        if (w > 2 && h > 2) problems.push(`${chart.id}: "${texts[i].text}" overlaps "${texts[j].text}"`);
      }
    }
  });
  return problems;
}
"""

# Charts that draw slanted text (Plotly slants tick labels on its own when they do not fit side by side; the
# check above cannot compare a slanted label's outline), charts with no marks at all, and radars too small to read.
DRAWING_PROBLEMS_JS = """
(selector) => {
  const problems = [];
  const SLANTED_ALLOWED = new Set(["chart-segment-heatmap"]);
  document.querySelectorAll(selector).forEach((chart) => {
    if (!SLANTED_ALLOWED.has(chart.id)) {
      chart.querySelectorAll("svg text").forEach((t) => {
        if (!t.textContent.trim() || t.closest(".hoverlayer")) return;
        for (let el = t; el && el !== chart; el = el.parentNode) {
          const m = /rotate\\((-?[\\d.]+)/.exec((el.getAttribute && el.getAttribute("transform")) || "");
          if (m && Math.abs(parseFloat(m[1])) % 90 > 0.5) {
            problems.push(`${chart.id}: "${t.textContent.trim()}" is slanted`);
            return;
          }
        }
      });
    }
    const points = (trace) =>
      ["x", "y", "values", "z", "r", "value"].reduce((n, k) => n + ((trace[k] || []).length || 0), 0) +
      (((trace.link || {}).value || []).length);
    if (!(chart.data || []).some((trace) => points(trace) > 0)) problems.push(`${chart.id}: an empty chart`);
    if (chart.id.startsWith("chart-radar-")) {
      const polar = (chart._fullLayout.polar || {})._subplot || {};
      if (!(2 * polar.radius >= 200)) problems.push(`${chart.id}: radar only ${Math.round(2 * polar.radius)} px across`);
    }
  });
  return problems;
}
"""


def _runs(people):
    """A finished k-means run and a Gaussian-mixture re-run of the same customers, run by the real worker."""
    from helpers import wait_for_job

    from datasets.services import dataset_create_synthetic
    from segments.services import analysis_create, analysis_default_config

    dataset = dataset_create_synthetic(
        organization=people.acme, created_by=people.alice, rows=2_500, seed=11, background=False
    )
    runs = []
    for settings in ({"n_clusters": 5}, {"n_clusters": 4, "algorithm": "gmm"}):
        config = analysis_default_config(dataset) | {"nlp": False} | settings
        analysis = analysis_create(
            organization=people.acme,
            dataset=dataset,
            config=config,
            name="",
            created_by=people.alice,
            rerun_of=runs[0] if runs else None,
        )
        assert wait_for_job(analysis.job, timeout=180).status == "succeeded"
        runs.append(analysis)
    return runs


def _real_run(people):
    """The default analysis of a real telecom table (no dates, usage columns, yes/no plans, a churn label)."""
    from helpers import real_table, wait_for_job

    from datasets.services import dataset_create_from_upload
    from segments.services import analysis_create, analysis_default_config

    with real_table().open("rb") as fh:
        dataset = dataset_create_from_upload(
            organization=people.acme, uploaded_by=people.alice, file=fh, background=False
        )
    analysis = analysis_create(
        organization=people.acme,
        dataset=dataset,
        config=analysis_default_config(dataset),
        name="",
        created_by=people.alice,
    )
    assert wait_for_job(analysis.job, timeout=240).status == "succeeded"
    return analysis


def _order_log_run(people):
    """An order log (the CDNOW sample): the Lifetime value tab's charts."""
    from helpers import cdnow_csv, upload_orders, wait_for_job

    from segments.services import analysis_create

    dataset = upload_orders(people.acme, people.alice, cdnow_csv(), name="cdnow-orders.csv")
    analysis = analysis_create(
        organization=people.acme, dataset=dataset, settings={"n_clusters": 4, "nlp": False}, created_by=people.alice
    )
    assert wait_for_job(analysis.job, timeout=240).status == "succeeded"
    return analysis


def _draw_every_chart(page):
    charts = page.locator("[data-figure]")
    for i in range(charts.count()):
        chart = charts.nth(i)
        chart.scroll_into_view_if_needed()
        chart.locator(".main-svg").first.wait_for(state="attached", timeout=15_000)
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-figure]')].every((el) => el.classList.contains('chart-ready'))",
        timeout=15_000,
    )
    return charts.count()


def test_no_chart_label_overlaps_another_or_is_cut_off(people, worker, live_server, chromium):
    ARTIFACTS.mkdir(exist_ok=True)
    first, second = _runs(people)
    real = _real_run(people)
    orders = _order_log_run(people)
    pages = {
        "compare": (f"/analyses/{second.pk}/compare/?other={first.pk}", 4),
        "visualizations": (f"/analyses/{first.pk}/visualizations/", 8),
        "insights": (f"/analyses/{second.pk}/insights/", 3),
        "data": (f"/analyses/{first.pk}/", 2),
        "changes": (f"/analyses/{second.pk}/changes/", 1),
        # the real table has no LTV (account_length has no stated unit): its LTV charts are left out, not empty
        "real-visualizations": (f"/analyses/{real.pk}/visualizations/", 6),
        "real-insights": (f"/analyses/{real.pk}/insights/", 1),
        "real-data": (f"/analyses/{real.pk}/", 2),
        "orders-visualizations": (f"/analyses/{orders.pk}/visualizations/", 8),
        # an order log's value is its CLV (Lifetime value tab): no predicted-LTV growth or risk-value charts
        "orders-insights": (f"/analyses/{orders.pk}/insights/", 1),
        "orders-lifetime-value": (f"/analyses/{orders.pk}/lifetime-value/", 5),
    }
    problems, errors = [], []
    for width in (1366, 768):
        page = chromium.new_page(viewport={"width": width, "height": 900})
        page.set_default_timeout(120_000)  # a loaded shared machine: pages are slow, not wrong
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        sign_in(page, live_server.url)
        for name, (path, minimum) in pages.items():
            page.goto(live_server.url + path)
            page.wait_for_load_state("load")
            assert _draw_every_chart(page) >= minimum, name
            problems += [f"{width}px {name} {p}" for p in page.evaluate(TEXT_PROBLEMS_JS, "[data-figure]")]
            problems += [f"{width}px {name} {p}" for p in page.evaluate(DRAWING_PROBLEMS_JS, "[data-figure]")]
            page.evaluate("window.scrollTo(0, 0)")
            page.screenshot(path=str(ARTIFACTS / f"labels-{name}-{width}.png"), full_page=True)
        page.close()
    assert problems == [], "\n".join(problems)
    assert errors == []
