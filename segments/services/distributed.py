"""Which engine runs an analysis, and the run on the Dask path for a table too large for one worker.

`analysis_engine()` is the one decision: the single-machine engine while the dataset is at most
`SEGSAAS_DASK_MIN_ROWS` customers and its estimated memory fits `WORKER_MEMORY_BUDGET_MB`; else the Dask path
(`segments/engine/dask_path.py`), which holds only the fit sample in the worker; refused (JobMemoryError naming
why) when the Dask path cannot take it either. The choice and its reason are stored with the job when the analysis
is created (the job's params) and with the results (`metrics["engine"]`), and pages and the API show them.

`analysis_execute_distributed()` runs the Dask path on the dataset's Parquet table where it is stored (local disk
or the bucket: the Dask workers read it themselves), writes the per-customer results as Parquet partitions, then
takes them one partition at a time: into the analysis's `customers.parquet` (the file exports read), the chart
sample, the summary, and the database (COPY on PostgreSQL inside the run's final transaction; batched INSERTs in
short transactions on SQLite, as the single-machine run does)."""

from __future__ import annotations

import logging
import time

from django.conf import settings

from segsaas import storage

log = logging.getLogger(__name__)

SINGLE = "single"
DASK = "dask"
ENGINE_LABELS = {SINGLE: "One worker (single machine)", DASK: "Dask (partition by partition)"}


def _table_shape(analysis) -> tuple[int, int]:
    version = analysis.dataset_version
    if version is not None and version.row_count:
        return int(version.row_count), int(version.column_count)
    return int(analysis.dataset.row_count), int(analysis.dataset.column_count)


def analysis_engine(analysis) -> dict:
    """{"name": "single" | "dask", "label", "reason", "memory_mb"} for this analysis; JobMemoryError (naming why)
    when neither engine can take it. `memory_mb` is the estimated peak of the heavy worker's process: the whole
    run on one machine, or on the Dask path the sample the models are fitted on."""
    from jobs.services import JobMemoryError
    from segments.engine import AnalysisConfig, dask_path
    from segments.services.execute import estimate_analysis_memory_mb, estimate_order_log_memory_mb

    rows, columns = _table_shape(analysis)
    budget = settings.WORKER_MEMORY_BUDGET_MB
    need = estimate_analysis_memory_mb(rows, columns)
    check = analysis.dataset.order_log if analysis.dataset.is_order_log else {}
    if check.get("customers"):  # an order log is read streamed; the table segmented is one row per customer
        need = estimate_order_log_memory_mb(int(analysis.dataset.row_count), int(check["customers"]))
    many = dask_path.wants_dask(rows)
    too_big = need > budget
    if not many and not too_big:
        return _choice(
            SINGLE,
            f"{rows:,} customers (at most SEGSAAS_DASK_MIN_ROWS = {dask_path.DASK_MIN_ROWS:,}), about {need:,.0f} MB, "
            f"within the {budget:,} MB a worker may use",
            need,
        )
    if many:
        why = f"{rows:,} customers, more than SEGSAAS_DASK_MIN_ROWS = {dask_path.DASK_MIN_ROWS:,}"
    else:
        why = (
            f"it would need about {need:,.0f} MB on one worker, more than the {budget:,} MB a worker may use "
            "(WORKER_MEMORY_BUDGET_MB)"
        )
    refused = f"This analysis cannot run: {why}"
    if analysis.dataset.is_order_log:
        if not too_big:
            return _choice(SINGLE, f"an order log runs on one worker ({why}), about {need:,.0f} MB", need)
        raise JobMemoryError(
            f"{refused}, and the Dask path takes customer tables only (an order log is turned into its customer "
            "table in one process). Use a shorter order log or ask your administrator to raise the limit.",
            field="dataset",
        )
    config = AnalysisConfig.from_dict({k: v for k, v in (analysis.config or {}).items() if k != "clv"})
    sample = config.fit_sample_size
    if not sample:
        if not too_big:
            return _choice(SINGLE, f"{why}, but this run fits on every row (no sample), about {need:,.0f} MB", need)
        raise JobMemoryError(
            f"{refused}, and it fits its models on every row (no fit sample), which the Dask path would also hold "
            "in one process. Set a fit sample size, use a smaller dataset, or ask your administrator to raise the "
            "limit.",
            field="dataset",
        )
    driver = estimate_analysis_memory_mb(min(rows, int(sample)), columns)
    if driver > budget:
        raise JobMemoryError(
            f"{refused}, and even on the Dask path fitting on its {min(rows, int(sample)):,}-row sample of "
            f"{columns:,} columns would need about {driver:,.0f} MB, more than the {budget:,} MB a worker may use "
            "(WORKER_MEMORY_BUDGET_MB). Use fewer columns or a smaller fit sample, or ask your administrator to "
            "raise the limit.",
            field="dataset",
        )
    where = (
        f"the Dask cluster at {settings.DASK_SCHEDULER_ADDRESS}"
        if settings.DASK_SCHEDULER_ADDRESS
        else (f"a local Dask cluster of {settings.DASK_LOCAL_WORKERS} worker processes")
    )
    return _choice(
        DASK,
        f"{why}: models fitted on a {min(rows, int(sample)):,}-row sample (about {driver:,.0f} MB), every customer "
        f"scored partition by partition on {where}",
        driver,
    )


def _choice(name: str, reason: str, memory_mb: float) -> dict:
    return {"name": name, "label": ENGINE_LABELS[name], "reason": reason, "memory_mb": round(float(memory_mb), 1)}


def engine_of(analysis) -> dict | None:
    """The engine that ran (or will run) this analysis and why: from its results, else from its job."""
    engine = (analysis.metrics or {}).get("engine")
    if not engine and analysis.job_id:
        engine = (analysis.job.params or {}).get("engine")
    if not isinstance(engine, dict) or engine.get("name") not in ENGINE_LABELS:
        return None
    return {"name": engine["name"], "label": ENGINE_LABELS[engine["name"]], "reason": engine.get("reason", "")}


def _data_file(analysis) -> str:
    version = analysis.dataset_version
    if version is not None and version.data_file:
        return version.data_file
    return analysis.dataset.data_file.name


def analysis_execute_distributed(*, analysis, engine: dict, progress) -> dict:
    """The Dask path for this analysis (see the module's docstring); `progress` may raise to cancel."""
    from segments.engine import AnalysisConfig
    from segments.engine.dask_path import analyze_distributed
    from segments.services.execute import CUSTOMERS_ROW_GROUP, _prebuild_figures, commit_results
    from segments.services.results import bulk_insert_customers
    from segments.services.summaries import chart_sample, feature_zscores, summary_from_parts, summary_part

    started = time.monotonic()
    config = AnalysisConfig.from_dict({k: v for k, v in (analysis.config or {}).items() if k != "clv"})
    source, options = storage.dask_location(_data_file(analysis))
    parts_rel = f"{analysis.storage_dir}/customer-partitions"
    storage.delete_tree(parts_rel)  # a retry starts afresh
    output, _ = storage.dask_location(parts_rel)
    progress(f"Running on Dask: {engine['reason']}", 2)

    def engine_progress(stage: str, percent: float) -> None:
        progress(stage if stage != "Done" else "Segmentation finished", 2 + 0.86 * max(0.0, min(float(percent), 100.0)))

    result = analyze_distributed(
        source,
        config,
        output,
        scheduler_address=settings.DASK_SCHEDULER_ADDRESS or None,
        n_workers=settings.DASK_LOCAL_WORKERS,
        memory_limit=f"{settings.WORKER_MEMORY_BUDGET_MB}MiB",
        storage_options=options,
        split_row_groups=True,  # the dataset is one Parquet file: each row group is a partition
        progress=engine_progress,
    )
    progress("Saving the model", 89)
    model_rel = f"{analysis.storage_dir}/model.joblib"
    customers_rel = f"{analysis.storage_dir}/customers.parquet"
    charts_rel = f"{analysis.storage_dir}/chart_sample.parquet"
    with storage.local_target(model_rel) as path:
        result.model.save(path)
    part_names = [n for n in storage.list_tree(parts_rel) if n.endswith(".parquet")]
    part_names.sort(key=_partition_number)

    parts: list[dict] = []
    samples = []

    def load(insert: bool) -> int:
        """Every partition once, in table order: into customers.parquet, the summary, the chart sample and (when
        `insert`) the database. Returns the customers loaded."""
        import pandas as pd
        import pyarrow as pa
        import pyarrow.parquet as pq

        parts.clear()
        samples.clear()
        offset = 0
        with storage.local_target(customers_rel) as path:
            writer = None
            try:
                for i, name in enumerate(part_names):
                    frame = storage.read_parquet(name)
                    if not len(frame):
                        continue
                    table = pa.Table.from_pandas(frame, preserve_index=False)
                    if writer is None:
                        writer = pq.ParquetWriter(path, table.schema)
                    writer.write_table(table, row_group_size=CUSTOMERS_ROW_GROUP)
                    parts.append(summary_part(frame))
                    samples.append(chart_sample(frame))
                    if insert:
                        bulk_insert_customers(analysis, frame, first_row=offset)
                        progress(
                            f"Storing customer results (partition {i + 1} of {len(part_names)})",
                            91 + 4 * (i + 1) / max(len(part_names), 1),
                        )
                    offset += len(frame)
            finally:
                if writer is not None:
                    writer.close()
            if writer is None:  # nothing scored: an empty file of the output's columns
                from segments.engine.dask_path import OUTPUT_COLUMNS

                pd.DataFrame({c: pd.Series([], dtype=t) for c, t in OUTPUT_COLUMNS.items()}).to_parquet(path)
        return offset

    t0 = time.monotonic()

    def finish(count: int) -> dict:
        import pandas as pd

        sample = chart_sample(pd.concat(samples, ignore_index=True)) if samples else None
        if sample is not None:
            storage.write_parquet(charts_rel, sample)
        summary = summary_from_parts(parts) if parts else {"customers": 0}
        summary["feature_z"] = feature_zscores(pd.DataFrame(), [], result.profiles, result.metrics)
        metrics = dict(result.metrics)
        metrics["engine"] = {"name": engine["name"], "reason": engine["reason"]}
        metrics.setdefault("timings", {})["store_customers_seconds"] = round(time.monotonic() - t0, 2)
        quality = metrics.get("quality") or {}
        return {
            "metrics": metrics,
            "profiles": result.profiles,
            "summary": summary,
            "customer_count": count,
            "silhouette": quality.get("silhouette") if isinstance(quality, dict) else None,
            "model_file": model_rel,
            "customers_file": customers_rel,
            "charts_file": charts_rel if sample is not None else "",
        }

    loaded = commit_results(analysis, result.profiles, progress, lambda staged: load(insert=True), finish)
    if loaded is None:
        return {"analysis_id": analysis.pk, "deleted": True}
    # Committed: the partitions are in customers.parquet and the database now.
    try:
        storage.delete_tree(parts_rel)
    except Exception:  # noqa: BLE001 - only space; they go with the dataset's directory
        log.exception("Could not remove the Dask partitions of analysis %s", analysis.pk)
    _prebuild_figures(analysis)
    return {
        "analysis_id": analysis.pk,
        "engine": engine["name"],
        "segments": len(result.profiles),
        "customers": loaded,
        "partitions": result.partitions,
        "seconds": round(time.monotonic() - started, 1),
    }


def _partition_number(name: str) -> int:
    """Dask names its output `part.<n>.parquet`: table order is by n (part.10 after part.9)."""
    import re

    found = re.search(r"(\d+)\.parquet$", name)
    return int(found.group(1)) if found else 0
