"""fit_clv end to end: holdout split, eligibility, scores, model choice, the result's shape, and the CLI."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from segments.engine import CLVConfig, EngineError, fit_clv
from segments.engine.clv import CUSTOMER_COLUMNS, generate_order_log
from segments.engine.clv.holdout import choose, holdout_days

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def realistic():
    """3,000 customers over two years from the generator that is none of the models (seasonal, renewal-type
    purchases, Weibull lifetimes, heavy-tailed spend, split orders, refunds, zero amounts, duplicates)."""
    return generate_order_log(3000, seed=21)


@pytest.fixture(scope="module")
def result(realistic):
    return fit_clv(realistic, CLVConfig(observation_end="2024-12-31", order_id_col="order_id"))


def test_the_holdout_is_the_last_quarter_of_the_log_but_at_least_eight_weeks():
    assert holdout_days(730, 0.25, 56) == 183
    assert holdout_days(120, 0.25, 56) == 56


def test_the_result_has_the_customer_columns_and_sane_values(result, realistic):
    assert result.eligible and result.reasons == []
    c = result.customers
    assert list(c.columns[: len(CUSTOMER_COLUMNS)]) == CUSTOMER_COLUMNS
    assert len(c) == realistic["customer_id"].nunique()
    assert c["p_active"].between(0, 1).all()
    assert (c["expected_purchases"] >= 0).all() and (c["clv"] >= 0).all()
    assert (c["clv_low"] <= c["clv_high"]).all()
    assert c.loc[c["frequency"] == 0, "monetary"].isna().all()
    assert (c["recency"] <= c["T"]).all()


def test_every_model_is_scored_on_the_holdout_and_the_best_is_refitted(result):
    h = result.metrics["holdout"]
    assert set(h["models"]) == {"pareto_nbd", "bg_nbd", "mbg_nbd"}
    for s in h["models"].values():
        assert {"mae", "relative_mae", "purchases_error", "spend_error", "tracking", "conditional_expectation"} <= set(
            s
        )
        assert s["ranges"]["coverage"] is not None and s["ranges"]["pit_coverage"] is not None
        assert sum(s["tracking"]["actual"]) == s["purchases_actual"]
        assert sum(s["tracking"]["expected"]) == pytest.approx(s["purchases_expected"])
        assert sum(row["customers"] for row in s["conditional_expectation"]) == s["customers"]
        assert len(s["tracking"]["week_start"]) == 27  # 183 days
    chosen = h["chosen"]
    usable = [s["mae"] for s in h["models"].values() if s["direction_check"]["ok"] is not False]
    assert h["models"][chosen]["mae"] <= min(usable) * 1.01
    assert result.metrics["model"]["name"] == chosen
    assert result.metrics["model"]["fitted_customers"] == len(result.customers)
    assert f"{h['models'][chosen]['purchases_actual']:,}" in h["accuracy_sentence"]


def test_p_active_falls_with_time_since_the_last_purchase_among_frequent_buyers(result):
    check = result.metrics["direction_check"]
    assert check["ok"] is True and check["spearman_p_active_vs_days_since_last_purchase"] < -0.5
    c = result.customers
    frequent = c[c["frequency"] >= 6]
    since = frequent["T"] - frequent["recency"]
    recent, lapsed = frequent[since <= 14], frequent[since >= 180]
    assert len(recent) and len(lapsed)
    assert recent["p_active"].median() > lapsed["p_active"].median()


def test_metrics_are_plain_json(result):
    text = json.dumps(result.metrics)
    back = json.loads(text)
    assert back["ingest"]["refund_orders"] > 0 and back["ingest"]["duplicate_order_rows"] > 0
    assert back["periods"]["holdout_days"] == 183 and back["periods"]["horizon_days"] == 365


def test_choice_skips_models_whose_p_active_points_the_wrong_way():
    def s(mae, err, ok=True):
        return {"mae": mae, "purchases_error": err, "converged": True, "direction_check": {"ok": ok}}

    pick, why = choose({"pareto_nbd": s(1.0, 0.1), "bg_nbd": s(0.9, 0.05, ok=False), "mbg_nbd": s(1.005, 0.01)})
    assert pick == "mbg_nbd" and "bg_nbd" in why
    pick, _ = choose({"pareto_nbd": s(1.0, 0.3), "mbg_nbd": s(1.5, 0.0)})
    assert pick == "pareto_nbd"
    assert choose({"bg_nbd": s(1.0, 0.0, ok=False)})[0] is None


def _orders(n_customers, days, seed=0, repeat_share=0.5):
    rng = np.random.default_rng(seed)
    rows = []
    for c in range(n_customers):
        first = rng.integers(0, max(days // 4, 1))
        rows.append((c, first, 20.0))
        if rng.random() < repeat_share:
            rows.append((c, min(first + rng.integers(1, max(days - first, 2)), days - 1), 30.0))
    df = pd.DataFrame(rows, columns=["customer_id", "day", "amount"])
    df["order_date"] = pd.Timestamp("2024-01-01") + pd.to_timedelta(df["day"], unit="D")
    return df.drop(columns="day")


def test_too_few_repeat_customers_gives_reasons_and_advice_not_an_exception():
    df = _orders(120, 365, repeat_share=0.3)
    result = fit_clv(df, CLVConfig(observation_end="2024-12-30"))
    assert result.eligible is False
    codes = [r["code"] for r in result.reasons]
    assert "few_repeat_customers" in codes
    reason = result.reasons[codes.index("few_repeat_customers")]
    assert "100" in reason["message"] and reason["advice"]
    assert list(result.customers.columns[:5]) == ["customer_id", "frequency", "recency", "T", "monetary"]
    assert result.metrics["eligible"] is False


def test_a_log_shorter_than_two_purchase_cycles_before_the_holdout_gives_reasons():
    df = _orders(2000, 90, repeat_share=0.8)
    result = fit_clv(df, CLVConfig(observation_end="2024-03-30"))
    assert result.eligible is False
    assert {r["code"] for r in result.reasons} & {"log_shorter_than_two_cycles", "log_too_short"}
    assert all("days" in r["advice"] for r in result.reasons if r["code"].startswith("log"))


def test_a_calibration_end_outside_the_log_is_refused(realistic):
    with pytest.raises(EngineError, match="calibration end 2030-01-01 must fall inside the log"):
        fit_clv(realistic, CLVConfig(observation_end="2024-12-31", calibration_end="2030-01-01"))


def test_with_a_calibration_end_later_orders_are_only_used_to_compare(realistic):
    cut = pd.Timestamp("2024-06-30")
    result = fit_clv(realistic, CLVConfig(observation_end="2024-12-31", calibration_end="2024-06-30"))
    c = result.customers
    before = realistic[realistic["order_date"] <= cut]
    assert len(c) == before["customer_id"].nunique()
    assert (c["last_purchase"] <= cut).all()
    assert result.metrics["periods"]["horizon_days"] == 184
    after = result.metrics["after_calibration_end"]
    assert after["purchases_actual"] > 0 and "after 2024-06-30" in after["accuracy_sentence"]


def _cli(*args, cwd):
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.run(
        [sys.executable, "-m", "segments.engine", "clv", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_cli_writes_customers_and_metrics(tmp_path, realistic):
    realistic.to_csv(tmp_path / "orders.csv", index=False, date_format="%Y-%m-%d")
    out = _cli(
        "orders.csv", "--customer-col", "customer_id", "--date-col", "order_date", "--amount-col", "amount",
        "--out", "res", "--as-of", "2024-12-31", "--calibration-end", "2024-06-30", "--horizon-days", "90",
        "--discount-rate", "0", cwd=tmp_path,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "chosen:" in out.stdout and "after the calibration end" in out.stdout
    customers = pd.read_csv(tmp_path / "res" / "clv_customers.csv")
    assert list(customers.columns) == CUSTOMER_COLUMNS
    metrics = json.loads((tmp_path / "res" / "clv_metrics.json").read_text())
    assert metrics["holdout"]["chosen"] in metrics["holdout"]["models"]
    assert metrics["periods"]["horizon_days"] == 90 and metrics["discount_rate"] == 0
    assert metrics["model"]["params"]


def test_cli_says_what_is_missing_when_the_log_cannot_support_a_model(tmp_path):
    _orders(120, 365, repeat_share=0.3).to_csv(tmp_path / "small.csv", index=False)
    out = _cli(
        "small.csv", "--customer-col", "customer_id", "--date-col", "order_date", "--amount-col", "amount",
        "--out", "res", "--as-of", "2024-12-30", cwd=tmp_path,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "No lifetime-value model" in out.stdout and "What to do:" in out.stdout
    assert json.loads((tmp_path / "res" / "clv_metrics.json").read_text())["eligible"] is False


def test_cli_refuses_an_unreadable_date_with_exit_code_2(tmp_path):
    (tmp_path / "bad.csv").write_text("c,d,a\n1,2024-01-01,5\n2,not a date,7\n")
    out = _cli("bad.csv", "--customer-col", "c", "--date-col", "d", "--amount-col", "a", "--out", "res", cwd=tmp_path)
    assert out.returncode == 2
    assert "row 2: 'not a date'" in out.stderr
