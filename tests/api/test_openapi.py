"""The OpenAPI schema is valid and describes what the API does: schemathesis calls every operation with
generated requests (a valid key, ids of real objects) and finds no 5xx and no response outside the schema.
The docs pages load their assets from our own static files, never a CDN."""

import re

import pytest

pytestmark = pytest.mark.django_db


def test_the_schema_is_valid_and_documents_auth_and_errors(client):
    from drf_spectacular.validation import validate_schema

    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = response.json()
    validate_schema(schema)
    assert schema["components"]["securitySchemes"]["ApiKeyAuth"] == {
        **schema["components"]["securitySchemes"]["ApiKeyAuth"],
        "type": "http",
        "scheme": "bearer",
    }
    paths = schema["paths"]
    for path in (
        "/api/v1/datasets/",
        "/api/v1/datasets/{id}/",
        "/api/v1/datasets/synthetic/",
        "/api/v1/analyses/",
        "/api/v1/analyses/{id}/",
        "/api/v1/analyses/{id}/cancel/",
        "/api/v1/analyses/{id}/segments/",
        "/api/v1/analyses/{id}/customers/",
        "/api/v1/analyses/{id}/predict/",
    ):
        assert path in paths, path
    assert "202" in paths["/api/v1/analyses/"]["post"]["responses"]
    assert "201" in paths["/api/v1/datasets/"]["post"]["responses"]
    assert "multipart/form-data" in paths["/api/v1/datasets/"]["post"]["requestBody"]["content"]
    for path, operations in paths.items():
        for method, operation in operations.items():
            responses = operation["responses"]
            assert {"401", "403", "429"} <= set(responses), f"{method} {path} does not document auth/throttle errors"
            if "{id}" in path:
                assert "404" in responses, f"{method} {path} does not document 404"
            error = responses["403"]["content"]["application/json"]["schema"]["$ref"]
            assert error == "#/components/schemas/Error"


@pytest.mark.parametrize("url", ["/api/docs/", "/api/redoc/"])
def test_the_docs_pages_use_only_local_assets(client, url):
    html = client.get(url).content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    # /api/docs/?script= is Swagger UI's start-up script, served by the page's view (no inline script: CSP)
    local = ("/static/", "/api/schema/", "/api/docs/?script")
    assert assets and all(a.startswith(local) for a in assets), assets
    if url == "/api/redoc/":  # ReDoc's bundle would fetch its badge logo from cdn.redoc.ly: the page forbids it
        assert "img-src 'self' data: blob:" in html


def _real_ids(case, analysis, dataset):
    """Point `{id}` at real objects (deletes keep the generated id: the other examples need the objects)."""
    if case.path_parameters and "id" in case.path_parameters and case.method.upper() != "DELETE":
        case.path_parameters["id"] = analysis.pk if case.path.startswith("/api/v1/analyses/") else dataset.pk


def test_schemathesis_finds_no_server_errors_and_no_schema_violations(
    acme_analysis, acme_dataset, key_for, model_cache
):
    from django.core.signals import request_finished, request_started
    from django.core.wsgi import get_wsgi_application
    from django.db import close_old_connections

    # Like Django's test client: the WSGI handler must not close the test transaction's connection.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        _run_schemathesis(get_wsgi_application(), acme_analysis, acme_dataset, key_for())
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def _run_schemathesis(app, acme_analysis, acme_dataset, key):
    import schemathesis
    from hypothesis import HealthCheck, given
    from hypothesis import settings as hypothesis_settings
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import response_schema_conformance

    schema = schemathesis.openapi.from_wsgi("/api/schema/", app)
    headers = {"Authorization": f"Bearer {key}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 12
    called = []
    for operation in operations:

        @given(case=operation.as_strategy())
        @hypothesis_settings(
            max_examples=5, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck)
        )
        def check(case):
            _real_ids(case, acme_analysis, acme_dataset)
            response = case.call_and_validate(headers=headers, checks=[not_a_server_error, response_schema_conformance])
            called.append((case.method, case.path, response.status_code))

        check()
    statuses = {status for _, _, status in called}
    assert 200 in statuses and 400 in statuses, statuses  # the examples reached real work, not only errors
