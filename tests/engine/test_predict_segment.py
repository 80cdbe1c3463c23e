import json
import sys
import types

import joblib
import numpy as np
import pandas as pd
import pytest

from segments.engine import EngineError, FittedPipeline, load_model, predict_segment

KEYS = {
    "segment",
    "segment_name",
    "churn_risk",
    "predicted_ltv",
    "recommendations",
    "key_features",
    "imputed_fields",
    "unseen_values",
    "risk_level",
    "value_tier",
    "engagement_level",  # the synthetic table has engagement columns
}


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
        # the record's own levels equal the analysis's for the same customer (one rule, one population)
        assert (got["risk_level"], got["value_tier"], got["engagement_level"]) == (
            row["risk_level"],
            row["value_tier"],
            row["engagement_level"],
        )
        assert got["recommendations"][0]["action"] == row["recommendation"]
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
    # no engagement field given: the record's own engagement is unknown (imputed values are not evidence)
    assert set(got) == KEYS - {"engagement_level"}
    assert "orders" in got["imputed_fields"] and "total_spend" not in got["imputed_fields"]
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


def test_a_batch_of_ten_thousand_records_is_scored_in_order_like_single_records(customers, default_result):
    """Up to 32 records are read in plain Python, a larger batch with pandas (bench/engine.py --micro measures
    both): the two paths agree record for record."""
    big = pd.concat([customers] * 4, ignore_index=True).head(10_000)
    out = predict_segment(default_result.model, big)
    assert len(out) == 10_000
    for i in (0, 1, 2, 3001, 9_999):
        single = predict_segment(default_result.model, _record(big, i))
        assert out[i]["segment"] == single["segment"]
        assert out[i]["churn_risk"] == pytest.approx(single["churn_risk"], abs=1e-9)
        assert out[i]["predicted_ltv"] == pytest.approx(single["predicted_ltv"], rel=1e-9)


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


def test_a_model_saved_before_the_per_role_encoders_is_refused_with_a_rerun_message(
    tmp_path, default_result, monkeypatch
):
    old = tmp_path / "engine-1.0.joblib"
    joblib.dump({"kind": "segsaas-engine-model", "engine_version": "1.0.0", "pipeline": default_result.model}, old)
    with pytest.raises(EngineError, match=r"built by engine 1\.0\.0.*Re-run the analysis"):
        load_model(old)
    # a file naming a class that has since moved (1.0 kept its column plans in a module that is gone)
    gone = types.ModuleType("segments.engine.gone_layout")

    class ColumnPlan:
        pass

    ColumnPlan.__module__, ColumnPlan.__qualname__ = gone.__name__, "ColumnPlan"
    gone.ColumnPlan = ColumnPlan
    monkeypatch.setitem(sys.modules, gone.__name__, gone)
    moved = tmp_path / "moved.joblib"
    joblib.dump({"kind": "segsaas-engine-model", "engine_version": "1.1.0", "pipeline": ColumnPlan()}, moved)
    monkeypatch.delitem(sys.modules, gone.__name__)
    with pytest.raises(EngineError, match=r"layout this engine .* cannot read\. Re-run the analysis"):
        load_model(moved)
