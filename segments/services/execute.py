"""Running an analysis in the worker: read the dataset, call the engine with the job's progress callback (so a
cancel stops it at the next stage), write the fitted model, the per-customer table and the chart sample through
the storage module, then store metrics, profiles and one `CustomerResult` row per customer in ONE transaction: a
failure or a cancel leaves no half result (`analysis_on_job_fail` removes what a failed run wrote)."""

from __future__ import annotations

import logging
import time

from django.db import connection, transaction
from django.utils import timezone

from segments.models import Analysis, CustomerResult
from segments.services.analyses import remove_analysis_files
from segments.services.results import bulk_insert_customers
from segments.services.summaries import chart_sample, feature_zscores, summarise
from segments.services.timeline import apply_continuity
from segsaas import storage

log = logging.getLogger(__name__)


def dataset_dataframe(dataset, version=None):
    """The dataset's normalised table (Parquet) as a DataFrame: the latest version's, or `version`'s."""
    from datasets.services import dataset_read_dataframe

    return dataset_read_dataframe(dataset, version=version)


# Peak memory of an analysis in a worker: the libraries and the model (~500 MB) plus about 100 bytes per cell of
# the customer table (the loaded table, its preprocessed copy, the per-customer results). Measured (bench/engine.py,
# segments/engine/NOTES.md): 100,000 x 16 cells -> 550 MB, 1,000,000 x 16 -> 1,450 MB; the worker adds the stored
# results on top, hence 100 rather than the engine's ~62 bytes per cell.
ANALYSIS_BASE_MB = 500
ANALYSIS_BYTES_PER_CELL = 100


def estimate_analysis_memory_mb(rows: int, columns: int) -> float:
    return ANALYSIS_BASE_MB + rows * columns * ANALYSIS_BYTES_PER_CELL / 2**20


# An order log is read streamed into compact arrays (customer code, day, amount: 16 bytes per order) and turned
# into purchase days and per-customer summaries; the segmentation then runs on the customer table built from it
# (ORDER_LOG_TABLE_COLUMNS per customer). Measured by bench/clv_worker.py (NOTES.md): see ORDER_BYTES.
ORDER_BYTES = 64
ORDER_LOG_TABLE_COLUMNS = 11


def estimate_order_log_memory_mb(orders: int, customers: int) -> float:
    return (
        ANALYSIS_BASE_MB
        + orders * ORDER_BYTES / 2**20
        + customers * ORDER_LOG_TABLE_COLUMNS * ANALYSIS_BYTES_PER_CELL / 2**20
    )


def analysis_memory_mb(*, params: dict, organization) -> float | None:
    """The analysis job's estimated peak memory, from its dataset's rows x columns (the jobs app's memory guard);
    for an order log from its orders and customers (the table segmented is one row per customer)."""
    analysis = (
        Analysis.objects.for_organization(organization)
        .select_related("dataset")
        .filter(pk=(params or {}).get("analysis_id"))
        .first()
    )
    if analysis is None:
        return None
    from segments.services.distributed import analysis_engine

    # the engine that would run it: the whole run on one worker, or the Dask path's fit sample; JobMemoryError
    # (naming why) when neither can take it
    return analysis_engine(analysis)["memory_mb"]


# Rows per Parquet row group of the per-customer table: exports and comparisons read it a row group at a time.
CUSTOMERS_ROW_GROUP = 100_000


def analysis_execute(*, analysis: Analysis, progress, engine: dict | None = None) -> dict:
    """Run the engine for this analysis and store its results. `progress(stage, percent)` may raise to cancel.
    `engine`: the choice made when the analysis was created (`distributed.analysis_engine`); a Dask choice runs
    the Dask path."""
    from segments.engine import AnalysisConfig, analyze

    if engine and engine.get("name") == "dask" and not analysis.dataset.is_order_log:
        from segments.services.distributed import analysis_execute_distributed

        return analysis_execute_distributed(analysis=analysis, engine=engine, progress=progress)
    started = time.monotonic()
    clv_result = None
    if analysis.dataset.is_order_log:
        # An order log: lifetime value fitted on the log, then the customer table built from it is segmented.
        from segments.services.lifetime import order_log_table

        df, clv_result = order_log_table(analysis, progress)
        start = 30.0
        progress(f"Built {len(df):,} customers from the order log", start)
    else:
        progress("Loading the dataset", 1)
        df = dataset_dataframe(analysis.dataset, analysis.dataset_version)
        start = 4.0
        progress(f"Loaded {len(df):,} rows", start)
    options = {k: v for k, v in analysis.config.items() if k != "clv"}
    if clv_result is not None:
        from segments.engine.clv.product import customer_table_config

        options.update(customer_table_config(df))  # without a model: RFM alone, no CLV columns
    config = AnalysisConfig.from_dict(options)
    scale = (90.0 - start) / 100.0

    def engine_progress(stage: str, percent: float) -> None:
        # The engine's own "Done" is not the end of the run: storing the results follows.
        progress(
            "Segmentation finished" if stage == "Done" else stage, start + scale * max(0.0, min(float(percent), 100.0))
        )

    result = analyze(df, config, progress=engine_progress)
    progress("Matching segments to the previous run", 90)
    continuity = apply_continuity(analysis, result)
    feature_z = feature_zscores(df, result.customers["segment"].to_numpy(), result.profiles, result.metrics)
    clv_extra = _with_lifetime_value(result, df, clv_result)
    del df
    progress("Saving the model and per-customer results", 91)

    model_rel = f"{analysis.storage_dir}/model.joblib"
    customers_rel = f"{analysis.storage_dir}/customers.parquet"
    charts_rel = f"{analysis.storage_dir}/chart_sample.parquet"
    with storage.local_target(model_rel) as path:
        result.model.save(path)
    customers = result.customers.reset_index(drop=True)
    storage.write_parquet(customers_rel, customers, row_group_size=CUSTOMERS_ROW_GROUP)
    storage.write_parquet(charts_rel, chart_sample(customers))
    summary = summarise(customers, result.profiles)
    summary["feature_z"] = feature_z
    if continuity is not None:
        summary["continuity"] = continuity
    if clv_extra:
        summary["clv"] = clv_extra["summary"]
    progress("Storing customer results", 94)
    metrics = dict(result.metrics)
    if engine:
        metrics["engine"] = {"name": engine.get("name", "single"), "reason": engine.get("reason", "")}
    metrics.setdefault("timings", {})
    if clv_extra:
        metrics["clv"] = clv_extra["metrics"]
    quality = metrics.get("quality") or {}
    silhouette = quality.get("silhouette") if isinstance(quality, dict) else None
    t0 = time.monotonic()

    def write_rows(staged: bool) -> int:
        bulk_insert_customers(analysis, customers, progress=progress if staged else None)
        return len(customers)

    def finish(count: int) -> dict:
        metrics["timings"]["store_customers_seconds"] = round(time.monotonic() - t0, 2)
        return {
            "metrics": metrics,
            "profiles": result.profiles,
            "summary": summary,
            "customer_count": count,
            "silhouette": silhouette,
            "model_file": model_rel,
            "customers_file": customers_rel,
            "charts_file": charts_rel,
        }

    if commit_results(analysis, result.profiles, progress, write_rows, finish) is None:
        return {"analysis_id": analysis.pk, "deleted": True}
    insert_seconds = metrics["timings"]["store_customers_seconds"]
    # Committed: from here on nothing may cancel or fail the run (no more progress calls, which raise on cancel).
    _refresh_planner_statistics(len(customers))
    _prebuild_figures(analysis)
    return {
        "analysis_id": analysis.pk,
        "segments": len(result.profiles),
        "customers": len(customers),
        "seconds": round(time.monotonic() - started, 1),
        "store_customers_seconds": round(insert_seconds, 2),
    }


def commit_results(analysis, profiles, progress, write_rows, finish) -> int | None:
    """Store a finished run's customer rows and mark the analysis finished: the one commit both engines use
    (the single-machine run above, the Dask path in services/distributed.py). ``write_rows(staged)`` inserts every
    customer row and returns how many; ``finish(count)`` returns the Analysis fields to set (called inside the final
    transaction). None when the analysis was deleted while it ran (its rows and files are removed).

    SQLite has ONE write lock for the whole database: a million rows in one transaction would hold it for ~20 s and
    stall every other writer (other jobs' progress, logins). There the rows go in first, in short transactions
    (``staged``); they stay invisible (selectors read only a finished analysis's rows) until the analysis row is
    marked finished below, and the fail hook deletes them if the run never gets there. PostgreSQL writes everything
    in the one final transaction (COPY, no global lock)."""
    rows = CustomerResult.objects.for_organization(analysis.organization).filter(analysis=analysis)
    staged = connection.vendor == "sqlite"
    count = 0
    if staged:
        rows.delete()  # a retry
        count = write_rows(True)
    with transaction.atomic():
        locked = (
            Analysis.objects.for_organization(analysis.organization).select_for_update().filter(pk=analysis.pk).first()
        )
        if locked is None:  # deleted while running
            rows.delete()
            remove_analysis_files(analysis)
            return None
        # The fence: raises (and rolls all this back) if the job was cancelled or this attempt was superseded.
        progress("Committing the results", 95)
        if not staged:
            rows.delete()  # a retry
            count = write_rows(False)
        Analysis.objects.for_organization(analysis.organization).filter(pk=analysis.pk).update(
            **finish(count),
            n_segments=len([p for p in profiles if p.get("segment", 0) >= 0]),
            engine_version=_engine_version(),
            finished_at=timezone.now(),
        )
    return count


def _with_lifetime_value(result, table, clv_result) -> dict | None:
    """An order-log run: the CLV columns join the per-customer results (same rows, same order), each profile gets
    its segment's CLV, and the evidence and chart aggregates are returned for the analysis row."""
    if clv_result is None:
        return None
    from segments.engine.clv.product import CLV_COLUMNS
    from segments.services.lifetime import clv_metrics, clv_summary, segment_clv

    result.model.clv = clv_result.scorer()  # predict scores a new customer's orders or history the same way
    if clv_result.eligible:
        for col in CLV_COLUMNS:
            result.customers[col] = table[col].to_numpy()
        segment_clv(result.profiles, result.customers)
    return {"metrics": clv_metrics(clv_result), "summary": clv_summary(table)}


def _refresh_planner_statistics(new_rows: int) -> None:
    """After a large COPY, PostgreSQL plans the first customer-page queries on stale statistics until autovacuum
    gets round to the table; ANALYZE samples it now (well under a second at a million rows)."""
    if connection.vendor != "postgresql" or new_rows < 50_000:
        return
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {CustomerResult._meta.db_table}")
    except Exception:  # noqa: BLE001 - only an optimisation; autovacuum will analyse the table later
        log.exception("ANALYZE after storing %s customer rows failed", new_rows)


def _prebuild_figures(analysis: Analysis) -> None:
    """Charts built once now so page views never pay for it; a failure here only means pages build them later."""
    from segments.charts import prebuild_figures

    try:
        analysis.refresh_from_db()
        prebuild_figures(analysis)
    except Exception:  # noqa: BLE001 - results are stored; the pages rebuild figures on demand
        log.exception("Could not pre-build the charts of analysis %s", analysis.pk)


def _engine_version() -> str:
    from segments.engine import ENGINE_VERSION

    return ENGINE_VERSION


def analysis_on_job_fail(job) -> None:
    """A failed or cancelled run leaves no files behind (its DB results were never written)."""
    analysis = (
        Analysis.objects.for_organization(job.organization).filter(pk=(job.params or {}).get("analysis_id")).first()
    )
    if analysis is not None and not analysis.customers_file:
        CustomerResult.objects.for_organization(job.organization).filter(analysis=analysis).delete()
        remove_analysis_files(analysis)
