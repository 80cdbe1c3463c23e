"""predict on an analysis of an order log: a customer is scored from their orders or from their purchase history
(frequency, recency, T, monetary) and gets a segment, P(active), expected purchases and CLV with its 80 % range,
the same figures the analysis stored for a customer with that history; customer-table fields, both shapes at once
and impossible histories are refused naming the field and what to send; the request shapes are in the schema."""

import io

import pytest
from helpers import cdnow_csv

pytestmark = pytest.mark.django_db


def _stored_customer(analysis, customer_id: str) -> dict:
    """The analysis's own figures for one customer (the per-customer Parquet file) and their history."""
    from segsaas import storage

    frame = storage.read_parquet(analysis.customers_file)
    return frame[frame["customer_id"].astype(str) == customer_id].iloc[0].to_dict()


def _orders_of(customer_id: str) -> list[dict]:
    import pandas as pd

    log = pd.read_csv(io.BytesIO(cdnow_csv()), dtype=str)
    rows = log[log["customer_id"] == customer_id]
    return [{"date": d, "amount": float(a)} for d, a in zip(rows["order_date"], rows["amount"], strict=True)]


def test_a_customers_orders_score_as_the_analysis_scored_that_customer(api, order_analysis):
    import pandas as pd

    log = pd.read_csv(io.BytesIO(cdnow_csv()), dtype=str)
    counts = log.groupby("customer_id").size()
    customer_id = str(counts[counts >= 4].index[0])  # a repeat customer
    stored = _stored_customer(order_analysis, customer_id)
    answer = api(scopes=["predict"]).post(
        f"/api/v1/analyses/{order_analysis.pk}/predict/",
        {"record": {"customer_id": customer_id, "orders": _orders_of(customer_id)}},
    )
    assert answer.status_code == 200, answer.content
    p = answer.json()["prediction"]
    assert p["customer_id"] == customer_id
    assert p["segment"] == stored["segment"]
    assert p["p_active"] == pytest.approx(stored["p_active"], rel=1e-9)
    assert p["expected_purchases"] == pytest.approx(stored["expected_purchases"], rel=1e-9)
    assert p["clv"] == pytest.approx(stored["clv"], rel=1e-9)
    # the range is simulated: the same distribution, drawn for one customer instead of all of them
    assert p["clv_low"] <= p["clv"] * 1.5 and p["clv_low"] <= p["clv_high"]
    assert p["clv_high"] == pytest.approx(stored["clv_high"], rel=0.35)
    orders = _orders_of(customer_id)
    assert p["history"]["frequency"] == len({o["date"] for o in orders}) - 1  # repeat purchase days
    assert p["history"]["total_spend"] == pytest.approx(sum(o["amount"] for o in orders))
    assert p["predicted_ltv"] is None  # the CLV is the one lifetime value of an order log
    assert p["lifetime_value"]["horizon_days"] == 365


def test_a_purchase_history_scores_like_the_same_customers_orders(api, order_analysis):
    client = api(scopes=["predict"])
    url = f"/api/v1/analyses/{order_analysis.pk}/predict/"
    customer_id = "0001"  # CDNOW's ids are zero-padded
    from_orders = client.post(url, {"record": {"orders": _orders_of(customer_id)}}).json()["prediction"]
    h = from_orders["history"]
    history = {k: h[k] for k in ("frequency", "recency", "T", "monetary", "total_spend") if h[k] is not None}
    from_history = client.post(url, {"records": [history, {"frequency": 0, "recency": 0, "T": 30}]})
    assert from_history.status_code == 200, from_history.content
    first, newcomer = from_history.json()["predictions"]
    for key in ("segment", "p_active", "expected_purchases", "clv"):
        assert first[key] == pytest.approx(from_orders[key], rel=1e-9)
    # 80 % ranges are percentiles of 100 simulated futures: the draws depend on the batch, the range barely
    assert first["clv_high"] == pytest.approx(from_orders["clv_high"], rel=0.35)
    assert "avg_repeat_spend" in newcomer["imputed_fields"] and "total_spend" in newcomer["imputed_fields"]
    assert newcomer["expected_purchases"] > 0 and newcomer["clv_low"] <= newcomer["clv_high"] and newcomer["clv"] > 0


REFUSED = [
    ({"total_spend_usd": 10, "orders": 3}, ["unknown field 'total_spend_usd'", '"orders"', '"frequency"']),
    ({"purchases": 3}, ["unknown field 'purchases'", '"recency"']),
    ({"frequency": 2, "recency": 40}, ["no 'T'", '"orders"']),
    ({"frequency": 2, "recency": 90, "T": 60, "monetary": 10}, ["longer than 'T'"]),
    ({"frequency": 2, "recency": 30, "T": 60}, ["no 'monetary'"]),
    ({"frequency": 1.5, "recency": 30, "T": 60, "monetary": 5}, ["whole number"]),
    ({"frequency": 0, "recency": 0, "T": -3}, ["'T' is -3"]),
    ({"orders": [{"date": "1997-01-02", "amount": 5}], "T": 10}, ["either “orders”"]),
    ({"orders": [{"date": "2099-01-02", "amount": 5}]}, ["after 1998-06-30"]),
    ({"orders": [{"date": "not a date", "amount": 5}]}, ["not a date"]),
    ({"orders": [{"when": "1997-01-02", "amount": 5}]}, ['"date"']),
    ({"orders": []}, ["non-empty list"]),
]


def test_what_an_order_log_analysis_cannot_score_is_refused_naming_what_to_send(api, order_analysis):
    client = api(scopes=["predict"])
    url = f"/api/v1/analyses/{order_analysis.pk}/predict/"
    for record, words in REFUSED:
        answer = client.post(url, {"record": record})
        assert answer.status_code == 400, (record, answer.content)
        message = " ".join(answer.json()["error"]["details"]["record"])
        for word in words:
            assert word in message, (record, message)
    batch = client.post(url, {"records": [{"frequency": 0, "recency": 0, "T": 5}, {"purchases": 2}]})
    assert batch.status_code == 400 and "record 2" in str(batch.json()["error"]["details"]["records"])


def test_the_order_log_request_shapes_are_in_the_openapi_schema(api):
    schema = api().client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    text = str(schema)
    assert "Order log: the customer's orders" in text and "Order log: the customer's purchase history" in text
    predict = schema["paths"]["/api/v1/analyses/{id}/predict/"]["post"]
    assert "frequency" in predict["description"] and "orders" in predict["description"]
    props = schema["components"]["schemas"]["Prediction"]["properties"]
    assert {"p_active", "expected_purchases", "clv", "clv_low", "clv_high"} <= set(props)
