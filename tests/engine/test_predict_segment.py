import json

import joblib
import numpy as np
import pandas as pd
import pytest

from segments.engine import EngineError, FittedPipeline, load_model, predict_segment

KEYS = {"segment", "segment_name", "churn_risk", "predicted_ltv", "recommendations", "key_features"}


def _record(df, i):
    rec = df.iloc[i].to_dict()
    out = {}
    for k, v in rec.items():
        if isinstance(v, float) and np.isnan(v):
            v = None
        elif isinstance(v, pd.Timestamp):
            v = v.strftime("%Y-%m-%d")
        out[k] = v
    return out


def test_single_record_matches_the_analysis(customers, default_result):
    for i in (0, 7, 42):
        got = predict_segment(default_result.model, _record(customers, i))
        row = default_result.customers.iloc[i]
        assert set(got) == KEYS
        assert got["segment"] == row["segment"]
        assert got["segment_name"] == row["segment_name"]
        assert got["churn_risk"] == pytest.approx(row["churn_risk"], abs=1e-5)
        assert got["predicted_ltv"] == pytest.approx(row["predicted_ltv"], abs=0.01)
        assert 1 <= len(got["recommendations"]) <= 3
        assert got["key_features"]
        json.dumps(got)


def test_batch_of_records_and_dataframe_give_results_in_order(customers, default_result):
    records = [_record(customers, i) for i in range(50)]
    as_list = predict_segment(default_result.model, records)
    as_frame = predict_segment(default_result.model, customers.head(50))
    assert [r["segment"] for r in as_list] == list(default_result.customers["segment"].head(50))
    assert [r["segment"] for r in as_frame] == [r["segment"] for r in as_list]
    assert predict_segment(default_result.model, []) == []


def test_missing_fields_are_imputed(default_result):
    got = predict_segment(default_result.model, {"total_spend": 120.0})
    assert set(got) == KEYS
    assert 0 <= got["churn_risk"] <= 1


def test_unknown_field_is_named(default_result):
    with pytest.raises(EngineError, match="unknown field 'favourite_colour'"):
        predict_segment(default_result.model, {"favourite_colour": "blue"})


@pytest.mark.parametrize(
    "field,value,message",
    [
        ("total_spend", "lots", "field 'total_spend'.*not a number"),
        ("orders", [1, 2], "field 'orders'.*single value"),
        ("signup_date", "31/31/2024", "field 'signup_date'.*date"),
        ("review", 12, "field 'review'.*text"),
        ("region", {"a": 1}, "field 'region'"),
    ],
)
def test_wrongly_typed_field_is_named(default_result, field, value, message):
    with pytest.raises(EngineError, match=message):
        predict_segment(default_result.model, {field: value})


def test_single_record_is_fast_and_batch_of_10k_under_a_second(customers, default_result):
    import time

    rec = _record(customers, 3)
    predict_segment(default_result.model, rec)
    t = time.perf_counter()
    for _ in range(50):
        predict_segment(default_result.model, rec)
    assert (time.perf_counter() - t) / 50 < 0.025  # typical ~2 ms on an idle box; generous for a loaded one
    big = pd.concat([customers] * 4, ignore_index=True).head(10_000)
    t = time.perf_counter()
    out = predict_segment(default_result.model, big)
    assert len(out) == 10_000
    assert time.perf_counter() - t < 5.0  # typical ~0.2 s on an idle box


def test_model_round_trips_through_one_joblib_file(tmp_path, customers, default_result):
    path = tmp_path / "model.joblib"
    default_result.model.save(path)
    loaded = load_model(path)
    assert isinstance(loaded, FittedPipeline)
    assert loaded.schema["total_spend"] == "monetary"
    assert predict_segment(loaded, _record(customers, 5)) == predict_segment(
        default_result.model, _record(customers, 5)
    )


def test_loading_something_else_or_another_version_fails_clearly(tmp_path, default_result):
    other = tmp_path / "other.joblib"
    joblib.dump({"hello": "world"}, other)
    with pytest.raises(EngineError, match="not a SegSaaS model"):
        load_model(other)
    junk = tmp_path / "junk.joblib"
    junk.write_text("not a pickle")
    with pytest.raises(EngineError, match="not a SegSaaS model"):
        load_model(junk)
    old = tmp_path / "old.joblib"
    joblib.dump({"kind": "segsaas-engine-model", "engine_version": "0.1.0", "pipeline": default_result.model}, old)
    with pytest.raises(EngineError, match=r"engine 0\.1\.0"):
        load_model(old)
    with pytest.raises(EngineError, match="does not exist"):
        load_model(tmp_path / "missing.joblib")
