"""Property (hypothesis, 200 examples): whatever objects two organizations hold, every list, search, export and report
answers its caller with only the caller's own.

Each example adds random datasets, analyses, jobs, exports, invitations, API keys and audit events to Acme and Globex
(names carry a per-organization marker), picks a caller (Acme's owner, Globex's owner, or either's API key) and a few
of the reads below, with random filters and searches, and checks that no other organization's marker, id or customer
appears and that the caller's own objects do. The objects accumulate over the examples, so later examples read
longer lists. One real finished analysis per organization (made once) backs the customer searches and exports.
"""

import csv
import io
import json

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.django_db

TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=0, max_size=12)
STATUSES = ["queued", "running", "succeeded", "failed", "cancelled"]

objects_strategy = st.fixed_dictionaries(
    {
        "datasets": st.lists(TEXT, max_size=2),
        "analyses": st.lists(st.tuples(TEXT, st.sampled_from(STATUSES)), max_size=2),
        "invitations": st.lists(st.sampled_from(["viewer", "analyst"]), max_size=1),
        "keys": st.lists(TEXT, max_size=1),
        "audit": st.lists(TEXT, max_size=1),
        "exports": st.lists(st.sampled_from(["csv", "xlsx", "json"]), max_size=1),
    }
)
READS = [
    "page:/",
    "page:/datasets/",
    "page:/analyses/",
    "page:/reports/",
    "page:/members/",
    "page:/audit/",
    "page:/api-keys/",
    "api:/api/v1/datasets/",
    "api:/api/v1/analyses/",
    "search:profiles",
    "search:api-customers",
    "export:csv",
    "export:json",
    "export:api-csv",
]


def _marker(org) -> str:
    return f"ORG{org.pk}MARK"


def _add_objects(org, user, spec, serial):
    """Create the example's objects in `org`; return their ids and names."""
    from accounts.models import AuditEvent, Invitation
    from accounts.services import api_key_create
    from datasets.models import Dataset
    from exports.models import Export
    from jobs.models import Job
    from segments.models import Analysis

    mark = _marker(org)
    made = {"datasets": [], "analyses": []}
    base = Dataset.objects.for_organization(org).order_by("pk").first()
    for i, text in enumerate(spec["datasets"]):
        d = Dataset.objects.for_organization(org).create(
            name=f"{mark} d{serial}.{i} {text}", storage_key=f"prop-{org.pk}-{serial}-{i}", status="ready"
        )
        made["datasets"].append(d.pk)
    for i, (text, status) in enumerate(spec["analyses"]):
        job = Job.objects.for_organization(org).create(kind="analysis.run", status=status)
        a = Analysis.objects.for_organization(org).create(
            dataset=base, name=f"{mark} a{serial}.{i} {text}", config={}, job=job
        )
        made["analyses"].append(a.pk)
    for role in spec["invitations"]:
        Invitation.objects.for_organization(org).create(email=f"{mark.lower()}{serial}@example.com", role=role)
    for text in spec["keys"]:
        api_key_create(organization=org, name=f"{mark} k{serial} {text}"[:50], scopes=["read"], created_by=user)
    for text in spec["audit"]:
        AuditEvent.objects.for_organization(org).create(action="dataset.deleted", target=f"{mark} e{serial} {text}")
    real = Analysis.objects.for_organization(org).filter(profiles__isnull=False).exclude(profiles=[]).first()
    for fmt in spec["exports"]:
        Export.objects.for_organization(org).create(analysis=real, format=fmt)
    return made


@pytest.fixture
def two_real_analyses(people):
    from datasets.services import dataset_create_synthetic
    from jobs.services import job_execute
    from segments.services import analysis_create, analysis_default_config

    out = {}
    for org, user, seed in ((people.acme, people.alice, 3), (people.globex, people.charlie, 4)):
        dataset = dataset_create_synthetic(
            organization=org, created_by=user, rows=300, seed=seed, name=f"{_marker(org)} real", background=False
        )
        config = {**analysis_default_config(dataset), "n_clusters": 3, "nlp": False}
        analysis = analysis_create(
            organization=org, dataset=dataset, config=config, name=f"{_marker(org)} real run", created_by=user
        )
        assert job_execute(analysis.job_id) == "succeeded"
        analysis.refresh_from_db()
        out[org.pk] = analysis
    return out


def _own_customer_ids(analysis):
    from segments.models import CustomerResult

    return sorted(
        str(c)
        for c in CustomerResult.objects.for_organization(analysis.organization)
        .filter(analysis=analysis)
        .values_list("customer_id", flat=True)
    )


def test_every_list_search_export_and_report_shows_only_the_callers_objects(
    people, client_for, two_real_analyses, django_user_model
):
    from django.test import Client

    from accounts.services import api_key_create

    orgs = {"acme": (people.acme, people.alice), "globex": (people.globex, people.charlie)}
    keys = {
        name: api_key_create(organization=org, name="prop", scopes=["read", "export"], created_by=user)[1]
        for name, (org, user) in orgs.items()
    }
    own_customers = {
        org.pk: _own_customer_ids(a) for org, a in ((o, two_real_analyses[o.pk]) for o, _ in orgs.values())
    }
    counter = {"n": 0, "reads": 0}

    @given(
        acme=objects_strategy,
        globex=objects_strategy,
        caller=st.sampled_from(["acme", "globex"]),
        by_key=st.booleans(),
        reads=st.lists(st.sampled_from(READS), min_size=2, max_size=3, unique=True),
        segment=st.one_of(st.none(), st.integers(-1, 3)),
        churn_min=st.one_of(st.none(), st.floats(0, 1)),
        search=st.one_of(st.none(), TEXT),
    )
    @settings(
        max_examples=200,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
        phases=(Phase.explicit, Phase.generate, Phase.shrink),
    )
    def check(acme, globex, caller, by_key, reads, segment, churn_min, search):
        counter["n"] += 1
        serial = counter["n"]
        made = {
            "acme": _add_objects(people.acme, people.alice, acme, serial),
            "globex": _add_objects(people.globex, people.charlie, globex, serial),
        }
        org, user = orgs[caller]
        other_name = "globex" if caller == "acme" else "acme"
        other_org = orgs[other_name][0]
        other_mark = _marker(other_org)
        mine = two_real_analyses[org.pk]
        theirs = two_real_analyses[other_org.pk]
        if by_key:
            client, headers = Client(), {"HTTP_AUTHORIZATION": f"Bearer {keys[caller]}"}
        else:
            client, headers = client_for(user, org), {}
        filters = {k: v for k, v in (("segment", segment), ("churn_risk_min", churn_min)) if v is not None}
        for read in reads:
            kind, what = read.split(":", 1)
            if by_key and kind in ("page", "search") and what != "api-customers":
                continue  # pages do not take API keys
            if kind == "page":
                response = client.get(what)
                assert response.status_code == 200, (what, response.status_code)
                body = response.content.decode()
            elif kind == "api":
                response = client.get(what, {"page_size": 500}, **headers)
                assert response.status_code == 200, (what, response.status_code)
                body = response.content.decode()
                results = response.json()["results"]
                kind_of = "datasets" if "datasets" in what else "analyses"
                ids = {r["id"] for r in results}
                assert not ids & set(made[other_name][kind_of])
                assert ids >= set(made[caller][kind_of]) or response.json()["next"]
            elif what == "profiles":
                response = client.get(f"/analyses/{mine.pk}/profiles/", {**filters, "customer_id": search or ""})
                assert response.status_code in (200, 400), response.status_code
                body = response.content.decode()
                other = client.get(f"/analyses/{theirs.pk}/profiles/", filters)
                assert other.status_code == 404
            elif what == "api-customers":
                params = {**filters, "page_size": 1000, **({"customer_id": search} if search else {})}
                response = client.get(f"/api/v1/analyses/{mine.pk}/customers/", params, **headers)
                if not headers:  # a session: the same API works for the signed-in member
                    pass
                assert response.status_code in (200, 400), (response.status_code, response.content[:300])
                body = response.content.decode()
                if response.status_code == 200:
                    got = [str(r["customer_id"]) for r in response.json()["results"]]
                    assert set(got) <= set(own_customers[org.pk])
                    if not filters and not search:
                        assert sorted(got) == own_customers[org.pk]
                assert client.get(f"/api/v1/analyses/{theirs.pk}/customers/", **headers).status_code == 404
            else:  # exports: the page's download and the API's
                fmt = "json" if what == "json" else "csv"
                if what == "api-csv":
                    url = f"/api/v1/analyses/{mine.pk}/export/"
                    response = client.get(url, {"format": "csv", **filters}, **headers)
                elif by_key:
                    continue
                else:
                    url = f"/reports/analyses/{mine.pk}/download/"
                    response = client.get(url, {"format": fmt, **filters})
                assert response.status_code in (200, 302, 400), (url, response.status_code)
                if response.status_code == 302:
                    response = client.get(response["Location"], **headers)
                if response.status_code != 200:
                    continue
                raw = b"".join(response.streaming_content) if response.streaming else response.content
                body = raw.decode("utf-8-sig")
                if fmt == "csv":
                    rows = list(csv.DictReader(io.StringIO(body)))
                    assert {r["customer_id"] for r in rows} <= set(own_customers[org.pk])
                    if not filters:
                        assert sorted(r["customer_id"] for r in rows) == own_customers[org.pk]
                else:
                    json.loads(body)
                theirs_response = client.get(url.replace(str(mine.pk), str(theirs.pk)), {"format": fmt}, **headers)
                assert theirs_response.status_code == 404
            assert other_mark not in body, f"{read} as {caller} shows {other_mark}"
            assert theirs.name not in body
            counter["reads"] += 1

    check()
    assert counter["n"] >= 200 and counter["reads"] >= 200, counter
