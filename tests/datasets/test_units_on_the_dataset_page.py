"""The dataset page shows each duration column's inferred unit with its evidence, and the roles form lets a person
state it; a unit that cannot be (a duration unit for a date column) is refused beside its field."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engine"))
from telco_fixture import telco_frame  # noqa: E402

from datasets.services import dataset_analysis_defaults  # noqa: E402

pytestmark = pytest.mark.django_db


@pytest.fixture
def telco(upload):
    return upload(telco_frame(1500).to_csv(index=False).encode(), "telco.csv")


def _form(dataset, **behaviour):
    data = {f"role_{i}": dataset.roles[c["name"]] for i, c in enumerate(dataset.schema)}
    data.update({k: dataset.behaviour_roles.get(k) or "" for k in ("recency_col", "frequency_col", "tenure_col")})
    data.update(behaviour)
    return data


def test_the_page_shows_the_inferred_unit_and_its_evidence(telco, people, client_for):
    html = client_for(people.vera, people.acme).get(f"/datasets/{telco.pk}/").content.decode()
    assert 'data-testid="tenure_unit"' in html
    assert "As inferred: months" in html
    assert "&#x27;TotalCharges&#x27; ≈ &#x27;tenure&#x27; × &#x27;MonthlyCharges&#x27;" in html
    assert 'data-testid="recurring-charge"' in html and "MonthlyCharges</span> per month" in html


def test_an_unknown_unit_is_flagged_on_the_page(upload, people, client_for):
    rows = "".join(f"A{i},{1 + i * 3 % 240},{20 + i % 7}.5\n" for i in range(80))
    dataset = upload(("customer_id,account_length,total_spend\n" + rows).encode(), "accounts.csv")
    assert dataset.behaviour_roles["tenure_col"] == "account_length"
    html = client_for(people.vera, people.acme).get(f"/datasets/{dataset.pk}/").content.decode()
    assert "text-bg-warning" in html and "Unknown (not stated)" in html and "please state it" in html


def test_a_stated_unit_is_saved_and_becomes_the_analysis_default(telco, people, client_for):
    client = client_for(people.bob, people.acme)
    response = client.post(f"/datasets/{telco.pk}/roles/", _form(telco, tenure_unit="weeks"))
    assert response.status_code == 302
    telco.refresh_from_db()
    assert telco.behaviour_roles["tenure_unit"] == "weeks"
    assert dataset_analysis_defaults(telco)["tenure_unit"] == "weeks"
    html = client.get(f"/datasets/{telco.pk}/").content.decode()
    assert '<option value="weeks" selected>' in html


def test_a_duration_unit_for_a_date_column_is_refused(upload, people, client_for):
    csv = "customer_id,signup_date,total_spend\n" + "".join(
        f"C{i},2024-0{1 + i % 9}-1{i % 10},{10 + i}.5\n" for i in range(40)
    )
    dataset = upload(csv.encode(), "dates.csv")
    response = client_for(people.bob, people.acme).post(
        f"/datasets/{dataset.pk}/roles/", _form(dataset, tenure_col="signup_date", tenure_unit="months")
    )
    assert response.status_code == 400
    assert "holds dates: its tenure unit is “date”" in response.content.decode()
    dataset.refresh_from_db()
    assert not dataset.behaviour_roles.get("tenure_unit")


def test_a_stated_unit_is_shown_as_stated_not_as_the_inferred_unknown(upload, people, client_for):
    import re

    rows = "".join(f"A{i},{1 + i * 3 % 240},{20 + i % 7}.5\n" for i in range(80))
    dataset = upload(("customer_id,account_length,total_spend\n" + rows).encode(), "accounts.csv")
    client = client_for(people.bob, people.acme)
    assert client.post(f"/datasets/{dataset.pk}/roles/", _form(dataset, tenure_unit="months")).status_code == 302
    html = client.get(f"/datasets/{dataset.pk}/").content.decode()
    evidence = re.search(r'data-testid="tenure_unit-evidence">(.*?)</div>', html, re.S).group(1)
    assert 'data-testid="tenure_unit-stated">Stated: months</span>' in evidence
    assert "You stated it" in evidence and "text-bg-warning" not in evidence
    assert ">Unknown (not stated)</span>" not in evidence  # no "unknown" badge beside the stated unit
    assert "From the data alone: unknown (not stated)" in evidence  # the inference, said as such
