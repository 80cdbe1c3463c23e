"""Analyses from the pages and the API go to the Dask path when the table is above SEGSAAS_DASK_MIN_ROWS or its
estimate is above the worker's memory budget: the real worker runs it on a LocalCluster, the customers arrive in
the database (COPY on PostgreSQL) and the files with the single-machine run's figures, and the page and the API
say which engine ran it and why. Refused, naming why and storing nothing, only when the Dask path cannot take it."""

import numpy as np
import pandas as pd
import pytest

from segments.models import Analysis, CustomerResult


@pytest.fixture
def dask_above(monkeypatch):
    """SEGSAAS_DASK_MIN_ROWS for this test (the web side decides the engine when the analysis is created)."""
    from segments.engine import dask_path

    def set_min(rows: int) -> None:
        monkeypatch.setattr(dask_path, "DASK_MIN_ROWS", rows)

    return set_min


def _rows(org, analysis) -> pd.DataFrame:
    values = (
        CustomerResult.objects.for_organization(org)
        .filter(analysis=analysis)
        .order_by("row_index")
        .values("row_index", "customer_id", "segment", "churn_risk", "predicted_ltv", "risk_level", "recommendation")
    )
    return pd.DataFrame(list(values))


def test_a_table_above_the_dask_threshold_runs_on_dask_in_the_worker_with_the_single_machine_results(
    people, worker, make_dataset, run_analysis, client_for, dask_above, settings
):
    settings.DATASETS_CHUNK_ROWS = 700  # the table's Parquet in several row groups: several Dask partitions
    dataset = make_dataset(people.acme, people.alice, rows=2_400)
    dask_above(1_000)
    on_dask = run_analysis(dataset, people.alice, timeout=600)  # a shared CI box: the cluster starts per run
    assert on_dask.job.status == "succeeded", on_dask.job.error
    dask_above(5_000_000)
    single = run_analysis(dataset, people.alice)
    assert single.job.status == "succeeded", single.job.error

    assert on_dask.metrics["engine"]["name"] == "dask" and single.metrics["engine"]["name"] == "single"
    assert "2,400 customers, more than SEGSAAS_DASK_MIN_ROWS = 1,000" in on_dask.metrics["engine"]["reason"]
    assert on_dask.metrics["distributed"]["rows"] == 2_400
    assert on_dask.metrics["distributed"]["partitions"] >= 3
    # the rows arrived (COPY on PostgreSQL, batched INSERTs on SQLite), in table order, with the same figures
    dask_rows, single_rows = _rows(people.acme, on_dask), _rows(people.acme, single)
    assert len(dask_rows) == len(single_rows) == 2_400 == on_dask.customer_count
    assert dask_rows["row_index"].tolist() == list(range(2_400))
    assert dask_rows["customer_id"].tolist() == single_rows["customer_id"].tolist()
    assert (dask_rows["segment"] == single_rows["segment"]).all()
    np.testing.assert_allclose(dask_rows["churn_risk"], single_rows["churn_risk"], atol=1e-5)
    np.testing.assert_allclose(dask_rows["predicted_ltv"], single_rows["predicted_ltv"], atol=0.01)
    assert (dask_rows["risk_level"] == single_rows["risk_level"]).mean() > 0.99
    assert [p["name"] for p in on_dask.profiles] == [p["name"] for p in single.profiles]
    assert on_dask.summary["segment_sizes"] == single.summary["segment_sizes"]
    assert on_dask.summary["avg_churn_risk"] == pytest.approx(single.summary["avg_churn_risk"], abs=1e-6)
    # the file exports read holds every customer; the partitions were folded into it and removed
    from segsaas import storage

    customers = storage.read_parquet(on_dask.customers_file)
    assert customers["customer_id"].astype(str).tolist() == dask_rows["customer_id"].tolist()
    assert storage.exists(on_dask.model_file) and storage.exists(on_dask.charts_file)
    assert not storage.list_tree(f"{on_dask.storage_dir}/customer-partitions")

    # the page and the API say which engine ran it and why
    client = client_for(people.bob, people.acme)
    page = client.get(f"/analyses/{on_dask.pk}/").content.decode()
    assert 'data-engine="dask"' in page and "Engine: Dask (partition by partition)" in page
    assert "more than SEGSAAS_DASK_MIN_ROWS = 1,000" in page
    profiles = client.get(f"/analyses/{on_dask.pk}/profiles/")
    assert profiles.status_code == 200 and single.profiles[0]["name"] in profiles.content.decode()
    api = client.get(f"/api/v1/analyses/{on_dask.pk}/").json()
    assert api["engine"]["name"] == "dask" and "SEGSAAS_DASK_MIN_ROWS" in api["engine"]["reason"]
    assert client.get(f"/api/v1/analyses/{single.pk}/").json()["engine"]["name"] == "single"
    first = client.get(f"/api/v1/analyses/{on_dask.pk}/customers/?page_size=5").json()["results"]
    assert [c["customer_id"] for c in first] == dask_rows["customer_id"].tolist()[:5]


def test_a_table_whose_estimate_exceeds_the_budget_goes_to_dask_with_the_budget_named(
    people, make_dataset, settings, db
):
    from segments.services import analysis_create, analysis_default_config
    from segments.services.execute import estimate_analysis_memory_mb

    dataset = make_dataset(people.acme, people.alice, rows=3_000)
    whole = estimate_analysis_memory_mb(dataset.row_count, dataset.column_count)
    sample = estimate_analysis_memory_mb(1_000, dataset.column_count)
    settings.WORKER_MEMORY_BUDGET_MB = int((whole + sample) / 2)
    config = analysis_default_config(dataset) | {"n_clusters": 3, "nlp": False, "fit_sample_size": 1_000}
    analysis = analysis_create(organization=people.acme, dataset=dataset, config=config, created_by=people.alice)
    engine = analysis.job.params["engine"]
    assert engine["name"] == "dask"
    assert f"more than the {settings.WORKER_MEMORY_BUDGET_MB:,} MB a worker may use" in engine["reason"]
    assert "1,000-row sample" in engine["reason"]
    assert analysis.engine["label"] == "Dask (partition by partition)"


def test_a_table_dask_cannot_take_either_is_refused_naming_why_and_nothing_is_stored(
    people, make_dataset, settings, client_for, db
):
    from jobs.models import Job
    from jobs.services import JobMemoryError
    from segments.services import analysis_create, analysis_default_config

    dataset = make_dataset(people.acme, people.alice, rows=2_000)
    settings.WORKER_MEMORY_BUDGET_MB = 400  # below even the libraries' share of a sample fit
    config = analysis_default_config(dataset) | {"n_clusters": 3, "nlp": False}
    with pytest.raises(JobMemoryError, match=r"even on the Dask path fitting on its 2,000-row sample .* 400 MB"):
        analysis_create(organization=people.acme, dataset=dataset, config=config, created_by=people.alice)
    with pytest.raises(JobMemoryError, match=r"fits its models on every row \(no fit sample\)"):
        analysis_create(
            organization=people.acme,
            dataset=dataset,
            config=config | {"fit_sample_size": None},
            created_by=people.alice,
        )
    assert not Analysis.objects.for_organization(people.acme).exists()
    assert not Job.objects.for_organization(people.acme).exists()
    # the API says the same in its one error format
    client = client_for(people.alice, people.acme)
    response = client.post(
        "/api/v1/analyses/",
        {"dataset": dataset.pk, "algorithm": "kmeans", "n_clusters": 3},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "even on the Dask path" in str(response.json()["error"]["details"])
