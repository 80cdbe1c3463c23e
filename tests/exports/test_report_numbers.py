"""The report and the customer files state each figure once, under one name, and agree with the customer rows."""

import io
import subprocess
from datetime import UTC, datetime

import pandas as pd

from exports.csv_export import csv_chunks
from exports.report import executive_summary, render_pdf, report_context
from exports.sources import iter_customer_batches
from segments.engine.profiles import risk_levels, value_tiers

NOW = datetime(2026, 6, 30, 9, 30, tzinfo=UTC)


def _money(x):
    return f"${x:,.0f}"  # every figure carries its currency


def _context(engine_result):
    return report_context(
        profiles=engine_result.profiles,
        metrics=engine_result.metrics,
        organization_name="Acme Retail",
        analysis_name="Spring customers",
        generated_at=NOW,
        customer_count=len(engine_result.customers),
    )


def test_the_summary_counts_customers_likely_to_leave_one_by_one(engine_result):
    customers = engine_result.customers
    leaving = customers[customers["churn_risk"] >= 0.5]
    risks = " ".join(executive_summary(engine_result.profiles, engine_result.metrics)["risks"])
    assert (
        f"In all, {len(leaving):,} customers ({len(leaving) / len(customers) * 100:.0f}%) have a churn risk of "
        f"50% or more, holding {_money(leaving['predicted_ltv'].sum())} of predicted value." in risks
    )
    in_high_segments = sum(p["size"] for p in engine_result.profiles if p["risk_level"] == "high")
    assert in_high_segments != len(leaving)  # the old sentence summed segments: a different, wrong figure
    assert f"{in_high_segments:,} customers (" not in risks


def test_a_segment_page_shows_the_potential_of_the_list_it_is_in_under_that_name(engine_result):
    insights = engine_result.metrics["insights"]
    growth = {g["segment"]: g["growth_potential"] for g in insights["growth_opportunities"]}
    develop = {u["segment"]: u["development_potential"] for u in insights["underperforming"]}
    assert growth and develop
    context = _context(engine_result)
    opportunities = " ".join(context["summary"]["opportunities"])
    for page in context["segments"]:
        seg = page["segment"]
        if seg in growth:
            assert page["potential"]["label"] == "Growth ceiling (upper bound)"
            assert page["potential"]["value"] == growth[seg]
            assert f"growth ceiling {_money(growth[seg])}" in opportunities
        elif seg in develop:
            assert page["potential"]["label"] == "Development ceiling (upper bound)"
            assert page["potential"]["value"] == develop[seg]
            assert f"development ceiling {_money(develop[seg])}" in opportunities
        else:
            assert page["potential"] is None


def test_the_pdf_pages_print_the_same_potential_and_readable_methods(engine_result, tmp_path):
    context = _context(engine_result)
    path = tmp_path / "report.pdf"
    render_pdf(context, str(path))
    insights = engine_result.metrics["insights"]
    develop = {u["segment"]: u["development_potential"] for u in insights["underperforming"]}
    segments = sorted(engine_result.profiles, key=lambda p: p["segment"])
    assert develop, "the fixture must have a development opportunity, or the pages' check below checks nothing"

    def page(n):
        out = subprocess.run(["pdftotext", "-f", str(n), "-l", str(n), str(path), "-"], capture_output=True, text=True)
        return " ".join(out.stdout.split())

    for i, profile in enumerate(segments):
        text = page(6 + i).upper()
        if profile["segment"] in develop:
            assert "DEVELOPMENT CEILING" in text and _money(develop[profile["segment"]]) in text
            assert "GROWTH CEILING" not in text
        elif profile["growth_potential"] is None:
            assert "CEILING" not in text.split("RECOMMENDED ACTIONS")[0]
    appendix = page(6 + len(segments))
    assert "Method: MBG/NBD buy-till-you-die model" in appendix
    assert "mbg nbd" not in appendix.lower() and "sample (fitted" not in appendix


def test_the_csv_s_risk_level_and_value_tier_are_each_customer_s_own(engine_result):
    back = pd.read_csv(io.BytesIO(b"".join(csv_chunks(iter_customer_batches(engine_result.customers)))))
    population = engine_result.metrics["insights"]["population"]
    method = engine_result.metrics["churn"]["method"]
    assert (back["risk_level"] == risk_levels(back["churn_risk"], population["avg_churn_risk"], method)).all()
    assert (back["value_tier"] == value_tiers(back["predicted_ltv"], population["avg_ltv"])).all()
    avg = population["avg_churn_risk"]  # levels are relative to this client's average customer
    assert (back.loc[back["churn_risk"] >= avg + max(0.05, 0.25 * avg), "risk_level"] == "high").all()
    assert (back.loc[back["churn_risk"] <= avg - max(0.05, 0.25 * avg), "risk_level"] == "low").all()
