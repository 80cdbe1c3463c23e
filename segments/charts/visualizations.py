"""The Visualizations tab's figures: segment sizes, LTV against churn risk, the customers in PCA space, what
drives the segmentation, the segment comparison grid, one radar per segment, lifecycle journeys and the LTV
distribution. The scatter and distribution charts read the per-segment chart sample, never the full table."""

from __future__ import annotations

from segments.charts.common import (
    add_segment_bubbles,
    currency,
    currency_label,
    feature_name,
    horizon,
    layout,
    legend_rows,
    money_ticks,
    sorted_segments,
    wrap,
)
from segments.engine.vocabulary import LIFECYCLE_STAGES

LIFECYCLE_LABELS = LIFECYCLE_STAGES
LIFECYCLE_COLORS = {"new": "#4dabf7", "active": "#40c057", "at_risk": "#fab005", "dormant": "#868e96"}


# The comparison grid writes each number in its cell up to this many features (tablet width); beyond, on hover.
HEATMAP_MAX_NUMBERED_FEATURES = 12
# Up to this many features the grid's feature names stand level (each cell is wide enough at tablet width).
HEATMAP_MAX_LEVEL_LABELS = 5


def figures(analysis, colors: dict[int, str], sample) -> list[tuple[str, object]]:
    """(chart id, figure) for the tab, in page order; `sample` is the analysis's chart sample (a DataFrame)."""
    return [
        ("segment-sizes", segment_sizes_figure(analysis, colors)),
        # no LTV: no bubbles to place (the page says why), not an empty frame
        *([("ltv-churn", ltv_churn_bubble_figure(analysis, colors))] if analysis.has_ltv else []),
        ("pca-scatter", pca_scatter_figure(analysis, colors, sample)),
        ("feature-importance", feature_importance_figure(analysis)),
        ("segment-heatmap", segment_heatmap_figure(analysis)),
        *radar_figures(analysis, colors),
        ("journey", journey_figure(analysis)),
        # no LTV (no money column, or no duration of known unit): no distribution to draw, not an empty frame
        *([("ltv-distribution", ltv_distribution_figure(analysis, colors, sample))] if analysis.has_ltv else []),
    ]


def segment_sizes_figure(analysis, colors):
    import plotly.graph_objects as go

    segs = sorted_segments(analysis)
    fig = go.Figure(
        go.Pie(
            labels=[p["name"] for p in segs],
            values=[p["size"] for p in segs],
            marker={"colors": [colors[p["segment"]] for p in segs], "line": {"color": "#fff", "width": 2}},
            hole=0.45,
            sort=False,
            textinfo="percent",
            textposition="inside",
            hovertemplate="<b>%{label}</b><br>%{value:,} customers<br>%{percent} of all<extra></extra>",
        )
    )
    fig.add_annotation(text=f"{analysis.customer_count:,}<br>customers", showarrow=False, font={"size": 14})
    rows = legend_rows(segs, per_row=2)
    layout(fig, "Segment sizes", height=380, subtitle="share of customers per segment", legend_rows=rows)
    # A pie has no x axis title: the legend band sits right under the donut (the shared layout keeps 56 px
    # above the band for an axis title, which here was only an empty gap).
    fig.update_layout(margin={"l": 20, "r": 20, "b": 16 + 20 * rows + 12})
    return fig


def ltv_churn_bubble_figure(analysis, colors):
    import plotly.graph_objects as go

    segs = [p for p in sorted_segments(analysis) if p.get("avg_ltv") is not None]
    fig = go.Figure()
    x_top = max([p["avg_churn_risk"] * 100 for p in segs] or [10])
    y_top = max([p["avg_ltv"] for p in segs] or [1]) or 1
    x_range = [-4, min(x_top * 1.12 + 8, 112)]
    y_range = [-0.08 * y_top, y_top * 1.42]
    add_segment_bubbles(
        fig,
        segs,
        colors,
        x_range=x_range,
        y_range=y_range,
        max_px=70,
        min_px=6,
        opacity=0.8,
        customdata=lambda p: [[p["size"], p["share"] * 100]],
        hovertemplate=lambda p: (
            f"<b>{p['name']}</b><br>Churn risk %{{x:.1f}}%<br>Avg predicted LTV {currency()}%{{y:,.0f}}"
            "<br>%{customdata[0]:,} customers (%{customdata[1]:.1f}%)<extra></extra>"
        ),
    )
    layout(
        fig,
        "Predicted LTV vs churn risk by segment",
        height=400,
        subtitle="bubble area = segment size",
        legend_rows=legend_rows(segs),
    )
    fig.update_xaxes(title_text="Average churn risk (%)", ticksuffix="%", range=x_range)
    fig.update_yaxes(
        title_text=f"Avg predicted LTV ({currency_label()}, {horizon(analysis)})",
        range=y_range,
        **money_ticks(y_range[1]),
    )
    return fig


def pca_scatter_figure(analysis, colors, sample):
    import plotly.graph_objects as go

    names = {p["segment"]: p["name"] for p in analysis.profiles}
    pca = analysis.metrics.get("pca") or {}
    var = pca.get("explained_variance_ratio") or pca.get("explained_variance") or []
    fig = go.Figure()
    for seg in sorted(names):
        part = sample[sample["segment"] == seg]
        if part.empty:
            continue
        fig.add_trace(
            go.Scattergl(
                x=part["pca_x"].round(3).tolist(),
                y=part["pca_y"].round(3).tolist(),
                mode="markers",
                name=names[seg],
                marker={"color": colors[seg], "size": 4, "opacity": 0.6},
                customdata=part[["customer_id"]].to_numpy().tolist(),
                hovertemplate=f"<b>{names[seg]}</b><br>customer %{{customdata[0]}}<br>PC1 %{{x:.2f}}, PC2 %{{y:.2f}}<extra></extra>",
            )
        )
    shown = len(sample)
    note = f"{shown:,} of {analysis.customer_count:,} customers shown" + (
        f" (random sample of up to {analysis.summary.get('sample_per_segment', 2000):,} per segment)"
        if shown < analysis.customer_count
        else ""
    )
    layout(
        fig,
        "Customers in the first two principal components",
        height=460,
        subtitle=note,
        legend_rows=legend_rows(names),
    )
    fig.update_layout(legend={"itemsizing": "constant"})
    fig.update_xaxes(
        title_text="PC1" + (f" ({var[0]:.0%} of variance)" if len(var) > 0 else "") + " · standardised units"
    )
    # The unit is said once, on the x axis: a long rotated y title would reach up into the subtitle.
    fig.update_yaxes(title_text="PC2" + (f" ({var[1]:.0%} of variance)" if len(var) > 1 else ""))
    return fig


def _importance(analysis) -> list[dict]:
    raw = analysis.metrics.get("feature_importance") or []
    if isinstance(raw, dict):
        raw = (
            raw.get("by_column")
            or raw.get("columns")
            or raw.get("features")
            or [{"feature": k, "importance": v} for k, v in raw.items() if isinstance(v, int | float)]
        )
    return [d for d in raw if isinstance(d, dict) and "feature" in d]


def feature_importance_figure(analysis):
    import plotly.graph_objects as go

    items = _importance(analysis)[:15][::-1]
    fig = go.Figure(
        go.Bar(
            x=[d["importance"] * 100 for d in items],
            y=[wrap(feature_name(analysis, d["feature"]), 30, 2) for d in items],
            hovertext=[feature_name(analysis, d["feature"]) for d in items],
            orientation="h",
            marker={"color": "#3b5bdb"},
            customdata=[[d.get("rf", 0) * 100, d.get("mi", 0) * 100] for d in items],
            hovertemplate="<b>%{hovertext}</b><br>combined %{x:.1f}%<br>random forest %{customdata[0]:.1f}% · mutual information "
            "%{customdata[1]:.1f}%<extra></extra>",
        )
    )
    layout(
        fig,
        "What drives the segmentation",
        height=max(320, 90 + 30 * len(items)),
        legend=False,
        subtitle="feature importance: 50% random forest + 50% mutual information",
    )
    fig.update_xaxes(title_text="Share of importance (%)", ticksuffix="%")
    fig.update_yaxes(automargin=True)
    fig.update_layout(margin={"l": 10})
    return fig


def _heat_features(analysis) -> tuple[list[str], dict[int, list[float]]]:
    fz = analysis.summary.get("feature_z") or {}
    features = fz.get("features") or []
    return features, {int(k): v for k, v in (fz.get("z") or {}).items()}


def segment_heatmap_figure(analysis):
    import plotly.graph_objects as go

    features, z = _heat_features(analysis)
    segs = [p for p in sorted_segments(analysis) if p["segment"] in z]
    matrix = [z[p["segment"]] for p in segs]
    # Numbers in the cells only while the cells are wide enough for them at tablet width; else on hover.
    numbers = len(features) <= HEATMAP_MAX_NUMBERED_FEATURES
    level = len(features) <= HEATMAP_MAX_LEVEL_LABELS
    fig = go.Figure(
        go.Heatmap(
            z=matrix,
            # Few features: level names on up to three lines. More: one slanted line each (a slanted line keeps
            # clear of its neighbours where level ones would run into each other at tablet width).
            x=[wrap(feature_name(analysis, f), 14, 3) if level else feature_name(analysis, f) for f in features],
            y=[p["name"] for p in segs],
            colorscale="RdBu",
            reversescale=True,
            zmid=0,
            zmin=-2,
            zmax=2,
            colorbar={"ticksuffix": " SD", "thickness": 14},  # the ticks say "SD": no title to collide with
            text=[[f"{v:+.2f}" for v in row] for row in matrix],
            texttemplate="%{text}" if numbers else None,
            textfont={"size": 10},
            hovertemplate="<b>%{y}</b><br>%{x}: %{z:+.2f} standard deviations from the average customer<extra></extra>",
        )
    )
    layout(
        fig,
        "Segment comparison grid",
        height=max(320, 150 + 42 * len(segs)),
        legend=False,
        subtitle="each feature's segment mean, in standard deviations (SD) from the average customer"
        + ("" if numbers else "; hover a cell for its value"),
    )
    fig.update_xaxes(title_text="Feature", tickangle=0 if level else -35, automargin=True)
    fig.update_yaxes(title_text="Segment", automargin=True, autorange="reversed")
    return fig


def radar_figures(analysis, colors) -> list[tuple[str, object]]:
    import plotly.graph_objects as go

    features, z = _heat_features(analysis)
    if not features:
        return []
    two_line_titles = any("<br>" in wrap(p["name"], 34, 2) for p in sorted_segments(analysis))
    out = []
    for p in sorted_segments(analysis):
        if p["segment"] not in z:
            continue
        full = _radar_features(analysis, features, z[p["segment"]])
        idx = [features.index(f) for f in full]
        # Axis labels on up to three short lines, so the ones left and right of the circle stay inside the chart.
        names = [feature_name(analysis, f) for f in full]
        top = [wrap(name, 14, 3) for name in names]
        values = [max(min(z[p["segment"]][i], 2.5), -2.5) for i in idx]
        fig = go.Figure()
        fig.add_trace(
            go.Scatterpolar(
                r=[0] * (len(top) + 1),
                theta=[*top, top[0]],
                mode="lines",
                name="Average customer",
                line={"color": "#868e96", "dash": "dot"},
                hoverinfo="skip",
            )
        )
        fig.add_trace(
            go.Scatterpolar(
                r=[*values, values[0]],
                theta=[*top, top[0]],
                fill="toself",
                name=p["name"],
                opacity=0.75,
                line={"color": colors[p["segment"]], "width": 2},
                customdata=[*names, names[0]],
                hovertemplate="%{customdata}: %{r:+.2f} SD<extra></extra>",
            )
        )
        title = wrap(p["name"], 34, 2)
        layout(
            fig,
            title,
            height=420 if two_line_titles else 400,
            legend=False,
            subtitle=f"{p['share']:.0%} of customers",
        )
        fig.update_layout(
            # The same top margin on every radar (room for a two-line title) so the circles line up in the grid.
            margin={"l": 96, "r": 96, "t": 104 if two_line_titles else 80, "b": 40},
            polar={
                # Rings without tick labels: written along a spoke they ran into the shape and the axis names.
                "radialaxis": {"range": [-2.5, 2.5], "tickvals": [-2, 0, 2], "showticklabels": False},
                "angularaxis": {"tickfont": {"size": 10}},
            },
        )
        out.append((f"radar-{p['segment']}", fig))
    return out


def _radar_features(analysis, features: list[str], z: list[float], n: int = 7, own: int = 3) -> list[str]:
    """The `n` axes of one segment's radar: the `own` features where this segment stands furthest from the
    average customer, then the features that drive the segmentation most, in the order of importance."""
    ranked = [d["feature"] for d in _importance(analysis) if d["feature"] in features]
    ranked += [f for f in features if f not in ranked]
    distinctive = sorted(range(len(features)), key=lambda i: -abs(z[i]))[:own]
    chosen = {features[i] for i in distinctive}
    for f in ranked:
        if len(chosen) >= n:
            break
        chosen.add(f)
    return [f for f in ranked if f in chosen]


def journey_figure(analysis):
    import plotly.graph_objects as go

    life = analysis.summary.get("lifecycle") or {}
    stages = life.get("stages") or []
    counts = {int(k): v for k, v in (life.get("counts") or {}).items()}
    segs = [p for p in sorted_segments(analysis) if p["segment"] in counts]
    fig = go.Figure()
    for j, stage in enumerate(stages):
        shares = [100 * counts[p["segment"]][j] / max(sum(counts[p["segment"]]), 1) for p in segs]
        fig.add_trace(
            go.Bar(
                x=shares,
                y=[wrap(p["name"], 24, 2) for p in segs],  # long names on two lines leave room for the bars
                orientation="h",
                name=LIFECYCLE_LABELS.get(stage, stage),
                marker={"color": LIFECYCLE_COLORS.get(stage, "#adb5bd")},
                customdata=[[counts[p["segment"]][j], p["name"]] for p in segs],
                hovertemplate="<b>%{customdata[1]}</b><br>"
                + LIFECYCLE_LABELS.get(stage, stage)
                + ": %{x:.1f}% (%{customdata[0]:,} customers)<extra></extra>",
            )
        )
    layout(
        fig,
        "Customer journey patterns",
        height=max(320, 130 + 40 * len(segs)),
        barmode="stack",
        subtitle="lifecycle stage mix per segment: new → active → at risk → dormant",
    )
    fig.update_layout(legend={"traceorder": "normal"})
    fig.update_xaxes(title_text="Share of the segment's customers (%)", ticksuffix="%", range=[0, 100])
    fig.update_yaxes(automargin=True, autorange="reversed")
    return fig


def ltv_distribution_figure(analysis, colors, sample):
    import plotly.graph_objects as go

    fig = go.Figure()
    for p in sorted_segments(analysis):
        part = sample[sample["segment"] == p["segment"]]
        if part.empty or "predicted_ltv" not in part:
            continue
        fig.add_trace(
            go.Box(
                x=part["predicted_ltv"].round(2).tolist(),
                name=wrap(p["name"], 24, 2),  # long names on two lines leave room for the boxes
                marker={"color": colors[p["segment"]]},
                boxpoints=False,
                hoverinfo="x",
            )
        )
    layout(
        fig,
        "Predicted LTV distribution per segment",
        height=max(320, 130 + 40 * len(analysis.profiles)),
        legend=False,
        subtitle=f"box = quartiles, whiskers = 1.5 IQR; {len(sample):,} sampled customers",
    )
    fig.update_xaxes(title_text=f"Predicted LTV ({currency_label()}, {horizon(analysis)})", tickprefix=currency())
    fig.update_yaxes(automargin=True, autorange="reversed")
    return fig
