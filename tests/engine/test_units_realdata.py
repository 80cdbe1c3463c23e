"""End to end on a real table nobody here generated (../shared/realdata/mlc_churn.csv): `account_length` has no
unit stated by its source, so the product must ask rather than assume days, and show no LTV built on a guess."""

import pandas as pd
import pytest
from helpers import real_table

from segments.engine import AnalysisConfig, analyze


@pytest.fixture(scope="module")
def mlc():
    return pd.read_csv(real_table())


@pytest.fixture(scope="module")
def mlc_result(mlc):
    return analyze(mlc, AnalysisConfig(nlp=False, n_clusters=4))


def test_account_length_is_tenure_of_unknown_unit_and_the_product_asks(mlc_result):
    m = mlc_result.metrics
    assert m["behaviour_roles"]["tenure_col"] == "account_length"
    unit = m["behaviour_units"]["tenure_unit"]
    assert unit["unit"] == "unknown"
    assert "values 1–243" in unit["evidence"] and "please state it" in unit["evidence"]
    assert any("unit of 'account_length'" in w for w in m["warnings"])


def test_minutes_and_calls_are_not_money_but_charges_are(mlc_result):
    roles = mlc_result.metrics["roles"]
    assert roles["total_day_minutes"] == "numeric" and roles["total_day_calls"] == "numeric"
    assert roles["total_day_charge"] == "monetary" and roles["total_intl_charge"] == "monetary"


def test_no_ltv_or_new_customers_are_derived_from_an_unknown_unit(mlc_result):
    assert mlc_result.metrics["ltv"]["method"] == "unavailable"
    assert mlc_result.customers["predicted_ltv"].isna().all()
    assert all(p["avg_ltv"] is None for p in mlc_result.profiles)
    assert "new" not in set(mlc_result.customers["lifecycle_stage"])
    # the churn label is real and still modelled
    assert mlc_result.metrics["churn"]["method"] == "supervised"


def test_a_stated_unit_gives_no_run_rate_from_charges_per_period(mlc):
    """Stated in months, account_length is used for lifecycle stages; the charges are per billing period (they do
    not grow with the account's age), so no run-rate LTV is made from them: a figure from a per-period bill divided
    by the account's age would be about 1/100 of the truth."""
    result = analyze(mlc, AnalysisConfig(nlp=False, n_clusters=4, tenure_unit="months"))
    assert result.metrics["behaviour_units"]["tenure_unit"]["source"] == "stated"
    assert result.metrics["ltv"]["method"] == "unavailable"
    assert "does not grow with tenure" in result.metrics["ltv"]["note"]
    assert result.customers["predicted_ltv"].isna().all()
    new = mlc["account_length"] * 30.4375 <= 90
    assert (result.customers["lifecycle_stage"] == "new").sum() == new.sum() > 0
