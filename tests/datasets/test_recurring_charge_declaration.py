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


def _run_charge_line(html: str) -> str:
    import re

    return re.search(r'data-testid="run-recurring-charge">(.*?)</p>', html, re.S).group(1)


def test_the_analysis_form_shows_the_recurring_charge_the_run_will_use(plans, people, client_for):
    from segments.models import Analysis

    client = client_for(people.bob, people.acme)
    line = _run_charge_line(client.get(f"/analyses/new/{plans.pk}/").content.decode())
    assert "none declared or found in the data" in line and f"/datasets/{plans.pk}/#roles" in line
    client.post(
        f"/datasets/{plans.pk}/roles/",
        _form(plans, tenure_unit="months", charge_col="plan_price", charge_period="months"),
    )
    html = client.get(f"/analyses/new/{plans.pk}/").content.decode()
    line = _run_charge_line(html)
    assert '<span class="mono">plan_price</span> per month (declared on the dataset)' in line
    assert "Change it on the dataset page" in line
    # and it is the charge the run is given
    assert client.post(f"/analyses/new/{plans.pk}/", _analysis_form(html)).status_code == 302
    run = Analysis.objects.for_organization(people.acme).get(dataset=plans)
    assert run.config["charge_col"] == "plan_price" and run.config["charge_period"] == "months"


def test_the_analysis_form_names_a_charge_found_in_the_data(upload, people, client_for):
    telco = upload(telco_frame(1500).to_csv(index=False).encode(), "telco.csv")
    line = _run_charge_line(client_for(people.bob, people.acme).get(f"/analyses/new/{telco.pk}/").content.decode())
    assert '<span class="mono">MonthlyCharges</span> per month (found in the data:' in line


def _analysis_form(html: str) -> dict:
    """The form's fields as the page fills them (selected options, input values)."""
    import re

    data = {}
    for name, value in re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', html):
        data.setdefault(name, value)
    for name, body in re.findall(r'<select name="([^"]+)"[^>]*>(.*?)</select>', html, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected', body) or re.search(r'<option value="([^"]*)"', body)
        data[name] = chosen.group(1) if chosen else ""
    return data
