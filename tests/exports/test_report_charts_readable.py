"""The PDF report's charts (exports/charts.py) are readable: no legend sits on a bar's label or another text, the
feature-importance bars name columns as the page's charts do (`segments.charts.common.feature_name`: words, with
the unit where known), and a chart across runs draws no empty "Average predicted LTV" frame when no run has one."""

import re

import pytest

from exports import charts
from segments.charts.palette import DEFAULT_COLOR_SCHEME
from segments.engine import formatting as fmt


@pytest.fixture
def drawn(monkeypatch):
    """Every figure the report's chart functions save, drawn, kept for inspection."""
    figures = []
    original = charts._svg

    def keep(plt, fig):
        figures.append(fig)
        return original(plt, fig)

    monkeypatch.setattr(charts, "_svg", keep)
    return figures


def _overlaps(fig) -> list[str]:
    """Legends whose box covers a text (a bar label, a tick label, a title) of the same figure."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    found = []
    texts = [t for ax in fig.axes for t in (*ax.texts, *ax.get_yticklabels(), *ax.get_xticklabels(), ax.title)]
    texts += [ax.xaxis.label for ax in fig.axes]
    for legend in [*(ax.get_legend() for ax in fig.axes), *fig.legends]:
        if legend is None:
            continue
        box = legend.get_window_extent(renderer)
        for text in texts:
            if text.get_text() and text.get_visible() and box.overlaps(text.get_window_extent(renderer)):
                found.append(f"legend over {text.get_text()!r}")
    return found


def test_the_revenue_chart_legend_covers_no_bar_label(drawn, engine_result):
    segments = [p for p in engine_result.profiles if p.get("segment", 0) >= 0]
    colours = charts.segment_colours(segments, DEFAULT_COLOR_SCHEME)
    assert charts.revenue_contribution(segments, colours)
    assert _overlaps(drawn[-1]) == []
    # the shape the client saw: the segment with the least revenue holds most customers, so its long grey bar and
    # its label end at the bottom right, where the legend was
    n = len(segments)
    skewed = [
        {**p, "revenue_share": 0.04 if i == 0 else 0.96 / (n - 1), "share": 0.6 if i == 0 else 0.4 / (n - 1)}
        for i, p in enumerate(segments)
    ]
    assert charts.revenue_contribution(skewed, colours)
    assert _overlaps(drawn[-1]) == []


def test_every_report_chart_names_features_in_words_with_units_and_no_legend_hides_text(drawn, engine_result):
    metrics = {
        **engine_result.metrics,
        "roles": {**(engine_result.metrics.get("roles") or {})},
    }
    with fmt.using_currency("EUR"):
        assert charts.feature_importance(metrics)
        assert charts.segment_sizes(
            engine_result.profiles, charts.segment_colours(engine_result.profiles, DEFAULT_COLOR_SCHEME)
        )
    names = [t.get_text() for t in drawn[0].axes[0].get_yticklabels()]
    assert names and not [n for n in names if re.search(r"[a-z]_[a-z]", n)], names
    money = [c for c, r in metrics["roles"].items() if r == "monetary"]
    from segments.engine.vocabulary import feature_label

    spend = [n for n in names if any(n.replace("\n", " ").startswith(feature_label(c)) for c in money)]
    assert spend and all(n.replace("\n", " ").endswith("(€)") for n in spend), names
    for fig in drawn:
        assert _overlaps(fig) == []


def test_a_history_without_ltv_draws_no_empty_ltv_panel(drawn, engine_result):
    runs = [
        {"label": label, "profiles": [{**p, "avg_ltv": None} for p in engine_result.profiles]}
        for label in ("Run 1", "Run 2")
    ]
    assert charts.history(runs, charts.segment_colours(engine_result.profiles, DEFAULT_COLOR_SCHEME))
    titles = [ax.get_title(loc="left") for ax in drawn[-1].axes]
    assert titles == ["Share of customers", "Average churn risk"]
    assert _overlaps(drawn[-1]) == []  # the segments' legend clear of the runs' labels
    with fmt.using_currency("EUR"):
        with_ltv = [{"label": r["label"], "profiles": engine_result.profiles} for r in runs]
        assert charts.history(with_ltv, charts.segment_colours(engine_result.profiles, DEFAULT_COLOR_SCHEME))
    assert [ax.get_title(loc="left") for ax in drawn[-1].axes][-1] == "Average predicted LTV (€)"
    assert _overlaps(drawn[-1]) == []
