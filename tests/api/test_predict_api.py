"""Scoring new customers: one record or a batch, errors that name the field, the model cached per process."""

import pytest
from helpers import sample_records

pytestmark = pytest.mark.django_db


def test_it_scores_one_record(api, acme_analysis, acme_dataset, model_cache):
    record = sample_records(acme_dataset, 1)[0]
    response = api(scopes=["predict"]).post(f"/api/v1/analyses/{acme_analysis.pk}/predict/", {"record": record})
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["analysis"] == acme_analysis.pk and body["count"] == 1 and "predictions" not in body
    prediction = body["prediction"]
    assert prediction["customer_id"] == record["customer_id"]
    assert prediction["segment_name"] == acme_analysis.profile(prediction["segment"])["name"]
    assert 0 <= prediction["churn_risk"] <= 1 and prediction["predicted_ltv"] is not None
    assert prediction["recommendations"] and {"action", "reason"} <= set(prediction["recommendations"][0])
    assert prediction["key_features"]
    # the record's own levels and advice beside its segment's
    assert prediction["risk_level"] in ("high", "medium", "low") and prediction["value_tier"] in (
        "high",
        "medium",
        "low",
    )
    assert prediction["engagement_level"] in ("high", "medium", "low")  # the synthetic table has engagement columns
    own = prediction["recommendations"][0]
    assert own["applies_to"] == "customer"
    assert own["reason"].startswith("own ") or own["category"] == "maintain"


def test_a_batch_comes_back_in_order_and_agrees_with_the_analysis(
    api, acme_analysis, acme_dataset, people, model_cache
):
    from segments.models import CustomerResult

    records = sample_records(acme_dataset, 50, start=100)
    response = api(scopes=["predict"]).post(f"/api/v1/analyses/{acme_analysis.pk}/predict/", {"records": records})
    body = response.json()
    assert response.status_code == 200 and body["count"] == 50 and len(body["predictions"]) == 50
    assert [p["customer_id"] for p in body["predictions"]] == [r["customer_id"] for r in records]
    stored = dict(
        CustomerResult.objects.for_organization(people.acme)
        .filter(analysis=acme_analysis)
        .values_list("customer_id", "segment")
    )
    agree = sum(p["segment"] == stored[p["customer_id"]] for p in body["predictions"])
    assert agree >= 48, f"only {agree} of 50 training customers got their own segment back"


def test_the_model_is_loaded_once_per_process(api, acme_analysis, acme_dataset, model_cache):
    client, record = api(scopes=["predict"]), sample_records(acme_dataset, 1)[0]
    for _ in range(3):
        assert client.post(f"/api/v1/analyses/{acme_analysis.pk}/predict/", {"record": record}).status_code == 200
    assert model_cache.loads == 1 and len(model_cache) == 1


def test_the_cache_is_bounded_by_memory_and_drops_the_least_recently_used(
    acme_analysis, acme_dataset, people, run_analysis
):
    from segments.predict_cache import ModelCache
    from segsaas import storage

    second = run_analysis(acme_dataset, people.alice, n_clusters=2)
    third = run_analysis(acme_dataset, people.alice, n_clusters=3)
    largest = max(storage.size(a.model_file) for a in (acme_analysis, second, third))
    cache = ModelCache(max_mb=2.5 * largest / 2**20)  # room for two models, not three
    first_model = cache.get(acme_analysis)
    assert cache.get(acme_analysis) is first_model and cache.loads == 1
    cache.get(second)
    assert len(cache) == 2 and cache.loads == 2  # many small models fit: a count of models is not the bound
    cache.get(acme_analysis)  # used again: the second is now the least recently used
    cache.get(third)
    assert len(cache) == 2 and cache.held_bytes <= cache.max_bytes and cache.loads == 3
    assert cache.get(acme_analysis) is first_model and cache.loads == 3  # kept
    cache.get(second)
    assert cache.loads == 4  # evicted, read again
    tiny = ModelCache(max_mb=0.001)  # smaller than any model: the one in use is still kept
    assert tiny.get(acme_analysis) is tiny.get(acme_analysis) and tiny.loads == 1 and len(tiny) == 1


def test_a_rewritten_model_file_is_read_again(acme_analysis):
    import os

    from django.core.files.storage import default_storage

    from segments.predict_cache import ModelCache

    cache = ModelCache()
    cache.get(acme_analysis)
    path = default_storage.path(acme_analysis.model_file)
    os.utime(path, (os.stat(path).st_atime, os.stat(path).st_mtime + 5))
    cache.get(acme_analysis)
    assert cache.loads == 2 and len(cache) == 1


def test_unknown_and_wrongly_typed_fields_are_named(api, acme_analysis, acme_dataset, model_cache):
    client, url = api(scopes=["predict"]), f"/api/v1/analyses/{acme_analysis.pk}/predict/"
    response = client.post(url, {"record": {"total_spend": 100, "favourite_colour": "blue"}})
    assert response.status_code == 400
    [message] = response.json()["error"]["details"]["record"]
    assert "unknown field 'favourite_colour'" in message
    good = sample_records(acme_dataset, 2)
    response = client.post(url, {"records": [good[0], {**good[1], "total_spend": [1, 2]}]})
    [message] = response.json()["error"]["details"]["records"]
    assert response.status_code == 400 and "record 2: field 'total_spend'" in message


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({}, "non_field_errors", "Send exactly one of “record” (an object) or “records” (a list)."),
        (
            {"record": {}, "records": [{}]},
            "non_field_errors",
            "Send exactly one of “record” (an object) or “records” (a list).",
        ),
        ({"record": [1]}, "record", "Expected an object of field → value."),
        ({"records": []}, "records", "Send at least one record."),
        ({"records": {"a": 1}}, "records", "Expected a list of records."),
        ({"records": [{}, 5]}, "records", "Record 2: expected an object of field → value."),
        ({"records": [{}] * 10_001}, "records", "At most 10,000 records per call; got 10,001."),
    ],
)
def test_malformed_requests_get_field_errors(api, queued_analysis, body, field, message):
    # the request is checked before the analysis's state (this one has not run)
    response = api(scopes=["predict"]).post(f"/api/v1/analyses/{queued_analysis.pk}/predict/", body)
    assert response.status_code == 400
    assert response.json()["error"]["details"] == {field: [message]}


def test_missing_fields_are_imputed(api, acme_analysis, model_cache):
    response = api(scopes=["predict"]).post(f"/api/v1/analyses/{acme_analysis.pk}/predict/", {"record": {"orders": 3}})
    assert response.status_code == 200 and response.json()["prediction"]["customer_id"] is None


def test_an_unfinished_analysis_cannot_predict(api, queued_analysis):
    response = api().post(f"/api/v1/analyses/{queued_analysis.pk}/predict/", {"record": {"orders": 1}})
    assert response.status_code == 409 and response.json()["error"]["code"] == "analysis_not_ready"


def test_a_batch_of_ten_thousand_is_accepted(api, acme_analysis, acme_dataset, model_cache):
    records = sample_records(acme_dataset, 100) * 100
    response = api(scopes=["predict"]).post(f"/api/v1/analyses/{acme_analysis.pk}/predict/", {"records": records})
    assert response.status_code == 200 and response.json()["count"] == 10_000
