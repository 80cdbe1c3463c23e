"""Drag and drop a messy file onto the upload page in Debian's Chromium: progress, then the profile;
a bad file shows its rejection in place; a role is changed and saved."""

import base64

import pytest
from helpers import sign_in

pytestmark = pytest.mark.browser


def _messy_row(i: int) -> str:
    day = 1 + i % 28
    joined = f"2024-01-{day:02d}" if i % 2 else f"{day:02d}.02.2024"  # two date formats
    spend = "" if i % 9 == 0 else f"{i * 3},5"  # decimal commas, some missing
    return f"K{i:04d};{'Köln' if i % 3 else 'Zürich'};{joined};{spend};{'ja' if i % 4 == 0 else 'nein'}\r\n"


MESSY = ("Kunden-Nr;Stadt;Anmeldedatum;Umsatz;Gekündigt\r\n" + "".join(_messy_row(i) for i in range(1, 120))).encode(
    "latin-1"
)


@pytest.fixture
def page(chromium):
    page = chromium.new_page(viewport={"width": 1366, "height": 900})
    page.errors = []
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    return page


def _drop(page, content: bytes, name: str):
    transfer = page.evaluate_handle(
        """([b64, name]) => {
            const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
            const dt = new DataTransfer();
            dt.items.add(new File([bytes], name, {type: "text/csv"}));
            return dt;
        }""",
        [base64.b64encode(content).decode(), name],
    )
    page.dispatch_event("#drop-zone", "dragenter", {"dataTransfer": transfer})
    page.dispatch_event("#drop-zone", "drop", {"dataTransfer": transfer})


def test_bob_drops_a_messy_latin1_file_and_confirms_its_roles(people, live_server, page):
    base = live_server.url
    sign_in(page, base, "bob@example.com")

    page.goto(base + "/datasets/upload/")
    _drop(page, b"a;b;c\r\n", "header-only.csv")
    page.click("#upload-submit")
    page.wait_for_selector("[data-testid=upload-error]:not(.d-none)")
    assert (
        page.inner_text("[data-testid=upload-error]") == "header-only.csv: the file has a header row but no data rows."
    )

    _drop(page, MESSY, "crm-export.csv")
    assert "crm-export.csv" in page.inner_text("#chosen-file")
    page.click("#upload-submit")
    page.wait_for_selector("[data-testid=row-count]", timeout=30_000)
    assert page.inner_text("[data-testid=row-count]") == "119"
    assert page.inner_text("[data-testid=detected-encoding]") == "Windows-1252 (Latin-1)"
    assert page.inner_text("[data-testid=detected-delimiter]") == "semicolon"
    assert "Date formats" in page.inner_text("[data-testid=warnings]")
    assert page.input_value("tr[data-column='Gekündigt'] select") == "categorical"

    page.select_option("tr[data-column='Gekündigt'] select", "churn_label")
    page.click("[data-testid=save-roles]")
    page.wait_for_selector(".alert-success")
    assert page.input_value("tr[data-column='Gekündigt'] select") == "churn_label"
    from datasets.models import Dataset
    from datasets.services import dataset_analysis_defaults

    dataset = Dataset.objects.for_organization(people.acme).get()
    assert dataset_analysis_defaults(dataset)["churn_label_col"] == "Gekündigt"
    assert page.errors == []
