"""Error pages a customer may meet in production (DEBUG off): a link from another organization explains itself,
a role that may not act is told which role it has."""

import pytest

pytestmark = pytest.mark.django_db


def test_another_organizations_link_says_to_switch_organization(people, client_for, settings):
    settings.DEBUG = False
    from datasets.services import dataset_create_synthetic

    dataset = dataset_create_synthetic(
        organization=people.globex, created_by=people.charlie, rows=200, seed=3, name="Globex list", background=False
    )
    response = client_for(people.mia, people.acme).get(f"/datasets/{dataset.pk}/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "switch organization in the header" in html
    assert "another organization than <strong>Acme</strong>" in html
    assert "Globex list" not in html  # nothing about the object leaks


def test_a_viewer_is_told_which_role_stops_them(people, client_for, settings):
    settings.DEBUG = False
    response = client_for(people.vera, people.acme).get("/datasets/upload/")
    assert response.status_code == 403
    html = response.content.decode()
    assert "Your role does not allow this" in html and "(you are Viewer in Acme)" in html
