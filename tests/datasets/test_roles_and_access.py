"""Roles confirmed on the page become analysis defaults; who may see and change datasets; tenant isolation."""

import re

import pytest
from helpers import as_file, stored_files

from datasets.services import DatasetError, dataset_analysis_defaults, dataset_update_roles

CSV = (
    "customer_id,email,age,total_spend,region,signup_date,last_order_date,orders,review,churned\n"
    + "".join(
        f"C{i:03d},p{i}@example.com,{20 + i % 50},{10 * i}.5,{'NSEW'[i % 4]},2023-0{1 + i % 9}-1{i % 10},"
        f'2024-0{1 + i % 9}-2{i % 10},{i % 12},"the service was good number {i}",{i % 2}\n'
        for i in range(60)
    )
).encode()


@pytest.fixture
def dataset(upload):
    return upload(CSV, "crm.csv")


def test_inferred_roles_already_give_analysis_defaults(dataset):
    defaults = dataset_analysis_defaults(dataset)
    assert defaults["id_col"] == "customer_id"
    assert defaults["churn_label_col"] == "churned"
    assert "region" in defaults["categorical_cols"] and "review" in defaults["text_cols"]
    assert set(defaults) == {
        "categorical_cols",
        "text_cols",
        "date_cols",
        "numeric_cols",
        "monetary_cols",
        "id_col",
        "ignore_cols",
        "churn_label_col",
        "recency_col",
        "frequency_col",
        "tenure_col",
        "recency_unit",
        "tenure_unit",
        "charge_col",
        "charge_period",
        "engagement_cols",
    }


def test_bob_changes_a_role_on_the_page_and_it_becomes_the_analysis_default(dataset, people, client_for):
    client = client_for(people.bob, people.acme)
    columns = [c["name"] for c in dataset.schema]
    data = {f"role_{i}": dataset.roles[c] for i, c in enumerate(columns)}
    data[f"role_{columns.index('age')}"] = "categorical"
    data[f"role_{columns.index('email')}"] = "ignore"
    data.update(recency_col="last_order_date", frequency_col="orders", tenure_col="signup_date")
    response = client.post(f"/datasets/{dataset.pk}/roles/", data)
    assert response.status_code == 302
    dataset.refresh_from_db()
    assert dataset.roles_confirmed
    defaults = dataset_analysis_defaults(dataset)
    assert "age" in defaults["categorical_cols"] and "age" not in defaults["numeric_cols"]
    assert "email" in defaults["ignore_cols"]
    assert (defaults["recency_col"], defaults["frequency_col"], defaults["tenure_col"]) == (
        "last_order_date",
        "orders",
        "signup_date",
    )
    from accounts.models import AuditEvent

    assert AuditEvent.objects.for_organization(people.acme).filter(action="dataset.roles_updated").exists()


def test_roles_that_make_no_sense_are_refused_with_the_column_named(dataset, people):
    with pytest.raises(
        DatasetError, match=re.escape("Only one column can be the churn label; 'orders', 'churned' all are.")
    ):
        dataset_update_roles(dataset=dataset, roles={"orders": "churn_label"}, behaviour_roles=None, actor=people.bob)
    with pytest.raises(
        DatasetError, match=re.escape("Recency must be a numeric or date column; 'region' is categorical.")
    ):
        dataset_update_roles(dataset=dataset, roles={}, behaviour_roles={"recency_col": "region"}, actor=people.bob)
    with pytest.raises(DatasetError, match=re.escape("'nope' is not a role")):
        dataset_update_roles(dataset=dataset, roles={"age": "nope"}, behaviour_roles=None, actor=people.bob)
    with pytest.raises(DatasetError, match=re.escape("Column 'ghost' is not in this dataset.")):
        dataset_update_roles(dataset=dataset, roles={"ghost": "numeric"}, behaviour_roles=None, actor=people.bob)
    dataset.refresh_from_db()
    assert not dataset.roles_confirmed


def test_a_second_identifier_is_ignored_by_the_analysis(dataset, people):
    dataset_update_roles(dataset=dataset, roles={"email": "identifier"}, behaviour_roles=None, actor=people.bob)
    defaults = dataset_analysis_defaults(dataset)
    assert defaults["id_col"] == "customer_id" and "email" in defaults["ignore_cols"]


def test_vera_the_viewer_sees_datasets_but_cannot_change_them(dataset, people, client_for):
    client = client_for(people.vera, people.acme)
    assert client.get("/datasets/").status_code == 200
    page = client.get(f"/datasets/{dataset.pk}/")
    assert page.status_code == 200 and b"Save roles" not in page.content
    assert client.get("/datasets/upload/").status_code == 403
    assert client.post("/datasets/upload/", {"file": as_file(CSV, "x.csv")}).status_code == 403
    assert client.get("/datasets/synthetic/").status_code == 403
    assert client.post(f"/datasets/{dataset.pk}/roles/", {}).status_code == 403
    assert client.post(f"/datasets/{dataset.pk}/delete/").status_code == 403
    assert client.get(f"/datasets/{dataset.pk}/original/").status_code == 403  # no export permission
    dataset.refresh_from_db()
    assert dataset.pk and not dataset.roles_confirmed


def test_it_hides_other_organizations_datasets(dataset, people, client_for):
    client = client_for(people.charlie, people.globex)
    assert dataset.name not in client.get("/datasets/").content.decode()
    for url in (f"/datasets/{dataset.pk}/", f"/datasets/{dataset.pk}/delete/", f"/datasets/{dataset.pk}/original/"):
        assert client.get(url).status_code == 404, url
    for url in (f"/datasets/{dataset.pk}/roles/", f"/datasets/{dataset.pk}/delete/"):
        assert client.post(url, {}).status_code == 404, url
    assert len(stored_files(people.acme)) == 2  # untouched


def test_mia_sees_each_organizations_datasets_only_while_working_in_it(dataset, people, client_for):
    client = client_for(people.mia, people.globex)
    assert client.get(f"/datasets/{dataset.pk}/").status_code == 404
    client = client_for(people.mia, people.acme)
    assert client.get(f"/datasets/{dataset.pk}/").status_code == 200


def test_the_original_can_be_downloaded_by_exporters_and_is_audited(dataset, people, client_for):
    response = client_for(people.bob, people.acme).get(f"/datasets/{dataset.pk}/original/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == CSV
    assert 'filename="crm.csv"' in response["Content-Disposition"]
    from accounts.models import AuditEvent

    assert AuditEvent.objects.for_organization(people.acme).filter(action="dataset.downloaded").count() == 1
