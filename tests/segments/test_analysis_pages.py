"""The four tabs, the customer search, permissions and the tenant fence of every analysis URL."""

import html as html_lib
import json
import re

import pytest

from segments.models import CustomerResult
from segments.selectors import customer_page

pytestmark = pytest.mark.django_db

TAB_CHARTS = {
    "": ["k-selection", "calibration"],
    "visualizations/": [
        "segment-sizes",
        "ltv-churn",
        "pca-scatter",
        "feature-importance",
        "segment-heatmap",
        "radar-0",
        "radar-3",
        "journey",
        "ltv-distribution",
    ],
    "insights/": ["growth", "risk-value", "revenue"],
}


def _figures(html):
    return {
        name: json.loads(body)
        for name, body in re.findall(r'<script type="application/json" id="figure-([\w-]+)">(.*?)</script>', html, re.S)
    }


def test_every_tab_renders_its_charts_with_titles_axes_and_the_chosen_colours(people, client_for, finished_analysis):
    analysis = finished_analysis(people.acme, people.alice)
    analysis.color_scheme = "Dark2"
    analysis.save(update_fields=["color_scheme"])
    client = client_for(people.vera, people.acme)  # a viewer may read everything
    for suffix, charts in TAB_CHARTS.items():
        response = client.get(f"/analyses/{analysis.pk}/{suffix}")
        assert response.status_code == 200
        html = response.content.decode()
        assert "vendor/plotly/plotly.min.js" in html and "cdn" not in html.lower()
        figures = _figures(html)
        for chart in charts:
            assert f'data-figure="figure-{chart}"' in html, chart
            fig = figures[chart]
            assert fig["data"], chart
            assert fig["layout"]["title"]["text"], chart
    viz = _figures(client.get(f"/analyses/{analysis.pk}/visualizations/").content.decode())
    pie_colors = viz["segment-sizes"]["data"][0]["marker"]["colors"]
    assert pie_colors == ["#1b9e77", "#d95f02", "#7570b3", "#e7298a"]  # Dark2's first four colours
    scatter = viz["pca-scatter"]
    assert all(trace["type"] == "scattergl" for trace in scatter["data"])
    assert "1,500 of 1,500 customers shown" in scatter["layout"]["title"]["subtitle"]["text"]
    assert scatter["layout"]["xaxis"]["title"]["text"].startswith("PC1")
    bubble = viz["ltv-churn"]
    assert bubble["layout"]["xaxis"]["title"]["text"] == "Average churn risk (%)"
    assert "$" in bubble["layout"]["yaxis"]["title"]["text"]
    profiles = client.get(f"/analyses/{analysis.pk}/profiles/").content.decode()
    assert profiles.count('data-testid="segment-card"') == 4
    for p in analysis.profiles:
        assert p["name"] in profiles and p["recommendations"][0]["action"] in profiles


def test_the_scatter_sample_is_capped_per_segment_and_says_so(people, client_for, finished_analysis, monkeypatch):
    monkeypatch.setattr("segments.services.summaries.CHART_SAMPLE_PER_SEGMENT", 100)
    analysis = finished_analysis(people.acme, people.alice, rows=1_000)
    viz = _figures(
        client_for(people.alice, people.acme).get(f"/analyses/{analysis.pk}/visualizations/").content.decode()
    )
    points = sum(len(t["x"]) for t in viz["pca-scatter"]["data"])
    assert points == 400
    assert (
        "400 of 1,000 customers shown (random sample of up to 100 per segment)"
        in viz["pca-scatter"]["layout"]["title"]["subtitle"]["text"]
    )


def test_customer_search_filters_by_segment_churn_ltv_and_id_and_pages_through_every_row(
    people, client_for, finished_analysis
):
    analysis = finished_analysis(people.acme, people.alice)
    rows = CustomerResult.objects.for_organization(people.acme).filter(analysis=analysis)
    seen, number = [], 1
    while True:
        page = customer_page(analysis=analysis, page=number, size=100)
        seen.extend(r.row_index for r in page.rows)
        if not page.has_next:
            break
        number += 1
    assert seen == list(range(1_500)) and page.pages == 15 and page.last_row == 1_500
    page = customer_page(analysis=analysis, segment=2, churn_risk_min=0.5, ltv_max=500, size=200)
    expected = rows.filter(segment=2, churn_risk__gte=0.5, predicted_ltv__lte=500).count()
    assert page.total == expected and len(page.rows) == expected
    assert all(r.segment == 2 and r.churn_risk >= 0.5 and r.predicted_ltv <= 500 for r in page.rows)
    assert customer_page(analysis=analysis, segment=1).total == analysis.profile(1)["size"]
    one = rows.get(row_index=17)
    client = client_for(people.vera, people.acme)
    html = client.get(f"/analyses/{analysis.pk}/profiles/?customer_id={one.customer_id}").content.decode()
    assert html.count('<tr><td class="mono">') == 1 and one.customer_id in html
    html = client.get(f"/analyses/{analysis.pk}/profiles/?segment=0&churn_risk_min=50").content.decode()
    count = rows.filter(segment=0, churn_risk__gte=0.5).count()
    assert f"{count:,} matching customer" in html


def test_the_customer_list_sorts_both_ways_pages_by_the_size_asked_and_shows_the_total(
    people, client_for, finished_analysis
):
    import re

    analysis = finished_analysis(people.acme, people.alice)
    rows = CustomerResult.objects.for_organization(people.acme).filter(analysis=analysis)
    riskiest = list(rows.order_by("-churn_risk", "row_index").values_list("customer_id", flat=True)[:25])
    client = client_for(people.vera, people.acme)
    html = client.get(f"/analyses/{analysis.pk}/profiles/?sort=-churn_risk&size=25").content.decode()
    assert re.findall(r'<tr><td class="mono">([^<]+)</td>', html) == riskiest
    assert "Customers 1–25 of 1,500 matching customers · page 1 of 60" in html
    html = client.get(f"/analyses/{analysis.pk}/profiles/?sort=-churn_risk&size=25&page=60").content.decode()
    safest_last = list(rows.order_by("-churn_risk", "row_index").values_list("customer_id", flat=True)[1475:])
    assert re.findall(r'<tr><td class="mono">([^<]+)</td>', html) == safest_last
    assert 'data-testid="next-page"' not in html and 'data-testid="first-page"' in html
    cheapest = list(rows.order_by("predicted_ltv", "row_index").values_list("customer_id", flat=True)[:50])
    html = client.get(f"/analyses/{analysis.pk}/profiles/?sort=ltv").content.decode()
    assert re.findall(r'<tr><td class="mono">([^<]+)</td>', html) == cheapest
    # a refused filter is said beside its field and lists nothing
    html = client.get(f"/analyses/{analysis.pk}/profiles/?churn_risk_min=150&ltv_max=abc&sort=price").content.decode()
    errors = re.findall(r'data-testid="filter-error">([^<]+)<', html)
    assert "Churn risk is a percentage between 0 and 100, not 150." in errors
    assert "Enter a number." in errors and any("price" in e for e in errors)
    assert 'data-testid="filter-refused"' in html and '<tr><td class="mono">' not in html


def test_viewers_read_but_cannot_run_cancel_or_delete(people, client_for, finished_analysis):
    analysis = finished_analysis(people.acme, people.alice)
    vera = client_for(people.vera, people.acme)
    assert vera.get(f"/analyses/{analysis.pk}/rerun/").status_code == 403
    assert vera.get(f"/analyses/new/{analysis.dataset_id}/").status_code == 403
    assert vera.post(f"/jobs/{analysis.job_id}/cancel/").status_code == 403
    assert vera.post(f"/analyses/{analysis.pk}/delete/").status_code == 403
    html = vera.get(f"/analyses/{analysis.pk}/").content.decode()
    assert "Re-run with changes" not in html


def test_deleting_an_analysis_removes_its_rows_and_files(people, client_for, finished_analysis):
    from django.core.files.storage import default_storage

    analysis = finished_analysis(people.acme, people.alice)
    assert default_storage.exists(analysis.customers_file)
    response = client_for(people.bob, people.acme).post(f"/analyses/{analysis.pk}/delete/")
    assert response.status_code == 302
    assert not CustomerResult.objects.for_organization(people.acme).filter(analysis_id=analysis.pk).exists()
    assert not default_storage.exists(analysis.customers_file)
    from accounts.models import AuditEvent

    assert AuditEvent.objects.for_organization(people.acme).filter(action="analysis.deleted").exists()


def test_every_analysis_url_is_a_404_for_another_organization(people, client_for, finished_analysis):
    acme = finished_analysis(people.acme, people.alice)
    globex = finished_analysis(people.globex, people.charlie)
    charlie = client_for(people.charlie, people.globex)
    for suffix in ("", "profiles/", "visualizations/", "insights/", "compare/", "rerun/"):
        assert charlie.get(f"/analyses/{acme.pk}/{suffix}").status_code == 404, suffix
    for suffix in ("delete/", "rerun/"):
        assert charlie.post(f"/analyses/{acme.pk}/{suffix}").status_code == 404, suffix
    assert charlie.post(f"/jobs/{acme.job_id}/cancel/").status_code == 404
    assert charlie.get(f"/analyses/new/{acme.dataset_id}/").status_code == 404
    assert charlie.get(f"/analyses/new/?dataset={acme.dataset_id}").status_code == 404
    # comparing one's own run with another organization's run is a 404 too
    assert charlie.get(f"/analyses/{globex.pk}/compare/?other={acme.pk}").status_code == 404
    listing = charlie.get("/analyses/").content.decode()
    assert globex.name in listing and f"/analyses/{acme.pk}/" not in listing
    assert CustomerResult.objects.for_organization(people.acme).filter(analysis=acme).count() == 1_500


@pytest.mark.parametrize("algorithm", ["agglomerative", "dbscan"])
def test_every_algorithm_s_results_render_including_dbscan_noise(people, client_for, finished_analysis, algorithm):
    config = {"algorithm": algorithm} | ({"n_clusters": None} if algorithm == "dbscan" else {})
    analysis = finished_analysis(people.acme, people.alice, **config)
    assert analysis.n_segments >= 1
    client = client_for(people.alice, people.acme)
    for suffix in ("", "profiles/", "visualizations/", "insights/"):
        response = client.get(f"/analyses/{analysis.pk}/{suffix}")
        assert response.status_code == 200, suffix
    figures = _figures(client.get(f"/analyses/{analysis.pk}/visualizations/").content.decode())
    names = [t["name"] for t in figures["pca-scatter"]["data"]]
    assert len(names) == len(analysis.profiles)
    if any(p["segment"] == -1 for p in analysis.profiles):
        noise = next(t for t in figures["pca-scatter"]["data"] if t["name"] == "Unclustered (noise)")
        assert noise["marker"]["color"] == "#adb5bd"


def test_a_failure_while_storing_results_leaves_no_half_result(people, make_dataset, monkeypatch):
    from jobs.services import job_execute
    from segments import services

    real_insert = services.results.bulk_insert_customers

    def insert_then_fail(analysis, customers, **kwargs):
        real_insert(analysis, customers, **kwargs)  # every row written (SQLite: already committed, in batches)...
        raise OSError("disk full")  # ...then the end of the run fails

    monkeypatch.setattr("segments.services.execute.bulk_insert_customers", insert_then_fail)
    dataset = make_dataset(people.acme, people.alice, rows=600)
    analysis = services.analysis_create(
        organization=people.acme,
        dataset=dataset,
        config=services.analysis_default_config(dataset) | {"n_clusters": 3, "nlp": False},
        name="",
        created_by=people.alice,
    )
    assert job_execute(analysis.job_id) == "failed"
    analysis.refresh_from_db()
    analysis.job.refresh_from_db()
    assert "OSError" in analysis.job.error and "Traceback" not in analysis.job.error
    assert analysis.profiles == [] and analysis.metrics == {} and analysis.customers_file == ""
    assert not CustomerResult.objects.for_organization(people.acme).filter(analysis=analysis).exists()
    from django.core.files.storage import default_storage

    assert not default_storage.exists(analysis.storage_dir + "/customers.parquet")  # the fail hook removed the files


def test_distinguishing_features_agree_with_their_own_numbers_and_the_heat_map(people, client_for, finished_analysis):
    analysis = finished_analysis(people.acme, people.alice)
    client = client_for(people.alice, people.acme)
    heat = _figures(client.get(f"/analyses/{analysis.pk}/visualizations/").content.decode())["segment-heatmap"]
    from segments.charts.common import feature_name

    # the grid names each feature as every chart does (its label and unit); back to the engine's feature names
    names = {feature_name(analysis, f): f for f in analysis.summary["feature_z"]["features"]}
    assert set(heat["data"][0]["x"]) == set(names)
    cells = {
        (name, names[feature]): value
        for name, row in zip(heat["data"][0]["y"], heat["data"][0]["z"], strict=True)
        for feature, value in zip(heat["data"][0]["x"], row, strict=True)
    }
    page = html_lib.unescape(client.get(f"/analyses/{analysis.pk}/profiles/").content.decode())
    compared = 0
    for p in analysis.profiles:
        for d in p["distinguishing_features"]:
            word = "higher" if d["z"] > 0 else "lower"
            assert (d["segment_mean"] > d["population_mean"]) == (d["z"] > 0), (p["name"], d)
            assert word in d["text"] or "%" in d["text"] or "days ago" in d["text"], d
            assert d["text"][0].upper() + d["text"][1:] in page  # the readable trait, not the engine's feature name
            if (p["name"], d["feature"]) in cells:
                assert cells[(p["name"], d["feature"])] == pytest.approx(d["z"], abs=0.005), (p["name"], d)
                compared += 1
    assert compared >= 3
    spend = [cells[(p["name"], "total_spend")] for p in analysis.profiles if (p["name"], "total_spend") in cells]
    assert spend == pytest.approx([p["stats"]["total_spend"]["z"] for p in analysis.profiles], abs=0.005)


def test_the_strategy_panel_shows_a_potential_only_for_a_segment_in_the_opportunity_lists(
    people, client_for, finished_analysis
):
    analysis = finished_analysis(people.acme, people.alice)
    insights = analysis.metrics["insights"]
    growth = {g["segment"]: g["growth_potential"] for g in insights["growth_opportunities"]}
    develop = {u["segment"]: u["development_potential"] for u in insights["underperforming"]}
    html = client_for(people.vera, people.acme).get(f"/analyses/{analysis.pk}/insights/").content.decode()
    panes = dict(re.findall(r'id="strategy-(-?\d+)" role="tabpanel">(.*?)</table>', html, re.S))
    assert len(panes) == len(analysis.profiles)
    for p in analysis.profiles:
        pane = panes[str(p["segment"])]
        rows = re.findall(r'data-testid="segment-potential"><th[^>]*>([^<]+)</th><td>([^<]+)<span', pane)
        if p["segment"] in growth:
            assert rows == [("Growth ceiling", f"${growth[p['segment']]:,.0f} ")]  # then "(upper bound)"
        elif p["segment"] in develop:
            assert rows == [("Development ceiling", f"${develop[p['segment']]:,.0f} ")]
        else:
            assert rows == [] and "ceiling" not in pane.lower()


def test_stored_customers_carry_their_own_risk_level_and_value_tier(people, finished_analysis):
    from segments.engine.profiles import risk_levels, value_tiers

    analysis = finished_analysis(people.acme, people.alice)
    population = analysis.metrics["insights"]["population"]
    rows = list(
        CustomerResult.objects.for_organization(people.acme)
        .filter(analysis=analysis)
        .values_list("churn_risk", "predicted_ltv", "risk_level", "value_tier")
    )
    assert len(rows) == 1_500
    churn, ltv, risk, tier = (list(col) for col in zip(*rows, strict=True))
    assert risk == list(risk_levels(churn, population["avg_churn_risk"], analysis.metrics["churn"]["method"]))
    assert tier == list(value_tiers(ltv, population["avg_ltv"]))
    avg = population["avg_churn_risk"]  # relative to this client's average customer
    assert all(r == "high" for c, r in zip(churn, risk, strict=True) if c >= avg + max(0.05, 0.25 * avg))
    assert all(r == "low" for c, r in zip(churn, risk, strict=True) if c <= avg - max(0.05, 0.25 * avg))
    advice = CustomerResult.objects.for_organization(people.acme).filter(analysis=analysis)
    assert not advice.filter(recommendation="").exists()
    assert all("retention" in a for a in advice.filter(risk_level="high").values_list("recommendation", flat=True))


def test_a_run_with_a_fixed_k_reports_clustering_not_choosing_k(people, make_dataset):
    from segments import services

    dataset = make_dataset(people.acme, people.alice, rows=600)
    stages = []
    for config in ({"n_clusters": 3}, {"n_clusters": None, "k_min": 2, "k_max": 3}):
        analysis = services.analysis_create(
            organization=people.acme,
            dataset=dataset,
            config=services.analysis_default_config(dataset) | {"nlp": False} | config,
            name="",
            created_by=people.alice,
        )
        seen = []
        services.analysis_execute(analysis=analysis, progress=lambda stage, pct, seen=seen: seen.append(stage))
        stages.append(seen)
    fixed, searched = stages
    assert "Clustering" in fixed and "Choosing k" not in fixed
    assert "Choosing k" in searched
