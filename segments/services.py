"""Analyses: create, run (in the worker), cancel, delete. Pages, the API, the `run_analysis` command
and the job handler all go through these functions.

A run reads the dataset's Parquet file, calls the engine with the job's progress callback (so a
cancel stops it at the next stage), writes the fitted model and the per-customer table as files
under the dataset's storage directory, and then stores metrics, profiles and one `CustomerResult`
row per customer in ONE transaction: a failure or a cancel leaves no half result.
"""

from __future__ import annotations

import logging
import shutil
import time
from pathlib import Path

from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.utils import timezone

from segments.engine.errors import UserFacingError
from segments.models import COLOR_SCHEMES, DEFAULT_COLOR_SCHEME, Analysis, CustomerResult

log = logging.getLogger(__name__)

JOB_KIND = "analysis.run"
# Points per segment kept for the scatter charts: enough to see the shape, small enough to draw fast.
CHART_SAMPLE_PER_SEGMENT = 2_000
# The settings of a run that are not column roles (the form's, the API's and the command's options), and their
# defaults.
DEFAULT_SETTINGS = {"algorithm": "kmeans", "n_clusters": None, "k_min": 2, "k_max": 10, "nlp": True, "random_state": 42}


class AnalysisError(UserFacingError):
    """An analysis that cannot be started as asked; `field` names the setting at fault."""


# --- configuration -------------------------------------------------------------------------------


def analysis_default_config(dataset) -> dict:
    """The engine config a new analysis of this dataset starts from: its confirmed (or detected) column roles."""
    from datasets.services import dataset_analysis_defaults

    return {**DEFAULT_SETTINGS, **dataset_analysis_defaults(dataset)}


def analysis_config(
    *,
    dataset,
    roles: dict | None = None,
    behaviour: dict | None = None,
    settings: dict | None = None,
    config: dict | None = None,
) -> dict:
    """The engine config of a run, checked against the dataset up front: the same rules for the page, the API
    and the command. `roles` ({column: role or "auto"}, for all columns or some) and `behaviour` (the recency,
    frequency and tenure columns) go on top of `config` (default: the dataset's own roles); `settings` on
    top of that. Raises AnalysisError naming the field: an unknown column, two customer ids or churn labels, a
    column with two roles, a behaviour column that is neither a number nor a date, a setting out of range."""
    from segments.engine import (
        AUTO,
        BEHAVIOUR_KEYS,
        AnalysisConfig,
        EngineError,
        analysis_roles,
        behaviour_role_errors,
        config_from_roles,
        roles_from_config,
    )
    from segments.engine.config import declared_columns

    columns = dataset.column_names
    config = dict(config) if config is not None else analysis_default_config(dataset)
    behaviour = behaviour or {}
    unknown = [
        AnalysisError(f"Column {c!r} is not in dataset “{dataset.name}”.", field="roles")
        for c in roles or {}
        if c not in columns
    ] + [
        AnalysisError(f"{behaviour[key]!r} is not a column of dataset “{dataset.name}”.", field=key)
        for key in BEHAVIOUR_KEYS
        if behaviour.get(key) and behaviour[key] not in columns
    ]
    if unknown:
        raise AnalysisError.of(unknown)
    chosen = {key: behaviour[key] or None if key in behaviour else config.get(key) for key in BEHAVIOUR_KEYS}
    try:
        if roles is not None:
            current = roles_from_config(config, columns) if config is not None else dataset.roles or {}
            current = dataset.in_column_order({c: r for c, r in current.items() if r != AUTO})
            merged = analysis_roles(current, dataset.in_column_order(roles))
            config.update(config_from_roles(dataset.in_column_order(merged), chosen))
        else:
            config.update(chosen)
        config.update({key: value for key, value in (settings or {}).items() if key in DEFAULT_SETTINGS})
        clean = AnalysisConfig.from_dict(config).to_dict()
    except EngineError as exc:
        raise AnalysisError(exc.message, field=exc.field) from exc
    undeclared = [c for c in declared_columns(clean) if c not in columns]
    if undeclared:
        raise AnalysisError(f"Column {undeclared[0]!r} is not in dataset “{dataset.name}”.", field="roles")
    declared = roles_from_config(clean, columns)
    effective = {c: dataset.column_role(c, declared.get(c)) for c in columns}
    errors = behaviour_role_errors(effective, chosen)
    if errors:
        raise AnalysisError.of(errors)
    return clean


# --- create / cancel / delete --------------------------------------------------------------------


def analysis_create(
    *,
    organization,
    dataset,
    roles: dict | None = None,
    behaviour: dict | None = None,
    settings: dict | None = None,
    config: dict | None = None,
    name: str = "",
    created_by=None,
    color_scheme: str = DEFAULT_COLOR_SCHEME,
    rerun_of: Analysis | None = None,
) -> Analysis:
    """Check the run's settings (`analysis_config`), store the analysis and queue its job (dispatched once the
    transaction commits). Raises AnalysisError, with the field at fault, before anything is stored."""
    from jobs.services import job_create

    if dataset.organization_id != organization.pk:
        raise AnalysisError("This dataset belongs to another organization.", field="dataset")
    if dataset.status != "ready":
        raise AnalysisError(f"Dataset “{dataset.name}” is not ready yet (status: {dataset.status}).", field="dataset")
    if color_scheme not in COLOR_SCHEMES:
        raise AnalysisError(
            f"Unknown colour scheme {color_scheme!r}; choose one of {', '.join(COLOR_SCHEMES)}.", field="color_scheme"
        )
    if rerun_of is not None and rerun_of.organization_id != organization.pk:
        raise AnalysisError("Cannot re-run another organization's analysis.")
    clean = analysis_config(dataset=dataset, roles=roles, behaviour=behaviour, settings=settings, config=config)
    name = (name or "").strip()
    if not name or is_default_name(name, dataset):
        # An automatic name describes the run's own settings: one carried over from another run (a re-run with
        # changed settings) is replaced. A name a person typed is kept.
        name = default_name(dataset, clean)
    with transaction.atomic():
        analysis = Analysis.objects.for_organization(organization).create(
            dataset=dataset,
            name=name[:200],
            config=clean,
            color_scheme=color_scheme,
            created_by=created_by if getattr(created_by, "pk", None) else None,
            rerun_of=rerun_of,
        )
        analysis.job = job_create(
            organization=organization, kind=JOB_KIND, params={"analysis_id": analysis.pk}, created_by=created_by
        )
        analysis.save(update_fields=["job"])
    return analysis


_RERUN_SUFFIX = " (re-run)"
# Algorithm names in automatic analysis names before they were the vocabulary's labels (still recognised).
_OLD_ALGORITHM_NAMES = ("k-means", "agglomerative")


def default_name(dataset, config: dict) -> str:
    """The automatic name of a run: the dataset and the run's own settings."""
    from segments.engine.vocabulary import algorithm_label

    algorithm = config.get("algorithm", "kmeans")
    label = algorithm_label(algorithm)
    if algorithm == "dbscan":
        return f"{dataset.name} · {label}"
    if config.get("n_clusters"):
        k = f"k={config['n_clusters']}"
    else:
        k = f"auto k ({config.get('k_min', 2)}–{config.get('k_max', 10)})"
    return f"{dataset.name} · {label} · {k}"


def is_default_name(name: str, dataset) -> bool:
    """Whether `name` is an automatic name (of any settings, with any number of " (re-run)" suffixes,
    older formats included) rather than one a person typed."""
    import re

    from segments.engine.vocabulary import ALGORITHMS

    algorithms = {*ALGORITHMS, *(a.label for a in ALGORITHMS.values()), *_OLD_ALGORITHM_NAMES}
    pattern = (
        rf"{re.escape(dataset.name)} · (?:{'|'.join(re.escape(a) for a in sorted(algorithms))})"
        r"(?: · (?:k=\d+|auto k(?: \(\d+–\d+\))?))?"
        rf"(?:{re.escape(_RERUN_SUFFIX)})*"
    )
    return re.fullmatch(pattern, (name or "").strip()) is not None


def analysis_cancel(*, analysis: Analysis) -> Analysis:
    from jobs.services import job_cancel

    if analysis.job_id and analysis.job.is_active:
        job_cancel(analysis.job)
        analysis.job.refresh_from_db()
    return analysis


def analysis_delete(*, analysis: Analysis, actor=None) -> None:
    """Stop the run if it is still going, remove its files, rows and the record; audited."""
    from accounts.services import audit

    analysis_cancel(analysis=analysis)
    organization, name = analysis.organization, analysis.name
    remove_analysis_files(analysis)
    with transaction.atomic():
        job = analysis.job
        analysis.delete()
        if job is not None and not job.is_active:
            job.delete()
    audit(organization=organization, action="analysis.deleted", actor=actor, target=name)


def remove_analysis_files(analysis: Analysis) -> None:
    path = Path(default_storage.path(analysis.storage_dir))
    if path.exists():
        shutil.rmtree(path, ignore_errors=True)


# --- running (in the worker) ---------------------------------------------------------------------


def dataset_dataframe(dataset):
    """The dataset's normalised table (Parquet) as a DataFrame."""
    try:
        from datasets.services import dataset_read_dataframe
    except ImportError:
        dataset_read_dataframe = None
    if dataset_read_dataframe is not None:
        return dataset_read_dataframe(dataset)
    import pandas as pd

    if not dataset.data_file:
        raise ValueError(f"dataset {dataset.pk} has no data file")
    with dataset.data_file.open("rb") as fh:
        return pd.read_parquet(fh)


def analysis_execute(*, analysis: Analysis, progress) -> dict:
    """Run the engine for this analysis and store its results. `progress(stage, percent)` may raise to cancel."""
    from segments.engine import AnalysisConfig, analyze

    started = time.monotonic()
    progress("Loading the dataset", 1)
    df = dataset_dataframe(analysis.dataset)
    progress(f"Loaded {len(df):,} rows", 4)
    config = AnalysisConfig.from_dict(analysis.config)

    def engine_progress(stage: str, percent: float) -> None:
        # The engine's own "Done" is not the end of the run: storing the results follows.
        progress("Segmentation finished" if stage == "Done" else stage, 4 + 0.86 * max(0.0, min(float(percent), 100.0)))

    result = analyze(df, config, progress=engine_progress)
    feature_z = feature_zscores(df, result.customers["segment"].to_numpy(), result.profiles, result.metrics)
    del df
    progress("Saving the model and per-customer results", 91)
    directory = Path(default_storage.path(analysis.storage_dir))
    directory.mkdir(parents=True, exist_ok=True)
    model_rel = f"{analysis.storage_dir}/model.joblib"
    customers_rel = f"{analysis.storage_dir}/customers.parquet"
    charts_rel = f"{analysis.storage_dir}/chart_sample.parquet"
    result.model.save(default_storage.path(model_rel))
    customers = result.customers.reset_index(drop=True)
    customers.to_parquet(default_storage.path(customers_rel), index=False)
    chart_sample(customers).to_parquet(default_storage.path(charts_rel), index=False)
    summary = summarise(customers, result.profiles)
    summary["feature_z"] = feature_z
    progress("Storing customer results", 94)
    metrics = dict(result.metrics)
    metrics.setdefault("timings", {})
    quality = metrics.get("quality") or {}
    silhouette = quality.get("silhouette") if isinstance(quality, dict) else None
    rows = CustomerResult.objects.for_organization(analysis.organization).filter(analysis=analysis)
    # SQLite has ONE write lock for the whole database: a million rows in one transaction would hold it for
    # ~20 s and stall every other writer (other jobs' progress, logins). There the rows go in first, in short
    # transactions; they stay invisible (selectors read only a finished analysis's rows) until the analysis
    # row is marked finished below, and the fail hook deletes them if the run never gets there.
    # PostgreSQL writes everything in the one final transaction (COPY, no global lock).
    staged = connection.vendor == "sqlite"
    t0 = time.monotonic()
    if staged:
        rows.delete()  # a retry
        bulk_insert_customers(analysis, customers, progress=progress)
    with transaction.atomic():
        locked = (
            Analysis.objects.for_organization(analysis.organization).select_for_update().filter(pk=analysis.pk).first()
        )
        if locked is None:  # deleted while running
            rows.delete()
            remove_analysis_files(analysis)
            return {"analysis_id": analysis.pk, "deleted": True}
        if not staged:
            rows.delete()  # a retry
            bulk_insert_customers(analysis, customers)
        insert_seconds = time.monotonic() - t0
        metrics["timings"]["store_customers_seconds"] = round(insert_seconds, 2)
        Analysis.objects.for_organization(analysis.organization).filter(pk=analysis.pk).update(
            metrics=metrics,
            profiles=result.profiles,
            summary=summary,
            n_segments=len([p for p in result.profiles if p.get("segment", 0) >= 0]),
            customer_count=len(customers),
            silhouette=silhouette,
            engine_version=str(getattr(result, "engine_version", "") or _engine_version()),
            model_file=model_rel,
            customers_file=customers_rel,
            charts_file=charts_rel,
            finished_at=timezone.now(),
        )
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
    from segments import engine

    return getattr(engine, "ENGINE_VERSION", "")


def chart_sample(customers, per_segment: int | None = None, seed: int = 42):
    """Up to `per_segment` customers of each segment (seeded), for scatter and distribution charts."""
    import numpy as np
    import pandas as pd

    per_segment = per_segment or CHART_SAMPLE_PER_SEGMENT
    rng = np.random.default_rng(seed)
    seg = customers["segment"].to_numpy()
    picks = []
    for s in np.unique(seg):
        idx = np.flatnonzero(seg == s)
        if len(idx) > per_segment:
            idx = np.sort(rng.choice(idx, per_segment, replace=False))
        picks.append(idx)
    idx = np.concatenate(picks) if picks else np.array([], dtype=np.int64)
    cols = [
        c
        for c in ("customer_id", "segment", "pca_x", "pca_y", "churn_risk", "predicted_ltv", "lifecycle_stage")
        if c in customers.columns
    ]
    sample = customers.iloc[idx][cols].copy()
    sample["customer_id"] = sample["customer_id"].astype(str)
    for c in ("pca_x", "pca_y", "churn_risk", "predicted_ltv"):
        if c in sample:
            sample[c] = pd.to_numeric(sample[c], errors="coerce").astype("float32")
    return sample.reset_index(drop=True)


LIFECYCLE_ORDER = ["new", "active", "at_risk", "dormant"]
HEATMAP_MAX_FEATURES = 14


def feature_zscores(df, labels, profiles: list[dict], metrics: dict) -> dict:
    """Per segment, the mean of each profiled numeric column in standard deviations from the population."""
    import numpy as np
    import pandas as pd

    profiled = list(((profiles or [{}])[0].get("stats") or {}).keys())
    ranked = [d.get("feature") for d in (metrics.get("feature_importance") or []) if isinstance(d, dict)]
    order = [c for c in ranked if c in profiled] + [c for c in profiled if c not in ranked]

    def engine_z(p, c):
        stat = (p.get("stats") or {}).get(c)
        return stat.get("z") if isinstance(stat, dict) else None

    # The engine's own figure (the one "what sets it apart" prints), on the values it read from messy cells too.
    with_z = [c for c in order if profiles and all(engine_z(p, c) is not None for p in profiles)]
    if with_z:
        features = with_z[:HEATMAP_MAX_FEATURES]
        return {
            "features": features,
            "z": {str(int(p["segment"])): [round(float(engine_z(p, c)), 4) for c in features] for p in profiles},
        }
    # Analyses stored before the engine reported z: recompute from the dataset's numeric columns.
    features, columns = [], []
    for name in order:
        if name not in df.columns:
            continue
        values = (
            pd.to_numeric(df[name], errors="coerce")
            if not pd.api.types.is_bool_dtype(df[name])
            else df[name].astype(float)
        )
        if values.notna().sum() < 2 or not np.isfinite(values.std()) or values.std() == 0:
            continue
        features.append(name)
        columns.append(values.astype("float64"))
        if len(features) == HEATMAP_MAX_FEATURES:
            break
    if not features:
        return {}
    frame = pd.concat(columns, axis=1, keys=features)
    z = (frame.groupby(np.asarray(labels)).mean() - frame.mean()) / frame.std(ddof=0)
    return {
        "features": features,
        "z": {
            str(int(s)): [round(float(v), 4) if np.isfinite(v) else 0.0 for v in row]
            for s, row in zip(z.index, z.to_numpy(), strict=True)
        },
    }


def summarise(customers, profiles: list[dict]) -> dict:
    """Aggregates the pages need that are cheaper to compute once here than per page view."""
    import numpy as np
    import pandas as pd

    out: dict = {"customers": len(customers), "sample_per_segment": CHART_SAMPLE_PER_SEGMENT}
    seg = customers["segment"]
    out["segment_sizes"] = {str(int(k)): int(v) for k, v in seg.value_counts().sort_index().items()}
    if "lifecycle_stage" in customers:
        table = pd.crosstab(seg, customers["lifecycle_stage"].astype(str))
        stages = [s for s in LIFECYCLE_ORDER if s in table.columns] + [
            s for s in table.columns if s not in LIFECYCLE_ORDER
        ]
        out["lifecycle"] = {
            "stages": stages,
            "counts": {str(int(s)): [int(table.loc[s, st]) for st in stages] for s in table.index},
        }
    if "predicted_ltv" in customers:
        ltv = pd.to_numeric(customers["predicted_ltv"], errors="coerce")
        out["total_predicted_ltv"] = float(np.nansum(ltv))
        out["avg_predicted_ltv"] = float(np.nanmean(ltv)) if len(ltv) else None
    if "churn_risk" in customers:
        churn = pd.to_numeric(customers["churn_risk"], errors="coerce")
        out["avg_churn_risk"] = float(np.nanmean(churn)) if len(churn) else None
        out["high_risk_customers"] = int((churn >= 0.5).sum())
    return out


def bulk_insert_customers(analysis: Analysis, customers, progress=None) -> None:
    """One row per customer. PostgreSQL: COPY into the caller's transaction. Elsewhere batched INSERTs; with
    `progress`, each batch commits on its own (and `progress` may raise to cancel between batches)."""
    import pandas as pd

    n = len(customers)
    frame = pd.DataFrame(
        {
            "organization_id": analysis.organization_id,
            "analysis_id": analysis.pk,
            "row_index": range(n),
            "customer_id": customers["customer_id"].astype(str).str.slice(0, 100)
            if "customer_id" in customers
            else [str(i) for i in range(n)],
            "segment": customers["segment"].astype("int64"),
            "churn_risk": pd.to_numeric(customers.get("churn_risk", 0.0), errors="coerce")
            .fillna(0.0)
            .astype("float64"),
            "predicted_ltv": pd.to_numeric(customers.get("predicted_ltv", 0.0), errors="coerce")
            .fillna(0.0)
            .astype("float64"),
            "value_tier": _text_col(customers, "value_tier", n),
            "risk_level": _text_col(customers, "risk_level", n),
            "lifecycle_stage": _text_col(customers, "lifecycle_stage", n),
        }
    )
    table = CustomerResult._meta.db_table
    columns = list(frame.columns)
    if connection.vendor == "postgresql":
        import io

        with connection.cursor() as cursor:
            for start in range(0, n, 250_000):
                buf = io.StringIO()
                frame.iloc[start : start + 250_000].to_csv(buf, index=False, header=False)
                with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv)") as copy:
                    copy.write(buf.getvalue())
        return
    placeholders = ", ".join(["%s"] * len(columns))
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders})"  # noqa: S608 - fixed identifiers
    for start in range(0, n, 50_000):
        chunk = frame.iloc[start : start + 50_000]
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(sql, list(chunk.itertuples(index=False, name=None)))
        if progress is not None:
            done = min(start + 50_000, n)
            progress(f"Storing customer results ({done:,} of {n:,})", 94 + 3 * done / max(n, 1))


def _text_col(customers, name: str, n: int):
    if name not in customers:
        return [""] * n
    return customers[name].astype(str).fillna("").str.slice(0, 20)


def analysis_on_job_fail(job) -> None:
    """A failed or cancelled run leaves no files behind (its DB results were never written)."""
    analysis = (
        Analysis.objects.for_organization(job.organization).filter(pk=(job.params or {}).get("analysis_id")).first()
    )
    if analysis is not None and not analysis.customers_file:
        CustomerResult.objects.for_organization(job.organization).filter(analysis=analysis).delete()
        remove_analysis_files(analysis)
