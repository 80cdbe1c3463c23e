"""The profile of a dataset, computed from its Parquet file one column at a time.

Per column: stored type, inferred role (the engine's `infer_roles`), missing count and share,
distinct count, mean/median/min/max/std for numbers, top values for categories, date range for
dates, average length for text, and warnings (constant, ID-like, mostly missing, mixed types).
Plus a preview of the first rows and the engine's behavioural-role guesses.

Memory is one column at a time (pyarrow compute for counts, numpy for statistics), so a
1,000,000-row file profiles in seconds without loading the whole table. Role inference and
mixed-type checks look at a fixed random sample of rows, as the engine itself does.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable

SAMPLE_ROWS = 5_000
PREVIEW_ROWS = 50
TOP_VALUES = 8
MOSTLY_MISSING = 0.5
_ISO_PREFIX = re.compile(r"^\s*\d{4}-\d{1,2}-\d{1,2}")


def _num(value, digits: int = 6):
    if value is None:
        return None
    value = float(value)
    if math.isnan(value) or math.isinf(value):
        return None
    return round(value, digits)


def _json_value(value):
    import datetime as dt

    if value is None:
        return None
    if isinstance(value, float):
        return _num(value, 6)
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ") if value.time() != dt.time(0) else value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, int | str | bool):
        return value
    return str(value)


def profile_parquet(path: str, *, progress: Callable[[str, float], None] | None = None) -> dict:
    import numpy as np
    import pandas as pd
    import pyarrow.parquet as pq

    from datasets.conversion import _type_name
    from segments.engine import infer_behaviour_roles, infer_roles
    from segments.engine.engagement import infer_engagement

    progress = progress or (lambda stage, pct: None)
    started = time.monotonic()
    parquet = pq.ParquetFile(path)
    n = parquet.metadata.num_rows
    names = parquet.schema_arrow.names
    rng = np.random.default_rng(0)
    sample_idx = np.sort(rng.choice(n, SAMPLE_ROWS, replace=False)) if n > SAMPLE_ROWS else np.arange(n)

    columns, sample = [], {}
    for i, name in enumerate(names):
        progress(f"Profiling column {i + 1} of {len(names)}", 65 + 30 * i / max(len(names), 1))
        arrow_col = parquet.read(columns=[name]).column(0).combine_chunks()
        stored = _type_name(arrow_col.type)
        sample[name] = arrow_col.take(sample_idx).to_pandas()
        role = infer_roles(pd.DataFrame({name: sample[name]}))[name]
        columns.append(_profile_column(name, arrow_col, stored, role, sample[name], n))
        del arrow_col

    sample_df = pd.DataFrame(sample)
    roles = {c["name"]: c["role"] for c in columns}
    try:
        behaviour = infer_behaviour_roles(sample_df, roles)
    except Exception:  # noqa: BLE001 - a guess only; the user confirms the roles anyway
        behaviour = {"recency_col": None, "frequency_col": None, "tenure_col": None}
    column_units, recurring = _duration_units(sample_df, roles)
    engagement = infer_engagement(roles, behaviour.get("recency_col"))
    preview = _preview(parquet, names)
    warnings = [{"column": c["name"], **w} for c in columns for w in c["warnings"]]
    return {
        "row_count": n,
        "column_count": len(names),
        "columns": columns,
        "preview": preview,
        "warnings": warnings,
        "inferred_roles": roles,
        "inferred_behaviour_roles": behaviour,
        "column_units": column_units,
        "recurring_charge": recurring,
        "inferred_engagement": engagement,
        "sample_rows": len(sample_idx),
        "seconds": round(time.monotonic() - started, 2),
    }


def _duration_units(sample_df, roles: dict) -> tuple[dict, dict | None]:
    """The unit each numeric column would have as a recency or tenure ({column: {unit, source, evidence}}, the
    engine's own inference: segments.engine.units) and the table's recurring charge, if any. The dataset page
    shows the guess for whichever column the user picks."""
    from segments.engine.units import infer_units

    out: dict = {}
    recurring = None
    for col, role in roles.items():
        if role not in ("numeric", "monetary"):
            continue
        try:
            guesses, found = infer_units(sample_df, roles, {"tenure_col": col})
        except Exception:  # noqa: BLE001, S112 - a guess only; the user states the unit anyway
            continue
        out[col] = guesses["tenure_unit"].to_dict()
        if found is not None and (recurring is None or found.total_column):
            recurring = found.to_dict()
    return out, recurring


def _profile_column(name, arrow_col, stored, role, sample, n) -> dict:
    import numpy as np
    import pyarrow.compute as pc

    from segments.engine.coerce import coerce_datetime, coerce_numeric, first_bad_example

    missing = int(arrow_col.null_count)
    present = n - missing
    distinct = int(pc.count_distinct(arrow_col, mode="only_valid").as_py()) if present else 0
    out = {
        "name": name,
        "stored_type": stored,
        "role": role,
        "missing": missing,
        "missing_share": _num(missing / n if n else 0.0, 4),
        "distinct": distinct,
        "warnings": [],
    }
    warnings = out["warnings"]

    # Numbers: stored as numbers, or text the engine reads as numbers ("$1,234").
    if stored in ("int", "float", "bool") or role in ("numeric", "monetary"):
        if stored in ("int", "float", "bool"):
            values = arrow_col.cast("float64").to_numpy(zero_copy_only=False)
            bad_count = 0
        else:
            series = arrow_col.to_pandas()
            values, bad = coerce_numeric(series)
            bad_count = int(bad.sum())
            if bad_count:
                warnings.append(
                    {
                        "kind": "mixed_types",
                        "message": f"{bad_count:,} values are not numbers (e.g. {first_bad_example(series, bad)}).",
                    }
                )
        finite = values[~np.isnan(values)]
        if finite.size:
            out["numeric"] = {
                "mean": _num(finite.mean()),
                "median": _num(np.median(finite)),
                "min": _num(finite.min()),
                "max": _num(finite.max()),
                "std": _num(finite.std(ddof=1)) if finite.size > 1 else None,
                "unparsed": bad_count,
            }
            counts, edges = np.histogram(finite, bins=12)
            out["numeric"]["histogram"] = {
                "counts": [int(c) for c in counts],
                "edges": [_num(e) for e in edges],
                "max_count": int(counts.max()),
            }

    # Dates: stored timestamps, or text the engine reads as dates.
    if stored == "date" or role == "date":
        if stored == "date":
            dates = arrow_col.to_numpy(zero_copy_only=False).astype("datetime64[s]")
            bad_count = 0
        else:
            series = arrow_col.to_pandas()
            parsed, bad = coerce_datetime(series)
            dates = parsed.astype("datetime64[s]")
            bad_count = int(bad.sum())
            if bad_count:
                warnings.append(
                    {
                        "kind": "mixed_types",
                        "message": f"{bad_count:,} values could not be read as dates "
                        f"(e.g. {first_bad_example(series, bad)}).",
                    }
                )
            formats = _date_formats(sample)
            if len(formats) > 1:
                warnings.append(
                    {
                        "kind": "mixed_formats",
                        "message": "Dates are written in several formats (e.g. "
                        + " and ".join(repr(f) for f in formats[:2])
                        + ").",
                    }
                )
        valid = dates[~np.isnat(dates)]
        if valid.size:
            out["dates"] = {
                "min": str(valid.min())[:10],
                "max": str(valid.max())[:10],
                "span_days": int((valid.max() - valid.min()).astype("timedelta64[D]").astype(int)),
                "unparsed": bad_count,
            }

    # Text: top values and length.
    if stored == "text" and present:
        lengths = pc.utf8_length(arrow_col)
        out["avg_length"] = _num(pc.mean(lengths).as_py(), 2)
        if role not in ("numeric", "monetary", "date") and stored == "text":
            share = _numeric_share(sample)
            if 0.1 <= share <= 0.9:
                warnings.append(
                    {
                        "kind": "mixed_types",
                        "message": f"Mixed types: about {share:.0%} of the values are numbers and the rest text.",
                    }
                )
    if present and (role in ("categorical", "churn_label", "text") or (stored in ("int", "bool") and distinct <= 20)):
        out["top_values"] = _top_values(arrow_col, present)

    # Column-level warnings.
    if present == 0:
        warnings.append({"kind": "empty", "message": "No values: every row is missing."})
    elif distinct == 1:
        warnings.append({"kind": "constant", "message": "Constant: every non-missing row has the same value."})
    if present and missing / n > MOSTLY_MISSING:
        warnings.append(
            {"kind": "mostly_missing", "message": f"Mostly missing: {missing / n:.0%} of rows have no value."}
        )
    if present > 20 and distinct == present and stored in ("text", "int") and role not in ("text", "identifier"):
        warnings.append(
            {
                "kind": "id_like",
                "message": "ID-like: every value is different, so it cannot describe a group of customers.",
            }
        )
    elif role == "identifier" and distinct < present:
        warnings.append(
            {
                "kind": "id_duplicates",
                "message": f"Identifier with repeated values: {distinct:,} distinct among {present:,} rows.",
            }
        )
    return out


def _top_values(arrow_col, present: int) -> list[dict]:
    import pyarrow.compute as pc

    counts = pc.value_counts(arrow_col.drop_null())
    pairs = sorted(
        zip(counts.field("values").to_pylist(), counts.field("counts").to_pylist(), strict=True),
        key=lambda p: (-p[1], str(p[0])),
    )[:TOP_VALUES]
    return [{"value": _json_value(v), "count": int(c), "share": _num(c / present, 4)} for v, c in pairs]


def _numeric_share(sample) -> float:
    from segments.engine.coerce import numeric_parse_share

    values = sample.dropna()
    return numeric_parse_share(values) if len(values) else 0.0


def _date_formats(sample) -> list[str]:
    """Examples of differently written dates in the sample: an ISO one and a non-ISO one."""
    values = [str(v) for v in sample.dropna().tolist()]
    iso = next((v for v in values if _ISO_PREFIX.match(v)), None)
    other = next((v for v in values if not _ISO_PREFIX.match(v)), None)
    if iso and other:
        return [iso, other]
    slash = [v for v in values if "/" in v]
    dot = [v for v in values if "." in v and "/" not in v]
    if slash and dot:
        return [slash[0], dot[0]]
    return [values[0]] if values else []


def _preview(parquet, names) -> dict:
    rows: list[list] = []
    for batch in parquet.iter_batches(batch_size=PREVIEW_ROWS):
        rows = [[_json_value(v) for v in row.values()] for row in batch.to_pylist()]
        break
    return {"columns": list(names), "rows": rows}
