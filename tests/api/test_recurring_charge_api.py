"""A recurring charge declared over the API (PATCH on the dataset: charge_col, charge_period) is stored, shown in
behaviour_units, refused without a valid period, and gives an analysis a subscription LTV."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engine"))
from telco_fixture import telco_frame  # noqa: E402

pytestmark = pytest.mark.django_db


def _plan_price_table():
    return telco_frame(1500).rename(columns={"MonthlyCharges": "plan_price"}).drop(columns=["TotalCharges"])


def test_the_api_declares_a_charge_and_an_analysis_gets_a_subscription_ltv(api):
    from jobs.services import job_execute
    from segments.models import Analysis

    content = _plan_price_table().to_csv(index=False).encode()
    created = api(scopes=["write"]).upload("/api/v1/datasets/", "plans.csv", content, name="Plans")
    assert created.status_code == 201, created.json()
    url = f"/api/v1/datasets/{created.json()['id']}/"
    bad = api(scopes=["write"]).patch(url, {"charge_col": "plan_price", "charge_period": "fortnights"})
    assert bad.status_code == 400 and "charge_period" in bad.json()["error"]["details"]
    missing = api(scopes=["write"]).patch(url, {"charge_col": "plan_price"})
    assert missing.status_code == 400 and "charge_period" in missing.json()["error"]["details"]
    response = api(scopes=["write"]).patch(
        url, {"charge_col": "plan_price", "charge_period": "months", "tenure_unit": "months"}
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["behaviour_roles"]["charge_col"] == "plan_price"
    assert body["behaviour_units"]["recurring_charge"]["column"] == "plan_price"
    run = api(scopes=["write"]).post("/api/v1/analyses/", {"dataset": body["id"], "n_clusters": 3, "nlp": False})
    assert run.status_code == 202, run.json()
    analysis = Analysis.objects.unscoped().get(pk=run.json()["id"])
    assert analysis.config["charge_col"] == "plan_price" and analysis.config["charge_period"] == "months"
    assert job_execute(analysis.job_id) == "succeeded"
    analysis.refresh_from_db()
    assert analysis.metrics["ltv"]["method"] == "gradient_boosting_on_subscription"
    assert analysis.metrics["behaviour_units"]["recurring_charge"]["evidence"].startswith("stated")
