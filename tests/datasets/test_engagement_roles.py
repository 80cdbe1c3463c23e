"""Engagement columns are detected by whole words with a direction, shown on the dataset page, confirmed or changed
there and through the API, refused with the column named when they make no sense, and carried into analyses."""

import html as html_lib
import re

import pytest

from datasets.services import DatasetError, dataset_analysis_defaults, dataset_update_roles

pytestmark = pytest.mark.django_db

CSV = (
    "customer_id,sessions_per_month,days_since_last_visit,avg_order_value,review,cart_abandonment_rate,total_spend\n"
    + "".join(
        f'C{i:03d},{i % 17},{(i * 7) % 300},{20 + i % 40}.5,"the review {i} says fine",{(i % 10) / 10},{10 * i}.5\n'
        for i in range(80)
    )
).encode()


@pytest.fixture
def dataset(upload):
    return upload(CSV, "shop.csv")


def test_engagement_columns_are_detected_with_their_direction(dataset):
    assert dataset.behaviour_roles["engagement_cols"] == {
        "sessions_per_month": "more",
        "days_since_last_visit": "less",
        "cart_abandonment_rate": "less",
    }  # not "review" ("view" is no word of it), not average order value (money)
    assert dataset_analysis_defaults(dataset)["engagement_cols"] == dataset.behaviour_roles["engagement_cols"]


def test_the_dataset_page_shows_them_and_bob_changes_one(dataset, people, client_for):
    client = client_for(people.bob, people.acme)
    page = html_lib.unescape(client.get(f"/datasets/{dataset.pk}/").content.decode())
    assert 'data-testid="engagement-roles"' in page
    selects = dict(re.findall(r'<select name="(engagement_\d+)"[^>]*data-column="([^"]+)"', page))
    assert set(selects.values()) >= {"sessions_per_month", "days_since_last_visit", "total_spend"}
    assert "review" not in selects.values()  # a text column cannot measure engagement
    columns = [c["name"] for c in dataset.schema]
    data = {f"role_{i}": dataset.roles[c] for i, c in enumerate(columns)}
    data[f"engagement_{columns.index('sessions_per_month')}"] = "more"
    data[f"engagement_{columns.index('days_since_last_visit')}"] = "less"  # abandonment rate left out
    response = client.post(f"/datasets/{dataset.pk}/roles/", data)
    assert response.status_code == 302
    dataset.refresh_from_db()
    assert dataset.behaviour_roles["engagement_cols"] == {"sessions_per_month": "more", "days_since_last_visit": "less"}
    assert dataset_analysis_defaults(dataset)["engagement_cols"] == dataset.behaviour_roles["engagement_cols"]


def test_engagement_that_makes_no_sense_is_refused_with_the_column_named(dataset, people):
    with pytest.raises(DatasetError, match="Engagement column 'review' is text") as exc:
        dataset_update_roles(dataset=dataset, roles={}, engagement={"review": "more"}, actor=people.bob)
    assert exc.value.field == "engagement_cols"
    with pytest.raises(DatasetError, match="Engagement column 'nope' is not in the data"):
        dataset_update_roles(dataset=dataset, roles={}, engagement={"nope": "more"}, actor=people.bob)
    with pytest.raises(DatasetError, match="direction 'up' is not one of more, less"):
        dataset_update_roles(dataset=dataset, roles={}, engagement={"sessions_per_month": "up"}, actor=people.bob)
    dataset.refresh_from_db()
    assert "sessions_per_month" in dataset.behaviour_roles["engagement_cols"]  # nothing changed


def test_the_api_shows_and_changes_engagement_columns(dataset, people):
    from django.test import Client

    from accounts.services import api_key_create

    _, key = api_key_create(organization=people.acme, name="t", scopes=["read", "write"], created_by=people.alice)
    client = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
    body = client.get(f"/api/v1/datasets/{dataset.pk}/").json()
    assert body["behaviour_roles"]["engagement_cols"]["days_since_last_visit"] == "less"
    response = client.patch(f"/api/v1/datasets/{dataset.pk}/", {"engagement_cols": {}}, content_type="application/json")
    assert response.status_code == 200 and response.json()["behaviour_roles"]["engagement_cols"] == {}
    bad = client.patch(
        f"/api/v1/datasets/{dataset.pk}/", {"engagement_cols": {"review": "more"}}, content_type="application/json"
    )
    assert bad.status_code == 400
    assert "engagement_cols" in bad.json()["error"]["details"]
