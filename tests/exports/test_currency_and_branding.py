"""The organization's currency is on every money figure (pages, charts, workbook, JSON, PDF) and the PDF report
carries its name, logo and colours, states each profile row once and compares only figures that differ."""

import io
import json
import subprocess
from datetime import UTC, datetime

from django.core.files.uploadedfile import SimpleUploadedFile

from exports.report import render_pdf, report_context
from segments.engine import formatting as fmt

NOW = datetime(2026, 6, 30, 9, 30, tzinfo=UTC)


def _png() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (90, 30), (91, 44, 111)).save(buffer, format="PNG")
    return buffer.getvalue()


def _text(path, first=None, last=None) -> str:
    args = ["pdftotext", "-layout"]
    if first:
        args += ["-f", str(first), "-l", str(last or first)]
    out = subprocess.run([*args, str(path), "-"], capture_output=True, text=True, check=True)
    return out.stdout


def test_the_report_speaks_the_organization_s_currency_and_look(engine_result, tmp_path):
    import base64

    logo = "data:image/png;base64," + base64.b64encode(_png()).decode()
    context = report_context(
        profiles=engine_result.profiles,
        metrics=engine_result.metrics,
        organization_name="Brightwater Coffee GmbH",
        analysis_name="Spring customers",
        generated_at=NOW,
        branding={"currency": "EUR", "primary": "#5B2C6F", "accent": "#E67E22", "logo": logo},
        money_columns=["total_spend"],
    )
    path = tmp_path / "report.pdf"
    render_pdf(context, str(path))
    text = _text(path)
    assert "€" in text and "$" not in text.replace("US$", "")
    assert "Prepared for" in text and "Brightwater Coffee GmbH" in text
    html = _html(context)
    assert "#5B2C6F" in html and "#E67E22" in html and html.count(logo) == 2  # cover and running header
    for page in context["segments"]:
        labels = [r["label"] for r in page["stat_rows"]]
        figures = [(r["mean"], r["median"]) for r in page["stat_rows"]]
        assert len(labels) == len(set(labels)), labels  # no repeated rows
        assert len(figures) == len(set(figures)), figures
        for f in page["features"]:
            assert f["segment_text"] != f["population_text"], f  # never "2024 vs 2024"
            assert "_" not in f["label"]
        spend = [r for r in page["stat_rows"] if r["feature"] == "total_spend"]
        assert not spend or spend[0]["mean"].startswith("€")
        days = [r for r in page["stat_rows"] if r["feature"] == "tenure_days"]
        assert not days or days[0]["mean"].endswith(("days", "day"))


def _html(context) -> str:
    from django.template.loader import render_to_string

    with fmt.using_currency(context["currency"]):
        return render_to_string("exports/report.html", context)


def test_without_branding_the_report_is_in_dollars_without_a_logo(engine_result):
    context = report_context(
        profiles=engine_result.profiles,
        metrics=engine_result.metrics,
        organization_name="Acme",
        analysis_name="Spring customers",
        generated_at=NOW,
    )
    assert context["currency"] == "USD" and context["brand"]["logo"] is None
    assert "$" in " ".join(context["summary"]["overview"])


def test_a_currency_change_reaches_pages_charts_json_workbook_and_pdf(people, client_for, finished_analysis, tmp_path):
    import openpyxl

    from accounts.services import organization_update

    analysis = finished_analysis(people.acme, people.alice)
    client = client_for(people.alice, people.acme)
    before = client.get(f"/analyses/{analysis.pk}/profiles/").content.decode()
    assert "$" in before
    old_pdf = tmp_path / "before.pdf"
    old_pdf.write_bytes(_body(client.get(_url(analysis, "pdf"))))  # built now, in dollars, and kept for reuse
    assert "$" in _text(old_pdf) and "£" not in _text(old_pdf)
    organization_update(
        organization=people.acme,
        actor=people.alice,
        currency="GBP",
        name="Acme Retail",
        logo=SimpleUploadedFile("logo.png", _png()),
    )
    page = client.get(f"/analyses/{analysis.pk}/profiles/").content.decode()

    # every figure of the page, traits, segment recommendations and each customer's own advice included, is in
    # pounds (the advice is written again in today's currency: segments.advice)
    shown = page.split("<main", 1)[1]
    assert "£" in shown and "$" not in shown
    charts = client.get(f"/analyses/{analysis.pk}/insights/").content.decode()
    assert "£" in charts and '"tickprefix":"$"' not in charts.replace(" ", "")

    document = json.loads(_body(client.get(_url(analysis, "json"))))
    assert document["currency"] == "GBP" and document["organization"] == "Acme Retail"

    book = openpyxl.load_workbook(io.BytesIO(_body(client.get(_url(analysis, "xlsx")))))
    formats = {c.number_format for row in book["Segment profiles"].iter_rows() for c in row}
    assert any("£" in f for f in formats) and not any("$" in f for f in formats)

    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(_body(client.get(_url(analysis, "pdf"))))
    text = _text(pdf)
    assert "£" in text and "Acme Retail" in text  # the dollar report built before the change is not reused
    assert "$" not in text


def _url(analysis, fmt_):
    return f"/reports/analyses/{analysis.pk}/download/?format={fmt_}"


def _body(response) -> bytes:
    assert response.status_code == 200, response.status_code
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_recommendations_written_again_match_the_run_s_apart_from_the_currency(engine_result):
    from segments.engine.recommend import recommendations_in_active_currency

    population = engine_result.metrics["insights"]["population"]
    assert recommendations_in_active_currency(engine_result.profiles, population) == engine_result.profiles
    with fmt.using_currency("EUR"):
        again = recommendations_in_active_currency(engine_result.profiles, population)
    for old, new in zip(engine_result.profiles, again, strict=True):
        assert [r["action"] for r in old["recommendations"]] == [r["action"] for r in new["recommendations"]]
        assert [r["reason"].replace("$", "€") for r in old["recommendations"]] == [
            r["reason"] for r in new["recommendations"]
        ]
