"""Analyses run in the real worker: results stored in one piece, cancel, failures, queue, command."""

import time

import pandas as pd
from django.core.files.storage import default_storage

from segments.models import Analysis, CustomerResult


def test_an_analysis_runs_in_the_worker_and_stores_metrics_profiles_and_customers(
    people, worker, make_dataset, run_analysis
):
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


def _wait_until(predicate, timeout=60, step=0.1):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return False


def test_a_running_analysis_can_be_cancelled_and_leaves_no_results(
    people, worker, make_dataset, run_analysis, client_for
):
    from helpers import wait_for_job

    dataset = make_dataset(people.acme, people.alice, rows=20_000)
    analysis = run_analysis(dataset, people.alice, wait=False, n_clusters=None, k_min=2, k_max=10, nlp=True)
    job = analysis.job
    assert _wait_until(lambda: (job.refresh_from_db() or job.status == "running") and job.progress > 4, timeout=60), (
        job.stage
    )
    client = client_for(people.bob, people.acme)
    response = client.post(f"/jobs/{job.pk}/cancel/", {"next": f"/analyses/{analysis.pk}/"})
    assert response.status_code == 302 and response["Location"] == f"/analyses/{analysis.pk}/"
    job = wait_for_job(job)
    assert job.status == "cancelled"
    analysis.refresh_from_db()
    assert analysis.profiles == [] and analysis.customers_file == ""
    assert not CustomerResult.objects.for_organization(people.acme).filter(analysis=analysis).exists()
    assert not default_storage.exists(analysis.storage_dir + "/customers.parquet")
    page = client.get(f"/analyses/{analysis.pk}/")
    assert "This run was cancelled" in page.content.decode()


def test_a_failed_analysis_shows_the_engines_message_not_a_traceback(people, worker, client_for):
    import io

    from datasets.services import dataset_create_from_upload

    csv = "customer_id,note,flag\n" + "".join(f"C{i},hello world,x\n" for i in range(300))
    dataset = dataset_create_from_upload(
        organization=people.acme,
        uploaded_by=people.alice,
        file=io.BytesIO(csv.encode()),
        filename="no-numbers.csv",
        background=False,
    )
    assert dataset.status == "ready"
    from segments.services import analysis_create

    analysis = analysis_create(
        organization=people.acme,
        dataset=dataset,
        config={"n_clusters": 3, "nlp": False},
        name="Doomed",
        created_by=people.alice,
    )
    from helpers import wait_for_job

    job = wait_for_job(analysis.job)
    assert job.status == "failed"
    assert job.error.startswith("no usable numeric feature")
    html = client_for(people.alice, people.acme).get(f"/analyses/{analysis.pk}/").content.decode()
    assert "The analysis failed." in html and "no usable numeric feature" in html
    assert "Traceback" not in html


def test_beyond_the_plan_limit_an_analysis_waits_with_a_visible_queue_position(
    people, worker, make_dataset, client_for
):
    from helpers import wait_for_job

    from segments.services import analysis_create, analysis_default_config

    people.acme.max_concurrent_jobs = 1
    people.acme.save(update_fields=["max_concurrent_jobs"])
    dataset = make_dataset(people.acme, people.alice, rows=2_000)
    config = analysis_default_config(dataset) | {"n_clusters": 4, "nlp": False}
    first = analysis_create(
        organization=people.acme, dataset=dataset, config=config, name="first", created_by=people.alice
    )
    second = analysis_create(
        organization=people.acme,
        dataset=dataset,
        config=config | {"n_clusters": 3, "nlp": False},
        name="second",
        created_by=people.alice,
    )
    second.job.refresh_from_db()
    assert second.job.status == "queued" and second.job.queue_position() == 1
    html = client_for(people.bob, people.acme).get(f"/analyses/{second.pk}/").content.decode()
    assert "Position 1 in your organization&#x27;s queue" in html or "Position 1 in your organization's queue" in html
    # Globex is not held up by Acme's queue.
    assert wait_for_job(first.job, timeout=240).status == "succeeded"
    assert wait_for_job(second.job, timeout=240).status == "succeeded"
    first.job.refresh_from_db()
    second.job.refresh_from_db()
    assert second.job.started_at >= first.job.finished_at


def test_run_analysis_command_waits_prints_stages_and_the_analysis_id(people, worker, make_dataset):
    from io import StringIO

    from django.core.management import call_command

    dataset = make_dataset(people.acme, people.alice, rows=2_000)
    out = StringIO()
    call_command("run_analysis", "--dataset", str(dataset.pk), "--k", "3", "--wait", "--timeout", "180", stdout=out)
    text = out.getvalue()
    analysis = Analysis.objects.for_organization(people.acme).get()
    assert f"Queued analysis {analysis.pk}" in text
    import re

    assert re.search(r"^\[\s*\d+\.\d%\] \w", text, re.M), text  # at least one stage line as it progressed
    assert f"Succeeded: analysis {analysis.pk}, 3 segments, 2,000 customers" in text
    assert analysis.config["n_clusters"] == 3 and analysis.config["algorithm"] == "kmeans"


def test_run_analysis_command_exits_non_zero_when_the_run_fails(people, worker):
    import io

    import pytest
    from django.core.management import CommandError, call_command

    from datasets.services import dataset_create_from_upload

    csv = "customer_id,note\n" + "".join(f"C{i},hi\n" for i in range(200))
    dataset = dataset_create_from_upload(
        organization=people.acme,
        uploaded_by=people.alice,
        file=io.BytesIO(csv.encode()),
        filename="bad.csv",
        background=False,
    )
    with pytest.raises(CommandError, match="failed: no usable numeric feature"):
        call_command(
            "run_analysis", "--dataset", str(dataset.pk), "--k", "3", "--wait", "--timeout", "120", stdout=io.StringIO()
        )


def test_rerun_keeps_both_runs_and_the_compare_page_shows_them_side_by_side(
    people, worker, make_dataset, run_analysis, client_for
):
    from helpers import wait_for_job

    dataset = make_dataset(people.acme, people.alice, rows=2_000)
    first = run_analysis(dataset, people.alice, n_clusters=4)
    client = client_for(people.bob, people.acme)
    form = client.get(f"/analyses/{first.pk}/rerun/").content.decode()
    assert 'value="4"' in form  # prefilled from the first run
    response = client.post(
        f"/analyses/{first.pk}/rerun/",
        {
            "name": "Three segments",
            "algorithm": "gmm",
            "k_mode": "fixed",
            "n_clusters": 3,
            "k_min": 2,
            "k_max": 10,
            "color_scheme": "Vivid",
            **_roles_post(client, first),
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    second = Analysis.objects.for_organization(people.acme).get(name="Three segments")
    assert second.rerun_of == first and second.config["algorithm"] == "gmm" and second.color_scheme == "Vivid"
    assert wait_for_job(second.job).status == "succeeded"
    assert Analysis.objects.for_organization(people.acme).count() == 2
    html = client.get(f"/analyses/{first.pk}/compare/?other={second.pk}").content.decode()
    assert "Compare runs" in html
    for chart in ("compare-sizes", "compare-ltv", "compare-churn", "compare-overlap"):
        assert f'id="figure-{chart}"' in html
    assert 'data-testid="compare-ari"' in html and "Silhouette" in html


def _roles_post(client, analysis):
    """The rerun form's role selects, as the browser would post them (their initial values)."""
    import re

    html = client.get(f"/analyses/{analysis.pk}/rerun/").content.decode()
    data = {}
    for name, body in re.findall(
        r'<select name="(role_\d+|recency_col|frequency_col|tenure_col)"[^>]*>(.*?)</select>', html, re.S
    ):
        selected = re.search(r'<option value="([^"]*)" selected', body)
        data[name] = selected.group(1) if selected else ""
    return data
