"""The Compare page's figures: two runs on the same customers side by side (sizes, LTV, churn risk on one shared
scale) and where run A's customers went in run B."""

from __future__ import annotations

from segments.charts.common import currency, currency_label, layout, money, short, sorted_segments, wrap

# One colour per run (not per segment): segment k of run A and segment k of run B are different groups of
# customers, so the colours must not suggest a match. The segment names are on the axis instead.
RUN_COLORS = {"A": "#3b5bdb", "B": "#e8590c"}


def _compare_metric_figure(runs, *, title: str, value, axis: str, text, hover: str, value_max: float | None = None):
    """Horizontal bars, run A above run B, on ONE shared value axis: bar lengths compare across the runs."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    segs = [sorted_segments(run) for _, _, run in runs]
    names = [[wrap(p["name"], 22, 2) for p in run_segs] for run_segs in segs]
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
                hovertemplate=f"<b>%{{customdata}}</b><br>{hover}<extra>{short(label, 30)}</extra>",
            ),
            row=row,
            col=1,
        )
        fig.update_yaxes(autorange="reversed", automargin=True, ticks="", ticklabelstandoff=6, row=row, col=1)
    upper = value_max if value_max is not None else (top or 1) * 1.22
    layout(fig, title, height=int(plot_px + gap_px + 56 + 70), legend=False)
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
                axis=f"Average predicted LTV ({currency_label()})",
                text=money,
                hover=f"{currency()}%{{x:,.0f}} average predicted LTV",
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
            fig.update_xaxes(tickprefix=currency(), separatethousands=True)
        if key == "compare-sizes":
            fig.update_xaxes(separatethousands=True)
    if overlap:
        a_names = {p["segment"]: p["name"] for p in a.profiles}
        b_names = {p["segment"]: p["name"] for p in b.profiles}
        matrix = overlap["matrix"]
        fig = go.Figure(
            go.Heatmap(
                z=matrix,
                x=[wrap(b_names.get(s, s), 18) for s in overlap["b_segments"]],
                y=[wrap(a_names.get(s, s), 22, 2) for s in overlap["a_segments"]],
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
        layout(
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
