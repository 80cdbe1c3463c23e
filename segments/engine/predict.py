"""predict_segment: score one record or a batch with a fitted pipeline."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping

import numpy as np
import pandas as pd

from .errors import EngineError
from .pipeline import FittedPipeline

_SCALAR = (str, int, float, bool, np.integer, np.floating, np.bool_, type(None))


def input_fields(model: FittedPipeline) -> list[str]:
    """The fields a record is scored from (model features and behaviour columns), sorted. The customer id, the
    churn label and other columns of the training table are accepted in a record but not used, so they are not
    listed as expected: a partner scoring a new customer has no churn label for it."""
    pre = model.preprocessor
    used = [e.column for e in pre.encoders_] + [c for c in pre.behaviour_.values() if c]
    return sorted(dict.fromkeys(used))


def _unknown(model: FittedPipeline, key) -> str:
    return f"unknown field {key!r} (the model expects: {', '.join(input_fields(model))})"


def _check_fields(model: FittedPipeline, records: list[Mapping]) -> None:
    schema = model.schema
    for i, rec in enumerate(records):
        if not isinstance(rec, Mapping):
            raise EngineError(f"record {i + 1}: expected an object of field -> value, got {type(rec).__name__}")
        for key, value in rec.items():
            if key not in schema:
                raise EngineError(f"record {i + 1}: {_unknown(model, key)}")
            role = schema[key]
            where = f"record {i + 1}: field {key!r}"
            if role == "date":
                if not isinstance(value, (*_SCALAR, _dt.date, _dt.datetime, pd.Timestamp, np.datetime64)) or isinstance(
                    value, bool
                ):
                    raise EngineError(f"{where}: expected a date, got {type(value).__name__}")
            elif not isinstance(value, _SCALAR):
                raise EngineError(f"{where}: expected a single value, got {type(value).__name__}")
            elif role in ("numeric", "monetary") and isinstance(value, bool):
                raise EngineError(f"{where}: expected a number, got a boolean")
            elif (
                role == "text"
                and value is not None
                and not isinstance(value, str)
                and not (isinstance(value, float) and value != value)
            ):
                raise EngineError(f"{where}: expected text, got {type(value).__name__}")


def _columns(records: list[Mapping], model: FittedPipeline) -> dict[str, list]:
    pre = model.preprocessor
    wanted = [e.column for e in pre.encoders_] + [c for c in pre.behaviour_.values() if c]
    return {c: [r.get(c) for r in records] for c in dict.fromkeys(wanted)}


def _score(model: FittedPipeline, X, beh):
    seg = model.cluster_model.predict(X).tolist()
    renumber = getattr(model, "segment_map", None)  # models saved before continuity have none
    if renumber:
        seg = [renumber.get(int(s), int(s)) for s in seg]
    churn = np.clip(model.churn_model.predict(X, beh), 0, 1).tolist()
    ltv = model.ltv_model.predict(X).tolist()
    return seg, churn, ltv


def predict_segment(model: FittedPipeline, record_or_records):
    """One dict -> one dict; a list of dicts or a DataFrame -> a list of dicts (in order).

    Each result: segment, segment_name, churn_risk, predicted_ltv, recommendations (top 3, each
    {action, category, reason, priority}) and key_features {column: value used}. Missing fields are
    imputed as in training; unknown or wrongly typed fields raise EngineError naming the field.
    """
    if not isinstance(model, FittedPipeline):
        raise EngineError("predict_segment needs a fitted pipeline (from analyze() or load_model())")
    single = isinstance(record_or_records, Mapping)
    if single:
        records = [record_or_records]
    elif isinstance(record_or_records, pd.DataFrame):
        records = None
        frame = record_or_records
        for c in frame.columns:
            if c not in model.schema:
                raise EngineError(_unknown(model, c))
    elif isinstance(record_or_records, list | tuple):
        records = list(record_or_records)
    else:
        raise EngineError(f"expected a record (dict) or a list of records, got {type(record_or_records).__name__}")
    if records is not None:
        if not records:
            return []
        _check_fields(model, records)
        cols = _columns(records, model)
        data = cols if len(records) <= 32 else pd.DataFrame({c: np.array(v, dtype=object) for c, v in cols.items()})
        n = len(records)
    else:
        n = len(frame)
        if n == 0:
            return []
        data = frame if n > 32 else {c: frame[c].tolist() for c in frame.columns}
    try:
        X, profile, beh = model.preprocessor.transform(data, profile_frame=False)
    except EngineError as exc:
        raise EngineError(str(exc).replace("column ", "field ", 1)) from None
    if n > 32:
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=1):  # API workers share the cores; see pipeline.analyze
            seg, churn, ltv = _score(model, X, beh)
    else:
        seg, churn, ltv = _score(model, X, beh)
    key_arrays: dict[str, list] = {}
    for c in model.key_features:
        if c in profile:
            key_arrays[c] = np.asarray(profile[c], dtype=float).tolist()
        elif f"{c} (days ago)" in profile:
            key_arrays[f"{c} (days ago)"] = np.asarray(profile[f"{c} (days ago)"], dtype=float).tolist()
        else:
            raw = (
                [r.get(c) for r in records]
                if records is not None
                else (frame[c].tolist() if c in frame.columns else [None] * n)
            )
            key_arrays[c] = [v if isinstance(v, str | int | float | bool | type(None)) else str(v) for v in raw]
    names = model.segment_names
    recs = model.segment_recommendations
    own = _own_advice(model, churn, ltv, profile, n)
    out = []
    for i in range(n):
        s = int(seg[i])
        ltv_i = ltv[i]
        result = {
            "segment": s,
            "segment_name": names.get(s, f"Segment {s}"),
            "churn_risk": churn[i],
            "predicted_ltv": ltv_i if ltv_i == ltv_i else None,
            "recommendations": recs.get(s, [])[:3],
            "key_features": {k: v[i] for k, v in key_arrays.items()},
        }
        if own is not None:
            result.update(_advice_fields(own, i, result["recommendations"]))
        out.append(result)
    return out[0] if single else out


def _own_advice(model: FittedPipeline, churn, ltv, profile, n: int) -> dict | None:
    """The record's own levels and recommendation, measured against the analysis's customers (the fitted
    model's advice_reference; None for a model saved before it existed)."""
    from .profiles import customer_advice

    reference = getattr(model, "advice_reference", None)
    if not reference:
        return None
    if reference.get("value_measure") == "predicted_ltv":
        value = np.asarray(ltv, dtype=float)
    else:
        column = reference.get("value_measure")
        value = np.asarray(profile.get(column, [np.nan] * n), dtype=float) if column else np.full(n, np.nan)
    readable = {c: np.asarray(profile[c], dtype=float) for c in (reference.get("engagement") or {}) if c in profile}
    return customer_advice(churn=np.asarray(churn, float), value=value, readable=readable, reference=reference)


# segment actions whose reason the record's own level contradicts ("low churn risk" for a high-risk record)
_CONTRADICTED = {
    ("risk", "high"): {"growth", "loyalty"},
    ("risk", "low"): {"retention"},
    ("value", "low"): {"loyalty", "protect"},
    ("value", "high"): {"upsell"},
}


def _advice_fields(own: dict, i: int, segment_recs: list[dict]) -> dict:
    """A result's own levels (engagement only when known) and its recommendations: the record's own first
    (`"applies_to": "customer"`, the reason citing its own figures), then its segment's."""
    from .recommend import ACTIONS

    category = {action: key for key, action in ACTIONS.items()}
    fields = {"risk_level": str(own["risk_level"][i]), "value_tier": str(own["value_tier"][i])}
    if own["engagement_level"][i] != "unknown":
        fields["engagement_level"] = str(own["engagement_level"][i])
    action = str(own["recommendation"][i])
    mine = {
        "action": action,
        "category": category.get(action, "maintain"),
        "reason": str(own["recommendation_reason"][i]),
        "priority": "high" if fields["risk_level"] == "high" else "medium",
        "applies_to": "customer",
    }
    contradicted = _CONTRADICTED.get(("risk", fields["risk_level"]), set()) | _CONTRADICTED.get(
        ("value", fields["value_tier"]), set()
    )
    others = [
        {**r, "applies_to": "segment"}
        for r in segment_recs
        if r.get("action") != action and r.get("category") not in contradicted
    ]
    fields["recommendations"] = [mine, *others][:3]
    return fields
