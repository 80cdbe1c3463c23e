"""predict_segment: score one record or a batch with a fitted pipeline."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping

import numpy as np
import pandas as pd

from .coerce import is_missing_token
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


def score_rows(model: FittedPipeline, X, beh, profile, *, known_churn=None):
    """THE scoring of preprocessed rows (`model.preprocessor.transform(...)` -> X, profile, beh) by a fitted model:
    (segments, churn risks, predicted LTVs, own advice). `predict_segment` and the Dask path's partitions
    (`dask_path.score_partition`) both score through it.

    `known_churn` = (positions in these rows, scores): rows whose churn risk is already known (the out-of-fold
    score a supervised churn model's training customers got) keep it, and their own advice is measured on it.
    Own advice is the dict of `profiles.customer_advice` (None for a model saved before `advice_reference`)."""
    seg = model.cluster_model.predict(X).tolist()
    renumber = getattr(model, "segment_map", None)  # models saved before continuity have none
    if renumber:
        seg = [renumber.get(int(s), int(s)) for s in seg]
    churn = np.clip(model.churn_model.predict(X, beh), 0, 1).tolist()
    ltv = model.ltv_model.predict(X).tolist()
    if known_churn is not None and len(known_churn[0]):
        churn = np.asarray(churn, float)
        churn[np.asarray(known_churn[0])] = known_churn[1]
        churn = churn.tolist()
    return seg, churn, ltv, _own_advice(model, churn, ltv, profile, len(seg), np.asarray(seg, dtype=np.int64))


def _is_missing(value) -> bool:
    if isinstance(value, float | np.floating) and value != value:
        return True
    if value is pd.NaT or (isinstance(value, np.datetime64) and np.isnat(value)):
        return True
    return is_missing_token(value)


def _refusals(model: FittedPipeline, profile, beh, imputed: list[set[str]], raw) -> list[EngineError]:
    """Values impossible for their role, one error per record and field, naming both and the value: a negative
    number in a column whose training values had none, a date after the reference date, a recency longer than
    the tenure."""
    pre = model.preprocessor
    errors: list[EngineError] = []
    reference = getattr(pre, "reference_date_", None)
    for encoder in pre.encoders_:
        col = encoder.column
        if encoder.role in ("numeric", "monetary") and getattr(encoder, "min_", -1) >= 0 and col in profile:
            what = "amount of money" if encoder.role == "monetary" else "value"
            for i in np.flatnonzero(np.asarray(profile[col], float) < 0):
                errors.append(
                    EngineError(
                        f"record {i + 1}: field {col!r} is {raw(col)[i]!r}: a negative {what} cannot describe a "
                        f"customer here (every training value was {encoder.min_:g} or more).",
                        field=col,
                    )
                )
        elif encoder.role == "date" and reference is not None and f"{col} (days ago)" in profile:
            days = np.asarray(profile[f"{col} (days ago)"], float)
            for i in np.flatnonzero(days <= -1):
                errors.append(
                    EngineError(
                        f"record {i + 1}: field {col!r} is {str(raw(col)[i])!r}, after the reference date "
                        f"{pd.Timestamp(reference).date()} of this analysis: a date in the future cannot describe a "
                        "customer.",
                        field=col,
                    )
                )
            errors += _too_early(col, days, getattr(encoder, "max_days_", None), reference, raw)
    rec_col, ten_col = pre.behaviour_.get("recency_col"), pre.behaviour_.get("tenure_col")
    if rec_col and ten_col and "recency" in beh and "tenure" in beh:
        longer = np.asarray(beh["recency"], float) > np.asarray(beh["tenure"], float) + 0.5
        for i in np.flatnonzero(longer):
            if rec_col in imputed[i] or ten_col in imputed[i]:
                continue
            errors.append(
                EngineError(
                    f"record {i + 1}: field {rec_col!r} ({raw(rec_col)[i]!r}) puts the last activity "
                    f"{beh['recency'][i]:,.0f} days ago, before the customer joined ({ten_col!r} = "
                    f"{raw(ten_col)[i]!r}, {beh['tenure'][i]:,.0f} days ago): recency cannot be longer than tenure.",
                    field=rec_col,
                )
            )
    return errors


# A customer date before this is a system default (1970-01-01, 1900-01-01), not a real date.
EARLIEST_PLAUSIBLE = np.datetime64("1990-01-01")


def _too_early(col: str, days: np.ndarray, max_days: float | None, reference, raw) -> list[EngineError]:
    """A date before 1990 (a system default such as 1970-01-01) or before the earliest date of the column in the
    analysed table cannot describe a customer of this analysis."""
    ref = np.datetime64(pd.Timestamp(reference).to_datetime64(), "s")
    limit = float((ref - EARLIEST_PLAUSIBLE.astype("datetime64[s]")).astype(float) / 86400.0)
    earliest = None
    if max_days is not None and max_days == max_days and max_days < limit:
        limit, earliest = max_days, (ref - np.timedelta64(round(max_days * 86400), "s")).astype("datetime64[D]")
    errors = []
    for i in np.flatnonzero(days > limit + 1):
        bound = (
            f"before {earliest}, the earliest {col!r} among the analysed customers"
            if earliest is not None
            else f"before {EARLIEST_PLAUSIBLE}"
        )
        errors.append(
            EngineError(
                f"record {i + 1}: field {col!r} is {str(raw(col)[i])!r}, {bound}: an implausible date (a system "
                "default such as 1970-01-01?) cannot describe a customer; give the real date or leave the field out.",
                field=col,
            )
        )
    return errors


def predict_segment(model: FittedPipeline, record_or_records):
    """One dict -> one dict; a list of dicts or a DataFrame -> a list of dicts (in order).

    Each result: segment, segment_name, churn_risk, predicted_ltv, recommendations (top 3, each
    {action, category, reason, priority}), key_features {column: value used} (observed values only),
    imputed_fields (the model's fields the record did not give, scored as a typical customer's) and
    unseen_values {field: value} (categories the training data never had, scored as its most common or "other").
    Unknown or wrongly typed fields, a record with no usable field, and values impossible for their role (a
    negative count or amount where training had none, a date after the reference date, a date before 1990 or
    before the column's earliest date in the analysed table, a recency longer than the tenure) raise EngineError
    naming the record, field and value.
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
    scorer = getattr(model, "clv", None)  # an order log's analysis: orders or a purchase history come in
    clv_values = None
    if scorer is not None:
        if records is None:
            records = frame.to_dict("records")
        if not records:
            return []
        records, clv_values = _order_log_records(model, scorer, records)
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

    raw_cache: dict[str, list] = {}

    def raw(c: str) -> list:
        if c not in raw_cache:
            if records is not None:
                raw_cache[c] = [r.get(c) for r in records]
            else:
                raw_cache[c] = frame[c].tolist() if c in frame.columns else [None] * n
        return raw_cache[c]

    fields = input_fields(model)
    imputed = [set() for _ in range(n)]
    for c in fields:
        for i, v in enumerate(raw(c)):
            if _is_missing(v):
                imputed[i].add(c)
    empty = [i for i in range(n) if len(imputed[i]) == len(fields)]
    if empty:
        raise EngineError.of(
            [
                EngineError(
                    f"record {i + 1}: no usable field: it gives none of the fields the model scores from "
                    f"({', '.join(fields)}), so any score would describe an imaginary typical customer.",
                    field="record",
                )
                for i in empty[:20]
            ]
        )
    try:
        X, profile, beh = model.preprocessor.transform(data, profile_frame=False, observed=True)
    except EngineError as exc:
        raise EngineError(str(exc).replace("column ", "field ", 1)) from None
    refused = _refusals(model, profile, beh, imputed, raw)
    if refused:
        raise EngineError.of(refused)
    if n > 32:
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=1):  # API workers share the cores; see pipeline.analyze
            seg, churn, ltv, own = score_rows(model, X, beh, profile)
    else:
        seg, churn, ltv, own = score_rows(model, X, beh, profile)
    unseen: list[dict] = [{} for _ in range(n)]
    for encoder in model.preprocessor.encoders_:
        seen = getattr(encoder, "seen_", None)
        if encoder.role != "categorical" or seen is None:
            continue
        for i, v in enumerate(raw(encoder.column)):
            if not _is_missing(v) and str(v).strip() not in seen:
                unseen[i][encoder.column] = v
    key_arrays: dict[str, tuple[str, list]] = {}  # shown name -> (source column, values)
    for c in model.key_features:
        if c in profile:
            key_arrays[c] = (c, np.asarray(profile[c], dtype=float).tolist())
        elif f"{c} (days ago)" in profile:
            key_arrays[f"{c} (days ago)"] = (c, np.asarray(profile[f"{c} (days ago)"], dtype=float).tolist())
        else:
            key_arrays[c] = (c, [v if isinstance(v, str | int | float | bool | type(None)) else str(v) for v in raw(c)])
    names = model.segment_names
    recs = model.segment_recommendations
    out = []
    for i in range(n):
        s = int(seg[i])
        ltv_i = ltv[i]
        churn_i = churn[i]
        result = {
            "segment": s,
            "segment_name": names.get(s, f"Segment {s}"),
            "churn_risk": churn_i if churn_i == churn_i else None,
            "predicted_ltv": ltv_i if ltv_i == ltv_i else None,
            "recommendations": recs.get(s, [])[:3],
            # only what the record gave: an imputed field is not a fact about this customer
            "key_features": {k: v[i] for k, (src, v) in key_arrays.items() if src not in imputed[i]},
            "imputed_fields": sorted(imputed[i]),
            "unseen_values": unseen[i],
        }
        if own is not None:
            result.update(_advice_fields(own, i, result["recommendations"]))
        if clv_values is not None:
            result.update({k: v[i] for k, v in clv_values.items()})
        out.append(result)
    return out[0] if single else out


def _order_log_records(model: FittedPipeline, scorer, records: list) -> tuple[list[dict], dict]:
    """An order log's analysis segments the customer table built from the log: each record (the customer's
    orders, or their purchase history; ``clv.scoring``) becomes that table's row, with the lifetime value
    computed by the analysis's fitted CLV models. Returns (rows, {field: per-record values} for the results)."""
    from .clv.product import CLV_COLUMNS
    from .clv.scoring import CLV_VALUE_KEYS

    histories = scorer.histories(records, model.id_col)
    values = scorer.values(histories)
    x = histories["frequency"].to_numpy()
    recency = histories["recency"].to_numpy()
    T = histories["T"].to_numpy()
    monetary = histories["monetary"].to_numpy()
    total = histories["total_spend"].to_numpy()
    rows = []
    for i, rec in enumerate(records):
        row = {
            "purchases": int(x[i]) + 1,
            "days_since_last_purchase": float(T[i] - recency[i]),
            "tenure_days": float(T[i]),
            "avg_repeat_spend": _number_or_none(monetary[i]),
            "total_spend": _number_or_none(total[i]),
        }
        if model.id_col and rec.get(model.id_col) is not None:
            row[model.id_col] = rec[model.id_col]
        if scorer.has_models:
            row.update({c: float(values[c][i]) for c in CLV_COLUMNS})
        rows.append({k: v for k, v in row.items() if k in model.schema})
    history = histories.to_dict("records")
    out = {k: [_number_or_none(v) for v in values[k]] for k in CLV_VALUE_KEYS}
    out["history"] = [{k: _number_or_none(v) for k, v in h.items()} for h in history]
    out["lifetime_value"] = [
        {
            "horizon_days": scorer.horizon_days,
            "discount_rate": scorer.config.discount_rate,
            "reference_date": scorer.reference_date,
        }
        if scorer.has_models
        else None
    ] * len(records)
    return rows, out


def _number_or_none(value):
    value = float(value)
    return value if value == value else None


def _own_advice(model: FittedPipeline, churn, ltv, profile, n: int, segments=None) -> dict | None:
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
    return customer_advice(
        churn=np.asarray(churn, float), value=value, readable=readable, reference=reference, segments=segments
    )


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
