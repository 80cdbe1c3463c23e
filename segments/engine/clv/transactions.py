"""Order log -> one row per customer, for any calibration cut.

``purchase_days`` turns the orders read by ``orders.read_orders`` into one row per (customer, purchase day),
once per log; ``summarize`` gives every customer's history up to a cut and what the same customers did after it.

Rules (each has a test in tests/engine/test_clv_transactions.py; reading rules are in ``orders.py``):

- **Several orders on one day are one purchase occasion** (a "purchase day"); their amounts are summed. Purchase
  models count repeat purchase *days*: a basket split into three orders is one decision to buy.
- **Refunds are negative amounts.** A refund is not a purchase (it adds no purchase day and does not change
  recency). Its amount is netted against the customer's latest purchase day on or before the refund, when
  that day is on the same side of the calibration cut (a refund after the cut of a purchase before it would
  let the future leak into the calibration data, so it is left out of both); a day's net spend is floored at
  zero. Refunds with no earlier purchase of the same customer are left out and counted.
- **Zero amounts are purchases worth nothing**: an order is a visit to buy whatever it cost (a free
  replacement, a fully discounted order), so it counts as a purchase occasion with zero spend. The CDNOW
  sample (tests/data) has 8 such orders and the published figures count them. They are counted in the report;
  the spend model is fitted on customers whose mean repeat spend is positive (a Gamma density needs it).
- **One-purchase customers** have frequency 0, recency 0 and no mean repeat spend (``monetary`` is NaN); the
  models use them (they carry most of the information about dropout) and the spend model gives them the
  population's mean spend per purchase.
- Customers whose first purchase falls after the calibration cut are new in the holdout period: they have no
  history to predict from, so they are left out of the per-customer scores and counted.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import EngineError
from .orders import OrderLog


@dataclass
class CustomerSummary:
    """Per-customer figures for the customers whose first purchase is on or before ``cut``.

    Days are integers since 1970-01-01; ``x`` = repeat purchase days, ``t_x_days`` = first to last purchase day,
    ``T_days`` = first purchase day to ``cut``. ``after_*`` are the actual purchases (purchase days) and net spend
    in (cut, end] of the same customers; ``after_weekly`` counts their purchase days per week after the cut.
    """

    customer_ids: np.ndarray
    x: np.ndarray
    t_x_days: np.ndarray
    T_days: np.ndarray
    monetary: np.ndarray  # mean net spend of the repeat purchase days (NaN when x == 0)
    total_spend: np.ndarray
    first_day: np.ndarray
    last_day: np.ndarray
    after_purchases: np.ndarray
    after_spend: np.ndarray
    after_weekly: np.ndarray
    cut: int
    end: int
    stats: dict
    _model_data: object = field(default=None, repr=False, compare=False)

    def __len__(self) -> int:
        return len(self.x)

    @property
    def weeks(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(x, t_x, T) in weeks, as the models take them."""
        return self.x.astype(np.float64), self.t_x_days / 7.0, self.T_days / 7.0

    def model_data(self):
        """The same in the models' prepared form (distinct values found once; see models._Data)."""
        if self._model_data is None:
            from .models import _Data

            self._model_data = _Data(*self.weeks)
        return self._model_data

    def purchase_cycle_days(self) -> float | None:
        """Median over repeat customers of their mean days between purchase days."""
        rep = self.x > 0
        if not rep.any():
            return None
        return float(np.median(self.t_x_days[rep] / self.x[rep]))

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "customer_id": self.customer_ids,
                "frequency": self.x,
                "recency": self.t_x_days,
                "T": self.T_days,
                "monetary": self.monetary,
                "first_purchase": self.first_day.astype("datetime64[D]"),
                "last_purchase": self.last_day.astype("datetime64[D]"),
                "total_spend": self.total_spend,
            }
        )


def _count_refund_only(cust: np.ndarray, buyers: np.ndarray, n_all: int) -> int:
    present = np.zeros(n_all, dtype=bool)
    present[cust] = True
    bought = np.zeros(n_all, dtype=bool)
    bought[buyers] = True
    return int((present & ~bought).sum())


@dataclass
class PurchaseDays:
    """One row per (customer, purchase day), sorted by customer then day, with the day's spend from
    non-negative orders; and every refund with the index of the latest purchase day on or before it (-1 when
    the customer had none). Computed once per log: every calibration cut reuses it."""

    customer: np.ndarray
    day: np.ndarray
    spend: np.ndarray
    order_day: np.ndarray  # day of every non-negative order (to count same-day merges per window)
    refund_index: np.ndarray
    refund_day: np.ndarray
    refund_amount: np.ndarray


def purchase_days(log: OrderLog) -> PurchaseDays:
    if log._purchase_days is not None:
        return log._purchase_days
    base = int(log.day.min())
    width = np.int64(int(log.day.max()) - base + 1)
    pos = log.amount >= 0
    keys = log.customer[pos].astype(np.int64) * width + (log.day[pos] - base)
    ukeys, inverse = np.unique(keys, return_inverse=True)
    del keys
    spend = np.bincount(inverse, weights=log.amount[pos], minlength=len(ukeys))
    del inverse
    neg = ~pos
    rkeys = log.customer[neg].astype(np.int64) * width + (log.day[neg] - base)
    idx = np.searchsorted(ukeys, rkeys, side="right") - 1
    ucust = ukeys // width
    ok = idx >= 0
    ok[ok] = ucust[idx[ok]] == log.customer[neg][ok]
    table = PurchaseDays(
        customer=ucust,
        day=(ukeys % width + base).astype(np.int64),
        spend=spend,
        order_day=log.day[pos],
        refund_index=np.where(ok, idx, -1),
        refund_day=log.day[neg].astype(np.int64),
        refund_amount=log.amount[neg],
    )
    log._purchase_days = table
    return table


def summarize(log: OrderLog, cut: int, end: int | None = None) -> CustomerSummary:
    """Per-customer figures at calibration cut ``cut`` (a day) and what the same customers did in (cut, end]."""
    end = cut if end is None else end
    if end < cut:
        raise EngineError("the end of the period after the calibration cut must not be before the cut")
    pdays = purchase_days(log)
    spend = pdays.spend.copy()
    in_window = pdays.refund_day <= end
    matched = in_window & (pdays.refund_index >= 0)
    refunds_unmatched = int((in_window & (pdays.refund_index < 0)).sum())
    same_side = np.zeros(len(matched), dtype=bool)
    same_side[matched] = (pdays.day[pdays.refund_index[matched]] <= cut) == (pdays.refund_day[matched] <= cut)
    refunds_across_cut = int((matched & ~same_side).sum())
    apply = matched & same_side
    refunds_applied = int(apply.sum())
    if refunds_applied:
        spend += np.bincount(pdays.refund_index[apply], weights=pdays.refund_amount[apply], minlength=len(spend))
        np.maximum(spend, 0.0, out=spend)
    keep = pdays.day <= end
    ucust, uday, spend = pdays.customer[keep], pdays.day[keep], spend[keep]
    same_day_merged = int(np.count_nonzero(pdays.order_day <= end) - len(uday))
    cust = log.customer[log.day <= end]

    before = uday <= cut
    bc, bd, bs = ucust[before], uday[before], spend[before]
    starts = np.flatnonzero(np.r_[True, bc[1:] != bc[:-1]]) if len(bc) else np.zeros(0, dtype=np.int64)
    stops = np.r_[starts[1:], len(bc)].astype(np.int64)
    codes = bc[starts]
    n_days = stops - starts
    x = n_days - 1
    first = bd[starts]
    last = bd[stops - 1]
    total = np.add.reduceat(bs, starts) if len(bs) else np.zeros(0)
    first_spend = bs[starts]
    with np.errstate(invalid="ignore", divide="ignore"):
        monetary = np.where(x > 0, (total - first_spend) / np.maximum(x, 1), np.nan)

    n_all = len(log.customer_ids)
    after = (uday > cut) & (uday <= end)
    known = np.zeros(n_all, dtype=bool)
    known[codes] = True
    after_known = after & known[ucust]
    counts = np.bincount(ucust[after_known], minlength=n_all)[codes]
    after_spend = np.bincount(ucust[after_known], weights=spend[after_known], minlength=n_all)[codes]
    n_weeks = int(np.ceil((end - cut) / 7)) if end > cut else 0
    week = (uday[after_known] - cut - 1) // 7
    weekly = np.bincount(week, minlength=n_weeks)[:n_weeks] if n_weeks else np.zeros(0, dtype=np.int64)
    new_after = after & ~known[ucust]
    stats = {
        "purchase_days_merged_from_same_day_orders": same_day_merged,
        "refunds_netted": refunds_applied,
        "refunds_without_earlier_purchase": refunds_unmatched,
        "refunds_across_the_cut_left_out": refunds_across_cut,
        "customers_new_after_cut": len(np.unique(ucust[new_after])),
        "purchases_by_new_customers_after_cut": int(new_after.sum()),
        "customers_with_refunds_only": _count_refund_only(cust, ucust, n_all),
    }
    return CustomerSummary(
        customer_ids=log.customer_ids[codes],
        x=x.astype(np.int64),
        t_x_days=(last - first).astype(np.int64),
        T_days=(cut - first).astype(np.int64),
        monetary=monetary,
        total_spend=total,
        first_day=first,
        last_day=last,
        after_purchases=counts.astype(np.int64),
        after_spend=after_spend,
        after_weekly=weekly.astype(np.int64),
        cut=int(cut),
        end=int(end),
        stats=stats,
    )
