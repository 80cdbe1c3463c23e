"""The engine's conclusions on a real telecom table (../shared/realdata/mlc_churn.csv) and on constructed cases: the
automatic k follows the segment-structure verdict, per-period charges are worded as charges per period, a declared
recurring charge gets a subscription LTV, per-customer advice acknowledges the segment, segment recommendations
cite the figure that triggered them with its unit, and predict refuses implausible dates."""

import re

import numpy as np
import pandas as pd
import pytest
from helpers import real_table
from telco_fixture import telco_frame

from segments.engine import AnalysisConfig, EngineError, analyze, predict_segment
from segments.engine.clustering import _choose_k
from segments.engine.profiles import customer_advice


@pytest.fixture(scope="module")
def mlc_auto():
    frame = pd.read_csv(real_table())
    return frame, analyze(frame, AnalysisConfig(nlp=False, churn_label_col="churn"))


# ---- 1. k follows the structure verdict


def test_automatic_k_on_the_real_telecom_table_follows_the_no_structure_verdict(mlc_auto):
    _, result = mlc_auto
    m = result.metrics
    structure = m["segment_structure"]
    assert structure["strength"] in ("none", "weak")
    assert m["k"] <= 3, m["k_selection"]["chosen_by"]
    chosen_by = m["k_selection"]["chosen_by"]
    assert chosen_by.startswith(f"k={m['k']}: no segment structure to follow")
    assert "read them as tiers" in chosen_by
    assert len(m["k_selection"]["k_values"]) == 9  # the evidence of the whole range stays on record
    assert any("fewer segments" in a for a in structure["advice"])


def test_k_choice_without_any_reproducible_k_keeps_the_fewest_segments():
    """The curves measured on mlc_churn: inertia knee k=6 with stability ARI 0.32, no k with ARI >= 0.8."""
    ks = list(range(2, 11))
    silhouette = [0.079, 0.084, 0.074, 0.073, 0.073, 0.070, 0.067, 0.068, 0.071]
    inertia = [14.68, 13.76, 13.11, 12.53, 12.06, 11.78, 11.55, 11.32, 11.07]
    stability = [0.07, 0.09, 0.26, 0.18, 0.32, 0.24, 0.31, 0.28, 0.28]
    k, why = _choose_k(ks, silhouette, inertia, stability)
    assert k == 3
    assert "best stability ARI 0.32 at k=6" in why and "knee at k=6 is not reproducible" in why
    # a clear, reproducible knee still decides
    k, why = _choose_k(ks, silhouette, inertia, [0.9, 0.9, 0.95, 0.97, 0.99, 0.8, 0.7, 0.7, 0.7])
    assert k == 6 and "knee" in why


# ---- 2. per-period charges are worded as charges per period


def test_charges_per_billing_period_are_not_called_spend(mlc_auto):
    _, result = mlc_auto
    population = result.metrics["insights"]["population"]
    assert population["value_measure"] == "total_day_charge" and population["value_per"] == "billing period"
    reasons = list(result.customers["recommendation_reason"].unique())
    valued = [r for r in reasons if "in charges" in r]
    assert valued and not any("own spend" in r for r in reasons)
    assert any(re.search(r"own \$\d+\.\d\d per billing period in charges vs \$\d+\.\d\d", r) for r in valued)
    for p in result.profiles:  # value tiers come from the same per-period figure the reasons print
        assert p["avg_value"] is not None


def test_a_monthly_charge_reads_as_charges_a_month_when_there_is_no_ltv():
    frame = telco_frame(1500).drop(columns=["TotalCharges", "Churn"])
    result = analyze(frame, AnalysisConfig(nlp=False, n_clusters=3, tenure_unit="months"))
    population = result.metrics["insights"]["population"]
    if result.metrics["ltv"]["method"] != "unavailable":
        pytest.skip("an LTV was computed: tiers are on it")
    assert population["value_measure"] == "MonthlyCharges" and population["value_per"] == "month"
    assert result.customers["recommendation_reason"].str.contains(r"a month in charges vs", regex=True).any()


# ---- 3. a declared recurring charge


def test_a_declared_recurring_charge_gets_a_subscription_ltv():
    frame = telco_frame(2000).rename(columns={"MonthlyCharges": "plan_price"}).drop(columns=["TotalCharges"])
    base = {"nlp": False, "n_clusters": 3, "churn_label_col": "Churn", "tenure_unit": "months"}
    undeclared = analyze(frame, AnalysisConfig(**base))
    assert undeclared.metrics["ltv"]["method"] == "unavailable"  # `plan_price` names no period
    declared = analyze(frame, AnalysisConfig(**base, charge_col="plan_price", charge_period="months"))
    charge = declared.metrics["behaviour_units"]["recurring_charge"]
    assert charge["column"] == "plan_price" and charge["period"] == "months" and "stated" in charge["evidence"]
    assert declared.metrics["ltv"]["method"].endswith("subscription")
    ltv = declared.customers["predicted_ltv"]
    assert ltv.notna().all() and 0 < ltv.median() <= 12 * frame["plan_price"].median()
    yearly = analyze(frame, AnalysisConfig(**base, charge_col="plan_price", charge_period="years"))
    assert yearly.customers["predicted_ltv"].median() < ltv.median() / 6  # a twelfth of the monthly figure


def test_a_declared_charge_needs_its_period_and_a_column_of_the_table():
    with pytest.raises(EngineError, match="charged per") as err:
        AnalysisConfig(charge_col="plan_price")
    assert err.value.field == "charge_period"
    with pytest.raises(EngineError, match="not a billing period") as err:
        AnalysisConfig(charge_col="plan_price", charge_period="fortnight")
    assert err.value.field == "charge_period"
    frame = telco_frame(300)
    with pytest.raises(EngineError, match="'nope' named in the configuration is not in the data"):
        analyze(frame, AnalysisConfig(nlp=False, n_clusters=2, charge_col="nope", charge_period="months"))


# ---- 4. a customer's own advice acknowledges the segment


def test_a_low_risk_customer_in_an_at_risk_segment_is_told_so_beside_their_own_advice():
    reference = {
        "avg_churn_risk": 0.14,
        "avg_value": 100.0,
        "value_measure": "predicted_ltv",
        "churn_method": "supervised",
        "engagement": {},
        "segment_risk": {"0": ["high", 0.45], "1": ["low", 0.03]},
    }
    out = customer_advice(
        churn=np.array([0.005, 0.40, 0.90]),
        value=np.array([400.0, 100.0, 100.0]),
        readable={},
        reference=reference,
        segments=np.array([0, 0, 1]),
    )
    assert out["risk_level"][0] == "low" and "VIP" in out["recommendation"][0]
    reason = out["recommendation_reason"][0]
    assert reason.startswith("low own churn risk (0.5% vs 14% for the average customer) although in an At-Risk segment")
    assert "(its average churn risk 45%)" in reason and "own predicted LTV $400" in reason
    assert "although" not in out["recommendation_reason"][1]  # high risk in an At-Risk segment: nothing to explain
    assert out["recommendation_reason"][2].endswith("although in a low-risk segment (its average churn risk 3%)")
    # without segments the advice is the customer's alone, as before
    alone = customer_advice(churn=np.array([0.005]), value=np.array([400.0]), readable={}, reference=reference)
    assert "although" not in alone["recommendation_reason"][0]


def test_the_real_table_s_at_risk_segment_customers_with_low_own_risk_are_told_so(mlc_auto):
    _, result = mlc_auto
    c = result.customers
    at_risk = {p["segment"] for p in result.profiles if p["risk_level"] == "high"}
    calm = c[c["segment"].isin(at_risk) & (c["risk_level"] == "low")]
    assert len(calm) > 0
    assert calm["recommendation_reason"].str.contains("although in an At-Risk segment").all()


# ---- 6. segment recommendations cite the figure that triggered them, with its unit


def test_every_segment_recommendation_cites_a_figure_with_its_unit(mlc_auto):
    _, result = mlc_auto
    for p in result.profiles:
        for rec in p["recommendations"]:
            assert re.search(r"\d+%|\$\d|standard deviations|days", rec["reason"]), rec
            assert "—" not in rec["reason"], rec  # no missing figure (an LTV that was never computed)
            if rec["category"] in ("loyalty", "upsell", "growth"):
                assert "per billing period in charges" in rec["reason"], rec


# ---- 5. predict refuses implausible dates


def test_predict_refuses_a_last_purchase_in_1970_without_tenure(default_result):
    with pytest.raises(EngineError, match=r"field 'last_purchase_date' is '1970-01-01', before") as err:
        predict_segment(default_result.model, {"last_purchase_date": "1970-01-01", "total_spend": 50.0})
    assert err.value.field == "last_purchase_date"


def test_predict_refuses_a_date_before_the_earliest_in_the_analysed_table(customers, default_result):
    earliest = pd.to_datetime(customers["signup_date"]).min()
    too_early = (earliest - pd.Timedelta(days=30)).date().isoformat()
    assert too_early > "1990-01-01"
    with pytest.raises(EngineError, match=rf"field 'signup_date' is '{too_early}', before {earliest.date()}"):
        predict_segment(default_result.model, {"signup_date": too_early, "total_spend": 50.0})
    ok = predict_segment(default_result.model, {"signup_date": earliest.date().isoformat(), "total_spend": 50.0})
    assert "signup_date" not in ok["imputed_fields"]
