"""Reading an order log, streamed so that ten million orders fit in memory.

An order log has one row per order: a customer id, a date (or timestamp) and an amount; optionally an order id.
``read_orders`` reads it in blocks (CSV, CSV.gz through pyarrow's streaming reader; Parquet by row batches; or a
DataFrame) and keeps compact arrays only (customer code, day number, amount): 16 bytes per order. What happens
next (purchase days, refunds, the per-customer summary) is in ``transactions.py``.

Rules (each has a test in tests/engine/test_clv_transactions.py):

- **Rows without a customer, date or amount, or whose date or amount cannot be read, stop the run** with the
  column, row and value named (rows are counted from 1 after the header). Dropping them would silently change
  purchase counts and spend, and a date column where some values do not parse usually means a format problem
  (e.g. day-first dates read month-first) that the client must fix, not one we should guess around. Dates are
  read as ISO 8601 first, then other formats (month-first when ambiguous, as in ``coerce.py``); timestamps with
  a UTC offset are converted to UTC before the day is taken; dates before 1900 or after 2199 are refused the
  same way (misreadings or typing errors); amounts may carry currency symbols and thousands separators
  ("$1,234.50").
- **Future dates**: orders dated after the observation end (``CLVConfig.observation_end``; when not given,
  today's date in UTC) are dropped and counted with an example: they are pre-orders, scheduled renewals or
  typing errors, and in no case observed behaviour.
- **Duplicated order ids** (when an order id column is given): a row that repeats the order id of an earlier
  row *with the same sign* is the same order exported twice (re-sent after an update, overlapping extracts):
  the first row is kept and the others are dropped and counted. A negative row with the id of a positive one
  is that order's refund and is kept. When more than 20 % of rows repeat an id, the log probably has one row
  per order *line*; the result warns and says to upload it without the order id column (lines of one day are
  then summed like any same-day orders).
- **Ids** are compared as text ("007", "7" and "+7" are three customers); a column of plain integers is kept
  as integers (8 bytes each, no dictionary of strings).

Time: days since 1970-01-01 (int32). The models work in weeks (days / 7).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from ..coerce import coerce_datetime, coerce_numeric
from ..errors import EngineError

BLOCK_BYTES = 64 << 20  # CSV block size for the streaming reader
BATCH_ROWS = 1_000_000  # Parquet / DataFrame batch size
LINE_ITEM_SHARE = 0.20
EARLIEST_DAY = -25_567  # 1900-01-01
LATEST_DAY = 84_005  # 2199-12-31


def to_day(value) -> int:
    """A date, datetime, ISO string or pandas Timestamp -> days since 1970-01-01."""
    ts = pd.Timestamp(value)
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC").tz_localize(None)
    return int(ts.normalize().value // 86_400_000_000_000)


def day_to_date(day: int) -> date:
    return (np.datetime64(int(day), "D")).astype(object)


@dataclass
class IngestReport:
    """What was read and what each rule did; JSON-safe through ``to_dict``."""

    source: str
    rows: int = 0
    orders_used: int = 0
    purchase_orders: int = 0
    refund_orders: int = 0
    zero_amount_orders: int = 0
    future_orders: int = 0
    future_example: str | None = None
    duplicate_order_rows: int = 0
    duplicate_example: str | None = None
    observation_end: str | None = None
    first_order: str | None = None
    last_order: str | None = None
    customers: int = 0
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass
class OrderLog:
    """Compact arrays, one entry per kept order, and the customer ids (``customer`` indexes ``customer_ids``)."""

    customer_ids: np.ndarray
    customer: np.ndarray  # int32/int64 codes
    day: np.ndarray  # int32 days since epoch
    amount: np.ndarray  # float64
    report: IngestReport
    observation_end: int  # day
    _purchase_days: object = field(default=None, repr=False, compare=False)  # see purchase_days()

    @property
    def first_day(self) -> int:
        return int(self.day.min())

    @property
    def last_day(self) -> int:
        return int(self.day.max())


# ---------------------------------------------------------------- reading


def _source_name(source) -> str:
    if isinstance(source, pd.DataFrame):
        return "the order table"
    if isinstance(source, str | Path):
        return Path(source).name
    return getattr(source, "name", "the uploaded file")


def _is_parquet(source) -> bool:
    return isinstance(source, str | Path) and Path(source).suffix.lower() in (".parquet", ".pq")


def _csv_header(source, encoding: str) -> list[str]:
    import pyarrow as pa
    import pyarrow.csv as pacsv

    stream = pa.input_stream(str(source)) if isinstance(source, str | Path) else source
    try:
        reader = pacsv.open_csv(
            stream,
            read_options=pacsv.ReadOptions(block_size=1 << 16, encoding=encoding),
            convert_options=pacsv.ConvertOptions(column_types={}, strings_can_be_null=True),
        )
        names = list(reader.schema.names)
        reader.close()
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        raise EngineError(f"{_source_name(source)!r} is not a readable CSV file ({str(exc).strip()})") from None
    finally:
        if not isinstance(source, str | Path):
            source.seek(0)
    return names


def _check_columns(available: list[str], wanted: dict[str, str], name: str) -> None:
    for role, col in wanted.items():
        if col not in available:
            shown = ", ".join(repr(c) for c in available[:20])
            raise EngineError(f"{name!r}: the {role} column {col!r} is not in the file (its columns: {shown})")


def _batches(source, columns: list[str], encoding: str):
    """Yield {column: values} a block at a time: pyarrow arrays for files (nothing is converted to pandas
    unless a value needs the general parsers or an error message), pandas Series for a DataFrame."""
    import pyarrow as pa

    name = _source_name(source)
    if isinstance(source, pd.DataFrame):
        for start in range(0, max(len(source), 1), BATCH_ROWS):
            part = source.iloc[start : start + BATCH_ROWS]
            yield {c: part[c] for c in columns}
        return
    if isinstance(source, str | Path) and not Path(source).exists():
        raise EngineError(f"input file {str(source)!r} does not exist")
    if _is_parquet(source):
        import pyarrow.parquet as pq

        try:
            pf = pq.ParquetFile(str(source))
        except (pa.ArrowInvalid, OSError) as exc:
            raise EngineError(f"{name!r} is not a readable Parquet file ({exc})") from None
        for batch in pf.iter_batches(batch_size=BATCH_ROWS, columns=columns):
            yield {c: batch.column(c) for c in columns}
        return
    import pyarrow.csv as pacsv

    stream = pa.input_stream(str(source)) if isinstance(source, str | Path) else source
    reader = pacsv.open_csv(
        stream,
        read_options=pacsv.ReadOptions(block_size=BLOCK_BYTES, encoding=encoding),
        convert_options=pacsv.ConvertOptions(
            include_columns=columns,
            column_types=dict.fromkeys(columns, pa.string()),
            strings_can_be_null=True,
        ),
    )
    try:
        for batch in reader:
            yield {c: batch.column(c) for c in columns}
    except pa.ArrowInvalid as exc:
        raise EngineError(f"{name!r} is not a readable CSV file ({str(exc).strip()})") from None


def _series(values) -> pd.Series:
    return values if isinstance(values, pd.Series) else values.to_pandas()


def _customers(values, column: str, offset: int):
    """Customer ids as a pyarrow array; empty ids stop the run."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(values, pd.Series):
        missing = values.isna().to_numpy()
        if not missing.any() and values.dtype == object:
            missing = values.astype(str).str.strip().eq("").to_numpy()
        if missing.any():
            _refuse(column, "are empty", missing, values, offset)
        try:
            return pa.array(values.to_numpy() if values.dtype == object else values, from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError):  # mixed types in an object column: compare as text
            return pa.array(values.astype(str).to_numpy())
    missing = values.is_null()  # the CSV reader reads empty fields as null
    if pc.any(missing).as_py():
        _refuse(column, "are empty", missing.to_numpy(zero_copy_only=False), _series(values), offset)
    return values


def _available_columns(source, encoding: str) -> list[str]:
    if isinstance(source, pd.DataFrame):
        return [str(c) for c in source.columns]
    if isinstance(source, str | Path) and not Path(source).exists():
        raise EngineError(f"input file {str(source)!r} does not exist")
    if _is_parquet(source):
        import pyarrow.parquet as pq

        try:
            return list(pq.ParquetFile(str(source)).schema_arrow.names)
        except Exception as exc:  # noqa: BLE001 - any reader failure means the file is not Parquet
            raise EngineError(f"{_source_name(source)!r} is not a readable Parquet file ({exc})") from None
    return _csv_header(source, encoding)


def _refuse(column: str, what: str, bad: np.ndarray, series: pd.Series, offset: int) -> None:
    idx = np.flatnonzero(bad)
    i = int(idx[0])
    value = series.iloc[i]
    shown = "(empty)" if value is None or (isinstance(value, float) and np.isnan(value)) else repr(str(value))
    raise EngineError(
        f"column {column!r}: {len(idx):,} value(s) in rows {offset + 1:,}-{offset + len(series):,} {what} "
        f"(e.g. row {offset + i + 1:,}: {shown}); every order needs a customer, a readable date and an amount"
    )


def _days(values, column: str, offset: int) -> np.ndarray:
    """Dates -> int32 days since 1970-01-01. Date/datetime columns are used as they are (tz-aware ones in UTC);
    naive ISO strings go through pyarrow (fast, any year); anything else through ``coerce.coerce_datetime``."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not isinstance(values, pd.Series):
        stamps = None
        if pa.types.is_timestamp(values.type):
            stamps = values.cast(pa.timestamp("s", tz=values.type.tz))
        elif pa.types.is_date(values.type):
            stamps = values.cast(pa.date32()).cast(pa.timestamp("s"))
        elif pa.types.is_string(values.type) or pa.types.is_large_string(values.type):
            try:
                stamps = pc.cast(values, pa.timestamp("s"))
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                stamps = None
        if stamps is not None and stamps.null_count == 0:
            seconds = stamps.cast(pa.int64()).to_numpy(zero_copy_only=False)
            return _plausible(np.floor_divide(seconds, 86_400), values, column, offset)
        values = values.to_pandas()
    series = values
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        if getattr(series.dt, "tz", None) is not None:
            series = series.dt.tz_convert("UTC").dt.tz_localize(None)
        if series.isna().any():
            _refuse(column, "are empty", series.isna().to_numpy(), series, offset)
        return _plausible(series.to_numpy().astype("datetime64[D]").astype(np.int64), series, column, offset)
    if not pd.api.types.is_numeric_dtype(series.dtype):
        try:
            stamps = pc.cast(pa.array(series, type=pa.string(), from_pandas=True), pa.timestamp("s"))
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
            stamps = None
        if stamps is not None and stamps.null_count == 0:
            return _plausible(np.floor_divide(stamps.cast(pa.int64()).to_numpy(), 86_400), series, column, offset)
    values, bad = coerce_datetime(series)
    missing = np.isnat(values) & ~bad
    if bad.any():
        _refuse(column, "could not be read as dates", bad, series, offset)
    if missing.any():
        _refuse(column, "are empty", missing, series, offset)
    return _plausible(values.astype("datetime64[D]").astype(np.int64), series, column, offset)


def _plausible(days: np.ndarray, series, column: str, offset: int) -> np.ndarray:
    """Orders before 1900 or after 2199 are misreadings or typing errors, not orders (and datetime64[ns],
    which the general parser returns, wraps around outside 1678-2262)."""
    odd = (days < EARLIEST_DAY) | (days > LATEST_DAY)
    if odd.any():
        _refuse(column, "are not dates between 1900 and 2200", odd, _series(series), offset)
    return days.astype(np.int32)


def _amounts(values, column: str, offset: int) -> np.ndarray:
    """Amounts -> float64: numeric columns as they are, plain numbers through pyarrow, anything else (currency
    symbols, thousands separators, accounting parentheses) through ``coerce.coerce_numeric``."""
    import pyarrow as pa
    import pyarrow.compute as pc

    out = None
    if not isinstance(values, pd.Series):
        try:
            out = pc.cast(values, pa.float64()).to_numpy(zero_copy_only=False)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            out = None
        if out is None:
            values = values.to_pandas()
    if out is None:
        series = values
        if pd.api.types.is_numeric_dtype(series.dtype):
            out = series.to_numpy(dtype=np.float64, na_value=np.nan)
        else:
            out, bad = coerce_numeric(series)
            if bad.any():
                _refuse(column, "could not be read as amounts", bad, series, offset)
    if not np.isfinite(out).all():
        _refuse(column, "are empty or not finite", ~np.isfinite(out), _series(values), offset)
    return out


def read_orders(source, config, *, encoding: str = "utf8") -> OrderLog:
    """Read an order log (CSV/CSV.gz path or seekable stream, Parquet path, or DataFrame) in blocks and apply
    the ingestion rules of this module. ``config`` is a ``CLVConfig``."""

    name = _source_name(source)
    wanted = {"customer": config.customer_col, "date": config.date_col, "amount": config.amount_col}
    if config.order_id_col:
        wanted["order id"] = config.order_id_col
    _check_columns(_available_columns(source, encoding), wanted, name)
    columns = list(dict.fromkeys(wanted.values()))
    report = IngestReport(source=name)
    cust_chunks, day_chunks, amount_chunks, order_chunks = [], [], [], []
    offset = 0
    for batch in _batches(source, columns, encoding):
        n = len(batch[config.customer_col])
        if n == 0:
            continue
        cust_chunks.append(_customers(batch[config.customer_col], config.customer_col, offset))
        day_chunks.append(_days(batch[config.date_col], config.date_col, offset))
        amount_chunks.append(_amounts(batch[config.amount_col], config.amount_col, offset))
        if config.order_id_col:
            order_chunks.append(_customers(batch[config.order_id_col], config.order_id_col, offset))
        offset += n
        _release_arrow_memory()
    report.rows = offset
    if offset == 0:
        raise EngineError(f"{name!r} has no orders (no data rows)")
    day = np.concatenate(day_chunks)
    amount = np.concatenate(amount_chunks)
    del day_chunks, amount_chunks
    customer_ids, customer = _encode(cust_chunks)
    del cust_chunks
    _release_arrow_memory()
    keep = np.ones(offset, dtype=bool)

    if config.order_id_col:
        _, order = _encode(order_chunks, with_values=False)
        del order_chunks
        _release_arrow_memory()
        # first occurrence of each (order id, sign): a negative row with a positive row's id is its refund
        dup = np.zeros(offset, dtype=bool)
        for part in (amount >= 0, amount < 0):
            rows = np.flatnonzero(part)
            dup[rows] = pd.Series(order[rows]).duplicated().to_numpy()
        report.duplicate_order_rows = int(dup.sum())
        if dup.any():
            i = int(np.flatnonzero(dup)[0])
            report.duplicate_example = f"row {i + 1:,}: order id repeats an earlier row and was dropped"
            share = dup.mean()
            if share > LINE_ITEM_SHARE:
                report.warnings.append(
                    f"{share:.0%} of rows repeat an order id: the file looks like one row per order line, and "
                    "repeated ids were dropped as duplicates (keeping the first line of each order). Upload it "
                    "without the order id column to add up the lines of each order instead."
                )
        keep &= ~dup
        del order, dup

    end = to_day(config.observation_end) if config.observation_end else to_day(datetime.now(UTC).date())
    future = keep & (day > end)
    report.future_orders = int(future.sum())
    if report.future_orders:
        i = int(np.flatnonzero(future)[0])
        report.future_example = f"row {i + 1:,}: {day_to_date(int(day[i])).isoformat()}"
    keep &= ~future
    report.zero_amount_orders = int((keep & (amount == 0)).sum())
    if not keep.any():
        raise EngineError(f"{name!r}: no order is left after the rules (all future-dated or duplicated)")
    customer, day, amount = customer[keep], day[keep], amount[keep]
    # drop customer ids that only appeared on dropped rows, keeping codes dense
    used = np.zeros(len(customer_ids), dtype=bool)
    used[customer] = True
    if not used.all():
        remap = np.cumsum(used) - 1
        customer = remap[customer].astype(customer.dtype)
        customer_ids = customer_ids[used]
    report.orders_used = len(day)
    report.purchase_orders = int((amount >= 0).sum())
    report.refund_orders = int((amount < 0).sum())
    report.customers = len(customer_ids)
    report.first_order = day_to_date(int(day.min())).isoformat()
    report.last_order = day_to_date(int(day.max())).isoformat()
    obs_end = to_day(config.observation_end) if config.observation_end else int(day.max())
    report.observation_end = day_to_date(obs_end).isoformat()
    return OrderLog(customer_ids, customer, day, amount, report, obs_end)


def _release_arrow_memory() -> None:
    """pyarrow's allocator keeps freed blocks for reuse: after ten million orders it holds ~1 GB that nothing
    uses. Hand it back to the system between blocks."""
    import pyarrow as pa

    pa.default_memory_pool().release_unused()


def _as_integers(array):
    """Ids that are plain integers (and print back identically: no leading zeros or signs) -> int64 array;
    else None. Integer ids take 8 bytes each and need no dictionary."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_integer(array.type):
        return array.cast(pa.int64())
    if not (pa.types.is_string(array.type) or pa.types.is_large_string(array.type)):
        return None
    try:
        ints = pc.cast(array, pa.int64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    # "007" and "7", "+7" and "7" are different ids as text: keep text when any id would not print back the same
    padded = pc.and_(pc.starts_with(array, "0"), pc.greater(pc.utf8_length(array), 1))
    signed = pc.or_(pc.starts_with(array, "+"), pc.starts_with(array, "-0"))
    if pc.any(pc.or_(padded, signed)).as_py():
        return None
    return ints


def _encode(chunks, with_values: bool = True) -> tuple[np.ndarray | None, np.ndarray]:
    """Arrow chunks of ids -> (unique ids as a NumPy array, dense int codes), exact (no hashing). Without
    ``with_values`` the distinct ids are not turned into Python objects (ten million order ids would take
    ~600 MB)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    ints = [_as_integers(c) for c in chunks]
    if all(i is not None for i in ints):
        values = np.concatenate([i.to_numpy(zero_copy_only=False) for i in ints])
        codes, uniques = pd.factorize(values)
        return (uniques if with_values else None), codes
    types = {c.type for c in chunks}
    if len(types) > 1:
        chunks = [pc.cast(c, pa.string()) for c in chunks]
    combined = pa.chunked_array(chunks).combine_chunks()
    encoded = pc.dictionary_encode(combined)
    codes = encoded.indices.to_numpy(zero_copy_only=False)
    ids = encoded.dictionary.to_numpy(zero_copy_only=False) if with_values else None
    return ids, codes


# ---------------------------------------------------------------- per-customer summary
