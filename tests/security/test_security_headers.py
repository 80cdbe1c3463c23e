"""Every page (each URL of the walk, as its owner, as a stranger and anonymously) carries the Content-Security-Policy
with `object-src 'none'`, `base-uri 'none'`, `frame-ancestors 'none'` and scripts only from this site, and no page
has an inline script or an inline event handler for that policy to block. The other headers are already checked by
`manage.py check --deploy` (tests/test_health_and_settings.py)."""

import re

import pytest
from route_walk import every_route, make_sample_objects, sample_url

REQUIRED = {
    "object-src": "'none'",
    "base-uri": "'none'",
    "frame-ancestors": "'none'",
    "script-src": "'self'",
    "default-src": "'self'",
}
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I)
EVENT_HANDLER = re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.I)


def policy_of(response) -> dict[str, str]:
    header = response.get("Content-Security-Policy", "")
    return {d.split()[0]: " ".join(d.split()[1:]) for d in header.split(";") if d.strip()}


def test_policy_parts_are_found_by_the_checks():
    assert INLINE_SCRIPT.search("<script>alert(1)</script>")
    assert not INLINE_SCRIPT.search('<script src="/static/js/x.js"></script>')
    assert not INLINE_SCRIPT.search('<script type="application/json" id="f">{}</script>')
    assert EVENT_HANDLER.search('<form method="post" onsubmit="return confirm(1)">')
    assert not EVENT_HANDLER.search('<form data-confirm="Delete?">')


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["owner", "staff", "stranger", "anonymous"])
def test_every_page_sends_the_policy_and_has_no_inline_script(who, people, client_for, client):
    make_sample_objects(people.acme, people.alice)
    if who in ("owner", "staff"):
        if who == "staff":  # the Django admin's pages too
            people.alice.is_staff = people.alice.is_superuser = True
            people.alice.save()
        client = client_for(people.alice, people.acme)
    elif who == "stranger":
        client = client_for(people.charlie, people.globex)
    html_pages = 0
    for route in every_route():
        url = sample_url(route, people.acme, people.alice)
        response = client.get(url)
        policy = policy_of(response)
        for directive, value in REQUIRED.items():
            assert policy.get(directive) == value, f"GET {url} ({who}, {response.status_code}): {directive} {policy}"
        assert "'unsafe-eval'" not in response.get("Content-Security-Policy", "")
        if response.get("Content-Type", "").startswith("text/html") and hasattr(response, "content"):
            html = response.content.decode("utf-8", "replace")
            assert not INLINE_SCRIPT.search(html), f"GET {url}: inline script {INLINE_SCRIPT.search(html).group()}"
            assert not EVENT_HANDLER.search(html), (
                f"GET {url}: inline event handler {EVENT_HANDLER.search(html).group()}"
            )
            html_pages += 1
    assert html_pages > 20
