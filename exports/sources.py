"""Per-customer results, read in batches so that a million customers never sit in memory at once.

The source is the analysis's per-customer Parquet file (written by the analysis run) or, for the pure
writers and their tests, the engine's `result.customers` DataFrame.
"""

from __future__ import annotations

from collections.abc import Iterator

# (column in the results, header for people): the columns every customer export carries, in order.
CUSTOMER_COLUMNS = [
    ("customer_id", "Customer ID"),
    ("segment", "Segment"),
    ("segment_name", "Segment name"),
    ("churn_risk", "Churn risk"),
    ("predicted_ltv", "Predicted LTV"),
    ("value_tier", "Value tier"),
    ("risk_level", "Risk level"),
    ("lifecycle_stage", "Lifecycle stage"),
    ("top_recommendation", "Top recommendation"),
]
NUMERIC_COLUMNS = {"segment", "churn_risk", "predicted_ltv"}
DEFAULT_BATCH_ROWS = 20_000


def iter_customer_batches(
    source, *, segment: int | None = None, batch_size: int = DEFAULT_BATCH_ROWS, columns: list[str] | None = None
) -> Iterator:
    """pyarrow RecordBatches of the customers (optionally of one segment), in the analysis's row order.

    `source`: a path or binary file object of the per-customer Parquet file, or a pandas DataFrame.
    Columns missing from the source are filled with empty text, so older results still export.
    """
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    wanted = columns or [name for name, _ in CUSTOMER_COLUMNS]
    if hasattr(source, "iloc"):  # a DataFrame
        present = [c for c in wanted if c in source.columns]
        table = pa.Table.from_pandas(source[present], preserve_index=False)
        batches = table.to_batches(max_chunksize=batch_size)
    else:
        parquet = pq.ParquetFile(source)
        present = [c for c in wanted if c in parquet.schema_arrow.names]
        batches = parquet.iter_batches(batch_size=batch_size, columns=present)
    for batch in batches:
        if segment is not None:
            batch = batch.filter(
                pc.equal(batch.column("segment"), pa.scalar(int(segment), batch.schema.field("segment").type))
            )
            if batch.num_rows == 0:
                continue
        yield _complete(batch, wanted)


def _complete(batch, wanted: list[str]):
    import pyarrow as pa

    arrays, names = [], []
    for name in wanted:
        if name in batch.schema.names:
            column = batch.column(name)
            if name not in NUMERIC_COLUMNS and not pa.types.is_string(column.type):
                column = column.cast(pa.string())
            arrays.append(column)
        else:
            arrays.append(pa.nulls(batch.num_rows, pa.string()))
        names.append(name)
    return pa.RecordBatch.from_arrays(arrays, names=names)


def open_customers_file(analysis):
    """The analysis's per-customer Parquet file, opened through the storage backend (file system or S3)."""
    from django.core.files.storage import default_storage

    if not analysis.customers_file:
        raise FileNotFoundError(f"analysis {analysis.pk} has no per-customer results")
    return default_storage.open(analysis.customers_file, "rb")
