"""Datasets over the API: upload (201), rejections naming the problem, profile and roles, synthetic, delete."""

import pytest

from segments.engine.config import BEHAVIOUR_SETTING_KEYS, ENGAGEMENT_KEY

pytestmark = pytest.mark.django_db

CSV = (
    "customer_id;total_spend;orders;region;signup_date\n"
    + "".join(
        f"C{i:04d};{100 + i * 7.5:.2f};{i % 9 + 1};{['North', 'South', 'Ost'][i % 3]};2024-0{i % 9 + 1}-1{i % 9}\n"
        for i in range(60)
    )
).encode("latin-1")


def _datasets(org):
    from datasets.models import Dataset

    return Dataset.objects.for_organization(org)


def test_it_uploads_a_csv_and_answers_201_with_schema_profile_and_roles(api, people):
    response = api(scopes=["write"]).upload("/api/v1/datasets/", "shop.csv", CSV, name="Shop customers")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert response["Location"] == f"/api/v1/datasets/{body['id']}/"
    assert body["name"] == "Shop customers" and body["status"] == "ready" and body["source"] == "upload"
    assert body["row_count"] == 60 and body["column_count"] == 5 and body["delimiter"] == ";"
    assert [c["name"] for c in body["columns"]] == ["customer_id", "total_spend", "orders", "region", "signup_date"]
    assert body["roles"]["customer_id"] == "identifier" and body["roles"]["region"] == "categorical"
    assert {c["name"] for c in body["profile"]["columns"]} == set(body["roles"])
    assert body["original_filename"] == "shop.csv"
    dataset = _datasets(people.acme).get(pk=body["id"])
    assert dataset.uploaded_by is None and dataset.status == "ready"


@pytest.mark.parametrize(
    ("name", "content", "fragment"),
    [
        ("empty.csv", b"", "empty"),
        ("header.csv", b"a,b,c\n", "header"),
        ("dup.csv", b"a,a\n1,2\n", "a"),
        ("image.csv", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "PNG"),
    ],
)
def test_a_rejected_upload_names_the_problem_and_keeps_nothing(api, people, name, content, fragment):
    response = api(scopes=["write"]).upload("/api/v1/datasets/", name, content)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error" and list(error["details"]) == ["file"]
    assert fragment.lower() in error["details"]["file"][0].lower()
    assert not _datasets(people.acme).exists()


def test_an_upload_without_a_file_is_a_field_error(api):
    response = api().post("/api/v1/datasets/", {"name": "x"}, format="multipart")
    assert response.status_code == 400
    assert response.json()["error"]["details"] == {"file": ["No file was submitted."]}


def test_it_lists_datasets_paginated(api, acme_dataset, people):
    from datasets.services import dataset_create_synthetic

    dataset_create_synthetic(organization=people.globex, created_by=people.charlie, rows=100, seed=1, background=False)
    body = api(scopes=["read"]).get("/api/v1/datasets/").json()
    assert body["count"] == 1 and body["next"] is None
    assert body["results"][0]["id"] == acme_dataset.pk and body["results"][0]["row_count"] == 400
    assert "profile" not in body["results"][0]  # the list stays light


def test_it_shows_one_dataset_with_its_profile(api, acme_dataset):
    body = api(scopes=["read"]).get(f"/api/v1/datasets/{acme_dataset.pk}/").json()
    assert body["row_count"] == 400 and body["source"] == "synthetic"
    assert body["synthetic_params"]["seed"] == 7
    assert len(
        body["profile"]["preview"]["rows"]
        if isinstance(body["profile"]["preview"], dict)
        else body["profile"]["preview"]
    )
    assert body["behaviour_roles"].keys() == {*BEHAVIOUR_SETTING_KEYS, ENGAGEMENT_KEY}
    assert body["progress"] is None


def test_it_changes_column_roles(api, acme_dataset):
    response = api(scopes=["write"]).patch(
        f"/api/v1/datasets/{acme_dataset.pk}/", {"roles": {"city": "ignore"}, "tenure_col": "tenure_days"}
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["roles"]["city"] == "ignore" and body["roles_confirmed"] is True
    assert body["behaviour_roles"]["tenure_col"] == "tenure_days"
    acme_dataset.refresh_from_db()
    assert acme_dataset.roles["city"] == "ignore"


@pytest.mark.parametrize(
    ("body", "details"),
    [
        ({"roles": {"city": "colour"}}, {"roles": {"city": ['"colour" is not a valid choice.']}}),
        ({"roles": {"nope": "numeric"}}, {"roles": ["Column 'nope' is not in this dataset."]}),
        (
            {},
            {
                "non_field_errors": [
                    f"Send “roles” and/or {', '.join((*BEHAVIOUR_SETTING_KEYS, ENGAGEMENT_KEY))}, "
                    "or “kind” and “order_columns”."
                ]
            },
        ),
        (
            {"tenure_col": "region"},
            {"tenure_col": ["Tenure must be a numeric or date column; 'region' is categorical."]},
        ),
    ],
)
def test_bad_roles_are_refused_per_field(api, acme_dataset, body, details):
    response = api(scopes=["write"]).patch(f"/api/v1/datasets/{acme_dataset.pk}/", body)
    assert response.status_code == 400
    assert response.json()["error"]["details"] == details


def test_put_is_not_offered(api, acme_dataset):
    response = api().client.put(
        f"/api/v1/datasets/{acme_dataset.pk}/",
        {},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {api().key}",
    )
    assert response.status_code == 405


def test_it_generates_a_synthetic_dataset(api):
    response = api(scopes=["write"]).post("/api/v1/datasets/synthetic/", {"rows": 500, "seed": 3})
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "ready" and body["row_count"] == 500 and body["source"] == "synthetic"
    assert body["synthetic_params"]["seed"] == 3


def test_synthetic_rows_out_of_range_are_a_field_error(api):
    response = api(scopes=["write"]).post("/api/v1/datasets/synthetic/", {"rows": 50, "seed": -1})
    assert response.status_code == 400
    assert set(response.json()["error"]["details"]) == {"rows", "seed"}


def test_it_deletes_a_dataset_and_its_analyses(api, acme_analysis, acme_dataset, people):
    from segments.models import Analysis

    assert api(scopes=["write"]).delete(f"/api/v1/datasets/{acme_dataset.pk}/").status_code == 204
    assert not _datasets(people.acme).exists()
    assert not Analysis.objects.for_organization(people.acme).exists()


def test_an_upload_over_the_plans_limit_is_413_before_it_is_read(api, people):
    from accounts.models import Organization

    Organization.objects.filter(pk=people.acme.pk).update(max_upload_bytes=1000)
    response = api(scopes=["write"]).upload("/api/v1/datasets/", "big.csv", b"a,b\n" + b"1,2\n" * 40_000)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "request_too_large"
    assert "limit is 1,000 bytes per file" in response.json()["error"]["message"]
    assert not _datasets(people.acme).exists()
