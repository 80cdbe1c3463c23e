"""Mia, an account manager of two client companies, downloads every format for each from the Reports page."""

import io
import json
import subprocess
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from helpers import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "exports"


@pytest.fixture
def browser_context(chromium):
    return chromium.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)


@pytest.fixture
def analyses(people, finished_analysis):
    # Made before Playwright starts: its event loop gives later ORM calls in this thread another connection.
    return {
        "acme": finished_analysis(people.acme, people.alice, name="Acme spring base"),
        "globex": finished_analysis(people.globex, people.charlie, name="Globex webshop"),
    }


def test_mia_downloads_every_format_for_both_client_organizations(
    people, analyses, live_server, browser_context, tmp_path
):
    page = browser_context.new_page()
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    sign_in(page, live_server.url, "mia@example.com")
    page.click("text=Reports")
    page.wait_for_url(live_server.url + "/reports/")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "reports-page.png"), full_page=True)

    for slug, org in (("acme", people.acme), ("globex", people.globex)):
        analysis = analyses[slug]
        section = page.locator(f'[data-testid="reports-org"][data-org="{org.slug}"]')
        assert section.locator('[data-testid="reports-analysis"]').count() == 1
        files = {}
        for fmt in ("pdf", "xlsx", "csv", "json"):
            with page.expect_download() as info:
                section.locator(f'a[data-format="{fmt}"]').click()
            download = info.value
            assert download.suggested_filename.startswith(f"{org.slug}-") and download.suggested_filename.endswith(
                f".{fmt}"
            )
            files[fmt] = tmp_path / f"{slug}.{fmt}"
            download.save_as(files[fmt])
        text = subprocess.run(["pdftotext", str(files["pdf"]), "-"], capture_output=True, text=True, check=True).stdout
        assert org.name in text and analysis.name in text
        book = openpyxl.load_workbook(files["xlsx"], read_only=True)
        assert sum(1 for _ in book["Customers"].iter_rows(min_row=2)) == analysis.customer_count
        assert len(pd.read_csv(files["csv"])) == analysis.customer_count
        assert json.loads(files["json"].read_text())["analysis"] == analysis.pk

    # one segment's customers, from the segment form
    section = page.locator(f'[data-testid="reports-org"][data-org="{people.globex.slug}"]')
    segment = analyses["globex"].profiles[1]
    section.locator('select[name="segment"]').select_option(str(segment["segment"]))
    with page.expect_download() as info:
        section.locator('[data-testid="segment-export-form"] button').click()
    path = tmp_path / "segment.csv"
    info.value.save_as(path)
    frame = pd.read_csv(io.BytesIO(path.read_bytes()))
    assert len(frame) == segment["size"] and set(frame["segment"]) == {segment["segment"]}
    assert errors == []
