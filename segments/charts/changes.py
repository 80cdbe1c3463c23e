"""The Changes tab (who moved where between two runs of a dataset) and the dataset's history across runs."""

from __future__ import annotations

from segments.charts.common import layout
from segments.charts.palette import NOISE_COLOR, segment_color

NEW_COLOR = "#74c69d"
GONE_COLOR = "#adb5bd"


def _rgba(hex_color: str, alpha: float) -> str:
    h = hex_color.lstrip("#")
    r, g, b = (int(h[i : i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


def migration_sankey_figure(migration):
    """Customers from the earlier run's segments (left) to the later run's (right), with new and gone customers."""
    import plotly.graph_objects as go

    before, after = migration.before, migration.after
    left = sorted({c["from_segment"] for c in migration.cells} | {p["segment"] for p in before.profiles})
    right = sorted({c["to_segment"] for c in migration.cells} | {p["segment"] for p in after.profiles})
    names_before = {p["segment"]: p.get("name", f"Segment {p['segment']}") for p in before.profiles}
    names_after = {p["segment"]: p.get("name", f"Segment {p['segment']}") for p in after.profiles}
    labels, colors, index = [], [], {}
    for s in left:
        index[("from", s)] = len(labels)
        labels.append(f"{names_before.get(s, f'Segment {s}')} (before)")
        colors.append(segment_color(s, before.color_scheme) if s >= 0 else NOISE_COLOR)
    for s in right:
        index[("to", s)] = len(labels)
        labels.append(f"{names_after.get(s, f'Segment {s}')} (after)")
        colors.append(segment_color(s, after.color_scheme) if s >= 0 else NOISE_COLOR)
    source, target, value, link_colors = [], [], [], []
    for c in migration.cells:
        source.append(index[("from", c["from_segment"])])
        target.append(index[("to", c["to_segment"])])
        value.append(c["customers"])
        link_colors.append(_rgba(colors[index[("from", c["from_segment"])]], 0.35))
    if migration.new_customers:
        labels.append("New customers")
        colors.append(NEW_COLOR)
        new_node = len(labels) - 1
        # The new customers' segments in the later run: the later run's sizes minus those who came from the earlier.
        arrived = {s: 0 for s in right}
        for c in migration.cells:
            arrived[c["to_segment"]] += c["customers"]
        for p in after.profiles:
            extra = int(p["size"]) - arrived.get(p["segment"], 0)
            if extra > 0:
                source.append(new_node)
                target.append(index[("to", p["segment"])])
                value.append(extra)
                link_colors.append(_rgba(NEW_COLOR, 0.35))
    if migration.gone_customers:
        labels.append("Gone customers")
        colors.append(GONE_COLOR)
        gone_node = len(labels) - 1
        stayed = {s: 0 for s in left}
        for c in migration.cells:
            stayed[c["from_segment"]] += c["customers"]
        for p in before.profiles:
            extra = int(p["size"]) - stayed.get(p["segment"], 0)
            if extra > 0:
                source.append(index[("from", p["segment"])])
                target.append(gone_node)
                value.append(extra)
                link_colors.append(_rgba(GONE_COLOR, 0.35))
    fig = go.Figure(
        go.Sankey(
            arrangement="snap",
            node={"label": labels, "color": colors, "pad": 14, "thickness": 16, "line": {"width": 0}},
            link={
                "source": source,
                "target": target,
                "value": value,
                "color": link_colors,
                "hovertemplate": "%{source.label} → %{target.label}: %{value:,} customers<extra></extra>",
            },
        )
    )
    layout(
        fig,
        "Where customers went",
        subtitle=f"{migration.matched_customers:,} customers in both runs, matched by customer id",
        legend=False,
        height=460,
    )
    return fig


def history_figures(dataset) -> dict[str, str]:
    """{chart id: figure JSON}: segment shares, average churn risk and average LTV across the dataset's finished
    runs (each segment a line in its colour), when it has two runs or more."""
    import plotly.graph_objects as go

    from segments.charts.common import to_json
    from segments.services.timeline import dataset_history

    runs = dataset_history(dataset)
    if len(runs) < 2:
        return {}
    x = [f"#{r.pk} · v{r.dataset_version.number if r.dataset_version_id else '?'}" for r in runs]
    segments: dict[int, str] = {}
    for r in runs:
        for p in r.profiles:
            segments[p["segment"]] = p.get("name", f"Segment {p['segment']}")
    scheme = runs[-1].color_scheme
    charts = {
        "shares": ("Segment shares across runs", "Share of customers", lambda p: p.get("share"), ".0%"),
        "churn": ("Average churn risk across runs", "Average churn risk", lambda p: p.get("avg_churn_risk"), ".0%"),
        "ltv": ("Average predicted LTV across runs", "Average predicted LTV", lambda p: p.get("avg_ltv"), ",.0f"),
    }
    out = {}
    for key, (title, axis, value, tick) in charts.items():
        fig = go.Figure()
        for s, name in sorted(segments.items()):
            ys = []
            for r in runs:
                p = r.profile(s)
                ys.append(value(p) if p else None)
            if all(v is None for v in ys):
                continue
            color = segment_color(s, scheme) if s >= 0 else NOISE_COLOR
            fig.add_trace(
                go.Scatter(
                    x=x,
                    y=ys,
                    name=name,
                    mode="lines+markers",
                    line={"color": color, "width": 2},
                    connectgaps=False,
                    hovertemplate=f"{name}<br>%{{x}}: %{{y:{tick}}}<extra></extra>",
                )
            )
        if not fig.data:
            continue
        layout(fig, title, height=300, legend_rows=2)
        fig.update_yaxes(title_text=axis, tickformat=tick, rangemode="tozero")
        fig.update_xaxes(title_text="Run · dataset version", type="category")
        out[key] = to_json(fig)
    return out
