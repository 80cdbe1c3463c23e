"""The Lifetime value tab's figures (order-log analyses): how the chosen model tracked the held-out weeks, its
conditional expectations by number of past purchases, the CLV distribution, the probability of being active by
repeat purchases and days since the last purchase, and the top customers by CLV with their 80 % ranges.

Everything is read from `analysis.metrics["clv"]` (fit_clv's holdout evidence) and `analysis.summary["clv"]`
(aggregates written by the run, segments/services/lifetime.py)."""

from __future__ import annotations

from itertools import pairwise

from segments.charts.common import currency, currency_label, layout, money, money_ticks, short

ACTUAL = "#1f2937"
EXPECTED = "#3b5bdb"
RANGE = "#94a3b8"


def figures(analysis) -> list[tuple[str, object]]:
    """(chart id, figure) for the tab, in page order; none when no lifetime-value model was fitted."""
    clv = analysis.metrics.get("clv") or {}
    summary = (analysis.summary or {}).get("clv") or {}
    if not clv.get("eligible"):
        return []
    chosen = chosen_scores(clv)
    figs = []
    if chosen and chosen.get("tracking"):
        figs.append(("clv-tracking", tracking_figure(chosen)))
    if chosen and chosen.get("conditional_expectation"):
        figs.append(("clv-conditional", conditional_expectation_figure(chosen)))
    if summary.get("histogram"):
        figs.append(("clv-distribution", clv_distribution_figure(summary, clv)))
    if summary.get("p_active_grid"):
        figs.append(("clv-p-active", p_active_figure(summary)))
    if summary.get("top_customers"):
        figs.append(("clv-top", top_customers_figure(summary, clv)))
    return figs


def chosen_scores(clv: dict) -> dict | None:
    holdout = clv.get("holdout") or {}
    return (holdout.get("models") or {}).get(holdout.get("chosen") or "")


def horizon_label(clv: dict) -> str:
    days = (clv.get("periods") or {}).get("horizon_days") or 365
    return "12-month" if days == 365 else f"{days}-day"


def tracking_figure(scores: dict):
    import plotly.graph_objects as go

    t = scores["tracking"]
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=t["week_start"],
            y=t["actual"],
            name="Actual purchases",
            mode="lines+markers",
            line={"color": ACTUAL, "width": 2},
            hovertemplate="Week of %{x}<br>Actual: %{y:,} purchases<extra></extra>",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=t["week_start"],
            y=t["expected"],
            name=f"Expected by {scores['label']}",
            mode="lines",
            line={"color": EXPECTED, "width": 3, "dash": "dash"},
            hovertemplate="Week of %{x}<br>Expected: %{y:,.1f} purchases<extra></extra>",
        )
    )
    layout(
        fig,
        "Held-out weeks: actual vs predicted purchases",
        subtitle=f"Fitted without the last {scores['holdout_weeks']:.0f} weeks, then asked to predict them",
        height=360,
    )
    fig.update_yaxes(title_text="Purchases per week", rangemode="tozero")
    fig.update_xaxes(title_text="Week starting")
    return fig


def conditional_expectation_figure(scores: dict):
    import plotly.graph_objects as go

    rows = scores["conditional_expectation"]
    x = [r["repeat_purchases"] for r in rows]
    counts = [r["customers"] for r in rows]
    fig = go.Figure()
    fig.add_trace(
        go.Bar(
            x=x,
            y=[r["actual"] for r in rows],
            name="Actual (mean per customer)",
            marker_color=ACTUAL,
            customdata=counts,
            hovertemplate="%{x} repeat purchases before the holdout (%{customdata:,} customers)<br>"
            "Actual: %{y:.2f} purchases each<extra></extra>",
        )
    )
    fig.add_trace(
        go.Bar(
            x=x,
            y=[r["expected"] for r in rows],
            name="Predicted (mean per customer)",
            marker_color=EXPECTED,
            customdata=counts,
            hovertemplate="%{x} repeat purchases before the holdout (%{customdata:,} customers)<br>"
            "Predicted: %{y:.2f} purchases each<extra></extra>",
        )
    )
    layout(
        fig,
        "Purchases in the held-out weeks by past purchases",
        subtitle="Customers grouped by their repeat purchases before the holdout",
        height=360,
        barmode="group",
    )
    fig.update_xaxes(title_text="Repeat purchases before the holdout", type="category")
    fig.update_yaxes(title_text="Purchases per customer", rangemode="tozero")
    return fig


def clv_distribution_figure(summary: dict, clv: dict):
    import plotly.graph_objects as go

    h = summary["histogram"]
    edges = h["edges"]
    centres = [(a + b) / 2 for a, b in pairwise(edges)]
    labels = [f"{money(a)}–{money(b)}" for a, b in pairwise(edges)]
    fig = go.Figure(
        go.Bar(
            x=centres,
            y=h["counts"],
            width=[(b - a) * 0.95 for a, b in pairwise(edges)],
            marker_color=EXPECTED,
            customdata=labels,
            name="Customers",
            hovertemplate="%{customdata}: %{y:,} customers<extra></extra>",
        )
    )
    note = f"{h['beyond']:,} customers above {money(h['clip'])} are counted in the last bar" if h.get("beyond") else ""
    layout(
        fig,
        f"Customer lifetime value ({horizon_label(clv)})",
        subtitle=note or "Expected spend over the horizon, discounted",
        height=340,
        legend=False,
    )
    # a little room left of $0, so its tick label keeps clear of the count axis's 0 in the corner
    fig.update_xaxes(
        title_text=f"CLV ({currency_label()}, {horizon_label(clv)})",
        range=[edges[0] - 0.04 * (edges[-1] - edges[0]), edges[-1] + 0.01 * (edges[-1] - edges[0])],
        **money_ticks(edges[-1]),
    )
    fig.update_yaxes(title_text="Customers", rangemode="tozero")
    return fig


def p_active_figure(summary: dict):
    import plotly.graph_objects as go

    g = summary["p_active_grid"]
    z = [[None if v is None else v * 100 for v in row] for row in g["mean"]]
    fig = go.Figure(
        go.Heatmap(
            x=g["repeat_purchases"],
            y=g["days_since_last"],
            z=z,
            customdata=g["customers"],
            zmin=0,
            zmax=100,
            colorscale="Blues",
            # the ticks say "%" and the subtitle what of: a title above the bar ran into its top tick
            colorbar={"ticksuffix": " %", "thickness": 14},
            hovertemplate="%{x} repeat purchases, %{y} days since the last<br>P(active) %{z:.0f} % "
            "(%{customdata:,} customers)<extra></extra>",
            hoverongaps=False,
        )
    )
    layout(
        fig,
        "Probability of being active",
        subtitle="% still active: the mean P(active) of the customers in each cell; blank: no customers",
        height=380,
        legend=False,
    )
    fig.update_xaxes(title_text="Repeat purchases", type="category")
    fig.update_yaxes(title_text="Days since the last purchase", type="category")
    return fig


def top_customers_figure(summary: dict, clv: dict):
    import plotly.graph_objects as go

    top = list(reversed(summary["top_customers"][:15]))
    ids = [short(str(c["customer_id"]), 18) for c in top]
    fig = go.Figure(
        go.Scatter(
            x=[c["clv"] for c in top],
            y=ids,
            mode="markers",
            marker={"color": EXPECTED, "size": 9},
            error_x={
                "type": "data",
                "symmetric": False,
                "array": [max(c["clv_high"] - c["clv"], 0) for c in top],
                "arrayminus": [max(c["clv"] - c["clv_low"], 0) for c in top],
                "color": RANGE,
                "thickness": 2,
                "width": 4,
            },
            customdata=[[money(c["clv_low"]), money(c["clv_high"]), f"{c['p_active']:.0%}"] for c in top],
            name="CLV",
            hovertemplate=f"Customer %{{y}}<br>CLV {currency()}%{{x:,.0f}} (80 % range"
            " %{customdata[0]}–%{customdata[1]})"
            "<br>P(active) %{customdata[2]}<extra></extra>",
        )
    )
    top_value = max((c["clv_high"] for c in top), default=1.0)
    layout(
        fig,
        f"Top customers by {horizon_label(clv)} CLV",
        subtitle="Dot: expected value; bar: the 80 % range of the customer's spend",
        height=420,
        legend=False,
    )
    fig.update_xaxes(
        title_text=f"CLV ({currency_label()}, {horizon_label(clv)})", rangemode="tozero", **money_ticks(top_value)
    )
    fig.update_yaxes(type="category", title_text="Customer")
    return fig
