"""Order logs as datasets: detected from the columns at upload, confirmable (page, API, command), read with the
engine's rules, and their eligibility for lifetime-value models said plainly."""

import io

import pandas as pd
import pytest
from helpers import as_file

pytestmark = pytest.mark.django_db


def cdnow_csv() -> bytes:
    """The CDNOW 1/10 sample (tests/data) as the CSV a client would upload: one row per order."""
    from pathlib import Path

    raw = pd.read_csv(
        Path(__file__).resolve().parents[1] / "data" / "CDNOW_sample.txt",
        sep=r"\s+",
        header=None,
        names=["master_id", "customer_id", "date", "cds", "amount"],
        dtype=str,
    )
    frame = pd.DataFrame(
        {
            "customer_id": raw["customer_id"],
            "order_date": pd.to_datetime(raw["date"]).dt.strftime("%Y-%m-%d"),
            "cds": raw["cds"],
            "amount": raw["amount"],
        }
    )
    out = io.StringIO()
    frame.to_csv(out, index=False)
    return out.getvalue().encode()


def upload(org, user, content: bytes, name="orders.csv"):
    from datasets.services import dataset_create_from_upload

    return dataset_create_from_upload(organization=org, uploaded_by=user, file=as_file(content, name), background=False)


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
