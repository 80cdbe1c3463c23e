"""API keys are hashed at rest, compared in constant time and never logged: keys issued, used, mistyped and revoked
appear 0 times in a full database dump (`dumpdata`) and in every log record of the run (all loggers, DEBUG).
That a revoked key stops working at once here and within API_KEY_CACHE_SECONDS elsewhere is proved in
tests/api/test_api_access.py."""

import io
import logging
import re

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def _secret_parts(key: str) -> list[str]:
    return [key, key.split(".", 1)[1]]


def test_issued_keys_appear_nowhere_in_a_database_dump_or_the_logs(people, client_for, client, caplog, settings):
    from accounts.api_auth import verified_keys
    from accounts.models import OrganizationAPIKey
    from accounts.services import api_key_create, api_key_revoke

    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="django")  # Django's own loggers stop at INFO by default
    settings.DEBUG = True  # django.db.backends then logs every SQL statement with its parameters
    verified_keys.clear()
    keys = []
    # issued by the service and on the API keys page
    for scopes in (["read"], ["read", "write", "predict", "export"]):
        keys.append(
            api_key_create(organization=people.acme, name=f"key {scopes}", scopes=scopes, created_by=people.alice)[1]
        )
    page = client_for(people.alice, people.acme).post("/api-keys/", {"name": "From the page", "scopes": ["read"]})
    assert page.status_code == 200
    shown = re.search(r'data-testid="new-key">.*?user-select-all">([^<]+)</div>', page.content.decode(), re.S)
    assert shown and shown.group(1).split(".")[0] in _prefixes(), "the page shows the new key once"
    keys.append(shown.group(1).strip())
    client.logout()
    assert len(keys) == 3 and all(len(k) > 30 for k in keys)

    # used, mistyped, revoked, used again
    for key in keys:
        assert client.get("/api/v1/datasets/", HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 200
        assert client.get("/api/v1/datasets/", HTTP_AUTHORIZATION=f"Bearer {key}x").status_code == 401
    api_key_revoke(api_key=OrganizationAPIKey.objects.for_organization(people.acme).first(), actor=people.alice)
    for key in keys:
        client.get("/api/v1/analyses/", HTTP_AUTHORIZATION=f"Bearer {key}")

    dump = io.StringIO()
    call_command("dumpdata", use_base_manager=True, stdout=dump)  # --all: every row, past the tenant fence
    dump = dump.getvalue()
    logs = "\n".join(f"{r.getMessage()} {r.args!r} {getattr(r, 'request', '')!r}" for r in caplog.records)
    # the dump and the logs are really there: the key rows, the key lookups' SQL, the refused requests
    assert "rest_framework_api_key" in dump or "accounts.organizationapikey" in dump
    assert "hashed_key" in logs and "Unauthorized: /api/v1/datasets/" in logs
    for key in keys:
        for part in _secret_parts(key):
            assert dump.count(part) == 0, "a key is readable in the database"
            assert logs.count(part) == 0, "a key was logged"
    # what is stored is the SHA-512 of the key, and the prefix that names it
    stored = OrganizationAPIKey.objects.for_organization(people.acme).values_list("prefix", "hashed_key")
    assert {p for p, _ in stored} == {k.split(".")[0] for k in keys}
    assert all(h.startswith("sha512$$") and len(h) == len("sha512$$") + 128 for _, h in stored)


def _prefixes():
    from accounts.models import OrganizationAPIKey

    return set(OrganizationAPIKey.objects.unscoped().values_list("prefix", flat=True))


def test_a_presented_key_is_compared_in_constant_time(people, client, monkeypatch):
    import rest_framework_api_key.crypto as crypto

    from accounts.api_auth import verified_keys
    from accounts.services import api_key_create

    calls = []
    real = crypto.constant_time_compare

    def spy(a, b):
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(crypto, "constant_time_compare", spy)
    verified_keys.clear()
    _, key = api_key_create(organization=people.acme, name="timed", scopes=["read"], created_by=people.alice)
    prefix, secret = key.split(".", 1)
    assert client.get("/api/v1/datasets/", HTTP_AUTHORIZATION=f"Bearer {prefix}.{'x' * len(secret)}").status_code == 401
    assert calls, "a wrong secret with a known prefix is compared with constant_time_compare"
    calls.clear()
    verified_keys.clear()
    assert client.get("/api/v1/datasets/", HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 200
    assert calls and all(a.startswith("sha512$$") and b.startswith("sha512$$") for a, b in calls)
