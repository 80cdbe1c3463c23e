"""Density clustering over the API: HDBSCAN needs no setting; DBSCAN takes a radius (eps) for those who ask, and
a radius with any other algorithm is refused, naming the field."""

import pytest

pytestmark = pytest.mark.django_db


def test_hdbscan_and_dbscan_with_a_given_eps_are_accepted(api, acme_dataset):
    response = api().post("/api/v1/analyses/", {"dataset": acme_dataset.pk, "algorithm": "hdbscan", "nlp": False})
    assert response.status_code == 202, response.json()
    assert response.json()["config"]["algorithm"] == "hdbscan"
    response = api().post(
        "/api/v1/analyses/", {"dataset": acme_dataset.pk, "algorithm": "dbscan", "dbscan_eps": 1.5, "nlp": False}
    )
    assert response.status_code == 202, response.json()
    assert response.json()["config"]["dbscan_eps"] == 1.5


def test_a_radius_with_another_algorithm_is_refused_naming_the_field(api, acme_dataset):
    response = api().post("/api/v1/analyses/", {"dataset": acme_dataset.pk, "algorithm": "kmeans", "dbscan_eps": 1.5})
    assert response.status_code == 400
    details = response.json()["error"]["details"]
    assert list(details) == ["dbscan_eps"] and "DBSCAN" in details["dbscan_eps"][0]
