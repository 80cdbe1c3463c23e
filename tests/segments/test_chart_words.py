"""Charts speak people's words: every axis, tick, legend, bar, cell and hover text of an analysis's charts names a
column with the product's one label for it (`vocabulary.feature_label`) and its unit where known, never a raw
column name (`total_day_minutes`, `MonthlyCharges`) and never `NaN` or `None`; a run without lifetime value leaves
its LTV charts out instead of drawing empty frames. Checked on the real telecom table
(../shared/realdata/mlc_churn.csv) and a Telco-shaped subscription table (tenure in months, a monthly charge)."""

import io
import json
import re
import sys
from pathlib import Path

import pytest
from helpers import analysed_upload, real_table

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engine"))
from telco_fixture import telco_frame  # noqa: E402

pytestmark = pytest.mark.django_db

# Keys whose strings are styling or Plotly settings, not text anyone reads.
STYLE_KEYS = {
    "template", "color", "colors", "bgcolor", "bordercolor", "family", "colorscale", "type", "mode", "fill",
    "hoverinfo", "xref", "yref", "axref", "ayref", "textposition", "xanchor", "yanchor", "orientation", "sizemode",
    "barmode", "dash", "autorange", "tickmode", "yaxis", "xaxis", "matches", "overlaying", "side", "anchor",
    "arrowcolor", "itemsizing", "traceorder", "sizeref", "layer", "hoveron", "line",
}  # fmt: skip
SNAKE = re.compile(r"(?<![\w%{])[A-Za-z][a-z0-9]*(?:_[a-z0-9]+)+(?![\w}])")
CAMEL = re.compile(r"(?<![\w%{])[A-Z][a-z]+(?:[A-Z][a-z]+)+(?![\w}])")
MISSING = re.compile(r"\b(?:NaN|nan|None|null|undefined)\b")


def _texts(value, key=""):
    """(key, string) for every string people may read in a figure's JSON."""
    if isinstance(value, dict):
        for k, v in value.items():
            if k not in STYLE_KEYS:
                yield from _texts(v, k)
    elif isinstance(value, list):
        for v in value:
            yield from _texts(v, key)
    elif isinstance(value, str):
        yield key, value


def _figures(analysis) -> dict:
    from segments.charts.common import to_json
    from segments.charts.prebuilt import TABS_WITH_CHARTS, build_tab

    return {
        f"{tab}/{name}": json.loads(to_json(fig)) for tab in TABS_WITH_CHARTS for name, fig in build_tab(analysis, tab)
    }


def _problems(figures: dict, columns) -> list[str]:
    raw = {c for c in columns if "_" in c or CAMEL.fullmatch(c)}
    problems = []
    for chart, fig in figures.items():
        for key, text in _texts({"data": fig["data"], "layout": fig["layout"]}):
            plain = re.sub(r"<[^>]+>", " ", text)
            for word in SNAKE.findall(plain) + CAMEL.findall(plain):
                problems.append(f"{chart} {key}: raw name {word!r} in {text[:80]!r}")
            problems += [f"{chart} {key}: {text[:80]!r}" for _ in MISSING.findall(plain)]
            problems += [f"{chart} {key}: column {c!r} as it is" for c in raw if c in plain]
    return problems


def test_the_real_telecom_tables_charts_name_columns_in_words_and_leave_out_what_has_no_ltv(people, client_for):
    path = real_table()
    analysis = analysed_upload(people, path.read_bytes(), "mlc_churn.csv")
    columns = path.read_text().splitlines()[0].split(",")
    figures = _figures(analysis)
    assert _problems(figures, columns) == []
    heat = [x.replace("<br>", " ") for x in figures["visualizations/segment-heatmap"]["data"][0]["x"]]
    assert "Total day minutes" in heat and "Number customer service calls" in heat
    bars = [y.replace("<br>", " ") for y in figures["visualizations/feature-importance"]["data"][0]["y"]]
    assert "Voice mail plan" in bars or "Number vmail messages" in bars
    radar = figures["visualizations/radar-0"]["data"][1]
    assert all("_" not in name for name in radar["customdata"])
    # account_length has no unit the source states: no LTV, so no empty LTV frames, and the page says why
    assert not analysis.has_ltv
    assert {"visualizations/ltv-churn", "insights/risk-value", "insights/growth"}.isdisjoint(figures)
    client = client_for(people.alice, people.acme)
    viz = client.get(f"/analyses/{analysis.pk}/visualizations/").content.decode()
    insights = client.get(f"/analyses/{analysis.pk}/insights/").content.decode()
    assert 'data-testid="no-ltv-churn"' in viz and 'data-testid="no-risk-value-chart"' in insights
    assert 'data-testid="no-growth-chart"' in insights and 'data-figure="figure-revenue"' in insights


def test_a_subscription_tables_charts_carry_units_months_and_money_per_month(people):
    frame = telco_frame(1_500)
    out = io.StringIO()
    frame.to_csv(out, index=False)
    analysis = analysed_upload(people, out.getvalue().encode(), "telco.csv")
    figures = _figures(analysis)
    assert _problems(figures, list(frame.columns)) == []
    bars = [y.replace("<br>", " ") for y in figures["visualizations/feature-importance"]["data"][0]["y"]]
    assert "Tenure (months)" in bars
    assert "Monthly charges ($ per month)" in bars
    assert "Total charges ($)" in bars
    assert "Senior citizen" in bars and "Payment method" in bars
    heat = [x.replace("<br>", " ") for x in figures["visualizations/segment-heatmap"]["data"][0]["x"]]
    assert "Monthly charges ($ per month)" in heat and "Tenure (months)" in heat
    assert analysis.has_ltv and "visualizations/ltv-churn" in figures and "insights/risk-value" in figures


def test_a_feature_is_named_once_with_its_unit_and_without_repeating_one_its_label_says():
    import types

    from segments.charts.common import feature_name
    from segments.engine import formatting as fmt

    analysis = types.SimpleNamespace(
        config={},
        metrics={
            "roles": {"monthly_charges": "monetary", "Umsatz (€)": "monetary", "tenure_days": "numeric"},
            "behaviour_roles": {"tenure_col": "tenure_m", "recency_col": "days_since_last_visit"},
            "behaviour_units": {
                "tenure_unit": {"unit": "months"},
                "recency_unit": {"unit": "days"},
                "recurring_charge": {"column": "monthly_charges", "period": "months"},
            },
        },
    )
    with fmt.using_currency("EUR"):
        assert feature_name(analysis, "monthly_charges") == "Monthly charges (€ per month)"
        assert feature_name(analysis, "Umsatz (€)") == "Umsatz (€)"
    assert feature_name(analysis, "tenure_m") == "Tenure (months)"
    assert feature_name(analysis, "days_since_last_visit") == "Days since last visit"
    assert feature_name(analysis, "signup_date (days ago)") == "Signup date (days ago)"
    assert feature_name(analysis, "device=mobile") == "Device: mobile"
    assert feature_name(analysis, "PaymentMethod") == "Payment method"
    assert feature_name(analysis, "p_active") == "P(active)"
    analysis.metrics["behaviour_units"]["tenure_unit"]["unit"] = "unknown"
    assert feature_name(analysis, "tenure_m") == "Tenure m"  # an unknown unit is not guessed
