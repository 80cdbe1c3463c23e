"""The report's charts, drawn with matplotlib as SVG (crisp at any zoom, small in the PDF).

Each function takes the engine's profiles/metrics and returns an SVG document as text, or None when the
analysis has nothing to draw (e.g. no feature importance). Segment colours come from the one segment palette
(`segments.charts.palette`, re-exported here as `segment_colours`), so the report matches the charts in the product.
"""

from __future__ import annotations

import io

from segments.charts.palette import segment_colors as segment_colours  # noqa: F401 - report.py colours with it

INK = "#1f2937"
MUTED = "#6b7280"
GRID = "#e5e7eb"


def _figure(width_in: float, height_in: float):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update(
        {
            "font.family": "DejaVu Sans",
            "font.size": 9,
            "axes.edgecolor": GRID,
            "axes.labelcolor": INK,
            "xtick.color": MUTED,
            "ytick.color": MUTED,
            "axes.titlesize": 11,
            "axes.titleweight": "bold",
            "axes.titlecolor": INK,
            "axes.titlelocation": "left",
            "svg.hashsalt": "segsaas",
        }
    )
    fig, ax = plt.subplots(figsize=(width_in, height_in))
    ax.spines[["top", "right"]].set_visible(False)
    return plt, fig, ax


def _svg(plt, fig) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None}, bbox_inches="tight", pad_inches=0.08)
    plt.close(fig)
    return buf.getvalue()


def _label(p: dict, width: int = 26) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(f"{p.get('segment')} · {p.get('name', '')}", width)) or str(p.get("segment"))


def segment_sizes(profiles: list[dict], colours: dict[int, str]) -> str | None:
    if not profiles:
        return None
    plt, fig, ax = _figure(6.2, 0.6 + 0.5 * len(profiles))
    rows = sorted(profiles, key=lambda p: p.get("size", 0))
    sizes = [p.get("size", 0) for p in rows]
    bars = ax.barh([_label(p) for p in rows], sizes, color=[colours.get(p["segment"]) for p in rows], height=0.62)
    top = max(sizes) or 1
    for bar, p in zip(bars, rows, strict=True):
        ax.text(
            bar.get_width() + top * 0.01,
            bar.get_y() + bar.get_height() / 2,
            f"{p.get('size', 0):,}  ({p.get('share', 0):.0%})",
            va="center",
            color=INK,
            fontsize=8.5,
        )
    ax.set_xlim(0, top * 1.22)
    ax.set_xlabel("Customers")
    ax.xaxis.set_major_formatter(_thousands())
    ax.grid(axis="x", color=GRID, linewidth=0.6)
    ax.set_axisbelow(True)
    ax.set_title("Customers per segment")
    return _svg(plt, fig)


def ltv_vs_churn(profiles: list[dict], colours: dict[int, str], population: dict | None = None) -> str | None:
    rows = [p for p in profiles if p.get("avg_ltv") is not None and p.get("avg_churn_risk") is not None]
    if not rows:
        return None
    plt, fig, ax = _figure(5.0, 3.5)
    biggest = max(p.get("size", 1) for p in rows) or 1
    for p in rows:
        x, y = p["avg_churn_risk"] * 100, p["avg_ltv"]
        ax.scatter(
            [x],
            [y],
            s=250 + 2200 * p.get("size", 0) / biggest,
            color=colours.get(p["segment"]),
            alpha=0.78,
            edgecolors="white",
            linewidths=1.2,
            zorder=3,
            label=_label(p, 30),
        )
        ax.annotate(
            str(p.get("segment")),
            (x, y),
            ha="center",
            va="center",
            fontsize=9,
            fontweight="bold",
            color="white",
            zorder=4,
        )
    legend = ax.legend(
        loc="upper left",
        bbox_to_anchor=(1.02, 1.0),
        frameon=False,
        fontsize=7.5,
        labelspacing=1.1,
        borderaxespad=0,
        handletextpad=0.6,
    )
    for handle in legend.legend_handles:
        handle.set_sizes([60])
    population = population or {}
    if population.get("avg_churn_risk") is not None:
        ax.axvline(population["avg_churn_risk"] * 100, color=MUTED, linestyle="--", linewidth=0.8, zorder=1)
    if population.get("avg_ltv") is not None:
        ax.axhline(population["avg_ltv"], color=MUTED, linestyle="--", linewidth=0.8, zorder=1)
    xs = [p["avg_churn_risk"] * 100 for p in rows]
    ys = [p["avg_ltv"] for p in rows]
    ax.set_xlim(max(-4, min(xs) - 14), min(104, max(xs) + 14))
    span = (max(ys) - min(ys)) or max(ys) or 1
    ax.set_ylim(min(ys) - 0.25 * span, max(ys) + 0.25 * span)
    ax.set_xlabel("Average churn risk (%)")
    from segments.engine.formatting import currency_symbol

    ax.set_ylabel(f"Average predicted LTV ({currency_symbol().strip()})")
    ax.yaxis.set_major_formatter(_thousands(hide_negative=True))
    ax.xaxis.set_major_formatter(_thousands(hide_negative=True))
    ax.grid(color=GRID, linewidth=0.6)
    ax.set_axisbelow(True)
    return _svg(plt, fig)


def revenue_contribution(profiles: list[dict], colours: dict[int, str]) -> str | None:
    rows = [p for p in profiles if p.get("revenue_share") is not None]
    if not rows:
        return None
    import numpy as np

    rows = sorted(rows, key=lambda p: p.get("revenue_share", 0))
    plt, fig, ax = _figure(6.2, 0.8 + 0.6 * len(rows))
    y = np.arange(len(rows))
    customers = [p.get("share", 0) * 100 for p in rows]
    revenue = [p.get("revenue_share", 0) * 100 for p in rows]
    ax.barh(y + 0.19, revenue, height=0.36, color=[colours.get(p["segment"]) for p in rows], label="Share of revenue")
    ax.barh(y - 0.19, customers, height=0.36, color="#d1d5db", label="Share of customers")
    for yi, r, c in zip(y, revenue, customers, strict=True):
        ax.text(r + 0.8, yi + 0.19, f"{r:.0f}%", va="center", fontsize=8, color=INK)
        ax.text(c + 0.8, yi - 0.19, f"{c:.0f}%", va="center", fontsize=8, color=MUTED)
    ax.set_yticks(y, [_label(p) for p in rows])
    ax.set_xlim(0, max([*revenue, *customers, 1]) * 1.15)
    ax.set_xlabel("Share of the total (%)")
    ax.grid(axis="x", color=GRID, linewidth=0.6)
    ax.set_axisbelow(True)
    # Above the bars, under the title: inside the plot it sat on a bar's label.
    ax.legend(loc="lower left", bbox_to_anchor=(0, 1.0), ncol=2, frameon=False, fontsize=8, borderaxespad=0.2)
    ax.set_title("Share of revenue against share of customers", pad=22)
    return _svg(plt, fig)


def feature_importance(metrics: dict, top: int = 10, config: dict | None = None) -> str | None:
    rows = [d for d in metrics.get("feature_importance") or [] if d.get("importance") is not None][:top]
    if not rows:
        return None
    import textwrap
    import types

    from segments.charts.common import feature_name  # the name (and unit) the page's charts give a feature

    rows = rows[::-1]
    run = types.SimpleNamespace(metrics=metrics, config=config or {})
    names = ["\n".join(textwrap.wrap(feature_name(run, d.get("feature")), 40)) for d in rows]
    lines = sum(name.count("\n") + 1 for name in names)
    plt, fig, ax = _figure(6.6, 0.5 + 0.27 * max(len(rows), 0.75 * lines))
    values = [d["importance"] * 100 for d in rows]

    ax.barh(names, values, color="#3b5bdb", height=0.6)
    for i, v in enumerate(values):
        ax.text(v + max(values) * 0.01, i, f"{v:.1f}%", va="center", fontsize=8, color=INK)
    ax.set_xlim(0, max(values) * 1.15)
    ax.set_xlabel("Share of the segmentation explained (%)")
    ax.grid(axis="x", color=GRID, linewidth=0.6)
    ax.set_axisbelow(True)
    return _svg(plt, fig)


def k_selection(metrics: dict) -> str | None:
    ks = metrics.get("k_selection") or {}
    k_values, silhouette = ks.get("k_values") or [], ks.get("silhouette") or []
    if len(k_values) < 2 or len(silhouette) != len(k_values):
        return None
    plt, fig, ax = _figure(6.6, 2.6)
    ax.plot(k_values, silhouette, marker="o", color="#3b5bdb", linewidth=1.6, label="Silhouette (higher is better)")
    chosen = metrics.get("k")
    if chosen in k_values:
        i = k_values.index(chosen)
        ax.scatter(
            [chosen],
            [silhouette[i]],
            s=120,
            facecolors="none",
            edgecolors="#e8590c",
            linewidths=2,
            zorder=5,
            label=f"Chosen: k = {chosen}",
        )
    inertia = ks.get("inertia") or []
    if len(inertia) == len(k_values):
        ax2 = ax.twinx()
        ax2.plot(k_values, inertia, marker="s", color="#adb5bd", linewidth=1.2, markersize=4, label="Inertia (elbow)")
        ax2.set_ylabel("Inertia", color=MUTED)
        ax2.spines[["top"]].set_visible(False)
        ax2.tick_params(colors=MUTED)
        handles = ax.get_legend_handles_labels()[0] + ax2.get_legend_handles_labels()[0]
        labels = ax.get_legend_handles_labels()[1] + ax2.get_legend_handles_labels()[1]
        legend_at = {"handles": handles, "labels": labels}
    else:
        legend_at = {}
    # Under the axes: inside, it sat on whichever curve ended top right.
    ax.legend(**legend_at, frameon=False, fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.28), ncol=3)
    ax.set_xticks(k_values)
    ax.set_xlabel("Number of segments (k)")
    ax.set_ylabel("Silhouette")
    ax.grid(color=GRID, linewidth=0.6)
    ax.set_title("Choosing the number of segments")
    return _svg(plt, fig)


def _thousands(hide_negative: bool = False):
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda v, _: "" if hide_negative and v < 0 else f"{v:,.0f}")


def history(runs: list[dict], colours: dict[int, str]) -> str | None:
    """Segment shares, average churn risk and average LTV across runs (`runs`: [{label, profiles}], oldest first),
    one line per segment number in its colour; None with fewer than two runs."""
    if len(runs) < 2:
        return None
    labels = [r["label"] for r in runs]
    names: dict[int, str] = {}
    for r in runs:
        for p in r["profiles"]:
            if p.get("segment", -1) >= 0:
                names[p["segment"]] = p.get("name", f"Segment {p['segment']}")
    from segments.engine.formatting import currency_symbol

    panels = [
        ("Share of customers", lambda p: p.get("share"), True),
        ("Average churn risk", lambda p: p.get("avg_churn_risk"), True),
        (f"Average predicted LTV ({currency_symbol().strip()})", lambda p: p.get("avg_ltv"), False),
    ]
    # A figure no run has (no predicted LTV in any of them) gets no panel rather than an empty frame.
    panels = [panel for panel in panels if any(panel[1](p) is not None for r in runs for p in r["profiles"])]
    if not panels:
        return None
    plt, fig, ax = _figure(7.2, 2.6)  # the same width with two panels: the page scales every chart to its width
    fig.delaxes(ax)
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    for axis, (title, value, percent) in zip(axes, panels, strict=True):
        axis.spines[["top", "right"]].set_visible(False)
        axis.set_title(title, fontsize=9)
        for s, _name in sorted(names.items()):
            ys = []
            for r in runs:
                p = next((q for q in r["profiles"] if q.get("segment") == s), None)
                v = value(p) if p else None
                ys.append(float("nan") if v is None else float(v) * (100 if percent else 1))
            axis.plot(range(len(runs)), ys, marker="o", markersize=3, color=colours.get(s, MUTED), linewidth=1.5)
        axis.set_xticks(range(len(runs)), labels, fontsize=7)
        axis.set_ylim(bottom=0)
        axis.grid(axis="y", color=GRID, linewidth=0.6)
        if percent:
            axis.yaxis.set_major_formatter(lambda v, _pos: f"{v:.0f}%")
    handles = [
        plt.Line2D(
            [0], [0], color=colours.get(s, MUTED), marker="o", markersize=3, label=_label({"segment": s, "name": n}, 30)
        )
        for s, n in sorted(names.items())
    ]
    fig.tight_layout()
    # Hung from the bottom of the laid-out panels, so it grows downwards (from below it grew into the run labels).
    bottom = min(axis.get_tightbbox(fig.canvas.get_renderer()).y0 for axis in axes) / fig.bbox.height
    fig.legend(
        handles=handles,
        loc="upper center",
        ncol=min(len(handles), 3),
        fontsize=7,
        frameon=False,
        bbox_to_anchor=(0.5, bottom - 0.02),
    )
    return _svg(plt, fig)


def clv_tracking(clv: dict) -> str | None:
    """Order logs: the chosen model's weekly purchases in the held-out weeks against what customers did."""
    holdout = clv.get("holdout") or {}
    scores = (holdout.get("models") or {}).get(holdout.get("chosen") or "") or {}
    tracking = scores.get("tracking") or {}
    if not tracking.get("week_start"):
        return None
    from datetime import date

    weeks = [date.fromisoformat(d) for d in tracking["week_start"]]
    plt, fig, ax = _figure(6.6, 2.1)
    ax.plot(weeks, tracking["actual"], marker="o", markersize=3, color=INK, linewidth=1.4, label="Actual purchases")
    ax.plot(
        weeks,
        tracking["expected"],
        color="#3b5bdb",
        linewidth=1.8,
        linestyle="--",
        label=f"Expected by {scores.get('label', 'the model')}",
    )
    ax.set_ylim(bottom=0)
    ax.set_ylabel("Purchases per week")
    ax.grid(color=GRID, linewidth=0.6)
    ax.legend(frameon=False, fontsize=8, loc="lower left")
    ax.set_title("Held-out weeks: actual vs predicted purchases")
    fig.autofmt_xdate()
    return _svg(plt, fig)
