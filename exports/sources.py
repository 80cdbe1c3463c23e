"""Per-customer results, read in batches so that a million customers never sit in memory at once.

The source is the analysis's per-customer Parquet file (written by the analysis run) or, for the pure
writers and their tests, the engine's `result.customers` DataFrame.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass

# (column in the results, header for people): the columns every customer export carries, in order.
CUSTOMER_COLUMNS = [
    ("customer_id", "Customer ID"),
    ("segment", "Segment"),
    ("segment_name", "Segment name"),
    ("churn_risk", "Churn risk"),
    ("predicted_ltv", "Predicted LTV"),
    ("currency", "Currency"),  # ISO 4217 code of every money column of the row (README: "Money in exports")
    ("value_tier", "Value tier"),
    ("risk_level", "Risk level"),
    ("engagement_level", "Engagement level"),
    ("lifecycle_stage", "Lifecycle stage"),
    ("top_recommendation", "Segment's top recommendation"),
    ("recommendation", "Recommendation for this customer"),
    ("recommendation_reason", "Why (this customer's own figures)"),
]
# Order-log analyses (with lifetime value) add these after them.
CLV_CUSTOMER_COLUMNS = [
    ("p_active", "Probability active"),
    ("expected_purchases", "Expected purchases"),
    ("clv", "CLV"),
    ("clv_low", "CLV low (10th percentile)"),
    ("clv_high", "CLV high (90th percentile)"),
]
NUMERIC_COLUMNS = {"segment", "churn_risk", "predicted_ltv", *(name for name, _ in CLV_CUSTOMER_COLUMNS)}


def customer_columns(analysis=None, *, with_clv: bool | None = None) -> list[tuple[str, str]]:
    """The columns of an analysis's customer exports: CUSTOMER_COLUMNS, and for an analysis with lifetime value
    from an order log the CLV ones in place of the predicted LTV."""
    clv = with_clv if with_clv is not None else bool(analysis is not None and analysis.has_clv)
    if not clv:
        return list(CUSTOMER_COLUMNS)
    # an order log's lifetime value is its CLV: no predicted-LTV column beside it
    return [c for c in CUSTOMER_COLUMNS if c[0] != "predicted_ltv"] + CLV_CUSTOMER_COLUMNS


DEFAULT_BATCH_ROWS = 20_000


@dataclass(frozen=True)
class CustomerFilter:
    """A customer filter applied to the per-customer Parquet file (inclusive ranges; churn risk as a fraction).
    Built from the one checked filter, `segments.filters.CustomerFilterSet.parquet_filter()`."""

    segment: int | None = None
    customer_id: str | None = None
    churn_risk_min: float | None = None
    churn_risk_max: float | None = None
    ltv_min: float | None = None
    ltv_max: float | None = None
    clv_min: float | None = None
    clv_max: float | None = None
    p_active_min: float | None = None
    p_active_max: float | None = None

    FIELDS = (
        "segment",
        "customer_id",
        "churn_risk_min",
        "churn_risk_max",
        "ltv_min",
        "ltv_max",
        "clv_min",
        "clv_max",
        "p_active_min",
        "p_active_max",
    )
    RANGES = (
        ("churn_risk", "churn_risk_min", "churn_risk_max"),
        ("predicted_ltv", "ltv_min", "ltv_max"),
        ("clv", "clv_min", "clv_max"),
        ("p_active", "p_active_min", "p_active_max"),
    )

    def __bool__(self) -> bool:
        return any(v is not None for v in asdict(self).values())

    def as_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v is not None}

    @property
    def has_ranges(self) -> bool:
        return any(getattr(self, low) is not None or getattr(self, high) is not None for _, low, high in self.RANGES)

    def mask(self, batch):
        """A boolean pyarrow array: which rows of `batch` pass the filter."""
        import pyarrow as pa
        import pyarrow.compute as pc

        keep = pa.array([True] * batch.num_rows)
        if self.segment is not None:
            keep = pc.and_(
                keep,
                pc.equal(batch.column("segment"), pa.scalar(int(self.segment), batch.schema.field("segment").type)),
            )
        if self.customer_id is not None:
            ids = batch.column("customer_id").cast(pa.string())
            keep = pc.and_(keep, pc.fill_null(pc.equal(ids, self.customer_id), False))
        for column, low_name, high_name in self.RANGES:
            low, high = getattr(self, low_name), getattr(self, high_name)
            if low is None and high is None:
                continue
            if column not in batch.schema.names:  # no such score in these results: nothing matches
                return pa.array([False] * batch.num_rows)
            values = batch.column(column).cast(pa.float64())
            if low is not None:
                keep = pc.and_(keep, pc.fill_null(pc.greater_equal(values, low), False))
            if high is not None:
                keep = pc.and_(keep, pc.fill_null(pc.less_equal(values, high), False))
        return keep


def iter_customer_batches(
    source,
    *,
    batch_size: int = DEFAULT_BATCH_ROWS,
    columns: list[str] | None = None,
    where: CustomerFilter | None = None,
    currency: str | None = None,
) -> Iterator:
    """pyarrow RecordBatches of the customers (all, or those `where` keeps), in the analysis's row order.

    `source`: a path or binary file object of the per-customer Parquet file, or a pandas DataFrame.
    Columns missing from the source are filled with empty text, so older results still export.
    `currency`: the ISO code money is in (the organization's today; None: the active one): the `currency` column
    says it and each customer's advice quotes its figures in it (`segments.advice`). Pass it explicitly for a
    stream sent after the request has ended.
    """
    from segments.engine.formatting import active_currency

    currency = (currency or active_currency()).upper()
    import pyarrow as pa
    import pyarrow.parquet as pq

    wanted = columns or [name for name, _ in CUSTOMER_COLUMNS]
    if hasattr(source, "iloc"):  # a DataFrame
        present = [c for c in wanted if c in source.columns]
        table = pa.Table.from_pandas(source[present], preserve_index=False)
        batches = table.to_batches(max_chunksize=batch_size)
    else:
        # No pre-buffering: pyarrow would otherwise fetch every row group's bytes before the first batch (the
        # whole file, in memory); without it, it reads the column chunks of one row group at a time.
        parquet = pq.ParquetFile(source, pre_buffer=False)
        present = [c for c in wanted if c in parquet.schema_arrow.names]
        batches = parquet.iter_batches(batch_size=batch_size, columns=present)
    for batch in batches:
        if where:
            batch = batch.filter(where.mask(batch))
            if batch.num_rows == 0:
                continue
        yield _complete(batch, wanted, currency)


def _complete(batch, wanted: list[str], currency: str):
    import pyarrow as pa

    from segments.advice import advice_array_in_currency

    arrays, names = [], []
    for name in wanted:
        if name == "currency":
            arrays.append(pa.array([currency] * batch.num_rows, pa.string()))
        elif name == "recommendation_reason" and name in batch.schema.names:
            arrays.append(advice_array_in_currency(batch.column(name).cast(pa.string()), currency))
        elif name in batch.schema.names:
            column = batch.column(name)
            if name not in NUMERIC_COLUMNS and not pa.types.is_string(column.type):
                column = column.cast(pa.string())
            arrays.append(column)
        else:
            arrays.append(pa.nulls(batch.num_rows, pa.string()))
        names.append(name)
    return pa.RecordBatch.from_arrays(arrays, names=names)


def open_customers_file(analysis):
    """The analysis's per-customer Parquet file, opened for reading through `segsaas.storage` (seekable: on S3
    `iter_customer_batches` fetches one row group at a time, nothing is copied whole)."""
    from segsaas import storage

    if not analysis.customers_file:
        raise FileNotFoundError(f"analysis {analysis.pk} has no per-customer results")
    return storage.open(analysis.customers_file)
