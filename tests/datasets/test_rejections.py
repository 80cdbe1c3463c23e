"""Each rejection names the file and the row, column or limit, and leaves nothing stored."""

import gzip
import io

import pytest
from helpers import as_file, dataset_count, stored_files

from datasets.services import DatasetRejected, dataset_create_from_upload

GOOD = b"id,region,spend\n1,North,10\n2,South,20\n"


def _rows(n, short_at=()):
    lines = ["a,b,c"]
    for i in range(1, n + 1):
        lines.append(f"{i},x" if i in short_at else f"{i},x,{i * 2}")
    return ("\n".join(lines) + "\n").encode()


CASES = [
    ("empty.csv", b"", "empty.csv: the file is empty."),
    ("blank.csv", b"\n \r\n\n", "blank.csv: the file is empty."),
    ("header.csv", b"id,region,spend\n", "header.csv: the file has a header row but no data rows."),
    ("header2.csv", b"id;region;spend\r\n\r\n\r\n", "header2.csv: the file has a header row but no data rows."),
    (
        "dup.csv",
        b"id,email,Email,email\n1,a,b,c\n",
        "dup.csv: column name 'email' appears twice in the header row (columns 2 and 4); column names must be unique.",
    ),
    (
        "noname.csv",
        b"id,,spend\n1,2,3\n",
        "noname.csv: column 2 has a blank name in the header row; every column needs a name.",
    ),
    (
        "ragged.csv",
        b"a,b,c\n1,2,3\n4,5,6,7\n8,9,10\n",
        "ragged.csv: row 2 (line 3) has 4 fields but the header has 3 columns; check the delimiter and quoting on that line.",
    ),
    (
        "short.csv",
        _rows(10, short_at=(4, 7)),
        "short.csv: 2 rows have fewer fields than the header's 3 columns (first: row 4, line 5, with 2 fields); "
        "at most 1% of rows (0) may be short.",
    ),
    ("picture.csv", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, "picture.csv: this is a PNG image, not a CSV table."),
    (
        "nul.csv",
        b"a,b\n1,\x002\n",
        "nul.csv: the file contains NUL bytes, so it is binary (or UTF-16 text), not a CSV table; save it as CSV (UTF-8) and upload it again.",
    ),
    (
        "prose.csv",
        b"Dear team\nplease find attached the numbers\n",
        "prose.csv: no column delimiter (comma, semicolon, tab or pipe) found in the first line; the file does not look like a table with at least two columns.",
    ),
    (
        "page.csv",
        b"<!DOCTYPE html><html><body>a,b</body></html>\n",
        "page.csv: the file looks like HTML, XML or JSON, not a CSV table.",
    ),
    (
        "../../etc/passwd.csv",
        GOOD,
        "'../../etc/passwd.csv': a file name may not contain a path ('/', '\\' or '..') or control characters; "
        "upload the file under a plain name such as customers.csv.",
    ),
    (
        "..\\windows\\data.csv",
        GOOD,
        "'..\\\\windows\\\\data.csv': a file name may not contain a path ('/', '\\' or '..') or control characters; "
        "upload the file under a plain name such as customers.csv.",
    ),
    ("customers.json", GOOD, "customers.json: unsupported file type; upload a .csv, .csv.gz or .xlsx file."),
    ("fake.xlsx", GOOD, "fake.xlsx: this is not an Excel .xlsx workbook."),
    ("broken.csv.gz", b"\x1f\x8b\x08\x00" + b"not really gzip" * 10, None),  # message checked below
]


@pytest.mark.parametrize(("filename", "content", "message"), CASES, ids=[c[0] for c in CASES])
def test_it_rejects_bad_files_with_an_exact_message_and_stores_nothing(people, filename, content, message):
    with pytest.raises(DatasetRejected) as exc:
        dataset_create_from_upload(
            organization=people.acme, uploaded_by=people.alice, file=as_file(content, "x.csv"), filename=filename
        )
    if message is None:
        assert exc.value.message.startswith(f"{filename}: the ")
        assert "gzip" in exc.value.message
    else:
        assert exc.value.message == message
    assert dataset_count(people.acme) == 0
    assert stored_files(people.acme) == []


def test_it_rejects_a_file_over_the_organizations_size_limit(people):
    people.acme.max_upload_bytes = 100
    people.acme.save()
    with pytest.raises(DatasetRejected) as exc:
        dataset_create_from_upload(
            organization=people.acme,
            uploaded_by=people.alice,
            file=as_file(b"a,b\n" + b"1,2\n" * 40),
            filename="big.csv",
        )
    assert exc.value.message == (
        "big.csv: the file is 164 bytes (164 bytes); this organization's upload limit is 100 bytes (100 bytes)."
    )
    assert dataset_count(people.acme) == 0 and stored_files(people.acme) == []


def test_it_rejects_more_rows_than_the_organization_allows(people):
    people.acme.max_rows = 5
    people.acme.save()
    with pytest.raises(DatasetRejected) as exc:
        dataset_create_from_upload(
            organization=people.acme, uploaded_by=people.alice, file=as_file(_rows(6)), filename="rows.csv"
        )
    assert exc.value.message == "rows.csv: the file has 6 data rows; this organization's limit is 5 rows."
    assert dataset_count(people.acme) == 0 and stored_files(people.acme) == []


def test_it_rejects_more_columns_than_the_organization_allows(people):
    people.acme.max_columns = 3
    people.acme.save()
    with pytest.raises(DatasetRejected) as exc:
        dataset_create_from_upload(
            organization=people.acme, uploaded_by=people.alice, file=as_file(b"a,b,c,d\n1,2,3,4\n"), filename="cols.csv"
        )
    assert exc.value.message == "cols.csv: the header has 4 columns; this organization's limit is 3 columns."
    assert dataset_count(people.acme) == 0 and stored_files(people.acme) == []


def test_it_rejects_a_gzip_bomb_without_expanding_it(people):
    people.acme.max_upload_bytes = 50_000
    people.acme.save()
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb") as gz:
        gz.write(b"a,b\n")
        for _ in range(1000):  # 40 MB of text, a few KB compressed
            gz.write(b"1,2\n" * 10_000)
    bomb = buf.getvalue()
    assert len(bomb) < 50_000
    with pytest.raises(DatasetRejected) as exc:
        dataset_create_from_upload(
            organization=people.acme, uploaded_by=people.alice, file=as_file(bomb), filename="bomb.csv.gz"
        )
    assert exc.value.message == (
        "bomb.csv.gz: decompressed, the file is larger than 200,000 bytes (4 × this "
        "organization's upload limit); it was rejected without being expanded further."
    )
    assert dataset_count(people.acme) == 0 and stored_files(people.acme) == []


def test_a_few_short_rows_within_the_tolerance_are_padded(upload, people):
    dataset = upload(_rows(300, short_at=(17,)), "tolerated.csv")
    assert dataset.status == "ready" and dataset.row_count == 300
    assert "1 short rows were padded with missing values." in dataset.profile["upload"]["notes"]
    c = next(c for c in dataset.profile["columns"] if c["name"] == "c")
    assert c["missing"] == 1


def test_the_upload_page_shows_the_rejection_and_stores_nothing(people, client_for):
    client = client_for(people.bob, people.acme)
    response = client.post(
        "/datasets/upload/", {"file": as_file(b"a,b,a\n1,2,3\n", "dupes.csv")}, HTTP_ACCEPT="application/json"
    )
    assert response.status_code == 400
    assert response.json() == {
        "error": "dupes.csv: column name 'a' appears twice in the header row (columns 1 and 3); "
        "column names must be unique."
    }
    # Without JavaScript the same message is on the page.
    response = client.post("/datasets/upload/", {"file": as_file(b"", "empty.csv")})
    assert response.status_code == 400
    assert "empty.csv: the file is empty." in response.content.decode()
    # A path-like name sent by the browser script is refused, not shortened.
    response = client.post(
        "/datasets/upload/",
        {"file": as_file(GOOD, "passwd.csv"), "filename": "../../etc/passwd.csv"},
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 400
    assert response.json()["error"].startswith("'../../etc/passwd.csv': a file name may not contain a path")
    assert dataset_count(people.acme) == 0 and stored_files(people.acme) == []


def test_the_stored_path_never_uses_the_uploaded_name(upload, people):
    dataset = upload(GOOD, "Évil name; rm -rf.csv")
    assert dataset.original_filename == "Évil name; rm -rf.csv"
    names = {p.name for p in stored_files(people.acme)}
    assert names == {"original.csv", "data.parquet"}
    assert dataset.original_file.name == f"org-{people.acme.pk}/datasets/{dataset.storage_key}/original.csv"


def test_it_rejects_an_xlsx_whose_parts_expand_past_the_cap(people):
    import zipfile

    people.acme.max_upload_bytes = 50_000
    people.acme.save()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", "<c>1</c>" * 500_000)  # 4 MB inflated, a few KB stored
    assert len(buf.getvalue()) < 50_000
    with pytest.raises(DatasetRejected) as exc:
        dataset_create_from_upload(
            organization=people.acme, uploaded_by=people.alice, file=as_file(buf.getvalue()), filename="bomb.xlsx"
        )
    assert exc.value.message == (
        "bomb.xlsx: decompressed, the workbook is larger than 200,000 bytes (4 × this "
        "organization's upload limit); it was rejected without being expanded."
    )
    assert dataset_count(people.acme) == 0 and stored_files(people.acme) == []
