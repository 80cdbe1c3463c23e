"""predict_segment says what it imputed and what it never saw, and refuses records that cannot describe a
customer: nothing usable, negative counts or money, dates in the future, a last purchase before the customer
joined. Each refusal names the record, the field and the value."""

import pandas as pd
import pytest

from segments.engine import EngineError, predict_segment


def _record(df, i):
    row = df.iloc[i].to_dict()
    return {k: (None if v != v else (str(v) if hasattr(v, "isoformat") else v)) for k, v in row.items()}


def test_every_result_lists_imputed_fields_and_unseen_values(customers, default_result):
    full = predict_segment(default_result.model, _record(customers.dropna(), 0))
    assert full["imputed_fields"] == [] and full["unseen_values"] == {}
    partial = predict_segment(default_result.model, {"total_spend": 250.0, "orders": 4, "region": "Atlantis"})
    assert "tenure_days" in partial["imputed_fields"] and "signup_date" in partial["imputed_fields"]
    assert "total_spend" not in partial["imputed_fields"]
    assert partial["unseen_values"] == {"region": "Atlantis"}


def test_imputed_fields_never_appear_in_key_features(default_result):
    model = default_result.model
    got = predict_segment(model, {"total_spend": 250.0})
    sources = {k.removesuffix(" (days ago)") for k in got["key_features"]}
    assert not sources & set(got["imputed_fields"])
    assert set(model.key_features) - {"total_spend"}, "the model has other key features to leave out"
    assert sources <= {"total_spend"}


def test_a_record_with_no_usable_field_is_refused(default_result):
    for empty in ({}, {"customer_id": "X-1"}, {"total_spend": None, "region": ""}):
        with pytest.raises(EngineError, match="record 1: no usable field") as err:
            predict_segment(default_result.model, empty)
        assert err.value.field == "record"


def test_a_negative_count_or_amount_is_refused_naming_field_and_value(default_result):
    with pytest.raises(EngineError, match=r"record 1: field 'orders' is -3: a negative value") as err:
        predict_segment(default_result.model, {"orders": -3, "total_spend": 100.0})
    assert err.value.field == "orders"
    with pytest.raises(EngineError, match=r"record 2: field 'total_spend' is -5.5: a negative amount of money"):
        predict_segment(default_result.model, [{"total_spend": 10.0}, {"total_spend": -5.5}])


def test_a_date_after_the_reference_date_is_refused(default_result):
    reference = default_result.metrics["reference_date"]
    with pytest.raises(
        EngineError, match=rf"field 'signup_date' is '2099-01-01', after the reference date {reference}"
    ):
        predict_segment(default_result.model, {"signup_date": "2099-01-01", "total_spend": 50.0})


def test_a_recency_longer_than_the_tenure_is_refused(customers, default_result):
    behaviour = default_result.metrics["behaviour_roles"]
    assert behaviour["recency_col"] == "last_purchase_date" and behaviour["tenure_col"] == "tenure_days"
    last = (pd.Timestamp(default_result.metrics["reference_date"]) - pd.Timedelta(days=200)).date().isoformat()
    assert last >= pd.to_datetime(customers["last_purchase_date"]).min().date().isoformat()
    with pytest.raises(EngineError, match="recency cannot be longer than tenure") as err:
        predict_segment(default_result.model, {"last_purchase_date": last, "tenure_days": 30})
    assert err.value.field == "last_purchase_date"
    assert f"'{last}'" in str(err.value) and "'tenure_days' = 30" in str(err.value)
    # the same dates, consistent, are scored
    ok = predict_segment(default_result.model, {"last_purchase_date": last, "tenure_days": 3_000})
    assert ok["imputed_fields"] and "last_purchase_date" not in ok["imputed_fields"]


def test_several_refusals_in_a_batch_are_all_reported(default_result):
    with pytest.raises(EngineError) as err:
        predict_segment(default_result.model, [{"orders": -1}, {"total_spend": 3.0}, {"total_spend": -2.0}])
    messages = [m for ms in err.value.details.values() for m in ms]
    assert any(m.startswith("record 1:") for m in messages) and any(m.startswith("record 3:") for m in messages)
