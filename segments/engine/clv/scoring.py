"""Lifetime value of one customer's history with fitted models: what ``fit_clv`` computes for every customer of
the log (``customer_values``), and what ``predict`` computes for a new customer of an order-log analysis
(``CLVScorer``), so both give the same figures for the same history.

A new customer is sent in one of two shapes (``REQUEST_SHAPES`` says them in words, for messages and docs):

- **orders**: ``{"orders": [{"date": "2024-05-01", "amount": 35.5}, ...]}``, read and summarised by exactly the
  rules of an uploaded log (``orders.read_orders`` and ``transactions.summarize``: same-day orders are one
  purchase day, refunds are negative amounts netted against the purchase before them, zero amounts are
  purchases); ``T`` runs from the first order to the end of the analysis's fitting period, so no order may be
  dated after it;
- **history**: the aggregated fields of ``clv_customers.csv``: ``frequency`` (repeat purchase days),
  ``recency`` (days from the first to the last purchase day), ``T`` (days from the first purchase to now) and
  ``monetary`` (mean spend of the repeat purchase days; required when frequency > 0), optionally
  ``total_spend``.

Either shape may carry the customer id field. Anything else, both shapes at once, or values no history can have
(a recency longer than T, repeat purchases on no later day, a negative spend) is refused naming the record, the
field and the value.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import EngineError
from .config import CLVConfig
from .ranges import expected_value, simulate_spend, weekly_discount_rate

HISTORY_FIELDS = ("frequency", "recency", "T", "monetary")
OPTIONAL_HISTORY_FIELDS = ("total_spend",)
ORDER_FIELDS = ("date", "amount")
CLV_VALUE_KEYS = ("p_active", "expected_purchases", "clv", "clv_low", "clv_high")
REQUEST_SHAPES = (
    '"orders": [{"date": "YYYY-MM-DD", "amount": 12.5}, ...] (the customer\'s orders), or the purchase history '
    '"frequency" (repeat purchase days), "recency" (days from the first to the last purchase day), "T" (days from '
    'the first purchase to now) and "monetary" (mean spend of the repeat purchase days; needed when frequency > 0)'
)


def customer_values(model, gg, x, t_x_days, T_days, monetary, horizon_days: float, config: CLVConfig) -> dict:
    """{p_active, expected_purchases, clv, clv_low, clv_high, expected_spend_per_purchase}: arrays, one entry per
    customer history (x repeat purchase days, t_x and T in days, mean repeat spend) over ``horizon_days``."""
    x = np.asarray(x, dtype=np.float64)
    t_x, T = np.asarray(t_x_days, dtype=np.float64) / 7.0, np.asarray(T_days, dtype=np.float64) / 7.0
    return _values(model, gg, x, t_x, T, x, np.asarray(monetary, dtype=np.float64), None, horizon_days, config)


def _values(model, gg, x, t_x, T, n_gg, m_gg, d, horizon_days, config) -> dict:
    h = horizon_days / 7.0
    rho = weekly_discount_rate(config.discount_rate)
    data = d if d is not None else (x, t_x, T)
    p_active = model.p_alive(*((d,) if d is not None else data))
    expected, discounted = expected_value(model, h, *((d, None, None) if d is not None else data), rho)
    spend_per = gg.expected_spend(n_gg, m_gg)
    ranges = simulate_spend(
        model,
        gg,
        x,
        t_x,
        T,
        n_gg,
        m_gg,
        h,
        rho,
        range_draws=config.range_draws,
        parameter_draws=config.parameter_draws,
        level=config.range_level,
        seed=config.random_state,
        max_cells=config.max_range_cells,
    )
    return {
        "p_active": np.asarray(p_active, dtype=np.float64),
        "expected_purchases": np.asarray(expected, dtype=np.float64),
        "clv": np.asarray(discounted * spend_per, dtype=np.float64),
        "clv_low": ranges.low,
        "clv_high": ranges.high,
        "expected_spend_per_purchase": np.asarray(spend_per, dtype=np.float64),
        "_ranges": ranges,
    }


@dataclass
class CLVScorer:
    """What an order-log analysis keeps to score a new customer (saved inside the analysis's fitted model):
    the end of its fitting period (day number: "now" for a history), the horizon, and the fitted purchase and
    spend models with the range settings (None when the log had too little history for a model: then only the
    RFM fields are computed)."""

    fit_end: int
    horizon_days: int
    config: CLVConfig
    purchase_model: object | None = None
    spend_model: object | None = None

    @classmethod
    def from_result(cls, result, config: CLVConfig) -> CLVScorer:
        from .orders import to_day

        periods = result.metrics.get("periods") or {}
        return cls(
            fit_end=to_day(periods["fitting_period_end"]),
            horizon_days=int(periods.get("horizon_days") or CLVConfig.DEFAULT_HORIZON_DAYS),
            config=config,
            purchase_model=result.purchase_model if result.eligible else None,
            spend_model=result.spend_model if result.eligible else None,
        )

    @property
    def has_models(self) -> bool:
        return self.purchase_model is not None and self.spend_model is not None

    @property
    def reference_date(self) -> str:
        from .orders import day_to_date

        return day_to_date(self.fit_end).isoformat()

    def histories(self, records: list[Mapping], id_col: str | None) -> pd.DataFrame:
        """One row per record: frequency, recency, T (days), monetary, total_spend; or EngineError naming every
        record and field at fault."""
        errors: list[EngineError] = []
        rows = []
        for i, rec in enumerate(records, start=1):
            try:
                rows.append(self._history(i, rec, id_col))
            except EngineError as exc:
                errors.append(exc)
        if errors:
            raise EngineError.of(errors[:20])
        return pd.DataFrame(rows, columns=[*HISTORY_FIELDS, "total_spend"])

    def _history(self, i: int, rec, id_col: str | None) -> dict:
        if not isinstance(rec, Mapping):
            raise EngineError(f"record {i}: expected an object, got {type(rec).__name__}", field="record")
        allowed = {"orders", *HISTORY_FIELDS, *OPTIONAL_HISTORY_FIELDS} | ({id_col} if id_col else set())
        unknown = [k for k in rec if k not in allowed]
        if unknown:
            raise EngineError(
                f"record {i}: unknown field {unknown[0]!r}: this analysis is of an order log; send "
                f"{REQUEST_SHAPES}" + (f", and optionally {id_col!r}" if id_col else "") + ".",
                field=str(unknown[0]),
            )
        has_orders = "orders" in rec
        given = [k for k in (*HISTORY_FIELDS, *OPTIONAL_HISTORY_FIELDS) if k in rec]
        if has_orders and given:
            raise EngineError(
                f"record {i}: send either “orders” or the purchase history ({', '.join(HISTORY_FIELDS)}), not both "
                f"(it sent orders and {given[0]!r}).",
                field="orders",
            )
        if has_orders:
            return self._from_orders(i, rec["orders"])
        missing = [k for k in ("frequency", "recency", "T") if rec.get(k) is None]
        if missing:
            raise EngineError(
                f"record {i}: no {', '.join(repr(m) for m in missing)}: this analysis is of an order log; send "
                f"{REQUEST_SHAPES}.",
                field=missing[0],
            )
        return self._from_history(i, rec)

    @staticmethod
    def _number(i: int, name: str, value, *, whole: bool = False) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
            raise EngineError(f"record {i}: field {name!r} is {value!r}: expected a number.", field=name)
        value = float(value)
        if not math.isfinite(value) or value < 0:
            raise EngineError(f"record {i}: field {name!r} is {value:g}: expected a number of 0 or more.", field=name)
        if whole and value != int(value):
            raise EngineError(
                f"record {i}: field {name!r} is {value:g}: expected a whole number (of purchase days).", field=name
            )
        return value

    def _from_history(self, i: int, rec) -> dict:
        x = self._number(i, "frequency", rec["frequency"], whole=True)
        recency = self._number(i, "recency", rec["recency"])
        T = self._number(i, "T", rec["T"])
        if recency > T:
            raise EngineError(
                f"record {i}: field 'recency' is {recency:g}, longer than 'T' ({T:g}): the last purchase cannot "
                "come before the first.",
                field="recency",
            )
        if x == 0 and recency > 0:
            raise EngineError(
                f"record {i}: field 'recency' is {recency:g} with frequency 0: a customer without repeat purchases "
                "has recency 0 (days from the first to the last purchase day).",
                field="recency",
            )
        if x > 0 and recency == 0:
            raise EngineError(
                f"record {i}: field 'recency' is 0 with frequency {x:g}: repeat purchases are on later days, so "
                "recency (days from the first to the last purchase day) is at least 1.",
                field="recency",
            )
        monetary = rec.get("monetary")
        if x > 0 and monetary is None:
            raise EngineError(
                f"record {i}: no 'monetary' with frequency {x:g}: send the mean spend of the repeat purchase days.",
                field="monetary",
            )
        m = self._number(i, "monetary", monetary) if monetary is not None and x > 0 else float("nan")
        total = rec.get("total_spend")
        total = self._number(i, "total_spend", total) if total is not None else float("nan")
        return {"frequency": x, "recency": recency, "T": T, "monetary": m, "total_spend": total}

    def _from_orders(self, i: int, orders) -> dict:
        from .orders import day_to_date, read_orders
        from .transactions import summarize

        if not isinstance(orders, list | tuple) or not orders:
            raise EngineError(
                f'record {i}: field \'orders\' must be a non-empty list of {{"date", "amount"}} objects.',
                field="orders",
            )
        for j, order in enumerate(orders, start=1):
            if not isinstance(order, Mapping) or set(order) - set(ORDER_FIELDS) or not set(ORDER_FIELDS) <= set(order):
                raise EngineError(
                    f'record {i}: order {j} is {order!r}: each order is {{"date": "YYYY-MM-DD", "amount": '
                    "12.5}} (a refund is a negative amount).",
                    field="orders",
                )
            if isinstance(order["amount"], bool) or not isinstance(order["amount"], int | float | str):
                raise EngineError(f"record {i}: order {j}: amount {order['amount']!r} is not a number.", field="orders")
        frame = pd.DataFrame(
            {
                "customer": ["c"] * len(orders),
                "date": [str(o["date"]) for o in orders],
                "amount": [o["amount"] for o in orders],
            }
        )
        # nothing dropped as future-dated here: an order after the end of the analysis's log is refused below
        config = CLVConfig(customer_col="customer", date_col="date", amount_col="amount", observation_end="2199-12-31")
        try:
            log = read_orders(frame, config)
        except EngineError as exc:
            raise EngineError(
                f"record {i}: orders: {exc.message}".replace("column 'date'", "date"), field="orders"
            ) from None
        if log.last_day > self.fit_end:
            late = int((log.day > self.fit_end).sum())
            raise EngineError(
                f"record {i}: {late} order(s) dated after {self.reference_date} (e.g. "
                f"{day_to_date(int(log.day.max())).isoformat()}), the end of this analysis's order log: the models "
                "score a history up to that date.",
                field="orders",
            )
        if not (log.amount >= 0).any():
            raise EngineError(f"record {i}: orders: only refunds, no purchase.", field="orders")
        s = summarize(log, self.fit_end, self.fit_end)
        return {
            "frequency": float(s.x[0]),
            "recency": float(s.t_x_days[0]),
            "T": float(s.T_days[0]),
            "monetary": float(s.monetary[0]),
            "total_spend": float(s.total_spend[0]),
        }

    def values(self, histories: pd.DataFrame) -> dict:
        """CLV_VALUE_KEYS -> arrays for the histories (NaN everywhere when the analysis has no model)."""
        n = len(histories)
        if not self.has_models:
            return {k: np.full(n, np.nan) for k in CLV_VALUE_KEYS}
        out = customer_values(
            self.purchase_model,
            self.spend_model,
            histories["frequency"].to_numpy(),
            histories["recency"].to_numpy(),
            histories["T"].to_numpy(),
            histories["monetary"].to_numpy(),
            self.horizon_days,
            self.config,
        )
        return {k: out[k] for k in CLV_VALUE_KEYS}
