"""The engine for a table larger than one machine, on Dask.

The single-machine path (`pipeline.analyze`) holds the whole table in one process. Here the table stays where it is
(partitioned Parquet on a local disk or an S3-compatible store) and only partitions move:

1. Dask reads the partitions; their row counts come from the Parquet metadata.
2. A sample of `config.fit_sample_size` rows (the whole table when it is that small) is drawn partition by
   partition with the run's seed and analysed by `pipeline.analyze`, exactly as the single-machine path would
   analyse that sample: preprocessing, k, clustering, churn and LTV models, profiles and names.
3. Every partition is preprocessed, assigned to a segment, scored for churn and LTV and projected on the two
   principal components by that fitted model on the Dask workers, and written back as a Parquet partition.
   No process holds the whole table: the driver holds the sample, each worker one partition at a time.

Segments, churn risk and LTV of a customer are what the fitted model says of that customer's row, so a customer
gets the same figures as `predict_segment` would give them; on a table no larger than the sample the segments are
the single-machine path's. `DASK_SCHEDULER_ADDRESS` (or `scheduler_address`) points at a running cluster; without
it a `LocalCluster` on this machine is started for the run and stopped after it.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .config import AnalysisConfig
from .errors import EngineError
from .pipeline import FittedPipeline, analyze, jsonable, peak_memory_mb

# Above this many customers the product and the CLI (`--engine auto`) take the Dask path.
DASK_MIN_ROWS = int(os.environ.get("SEGSAAS_DASK_MIN_ROWS", "5000000"))

# The columns of each written partition, and their types.
OUTPUT_COLUMNS = {
    "customer_id": "str",
    "segment": "int64",
    "segment_name": "str",
    "churn_risk": "float64",
    "predicted_ltv": "float64",
    "pca_x": "float32",
    "pca_y": "float32",
    # the customer's own levels and advice, measured against the analysed sample (profiles.customer_advice)
    "risk_level": "str",
    "value_tier": "str",
    "engagement_level": "str",
    "recommendation": "str",
    "recommendation_reason": "str",
}


@dataclass
class DistributedResult:
    """What a Dask run leaves: the sample's profiles and metrics (with the whole table's segment sizes), the fitted
    model, and where the per-customer Parquet partitions were written."""

    profiles: list[dict]
    metrics: dict
    model: FittedPipeline
    output: str
    n_rows: int
    partitions: int
    timings: dict[str, float] = field(default_factory=dict)


def wants_dask(rows: int) -> bool:
    return rows > DASK_MIN_ROWS


def parquet_rows(path: str | Path) -> int:
    """Rows of a Parquet file or folder of partitions, from the files' metadata (nothing is read)."""
    import pyarrow.dataset as ds

    try:
        return ds.dataset(str(path), format="parquet").count_rows()
    except (FileNotFoundError, OSError, ValueError) as exc:
        raise EngineError(f"cannot read Parquet at {str(path)!r}: {exc}") from None


def score_partition(
    frame: pd.DataFrame, model: FittedPipeline, id_col: str | None, offset: int = 0, known_churn=None
) -> pd.DataFrame:
    """One partition of customers -> their segment, name, churn risk, LTV and PCA coordinates (OUTPUT_COLUMNS).

    `known_churn` = (row numbers in the table, scores): customers a supervised churn model was trained on keep the
    out-of-sample score the fit gave them (never the trained model's in-sample score).
    Runs on a Dask worker; also the single-process reference the tests compare with."""
    from threadpoolctl import threadpool_limits

    from .predict import score_rows

    n = len(frame)
    if n == 0:
        return pd.DataFrame({c: pd.Series([], dtype=t) for c, t in OUTPUT_COLUMNS.items()})
    if known_churn is not None and len(known_churn[0]):
        known_churn = (np.asarray(known_churn[0]) - offset, known_churn[1])
    with threadpool_limits(limits=1):  # one thread per worker process; Dask runs the processes side by side
        X, profile, beh = model.preprocessor.transform(frame, profile_frame=False)
        seg, churn, ltv, own = score_rows(model, X, beh, profile, known_churn=known_churn)
        coords = model.pca.transform(X).astype(np.float32)
    if coords.shape[1] == 1:
        coords = np.column_stack([coords, np.zeros(n, np.float32)])
    seg = np.asarray(seg, dtype=np.int64)
    names = model.segment_names
    own = own or {}
    ids = frame[id_col].astype(str).to_numpy() if id_col else np.arange(offset + 1, offset + n + 1).astype(str)
    out = pd.DataFrame(
        {
            "customer_id": ids,
            "segment": seg,
            "segment_name": [names.get(int(s), f"Segment {int(s)}") for s in seg],
            "churn_risk": np.round(np.asarray(churn, float), 6),
            "predicted_ltv": np.round(np.asarray(ltv, float), 2),
            "pca_x": coords[:, 0],
            "pca_y": coords[:, 1],
            **{key: own.get(key, np.full(n, "", dtype=object)) for key in list(OUTPUT_COLUMNS)[7:]},
        },
        index=frame.index,
    )
    return out.astype(OUTPUT_COLUMNS)


def arrow_filesystem(url: str, storage_options: dict | None):
    """(filesystem, path inside it) for an `s3://bucket/key` URL, else (None, the path as given).

    Dask's own `s3://` support needs s3fs; pyarrow's S3 filesystem (part of pyarrow) speaks to any S3-compatible
    store too, so an s3:// table is read and written through it. `storage_options` take fsspec's names: `key`,
    `secret`, `token`, `endpoint_url`, `client_kwargs={"region_name": ...}` (unset: boto's environment chain)."""
    url = str(url)
    if not url.startswith("s3://"):
        return None, url
    from urllib.parse import urlparse

    import pyarrow.fs as pafs

    options = dict(storage_options or {})
    kwargs: dict = {}
    if options.get("key"):
        kwargs["access_key"] = options["key"]
        kwargs["secret_key"] = options.get("secret")
        if options.get("token"):
            kwargs["session_token"] = options["token"]
    endpoint = options.get("endpoint_url") or (options.get("client_kwargs") or {}).get("endpoint_url")
    if endpoint:
        parsed = urlparse(endpoint)
        kwargs["endpoint_override"] = parsed.netloc or parsed.path
        kwargs["scheme"] = parsed.scheme or "https"
    region = options.get("region_name") or (options.get("client_kwargs") or {}).get("region_name")
    if region:
        kwargs["region"] = region
    from fsspec.implementations.arrow import ArrowFSWrapper

    # wrapped as an fsspec filesystem: Dask then partitions the files exactly as it does on a local disk (its
    # pyarrow-filesystem reader fuses partitions differently per column selection, which the sampling cannot use)
    return ArrowFSWrapper(pafs.S3FileSystem(**kwargs)), url[len("s3://") :].rstrip("/")


def _client(scheduler_address: str | None, n_workers: int | None, memory_limit: str):
    from dask.distributed import Client, LocalCluster

    if scheduler_address:
        return Client(scheduler_address), None
    import multiprocessing

    if multiprocessing.current_process().daemon:
        # A Celery pool process is daemonic and may not start multiprocessing children (LocalCluster's nannies):
        # the scheduler and workers are started as subprocesses instead (`dask spec`), the same processes.
        from distributed.deploy.subprocess import SubprocessCluster

        cluster = SubprocessCluster(
            n_workers=n_workers or 2,
            threads_per_worker=1,
            worker_kwargs={"memory_limit": memory_limit},
            dashboard_address=None,
            silence_logs=logging.ERROR,
        )
        client = Client(cluster)
        client.wait_for_workers(n_workers or 2, timeout=120)
        return client, cluster
    cluster = LocalCluster(
        n_workers=n_workers or 2,
        threads_per_worker=1,
        processes=True,
        memory_limit=memory_limit,
        dashboard_address=":0",
        silence_logs=logging.ERROR,
    )
    return Client(cluster), cluster


def _take_rows(frame: pd.DataFrame, rows: np.ndarray) -> pd.DataFrame:
    return frame.iloc[rows]


def _sample(ddf, counts: list[int], size: int, seed: int) -> pd.DataFrame:
    """`size` rows drawn without replacement, in table order, the same for the same seed and table; the whole
    table when it has no more rows than that. Only the chosen rows of each partition reach the driver."""
    return _sample_rows(ddf, counts, size, seed)[0]


def _sample_rows(ddf, counts: list[int], size: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """`_sample` and the drawn rows' numbers in the table (sorted: the sample's row order)."""
    total = sum(counts)
    if total <= size:
        return ddf.compute(), np.arange(total)
    rng = np.random.default_rng(seed)
    chosen = np.sort(rng.choice(total, size=size, replace=False))
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    parts = []
    for i, (start, count) in enumerate(zip(starts, counts, strict=True)):
        local = chosen[(chosen >= start) & (chosen < start + count)] - start
        if len(local):
            parts.append(ddf.get_partition(i).map_partitions(_take_rows, local, meta=ddf._meta))
    import dask

    return pd.concat(dask.compute(*parts), ignore_index=True), chosen


def analyze_distributed(
    source: str | Path,
    config: AnalysisConfig | dict | None,
    output: str | Path,
    *,
    scheduler_address: str | None = None,
    n_workers: int | None = None,
    memory_limit: str = "2GiB",
    storage_options: dict | None = None,
    split_row_groups: bool | str = "infer",
    progress=None,
) -> DistributedResult:
    """Analyse the Parquet table at `source` (a file, a folder of partitions or an s3:// URL) with Dask; write
    one Parquet partition of per-customer results per input partition under `output` (a folder or an s3://
    URL). `split_row_groups=True` makes each row group a partition (one large Parquet file read in pieces).
    `progress(stage, percent)` is told each stage and may raise to stop the run."""
    import dask.dataframe as dd

    if isinstance(config, dict):
        config = AnalysisConfig.from_dict(config)
    config = config or AnalysisConfig()
    config.validate()
    timings: dict[str, float] = {}
    clock = [time.perf_counter()]

    def done(label: str):
        now = time.perf_counter()
        timings[label] = round(now - clock[0], 3)
        clock[0] = now

    def stage(label: str, pct: float):
        if progress is not None:
            progress(label, pct)

    client, cluster = _client(scheduler_address, n_workers, memory_limit)
    try:
        stage("Reading the table", 0)
        in_fs, in_path = arrow_filesystem(source, storage_options)
        out_fs, out_path = arrow_filesystem(output, storage_options)
        try:
            if in_fs is not None:
                ddf = dd.read_parquet(in_path, filesystem=in_fs, split_row_groups=split_row_groups)
            else:
                ddf = dd.read_parquet(in_path, storage_options=storage_options, split_row_groups=split_row_groups)
        except (FileNotFoundError, OSError, ValueError) as exc:
            raise EngineError(f"cannot read Parquet at {str(source)!r}: {exc}") from None
        counts = [int(c) for c in ddf.map_partitions(len).compute()]
        total = sum(counts)
        if total == 0:
            raise EngineError(f"{str(source)!r} holds no rows")
        done("Reading partition sizes")

        stage("Fitting on a sample", 5)
        size = config.fit_sample_size or total
        sample, drawn = _sample_rows(ddf, counts, size, config.random_state)
        fitted = analyze(
            sample, config, progress=None if progress is None else (lambda label, pct: stage(label, 5 + pct * 0.55))
        )
        del sample
        # a supervised churn model's training customers keep their out-of-fold scores (pipeline._fit_supervised_churn)
        known = None
        if fitted.metrics.get("churn", {}).get("method") == "supervised":
            known = (drawn, fitted.customers["churn_risk"].to_numpy(float))
        done("Fitting on the sample")

        stage("Scoring every partition", 60)
        model = fitted.model
        id_col = model.id_col
        offsets = np.concatenate([[0], np.cumsum(counts)[:-1]]).tolist()
        meta = pd.DataFrame({c: pd.Series([], dtype=t) for c, t in OUTPUT_COLUMNS.items()})

        def known_in(i):
            if known is None:
                return None
            inside = (known[0] >= offsets[i]) & (known[0] < offsets[i] + counts[i])
            return known[0][inside], known[1][inside]

        parts = [
            ddf.get_partition(i).map_partitions(score_partition, model, id_col, offsets[i], known_in(i), meta=meta)
            for i in range(len(counts))
        ]
        scored = dd.concat(parts)
        out = str(output)
        if out_fs is not None:
            scored.to_parquet(out_path, write_index=False, filesystem=out_fs, overwrite=True)
            written = dd.read_parquet(out_path, columns=["segment", "churn_risk", "predicted_ltv"], filesystem=out_fs)
        else:
            scored.to_parquet(out, write_index=False, storage_options=storage_options, overwrite=True)
            written = dd.read_parquet(
                out, columns=["segment", "churn_risk", "predicted_ltv"], storage_options=storage_options
            )
        done("Scoring and writing")

        stage("Segment sizes", 95)
        sizes = written.groupby("segment").agg({"churn_risk": ["count", "mean"], "predicted_ltv": "mean"}).compute()
        done("Segment sizes")
        worker_peaks = {str(k): round(v, 1) for k, v in client.run(peak_memory_mb).items()}
    finally:
        client.close()
        if cluster is not None:
            cluster.close()

    profiles = [dict(p) for p in fitted.profiles]
    for p in profiles:
        s = p["segment"]
        if s in sizes.index:
            row = sizes.loc[s]
            p["sample_size"] = p.get("size")
            p["size"] = int(row[("churn_risk", "count")])
            p["share"] = p["size"] / total
            p["avg_churn_risk"] = float(row[("churn_risk", "mean")])
            ltv_mean = row[("predicted_ltv", "mean")]
            p["avg_ltv"] = None if pd.isna(ltv_mean) or p.get("avg_ltv") is None else float(ltv_mean)
    metrics = dict(fitted.metrics)
    metrics["distributed"] = {
        "engine": "dask",
        "rows": total,
        "partitions": len(counts),
        "sample_rows": min(size, total),
        "scheduler": scheduler_address or "LocalCluster",
        "timings": timings,
        "driver_peak_memory_mb": round(peak_memory_mb(), 1),
        "worker_peak_memory_mb": worker_peaks,
        "note": "models fitted on the sample; every customer assigned and scored by the fitted model, partition by "
        "partition on the Dask workers; segment sizes, shares, average churn risk and LTV are over every customer, "
        "the other profile statistics over the sample",
    }
    return DistributedResult(
        profiles=jsonable(profiles),
        metrics=jsonable(metrics),
        model=model,
        output=out,
        n_rows=total,
        partitions=len(counts),
        timings=timings,
    )
