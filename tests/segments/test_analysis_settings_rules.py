"""The rules about an analysis's settings live in one place (`segments.services.analysis_create`): the page, the
API and the `run_analysis` command refuse the same bad settings with the same words, up front, and store
nothing."""

import html as html_lib
import re

import pytest
from django.core.management import CommandError, call_command

from segments.models import Analysis

# (what is wrong, roles, behaviour columns, settings, the field at fault, the message)
BAD_SETTINGS = [
    (
        "two customer ids",
        {"customer_id": "identifier", "city": "identifier"},
        {},
        {},
        "roles",
        "Only one customer id column, please: 'customer_id' and 'city' both have that role",
    ),
    (
        "two churn labels",
        {"churned": "churn_label", "device": "churn_label"},
        {},
        {},
        "roles",
        "Only one churn label column, please: 'device' and 'churned' both have that role",
    ),
    (
        "a categorical recency column",
        {},
        {"recency_col": "region"},
        {},
        "recency_col",
        "Recency must be a numeric or date column; 'region' is categorical.",
    ),
    (
        "a frequency column made text in the same request",
        {"orders": "text"},
        {"frequency_col": "orders"},
        {},
        "frequency_col",
        "Frequency must be a numeric or date column; 'orders' is text.",
    ),
    (
        "a duration unit for a date column",
        {},
        {"tenure_col": "signup_date", "tenure_unit": "months"},
        {},
        "tenure_unit",
        "'signup_date' holds dates: its tenure unit is “date”, not 'months'.",
    ),
    (
        "a k range upside down",
        {},
        {},
        {"k_min": 8, "k_max": 3},
        "k_max",
        "The range of k must go from a smaller to a larger number: 8 to 3 does not.",
    ),
]
IDS = [case[0] for case in BAD_SETTINGS]


@pytest.fixture
def dataset(people, make_dataset):
    return make_dataset(people.acme, people.alice, rows=300)


def _page_post(client, dataset, roles, behaviour, settings):
    """The analysis form as a person fills it: every column's select, the behaviour selects, the settings."""
    page = client.get(f"/analyses/new/{dataset.pk}/").content.decode()
    data = {
        name: value
        for name, value in re.findall(
            r'<select name="([^"]+)"[^>]*>.*?<option value="([^"]*)"[^>]*selected', page, re.S
        )
    }
    columns = dataset.column_names
    data.update({f"role_{columns.index(c)}": role for c, role in roles.items()})
    data.update(behaviour)
    data.update(algorithm="kmeans", color_scheme="Plotly", k_mode="auto", k_min=2, k_max=10)
    data.update(settings)
    return client.post(f"/analyses/new/{dataset.pk}/", data)


@pytest.mark.parametrize(("case", "roles", "behaviour", "settings", "field", "message"), BAD_SETTINGS, ids=IDS)
def test_the_page_refuses_bad_settings_beside_the_field(
    people, client_for, dataset, case, roles, behaviour, settings, field, message
):
    response = _page_post(client_for(people.bob, people.acme), dataset, roles, behaviour, settings)
    assert response.status_code == 200  # the form again, not a redirect to a queued run
    assert message in html_lib.unescape(response.content.decode())
    assert not Analysis.objects.for_organization(people.acme).exists()


@pytest.mark.parametrize(("case", "roles", "behaviour", "settings", "field", "message"), BAD_SETTINGS, ids=IDS)
def test_the_api_refuses_bad_settings_with_the_same_words(
    people, client_for, dataset, case, roles, behaviour, settings, field, message
):
    body = {"dataset": dataset.pk, **behaviour, **settings}
    if roles:
        body["roles"] = roles
    response = client_for(people.bob, people.acme).post("/api/v1/analyses/", body, content_type="application/json")
    assert response.status_code == 400, response.json()
    details = response.json()["error"]["details"]
    assert any(message in m for m in details[field]), details
    assert not Analysis.objects.for_organization(people.acme).exists()


@pytest.mark.parametrize(("case", "roles", "behaviour", "settings", "field", "message"), BAD_SETTINGS, ids=IDS)
def test_the_command_refuses_bad_settings_with_the_same_words(
    people, dataset, case, roles, behaviour, settings, field, message
):
    args = ["--dataset", str(dataset.pk)]
    for column, role in roles.items():
        args += ["--role", f"{column}={role}"]
    for key, value in behaviour.items():  # --recency-col, --tenure-unit, ...
        args += ["--" + key.replace("_", "-"), value]
    for key, value in settings.items():
        args += ["--" + key.replace("_", "-"), str(value)]
    with pytest.raises(CommandError) as refused:
        call_command("run_analysis", *args)
    assert message in str(refused.value) and f"({field})" in str(refused.value)
    assert not Analysis.objects.for_organization(people.acme).exists()


def test_a_dataset_with_several_identifier_columns_runs_with_the_first_as_customer_id(people, dataset):
    """The dataset may describe several identifying columns (names, e-mails); an analysis takes the first as the
    customer id and leaves the others out, and a request naming one of them as the id takes that one instead."""
    from datasets.services import dataset_update_roles
    from segments.services import analysis_config

    dataset_update_roles(dataset=dataset, roles={"city": "identifier"})
    config = analysis_config(dataset=dataset)
    assert config["id_col"] == "customer_id" and "city" in config["ignore_cols"]
    config = analysis_config(dataset=dataset, roles={"city": "identifier"})
    assert config["id_col"] == "city" and "customer_id" in config["ignore_cols"]
