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
    """Point a valid `{id}` at real objects (deletes keep the generated id: the other examples need the objects; an
    id that is itself the schema violation of a negative case stays as generated)."""
    if not case.path_parameters or "id" not in case.path_parameters or case.method.upper() == "DELETE":
        return
    value = case.path_parameters["id"]
    if isinstance(value, int) and not isinstance(value, bool):
        case.path_parameters["id"] = analysis.pk if case.path.startswith("/api/v1/analyses/") else dataset.pk


def _strict_responses(raw: dict) -> dict:
    """The schema with every response object closed (`additionalProperties: false` where the schema lists the
    properties and says nothing else), so that a field an endpoint returns without documenting it fails the
    response-schema check. Request bodies (the `...Request` components) stay as documented."""

    def close(node):
        if isinstance(node, dict):
            if node.get("type") == "object" and "properties" in node and "additionalProperties" not in node:
                node["additionalProperties"] = False
            for value in node.values():
                close(value)
        elif isinstance(node, list):
            for value in node:
                close(value)

    for name, component in raw["components"]["schemas"].items():
        if not name.endswith("Request"):
            close(component)
    return raw


# Generated requests per operation and generation mode (valid, then schema-violating): every operation, every check,
# in about 70 s of CPU (64 s user + 5 s system measured on the 2-core machine; the wall time follows the load).
EXAMPLES = 12


def test_schemathesis_finds_no_server_errors_and_no_schema_violations(
    acme_analysis, acme_dataset, key_for, model_cache, client
):
    from django.core.signals import request_finished, request_started
    from django.core.wsgi import get_wsgi_application
    from django.db import close_old_connections

    raw = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    # Like Django's test client: the WSGI handler must not close the test transaction's connection.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        failures, called = _run_schemathesis(
            get_wsgi_application(), _strict_responses(raw), acme_analysis, acme_dataset, key_for()
        )
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    assert not failures, "\n\n".join(failures)
    statuses = {status for _, _, status in called}
    assert {200, 201, 202, 400, 404} <= statuses, statuses  # the examples reached real work, not only errors


def _run_schemathesis(app, raw, acme_analysis, acme_dataset, key):
    import schemathesis
    from schemathesis import GenerationMode
    from schemathesis.config import SchemathesisConfig

    from segsaas.settings import BASE_DIR

    # The project's schemathesis settings (the business rules a schema cannot state), as the bench uses them.
    config = SchemathesisConfig.from_path(str(BASE_DIR / "schemathesis.toml"))
    schema = schemathesis.openapi.from_dict(raw, config=config)
    schema.app, schema.location = app, "/api/schema/"
    headers = {"Authorization": f"Bearer {key}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 25
    called, failures = [], []
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _examples_of(operation, mode, headers, (acme_analysis, acme_dataset), called, failures)
    return failures, called


def _examples_of(operation, mode, headers, objects, called, failures):
    """EXAMPLES generated requests of one operation in one mode, every check on each answer; each distinct
    failure is added to `failures` (not raised: one run reports them all)."""
    from hypothesis import HealthCheck, Phase, given
    from hypothesis import settings as hypothesis_settings
    from schemathesis.core.failures import FailureGroup

    seen = set()

    @given(case=operation.as_strategy(generation_mode=mode))
    @hypothesis_settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],  # no shrinking: report each failure as it is found
        suppress_health_check=list(HealthCheck),
    )
    def check(case):
        _real_ids(case, *objects)
        try:
            response = case.call_and_validate(headers=headers)  # every check schemathesis has
        except FailureGroup as group:
            for failure in group.exceptions:
                if (type(failure).__name__, failure.title) not in seen:
                    seen.add((type(failure).__name__, failure.title))
                    failures.append(f"{operation.label} [{mode.value}]: {failure.title}\n{failure.message}"[:1500])
            return
        called.append((case.method, case.path, response.status_code))

    check()
