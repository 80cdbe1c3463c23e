"""Plotly figures for the analysis pages, built on the server from stored results.

Every figure reads only small, pre-computed data: the profiles and metrics on the `Analysis` row,
the aggregates in `Analysis.summary`, and the per-segment chart sample (a few thousand customers
per segment). Nothing here touches the million-row per-customer table, and the JSON of each tab is
cached per analysis, so a page view costs milliseconds however large the analysis.
"""

from __future__ import annotations

import json

from django.core.cache import cache

CHARTS_VERSION = 5  # bump when a figure changes shape, to drop cached JSON
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
    fig.update_xaxes(title_text="Predicted churn risk (%)", ticksuffix="%", range=[0, 100])
    fig.update_yaxes(title_text="Observed churn (%)", ticksuffix="%", range=[0, 100])
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


def ltv_churn_bubble_figure(analysis, colors):
    import plotly.graph_objects as go

    segs = [p for p in _segments(analysis) if p.get("avg_ltv") is not None]
    fig = go.Figure()
    biggest = max((p["size"] for p in segs), default=1)
    for p in segs:
        fig.add_trace(
            go.Scatter(
                x=[p["avg_churn_risk"] * 100],
                y=[p["avg_ltv"]],
                name=p["name"],
                mode="markers+text",
                text=[_short(p["name"], 22)],
                textposition="top center",
                textfont={"size": 11},
                cliponaxis=False,
                marker={
                    "size": [p["size"]],
                    "sizemode": "area",
                    "sizeref": 2.0 * biggest / (70.0**2),
                    "sizemin": 6,
                    "color": colors[p["segment"]],
                    "opacity": 0.8,
                    "line": {"color": "#fff", "width": 1},
                },
                customdata=[[p["size"], p["share"] * 100]],
                hovertemplate=(
                    f"<b>{p['name']}</b><br>Churn risk %{{x:.1f}}%<br>Avg predicted LTV {CURRENCY}%{{y:,.0f}}"
                    "<br>%{customdata[0]:,} customers (%{customdata[1]:.1f}%)<extra></extra>"
                ),
            )
        )
    _layout(
        fig,
        "Predicted LTV vs churn risk by segment",
        height=400,
        subtitle="bubble area = segment size",
        legend_rows=_legend_rows(segs),
    )
    x_top = max([p["avg_churn_risk"] * 100 for p in segs] or [10])
    y_top = max([p["avg_ltv"] for p in segs] or [1])
    fig.update_xaxes(title_text="Average churn risk (%)", ticksuffix="%", range=[-3, min(x_top * 1.12 + 6, 110)])
    fig.update_yaxes(
        title_text=f"Avg predicted LTV ({CURRENCY}, {_horizon(analysis)})",
        tickprefix=CURRENCY,
        range=[-0.06 * y_top, y_top * 1.3],
    )
    return fig


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
            colorbar={"title": {"text": "SD"}, "ticksuffix": " SD", "thickness": 14},
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
    top = [f if len(f) <= 15 else f[:14] + "…" for f in full]
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
        _layout(fig, f"{_short(p['name'], 30)} ({p['share']:.0%})", height=330, legend=False)
        fig.update_layout(
            margin={"l": 70, "r": 70, "t": 50, "b": 30},
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
                y=[p["name"] for p in segs],
                orientation="h",
                name=LIFECYCLE_LABELS.get(stage, stage),
                marker={"color": LIFECYCLE_COLORS.get(stage, "#adb5bd")},
                customdata=[counts[p["segment"]][j] for p in segs],
                hovertemplate="<b>%{y}</b><br>"
                + LIFECYCLE_LABELS.get(stage, stage)
                + ": %{x:.1f}% (%{customdata:,} customers)<extra></extra>",
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
                name=p["name"],
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
    biggest = max((p["size"] for p in segs), default=1)
    for p in segs:
        fig.add_trace(
            go.Scatter(
                x=[p["avg_churn_risk"] * 100],
                y=[p["avg_ltv"]],
                mode="markers+text",
                name=p["name"],
                text=[_short(p["name"], 22)],
                textposition="top center",
                textfont={"size": 11},
                cliponaxis=False,
                marker={
                    "size": [p["size"]],
                    "sizemode": "area",
                    "sizeref": 2.0 * biggest / (55.0**2),
                    "sizemin": 8,
                    "color": colors[p["segment"]],
                    "line": {"color": "#fff", "width": 1},
                },
                hovertemplate=(
                    f"<b>{p['name']}</b><br>value tier {p['value_tier']}, risk {p['risk_level']}<br>"
                    f"churn risk %{{x:.1f}}%<br>avg LTV {CURRENCY}%{{y:,.0f}}<extra></extra>"
                ),
            )
        )
    xs = [p["avg_churn_risk"] * 100 for p in segs] + [x_mid]
    ys = [p["avg_ltv"] for p in segs] + [y_mid]
    x_max = min(max(max(xs) * 1.12 + 6, x_mid * 2, 10), 110)
    y_max = max(max(ys) * 1.3, y_mid * 2, 1)
    y_min = -0.16 * y_max  # a band under zero for the lower quadrant labels, clear of the bubbles
    quadrants = [
        (1, y_max, "left", "top", "<b>Protect & grow</b> · high value, low risk", "#2b8a3e"),
        (x_max - 1, y_max, "right", "top", "<b>Retain urgently</b> · high value, high risk", "#c92a2a"),
        (1, y_min, "left", "bottom", "<b>Develop</b> · low value, low risk", "#1864ab"),
        (x_max - 1, y_min, "right", "bottom", "<b>Win back cheaply or let go</b> · low value, high risk", "#868e96"),
    ]
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
        title_text=f"Avg predicted LTV ({CURRENCY}, {_horizon(analysis)})", tickprefix=CURRENCY, range=[y_min, y_max]
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


def compare_figures(a, b, overlap: dict | None) -> list[tuple[str, object]]:
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    out = []
    runs = [(f"A · {a.name}", a), (f"B · {b.name}", b)]
    specs = [
        ("compare-sizes", "Segment sizes (customers)", lambda p: p["size"], "Customers", "", ":,"),
        (
            "compare-ltv",
            f"Average predicted LTV by segment ({CURRENCY})",
            lambda p: p.get("avg_ltv") or 0,
            f"Average predicted LTV ({CURRENCY})",
            CURRENCY,
            ":,.0f",
        ),
        (
            "compare-churn",
            "Average churn risk by segment (%)",
            lambda p: (p.get("avg_churn_risk") or 0) * 100,
            "Average churn risk (%)",
            "",
            ":.1f",
        ),
    ]
    for key, title, value, axis, prefix, fmt in specs:
        fig = make_subplots(rows=1, cols=2, subplot_titles=[_short(r[0]) for r in runs], horizontal_spacing=0.12)
        for col, (label, run) in enumerate(runs, start=1):
            colors = segment_colors(run.profiles, run.color_scheme)
            segs = _segments(run)
            fig.add_trace(
                go.Bar(
                    x=[p["name"] for p in segs],
                    y=[value(p) for p in segs],
                    name=_short(label),
                    showlegend=False,
                    marker={"color": [colors[p["segment"]] for p in segs]},
                    hovertemplate=f"<b>%{{x}}</b><br>{prefix}%{{y{fmt}}}<extra>{_short(label)}</extra>",
                ),
                row=1,
                col=col,
            )
        _layout(fig, title, height=400, legend=False)
        fig.update_layout(margin={"t": 80})
        fig.update_yaxes(title_text=axis, tickprefix=prefix, rangemode="tozero")
        fig.update_xaxes(tickangle=-25, automargin=True)
        out.append((key, fig))
    if overlap:
        a_names = {p["segment"]: p["name"] for p in a.profiles}
        b_names = {p["segment"]: p["name"] for p in b.profiles}
        fig = go.Figure(
            go.Heatmap(
                z=overlap["matrix"],
                x=[f"B: {b_names.get(s, s)}" for s in overlap["b_segments"]],
                y=[f"A: {a_names.get(s, s)}" for s in overlap["a_segments"]],
                colorscale="Blues",
                colorbar={"title": {"text": "customers"}},
                hovertemplate="%{y} ∩ %{x}: %{z:,} customers<extra></extra>",
            )
        )
        _layout(
            fig,
            "Where run A's customers went in run B",
            height=max(340, 160 + 40 * len(overlap["a_segments"])),
            legend=False,
            subtitle=f"customers in each pair of segments; agreement (adjusted Rand index) {overlap['ari']:.2f}",
        )
        fig.update_xaxes(tickangle=-25, automargin=True)
        fig.update_yaxes(automargin=True, autorange="reversed")
        out.append(("compare-overlap", fig))
    return out


def _short(text: str, n: int = 48) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


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
