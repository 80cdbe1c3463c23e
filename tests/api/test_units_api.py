"""Units over the API: a dataset shows the inferred unit of its duration columns with the evidence, a partner
states a unit on the dataset or for one analysis, and predict refuses records that cannot describe a customer
(400 in the one error format, naming the field and value)."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engine"))
from telco_fixture import telco_frame  # noqa: E402

pytestmark = pytest.mark.django_db


@pytest.fixture
def telco_dataset(api):
    content = telco_frame(2000).to_csv(index=False).encode()
    response = api(scopes=["write"]).upload("/api/v1/datasets/", "telco.csv", content, name="Telco")
    assert response.status_code == 201, response.json()
    return response.json()


def test_the_dataset_shows_the_inferred_unit_with_its_evidence(api, telco_dataset):
    body = api(scopes=["read"]).get(f"/api/v1/datasets/{telco_dataset['id']}/").json()
    assert body["behaviour_roles"]["tenure_col"] == "tenure"
    assert body["behaviour_roles"]["tenure_unit"] is None  # not stated: inferred
    unit = body["behaviour_units"]["tenure_unit"]
    assert unit["unit"] == "months" and unit["source"] == "consistency"
    assert "'TotalCharges' ≈ 'tenure' × 'MonthlyCharges'" in unit["evidence"]
    assert body["behaviour_units"]["recurring_charge"]["column"] == "MonthlyCharges"


def test_a_partner_states_a_unit_and_a_wrong_one_is_refused_naming_the_field(api, telco_dataset, acme_dataset):
    url = f"/api/v1/datasets/{telco_dataset['id']}/"
    response = api(scopes=["write"]).patch(url, {"tenure_unit": "weeks"})
    assert response.status_code == 200, response.json()
    assert response.json()["behaviour_roles"]["tenure_unit"] == "weeks"
    assert response.json()["behaviour_roles"]["tenure_col"] == "tenure"  # the column is kept
    response = api(scopes=["write"]).patch(url, {"tenure_unit": "fortnights"})
    assert response.status_code == 400
    assert "tenure_unit" in response.json()["error"]["details"]
    # a date column's unit is "date"
    response = api(scopes=["write"]).patch(
        f"/api/v1/datasets/{acme_dataset.pk}/", {"tenure_col": "signup_date", "tenure_unit": "months"}
    )
    assert response.status_code == 400
    assert response.json()["error"]["details"] == {
        "tenure_unit": ["'signup_date' holds dates: its tenure unit is “date”, not 'months'."]
    }


def test_an_analysis_uses_the_unit_stated_for_it(api, telco_dataset):
    from jobs.services import job_execute
    from segments.models import Analysis

    response = api(scopes=["write"]).post(
        "/api/v1/analyses/",
        {"dataset": telco_dataset["id"], "n_clusters": 3, "nlp": False, "tenure_unit": "days"},
    )
    assert response.status_code == 202, response.json()
    analysis = Analysis.objects.unscoped().get(pk=response.json()["id"])
    assert analysis.config["tenure_unit"] == "days"
    assert job_execute(analysis.job_id) == "succeeded"
    analysis.refresh_from_db()
    assert analysis.metrics["behaviour_units"]["tenure_unit"]["source"] == "stated"
    bad = api(scopes=["write"]).post("/api/v1/analyses/", {"dataset": telco_dataset["id"], "tenure_unit": "eons"})
    assert bad.status_code == 400 and "tenure_unit" in bad.json()["error"]["details"]


def test_the_subscription_ltv_of_an_analysis_stays_within_twelve_monthly_charges(api, telco_dataset):
    from jobs.services import job_execute
    from segments.models import Analysis

    response = api(scopes=["write"]).post("/api/v1/analyses/", {"dataset": telco_dataset["id"], "nlp": False})
    analysis = Analysis.objects.unscoped().get(pk=response.json()["id"])
    assert job_execute(analysis.job_id) == "succeeded"
    analysis.refresh_from_db()
    assert analysis.metrics["ltv"]["method"] == "gradient_boosting_on_subscription"
    segments = api(scopes=["read"]).get(f"/api/v1/analyses/{analysis.pk}/segments/").json()["results"]
    frame = telco_frame(2000)
    overall = sum(s["avg_ltv"] * s["size"] for s in segments) / sum(s["size"] for s in segments)
    assert 0 < overall <= 12 * frame["MonthlyCharges"].mean()


def test_predict_lists_imputed_fields_and_unseen_values(api, acme_analysis, model_cache):
    url = f"/api/v1/analyses/{acme_analysis.pk}/predict/"
    response = api(scopes=["predict"]).post(url, {"record": {"orders": 3, "region": "Atlantis"}})
    assert response.status_code == 200, response.json()
    prediction = response.json()["prediction"]
    assert "total_spend" in prediction["imputed_fields"] and "orders" not in prediction["imputed_fields"]
    assert prediction["unseen_values"] == {"region": "Atlantis"}
    assert not {k.removesuffix(" (days ago)") for k in prediction["key_features"]} & set(prediction["imputed_fields"])


@pytest.mark.parametrize(
    ("body", "field", "fragment"),
    [
        ({"record": {}}, "record", "record 1: no usable field"),
        ({"record": {"customer_id": "NEW-9"}}, "record", "record 1: no usable field"),
        ({"record": {"orders": -3}}, "record", "field 'orders' is -3: a negative value"),
        ({"records": [{"orders": 2}, {"total_spend": -10}]}, "records", "record 2: field 'total_spend' is -10"),
        (
            {"record": {"signup_date": "2099-05-01"}},
            "record",
            "field 'signup_date' is '2099-05-01', after the reference",
        ),
        (
            {"record": {"last_purchase_date": "1970-01-01", "tenure_days": 10}},
            "record",
            "recency cannot be longer than tenure",
        ),
        (
            {"record": {"last_purchase_date": "1970-01-01"}},
            "record",
            "field 'last_purchase_date' is '1970-01-01', before",
        ),
        (
            {"record": {"signup_date": "1989-12-31", "total_spend": 20}},
            "record",
            "field 'signup_date' is '1989-12-31', before",
        ),
    ],
)
def test_predict_refuses_impossible_records_with_400_naming_field_and_value(
    api, acme_analysis, model_cache, body, field, fragment
):
    response = api(scopes=["predict"]).post(f"/api/v1/analyses/{acme_analysis.pk}/predict/", body)
    assert response.status_code == 400, response.json()
    error = response.json()["error"]
    assert error["code"] and error["message"]
    assert any(fragment in m for m in error["details"][field]), error
