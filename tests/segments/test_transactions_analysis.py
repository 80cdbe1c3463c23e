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
    status = job_execute(analysis.job_id)
    analysis.job.refresh_from_db()
    assert status == "succeeded", analysis.job.error
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


def test_the_lifetime_value_tab_says_the_holdout_accuracy_in_plain_words(people, client_for):
    dataset = upload(people.acme, people.alice, cdnow_csv())
    analysis = run_in_process(dataset, people.alice)
    chosen = analysis.metrics["clv"]["holdout"]["models"][analysis.metrics["clv"]["holdout"]["chosen"]]
    page = client_for(people.vera, people.acme).get(f"/analyses/{analysis.pk}/lifetime-value/")
    assert page.status_code == 200
    html = page.content.decode()
    weeks = f"{chosen['holdout_weeks']:.0f}"
    assert f"Over your last {weeks} weeks the model expected {chosen['purchases_expected']:,.0f} purchases" in html
    assert f"they made {chosen['purchases_actual']:,}." in html
    for chart in ("clv-tracking", "clv-conditional", "clv-distribution", "clv-p-active", "clv-top"):
        assert f'data-testid="chart-{chart}"' in html
    assert 'data-testid="tab-clv"' in html
    # the top customers' table lists the largest CLV with its range
    top = analysis.summary["clv"]["top_customers"][0]
    assert top["customer_id"] in html


def test_a_customer_table_analysis_has_no_lifetime_value_tab(people, client_for, finished_analysis):
    analysis = finished_analysis(people.acme, people.alice)
    client = client_for(people.alice, people.acme)
    assert 'data-testid="tab-clv"' not in client.get(f"/analyses/{analysis.pk}/").content.decode()
    assert client.get(f"/analyses/{analysis.pk}/lifetime-value/").status_code == 404


def test_an_ineligible_log_is_still_segmented_and_the_tab_says_why_there_is_no_model(people, client_for):
    import io

    from helpers import upload_orders

    from segments.engine.clv import generate_order_log
    from segments.models import CustomerResult

    log = generate_order_log(400, days=120, seed=4, mess=False)
    buf = io.StringIO()
    log.to_csv(buf, index=False)
    dataset = upload_orders(people.acme, people.alice, buf.getvalue().encode(), name="short.csv")
    analysis = run_in_process(dataset, people.alice)
    assert analysis.metrics["clv"]["eligible"] is False
    assert analysis.customer_count == len(set(log["customer_id"]))
    assert (
        not CustomerResult.objects.for_organization(people.acme).filter(analysis=analysis, clv__isnull=False).exists()
    )
    html = client_for(people.alice, people.acme).get(f"/analyses/{analysis.pk}/lifetime-value/").content.decode()
    assert "No lifetime-value model for this order log yet" in html
    for reason in analysis.metrics["clv"]["reasons"]:
        assert reason["advice"].split(":")[0] in html


def test_a_messy_order_log_uploaded_and_run_from_the_pages_is_modelled_in_the_worker(people, worker, client_for):
    """Split orders, refunds, zero amounts and re-exported duplicate rows, uploaded on the page and analysed by
    the real worker: the rules' counts reach the Lifetime value tab, and the CLV per customer is stored."""
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from helpers import wait_for_job

    from datasets.models import Dataset
    from segments.engine.clv import CLVConfig, generate_order_log, read_orders
    from segments.models import Analysis

    log = generate_order_log(1_500, days=730, start="2023-01-01", seed=21, mess=True)
    buf = io.StringIO()
    log.to_csv(buf, index=False)
    content = buf.getvalue().encode()
    client = client_for(people.bob, people.acme)
    made = client.post("/datasets/upload/", {"file": SimpleUploadedFile("orders.csv", content), "name": "Shop orders"})
    assert made.status_code == 302
    dataset = Dataset.objects.for_organization(people.acme).get(name="Shop orders")
    assert dataset.kind == "transactions" and dataset.order_columns["order_id_col"] == "order_id"
    assert dataset.order_log["eligible"] is True

    form = {"name": "Orders run", "algorithm": "kmeans", "color_scheme": "Plotly", "k_mode": "fixed", "n_clusters": 3}
    form.update(k_min=2, k_max=10)
    started = client.post(f"/analyses/new/{dataset.pk}/", form)
    assert started.status_code == 302, started.content.decode()[:2000]
    analysis = Analysis.objects.for_organization(people.acme).get(name="Orders run")
    job = wait_for_job(analysis.job, timeout=240)
    assert job.status == "succeeded", job.error
    analysis.refresh_from_db()

    expected = read_orders(log, CLVConfig(order_id_col="order_id")).report
    ingest = analysis.metrics["clv"]["ingest"]
    for key in ("refund_orders", "zero_amount_orders", "duplicate_order_rows", "orders_used"):
        assert ingest[key] == getattr(expected, key), key
    assert expected.refund_orders > 0 and expected.duplicate_order_rows > 0 and expected.zero_amount_orders > 0
    assert analysis.customer_count == expected.customers
    html = client.get(f"/analyses/{analysis.pk}/lifetime-value/").content.decode()
    assert f"{expected.duplicate_order_rows:,}" in html and f"{expected.refund_orders:,}" in html
    assert analysis.metrics["clv"]["eligible"] is True


def test_the_analysis_form_of_an_order_log_says_what_a_run_does_and_refuses_column_roles(people, client_for):
    from segments.services import AnalysisError, analysis_create

    dataset = upload(people.acme, people.alice, cdnow_csv())
    html = client_for(people.bob, people.acme).get(f"/analyses/new/{dataset.pk}/").content.decode()
    assert 'data-testid="order-log-run"' in html and "Column roles" not in html
    assert 'name="clv_horizon_days" id="id_clv_horizon_days" value="365"' in html
    form = {"algorithm": "kmeans", "color_scheme": "Plotly", "k_mode": "fixed", "n_clusters": 3, "k_min": 2}
    form.update(k_max=10, clv_horizon_days=90, clv_discount_percent=8)
    assert client_for(people.bob, people.acme).post(f"/analyses/new/{dataset.pk}/", form).status_code == 302
    from segments.models import Analysis

    run = Analysis.objects.for_organization(people.acme).get(dataset=dataset)
    assert run.config["clv"] == {"horizon_days": 90, "discount_rate": 0.08}
    with pytest.raises(AnalysisError) as refused:
        analysis_create(organization=people.acme, dataset=dataset, roles={"amount": "numeric"}, created_by=people.bob)
    assert refused.value.field == "roles"


def test_no_order_log_page_shows_an_engine_key_nan_or_none(people, client_for):
    """The order-log pages read as labels and numbers: never `mbg_nbd`, `pareto_nbd`, NaN or None."""
    import re

    dataset = upload(people.acme, people.alice, cdnow_csv())
    analysis = run_in_process(dataset, people.alice)
    client = client_for(people.vera, people.acme)
    pages = [
        f"/datasets/{dataset.pk}/",
        *(f"/analyses/{analysis.pk}/{tab}" for tab in ("", "profiles/", "lifetime-value/", "insights/")),
    ]
    for page in pages:
        html = client.get(page).content.decode()
        visible = re.sub(r"<script.*?</script>|<style.*?</style>|<[^>]+>", " ", html, flags=re.S)
        found = re.findall(r"\b(?:pareto_nbd|bg_nbd|mbg_nbd|kmeans|[a-z]+_cols|NaN|nan|None)\b", visible)
        assert not found, (page, found)
