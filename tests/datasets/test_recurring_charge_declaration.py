"""A recurring charge whose name does not say its period (`plan_price`) is declared where roles are confirmed: the
dataset page's roles form and the API (PATCH), stored with the behaviour roles and carried into the analysis
config; a declaration without a period or on a column that is not money is refused beside its field."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engine"))
from telco_fixture import telco_frame  # noqa: E402

from datasets.services import dataset_analysis_defaults  # noqa: E402

pytestmark = pytest.mark.django_db


def _plan_price_table():
    return telco_frame(1500).rename(columns={"MonthlyCharges": "plan_price"}).drop(columns=["TotalCharges"])


@pytest.fixture
def plans(upload):
    return upload(_plan_price_table().to_csv(index=False).encode(), "plans.csv")


def _form(dataset, **extra):
    data = {f"role_{i}": dataset.roles[c["name"]] for i, c in enumerate(dataset.schema)}
    data.update({k: dataset.behaviour_roles.get(k) or "" for k in ("recency_col", "frequency_col", "tenure_col")})
    data.update(extra)
    return data


def test_the_page_declares_a_recurring_charge_and_it_becomes_the_analysis_default(plans, people, client_for):
    assert plans.inferred_behaviour_units["recurring_charge"] is None  # the name says no period
    client = client_for(people.bob, people.acme)
    html = client.get(f"/datasets/{plans.pk}/").content.decode()
    assert 'data-testid="charge_col"' in html and 'data-testid="charge_period"' in html
    response = client.post(
        f"/datasets/{plans.pk}/roles/",
        _form(plans, tenure_unit="months", charge_col="plan_price", charge_period="months"),
    )
    assert response.status_code == 302
    plans.refresh_from_db()
    assert plans.behaviour_roles["charge_col"] == "plan_price" and plans.behaviour_roles["charge_period"] == "months"
    defaults = dataset_analysis_defaults(plans)
    assert defaults["charge_col"] == "plan_price" and defaults["charge_period"] == "months"
    html = client.get(f"/datasets/{plans.pk}/").content.decode()
    assert 'data-testid="recurring-charge"' in html and "plan_price</span> per month (stated" in html


def test_a_charge_without_a_period_or_on_a_text_column_is_refused_beside_its_field(plans, people, client_for):
    client = client_for(people.bob, people.acme)
    response = client.post(f"/datasets/{plans.pk}/roles/", _form(plans, charge_col="plan_price"))
    assert response.status_code == 400
    assert "Say what &#x27;plan_price&#x27; is charged per" in response.content.decode()
    response = client.post(f"/datasets/{plans.pk}/roles/", _form(plans, charge_col="Contract", charge_period="months"))
    assert response.status_code == 400
    assert "A recurring charge must be a money column" in response.content.decode()
    plans.refresh_from_db()
    assert not plans.behaviour_roles.get("charge_col")
