"""End to end on the real telecom table (shared/realdata/mlc_churn.csv) and on a leaky label: the worker runs the
full default analysis, and the Data & Analysis tab and the PDF report say what the figures are worth."""

import io
import re

import numpy as np
import pandas as pd
import pytest
from helpers import real_table

pytestmark = pytest.mark.django_db(transaction=True)


def _upload(org, user, frame, filename):
    from datasets.services import dataset_create_from_upload

    raw = io.BytesIO(frame.to_csv(index=False).encode())
    return dataset_create_from_upload(organization=org, uploaded_by=user, file=raw, filename=filename, background=False)


def _report_html(analysis):
    from datetime import UTC, datetime

    from django.template.loader import render_to_string

    from exports.report import report_context

    ctx = report_context(
        profiles=analysis.profiles,
        metrics=analysis.metrics,
        organization_name="Acme",
        analysis_name=analysis.name,
        generated_at=datetime.now(UTC),
    )
    return render_to_string("exports/report.html", ctx)


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_the_real_telecom_table_gets_a_good_churn_model_and_an_honest_structure(
    people, client_for, worker, run_analysis
):
    dataset = _upload(people.acme, people.alice, pd.read_csv(real_table()), "mlc_churn.csv")
    analysis = run_analysis(dataset, people.alice, n_clusters=None, nlp=True, churn_label_col="churn")
    assert analysis.job.status == "succeeded", analysis.job.error
    churn = analysis.metrics["churn"]
    assert churn["method"] == "supervised" and churn["auc"] >= 0.92
    assert churn["model"] == max(churn["cv_auc"], key=churn["cv_auc"].get)
    assert "leakage" not in churn
    structure = analysis.metrics["segment_structure"]
    assert structure["strength"] in ("none", "weak")

    html = client_for(people.vera, people.acme).get(f"/analyses/{analysis.pk}/").content.decode()
    card = re.search(r'data-testid="segment-structure" data-strength="(\w+)">(.*?)</div>', html, re.S)
    assert card.group(1) == structure["strength"]
    text = _text(card.group(2))
    assert "these segments are slices of a continuum; treat them as tiers" in text
    assert "fewer segments" in text and "other columns" in text
    scores = _text(re.search(r'data-testid="model-scores">(.*?)</table>', html, re.S).group(1))
    assert f"Churn ROC AUC (held out) {churn['auc']:.3f}" in scores
    assert "suspect" not in scores
    assert churn["model_label"] in scores
    assert "R²" not in scores.split("LTV model fit")[0]  # no R² shown as an accuracy
    report = _text(_report_html(analysis))
    assert "these segments are slices of a continuum; treat them as tiers" in report


def test_a_leaky_label_is_shown_as_suspect_on_the_page_and_in_the_report(people, client_for, worker, run_analysis):
    from segments.engine import generate_synthetic

    frame = generate_synthetic(2500, seed=11)
    # independent of recency (the generator's customers 120 days away have under 3 sessions anyway)
    frame["sessions_per_month"] = np.random.default_rng(0).permutation(frame["sessions_per_month"].to_numpy())
    frame["churned"] = ((frame["days_since_last_visit"] > 120) & (frame["sessions_per_month"] < 3)).map(
        {True: "yes", False: "no"}
    )
    dataset = _upload(people.acme, people.alice, frame, "leaky.csv")
    analysis = run_analysis(dataset, people.alice, churn_label_col="churned")
    assert analysis.job.status == "succeeded", analysis.job.error
    leak = analysis.metrics["churn"]["leakage"]
    assert {"days_since_last_visit", "sessions_per_month"} <= set(leak["columns"])

    html = client_for(people.vera, people.acme).get(f"/analyses/{analysis.pk}/").content.decode()
    assert 'data-testid="churn-auc-suspect"' in html
    alert = _text(re.search(r'data-testid="churn-leakage">(.*?)</div>', html, re.S).group(1))
    assert alert.strip().startswith("Not a measure of quality.")
    assert "days_since_last_visit" in alert and "sessions_per_month" in alert
    warnings = _text(re.search(r'data-testid="warnings">(.*?)</ul>', html, re.S).group(1))
    assert "leakage" in warnings
    report = _text(_report_html(analysis))
    assert "Churn model AUC (suspect)" in report and "Not a measure of quality" in report
    scores = client_for(people.vera, people.acme).get(f"/api/v1/analyses/{analysis.pk}/").json()["model_scores"]
    assert scores["churn"]["leakage_suspected"] is True
    assert {"days_since_last_visit", "sessions_per_month"} <= set(scores["churn"]["leakage_columns"])
    assert scores["segment_structure"]["strength"] == analysis.metrics["segment_structure"]["strength"]
