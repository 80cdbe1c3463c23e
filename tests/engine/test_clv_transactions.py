"""Order-log ingestion: every edge case has a stated rule (segments/engine/clv/transactions.py) and a test here."""

import gzip
import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from segments.engine import EngineError
from segments.engine.clv import CLVConfig, read_orders, summarize
from segments.engine.clv import orders as reader
from segments.engine.clv.orders import to_day

DATA = Path(__file__).resolve().parents[1] / "data"
CFG = CLVConfig(customer_col="customer", date_col="date", amount_col="amount", observation_end="2024-12-31")


def orders(rows, columns=("customer", "date", "amount")):
    return pd.DataFrame(rows, columns=list(columns))


def one(summary, customer):
    i = int(np.flatnonzero(summary.customer_ids.astype(str) == str(customer))[0])
    return {
        "x": int(summary.x[i]),
        "t_x": int(summary.t_x_days[i]),
        "T": int(summary.T_days[i]),
        "monetary": float(summary.monetary[i]),
        "total": float(summary.total_spend[i]),
        "after": int(summary.after_purchases[i]),
        "after_spend": float(summary.after_spend[i]),
    }


def test_several_orders_on_one_day_are_one_purchase_day_with_amounts_summed():
    log = read_orders(
        orders([("a", "2024-01-01", 10), ("a", "2024-01-01", 5), ("a", "2024-01-08", 20), ("a", "2024-01-08", 2)]),
        CFG,
    )
    s = summarize(log, to_day("2024-02-01"))
    assert one(s, "a") == {"x": 1, "t_x": 7, "T": 31, "monetary": 22.0, "total": 37.0, "after": 0, "after_spend": 0.0}
    assert s.stats["purchase_days_merged_from_same_day_orders"] == 2


def test_a_refund_is_not_a_purchase_and_is_netted_against_the_latest_earlier_purchase_day():
    log = read_orders(
        orders([("a", "2024-01-01", 30), ("a", "2024-01-10", 50), ("a", "2024-01-20", -20), ("b", "2024-01-05", 40)]),
        CFG,
    )
    assert log.report.refund_orders == 1
    s = summarize(log, to_day("2024-02-01"))
    a = one(s, "a")
    assert a["x"] == 1 and a["t_x"] == 9  # the refund day (20th) is not a purchase and does not move recency
    assert a["monetary"] == 30.0 and a["total"] == 60.0  # 50 - 20 on the 10th
    assert s.stats["refunds_netted"] == 1


def test_a_refund_larger_than_its_purchase_day_floors_that_day_at_zero():
    log = read_orders(orders([("a", "2024-01-01", 30), ("a", "2024-01-10", 50), ("a", "2024-01-11", -80)]), CFG)
    a = one(summarize(log, to_day("2024-02-01")), "a")
    assert a["monetary"] == 0.0 and a["total"] == 30.0


def test_a_refund_without_an_earlier_purchase_is_left_out_and_counted():
    log = read_orders(orders([("a", "2024-01-01", -15), ("a", "2024-01-05", 40), ("b", "2024-01-02", -5)]), CFG)
    s = summarize(log, to_day("2024-02-01"))
    assert one(s, "a")["total"] == 40.0
    assert s.stats["refunds_without_earlier_purchase"] == 2
    assert s.stats["customers_with_refunds_only"] == 1
    assert "b" not in set(s.customer_ids.astype(str))


def test_a_refund_after_the_cut_of_a_purchase_before_it_changes_neither_period():
    log = read_orders(orders([("a", "2024-01-01", 30), ("a", "2024-01-10", 50), ("a", "2024-02-05", -50)]), CFG)
    s = summarize(log, to_day("2024-02-01"), to_day("2024-03-01"))
    a = one(s, "a")
    assert a["monetary"] == 50.0 and a["after"] == 0 and a["after_spend"] == 0.0
    assert s.stats["refunds_across_the_cut_left_out"] == 1


def test_zero_amount_orders_are_purchase_days_worth_nothing():
    log = read_orders(orders([("a", "2024-01-01", 10), ("a", "2024-01-08", 0), ("a", "2024-01-15", 20)]), CFG)
    assert log.report.zero_amount_orders == 1
    a = one(summarize(log, to_day("2024-02-01")), "a")
    assert a["x"] == 2 and a["t_x"] == 14 and a["monetary"] == 10.0


def test_one_purchase_customers_have_frequency_zero_and_no_mean_repeat_spend():
    log = read_orders(orders([("a", "2024-01-01", 10), ("a", "2024-01-01", 15)]), CFG)
    a = one(summarize(log, to_day("2024-01-31")), "a")
    assert a["x"] == 0 and a["t_x"] == 0 and a["T"] == 30 and np.isnan(a["monetary"]) and a["total"] == 25.0


def test_future_dated_orders_are_dropped_and_counted_with_an_example():
    log = read_orders(
        orders([("a", "2024-01-01", 10), ("a", "2099-05-01", 99), ("b", "2024-03-01", 5), ("b", "2031-01-01", 7)]),
        CFG,
    )
    assert log.report.future_orders == 2
    assert log.report.future_example == "row 2: 2099-05-01"
    assert log.report.observation_end == "2024-12-31"
    assert log.last_day == to_day("2024-03-01")


def test_without_an_observation_end_orders_after_today_are_future_dated():
    cfg = CLVConfig(customer_col="customer", date_col="date", amount_col="amount")
    log = read_orders(orders([("a", "2024-01-01", 10), ("a", "2199-01-01", 10)]), cfg)
    assert log.report.future_orders == 1
    assert log.report.observation_end == "2024-01-01"  # T runs to the last order kept


def test_an_unparseable_date_stops_the_run_naming_column_row_and_value():
    df = orders([("a", "2024-01-01", 10), ("b", "2024-01-02", 5), ("c", "31/31/2024", 5)])
    with pytest.raises(EngineError, match=r"column 'date'.*could not be read as dates.*row 3: '31/31/2024'"):
        read_orders(df, CFG)


def test_a_date_outside_1900_to_2199_stops_the_run_as_a_misreading():
    with pytest.raises(EngineError, match=r"not dates between 1900 and 2200.*row 2: '2999-01-01'"):
        read_orders(orders([("a", "2024-01-01", 10), ("a", "2999-01-01", 10)]), CFG)
    with pytest.raises(EngineError, match=r"not dates between 1900 and 2200.*row 1: '01/02/1850'"):
        read_orders(orders([("a", "01/02/1850", 10)]), CFG)


def test_an_empty_date_customer_or_amount_stops_the_run_with_the_row():
    with pytest.raises(EngineError, match=r"column 'date'.*empty.*row 2"):
        read_orders(orders([("a", "2024-01-01", 10), ("b", None, 5)]), CFG)
    with pytest.raises(EngineError, match=r"column 'customer'.*empty.*row 1"):
        read_orders(orders([(None, "2024-01-01", 10)]), CFG)
    with pytest.raises(EngineError, match=r"column 'amount'.*row 2: 'ten'"):
        read_orders(orders([("a", "2024-01-01", "10"), ("a", "2024-01-02", "ten")]), CFG)


def test_amounts_with_currency_symbols_and_separators_are_read():
    log = read_orders(orders([("a", "2024-01-01", "$1,234.50"), ("a", "2024-01-02", "(12.00)")]), CFG)
    assert sorted(log.amount.tolist()) == [-12.0, 1234.5]


def test_timestamps_with_offsets_are_taken_in_utc_days():
    log = read_orders(orders([("a", "2024-01-01T23:30:00-02:00", 10), ("a", "2024-01-05 08:00", 5)]), CFG)
    assert sorted(log.day.tolist()) == [to_day("2024-01-02"), to_day("2024-01-05")]


def test_a_repeated_order_id_is_one_order_and_its_refund_with_the_same_id_is_kept():
    cfg = CLVConfig(
        customer_col="customer",
        date_col="date",
        amount_col="amount",
        order_id_col="order",
        observation_end="2024-12-31",
    )
    df = orders(
        [
            ("o1", "a", "2024-01-01", 10),
            ("o2", "a", "2024-01-09", 20),
            ("o2", "a", "2024-01-09", 20),  # exported twice
            ("o2", "a", "2024-01-12", -5),  # its refund
            ("o3", "b", "2024-01-03", 7),
        ],
        columns=("order", "customer", "date", "amount"),
    )
    log = read_orders(df, cfg)
    assert log.report.duplicate_order_rows == 1
    assert log.report.duplicate_example.startswith("row 3:")
    a = one(summarize(log, to_day("2024-02-01")), "a")
    assert a["x"] == 1 and a["monetary"] == 15.0
    assert not log.report.warnings


def test_a_log_with_one_row_per_order_line_gets_a_warning():
    cfg = CLVConfig(
        customer_col="customer",
        date_col="date",
        amount_col="amount",
        order_id_col="order",
        observation_end="2024-12-31",
    )
    rows = [(f"o{i // 3}", "a", "2024-01-01", 1 + i) for i in range(30)]
    log = read_orders(orders(rows, columns=("order", "customer", "date", "amount")), cfg)
    assert log.report.duplicate_order_rows == 20
    assert "one row per order line" in log.report.warnings[0]


def test_a_missing_column_is_named_with_the_columns_the_file_has(tmp_path):
    path = tmp_path / "o.csv"
    path.write_text("cust,day,value\na,2024-01-01,3\n")
    with pytest.raises(EngineError, match=r"the customer column 'customer' is not in the file.*'cust', 'day', 'value'"):
        read_orders(path, CFG)


def test_csv_gzip_parquet_and_dataframe_give_the_same_log(tmp_path):
    rng = np.random.default_rng(0)
    n = 500
    df = pd.DataFrame(
        {
            "customer": rng.integers(0, 60, n).astype(str),
            "date": pd.to_datetime("2024-01-01") + pd.to_timedelta(rng.integers(0, 200, n), unit="D"),
            "amount": np.round(rng.gamma(2, 20, n), 2),
        }
    )
    df.loc[::17, "amount"] *= -1
    df.to_csv(tmp_path / "o.csv", index=False, date_format="%Y-%m-%d")
    with gzip.open(tmp_path / "o.csv.gz", "wt") as fh:
        df.to_csv(fh, index=False, date_format="%Y-%m-%d")
    df.to_parquet(tmp_path / "o.parquet")
    ref = summarize(read_orders(df, CFG), to_day("2024-05-01"), to_day("2024-07-19")).to_frame()
    for source in (
        tmp_path / "o.csv",
        tmp_path / "o.csv.gz",
        tmp_path / "o.parquet",
        io.BytesIO(df.to_csv(index=False).encode()),
    ):
        got = summarize(read_orders(source, CFG), to_day("2024-05-01"), to_day("2024-07-19")).to_frame()
        pd.testing.assert_frame_equal(got.reset_index(drop=True), ref.reset_index(drop=True), check_dtype=False)


def test_reading_in_many_small_blocks_gives_the_same_summary_as_one_block(tmp_path, monkeypatch):
    raw = pd.read_csv(
        DATA / "CDNOW_sample.txt", sep=r"\s+", header=None, names=["m", "customer", "date", "n", "amount"]
    )
    raw.to_csv(tmp_path / "cdnow.csv", index=False)
    whole = summarize(read_orders(tmp_path / "cdnow.csv", CFG), to_day("1997-09-30"), to_day("1998-06-30"))
    monkeypatch.setattr(reader, "BLOCK_BYTES", 4096)
    monkeypatch.setattr(reader, "BATCH_ROWS", 250)
    log = read_orders(tmp_path / "cdnow.csv", CFG)
    pieces = summarize(log, to_day("1997-09-30"), to_day("1998-06-30"))
    assert log.report.rows == 6919
    np.testing.assert_array_equal(pieces.x, whole.x)
    np.testing.assert_array_equal(pieces.T_days, whole.T_days)
    np.testing.assert_allclose(pieces.after_spend, whole.after_spend)


def test_the_cdnow_orders_aggregate_to_the_published_39_week_summary():
    raw = pd.read_csv(
        DATA / "CDNOW_sample.txt",
        sep=r"\s+",
        header=None,
        names=["m", "customer", "date", "n", "amount"],
        dtype={"date": str},
    )
    log = read_orders(raw, CFG)
    assert log.report.rows == 6919 and log.report.customers == 2357 and log.report.zero_amount_orders == 8
    s = summarize(log, to_day("1997-09-30"), to_day("1998-06-30"))
    ours = s.to_frame().assign(customer_id=lambda f: f["customer_id"].astype(int)).sort_values("customer_id")
    published = pd.read_csv(DATA / "cdnow_customers_summary_with_transactions.csv").sort_values("ID")
    np.testing.assert_array_equal(ours["customer_id"], published["ID"])
    np.testing.assert_array_equal(ours["frequency"], published["x"])
    np.testing.assert_allclose(ours["recency"] / 7, published["t_x"], atol=0.005)
    np.testing.assert_allclose(ours["T"] / 7, published["T"], atol=0.005)
    repeat = published["x"].to_numpy() > 0
    np.testing.assert_allclose(ours["monetary"].to_numpy()[repeat], published["zbar"].to_numpy()[repeat], atol=0.006)
    assert (s.x > 0).sum() == 946


def test_the_holdout_counts_are_what_the_same_customers_did_after_the_cut():
    log = read_orders(
        orders(
            [
                ("a", "2024-01-01", 10),
                ("a", "2024-02-03", 10),  # after the cut, week 1
                ("a", "2024-02-03", 5),  # same day
                ("a", "2024-02-20", 8),  # week 3
                ("b", "2024-02-10", 50),  # new after the cut
            ]
        ),
        CFG,
    )
    s = summarize(log, to_day("2024-02-01"), to_day("2024-03-01"))
    assert one(s, "a")["after"] == 2 and one(s, "a")["after_spend"] == 23.0
    assert s.after_weekly.tolist() == [1, 0, 1, 0, 0]
    assert s.stats["customers_new_after_cut"] == 1 and s.stats["purchases_by_new_customers_after_cut"] == 1


def test_ids_that_differ_as_text_stay_different_customers(tmp_path):
    (tmp_path / "o.csv").write_text(
        "customer,date,amount\n007,2024-01-01,5\n7,2024-01-02,6\n+7,2024-01-03,7\n7,2024-01-04,8\n"
    )
    log = read_orders(tmp_path / "o.csv", CFG)
    assert sorted(log.customer_ids.tolist()) == ["+7", "007", "7"]
    (tmp_path / "n.csv").write_text("customer,date,amount\n12,2024-01-01,5\n7,2024-01-02,6\n12,2024-01-03,7\n")
    log = read_orders(tmp_path / "n.csv", CFG)
    assert sorted(log.customer_ids.tolist()) == [7, 12]  # plain integers are read as integers
