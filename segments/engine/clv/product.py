"""What the product needs around ``fit_clv`` (plain functions, no Django):

- ``detect_order_columns(columns, row_count)``: whether a profiled table is an order log (one row per order) and
  which columns hold the customer id, the order date and the amount (optionally the order id, currency and
  product or category), from the column profile the datasets app computes.
- ``check_order_log(source, config)``: the eligibility check alone (reading + aggregation + the holdout rules of
  ``holdout.eligibility``), so the dataset page and the API can say what is missing before any model is fitted.
- ``customer_table(result)``: the one-row-per-customer table built from the log (RFM, plus CLV when a model was
  fitted) that the segmentation pipeline runs on, and ``CUSTOMER_TABLE_CONFIG``, the roles of its columns.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from .config import CLVConfig
from .holdout import eligibility, holdout_days
from .orders import OrderLog, day_to_date, read_orders
from .transactions import summarize

ORDER_COLUMN_KEYS = ("customer_col", "date_col", "amount_col", "order_id_col", "currency_col", "product_col")
ORDER_COLUMN_LABELS = {
    "customer_col": "Customer id",
    "date_col": "Order date",
    "amount_col": "Amount",
    "order_id_col": "Order id (optional)",
    "currency_col": "Currency (optional)",
    "product_col": "Product or category (optional)",
}
REQUIRED_ORDER_KEYS = ("customer_col", "date_col", "amount_col")

_CUSTOMER = re.compile(r"customer|client|user|member|account|buyer|shopper|patron|cust_?id|^cid$", re.I)
_ORDER_ID = re.compile(r"(order|invoice|transaction|receipt|txn|basket)_?(id|no|number|key|nr)?$|^invoice", re.I)
_DATE = re.compile(r"order|purchase|transaction|invoice|date|time|day|created", re.I)
_AMOUNT = re.compile(r"amount|price|total|revenue|sales|value|spend|paid|net|gross|sum|monetary|umsatz|betrag", re.I)
_CURRENCY = re.compile(r"^(currency|curr|ccy|currency_code|iso_currency)$", re.I)
_PRODUCT = re.compile(r"product|category|sku|item|article|department|brand", re.I)


def _first(columns: list[dict], pattern, used: set[str], accept) -> str | None:
    for col in columns:
        name = col.get("name")
        if name in used or not accept(col):
            continue
        if pattern is None or pattern.search(str(name)):
            return name
    return None


def detect_order_columns(columns: list[dict], row_count: int) -> dict | None:
    """{customer_col, date_col, amount_col, order_id_col, currency_col, product_col} when the profiled table looks
    like an order log, else None. ``columns``: the dataset profile's columns (name, role, distinct, missing).

    An order log has a date, an amount and a customer column whose ids REPEAT (several orders per customer): a
    customer table with a sign-up date and a total spend has unique ids and is not taken for one."""
    present = lambda c: row_count - int(c.get("missing") or 0)  # noqa: E731
    used: set[str] = set()
    date_col = _first(columns, _DATE, used, lambda c: c.get("role") == "date") or _first(
        columns, None, used, lambda c: c.get("role") == "date"
    )
    if date_col is None:
        return None
    used.add(date_col)
    amount_col = _first(columns, _AMOUNT, used, lambda c: c.get("role") in ("monetary", "numeric")) or _first(
        columns, None, used, lambda c: c.get("role") == "monetary"
    )
    if amount_col is None:
        return None
    used.add(amount_col)

    def repeats(c) -> bool:
        n = present(c)
        return n > 0 and 1 < int(c.get("distinct") or 0) < 0.9 * n

    customer_col = _first(columns, _CUSTOMER, used, repeats)
    if customer_col is None:
        return None
    used.add(customer_col)
    order_id_col = _first(
        columns, _ORDER_ID, used, lambda c: present(c) > 0 and int(c.get("distinct") or 0) >= 0.5 * present(c)
    )
    if order_id_col:
        used.add(order_id_col)
    currency_col = _first(columns, _CURRENCY, used, lambda c: c.get("role") in ("categorical", "ignore", "text"))
    if currency_col:
        used.add(currency_col)
    product_col = _first(columns, _PRODUCT, used, lambda c: c.get("role") in ("categorical", "text", "identifier"))
    return {
        "customer_col": customer_col,
        "date_col": date_col,
        "amount_col": amount_col,
        "order_id_col": order_id_col,
        "currency_col": currency_col,
        "product_col": product_col,
    }


def fitting_period(log: OrderLog, config: CLVConfig) -> tuple[int, int, int, int]:
    """(first order day, end of the fitting period, holdout days, cut) as ``fit_clv`` computes them."""
    from .orders import to_day

    first, end = log.first_day, log.observation_end
    fit_end = to_day(config.calibration_end) if config.calibration_end is not None else end
    hold = holdout_days(fit_end - first, config.holdout_share, config.min_holdout_days)
    return first, fit_end, hold, fit_end - hold


def check_order_log(source, config: CLVConfig) -> dict:
    """The eligibility of an order log for the lifetime-value models, without fitting any: what ``fit_clv`` would
    say first. JSON-safe: {eligible, reasons [{code, message, advice}], customers, repeat_customers, orders,
    first_order, last_order, observation_end, purchase_cycle_days, holdout_days, ingest}."""
    log = source if isinstance(source, OrderLog) else read_orders(source, config)
    first, fit_end, hold, cut = fitting_period(log, config)
    full = summarize(log, fit_end, fit_end)
    cal = summarize(log, cut, fit_end) if cut > first else None
    reasons = eligibility(cal, full, first, cut, config)
    cycle = full.purchase_cycle_days()
    return {
        "eligible": not reasons,
        "reasons": [r.to_dict() for r in reasons],
        "customers": len(full),
        "repeat_customers": int((full.x > 0).sum()),
        "repeat_customers_before_holdout": int((cal.x > 0).sum()) if cal is not None else 0,
        "orders": int(log.report.orders_used),
        "first_order": day_to_date(first).isoformat(),
        "last_order": day_to_date(log.last_day).isoformat(),
        "observation_end": day_to_date(log.observation_end).isoformat(),
        "purchase_cycle_days": None if cycle is None else round(cycle, 1),
        "holdout_days": hold,
        "ingest": log.report.to_dict(),
    }


# The customer table the segmentation runs on, and the roles of its columns (the AnalysisConfig keys).
CUSTOMER_TABLE_COLUMNS = (
    "customer_id",
    "purchases",
    "days_since_last_purchase",
    "tenure_days",
    "avg_repeat_spend",
    "total_spend",
    "p_active",
    "expected_purchases",
    "clv",
    "clv_low",
    "clv_high",
)
CLV_COLUMNS = ("p_active", "expected_purchases", "clv", "clv_low", "clv_high")
CUSTOMER_TABLE_CONFIG = {
    "id_col": "customer_id",
    "numeric_cols": ["purchases", "p_active", "expected_purchases"],
    "monetary_cols": ["avg_repeat_spend", "total_spend", "clv"],
    # the range ends follow the CLV itself; as features they would count it three times
    "ignore_cols": ["clv_low", "clv_high"],
    "categorical_cols": [],
    "date_cols": [],
    "text_cols": [],
    "churn_label_col": None,
    "recency_col": "days_since_last_purchase",
    "frequency_col": "purchases",
    "tenure_col": "tenure_days",
}


def customer_table(result) -> pd.DataFrame:
    """One row per customer built from the log (a ``CLVResult``): RFM (purchase days, days since the last one,
    days since the first, mean repeat spend, total net spend) and, when a model was fitted, the CLV columns.
    Without a model the CLV columns are absent (the segmentation then runs on RFM alone)."""
    c = result.customers
    T = c["T"].to_numpy(dtype=np.float64)
    table = pd.DataFrame(
        {
            # exactly as stored: the upload's conversion keeps "0001" as text (datasets/conversion.py)
            "customer_id": c["customer_id"].to_numpy(),
            "purchases": c["frequency"].to_numpy(dtype=np.int64) + 1,
            "days_since_last_purchase": T - c["recency"].to_numpy(dtype=np.float64),
            "tenure_days": T,
            "avg_repeat_spend": c["monetary"].to_numpy(dtype=np.float64),
            "total_spend": c["total_spend"].to_numpy(dtype=np.float64),
        }
    )
    if result.eligible:
        for col in CLV_COLUMNS:
            table[col] = c[col].to_numpy(dtype=np.float64)
    return table


def customer_table_config(table: pd.DataFrame) -> dict:
    """CUSTOMER_TABLE_CONFIG for the columns the table has (no CLV columns when no model was fitted)."""
    config = {k: (list(v) if isinstance(v, list) else v) for k, v in CUSTOMER_TABLE_CONFIG.items()}
    for key in ("numeric_cols", "monetary_cols", "ignore_cols"):
        config[key] = [col for col in config[key] if col in table.columns]
    # with a CLV the table's lifetime value is the CLV: no second estimate from the segmentation pipeline
    config["predict_ltv"] = "clv" not in table.columns
    return config
