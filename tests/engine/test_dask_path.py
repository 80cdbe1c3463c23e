"""The Dask path (segments/engine/dask_path.py) gives the single-machine results: on a table no larger than the fit
sample its segments are `analyze`'s, every customer's figures are what the fitted model says of that customer's row
(`predict_segment`), however the table is cut into partitions, and nothing is lost or doubled on the way."""

import numpy as np
import pandas as pd
import pytest

from segments.engine import AnalysisConfig, analyze, generate_synthetic, predict_segment
from segments.engine.dask_path import OUTPUT_COLUMNS, analyze_distributed, score_partition
from segments.engine.errors import EngineError


@pytest.fixture(scope="module")
def scheduler():
    """One local Dask cluster (two worker processes) for the module, as `DASK_SCHEDULER_ADDRESS` would name."""
    from dask.distributed import LocalCluster

    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0")
    yield cluster.scheduler_address
    cluster.close()


def _write_partitions(frame: pd.DataFrame, folder, parts: int) -> None:
    folder.mkdir()
    for i, chunk in enumerate(np.array_split(np.arange(len(frame)), parts)):
        frame.iloc[chunk].to_parquet(folder / f"part-{i:03d}.parquet", index=False)


def test_a_table_no_larger_than_the_sample_gets_the_single_machine_segments(tmp_path, scheduler):
    table = generate_synthetic(2400, seed=5)
    _write_partitions(table, tmp_path / "in", 3)
    config = {"n_clusters": 4, "nlp": False}

    result = analyze_distributed(tmp_path / "in", config, tmp_path / "out", scheduler_address=scheduler)
    out = pd.read_parquet(tmp_path / "out")
    single = analyze(table, config)

    assert result.n_rows == len(out) == len(table) and result.partitions == 3
    assert list(out.columns) == list(OUTPUT_COLUMNS)
    assert out["customer_id"].tolist() == table["customer_id"].astype(str).tolist()  # order kept, none lost
    assert (out["segment"].to_numpy() == single.customers["segment"].to_numpy()).all()
    assert [p["name"] for p in result.profiles] == [p["name"] for p in single.profiles]
    assert sum(p["size"] for p in result.profiles) == len(table)
    # each customer's churn and LTV are the fitted model's score of their row
    scored = predict_segment(result.model, table.iloc[:50])
    assert np.allclose(out["churn_risk"].iloc[:50], [r["churn_risk"] for r in scored], atol=1e-6)
    assert np.allclose(out["predicted_ltv"].iloc[:50], [r["predicted_ltv"] for r in scored], atol=0.01)
    assert out["segment"].iloc[:50].tolist() == [r["segment"] for r in scored]
    # and their own levels and advice are those of the single-machine run (same rule, same population)
    for column in ("risk_level", "value_tier", "engagement_level", "recommendation"):
        agree = (out[column].to_numpy() == single.customers[column].astype(str).to_numpy()).mean()
        assert agree > 0.99, (column, agree)


def test_a_table_larger_than_the_sample_is_scored_partition_by_partition_like_in_one_piece(tmp_path, scheduler):
    table = generate_synthetic(6000, seed=8)
    _write_partitions(table, tmp_path / "in", 5)
    config = AnalysisConfig(n_clusters=4, nlp=False, fit_sample_size=2000)

    result = analyze_distributed(tmp_path / "in", config, tmp_path / "out", scheduler_address=scheduler)
    out = pd.read_parquet(tmp_path / "out")
    whole = score_partition(table, result.model, result.model.id_col)

    assert result.metrics["distributed"]["sample_rows"] == 2000
    assert result.metrics["distributed"]["rows"] == 6000
    pd.testing.assert_frame_equal(out.reset_index(drop=True), whole.reset_index(drop=True))
    sizes = out["segment"].value_counts()
    assert {p["segment"]: p["size"] for p in result.profiles} == sizes.to_dict()
    assert (
        set(result.metrics["distributed"]["worker_peak_memory_mb"])
        and result.metrics["distributed"]["driver_peak_memory_mb"] > 0
    )


def test_the_same_seed_draws_the_same_sample_and_fits_the_same_model(tmp_path, scheduler):
    table = generate_synthetic(5000, seed=9)
    _write_partitions(table, tmp_path / "in", 4)
    config = AnalysisConfig(n_clusters=3, nlp=False, fit_sample_size=1500)
    first = analyze_distributed(tmp_path / "in", config, tmp_path / "a", scheduler_address=scheduler)
    second = analyze_distributed(tmp_path / "in", config, tmp_path / "b", scheduler_address=scheduler)
    assert first.profiles == second.profiles
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "a"), pd.read_parquet(tmp_path / "b"))


def test_a_missing_table_is_refused_with_its_path(tmp_path, scheduler):
    with pytest.raises(EngineError, match=r"cannot read Parquet at .*nowhere"):
        analyze_distributed(tmp_path / "nowhere", {}, tmp_path / "out", scheduler_address=scheduler)


def test_customers_a_churn_label_trained_on_keep_their_out_of_fold_scores(tmp_path, scheduler):
    rng = np.random.default_rng(0)
    table = generate_synthetic(2000, seed=6)
    table["churned"] = rng.integers(0, 2, len(table))  # noise: in-sample scores would rank it, honest ones cannot
    _write_partitions(table, tmp_path / "in", 3)
    config = {"n_clusters": 3, "nlp": False, "churn_label_col": "churned"}

    analyze_distributed(tmp_path / "in", config, tmp_path / "out", scheduler_address=scheduler)
    out = pd.read_parquet(tmp_path / "out")
    single = analyze(table, config)

    np.testing.assert_allclose(out["churn_risk"].to_numpy(), single.customers["churn_risk"].to_numpy(), atol=1e-6)
    from sklearn.metrics import roc_auc_score

    assert abs(roc_auc_score(table["churned"], out["churn_risk"]) - 0.5) < 0.07
