"""The partner's whole script, against the real Celery worker: upload a CSV, start an analysis, poll it to
completion through the API, read the profiles and customers, score new customers, download an export."""

import time

import pytest

pytestmark = [pytest.mark.worker]


def test_a_partner_script_runs_end_to_end(worker, people, api):
    from segments.engine import generate_synthetic

    client = api()
    frame = generate_synthetic(rows=1500, seed=5, include_churn_label=True)
    response = client.upload("/api/v1/datasets/", "crm-export.csv", frame.to_csv(index=False).encode())
    assert response.status_code == 201, response.json()
    dataset = response.json()
    assert dataset["status"] == "ready" and dataset["row_count"] == 1500

    response = client.post(
        "/api/v1/analyses/", {"dataset": dataset["id"], "n_clusters": None, "k_max": 5, "nlp": False}
    )
    assert response.status_code == 202, response.json()
    analysis_url = response["Location"]

    deadline, seen_stages = time.time() + 240, set()
    while True:
        body = client.get(analysis_url).json()
        seen_stages.add(body["progress"]["stage"])
        if body["status"] in ("succeeded", "failed", "cancelled"):
            break
        assert time.time() < deadline, f"still {body['status']} at {body['progress']}"
        time.sleep(0.5)
    assert body["status"] == "succeeded", body["progress"]["error"]
    assert body["progress"]["percent"] == 100.0 and 2 <= body["n_segments"] <= 5
    assert body["model_scores"]["churn"] and body["model_scores"]["ltv"]

    segments = client.get(analysis_url + "segments/").json()
    assert segments["count"] == body["n_segments"] and sum(s["size"] for s in segments["results"]) == 1500

    risky = client.get(analysis_url + "customers/", {"churn_risk_min": 0.5, "page_size": 10}).json()
    assert all(c["churn_risk"] >= 0.5 for c in risky["results"])

    records = frame.drop(columns=["churned"]).head(3).to_dict("records")
    for record in records:
        for key, value in list(record.items()):
            if hasattr(value, "isoformat"):
                record[key] = value.isoformat()[:10]
            elif value != value:  # NaN: leave the field out
                del record[key]
    scored = client.post(analysis_url + "predict/", {"records": records}).json()
    assert [p["customer_id"] for p in scored["predictions"]] == [r["customer_id"] for r in records]

    export = client.get(analysis_url + "export/", {"format": "csv"})
    assert export.status_code == 200
    assert len(b"".join(export.streaming_content).decode("utf-8-sig").strip().splitlines()) == 1501
