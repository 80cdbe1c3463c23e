"""An order log over time, like a customer table: a new month's log arrives as a new version of the dataset, the
analysis re-runs on it (the customer table rebuilt from that version's orders), its segments are matched to the
previous run's, and the Changes tab and the migration API show who moved where. A run keeps reading the version
it was made on."""

import io

import pandas as pd
import pytest
from helpers import as_file, cdnow_csv
from helpers import upload_orders as upload

pytestmark = pytest.mark.django_db


def _log_until(last_day: str) -> bytes:
    frame = pd.read_csv(io.BytesIO(cdnow_csv()), dtype=str)
    frame = frame[frame["order_date"] <= last_day]
    return frame.to_csv(index=False).encode()


def _run(analysis):
    from jobs.services import job_execute
    from segments.models import Analysis

    assert job_execute(analysis.job_id) == "succeeded", analysis.job.error
    return Analysis.objects.for_organization(analysis.organization).select_related("job").get(pk=analysis.pk)


def test_a_new_months_order_log_is_a_version_and_the_rerun_shows_who_moved(people, client_for, partner):
    from datasets.services import dataset_add_version
    from segments.services import analysis_create, analysis_rerun

    dataset = upload(people.acme, people.alice, _log_until("1998-04-30"), name="orders-april.csv")
    assert dataset.is_order_log
    run1 = _run(
        analysis_create(
            organization=people.acme, dataset=dataset, settings={"n_clusters": 3, "nlp": False}, created_by=people.alice
        )
    )
    assert run1.dataset_version.number == 1
    version2 = dataset_add_version(
        dataset=dataset,
        file=as_file(_log_until("1998-06-30"), "orders-june.csv"),
        filename="orders-june.csv",
        uploaded_by=people.alice,
    )
    assert (
        version2.status == "ready"
        and version2.number == 2
        and version2.row_count > dataset.versions.get(number=1).row_count
    )
    run2 = _run(analysis_rerun(analysis=run1, created_by=people.alice))
    assert run2.dataset_version_id == version2.pk and run2.rerun_of_id == run1.pk
    # the customer table was rebuilt from June's log: the same CDNOW cohort, later last orders
    assert run2.customer_count == run1.customer_count == 2357
    assert run2.summary["continuity"]["previous_analysis"] == run1.pk

    moves = partner(scopes=["read"]).get(f"/api/v1/analyses/{run2.pk}/migration/", {"from": run1.pk})
    assert moves.status_code == 200, moves.content
    body = moves.json()
    assert sum(c["customers"] for c in body["matrix"]) == 2357
    assert body["new_customers"] == 0 and body["gone_customers"] == 0
    moved = [c for c in body["matrix"] if c["from_segment"] != c["to_segment"]]
    assert moved, "two more months of orders moved nobody"

    # an analysis made on version 1 now, after version 2 arrived, still reads April's log
    again = _run(
        analysis_create(
            organization=people.acme,
            dataset=dataset,
            settings={"n_clusters": 3, "nlp": False},
            created_by=people.alice,
            version=dataset.versions.get(number=1),
        )
    )
    assert again.dataset_version.number == 1

    def fit(analysis):  # the lifetime-value fit, without its timings
        return {k: v for k, v in analysis.metrics["clv"].items() if k not in ("cpu_seconds", "timings")}

    assert fit(again) == fit(run1) != fit(run2)

    from monitoring.services import drift_for_version

    # feature drift of a growing log: May and June's orders against April's log, not the dates nor the ids
    report = drift_for_version(version2)
    log = pd.read_csv(io.BytesIO(cdnow_csv()), dtype=str)
    added = int(((log["order_date"] > "1998-04-30") & (log["order_date"] <= "1998-06-30")).sum())
    assert {r["column"] for r in report.rows} == {"amount", "cds"}
    assert {r["rows_new"] for r in report.rows} == {added} and added > 100
    assert report.note.startswith(f"Order log: the {added:,} orders dated after 1998-04-30")
    monitoring = client_for(people.vera, people.acme).get("/monitoring/").content.decode()
    assert 'data-testid="drift-note"' in monitoring and "a growing log always moves its dates" in monitoring

    page = client_for(people.vera, people.acme).get(f"/analyses/{run2.pk}/changes/?from={run1.pk}")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="migration' in html
