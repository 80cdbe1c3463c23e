"""The export writers on a real engine result (no database): CSV, XLSX, injection, PDF pages."""

import io
import subprocess
from datetime import UTC, datetime

import openpyxl
import pandas as pd
import pytest

from exports.csv_export import csv_chunks
from exports.safety import neutralise
from exports.sources import CUSTOMER_COLUMNS, CustomerFilter, iter_customer_batches
from exports.xlsx_export import write_workbook

NOW = datetime(2026, 6, 30, 9, 30, tzinfo=UTC)
HOSTILE = ['=HYPERLINK("http://evil.example","click")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)", "\tTAB", "\rCR"]


def _csv(batches) -> bytes:
    return b"".join(csv_chunks(batches))


def test_the_csv_has_every_customer_with_the_engines_scores(engine_result):
    customers = engine_result.customers
    data = _csv(iter_customer_batches(customers, batch_size=97))
    back = pd.read_csv(io.BytesIO(data), dtype={"customer_id": str})
    assert list(back.columns) == [name for name, _ in CUSTOMER_COLUMNS]
    assert len(back) == len(customers)
    assert back["customer_id"].tolist() == customers["customer_id"].astype(str).tolist()
    assert back["segment"].tolist() == customers["segment"].tolist()
    assert back["segment_name"].tolist() == customers["segment_name"].tolist()
    assert (back["churn_risk"] - customers["churn_risk"]).abs().max() <= 5e-5 + 1e-9
    assert (back["predicted_ltv"] - customers["predicted_ltv"]).abs().max() <= 5e-3 + 1e-9
    assert back["top_recommendation"].tolist() == customers["top_recommendation"].tolist()


def test_the_csv_can_hold_one_segment_only(engine_result):
    customers = engine_result.customers
    segment = int(customers["segment"].iloc[0])
    back = pd.read_csv(
        io.BytesIO(_csv(iter_customer_batches(customers, where=CustomerFilter(segment=segment), batch_size=50))),
        dtype={"customer_id": str},
    )
    expected = customers[customers["segment"] == segment]
    assert len(back) == len(expected) > 0
    assert set(back["segment"]) == {segment}
    assert back["customer_id"].tolist() == expected["customer_id"].astype(str).tolist()


def test_formula_like_text_is_quoted_but_numbers_are_not():
    for value in HOSTILE:
        assert neutralise(value) == "'" + value
    for value in ("-42", "+3.5", "-1e3", "-0.25", "Alice", "", "a=b", "C-0001"):
        assert neutralise(value) == value
    assert neutralise(-42.5) == -42.5 and neutralise(-3) == -3


def test_the_csv_neutralises_formulas_from_uploaded_ids_and_keeps_negative_numbers(engine_result):
    customers = engine_result.customers.head(10).copy()
    customers["customer_id"] = [*HOSTILE, "-42", "+7", "C-0003", "plain"]
    customers.loc[customers.index[0], "predicted_ltv"] = -12.5  # a genuine negative number stays a number
    text = _csv(iter_customer_batches(customers)).decode()
    back = pd.read_csv(io.StringIO(text), dtype={"customer_id": str}, keep_default_na=False)
    assert back["customer_id"].tolist()[:6] == ["'" + v for v in HOSTILE]
    assert back["customer_id"].tolist()[6:] == ["-42", "+7", "C-0003", "plain"]
    assert back["predicted_ltv"].iloc[0] == -12.5
    for value in back["customer_id"]:  # what a spreadsheet would see first in each row
        assert not value.startswith(("=", "+", "-", "@", "\t", "\r")) or value.lstrip("+-").isdigit(), value


def _workbook(engine_result, customers=None, **kwargs):
    customers = engine_result.customers if customers is None else customers
    buf = io.BytesIO()
    info = write_workbook(
        buf,
        profiles=engine_result.profiles,
        metrics=engine_result.metrics,
        customer_batches=iter_customer_batches(customers, batch_size=kwargs.pop("batch_size", 128)),
        customer_total=len(customers),
        organization_name="Acme",
        analysis_name="Spring customers",
        generated_at=NOW,
        **kwargs,
    )
    buf.seek(0)
    return openpyxl.load_workbook(buf), info


def test_the_workbook_round_trips_profiles_recommendations_and_customers(engine_result):
    book, info = _workbook(engine_result)
    assert book.sheetnames == ["Summary", "Segment profiles", "Recommendations", "Feature importance", "Customers"]
    assert not info["sampled"] and info["customers_written"] == len(engine_result.customers)

    customers = pd.read_excel(_xlsx_bytes(book), engine="openpyxl", sheet_name="Customers", dtype={"Customer ID": str})
    expected = engine_result.customers
    assert list(customers.columns) == [title for _, title in CUSTOMER_COLUMNS]
    assert customers["Customer ID"].tolist() == expected["customer_id"].astype(str).tolist()
    assert customers["Segment"].tolist() == expected["segment"].tolist()
    assert (customers["Churn risk"] - expected["churn_risk"]).abs().max() < 1e-9
    assert (customers["Predicted LTV"] - expected["predicted_ltv"]).abs().max() < 1e-9

    sheet = book["Customers"]
    assert sheet.freeze_panes == "A2"
    assert sheet["D2"].number_format == "0.0%" and sheet["E2"].number_format == '"$"#,##0.00'  # in the currency
    assert sheet["A1"].font.bold and sheet.column_dimensions["K"].width > 40
    assert sheet["F1"].value == "Currency" and sheet["F2"].value == "USD"  # beside the money, its ISO code

    profiles = pd.read_excel(_xlsx_bytes(book), engine="openpyxl", sheet_name="Segment profiles")
    by_segment = {p["segment"]: p for p in engine_result.profiles}
    assert profiles["Segment"].tolist() == sorted(by_segment)
    for _, row in profiles.iterrows():
        p = by_segment[row["Segment"]]
        assert row["Name"] == p["name"] and row["Customers"] == p["size"]
        assert abs(row["Avg predicted LTV"] - p["avg_ltv"]) < 1e-6
        assert abs(row["Avg churn risk"] - p["avg_churn_risk"]) < 1e-9
        for key, title in (
            ("growth_potential", "Growth ceiling, not a forecast (growth opportunities)"),
            ("development_potential", "Development ceiling, not a forecast (underperforming)"),
        ):  # each figure under its own name, blank where the segment is not in that list
            if p.get(key) is None:
                assert pd.isna(row[title])
            else:
                assert abs(row[title] - p[key]) < 1
    assert book["Segment profiles"]["D2"].number_format == "0.0%"

    recs = pd.read_excel(_xlsx_bytes(book), engine="openpyxl", sheet_name="Recommendations")
    assert len(recs) == sum(len(p["recommendations"]) for p in engine_result.profiles)
    assert set(recs["Recommended action"]) == {
        r["action"] for p in engine_result.profiles for r in p["recommendations"]
    }
    assert "Spring customers" in book["Summary"]["A1"].value


def _xlsx_bytes(book):
    buf = io.BytesIO()
    book.save(buf)
    buf.seek(0)
    return buf


def test_beyond_the_row_limit_the_workbook_holds_a_sample_and_says_so(engine_result):
    book, info = _workbook(engine_result, max_rows=100, batch_size=33)
    n = len(engine_result.customers)
    assert info["sampled"] and info["step"] == -(-n // 100)
    assert "Customers (sample)" in book.sheetnames
    rows = list(book["Customers (sample)"].iter_rows(min_row=2, values_only=True))
    assert 0 < len(rows) <= 100
    expected = engine_result.customers["customer_id"].astype(str).tolist()[:: info["step"]]
    assert [r[0] for r in rows] == expected[: len(rows)]
    notes = " ".join(str(c.value) for row in book["Summary"].iter_rows() for c in row if c.value)
    assert "sample" in notes and f"{n:,}" in notes


def test_the_workbook_writes_formula_like_text_as_text(engine_result):
    customers = engine_result.customers.head(8).copy()
    customers["customer_id"] = [*HOSTILE, "-42", "ok"]
    profiles = [dict(p) for p in engine_result.profiles]
    profiles[0] = {
        **profiles[0],
        "name": "=1+1",
        "stats": {**profiles[0]["stats"], "sentiment": {"mean": -0.25, "median": -0.5}},
    }
    buf = io.BytesIO()
    write_workbook(
        buf,
        profiles=profiles,
        metrics=engine_result.metrics,
        customer_batches=iter_customer_batches(customers),
        customer_total=len(customers),
        organization_name="Acme",
        analysis_name="=cmd",
        generated_at=NOW,
    )
    buf.seek(0)
    book = openpyxl.load_workbook(buf)
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"{sheet.title}!{cell.coordinate} is a formula: {cell.value!r}"
    # xlsxwriter stores a carriage return as the XML escape _x000D_ (Excel shows "\r"; openpyxl does not unescape)
    ids = [row[0].value.replace("_x000D_", "\r") for row in book["Customers"].iter_rows(min_row=2)]
    assert ids == [*HOSTILE, "-42", "ok"]
    assert all(row[0].data_type == "s" for row in book["Customers"].iter_rows(min_row=2))
    header = [c.value for c in book["Segment profiles"][1]]
    mean_col = header.index("sentiment (mean)")
    first = [c for c in book["Segment profiles"][2]]
    assert first[mean_col].value == -0.25 and first[mean_col].data_type == "n"  # a genuine negative number


def _render_report(engine_result, tmp_path):
    from exports.report import render_pdf, report_context

    context = report_context(
        profiles=engine_result.profiles,
        metrics=engine_result.metrics,
        organization_name="Acme Retail",
        analysis_name="Spring customers",
        dataset_name="crm.csv",
        generated_at=NOW,
        customer_count=len(engine_result.customers),
    )
    path = tmp_path / "report.pdf"
    render_pdf(context, str(path))
    return path, context


def _pdf_text(path, page=None):
    args = ["pdftotext", "-layout"] + (["-f", str(page), "-l", str(page)] if page else []) + [str(path), "-"]
    return subprocess.run(args, capture_output=True, text=True, check=True).stdout


def test_the_pdf_report_has_a_cover_a_summary_a_page_per_segment_and_an_appendix(engine_result, tmp_path):
    path, context = _render_report(engine_result, tmp_path)
    assert path.read_bytes().startswith(b"%PDF-")
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    pages = int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))
    segments = sorted(engine_result.profiles, key=lambda p: p["segment"])
    # cover, summary, segments table, two chart pages, one per segment, the appendix (1-2 pages)
    assert 5 + len(segments) + 1 <= pages <= 5 + len(segments) + 2
    cover = _pdf_text(path, 1)
    assert "Spring customers" in cover and "Acme Retail" in cover and "30 June 2026" in cover
    summary = _pdf_text(path, 2)
    assert "Executive summary" in summary and f"{len(engine_result.customers):,} customers" in summary
    assert "KEY RISKS" in summary.upper() and "OPPORTUNITIES" in summary.upper()
    for i, profile in enumerate(segments):
        text = " ".join(_pdf_text(path, 6 + i).split())
        assert profile["name"] in text and "RECOMMENDED ACTIONS" in text.upper()
        for rec in profile["recommendations"]:
            assert " ".join(rec["action"].split())[:40] in text
    appendix = " ".join(_pdf_text(path, 6 + len(segments)).split())
    assert "Appendix: methods" in appendix and "Silhouette" in appendix and "k-means" in appendix
    assert all(context["charts"][k] for k in ("sizes", "ltv_churn", "revenue", "importance"))


def test_every_pdf_page_renders_to_png(engine_result, tmp_path):
    """The pages are also kept in test-artifacts/exports/ for people to look at."""
    from pathlib import Path

    path, _ = _render_report(engine_result, tmp_path)
    artifacts = Path(__file__).resolve().parents[2] / "test-artifacts" / "exports"
    artifacts.mkdir(parents=True, exist_ok=True)
    for old in artifacts.glob("report-page-*.png"):
        old.unlink()
    subprocess.run(["pdftoppm", "-png", "-r", "60", str(path), str(artifacts / "report-page")], check=True)
    pngs = sorted(artifacts.glob("report-page-*.png"))
    assert len(pngs) >= 6
    from PIL import Image

    for png in pngs:
        with Image.open(png) as image:
            assert image.size[0] > 200 and image.size[1] > 300
            # a page that rendered something: not a single flat colour
            assert len(image.convert("L").getcolors(maxcolors=100000) or []) > 2


@pytest.mark.parametrize("scheme", ["Plotly", "Safe", "Nonexistent"])
def test_segment_colours_follow_the_analysis_scheme(engine_result, scheme):
    from exports.charts import segment_colours

    colours = segment_colours(engine_result.profiles, scheme)
    assert len(set(colours.values())) == len(engine_result.profiles)
    assert all(c.startswith("#") for c in colours.values())
