"""Analyses run in the real worker: results stored in one piece, cancel, failures, queue, command."""

import time

import pandas as pd
from django.core.files.storage import default_storage

from segments.models import Analysis, CustomerResult


def test_an_analysis_runs_in_the_worker_and_stores_metrics_profiles_and_customers(people, worker, make_dataset, run_analysis):
    dataset = make_dataset(people.acme, people.alice, rows=2_000)
    analysis = run_analysis(dataset, people.alice)
    job = analysis.job
    assert job.status == "succeeded", job.error
    assert job.progress == 100
    assert analysis.n_segments == 4 and len(analysis.profiles) == 4
    assert analysis.customer_count == 2_000
    assert sum(p["size"] for p in analysis.profiles) == 2_000
    assert len({p["name"] for p in analysis.profiles}) == 4
    assert analysis.metrics["k"] == 4 and analysis.metrics["quality"]["silhouette"] is not None
    assert analysis.silhouette == analysis.metrics["quality"]["silhouette"]
    # files under the dataset's storage directory
    prefix = f"org-{people.acme.pk}/datasets/{dataset.storage_key}/analyses/{analysis.pk}/"
    assert analysis.model_file == prefix + "model.joblib"
    customers = pd.read_parquet(default_storage.path(analysis.customers_file))
    assert len(customers) == 2_000
    assert default_storage.exists(analysis.model_file) and default_storage.exists(analysis.charts_file)
    # one CustomerResult per customer, matching the file
    rows = CustomerResult.objects.for_organization(people.acme).filter(analysis=analysis)
    assert rows.count() == 2_000
    first = rows.get(row_index=0)
    assert first.customer_id == str(customers.loc[0, "customer_id"])
    assert first.segment == customers.loc[0, "segment"]
    assert abs(first.churn_risk - customers.loc[0, "churn_risk"]) < 1e-6
    for p in analysis.profiles:
        assert rows.filter(segment=p["segment"]).count() == p["size"]
    # pre-computed aggregates for the pages
    assert sum(analysis.summary["segment_sizes"].values()) == 2_000
    assert analysis.summary["feature_z"]["features"]
    assert set(analysis.summary["lifecycle"]["stages"]) <= {"new", "active", "at_risk", "dormant"}
