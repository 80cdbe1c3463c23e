"""Where a user starts: the dashboard shows what the organization has, and the next step is one click away
(Run analysis on a ready dataset, downloads on a finished analysis) for the roles that may take it."""

import re

import pytest

pytestmark = pytest.mark.django_db


def test_the_dashboard_counts_datasets_and_analyses_and_lists_the_latest_segments(
    people, finished_analysis, client_for
):
    analysis = finished_analysis(people.acme, people.alice)
    html = client_for(people.vera, people.acme).get("/").content.decode()
    assert re.search(r'data-testid="dataset-count">\s*1\s*<', html)
    assert re.search(r'data-testid="analysis-count">\s*1\s*<', html)
    latest = html[html.index('data-testid="latest-segments"') :]
    for profile in analysis.profiles:
        assert profile["name"] in latest
        assert f"/analyses/{analysis.pk}/profiles/#segment-{profile['segment']}" in latest
    assert "more-segments" not in latest  # all 4 are listed: nothing to say
    # Globex sees none of Acme's work.
    globex = client_for(people.charlie, people.globex).get("/").content.decode()
    assert re.search(r'data-testid="analysis-count">\s*0\s*<', globex) and "latest-segments" not in globex


def test_the_dashboard_says_when_it_lists_only_the_largest_segments(people, finished_analysis, client_for):
    analysis = finished_analysis(people.acme, people.alice, n_clusters=8)
    html = client_for(people.vera, people.acme).get("/").content.decode()
    latest = html[html.index('data-testid="latest-segments"') :]
    largest = sorted(analysis.profiles, key=lambda p: -p["size"])
    assert all(p["name"] in latest for p in largest[:6])
    assert "The 6 largest of 8 segments" in latest and f"/analyses/{analysis.pk}/profiles/" in latest


def test_the_dashboard_lists_runs_that_have_not_finished_and_counts_only_analyses(people, make_dataset, client_for):
    from jobs.services import job_create
    from segments.services import analysis_create, analysis_default_config

    dataset = make_dataset(people.acme, people.alice, rows=300)
    analysis_create(
        organization=people.acme,
        dataset=dataset,
        name="Waiting run",
        created_by=people.alice,
        config={**analysis_default_config(dataset), "nlp": False},
    )
    job_create(organization=people.acme, kind="test.sleep", params={}, created_by=people.alice)  # not an analysis
    html = client_for(people.bob, people.acme).get("/").content.decode()
    assert re.search(r'data-testid="active-analyses">\s*1 running or queued', html)
    recent = html[html.index('data-testid="recent-analyses"') :]
    assert "Waiting run" in recent and "latest-segments" not in html


def test_a_ready_dataset_offers_run_analysis_to_analysts_only(people, make_dataset, client_for):
    dataset = make_dataset(people.acme, people.alice, rows=300)
    link = f'href="/analyses/new/{dataset.pk}/"'
    assert link in client_for(people.bob, people.acme).get(f"/datasets/{dataset.pk}/").content.decode()
    assert link not in client_for(people.vera, people.acme).get(f"/datasets/{dataset.pk}/").content.decode()


def test_a_finished_analysis_shows_its_downloads_to_roles_that_may_export(people, finished_analysis, client_for):
    analysis = finished_analysis(people.acme, people.alice)
    for tab in ("", "profiles/", "visualizations/", "insights/"):
        html = client_for(people.mia, people.acme).get(f"/analyses/{analysis.pk}/{tab}").content.decode()
        for fmt in ("pdf", "xlsx", "csv", "json"):
            assert f"/reports/analyses/{analysis.pk}/download/?format={fmt}" in html, (tab, fmt)
    viewer = client_for(people.vera, people.acme).get(f"/analyses/{analysis.pk}/").content.decode()
    assert "export-buttons" not in viewer
