"""Units of the behaviour columns: inferred from names, values and the money columns, stated by a person when
nothing says, and used in every figure derived from a duration (LTV, run-rates, lifecycle stages)."""

import numpy as np
import pandas as pd
import pytest
from telco_fixture import telco_frame

from segments.engine import AnalysisConfig, EngineError, analyze
from segments.engine.predictive import expected_paid_months
from segments.engine.units import DAYS_PER_UNIT, infer_units, period_from_name, to_days, unit_from_name


@pytest.mark.parametrize(
    "name, unit",
    [
        ("tenure_days", "days"),
        ("days_since_last_purchase", "days"),
        ("tenure_m", "months"),
        ("TenureMonths", "months"),
        ("months_active", "months"),
        ("weeks_since_last_order", "weeks"),
        ("customer_age_years", "years"),
        ("account_length", None),
        ("tenure", None),
    ],
)
def test_the_unit_is_read_from_whole_words_of_the_name(name, unit):
    assert unit_from_name(name) == unit


def test_a_billing_period_is_read_from_a_money_columns_name():
    assert period_from_name("MonthlyCharges") == "months"
    assert period_from_name("mrr") == "months"
    assert period_from_name("annual_fee") == "years"
    assert period_from_name("total_day_charge") is None


def test_conversion_to_days_is_the_one_table():
    assert to_days(np.array([2.0]), "weeks")[0] == 14
    assert to_days(np.array([12.0]), "months")[0] == pytest.approx(365.25)
    assert DAYS_PER_UNIT["years"] == 365.25


@pytest.fixture(scope="module")
def telco():
    return telco_frame(3000)


@pytest.fixture(scope="module")
def telco_result(telco):
    return analyze(telco, AnalysisConfig(nlp=False))


def test_a_tenure_whose_product_with_the_monthly_charge_is_the_total_counts_months(telco_result):
    units = telco_result.metrics["behaviour_units"]
    assert telco_result.metrics["behaviour_roles"]["tenure_col"] == "tenure"
    assert units["tenure_unit"]["unit"] == "months"
    assert units["tenure_unit"]["source"] == "consistency"
    assert "'TotalCharges' ≈ 'tenure' × 'MonthlyCharges'" in units["tenure_unit"]["evidence"]
    assert units["recurring_charge"]["column"] == "MonthlyCharges"
    assert units["recurring_charge"]["period"] == "months"


def test_a_subscription_table_gets_a_subscription_ltv_within_twelve_monthly_charges(telco, telco_result):
    ltv = telco_result.metrics["ltv"]
    assert ltv["method"] == "gradient_boosting_on_subscription"
    assert "recurring charge per month x expected paid months" in ltv["target"]
    ratio = telco_result.customers["predicted_ltv"] / (telco["MonthlyCharges"] * 12)
    assert ratio.median() <= 1.0  # at most twelve paid months in a 12-month horizon
    assert ratio.median() > 0.2  # and not the placeholder of an empty estimate
    # customers more likely to leave are worth fewer months
    risky = telco_result.customers["churn_risk"] > telco_result.customers["churn_risk"].median()
    assert ratio[risky].median() < ratio[~risky].median()


def test_expected_paid_months_lie_between_none_and_the_horizon():
    months = expected_paid_months(np.array([0.0, 0.3, 1.0]), 12, 90)
    assert months[0] == pytest.approx(12)
    assert 0 < months[1] < 12
    assert months[2] == 0


def test_joined_in_the_last_90_days_counts_in_the_columns_unit(telco, telco_result):
    stages = telco_result.customers["lifecycle_stage"]
    new_by_months = telco["tenure"] * DAYS_PER_UNIT["months"] <= 90
    assert (stages == "new").sum() == new_by_months.sum()
    assert new_by_months.sum() < (telco["tenure"] <= 90).sum()  # read as days, almost everyone would be "new"


def test_a_stated_unit_wins_over_the_inferred_one(telco):
    result = analyze(telco, AnalysisConfig(nlp=False, n_clusters=3, tenure_unit="days"))
    unit = result.metrics["behaviour_units"]["tenure_unit"]
    assert unit == {"unit": "days", "source": "stated", "evidence": "stated for 'tenure'"}
    assert (result.customers["lifecycle_stage"] == "new").sum() == (telco["tenure"] <= 90).sum()


def test_an_unknown_unit_is_asked_for_and_no_duration_figure_is_derived_from_it():
    rng = np.random.default_rng(4)
    n = 600
    df = pd.DataFrame(
        {
            "account_length": (length := rng.integers(1, 244, n)),
            "spend": (length * rng.gamma(2, 4, n)).round(2),  # a total to date: grows with the account's age
            "calls": rng.poisson(5, n),
            "plan": rng.choice(["a", "b"], n),
            "churned": rng.choice(["yes", "no"], n, p=[0.2, 0.8]),
        }
    )
    result = analyze(df, AnalysisConfig(nlp=False, n_clusters=3))
    unit = result.metrics["behaviour_units"]["tenure_unit"]
    assert result.metrics["behaviour_roles"]["tenure_col"] == "account_length"
    assert unit["unit"] == "unknown" and "values 1–243" in unit["evidence"]
    assert any("unit of 'account_length'" in w and "tenure_unit" in w for w in result.metrics["warnings"])
    assert result.metrics["ltv"]["method"] == "unavailable"
    assert "known unit" in result.metrics["ltv"]["note"]
    assert result.customers["predicted_ltv"].isna().all()
    assert "new" not in set(result.customers["lifecycle_stage"])
    # once stated, the same column gives the figures
    stated = analyze(df, AnalysisConfig(nlp=False, n_clusters=3, tenure_unit="months"))
    assert stated.metrics["ltv"]["method"] == "gradient_boosting_on_run_rate"
    assert stated.customers["predicted_ltv"].notna().all()


def test_values_too_large_for_months_are_days():
    rng = np.random.default_rng(5)
    df = pd.DataFrame({"tenure": rng.integers(1, 3000, 200), "spend": rng.gamma(2, 40, 200)})
    guesses, _ = infer_units(df, {"tenure": "numeric", "spend": "monetary"}, {"tenure_col": "tenure"})
    assert guesses["tenure_unit"].unit == "days" and guesses["tenure_unit"].source == "values"


def test_the_same_durations_in_weeks_and_in_days_give_the_same_ltv():
    rng = np.random.default_rng(6)
    n = 800
    weeks = rng.integers(1, 300, n)
    spend = (weeks * rng.gamma(2, 5, n)).round(2)
    churned = rng.choice(["yes", "no"], n, p=[0.3, 0.7])
    in_weeks = pd.DataFrame(
        {"tenure_weeks": weeks, "total_spend": spend, "visits": rng.poisson(4, n), "churned": churned}
    )
    in_days = in_weeks.rename(columns={"tenure_weeks": "tenure_days"}).assign(tenure_days=weeks * 7)
    a = analyze(in_weeks, AnalysisConfig(nlp=False, n_clusters=2))
    b = analyze(in_days, AnalysisConfig(nlp=False, n_clusters=2))
    assert a.metrics["behaviour_units"]["tenure_unit"]["unit"] == "weeks"
    assert b.metrics["behaviour_units"]["tenure_unit"]["unit"] == "days"
    assert a.metrics["ltv"]["method"] == b.metrics["ltv"]["method"] == "gradient_boosting_on_run_rate"
    assert a.customers["predicted_ltv"].notna().all()
    np.testing.assert_allclose(a.customers["predicted_ltv"], b.customers["predicted_ltv"], rtol=0.02, atol=0.5)


def test_a_unit_that_is_not_one_is_refused_naming_the_setting():
    with pytest.raises(EngineError, match="'fortnights' is not a unit") as err:
        AnalysisConfig(tenure_unit="fortnights")
    assert err.value.field == "tenure_unit"


def test_a_date_column_cannot_be_given_a_duration_unit():
    df = pd.DataFrame(
        {
            "signup_date": pd.date_range("2024-01-01", periods=50, freq="D").astype(str),
            "spend": np.arange(50.0) + 1,
        }
    )
    with pytest.raises(EngineError, match="holds dates") as err:
        analyze(df, AnalysisConfig(nlp=False, n_clusters=2, tenure_col="signup_date", tenure_unit="months"))
    assert err.value.field == "tenure_unit"


def test_without_label_or_behaviour_churn_is_left_out_not_a_placeholder():
    rng = np.random.default_rng(1)
    df = pd.DataFrame({"spend": rng.gamma(2, 50, 300).round(2), "visits": rng.poisson(6, 300)})
    result = analyze(df, AnalysisConfig(n_clusters=2))
    assert result.metrics["churn"]["method"] == "unavailable"
    assert result.customers["churn_risk"].isna().all()
    assert (result.customers["churn_risk"] != 0.5).all()
    assert result.metrics["ltv"]["method"] == "unavailable"
    assert all(p["avg_churn_risk"] is None for p in result.profiles)


def test_a_money_column_that_does_not_grow_with_tenure_gives_no_run_rate():
    rng = np.random.default_rng(8)
    n = 600
    df = pd.DataFrame(
        {
            "tenure_months": rng.integers(1, 72, n),
            "day_charge": rng.gamma(4, 10, n).round(2),  # a bill per period, not a total to date
            "calls": rng.poisson(5, n),
            "churned": rng.choice(["yes", "no"], n, p=[0.2, 0.8]),
        }
    )
    result = analyze(df, AnalysisConfig(nlp=False, n_clusters=3))
    assert result.metrics["behaviour_units"]["tenure_unit"]["unit"] == "months"
    assert result.metrics["ltv"]["method"] == "unavailable"
    assert "does not grow with tenure" in result.metrics["ltv"]["note"]
    assert result.customers["predicted_ltv"].isna().all()
