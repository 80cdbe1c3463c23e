"""Migration between two runs on versions of the same dataset: the counts by (segment before, segment after) equal
the moves built into the data, new and gone customers are counted, the movers of a cell download as CSV with the
customers export's columns, and the Changes tab shows the matrix and the Sankey chart."""

import csv
import io
import re
import shutil
from pathlib import Path

import pytest
from timeline_data import month

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_runs(months, upload_frame, add_version, first_run, rerun):
    from segsaas import storage

    first, second, expected = months
    dataset = upload_frame(month(first))
    run1 = first_run(dataset)
    add_version(dataset, month(second, seed=1))
    run2 = rerun(run1)
    frame = storage.read_parquet(run1.customers_file, columns=["customer_id", "segment"])
    number = frame.assign(group=frame["customer_id"].map(first)).groupby("group")["segment"].first().to_dict()
    return run1, run2, expected, number, first, second


def test_migration_counts_equal_the_known_moves(two_runs):
    from segments.services.timeline import migration

    run1, run2, expected, number, _, _ = two_runs
    moves = migration(after=run2, before=run1)
    got = {(c["from_segment"], c["to_segment"]): c["customers"] for c in moves.cells}
    assert got == {(number[a], number[b]): n for (a, b), n in expected.items()}
    assert moves.new_customers == 8 and moves.gone_customers == 10
    assert moves.matched_customers == 140


def test_api_returns_the_matrix_with_names(two_runs, partner):
    run1, run2, _expected, number, _, _ = two_runs
    answer = partner().get(f"/api/v1/analyses/{run2.pk}/migration/", {"from": run1.pk})
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["from"] == run1.pk and body["to"] == run2.pk
    assert body["new_customers"] == 8 and body["gone_customers"] == 10
    cell = next(c for c in body["matrix"] if (c["from_segment"], c["to_segment"]) == (number["low"], number["mid"]))
    assert cell["customers"] == 12
    assert cell["from_name"] == run1.profile(number["low"])["name"]
    assert cell["to_name"] == run2.profile(number["mid"])["name"]
    assert set(body) == {"from", "to", "matrix", "new_customers", "gone_customers"}


def test_api_refuses_a_missing_or_foreign_from(two_runs, partner, people):
    run1, run2, *_ = two_runs
    client = partner()
    missing = client.get(f"/api/v1/analyses/{run2.pk}/migration/")
    assert missing.status_code == 400 and "from" in missing.json()["error"]["details"]
    same = client.get(f"/api/v1/analyses/{run2.pk}/migration/", {"from": run2.pk})
    assert same.status_code == 400
    assert (
        partner(org=people.globex).get(f"/api/v1/analyses/{run2.pk}/migration/", {"from": run1.pk}).status_code == 404
    )


def test_movers_csv_lists_exactly_the_customers_of_the_cell(two_runs, client_for, people):
    from exports.sources import CUSTOMER_COLUMNS

    run1, run2, _, number, first, second = two_runs
    client = client_for(people.alice, people.acme)
    answer = client.get(
        f"/analyses/{run2.pk}/changes/movers.csv",
        {"from": run1.pk, "from_segment": number["high"], "to_segment": number["low"]},
    )
    assert answer.status_code == 200
    rows = list(csv.reader(io.StringIO(b"".join(answer.streaming_content).decode())))
    assert rows[0] == [c for c, _ in CUSTOMER_COLUMNS]
    ids = {r[0] for r in rows[1:]}
    assert ids == {c for c in first if first[c] == "high" and second.get(c) == "low"}
    assert len(ids) == 5 and {r[1] for r in rows[1:]} == {str(number["low"])}


def test_changes_tab_shows_matrix_and_sankey(two_runs, client_for, people):
    _run1, run2, _, number, _, _ = two_runs
    page = client_for(people.vera, people.acme).get(f"/analyses/{run2.pk}/changes/")
    html = page.content.decode()
    assert page.status_code == 200
    assert 'data-testid="migration-matrix"' in html and '"type":"sankey"' in html
    assert re.search(rf'data-from="{number["low"]}" data-to="{number["mid"]}">\s*12</td>', html)
    assert 'data-testid="new-customers">8<' in html and 'data-testid="gone-customers">10<' in html
    assert "movers.csv" not in html  # Vera may view but not export


def test_runs_without_customer_ids_are_refused_by_name(upload_frame, add_version, first_run, rerun, months):
    from segments.services.timeline import MigrationError, migration

    first, second, _ = months
    dataset = upload_frame(month(first).drop(columns=["customer_id"]))
    run1 = first_run(dataset)
    add_version(dataset, month(second).drop(columns=["customer_id"]))
    run2 = rerun(run1)
    assert run2.summary["continuity"]["method"] == "centres"
    with pytest.raises(MigrationError, match="customer id column") as caught:
        migration(after=run2, before=run1)
    assert caught.value.field == "from"


def test_the_pdf_report_of_a_rerun_has_the_history_page(two_runs, client_for, people, tmp_path):
    import subprocess

    run1, run2, *_ = two_runs
    client = client_for(people.alice, people.acme)

    def text_of(run):
        response = client.get(f"/reports/analyses/{run.pk}/download/?format=pdf")
        assert response.status_code == 200
        body = b"".join(response.streaming_content) if response.streaming else response.content
        path = tmp_path / f"r{run.pk}.pdf"
        path.write_bytes(body)
        return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout

    text = " ".join(text_of(run2).split())
    artifacts = Path(__file__).resolve().parents[2] / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    shutil.copy(tmp_path / f"r{run2.pk}.pdf", artifacts / "report-with-history.pdf")
    assert "Segments over time" in text and f"#{run1.pk} v1, #{run2.pk} v2" in text
    assert "Segments over time" not in text_of(run1)  # its own report: no run before it
