"""Turning a validated upload (or a generated frame) into the normalised Parquet file, in chunks.

Normalisation rules, stated once:
- Values are stripped; the engine's missing tokens ("", "NA", "N/A", "null", "-", ...) become nulls.
- In files not delimited by commas, numbers written with a decimal comma ("12,5", "1.234,56") are
  numbers too (the European spreadsheet export).
- A column is stored as integers when every non-missing value is a plain integer without a leading
  zero, as floats when every value is a number without a leading zero (so codes such as "00742" or
  "0001" stay text exactly as uploaded, and "0.5" is still a number), as timestamps
  when every value is an ISO date (2024-01-31, 2024-01-31 10:00), and as text otherwise. Messy
  numbers and dates ("$1,234", "31/01/2024") stay text: the engine coerces them by its own rules.

Two passes over bounded chunks: the first reads the upload as text into a staging Parquet file and
decides each column's type; the second casts the staged chunks into `data.parquet`. Memory is one
chunk (default 50,000 rows), whatever the file's size.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator

from django.conf import settings

ISO_DATE = r"\d{4}-\d{1,2}-\d{1,2}(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?(?:Z|[+-]\d{2}:?\d{2})?"
_INT = r"[+-]?(?:0|[1-9]\d{0,17})"
_FLOAT = r"[+-]?(?:(?:0|[1-9]\d*)(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
# "1.234,56" / "12,5": decimal commas, accepted only in files not delimited by commas.
_DECIMAL_COMMA = r"[+-]?(?:\d+|\d{1,3}(?:\.\d{3})+)(?:,\d+)?"

Progress = Callable[[str, float], None]


def chunk_rows() -> int:
    return int(settings.DATASETS_CHUNK_ROWS)


def _missing_tokens() -> list[str]:
    from segments.engine.coerce import MISSING_TOKENS

    return sorted(MISSING_TOKENS)


def iter_text_chunks(path: str, info) -> Iterator:
    """DataFrames of strings (the header's column names), chunk by chunk, from a stored upload."""
    import pandas as pd

    header = info["header"]
    if info["kind"] == "xlsx":
        from datasets.validation import iter_xlsx_rows

        with open(path, "rb") as fh:
            rows = iter_xlsx_rows(fh, info["display_name"])
            next(rows)  # the sheet title
            next(rows)  # the header
            batch: list[list[str]] = []
            width = len(header)
            for row in rows:
                batch.append((row + [""] * width)[:width])
                if len(batch) >= chunk_rows():
                    yield pd.DataFrame(batch, columns=header, dtype="str")
                    batch = []
            if batch:
                yield pd.DataFrame(batch, columns=header, dtype="str")
        return
    reader = pd.read_csv(
        path,
        sep=info["delimiter"],
        encoding=info["encoding"],
        compression="gzip" if info["kind"] == "csv.gz" else None,
        header=0,
        names=header,
        usecols=list(range(len(header))),
        index_col=False,
        dtype="str",
        keep_default_na=False,
        na_filter=False,
        skip_blank_lines=True,
        chunksize=chunk_rows(),
        engine="c",
    )
    with reader:
        yield from reader


def _normalise(chunk):
    """Strip values and turn missing tokens into nulls (vectorised, per column)."""
    import pandas as pd

    tokens = _missing_tokens()
    out = {}
    for col in chunk.columns:
        s = chunk[col].astype("str").str.strip()
        out[col] = s.mask(s.str.lower().isin(tokens) | s.isna())
    return pd.DataFrame(out, index=chunk.index)


def _chunk_type(s, decimal_comma: bool = False) -> str | None:
    """The narrowest type every non-missing value of this chunk fits (regexes run in Arrow: fast)."""
    import pandas as pd

    s = s.dropna()
    if s.empty:
        return None
    if s.str.fullmatch(_INT).all():
        return "int"
    if s.str.fullmatch(_FLOAT).all():
        return "float"
    if decimal_comma and s.str.contains(",", regex=False).any() and s.str.fullmatch(_DECIMAL_COMMA).all():
        return "decimal_comma"
    if s.str.fullmatch(ISO_DATE).all() and pd.to_datetime(s, format="ISO8601", errors="coerce", utc=True).notna().all():
        return "date"
    return "text"


def _widen(a: str | None, b: str | None) -> str | None:
    if a is None or a == b:
        return b
    if b is None:
        return a
    if {a, b} == {"int", "float"}:
        return "float"
    if {a, b} == {"int", "decimal_comma"}:
        return "decimal_comma"
    return "text"


def _cast(chunk, types: dict[str, str]):
    import pandas as pd

    out = {}
    for col in chunk.columns:
        s, t = chunk[col], types[col]
        if t == "int":
            out[col] = s.astype("Int64")
        elif t == "float":
            out[col] = pd.to_numeric(s, errors="coerce").astype("float64")
        elif t == "decimal_comma":
            plain = s.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
            out[col] = pd.to_numeric(plain, errors="coerce").astype("float64")
        elif t == "date":
            out[col] = pd.to_datetime(s, format="ISO8601", errors="coerce", utc=True).dt.tz_localize(None)
        else:
            out[col] = s
    return pd.DataFrame(out, index=chunk.index)


def _arrow_type(t: str):
    import pyarrow as pa

    return {
        "int": pa.int64(),
        "float": pa.float64(),
        "decimal_comma": pa.float64(),
        "date": pa.timestamp("us"),
        "text": pa.string(),
    }[t]


def convert_upload(source_path: str, info: dict, target_path: str, *, progress: Progress | None = None) -> dict:
    """Stored upload -> normalised Parquet at `target_path`. Returns {"row_count", "types"}."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    progress = progress or (lambda stage, pct: None)
    header = info["header"]
    expected = max(int(info.get("row_count") or 0), 1)
    types: dict[str, str | None] = dict.fromkeys(header)
    decimal_comma = info.get("kind") != "xlsx" and info.get("delimiter") != ","
    staging_schema = pa.schema([(c, pa.string()) for c in header])
    with tempfile.TemporaryDirectory(prefix="segsaas-convert-") as tmp:
        staging = os.path.join(tmp, "staging.parquet")
        rows = 0
        with pq.ParquetWriter(staging, staging_schema, compression="zstd") as writer:
            for chunk in iter_text_chunks(source_path, info):
                chunk = _normalise(chunk)
                for col in header:
                    if types[col] != "text":  # text is final: skip the checks
                        types[col] = _widen(types[col], _chunk_type(chunk[col], decimal_comma))
                writer.write_table(pa.Table.from_pandas(chunk, schema=staging_schema, preserve_index=False))
                rows += len(chunk)
                progress("Reading rows", 5 + 40 * min(rows / expected, 1.0))
        final = {c: (t or "text") for c, t in types.items()}
        schema = pa.schema([(c, _arrow_type(final[c])) for c in header])
        done = 0
        with pq.ParquetWriter(target_path, schema, compression="zstd") as writer:
            for batch in pq.ParquetFile(staging).iter_batches(batch_size=chunk_rows()):
                frame = _cast(batch.to_pandas(), final)
                writer.write_table(pa.Table.from_pandas(frame, schema=schema, preserve_index=False))
                done += batch.num_rows
                progress("Converting types", 45 + 20 * min(done / max(rows, 1), 1.0))
    return {"row_count": rows, "types": final}


def _whole_numbers(s) -> bool:
    """A float column whose every present value is a whole number (counts made float by missing values, or
    by arithmetic): stored as integers, as an upload of the same values would be."""
    import numpy as np

    values = s.to_numpy(dtype="float64", na_value=np.nan)
    present = values[~np.isnan(values)]
    return (
        present.size > 0
        and bool(np.isfinite(present).all())
        and bool((present == np.round(present)).all())
        and bool((np.abs(present) < 2**53).all())
    )


def write_frame(df, target_path: str) -> dict:
    """A DataFrame made in memory (synthetic data) -> Parquet with the same type vocabulary as an upload:
    whole numbers are integers (with nulls where missing), other numbers floats."""
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    fields, cols = [], {}
    for col in df.columns:
        s = df[col]
        if pd.api.types.is_float_dtype(s.dtype) and _whole_numbers(s):
            fields.append((str(col), pa.int64()))
            cols[str(col)] = s.round().astype("Int64")
        elif pd.api.types.is_bool_dtype(s.dtype) or pd.api.types.is_integer_dtype(s.dtype):
            fields.append((str(col), pa.int64()))
            cols[str(col)] = s.astype("Int64")
        elif pd.api.types.is_numeric_dtype(s.dtype):
            fields.append((str(col), pa.float64()))
            cols[str(col)] = s.astype("float64")
        elif pd.api.types.is_datetime64_any_dtype(s.dtype):
            fields.append((str(col), pa.timestamp("us")))
            cols[str(col)] = s.astype("datetime64[us]")
        else:
            fields.append((str(col), pa.string()))
            cols[str(col)] = s.astype("str")
    schema = pa.schema(fields)
    table = pa.Table.from_pandas(pd.DataFrame(cols), schema=schema, preserve_index=False)
    pq.write_table(table, target_path, compression="zstd", row_group_size=chunk_rows())
    return {"row_count": len(df), "types": {f[0]: _type_name(f[1]) for f in fields}}


def _type_name(arrow_type) -> str:
    import pyarrow as pa

    if pa.types.is_integer(arrow_type):
        return "int"
    if pa.types.is_floating(arrow_type):
        return "float"
    if pa.types.is_timestamp(arrow_type) or pa.types.is_date(arrow_type):
        return "date"
    if pa.types.is_boolean(arrow_type):
        return "bool"
    return "text"


def parquet_types(path: str) -> dict[str, str]:
    import pyarrow.parquet as pq

    schema = pq.read_schema(path)
    return {f.name: _type_name(f.type) for f in schema}
