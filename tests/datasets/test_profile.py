"""The profile of a known small file, figure by figure."""

import pytest

KNOWN = (
    b"customer_id,age,spend,segment,signup,comment\n"
    b'C001,30,10.5,gold,2024-01-01,"great service and fast delivery"\n'
    b'C002,40,20.5,silver,2024-02-01,"slow delivery but okay overall"\n'
    b'C003,,30.5,gold,2024-03-01,"would buy again from them"\n'
    b"C004,50,N/A,bronze,2024-04-01,\n"
    b'C005,60,40.5,gold,2024-05-01,"prices are a bit high"\n'
)


@pytest.fixture
def known(upload):
    dataset = upload(KNOWN, "known.csv")
    return dataset, {c["name"]: c for c in dataset.profile["columns"]}


def test_it_profiles_types_roles_and_missing_values(known):
    dataset, cols = known
    assert dataset.row_count == 5 and dataset.column_count == 6
    assert {n: c["stored_type"] for n, c in cols.items()} == {
        "customer_id": "text",
        "age": "int",
        "spend": "float",
        "segment": "text",
        "signup": "date",
        "comment": "text",
    }
    assert {n: c["role"] for n, c in cols.items()} == {
        "customer_id": "identifier",
        "age": "numeric",
        "spend": "monetary",
        "segment": "categorical",
        "signup": "date",
        "comment": "text",
    }
    assert dataset.roles == {n: c["role"] for n, c in cols.items()} and not dataset.roles_confirmed
    assert [(n, c["missing"], c["missing_share"]) for n, c in cols.items() if c["missing"]] == [
        ("age", 1, 0.2),
        ("spend", 1, 0.2),
        ("comment", 1, 0.2),
    ]
    assert {n: c["distinct"] for n, c in cols.items()} == {
        "customer_id": 5,
        "age": 4,
        "spend": 4,
        "segment": 3,
        "signup": 5,
        "comment": 4,
    }


def test_it_computes_number_statistics(known):
    _, cols = known
    age = cols["age"]["numeric"]
    assert (age["mean"], age["median"], age["min"], age["max"], age["std"]) == (45.0, 45.0, 30.0, 60.0, 12.909944)
    spend = cols["spend"]["numeric"]
    assert (spend["mean"], spend["median"], spend["min"], spend["max"], spend["std"]) == (
        25.5,
        25.5,
        10.5,
        40.5,
        12.909944,
    )
    assert sum(cols["age"]["numeric"]["histogram"]["counts"]) == 4


def test_it_lists_top_values_date_ranges_and_text_lengths(known):
    _, cols = known
    assert cols["segment"]["top_values"] == [
        {"value": "gold", "count": 3, "share": 0.6},
        {"value": "bronze", "count": 1, "share": 0.2},
        {"value": "silver", "count": 1, "share": 0.2},
    ]
    assert cols["signup"]["dates"] == {"min": "2024-01-01", "max": "2024-05-01", "span_days": 121, "unparsed": 0}
    texts = [
        "great service and fast delivery",
        "slow delivery but okay overall",
        "would buy again from them",
        "prices are a bit high",
    ]
    assert cols["comment"]["avg_length"] == round(sum(map(len, texts)) / 4, 2)


def test_it_keeps_a_preview_of_the_first_rows(known):
    dataset, _ = known
    preview = dataset.profile["preview"]
    assert preview["columns"] == ["customer_id", "age", "spend", "segment", "signup", "comment"]
    assert preview["rows"][0] == ["C001", 30, 10.5, "gold", "2024-01-01", "great service and fast delivery"]
    assert preview["rows"][3] == ["C004", 50, None, "bronze", "2024-04-01", None]


def test_it_warns_about_constant_id_like_mostly_missing_and_mixed_columns(upload):
    lines = ["ref,plan,coupon,score,zone,visits,points"]
    for i in range(40):
        coupon = "SPRING" if i < 5 else ""
        score = str(i) if i % 2 else f"level {i}"
        lines.append(f"R{i:04d}x{i * 7},basic,{coupon},{score},{'AB'[i % 2]},{i % 5},{i * 13}")
    dataset = upload(("\n".join(lines) + "\n").encode(), "warn.csv")
    kinds = {(w["column"], w["kind"]) for w in dataset.profile["warnings"]}
    assert ("plan", "constant") in kinds
    assert ("coupon", "mostly_missing") in kinds
    assert ("score", "mixed_types") in kinds
    assert ("points", "id_like") in kinds  # numeric, but a different value on every row
    assert dataset.roles["ref"] == "identifier" and not any(col == "ref" for col, _ in kinds)
    assert not any(col in ("zone", "visits") for col, _ in kinds)
    message = next(w["message"] for w in dataset.profile["warnings"] if w["kind"] == "mostly_missing")
    assert message == "Mostly missing: 88% of rows have no value."


def test_a_date_column_in_two_formats_is_flagged_and_still_read_as_dates(upload):
    body = "id,joined,spend\n1,2024-01-15,10\n2,03/02/2024,20\n3,2024-03-20,30\n4,04/25/2024,40\n"
    dataset = upload(body.encode(), "dates.csv")
    joined = next(c for c in dataset.profile["columns"] if c["name"] == "joined")
    assert joined["role"] == "date" and joined["stored_type"] == "text"
    assert joined["dates"]["min"] == "2024-01-15" and joined["dates"]["max"] == "2024-04-25"
    assert any(w["kind"] == "mixed_formats" for w in joined["warnings"])


def test_the_detail_page_shows_the_profile(known, people, client_for):
    dataset, _ = known
    page = client_for(people.vera, people.acme).get(f"/datasets/{dataset.pk}/").content.decode()
    assert 'data-testid="row-count">5<' in page
    assert "2024-01-01 → 2024-05-01" in page
    assert "C004" in page and "gold" in page
    assert 'data-testid="detected-encoding">UTF-8<' in page
