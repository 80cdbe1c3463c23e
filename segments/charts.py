"""Plotly figures for the analysis pages, built on the server from stored results.

Every figure reads only small, pre-computed data: the profiles and metrics on the `Analysis` row,
the aggregates in `Analysis.summary`, and the per-segment chart sample (a few thousand customers
per segment). Nothing here touches the million-row per-customer table, and the JSON of each tab is
cached per analysis, so a page view costs milliseconds however large the analysis.
"""

from __future__ import annotations

import json
import re

from django.core.cache import cache

CHARTS_VERSION = 6  # bump when a figure changes shape, to drop cached JSON
CURRENCY = "$"
NOISE_COLOR = "#adb5bd"
LIFECYCLE_LABELS = {"new": "New", "active": "Active", "at_risk": "At risk", "dormant": "Dormant"}
LIFECYCLE_COLORS = {"new": "#4dabf7", "active": "#40c057", "at_risk": "#fab005", "dormant": "#868e96"}
_FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"


# --- helpers -------------------------------------------------------------------------------------


def palette(name: str) -> list[str]:
    import plotly.colors

    return list(getattr(plotly.colors.qualitative, name, plotly.colors.qualitative.Plotly))


def segment_colors(profiles: list[dict], scheme: str) -> dict[int, str]:
    colors = palette(scheme)
    out, i = {}, 0
    for p in sorted(profiles, key=lambda p: p["segment"]):
        if p["segment"] < 0:
            out[p["segment"]] = NOISE_COLOR
        else:
            out[p["segment"]] = colors[i % len(colors)]
            i += 1
    return out


def _layout(
    fig, title: str, *, height: int = 380, legend: bool = True, subtitle: str = "", legend_rows: int = 1, **extra
) -> None:
    """Shared look: title (+ subtitle) top left, legend in its own band under the x axis title."""
    title_spec = {"text": title, "x": 0.01, "xanchor": "left", "font": {"size": 15}}
    if subtitle:
        title_spec["subtitle"] = {"text": subtitle, "font": {"size": 11, "color": "#6c757d"}}
    legend_band = 16 + 20 * legend_rows if legend else 0
    fig.update_layout(
        title=title_spec,
        template="plotly_white",
        font={"family": _FONT, "size": 12},
        height=height + legend_band,
        margin={"l": 60, "r": 20, "t": 74 if subtitle else 56, "b": 56 + legend_band},
        showlegend=legend,
        legend={"orientation": "h", "yref": "container", "yanchor": "bottom", "y": 0.005, "x": 0, "font": {"size": 11}},
        hoverlabel={"font": {"family": _FONT}},
        **extra,
    )


def _money(x) -> str:
    return "n/a" if x is None else f"{CURRENCY}{x:,.0f}"


def _pct(x) -> str:
    return "n/a" if x is None else f"{x:.0%}"


def _segments(analysis) -> list[dict]:
    return sorted(analysis.profiles, key=lambda p: p["segment"])


def to_json(fig) -> str:
    """Figure JSON, safe inside a <script type="application/json"> element."""
    text = fig.to_json(validate=False, engine="json")
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


# --- Data & Analysis -----------------------------------------------------------------------------


def k_selection_figure(analysis):
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    sel = analysis.metrics.get("k_selection") or {}
    ks = sel.get("k_values") or []
    chosen = analysis.metrics.get("k") or analysis.n_segments
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    if sel.get("silhouette"):
        fig.add_trace(
            go.Scatter(
                x=ks,
                y=sel["silhouette"],
                name="Silhouette (higher is better)",
                mode="lines+markers",
                line={"color": "#3b5bdb", "width": 3},
            ),
            secondary_y=False,
        )
    if sel.get("stability"):
        fig.add_trace(
            go.Scatter(
                x=ks,
                y=sel["stability"],
                name="Stability across resamples (ARI)",
                mode="lines+markers",
                line={"color": "#40c057", "dash": "dot"},
            ),
            secondary_y=False,
        )
    curve_key = "bic" if sel.get("bic") else "inertia"
    if sel.get(curve_key):
        label = "BIC (lower is better)" if curve_key == "bic" else "Inertia per customer (elbow)"
        fig.add_trace(
            go.Scatter(x=ks, y=sel[curve_key], name=label, mode="lines+markers", line={"color": "#f76707", "width": 3}),
            secondary_y=True,
        )
    if chosen:
        fig.add_vline(
            x=chosen,
            line={"color": "#c92a2a", "dash": "dash", "width": 2},
            annotation_text=f"chosen k = {chosen}",
            annotation_position="top right",
            annotation_font={"color": "#c92a2a"},
        )
    _layout(
        fig,
        "Choosing the number of segments",
        height=380,
        subtitle="silhouette, elbow of the inertia curve and stability across resamples",
    )
    fig.update_xaxes(title_text="Number of segments (k)", dtick=1)
    fig.update_yaxes(title_text="Silhouette / stability (ARI, 0–1)", secondary_y=False)
    fig.update_yaxes(
        title_text="BIC" if curve_key == "bic" else "Inertia (mean squared distance)", secondary_y=True, showgrid=False
    )
    return fig


def calibration_figure(analysis):
    """Predicted vs observed churn on held-out customers (only when a churn label column was given)."""
    import plotly.graph_objects as go

    bins = (analysis.metrics.get("churn") or {}).get("calibration") or []
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=[0, 100],
            y=[0, 100],
            mode="lines",
            name="Perfect calibration",
            line={"color": "#adb5bd", "dash": "dash"},
            hoverinfo="skip",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=[b["predicted"] * 100 for b in bins],
            y=[b["observed"] * 100 for b in bins],
            mode="lines+markers",
            name="Churn model",
            line={"color": "#3b5bdb", "width": 3},
            customdata=[b["count"] for b in bins],
            hovertemplate="predicted %{x:.1f}% → observed %{y:.1f}% (%{customdata:,} customers)<extra></extra>",
        )
    )
    _layout(
        fig,
        "Churn model calibration",
        height=340,
        subtitle="held-out customers grouped by predicted risk: predicted vs observed churn",
    )
    # A little room below 0 on both axes, so the two "0%" tick labels do not meet in the corner.
    fig.update_xaxes(title_text="Predicted churn risk (%)", ticksuffix="%", range=[-4, 102])
    fig.update_yaxes(title_text="Observed churn (%)", ticksuffix="%", range=[-6, 102])
    return fig


# --- Visualizations ------------------------------------------------------------------------------


def segment_sizes_figure(analysis, colors):
    import plotly.graph_objects as go

    segs = _segments(analysis)
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
    _layout(
        fig,
        "Segment sizes",
        height=330,
        subtitle="share of customers per segment",
        legend_rows=_legend_rows(segs, per_row=2),
    )
    fig.update_layout(margin={"l": 20, "r": 20})
    return fig


# Bubble labels: the full segment name beside its bubble, placed where it overlaps nothing (other bubbles,
# other labels, the plot's edges and fixed boxes such as quadrant captions). Positions are chosen on the
# server for a plot area of about `_BUBBLE_PLOT_PX` pixels (the narrowest these charts get on a laptop; wider
# screens only add room between the bubbles), with the text size of the labels.
_BUBBLE_PLOT_PX = (420, 270)
_LABEL_CHAR_PX, _LABEL_LINE_PX = 6.4, 14
_LABEL_POSITIONS = ("top center", "top right", "top left", "middle right", "middle left", "bottom center")


def _label_box(position: str, cx: float, cy: float, r: float, w: float, h: float) -> tuple[float, ...]:
    """(x0, y0, x1, y1) in pixels (y down) of a label at a Plotly text position around a marker."""
    vertical, horizontal = position.split()
    gap = 3
    if vertical == "top":
        y0, y1 = cy - r - gap - h, cy - r - gap
    elif vertical == "bottom":
        y0, y1 = cy + r + gap, cy + r + gap + h
    else:
        y0, y1 = cy - h / 2, cy + h / 2
    if horizontal == "center":
        x0, x1 = cx - w / 2, cx + w / 2
    elif horizontal == "right":
        x0 = cx + (r + gap if vertical == "middle" else 0)
        x1 = x0 + w
    else:
        x1 = cx - (r + gap if vertical == "middle" else 0)
        x0 = x1 - w
    return x0, y0, x1, y1


def _overlap(a, b, pad: float = 4) -> float:
    """Area shared by two boxes, each grown by `pad` pixels (labels keep a little air between them)."""
    width = min(a[2], b[2]) - max(a[0], b[0]) + 2 * pad
    height = min(a[3], b[3]) - max(a[1], b[1]) + 2 * pad
    return max(0.0, width) * max(0.0, height)


def bubble_label_positions(points, x_range, y_range, obstacles=(), plot_px=_BUBBLE_PLOT_PX) -> list[str]:
    """A Plotly `textposition` per point [(x, y, diameter_px, label)], so that labels overlap neither the
    bubbles, each other, the plot's edges nor the `obstacles`: annotations as (x, y, xanchor, yanchor,
    width_px, height_px) in data coordinates."""
    width, height = plot_px

    def px(x, y):
        return (
            (x - x_range[0]) / (x_range[1] - x_range[0]) * width,
            (y_range[1] - y) / (y_range[1] - y_range[0]) * height,
        )

    centres = [(*px(x, y), d / 2) for x, y, d, _ in points]
    fixed = [(cx - r, cy - r, cx + r, cy + r) for cx, cy, r in centres]
    for x, y, xanchor, yanchor, w, h in obstacles:
        ox, oy = px(x, y)
        x0 = ox - (w if xanchor == "right" else w / 2 if xanchor == "center" else 0)
        y0 = oy - (h if yanchor == "bottom" else h / 2 if yanchor == "middle" else 0)
        fixed.append((x0, y0, x0 + w, y0 + h))
    sizes = []
    for *_, label in points:
        lines = label.split("<br>")
        sizes.append((max(len(line) for line in lines) * _LABEL_CHAR_PX, len(lines) * _LABEL_LINE_PX))

    def box(i, position):
        cx, cy, r = centres[i]
        return _label_box(position, cx, cy, r, *sizes[i])

    def cost(i, position, placed):
        b = box(i, position)
        w, h = sizes[i]
        others = [f for j, f in enumerate(fixed) if j != i] + [box(j, pos) for j, pos in placed.items() if j != i]
        outside = w * h - _overlap(b, (0, 0, width, height), pad=0)
        # leaving the plot is worst; otherwise prefer the earlier positions
        return sum(_overlap(b, o) for o in others) + 4 * outside + _LABEL_POSITIONS.index(position)

    placed: dict[int, str] = {}
    # Biggest bubbles first (they have the fewest good places), then a few passes that move a label when
    # another place has become better now that every label is down.
    order = sorted(range(len(points)), key=lambda i: -points[i][2])
    for _ in range(4):
        changed = False
        for i in order:
            best = min(_LABEL_POSITIONS, key=lambda pos: cost(i, pos, placed))
            changed |= placed.get(i) != best
            placed[i] = best
        if not changed:
            break
    return [placed[i] for i in range(len(points))]


def _bubble_diameter(size: float, biggest: float, max_px: float, min_px: float) -> float:
    return max(min_px, max_px * (size / max(biggest, 1)) ** 0.5)


def _add_segment_bubbles(
    fig, segs, colors, *, x_range, y_range, max_px, min_px, hovertemplate, obstacles=(), opacity=None, customdata=None
) -> None:
    """One bubble per segment at (churn risk %, average LTV), area = size, its name placed where it fits."""
    import plotly.graph_objects as go

    biggest = max((p["size"] for p in segs), default=1)
    labels = [_wrap(p["name"], 20, 2) for p in segs]
    positions = bubble_label_positions(
        [
            (p["avg_churn_risk"] * 100, p["avg_ltv"], _bubble_diameter(p["size"], biggest, max_px, min_px), label)
            for p, label in zip(segs, labels, strict=True)
        ],
        x_range,
        y_range,
        **({"obstacles": list(obstacles)} if obstacles else {}),
    )
    for p, label, position in zip(segs, labels, positions, strict=True):
        marker = {
            "size": [p["size"]],
            "sizemode": "area",
            "sizeref": 2.0 * biggest / (float(max_px) ** 2),
            "sizemin": min_px,
            "color": colors[p["segment"]],
            "line": {"color": "#fff", "width": 1},
        }
        if opacity is not None:
            marker["opacity"] = opacity
        fig.add_trace(
            go.Scatter(
                x=[p["avg_churn_risk"] * 100],
                y=[p["avg_ltv"]],
                name=p["name"],
                mode="markers+text",
                text=[label],
                textposition=position,
                textfont={"size": 11},
                cliponaxis=False,
                marker=marker,
                customdata=customdata(p) if customdata else None,
                hovertemplate=hovertemplate(p),
            )
        )


def ltv_churn_bubble_figure(analysis, colors):
    import plotly.graph_objects as go

    segs = [p for p in _segments(analysis) if p.get("avg_ltv") is not None]
    fig = go.Figure()
    x_top = max([p["avg_churn_risk"] * 100 for p in segs] or [10])
    y_top = max([p["avg_ltv"] for p in segs] or [1]) or 1
    x_range = [-4, min(x_top * 1.12 + 8, 112)]
    y_range = [-0.08 * y_top, y_top * 1.42]
    _add_segment_bubbles(
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
            f"<b>{p['name']}</b><br>Churn risk %{{x:.1f}}%<br>Avg predicted LTV {CURRENCY}%{{y:,.0f}}"
            "<br>%{customdata[0]:,} customers (%{customdata[1]:.1f}%)<extra></extra>"
        ),
    )
    _layout(
        fig,
        "Predicted LTV vs churn risk by segment",
        height=400,
        subtitle="bubble area = segment size",
        legend_rows=_legend_rows(segs),
    )
    fig.update_xaxes(title_text="Average churn risk (%)", ticksuffix="%", range=x_range)
    fig.update_yaxes(
        title_text=f"Avg predicted LTV ({CURRENCY}, {_horizon(analysis)})", range=y_range, **_money_ticks(y_range[1])
    )
    return fig


def _money_ticks(top: float, n: int = 5) -> dict:
    """Axis ticks at round amounts from 0 up to `top` (none below zero, where a chart keeps room for labels)."""
    import math

    raw = max(top, 1) / n
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    values = [i * step for i in range(int(top // step) + 1)]
    return {"tickmode": "array", "tickvals": values, "ticktext": [_money(v) for v in values]}


def _legend_rows(items, per_row: int = 3) -> int:
    return max(1, -(-len(items) // per_row))


def _horizon(analysis) -> str:
    ltv = analysis.metrics.get("ltv") or {}
    months = ltv.get("horizon_months") or analysis.config.get("ltv_horizon_months") or 12
    return f"{months}-month"


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
    _layout(
        fig,
        "Customers in the first two principal components",
        height=460,
        subtitle=note,
        legend_rows=_legend_rows(names),
    )
    fig.update_layout(legend={"itemsizing": "constant"})
    fig.update_xaxes(
        title_text="PC1" + (f" ({var[0]:.0%} of variance)" if len(var) > 0 else "") + " · standardised units"
    )
    fig.update_yaxes(
        title_text="PC2" + (f" ({var[1]:.0%} of variance)" if len(var) > 1 else "") + " · standardised units"
    )
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
            y=[d["feature"] for d in items],
            orientation="h",
            marker={"color": "#3b5bdb"},
            customdata=[[d.get("rf", 0) * 100, d.get("mi", 0) * 100] for d in items],
            hovertemplate="<b>%{y}</b><br>combined %{x:.1f}%<br>random forest %{customdata[0]:.1f}% · mutual information "
            "%{customdata[1]:.1f}%<extra></extra>",
        )
    )
    _layout(
        fig,
        "What drives the segmentation",
        height=max(320, 90 + 26 * len(items)),
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
    segs = [p for p in _segments(analysis) if p["segment"] in z]
    matrix = [z[p["segment"]] for p in segs]
    fig = go.Figure(
        go.Heatmap(
            z=matrix,
            x=features,
            y=[p["name"] for p in segs],
            colorscale="RdBu",
            reversescale=True,
            zmid=0,
            zmin=-2,
            zmax=2,
            colorbar={"ticksuffix": " SD", "thickness": 14},  # the ticks say "SD": no title to collide with
            text=[[f"{v:+.2f}" for v in row] for row in matrix],
            texttemplate="%{text}",
            textfont={"size": 10},
            hovertemplate="<b>%{y}</b><br>%{x}: %{z:+.2f} standard deviations from the average customer<extra></extra>",
        )
    )
    _layout(
        fig,
        "Segment comparison grid",
        height=max(320, 150 + 42 * len(segs)),
        legend=False,
        subtitle="each feature's segment mean, in standard deviations (SD) from the average customer",
    )
    fig.update_xaxes(title_text="Feature", tickangle=-35, automargin=True)
    fig.update_yaxes(title_text="Segment", automargin=True, autorange="reversed")
    return fig


def radar_figures(analysis, colors) -> list[tuple[str, object]]:
    import plotly.graph_objects as go

    features, z = _heat_features(analysis)
    if not features:
        return []
    full = _radar_features(analysis, features)
    idx = [features.index(f) for f in full]
    # Axis labels on up to two short lines, so the ones left and right of the circle stay inside the chart.
    top = [_wrap(f, 12, 2) for f in full]
    two_line_titles = any("<br>" in _wrap(p["name"], 34, 2) for p in _segments(analysis))
    out = []
    for p in _segments(analysis):
        if p["segment"] not in z:
            continue
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
                customdata=[*full, full[0]],
                hovertemplate="%{customdata}: %{r:+.2f} SD<extra></extra>",
            )
        )
        title = _wrap(p["name"], 34, 2)
        _layout(
            fig, title, height=350 if two_line_titles else 330, legend=False, subtitle=f"{p['share']:.0%} of customers"
        )
        fig.update_layout(
            # The same top margin on every radar (room for a two-line title) so the circles line up in the grid.
            margin={"l": 84, "r": 84, "t": 102 if two_line_titles else 78, "b": 30},
            polar={
                "radialaxis": {
                    "range": [-2.5, 2.5],
                    "tickvals": [-2, 0, 2],
                    "ticktext": ["−2 SD", "avg", "+2 SD"],
                    "tickfont": {"size": 8, "color": "#868e96"},
                    "angle": 90,
                },
                "angularaxis": {"tickfont": {"size": 10}},
            },
        )
        out.append((f"radar-{p['segment']}", fig))
    return out


def _radar_features(analysis, features: list[str], n: int = 7) -> list[str]:
    ranked = [d["feature"] for d in _importance(analysis)]
    chosen = [f for f in ranked if f in features][:n]
    for f in features:
        if len(chosen) >= n:
            break
        if f not in chosen:
            chosen.append(f)
    return chosen


def journey_figure(analysis):
    import plotly.graph_objects as go

    life = analysis.summary.get("lifecycle") or {}
    stages = life.get("stages") or []
    counts = {int(k): v for k, v in (life.get("counts") or {}).items()}
    segs = [p for p in _segments(analysis) if p["segment"] in counts]
    fig = go.Figure()
    for j, stage in enumerate(stages):
        shares = [100 * counts[p["segment"]][j] / max(sum(counts[p["segment"]]), 1) for p in segs]
        fig.add_trace(
            go.Bar(
                x=shares,
                y=[_wrap(p["name"], 24, 2) for p in segs],  # long names on two lines leave room for the bars
                orientation="h",
                name=LIFECYCLE_LABELS.get(stage, stage),
                marker={"color": LIFECYCLE_COLORS.get(stage, "#adb5bd")},
                customdata=[[counts[p["segment"]][j], p["name"]] for p in segs],
                hovertemplate="<b>%{customdata[1]}</b><br>"
                + LIFECYCLE_LABELS.get(stage, stage)
                + ": %{x:.1f}% (%{customdata[0]:,} customers)<extra></extra>",
            )
        )
    _layout(
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
    for p in _segments(analysis):
        part = sample[sample["segment"] == p["segment"]]
        if part.empty or "predicted_ltv" not in part:
            continue
        fig.add_trace(
            go.Box(
                x=part["predicted_ltv"].round(2).tolist(),
                name=_wrap(p["name"], 24, 2),  # long names on two lines leave room for the boxes
                marker={"color": colors[p["segment"]]},
                boxpoints=False,
                hoverinfo="x",
            )
        )
    _layout(
        fig,
        "Predicted LTV distribution per segment",
        height=max(320, 130 + 40 * len(analysis.profiles)),
        legend=False,
        subtitle=f"box = quartiles, whiskers = 1.5 IQR; {len(sample):,} sampled customers",
    )
    fig.update_xaxes(title_text=f"Predicted LTV ({CURRENCY}, {_horizon(analysis)})", tickprefix=CURRENCY)
    fig.update_yaxes(automargin=True, autorange="reversed")
    return fig


# --- Business insights ---------------------------------------------------------------------------


def risk_value_matrix_figure(analysis, colors):
    import plotly.graph_objects as go

    segs = [p for p in _segments(analysis) if p.get("avg_ltv") is not None]
    pop = (analysis.metrics.get("insights") or {}).get("population") or {}
    x_mid = (
        pop.get("avg_churn_risk")
        if pop.get("avg_churn_risk") is not None
        else analysis.summary.get("avg_churn_risk") or 0.5
    ) * 100
    y_mid = pop.get("avg_ltv") if pop.get("avg_ltv") is not None else analysis.summary.get("avg_predicted_ltv") or 0
    fig = go.Figure()
    xs = [p["avg_churn_risk"] * 100 for p in segs] + [x_mid]
    ys = [p["avg_ltv"] for p in segs] + [y_mid]
    x_max = min(max(max(xs) * 1.12 + 8, x_mid * 2, 10), 112)
    y_max = max(max(ys) * 1.5, y_mid * 2, 1)
    y_min = -0.26 * y_max  # a band under zero for the lower quadrant labels, clear of the bubbles
    quadrants = [
        (1, y_max, "left", "top", "<b>Protect & grow</b><br>high value, low risk", "#2b8a3e"),
        (x_max - 1, y_max, "right", "top", "<b>Retain urgently</b><br>high value, high risk", "#c92a2a"),
        (1, y_min, "left", "bottom", "<b>Develop</b><br>low value, low risk", "#1864ab"),
        (x_max - 1, y_min, "right", "bottom", "<b>Win back cheaply or let go</b><br>low value, high risk", "#868e96"),
    ]
    _add_segment_bubbles(
        fig,
        segs,
        colors,
        x_range=[-2, x_max],
        y_range=[y_min, y_max],
        max_px=55,
        min_px=8,
        obstacles=[
            (x, y, xanchor, yanchor, 6 * max(len(re.sub(r"<[^>]+>", "", t)) for t in text.split("<br>")), 30)
            for x, y, xanchor, yanchor, text, _ in quadrants
        ],
        hovertemplate=lambda p: (
            f"<b>{p['name']}</b><br>value tier {p['value_tier']}, risk {p['risk_level']}<br>"
            f"churn risk %{{x:.1f}}%<br>avg LTV {CURRENCY}%{{y:,.0f}}<extra></extra>"
        ),
    )
    for x, y, xanchor, yanchor, text, color in quadrants:
        fig.add_annotation(
            x=x,
            y=y,
            xanchor=xanchor,
            yanchor=yanchor,
            text=text,
            showarrow=False,
            font={"size": 10, "color": color},
            bgcolor="rgba(255,255,255,0.8)",
        )
    fig.add_vline(x=x_mid, line={"color": "#adb5bd", "dash": "dash"})
    fig.add_hline(y=y_mid, line={"color": "#adb5bd", "dash": "dash"})
    _layout(
        fig,
        "Risk–value matrix",
        height=440,
        legend_rows=_legend_rows(segs),
        subtitle="dashed lines: the average customer; bubble area = segment size",
    )
    fig.update_xaxes(title_text="Average churn risk (%)", ticksuffix="%", range=[-2, x_max])
    fig.update_yaxes(
        title_text=f"Avg predicted LTV ({CURRENCY}, {_horizon(analysis)})", range=[y_min, y_max], **_money_ticks(y_max)
    )
    return fig


def revenue_contribution_figure(analysis, colors):
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    segs = [p for p in _segments(analysis) if p["segment"] >= 0 or p["size"]]
    use_revenue = any(p.get("revenue_share") is not None for p in segs)
    if use_revenue:
        values = {p["segment"]: (p.get("total_revenue") or 0.0) for p in segs}
        what = "historical revenue"
    else:
        values = {p["segment"]: (p.get("avg_ltv") or 0.0) * p["size"] for p in segs}
        what = f"predicted LTV ({_horizon(analysis)})"
    total = sum(values.values()) or 1.0
    ordered = sorted(segs, key=lambda p: -values[p["segment"]])
    shares = [100 * values[p["segment"]] / total for p in ordered]
    cumulative, running = [], 0.0
    for s in shares:
        running += s
        cumulative.append(running)
    cust_cum, run_c = [], 0.0
    for p in ordered:
        run_c += p["share"] * 100
        cust_cum.append(run_c)
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    names = [p["name"] for p in ordered]
    fig.add_trace(
        go.Bar(
            x=names,
            y=shares,
            name=f"Share of {what}",
            marker={"color": [colors[p["segment"]] for p in ordered]},
            customdata=[[values[p["segment"]], p["share"] * 100] for p in ordered],
            hovertemplate=f"<b>%{{x}}</b><br>%{{y:.1f}}% of {what} ({CURRENCY}%{{customdata[0]:,.0f}})"
            "<br>%{customdata[1]:.1f}% of customers<extra></extra>",
        ),
        secondary_y=False,
    )
    fig.add_trace(
        go.Scatter(
            x=names,
            y=cumulative,
            name="Cumulative share (Pareto)",
            mode="lines+markers",
            line={"color": "#212529", "width": 2},
            customdata=cust_cum,
            hovertemplate="%{y:.1f}% of " + what + " from %{customdata:.1f}% of customers<extra></extra>",
        ),
        secondary_y=True,
    )
    fig.add_hline(
        y=80,
        line={"color": "#c92a2a", "dash": "dot"},
        secondary_y=True,
        annotation_text="80%",
        annotation_position="bottom right",
    )
    _layout(
        fig,
        "Revenue contribution by segment",
        height=440,
        subtitle=f"share of {what} per segment, largest first, with the cumulative (Pareto) curve",
    )
    fig.update_xaxes(title_text="Segment", tickangle=-20, automargin=True)
    fig.update_yaxes(
        title_text=f"Share of {what} (%)",
        ticksuffix="%",
        secondary_y=False,
        range=[0, 105],
        tickvals=[0, 20, 40, 60, 80, 100],
    )
    fig.update_yaxes(
        title_text="Cumulative share (%)",
        ticksuffix="%",
        range=[0, 105],
        secondary_y=True,
        showgrid=False,
        tickvals=[0, 20, 40, 60, 80, 100],
    )
    return fig


def growth_opportunities_figure(analysis, colors):
    import plotly.graph_objects as go

    insights = analysis.metrics.get("insights") or {}
    growth = insights.get("growth_opportunities") or []
    under = insights.get("underperforming") or []
    fig = go.Figure()
    fig.add_trace(
        go.Bar(
            y=[g["name"] for g in growth],
            x=[g.get("growth_potential") or 0 for g in growth],
            orientation="h",
            name="Growth potential (low-risk, valuable segments)",
            marker={"color": "#2b8a3e"},
            hovertemplate=f"<b>%{{y}}</b><br>growth potential {CURRENCY}%{{x:,.0f}}<extra></extra>",
        )
    )
    fig.add_trace(
        go.Bar(
            y=[u["name"] for u in under],
            x=[u.get("development_potential") or 0 for u in under],
            orientation="h",
            name="Development potential (underperforming segments)",
            marker={"color": "#f59f00"},
            hovertemplate=f"<b>%{{y}}</b><br>development potential {CURRENCY}%{{x:,.0f}}<extra></extra>",
        )
    )
    n = len(growth) + len(under)
    _layout(
        fig,
        "Growth opportunities by segment",
        height=max(300, 140 + 44 * n),
        legend_rows=2,
        subtitle="potential additional value in currency",
    )
    fig.update_xaxes(title_text=f"Potential additional value ({CURRENCY}, {_horizon(analysis)})", tickprefix=CURRENCY)
    fig.update_yaxes(automargin=True, autorange="reversed")
    return fig


# --- compare -------------------------------------------------------------------------------------

# One colour per run (not per segment): segment k of run A and segment k of run B are different groups of
# customers, so the colours must not suggest a match. The segment names are on the axis instead.
RUN_COLORS = {"A": "#3b5bdb", "B": "#e8590c"}


def _compare_metric_figure(runs, *, title: str, value, axis: str, text, hover: str, value_max: float | None = None):
    """Horizontal bars, run A above run B, on ONE shared value axis: bar lengths compare across the runs."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    segs = [_segments(run) for _, _, run in runs]
    names = [[_wrap(p["name"], 22, 2) for p in run_segs] for run_segs in segs]
    # Each bar gets room for its (up to two-line) name; the gap between the runs holds run A's tick labels
    # and run B's title.
    units = [sum(2 if "<br>" in n else 1.4 for n in run_names) or 1 for run_names in names]
    plot_px = 22 * sum(units)
    gap_px = 64
    fig = make_subplots(
        rows=2,
        cols=1,
        row_heights=[u / sum(units) for u in units],
        vertical_spacing=gap_px / (plot_px + gap_px),
        subplot_titles=[f"Run {r[1]} · {len(run_segs)} segments" for r, run_segs in zip(runs, segs, strict=True)],
    )
    top = 0.0
    for row, ((label, letter, _run), run_segs, run_names) in enumerate(zip(runs, segs, names, strict=True), start=1):
        values = [value(p) for p in run_segs]
        top = max([top, *values])
        fig.add_trace(
            go.Bar(
                x=values,
                y=run_names,
                orientation="h",
                name=label,
                showlegend=False,
                marker={"color": RUN_COLORS[letter]},
                text=[text(v) for v in values],
                textposition="outside",
                cliponaxis=False,
                textfont={"size": 11},
                customdata=[p["name"] for p in run_segs],
                hovertemplate=f"<b>%{{customdata}}</b><br>{hover}<extra>{_short(label, 30)}</extra>",
            ),
            row=row,
            col=1,
        )
        fig.update_yaxes(autorange="reversed", automargin=True, ticks="", ticklabelstandoff=6, row=row, col=1)
    upper = value_max if value_max is not None else (top or 1) * 1.22
    _layout(fig, title, height=int(plot_px + gap_px + 56 + 70), legend=False)
    fig.update_layout(margin={"l": 10, "r": 16, "t": 70, "b": 56}, bargap=0.3)
    # The same range on both runs' value axes (set, and matched so zooming one zooms the other).
    fig.update_xaxes(range=[0, upper], automargin=True, nticks=4)
    fig.update_xaxes(matches="x", row=2, col=1)
    fig.update_xaxes(title_text=axis, row=2, col=1)
    for ann, (_, letter, _) in zip(fig.layout.annotations, runs, strict=True):  # run labels, in the run's colour
        ann.update(x=0, xanchor="left", font={"size": 12, "color": RUN_COLORS[letter]})
    return fig


def compare_figures(a, b, overlap: dict | None) -> list[tuple[str, object]]:
    import plotly.graph_objects as go

    runs = [(f"A · {a.name}", "A", a), (f"B · {b.name}", "B", b)]
    out = [
        (
            "compare-sizes",
            _compare_metric_figure(
                runs,
                title="Segment sizes",
                value=lambda p: p["size"],
                axis="Customers",
                text=lambda v: f"{v:,.0f}",
                hover="%{x:,} customers",
            ),
        ),
        (
            "compare-ltv",
            _compare_metric_figure(
                runs,
                title="Average predicted LTV by segment",
                value=lambda p: p.get("avg_ltv") or 0,
                axis=f"Average predicted LTV ({CURRENCY})",
                text=_money,
                hover=f"{CURRENCY}%{{x:,.0f}} average predicted LTV",
            ),
        ),
        (
            "compare-churn",
            _compare_metric_figure(
                runs,
                title="Average churn risk by segment",
                value=lambda p: (p.get("avg_churn_risk") or 0) * 100,
                axis="Average churn risk (%)",
                text=lambda v: f"{v:.0f}%",
                hover="%{x:.1f}% average churn risk",
                value_max=118,
            ),
        ),
    ]
    for key, fig in out:
        if key == "compare-churn":
            ticks = [0, 25, 50, 75, 100]
            fig.update_xaxes(tickmode="array", tickvals=ticks, ticktext=[f"{t}%" for t in ticks])
        if key == "compare-ltv":
            fig.update_xaxes(tickprefix=CURRENCY, separatethousands=True)
        if key == "compare-sizes":
            fig.update_xaxes(separatethousands=True)
    if overlap:
        a_names = {p["segment"]: p["name"] for p in a.profiles}
        b_names = {p["segment"]: p["name"] for p in b.profiles}
        matrix = overlap["matrix"]
        fig = go.Figure(
            go.Heatmap(
                z=matrix,
                x=[_wrap(b_names.get(s, s), 18) for s in overlap["b_segments"]],
                y=[_wrap(a_names.get(s, s), 22, 2) for s in overlap["a_segments"]],
                colorscale="Blues",
                zmin=0,
                showscale=False,
                text=[[f"{v:,}" if v else "" for v in row] for row in matrix],
                texttemplate="%{text}",
                textfont={"size": 11},
                customdata=[
                    [[a_names.get(sa, sa), b_names.get(sb, sb)] for sb in overlap["b_segments"]]
                    for sa in overlap["a_segments"]
                ],
                hovertemplate="A: %{customdata[0]}<br>B: %{customdata[1]}<br>%{z:,} customers<extra></extra>",
            )
        )
        _layout(
            fig,
            "Where run A's customers went in run B",
            height=max(340, 190 + 44 * len(overlap["a_segments"])),
            legend=False,
            subtitle=f"customers in each pair of segments; agreement (adjusted Rand index) {overlap['ari']:.2f}",
        )
        fig.update_layout(margin={"l": 10, "r": 16})
        fig.update_xaxes(title_text="Run B segment", tickangle=0, automargin=True, side="bottom", tickfont={"size": 10})
        fig.update_yaxes(title_text="Run A segment", automargin=True, autorange="reversed", tickfont={"size": 10})
        out.append(("compare-overlap", fig))
    return out


def _short(text: str, n: int = 48) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def _wrap(text: str, width: int = 22, lines: int = 3) -> str:
    """A label on up to `lines` lines of about `width` characters (Plotly breaks lines only at <br>). Lines
    break after a space, underscore or hyphen ("avg_order_" / "value"); a word longer than a line is cut."""
    words = [w for w in re.split(r"(?<=[ _-])", str(text)) if w]
    out: list[str] = []
    line = ""
    for word in words:
        if line and len((line + word).rstrip()) > width:
            out.append(line)
            line = ""
        while len(word.rstrip()) > width:
            out.append(word[:width])
            word = word[width:]
        line += word
    if line.strip() or not out:
        out.append(line)
    if len(out) > lines:
        out = [*out[: lines - 1], _short("".join(out[lines - 1 :]).rstrip(), width)]
    return "<br>".join(part.rstrip() for part in out)


# --- per tab, cached -----------------------------------------------------------------------------


def _sample(analysis):
    import pandas as pd
    from django.core.files.storage import default_storage

    return pd.read_parquet(default_storage.path(analysis.charts_file))


def _build(analysis, tab: str) -> list[tuple[str, object]]:
    colors = segment_colors(analysis.profiles, analysis.color_scheme)
    if tab == "data":
        figs = [("k-selection", k_selection_figure(analysis))]
        if (analysis.metrics.get("churn") or {}).get("calibration"):
            figs.append(("calibration", calibration_figure(analysis)))
        return figs
    if tab == "visualizations":
        sample = _sample(analysis)
        figs = [
            ("segment-sizes", segment_sizes_figure(analysis, colors)),
            ("ltv-churn", ltv_churn_bubble_figure(analysis, colors)),
            ("pca-scatter", pca_scatter_figure(analysis, colors, sample)),
            ("feature-importance", feature_importance_figure(analysis)),
            ("segment-heatmap", segment_heatmap_figure(analysis)),
            *radar_figures(analysis, colors),
            ("journey", journey_figure(analysis)),
            ("ltv-distribution", ltv_distribution_figure(analysis, colors, sample)),
        ]
        return figs
    if tab == "insights":
        return [
            ("growth", growth_opportunities_figure(analysis, colors)),
            ("risk-value", risk_value_matrix_figure(analysis, colors)),
            ("revenue", revenue_contribution_figure(analysis, colors)),
        ]
    return []


TABS_WITH_CHARTS = ("data", "visualizations", "insights")


def _figures_file(analysis, tab: str) -> str:
    return f"{analysis.storage_dir}/figures-v{CHARTS_VERSION}-{analysis.color_scheme}-{tab}.json"


def tab_figures(analysis, tab: str) -> dict[str, str]:
    """{chart id: figure JSON} for one tab. Results never change once stored, so the figures are built
    once (by the job, see `prebuild_figures`) and kept in a file beside the results, plus the cache."""
    from django.core.files.storage import default_storage

    stamp = int(analysis.finished_at.timestamp()) if analysis.finished_at else 0
    key = f"segsaas:charts:v{CHARTS_VERSION}:{analysis.pk}:{stamp}:{analysis.color_scheme}:{tab}"
    cached = cache.get(key)
    if cached is None:
        path = default_storage.path(_figures_file(analysis, tab))
        try:
            with open(path, encoding="utf-8") as fh:
                cached = fh.read()
        except FileNotFoundError:
            cached = _write_figures(analysis, tab)
        cache.set(key, cached, timeout=24 * 3600)
    return json.loads(cached)


def _write_figures(analysis, tab: str) -> str:
    from pathlib import Path

    from django.core.files.storage import default_storage

    text = json.dumps({name: to_json(fig) for name, fig in _build(analysis, tab)})
    path = Path(default_storage.path(_figures_file(analysis, tab)))
    if path.parent.exists():
        tmp = path.with_suffix(".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
    return text


def prebuild_figures(analysis) -> None:
    """Build every tab's figures once, right after the run, so no page view ever pays for it."""
    for tab in TABS_WITH_CHARTS:
        _write_figures(analysis, tab)
