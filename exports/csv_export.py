"""Customers CSV: written batch by batch (constant memory), formula injection neutralised."""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator

from exports.safety import neutralise_array
from exports.sources import CUSTOMER_COLUMNS

ROUNDING = {
    "churn_risk": 4,
    "predicted_ltv": 2,
    "p_active": 4,
    "expected_purchases": 3,
    "clv": 2,
    "clv_low": 2,
    "clv_high": 2,
}


def csv_chunks(batches: Iterable, columns: list[tuple[str, str]] | None = None) -> Iterator[bytes]:
    """UTF-8 CSV bytes: the header, then one chunk per batch of customers (`columns`: default CUSTOMER_COLUMNS;
    `exports.sources.customer_columns(analysis)` adds the CLV ones)."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    header = ",".join(name for name, _ in columns or CUSTOMER_COLUMNS) + "\n"
    yield header.encode()
    options = pacsv.WriteOptions(include_header=False, quoting_style="needed")
    for batch in batches:
        arrays = []
        for name in batch.schema.names:
            column = batch.column(name)
            if name in ROUNDING:
                column = pc.round(column, ROUNDING[name])
            elif pa.types.is_string(column.type):
                column = neutralise_array(column)
            arrays.append(column)
        out = io.BytesIO()
        pacsv.write_csv(pa.RecordBatch.from_arrays(arrays, names=batch.schema.names), out, write_options=options)
        yield out.getvalue()
