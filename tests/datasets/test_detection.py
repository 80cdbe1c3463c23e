"""Encodings, delimiters and formats are detected and shown; xlsx and csv.gz are accepted."""

import gzip
import io

import pytest
from helpers import stored_files

from datasets.services import dataset_read_dataframe

ROWS = [("C1", "Müller", "12.5", "North"), ("C2", "Zoë", "7", "South"), ("C3", "Renée", "", "North")]


def _csv(delimiter=",", encoding="utf-8", extra="€"):
    lines = [delimiter.join(("customer_id", "name", "spend", "region"))]
    for cid, name, spend, region in ROWS:
        lines.append(delimiter.join((cid, name + (extra if cid == "C1" else ""), spend, region)))
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


@pytest.mark.parametrize(
    ("encoding", "expected", "extra"),
    [
        ("utf-8", "utf-8", "€"),
        ("utf-8-sig", "utf-8-sig", "€"),
        ("cp1252", "cp1252", "€"),
        ("latin-1", "latin-1", "\x8d"),  # a byte Windows-1252 leaves undefined
    ],
)
def test_it_detects_the_encoding(upload, encoding, expected, extra):
    dataset = upload(_csv(encoding=encoding, extra=extra))
    assert dataset.encoding == expected
    df = dataset_read_dataframe(dataset)
    assert list(df.columns) == ["customer_id", "name", "spend", "region"]  # no BOM in the first name
    assert df["name"].tolist() == ["Müller" + extra, "Zoë", "Renée"]


def test_a_windows_1252_byte_after_a_long_ascii_head_switches_the_encoding(upload):
    body = "id,city\n" + "".join(f"{i},Paris\n" for i in range(10_000)) + "10000,Besançon\n"
    dataset = upload(body.encode("cp1252"))
    assert dataset.encoding == "cp1252"
    assert dataset_read_dataframe(dataset)["city"].iloc[-1] == "Besançon"


@pytest.mark.parametrize(("delimiter", "label"), [(",", "comma"), (";", "semicolon"), ("\t", "tab"), ("|", "pipe")])
def test_it_detects_the_delimiter_and_shows_it(upload, people, client_for, delimiter, label):
    dataset = upload(_csv(delimiter=delimiter))
    assert dataset.delimiter == delimiter
    assert dataset.column_count == 4 and dataset.row_count == 3
    page = client_for(people.vera, people.acme).get(f"/datasets/{dataset.pk}/").content.decode()
    assert f'data-testid="detected-delimiter">{label}<' in page


def test_semicolon_files_with_decimal_commas_store_numbers(upload):
    dataset = upload(b"id;spend;visits\n1;1.234,50;3\n2;12,5;4\n3;;5\n")
    df = dataset_read_dataframe(dataset)
    assert df["spend"].tolist()[:2] == [1234.5, 12.5] and df["spend"].isna().iloc[2]
    assert {c["name"]: c["stored_type"] for c in dataset.profile["columns"]} == {
        "id": "int",
        "spend": "float",
        "visits": "int",
    }


def test_a_gzipped_csv_is_accepted_and_kept_compressed(upload, people):
    dataset = upload(gzip.compress(_csv(delimiter=";")), "customers.csv.gz")
    assert dataset.status == "ready" and dataset.row_count == 3 and dataset.delimiter == ";"
    assert {p.name for p in stored_files(people.acme)} == {"original.csv.gz", "data.parquet"}


def test_an_xlsx_workbook_is_accepted(upload, people):
    import datetime as dt

    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Customers"
    ws.append(["customer_id", "signup", "spend", "segment"])
    ws.append(["C1", dt.datetime(2024, 1, 5), 10.5, "gold"])
    ws.append(["C2", dt.datetime(2024, 2, 6), 20, "silver"])
    ws.append(["C3", None, 30.25, "gold"])
    buf = io.BytesIO()
    wb.save(buf)
    dataset = upload(buf.getvalue(), "customers.xlsx")
    assert dataset.status == "ready" and dataset.row_count == 3 and dataset.column_count == 4
    assert dataset.profile["upload"]["sheet"] == "Customers"
    types = {c["name"]: c["stored_type"] for c in dataset.profile["columns"]}
    assert types == {"customer_id": "text", "signup": "date", "spend": "float", "segment": "text"}
    signup = next(c for c in dataset.profile["columns"] if c["name"] == "signup")
    assert signup["dates"]["min"] == "2024-01-05" and signup["dates"]["max"] == "2024-02-06" and signup["missing"] == 1
    assert {p.name for p in stored_files(people.acme)} == {"original.xlsx", "data.parquet"}


def test_quoted_fields_may_hold_delimiters_and_line_breaks(upload):
    dataset = upload(b'id,comment,spend\r\n1,"one, two\r\nthree",10\r\n2,"say ""hi""",20\r\n')
    assert dataset.row_count == 2
    df = dataset_read_dataframe(dataset)
    assert df["comment"].tolist() == ["one, two\r\nthree", 'say "hi"'] and df["spend"].tolist() == [10, 20]
