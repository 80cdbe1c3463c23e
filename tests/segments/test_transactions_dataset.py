"""Order logs as datasets: detected from the columns at upload, confirmable (page, API, command), read with the
engine's rules, and their eligibility for lifetime-value models said plainly."""

import pytest
from helpers import cdnow_csv, stored_files
from helpers import upload_orders as upload

pytestmark = pytest.mark.django_db


def test_an_order_log_is_detected_at_upload_with_its_columns_and_eligibility(people):
    dataset = upload(people.acme, people.alice, cdnow_csv())
    assert dataset.kind == "transactions"
    assert dataset.order_columns["customer_col"] == "customer_id"
    assert dataset.order_columns["date_col"] == "order_date"
    assert dataset.order_columns["amount_col"] == "amount"
    check = dataset.order_log
    assert check["eligible"] is True and check["reasons"] == []
    assert check["customers"] == 2357 and check["orders"] == 6919
    assert check["first_order"] == "1997-01-01" and check["last_order"] == "1998-06-30"


def test_a_customer_table_is_not_taken_for_an_order_log(people):
    from datasets.services import dataset_create_synthetic

    dataset = dataset_create_synthetic(
        organization=people.acme, created_by=people.alice, rows=500, seed=3, background=False
    )
    assert dataset.kind == "customers"
    assert dataset.order_columns == {}


def test_the_dataset_page_shows_the_order_log_and_its_eligibility(people, client_for):
    dataset = upload(people.acme, people.alice, cdnow_csv())
    page = client_for(people.vera, people.acme).get(f"/datasets/{dataset.pk}/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "An order log: one row per order" in html
    assert "Ready for lifetime value." in html
    assert "6,919 orders from 2,357 customers, 1997-01-01 to 1998-06-30" in html
    listing = client_for(people.vera, people.acme).get("/datasets/").content.decode()
    assert 'data-testid="order-log-badge"' in listing


def test_confirming_columns_reads_the_log_and_a_bad_column_is_named_and_changes_nothing(people, client_for):
    from datasets.models import Dataset

    dataset = upload(people.acme, people.alice, cdnow_csv())
    client = client_for(people.alice, people.acme)
    # "cds" as the date: its values are not dates; the message names the column and the row, nothing is saved
    bad = client.post(
        f"/datasets/{dataset.pk}/kind/",
        {"kind": "transactions", "customer_col": "customer_id", "date_col": "cds", "amount_col": "amount"},
    )
    assert bad.status_code == 400
    html = bad.content.decode()
    assert "cds" in html and "row" in html
    fresh = Dataset.objects.for_organization(people.acme).get(pk=dataset.pk)
    assert fresh.order_columns["date_col"] == "order_date"
    # a viewer cannot change it
    assert (
        client_for(people.vera, people.acme).post(f"/datasets/{dataset.pk}/kind/", {"kind": "customers"}).status_code
        == 403
    )
    ok = client_for(people.alice, people.acme).post(f"/datasets/{dataset.pk}/kind/", {"kind": "customers"})
    assert ok.status_code == 302
    assert Dataset.objects.for_organization(people.acme).get(pk=dataset.pk).kind == "customers"


def test_a_short_log_is_refused_for_models_with_what_is_missing_and_what_to_do(people):
    import io

    import pandas as pd
    from helpers import upload_orders

    from segments.engine.clv import generate_order_log

    log = generate_order_log(300, days=120, seed=4, mess=False)
    buf = io.StringIO()
    log.to_csv(buf, index=False)
    dataset = upload_orders(people.acme, people.alice, buf.getvalue().encode(), name="short.csv")
    assert dataset.kind == "transactions"
    check = dataset.order_log
    assert check["eligible"] is False
    codes = {r["code"] for r in check["reasons"]}
    assert codes & {"few_repeat_customers", "log_shorter_than_two_cycles", "log_too_short"}
    assert all(r["advice"] for r in check["reasons"])
    assert pd.Timestamp(check["last_order"]) - pd.Timestamp(check["first_order"]) < pd.Timedelta(days=121)


def test_import_dataset_confirms_an_order_log_and_prints_its_eligibility(people, tmp_path):
    from io import StringIO

    from django.core.management import call_command

    from datasets.models import Dataset

    path = tmp_path / "orders.csv"
    path.write_bytes(cdnow_csv())
    out, err = StringIO(), StringIO()
    call_command(
        "import_dataset",
        str(path),
        "--organization",
        people.acme.slug,
        "--kind",
        "transactions",
        "--customer-col",
        "customer_id",
        "--date-col",
        "order_date",
        "--amount-col",
        "amount",
        stdout=out,
        stderr=err,
    )
    dataset = Dataset.objects.for_organization(people.acme).get(pk=int(out.getvalue().strip()))
    assert dataset.kind == "transactions"
    assert "Ready for lifetime value: 6,919 orders from 2,357 customers" in err.getvalue()


def test_import_dataset_names_an_unreadable_order_column_exits_1_and_stores_nothing(people, tmp_path):
    from io import StringIO

    from django.core.management import call_command

    from datasets.models import Dataset

    path = tmp_path / "orders.csv"
    path.write_bytes(cdnow_csv())
    out, err = StringIO(), StringIO()
    files_before = stored_files(people.acme)
    with pytest.raises(SystemExit) as stop:
        call_command(
            "import_dataset", str(path), "--organization", people.acme.slug, "--date-col", "cds", stdout=out, stderr=err
        )
    assert stop.value.code == 1
    assert "cds" in err.getvalue() and "row" in err.getvalue()
    assert out.getvalue() == ""
    assert not Dataset.objects.for_organization(people.acme).exists()
    assert stored_files(people.acme) == files_before


def test_a_log_in_several_currencies_is_detected_and_said_to_be_added_as_it_is(people, client_for):
    import io

    from segments.engine.clv import generate_order_log

    log = generate_order_log(300, days=500, seed=5, mess=False)
    log["currency"] = ["EUR" if i % 3 else "USD" for i in range(len(log))]
    log["product_category"] = ["books" if i % 2 else "music" for i in range(len(log))]
    buf = io.StringIO()
    log.to_csv(buf, index=False)
    dataset = upload(people.acme, people.alice, buf.getvalue().encode())
    assert dataset.order_columns["order_id_col"] == "order_id"
    assert dataset.order_columns["currency_col"] == "currency"
    assert dataset.order_columns["product_col"] == "product_category"
    assert "2 currencies" in dataset.order_log["warnings"][0]
    html = client_for(people.alice, people.acme).get(f"/datasets/{dataset.pk}/").content.decode()
    assert "amounts are added up as they are" in html
