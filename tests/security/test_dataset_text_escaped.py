"""Text from a dataset (column names, category values, customer ids) is shown as text wherever it appears: escaped in
every page and in the charts' JSON, literal in the PDF report, never a formula in the workbook or the CSV."""

import csv
import io
import random
import subprocess

import pytest

pytestmark = pytest.mark.django_db

SCRIPT_COL = "<script>alert('col')</script>"
BOLD_COL = "<b>visits</b>"
IMG = "<img src=x onerror=alert(1)>"
FORMULA = "=cmd|' /C calc'!A0"


@pytest.fixture
def hostile_analysis(people):
    from helpers import as_file

    from datasets.services import dataset_create_from_upload, dataset_update_roles
    from jobs.services import job_execute
    from segments.services import analysis_create, analysis_default_config

    rng = random.Random(3)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["customer_id", SCRIPT_COL, BOLD_COL, "orders", "tenure_days", "region"])
    for i in range(400):
        cid = [f'=HYPERLINK("http://evil.example/{i}")', f"<script>x{i}</script>", f"@SUM(A{i})", f"c{i}"][i % 4]
        writer.writerow(
            [
                cid,
                round(rng.lognormvariate(4, 1), 2),
                rng.randint(0, 40),
                rng.randint(1, 30),
                rng.randint(5, 900),
                [IMG, FORMULA, "North"][i % 3],
            ]
        )
    dataset = dataset_create_from_upload(
        organization=people.acme,
        uploaded_by=people.alice,
        file=as_file(buf.getvalue().encode(), "evil.csv"),
        background=False,
    )
    assert dataset.status == "ready", dataset.status
    roles = dict(dataset.roles)
    roles[SCRIPT_COL] = "monetary"
    dataset = dataset_update_roles(dataset=dataset, roles=roles)
    config = {**analysis_default_config(dataset), "n_clusters": 3, "nlp": False}
    analysis = analysis_create(
        organization=people.acme, dataset=dataset, config=config, name=IMG, created_by=people.alice
    )
    assert job_execute(analysis.job_id) == "succeeded", analysis.job.error
    analysis.refresh_from_db()
    return analysis


def _assert_escaped(html: str, where: str):
    for raw in ("<script>alert(", "<script>x", IMG, BOLD_COL):
        assert raw not in html, f"{where}: {raw!r} is in the page unescaped"


def test_pages_and_charts_show_dataset_text_escaped(hostile_analysis, people, client_for):
    import json
    import re

    client = client_for(people.alice, people.acme)
    a, d = hostile_analysis.pk, hostile_analysis.dataset_id
    seen_escaped = 0
    for url in (
        f"/datasets/{d}/",
        f"/analyses/{a}/",
        f"/analyses/{a}/profiles/",
        f"/analyses/{a}/visualizations/",
        f"/analyses/{a}/insights/",
        f"/analyses/{a}/profiles/?customer_id=%3Cscript%3Ex1",
        "/analyses/",
        "/",
        f"/analyses/new/{d}/",
        "/reports/",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        _assert_escaped(html, url)
        seen_escaped += html.count("&lt;script&gt;alert(") + html.count("&lt;img src=x")
        for figure in re.findall(r'<script type="application/json" id="figure-[^"]+">(.*?)</script>', html, re.S):
            assert "<" not in figure  # escaped as \u003c inside the JSON
            json.loads(figure)
    assert seen_escaped >= 3  # the text is shown (escaped), not dropped


def test_the_pdf_shows_the_text_literally(hostile_analysis, people, client_for, tmp_path):
    client = client_for(people.alice, people.acme)
    response = client.get(f"/reports/analyses/{hostile_analysis.pk}/download/", {"format": "pdf"})
    assert response.status_code == 200, response.status_code
    path = tmp_path / "report.pdf"
    path.write_bytes(b"".join(response.streaming_content) if response.streaming else response.content)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    flat = " ".join(text.split())
    assert IMG in flat  # the analysis name, as typed: markup printed, not interpreted


def test_the_workbook_and_the_csv_hold_no_formula(hostile_analysis, people, client_for, tmp_path):
    import openpyxl

    from exports.safety import is_dangerous

    client = client_for(people.alice, people.acme)
    url = f"/reports/analyses/{hostile_analysis.pk}/download/"
    response = client.get(url, {"format": "xlsx"})
    assert response.status_code == 200
    path = tmp_path / "book.xlsx"
    path.write_bytes(b"".join(response.streaming_content) if response.streaming else response.content)
    workbook = openpyxl.load_workbook(path)  # not data_only: formulas would show as data_type "f"
    formula_like = 0
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                # a workbook's text cell is never evaluated: formula-like text must be a string cell, not a formula
                assert cell.data_type != "f", f"{sheet.title}!{cell.coordinate} is a formula: {cell.value!r}"
                if isinstance(cell.value, str) and is_dangerous(cell.value):
                    assert cell.data_type == "s"
                    formula_like += 1
    assert formula_like >= 200  # the uploaded ids and categories are there, as text

    response = client.get(url, {"format": "csv"})
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body)))
    ids = [r[0] for r in rows[1:]]
    assert len(ids) == 400
    assert '\'=HYPERLINK("http://evil.example/0")' in ids and "'@SUM(A2)" in ids
    for row in rows:
        for value in row:
            assert not is_dangerous(value), value
