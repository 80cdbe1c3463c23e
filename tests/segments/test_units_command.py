"""`manage.py run_analysis --tenure-unit/--recency-unit` states what a duration column counts for one run,
through the same service as the page and the API."""

import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from helpers import as_file

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engine"))
from telco_fixture import telco_frame  # noqa: E402

pytestmark = pytest.mark.django_db


@pytest.fixture
def telco(people):
    from datasets.services import dataset_create_from_upload

    content = telco_frame(600).to_csv(index=False).encode()
    return dataset_create_from_upload(
        organization=people.acme, uploaded_by=people.alice, file=as_file(content, "telco.csv"), filename="telco.csv"
    )


def test_the_command_stores_the_stated_unit(telco, people):
    from segments.models import Analysis

    call_command("run_analysis", "--dataset", str(telco.pk), "--k", "3", "--no-nlp", "--tenure-unit", "weeks")
    analysis = Analysis.objects.for_organization(people.acme).get()
    assert analysis.config["tenure_unit"] == "weeks" and analysis.config["recency_unit"] is None


def test_a_unit_for_a_date_column_is_refused_naming_the_field(people, make_dataset):
    from segments.models import Analysis

    dataset = make_dataset(people.acme, people.alice, rows=300)
    with pytest.raises(CommandError) as refused:
        call_command(
            "run_analysis", "--dataset", str(dataset.pk), "--tenure-col", "signup_date", "--tenure-unit", "months"
        )
    assert "holds dates" in str(refused.value) and "(tenure_unit)" in str(refused.value)
    assert not Analysis.objects.for_organization(people.acme).exists()


def test_the_analysis_page_offers_the_unit_and_stores_it(telco, people, client_for):
    import re

    from segments.models import Analysis

    client = client_for(people.bob, people.acme)
    page = client.get(f"/analyses/new/{telco.pk}/").content.decode()
    assert 'name="tenure_unit"' in page and 'name="recency_unit"' in page
    data = dict(re.findall(r'<select name="([^"]+)"[^>]*>.*?<option value="([^"]*)"[^>]*selected', page, re.S))
    data.update(tenure_unit="years", algorithm="kmeans", color_scheme="Plotly", k_mode="fixed", n_clusters=3)
    data.update(k_min=2, k_max=10)
    response = client.post(f"/analyses/new/{telco.pk}/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    analysis = Analysis.objects.for_organization(people.acme).get()
    assert analysis.config["tenure_unit"] == "years" and analysis.config["tenure_col"] == "tenure"
