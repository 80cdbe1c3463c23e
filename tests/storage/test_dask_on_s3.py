"""The Dask path reads partitioned Parquet straight from the object store (s3:// on the suite's moto server, where
`segsaas.storage.dask_location` says the files are) and writes its per-customer partitions back there, with the
same results as from the same partitions in a local folder."""

import numpy as np
import pandas as pd
import pytest


@pytest.fixture(scope="module")
def scheduler():
    from dask.distributed import LocalCluster

    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0")
    yield cluster.scheduler_address
    cluster.close()


def test_the_dask_path_on_s3_partitions_gives_the_results_it_gives_on_local_files(on_s3, scheduler, tmp_path):
    from segments.engine import AnalysisConfig, generate_synthetic
    from segments.engine.dask_path import analyze_distributed
    from segsaas import storage

    endpoint, bucket = on_s3
    table = generate_synthetic(2400, seed=11)
    local_in = tmp_path / "in"
    local_in.mkdir()
    for i, rows in enumerate(np.array_split(np.arange(len(table)), 4)):
        part = table.iloc[rows]
        part.to_parquet(local_in / f"part-{i:03d}.parquet", index=False)
        storage.write_parquet(f"org-1/big/in/part-{i:03d}.parquet", part)
    source, options = storage.dask_location("org-1/big/in")
    output, _ = storage.dask_location("org-1/big/out")
    assert source == f"s3://{bucket}/org-1/big/in" and options["endpoint_url"] == endpoint
    config = AnalysisConfig(n_clusters=4, nlp=False, fit_sample_size=1000)

    on_s3_result = analyze_distributed(source, config, output, scheduler_address=scheduler, storage_options=options)
    local = analyze_distributed(local_in, config, tmp_path / "out", scheduler_address=scheduler)

    written = sorted(n for n in storage.list_tree("org-1/big/out") if n.endswith(".parquet"))
    assert written, "no partition was written to the bucket"
    from_s3 = pd.concat([storage.read_parquet(n) for n in written], ignore_index=True)
    from_disk = pd.read_parquet(tmp_path / "out")
    assert on_s3_result.n_rows == local.n_rows == 2400 and on_s3_result.partitions == local.partitions == 4
    pd.testing.assert_frame_equal(
        from_s3.sort_values("customer_id").reset_index(drop=True),
        from_disk.sort_values("customer_id").reset_index(drop=True),
    )
    assert on_s3_result.profiles == local.profiles
    assert on_s3_result.metrics["distributed"]["sample_rows"] == 1000


def test_a_missing_table_in_the_bucket_is_refused_with_its_url(on_s3, scheduler):
    from segments.engine.dask_path import analyze_distributed
    from segments.engine.errors import EngineError
    from segsaas import storage

    source, options = storage.dask_location("org-1/nowhere")
    output, _ = storage.dask_location("org-1/out")
    with pytest.raises(EngineError, match=r"cannot read Parquet at 's3://.*/org-1/nowhere'"):
        analyze_distributed(source, {}, output, scheduler_address=scheduler, storage_options=options)
