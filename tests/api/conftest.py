"""API fixtures: keys per scope, a client that sends them, and a small finished analysis made by the
real services and engine (run in-process through the jobs machinery, no mocks)."""

import pytest

ALL_SCOPES = ["read", "write", "predict", "export"]


@pytest.fixture
def key_for(people):
    """A new API key of `org` with these scopes (the secret string)."""
    from accounts.services import api_key_create

    def make(org=None, scopes=ALL_SCOPES):
        return api_key_create(
            organization=org or people.acme, name="Partner CRM", scopes=scopes, created_by=people.alice
        )[1]

    return make


class Api:
    """Test client calls with `Authorization: Bearer <key>` and JSON bodies."""

    def __init__(self, client, key):
        self.client, self.key = client, key

    def _headers(self):
        return {"HTTP_AUTHORIZATION": f"Bearer {self.key}"} if self.key else {}

    def get(self, url, data=None):
        return self.client.get(url, data, **self._headers())

    def delete(self, url):
        return self.client.delete(url, **self._headers())

    def post(self, url, data=None, **extra):
        if "format" in extra or "content_type" in extra:
            return self.client.post(url, data, **extra, **self._headers())
        return self.client.post(
            url, data if data is not None else {}, content_type="application/json", **self._headers()
        )

    def patch(self, url, data):
        return self.client.patch(url, data, content_type="application/json", **self._headers())

    def upload(self, url, filename, content: bytes, **fields):
        from django.core.files.uploadedfile import SimpleUploadedFile

        return self.client.post(url, {"file": SimpleUploadedFile(filename, content), **fields}, **self._headers())


@pytest.fixture
def api(client, key_for):
    """`api()` = Acme with every scope; `api(scopes=[...], org=...)` for others; `api(key=None)` anonymous."""
    from django.test import Client

    def make(scopes=ALL_SCOPES, org=None, key="new"):
        return Api(Client(), key_for(org, scopes) if key == "new" else key)

    return make


@pytest.fixture
def acme_dataset(people):
    """A 400-customer synthetic dataset of Acme, made by the datasets service (inline)."""
    from datasets.services import dataset_create_synthetic

    return dataset_create_synthetic(
        organization=people.acme, created_by=people.alice, rows=400, seed=7, name="Acme customers", background=False
    )


def _finished_analysis(dataset, user, **config):
    """Create an analysis through the service and run its job in this process (the worker's code path)."""
    from jobs.services import job_execute
    from segments.models import Analysis
    from segments.services import analysis_create, analysis_default_config

    settings = {**analysis_default_config(dataset), "n_clusters": 3, "nlp": False, **config}
    analysis = analysis_create(
        organization=dataset.organization, dataset=dataset, config=settings, name="Acme segments", created_by=user
    )
    outcome = job_execute(analysis.job_id)
    assert outcome == "succeeded", analysis.job.error
    return Analysis.objects.for_organization(dataset.organization).select_related("job").get(pk=analysis.pk)


@pytest.fixture
def acme_analysis(acme_dataset, people):
    return _finished_analysis(acme_dataset, people.alice)


@pytest.fixture
def run_analysis():
    """`run_analysis(dataset, user, **config)` makes another finished analysis (see `_finished_analysis`)."""
    return _finished_analysis


@pytest.fixture
def queued_analysis(acme_dataset, people):
    """An analysis that was started but has not run (no worker in these tests): cheap, for request checks."""
    from segments.services import analysis_create, analysis_default_config

    return analysis_create(
        organization=people.acme,
        dataset=acme_dataset,
        name="Waiting",
        config={**analysis_default_config(acme_dataset), "nlp": False},
        created_by=people.alice,
    )


@pytest.fixture
def model_cache():
    from segments.predict_cache import model_cache

    model_cache.clear()
    yield model_cache
    model_cache.clear()


@pytest.fixture
def order_analysis(people):
    """The CDNOW sample uploaded as an order log, analysed in this process (the worker's code path)."""
    from helpers import cdnow_csv, upload_orders

    from jobs.services import job_execute
    from segments.models import Analysis
    from segments.services import analysis_create

    dataset = upload_orders(people.acme, people.alice, cdnow_csv())
    analysis = analysis_create(
        organization=people.acme, dataset=dataset, settings={"n_clusters": 3, "nlp": False}, created_by=people.alice
    )
    assert job_execute(analysis.job_id) == "succeeded"
    return Analysis.objects.for_organization(people.acme).select_related("job", "dataset").get(pk=analysis.pk)
