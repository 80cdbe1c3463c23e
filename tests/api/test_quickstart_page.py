"""The API quick start page: in the user menu, with this server's API address and the organization's slug."""

import pytest

pytestmark = pytest.mark.django_db


def test_the_quick_start_shows_the_api_address_and_organization(people, client_for):
    client = client_for(people.alice, people.acme)
    html = client.get("/api/quickstart/").content.decode()
    assert "API=http://testserver/api/v1" in html
    assert f"--organization {people.acme.slug}" in html
    assert 'href="/api-keys/"' in html  # Alice may create keys
    assert 'href="/api/docs/"' in html and 'href="/api/redoc/"' in html
    assert 'href="/api/quickstart/"' in client.get("/").content.decode()  # user menu


def test_a_viewer_is_told_to_ask_for_a_key(people, client_for):
    html = client_for(people.vera, people.acme).get("/api/quickstart/").content.decode()
    assert "Ask an owner or admin of Acme" in html and 'href="/api-keys/"' not in html


def test_the_quick_start_needs_a_login(client):
    response = client.get("/api/quickstart/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
