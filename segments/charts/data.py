"""The Data & Analysis tab's figures: how the number of segments was chosen, and how well the churn model's
predicted risks match what happened (when the dataset has a churn label)."""

from __future__ import annotations

from segments.charts.common import layout


def figures(analysis) -> list[tuple[str, object]]:
    """(chart id, figure) for the tab, in page order."""
    figs = [("k-selection", k_selection_figure(analysis))]
    if (analysis.metrics.get("churn") or {}).get("calibration"):
        figs.append(("calibration", calibration_figure(analysis)))
    return figs


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
    layout(
        fig,
        "Choosing the number of segments",
        height=380,
        subtitle="silhouette, elbow of the inertia curve and stability across resamples",
    )
    # Half a step of room at both ends: a tick at the very corner would sit on the y axes' lowest labels.
    span = [min(ks) - 0.5, max(ks) + 0.5] if ks else None
    fig.update_xaxes(title_text="Number of segments (k)", dtick=1, range=span)
    fig.update_yaxes(title_text="Silhouette / stability (ARI, 0–1)", secondary_y=False)
    fig.update_yaxes(
        title_text="BIC" if curve_key == "bic" else "Inertia (mean squared distance)",
        secondary_y=True,
        showgrid=False,
        # its ticks line up with the left axis's, so they fall on uneven values: three figures are enough
        tickformat=".3~s" if curve_key == "bic" else ".3~g",
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
    layout(
        fig,
        "Churn model calibration",
        height=340,
        subtitle="held-out customers grouped by predicted risk: predicted vs observed churn",
    )
    # A little room below 0 on both axes, so the two "0%" tick labels do not meet in the corner.
    fig.update_xaxes(title_text="Predicted churn risk (%)", ticksuffix="%", range=[-4, 102])
    fig.update_yaxes(title_text="Observed churn (%)", ticksuffix="%", range=[-6, 102])
    return fig
