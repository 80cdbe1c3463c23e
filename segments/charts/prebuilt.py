"""Each tab's figures as page-ready JSON, built once per analysis and kept: results never change once stored, so
the job builds every tab right after the run (`prebuild_figures`) into a file beside the results, and page
views read that file (through the cache) instead of drawing anything."""

from __future__ import annotations

import json

from django.core.cache import cache

from segments.charts import clv, data, files, insights, visualizations
from segments.charts.common import to_json
from segments.charts.palette import segment_colors
from segments.engine import formatting as fmt

CHARTS_VERSION = 7  # bump when a figure changes shape, to drop cached JSON
TABS_WITH_CHARTS = ("data", "visualizations", "insights", "clv")


def build_tab(analysis, tab: str) -> list[tuple[str, object]]:
    """(chart id, figure) of one tab, drawn now from the stored results."""
    colors = segment_colors(analysis.profiles, analysis.color_scheme)
    if tab == "data":
        return data.figures(analysis)
    if tab == "visualizations":
        return visualizations.figures(analysis, colors, files.read_chart_sample(analysis.charts_file))
    if tab == "insights":
        return insights.figures(analysis, colors)
    if tab == "clv":
        return clv.figures(analysis)
    return []


def _figures_file(analysis, tab: str) -> str:
    # the active currency (the organization's) is in the name: changing it draws the figures again
    return (
        f"{analysis.storage_dir}/figures-v{CHARTS_VERSION}-{analysis.color_scheme}-{fmt.active_currency()}-{tab}.json"
    )


def tab_figures(analysis, tab: str) -> dict[str, str]:
    """{chart id: figure JSON} for one tab. Results never change once stored, so the figures are built
    once (by the job, see `prebuild_figures`) and kept in a file beside the results, plus the cache."""
    stamp = int(analysis.finished_at.timestamp()) if analysis.finished_at else 0
    key = (
        f"segsaas:charts:v{CHARTS_VERSION}:{analysis.pk}:{stamp}:{analysis.color_scheme}:{fmt.active_currency()}:{tab}"
    )
    cached = cache.get(key)
    if cached is None:
        cached = files.read_figures(_figures_file(analysis, tab))
        if cached is None:
            cached = _write_figures(analysis, tab)
        cache.set(key, cached, timeout=24 * 3600)
    return json.loads(cached)


def _write_figures(analysis, tab: str) -> str:
    text = json.dumps({name: to_json(fig) for name, fig in build_tab(analysis, tab)})
    files.write_figures(_figures_file(analysis, tab), text, results=analysis.customers_file)
    return text


def prebuild_figures(analysis) -> None:
    """Build every tab's figures once, right after the run, so no page view ever pays for it."""
    for tab in TABS_WITH_CHARTS:
        if tab != "clv" or analysis.has_clv:
            _write_figures(analysis, tab)
