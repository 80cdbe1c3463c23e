"""An analysis of an order log: the lifetime-value models are fitted on the log with a holdout, the customer table
built from it (RFM + CLV) is segmented by the usual pipeline, and the per-customer CLV with ranges is stored."""

import pytest
from helpers import cdnow_csv
from helpers import upload_orders as upload

pytestmark = pytest.mark.django_db


def run_in_process(dataset, user, **settings):
    from jobs.services import job_execute
    from segments.services import analysis_create

    analysis = analysis_create(
        organization=dataset.organization,
        dataset=dataset,
        settings={"n_clusters": 4, "nlp": False, **settings},
        created_by=user,
    )
    assert job_execute(analysis.job_id) == "succeeded", analysis.job.error
    analysis.refresh_from_db()
    return analysis


def test_an_order_log_analysis_stores_clv_with_ranges_per_customer_and_per_segment(people):
    from segments.models import CustomerResult

    dataset = upload(people.acme, people.alice, cdnow_csv())
    analysis = run_in_process(dataset, people.alice)
    assert analysis.customer_count == 2357
    clv = analysis.metrics["clv"]
    assert clv["eligible"] is True
    assert clv["holdout"]["chosen"] in ("pareto_nbd", "bg_nbd", "mbg_nbd")
    assert "expected" in clv["holdout"]["accuracy_sentence"]
    rows = CustomerResult.objects.for_organization(people.acme).filter(analysis=analysis)
    assert rows.count() == 2357
    assert not rows.filter(clv__isnull=True).exists()
    assert not rows.filter(clv_low__gt=0, clv_high__lt=0).exists()
    # every stored range holds its customer's expected value's neighbourhood: low <= high, p_active a probability
    for r in rows.order_by("-clv")[:50]:
        assert 0 <= r.clv_low <= r.clv_high
        assert 0 <= r.p_active <= 1
    total = sum(r.clv for r in rows)
    assert total == pytest.approx(clv["totals"]["clv"], rel=1e-6)
    for p in analysis.profiles:
        assert p["clv"]["avg_low"] <= p["clv"]["avg_high"]
    assert sum(p["clv"]["total"] for p in analysis.profiles) == pytest.approx(total, rel=1e-6)
    summary = analysis.summary["clv"]
    assert sum(summary["histogram"]["counts"]) == 2357
    assert summary["top_customers"][0]["clv"] == pytest.approx(max(r.clv for r in rows))
