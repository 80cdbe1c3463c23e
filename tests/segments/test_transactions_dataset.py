"""Order logs as datasets: detected from the columns at upload, confirmable (page, API, command), read with the
engine's rules, and their eligibility for lifetime-value models said plainly."""

import pytest
from helpers import cdnow_csv
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
