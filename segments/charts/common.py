"""What every tab's figures share: the look (font, title and legend band), axis and label helpers, the JSON a
page embeds, and the segment bubbles (LTV against churn risk) drawn by the Visualizations and Insights tabs."""

from __future__ import annotations

import re

from segments.charts.labels import bubble_label_positions
from segments.engine import formatting as fmt

FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"


def layout(
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
        font={"family": FONT, "size": 12},
        height=height + legend_band,
        margin={"l": 60, "r": 20, "t": 74 if subtitle else 56, "b": 56 + legend_band},
        showlegend=legend,
        legend={"orientation": "h", "yref": "container", "yanchor": "bottom", "y": 0.005, "x": 0, "font": {"size": 11}},
        hoverlabel={"font": {"family": FONT}},
        **extra,
    )


def money(x) -> str:
    """In the active currency (the organization's: `fmt.using_currency`)."""
    return fmt.money(x)


def currency() -> str:
    """The active currency's symbol, as a figure's tick prefix or hover text ("$", "€", "CHF ")."""
    return fmt.currency_symbol()


def currency_label() -> str:
    """The active currency as an axis title names it: "$", "€", "CHF"."""
    return fmt.currency_symbol().strip()


def _unit_of(analysis, feature: str) -> str:
    """The unit a feature's figures are in, as an axis label says it ("$", "$ per month", "months", "days ago"),
    or "" when it has none or it is unknown. Money columns carry the active currency; a recurring charge its
    billing period; the tenure and recency columns the unit the run read them in (`metrics.behaviour_units`)."""
    from segments.engine.units import DURATION_UNITS

    metrics = analysis.metrics or {}
    column = feature.split(" (")[0]
    roles = metrics.get("roles") or {}
    money = {c for c, r in roles.items() if r == "monetary"} | set((analysis.config or {}).get("monetary_cols") or [])
    units = metrics.get("behaviour_units") or {}
    if feature in money:
        charge = units.get("recurring_charge") or {}
        if charge.get("column") == feature and charge.get("period") in DURATION_UNITS:
            return f"{currency_label()} per {charge['period'][:-1]}"
        return currency_label()
    if feature.endswith(" (days ago)"):
        return "days ago"
    behaviour = metrics.get("behaviour_roles") or {}
    for key, unit_key in (("tenure_col", "tenure_unit"), ("recency_col", "recency_unit")):
        unit = (units.get(unit_key) or {}).get("unit")
        if behaviour.get(key) == column == feature and unit in DURATION_UNITS:
            return unit
    return ""


def feature_name(analysis, feature: str) -> str:
    """A feature (a column, or one the engine derived from a column) as every chart names it: the product's one
    label for it (`vocabulary.feature_label`) with its unit where known: "Monthly charges ($ per month)",
    "Tenure (months)". A unit the label already says is not repeated ("Days since last visit"); a unit word at its end
    becomes the unit ("tenure_m", "Tenure days" -> "Tenure (months)", "Tenure (days)")."""
    import re as _re

    from segments.engine.units import DURATION_UNITS, unit_from_name
    from segments.engine.vocabulary import feature_label

    label = feature_label(feature)
    unit = _unit_of(analysis, str(feature or ""))
    head, _, last = label.rpartition(" ")
    if unit in DURATION_UNITS and head and unit_from_name(last) == unit:
        label = head  # "Tenure m", "Tenure days": the unit word becomes the unit -> "Tenure (months)"
    if not unit or _re.search(rf"(?<![a-z]){_re.escape(unit.split()[0])}(?![a-z])", label, _re.I):
        return label
    return f"{label} ({unit})"


def sorted_segments(analysis) -> list[dict]:
    return sorted(analysis.profiles, key=lambda p: p["segment"])


def to_json(fig) -> str:
    """Figure JSON, safe inside a <script type="application/json"> element."""
    text = fig.to_json(validate=False, engine="json")
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _bubble_diameter(size: float, biggest: float, max_px: float, min_px: float) -> float:
    return max(min_px, max_px * (size / max(biggest, 1)) ** 0.5)


def add_segment_bubbles(
    fig, segs, colors, *, x_range, y_range, max_px, min_px, hovertemplate, obstacles=(), opacity=None, customdata=None
) -> None:
    """One bubble per segment at (churn risk %, average LTV), area = size, its name placed where it fits."""
    import plotly.graph_objects as go

    biggest = max((p["size"] for p in segs), default=1)
    labels = [wrap(p["name"], 20, 2) for p in segs]
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
        diameter = _bubble_diameter(p["size"], biggest, max_px, min_px)
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
        callout = isinstance(position, tuple)
        fig.add_trace(
            go.Scatter(
                x=[p["avg_churn_risk"] * 100],
                y=[p["avg_ltv"]],
                name=p["name"],
                mode="markers" if callout else "markers+text",
                text=None if callout else [label],
                textposition=None if callout else position,
                textfont={"size": 11},
                cliponaxis=False,
                marker=marker,
                customdata=customdata(p) if customdata else None,
                hovertemplate=hovertemplate(p),
            )
        )
        if callout:
            # Crowded bubbles: the name a little further out, with a thin line to its bubble.
            fig.add_annotation(
                x=p["avg_churn_risk"] * 100,
                y=p["avg_ltv"],
                text=label,
                ax=position[0],
                ay=position[1],
                axref="pixel",
                ayref="pixel",
                showarrow=True,
                arrowhead=0,
                arrowwidth=1,
                arrowcolor="#adb5bd",
                standoff=diameter / 2,
                font={"size": 11},
            )


def money_ticks(top: float, n: int = 5) -> dict:
    """Axis ticks at round amounts from 0 up to `top` (none below zero, where a chart keeps room for labels)."""
    import math

    raw = max(top, 1) / n
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    values = [i * step for i in range(int(top // step) + 1)]
    whole = step >= 1 and float(step).is_integer()
    return {"tickmode": "array", "tickvals": values, "ticktext": [fmt.money(v, whole=whole) for v in values]}


# Legend entries side by side in the narrowest chart (about 420 px): how many fit a row, by the longest name.
LEGEND_ROW_PX, LEGEND_CHAR_PX, LEGEND_SYMBOL_PX = 420, 6.2, 46


def legend_rows(items, per_row: int = 3) -> int:
    """Rows the horizontal legend takes for `items` (segment profiles, or a {segment: name} mapping), at most
    `per_row` entries a row, fewer when the names are long, so the band under the chart is as tall as it is
    drawn (otherwise Plotly takes the missing room from the plot area and labels placed for it collide)."""
    names = list(items.values()) if isinstance(items, dict) else [p["name"] for p in items]
    longest = max((len(str(n)) for n in names), default=0)
    fit = max(1, int(LEGEND_ROW_PX // (longest * LEGEND_CHAR_PX + LEGEND_SYMBOL_PX)))
    return max(1, -(-len(names) // min(per_row, fit)))


def horizon(analysis) -> str:
    ltv = analysis.metrics.get("ltv") or {}
    months = ltv.get("horizon_months") or analysis.config.get("ltv_horizon_months") or 12
    return f"{months}-month"


def short(text: str, n: int = 48) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def wrap(text: str, width: int = 22, lines: int = 3) -> str:
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
        out = [*out[: lines - 1], short("".join(out[lines - 1 :]).rstrip(), width)]
    return "<br>".join(part.rstrip() for part in out)
