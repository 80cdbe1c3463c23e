"""The Business Insights tab's figures: growth opportunities, the risk–value matrix and the revenue contribution
(Pareto) of each segment."""

from __future__ import annotations

import re

from segments.charts.common import (
    add_segment_bubbles,
    currency,
    currency_label,
    horizon,
    layout,
    legend_rows,
    money_ticks,
    sorted_segments,
    wrap,
)

# 0–100 % ticks written out (a `ticksuffix` is not drawn on ticks given as values)
PERCENT_TICKS = {"tickvals": [0, 20, 40, 60, 80, 100], "ticktext": ["0%", "20%", "40%", "60%", "80%", "100%"]}


def figures(analysis, colors: dict[int, str]) -> list[tuple[str, object]]:
    """(chart id, figure) for the tab, in page order."""
    # Without a predicted LTV (no money column, or no duration of known unit) the growth ceilings and the
    # risk–value matrix have nothing to draw: the page says why instead of showing an empty frame.
    insights = analysis.metrics.get("insights") or {}
    ceilings = [g.get("growth_potential") for g in insights.get("growth_opportunities") or []] + [
        u.get("development_potential") for u in insights.get("underperforming") or []
    ]
    return [
        *([("growth", growth_opportunities_figure(analysis, colors))] if any(ceilings) else []),
        *([("risk-value", risk_value_matrix_figure(analysis, colors))] if analysis.has_ltv else []),
        ("revenue", revenue_contribution_figure(analysis, colors)),
    ]


def risk_value_matrix_figure(analysis, colors):
    import plotly.graph_objects as go

    segs = [p for p in sorted_segments(analysis) if p.get("avg_ltv") is not None]
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
    add_segment_bubbles(
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
            f"churn risk %{{x:.1f}}%<br>avg LTV {currency()}%{{y:,.0f}}<extra></extra>"
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
    layout(
        fig,
        "Risk–value matrix",
        height=440,
        legend_rows=legend_rows(segs),
        subtitle="dashed lines: the average customer; bubble area = segment size",
    )
    fig.update_xaxes(title_text="Average churn risk (%)", ticksuffix="%", range=[-2, x_max])
    fig.update_yaxes(
        title_text=f"Avg predicted LTV ({currency_label()}, {horizon(analysis)})",
        range=[y_min, y_max],
        **money_ticks(y_max),
    )
    return fig


def revenue_contribution_figure(analysis, colors):
    import plotly.graph_objects as go

    segs = [p for p in sorted_segments(analysis) if p["segment"] >= 0 or p["size"]]
    use_revenue = any(p.get("revenue_share") is not None for p in segs)
    if use_revenue:
        values = {p["segment"]: (p.get("total_revenue") or 0.0) for p in segs}
        what = "historical revenue"
    else:
        values = {p["segment"]: (p.get("avg_ltv") or 0.0) * p["size"] for p in segs}
        what = f"predicted LTV ({horizon(analysis)})"
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
    # Bars across, names on the left on up to two lines: long segment names stay level and apart at any width
    # (slanted under vertical bars they ran into each other). Shares and the cumulative curve share one scale.
    names = [wrap(p["name"], 26, 2) for p in ordered]
    fig = go.Figure()
    fig.add_trace(
        go.Bar(
            y=names,
            x=shares,
            orientation="h",
            name=f"Share of {what}",
            showlegend=False,  # the axis says what the bars are; a legend swatch took the first segment's colour
            marker={"color": [colors[p["segment"]] for p in ordered]},
            customdata=[[values[p["segment"]], p["share"] * 100, p["name"]] for p in ordered],
            hovertemplate=f"<b>%{{customdata[2]}}</b><br>%{{x:.1f}}% of {what} ({currency()}%{{customdata[0]:,.0f}})"
            "<br>%{customdata[1]:.1f}% of customers<extra></extra>",
        )
    )
    fig.add_trace(
        go.Scatter(
            y=names,
            x=cumulative,
            name="Cumulative share (Pareto)",
            mode="lines+markers",
            line={"color": "#212529", "width": 2},
            customdata=cust_cum,
            hovertemplate="%{x:.1f}% of " + what + " from %{customdata:.1f}% of customers<extra></extra>",
        )
    )
    fig.add_vline(
        x=80,
        line={"color": "#c92a2a", "dash": "dot"},
        annotation_text="80%",
        annotation_position="bottom right",
        annotation_font={"size": 10, "color": "#c92a2a"},
    )
    layout(
        fig,
        "Revenue contribution by segment",
        height=max(300, 120 + 44 * len(ordered)),
        subtitle=f"share of {what} per segment, largest first, and the running total (Pareto)",
    )
    fig.update_xaxes(title_text=f"Share of {what} (%)", range=[0, 104], **PERCENT_TICKS)
    fig.update_yaxes(automargin=True, autorange="reversed")
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
            name="Growth ceiling (low-risk, valuable segments)",
            marker={"color": "#2b8a3e"},
            hovertemplate=f"<b>%{{y}}</b><br>growth ceiling {currency()}%{{x:,.0f}} (if all reached the segment's 75th percentile)<extra></extra>",
        )
    )
    fig.add_trace(
        go.Bar(
            y=[u["name"] for u in under],
            x=[u.get("development_potential") or 0 for u in under],
            orientation="h",
            name="Development ceiling (underperforming segments)",
            marker={"color": "#f59f00"},
            hovertemplate=f"<b>%{{y}}</b><br>development ceiling {currency()}%{{x:,.0f}} (if all reached the average customer)<extra></extra>",
        )
    )
    n = len(growth) + len(under)
    layout(
        fig,
        "Growth opportunities by segment: ceilings, not forecasts",
        height=max(300, 140 + 44 * n),
        legend_rows=2,
        subtitle="predicted LTV added if every customer reached the benchmark; an upper bound",
    )
    fig.update_xaxes(
        title_text=f"Ceiling on added value ({currency_label()}, {horizon(analysis)})", tickprefix=currency()
    )
    fig.update_yaxes(automargin=True, autorange="reversed")
    return fig
