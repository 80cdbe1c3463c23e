"""Plotly figures for the analysis pages, built on the server from stored results.

Every figure reads only small, pre-computed data: the profiles and metrics on the `Analysis` row,
the aggregates in `Analysis.summary`, and the per-segment chart sample (a few thousand customers
per segment). Nothing here touches the million-row per-customer table, and the JSON of each tab is
cached per analysis, so a page view costs milliseconds however large the analysis.

One module per page tab, and what they share:

    data.py            Data & Analysis tab (k selection, churn calibration)
    visualizations.py  Visualizations tab (sizes, LTV vs churn, PCA, importance, grid, radars, journeys, LTV)
    insights.py        Business Insights tab (growth, risk–value matrix, revenue contribution)
    compare.py         Compare page (two runs side by side, where customers went)
    common.py          the shared look, axis/label helpers (`feature_name`: a column as every chart names it,
                       with its unit), figure JSON, the segment bubbles
    palette.py         colour schemes and each segment's colour (also used by the reports in exports/)
    labels.py          label placement: where a bubble's name goes so that no two texts overlap (pure)
    prebuilt.py        each tab's figures built once per analysis and kept (`tab_figures`, `prebuild_figures`)
    files.py           every file the charts read or write

Figure functions return Plotly figures; `tab_figures` returns {chart id: figure JSON}. Views put them into the page.
"""

from segments.charts.common import currency, to_json
from segments.charts.compare import RUN_COLORS, compare_figures
from segments.charts.data import calibration_figure, k_selection_figure
from segments.charts.insights import (
    growth_opportunities_figure,
    revenue_contribution_figure,
    risk_value_matrix_figure,
)
from segments.charts.labels import bubble_label_positions
from segments.charts.palette import NOISE_COLOR, palette, segment_color, segment_colors
from segments.charts.prebuilt import CHARTS_VERSION, TABS_WITH_CHARTS, prebuild_figures, tab_figures
from segments.charts.visualizations import (
    LIFECYCLE_COLORS,
    LIFECYCLE_LABELS,
    feature_importance_figure,
    journey_figure,
    ltv_churn_bubble_figure,
    ltv_distribution_figure,
    pca_scatter_figure,
    radar_figures,
    segment_heatmap_figure,
    segment_sizes_figure,
)

__all__ = [
    "CHARTS_VERSION",
    "LIFECYCLE_COLORS",
    "LIFECYCLE_LABELS",
    "NOISE_COLOR",
    "RUN_COLORS",
    "TABS_WITH_CHARTS",
    "bubble_label_positions",
    "calibration_figure",
    "compare_figures",
    "currency",
    "feature_importance_figure",
    "growth_opportunities_figure",
    "journey_figure",
    "k_selection_figure",
    "ltv_churn_bubble_figure",
    "ltv_distribution_figure",
    "palette",
    "pca_scatter_figure",
    "prebuild_figures",
    "radar_figures",
    "revenue_contribution_figure",
    "risk_value_matrix_figure",
    "segment_color",
    "segment_colors",
    "segment_heatmap_figure",
    "segment_sizes_figure",
    "tab_figures",
    "to_json",
]
