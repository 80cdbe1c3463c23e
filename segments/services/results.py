"""Storing one `CustomerResult` row per customer: PostgreSQL's COPY inside the run's final transaction, or
batched INSERTs elsewhere."""

from __future__ import annotations

from django.db import connection, transaction

from segments.models import Analysis, CustomerResult


def bulk_insert_customers(analysis: Analysis, customers, progress=None, *, first_row: int = 0) -> None:
    """One row per customer. PostgreSQL: COPY into the caller's transaction. Elsewhere batched INSERTs; with
    `progress`, each batch commits on its own (and `progress` may raise to cancel between batches).
    `first_row`: the row number of `customers`' first row in the whole table (a Dask run loads partitions)."""
    import numpy as np
    import pandas as pd

    n = len(customers)
    frame = pd.DataFrame(
        {
            "organization_id": analysis.organization_id,
            "analysis_id": analysis.pk,
            "row_index": range(first_row, first_row + n),
            "customer_id": customers["customer_id"].astype(str).str.slice(0, 100)
            if "customer_id" in customers
            else [str(i) for i in range(n)],
            "segment": customers["segment"].astype("int64"),
            # no churn risk where it cannot be estimated: NULL, shown as "—", never a placeholder
            "churn_risk": pd.to_numeric(customers.get("churn_risk", np.nan), errors="coerce").astype("float64"),
            # no LTV where it cannot be computed (no money column): NULL, shown as "—", never a made-up 0
            "predicted_ltv": pd.to_numeric(customers.get("predicted_ltv", np.nan), errors="coerce").astype("float64"),
            "value_tier": _text_col(customers, "value_tier", n),
            "risk_level": _text_col(customers, "risk_level", n),
            "engagement_level": _text_col(customers, "engagement_level", n),
            "lifecycle_stage": _text_col(customers, "lifecycle_stage", n),
            "recommendation": _text_col(customers, "recommendation", n, 200),
            "recommendation_reason": _text_col(customers, "recommendation_reason", n, 300),
        }
    )
    from segments.engine.clv.product import CLV_COLUMNS

    for col in CLV_COLUMNS:  # order-log analyses only: NULL elsewhere
        if col in customers:
            frame[col] = pd.to_numeric(customers[col], errors="coerce").astype("float64")
    table = CustomerResult._meta.db_table
    columns = list(frame.columns)
    if connection.vendor == "postgresql":
        import io

        # an empty text (a column a Dask run does not produce, e.g. lifecycle_stage) is '', never NULL
        texts = ", ".join(c for c in columns if frame[c].dtype == object or str(frame[c].dtype) in ("str", "string"))
        with connection.cursor() as cursor:
            for start in range(0, n, 250_000):
                buf = io.StringIO()
                frame.iloc[start : start + 250_000].to_csv(buf, index=False, header=False)
                with cursor.copy(
                    f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv, FORCE_NOT_NULL ({texts}))"
                ) as copy:
                    copy.write(buf.getvalue())
        return
    placeholders = ", ".join(["%s"] * len(columns))
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders})"  # noqa: S608 - fixed identifiers  # nosec B608
    for start in range(0, n, 50_000):
        chunk = frame.iloc[start : start + 50_000]
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(sql, list(chunk.itertuples(index=False, name=None)))
        if progress is not None:
            done = min(start + 50_000, n)
            progress(f"Storing customer results ({done:,} of {n:,})", 94 + 3 * done / max(n, 1))


def _text_col(customers, name: str, n: int, width: int = 20):
    if name not in customers:
        return [""] * n
    return customers[name].astype(str).fillna("").str.slice(0, width)
