"""Order logs for tests and benches: one from known model parameters, one that is *not* any fitted model.

``simulate_model_log`` draws customers from a buy-till-you-die model with given parameters (Pareto/NBD, BG/NBD
or MBG/NBD for purchases, Gamma-Gamma for spend): the ground truth for checking that estimates come back and
that the 80 % ranges hold the truth 80 % of the time.

``generate_order_log`` makes realistic retail logs that none of the models describe exactly: purchases
follow renewal processes with Gamma(3) gaps (more regular than Poisson) for a share of customers, run on a
seasonal clock (November-December busier), lifetimes are Weibull with shape < 1 (early churn, not the
models' exponential or geometric dropout), acquisitions grow over time, spend per order is log-normal around a
customer mean that is itself log-normal and correlated with frequency (the Gamma-Gamma model assumes
independence), with a heavy-tailed few; and the log has the mess of real exports: split orders on one day,
refunds, zero-amount orders and re-exported duplicate rows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .models import MBGNBD, GammaGamma, ParetoNBD


def _orders_frame(cust: np.ndarray, day: np.ndarray, amount: np.ndarray, start: pd.Timestamp) -> pd.DataFrame:
    order = np.lexsort((day, cust))
    cust, day, amount = cust[order], day[order], amount[order]
    return pd.DataFrame(
        {
            "order_id": np.arange(1, len(cust) + 1, dtype=np.int64),
            "customer_id": cust.astype(np.int64) + 1,
            "order_date": (start.to_datetime64().astype("datetime64[D]") + day.astype("timedelta64[D]")),
            "amount": np.round(amount, 2),
        }
    )


def simulate_model_log(
    model,
    gg: GammaGamma,
    n_customers: int,
    *,
    start: str = "2023-01-01",
    acquisition_weeks: float = 12.0,
    total_weeks: float = 104.0,
    seed: int = 0,
) -> pd.DataFrame:
    """An order log drawn from ``model`` (a ParetoNBD, BGNBD or MBGNBD with its parameters set) and ``gg``.

    First purchases are spread uniformly over the first ``acquisition_weeks``; the log ends at
    ``total_weeks``. Times are continuous and rounded down to days (several purchases on one day are then one
    purchase day, as the aggregation counts them; keep purchase rates well below one a day)."""
    rng = np.random.default_rng(seed)
    n = n_customers
    t0 = rng.uniform(0, acquisition_weeks, n)
    lam = rng.gamma(model.r, 1.0 / model.alpha, n)
    span = total_weeks - t0
    if isinstance(model, ParetoNBD):
        mu = rng.gamma(model.s, 1.0 / model.beta, n)
        active = np.minimum(rng.standard_exponential(n) / mu, span)
        counts = rng.poisson(lam * active)
        allowed = counts
    else:
        active = span
        counts = rng.poisson(lam * span)
        p = rng.beta(model.a, model.b, n)
        k = rng.geometric(p)  # the purchase after which the customer drops out (counting from the first)
        allowed = (k - 1) if isinstance(model, MBGNBD) else k
        allowed = np.minimum(allowed, counts)
    cust = np.repeat(np.arange(n), counts)
    times = t0[cust] + rng.uniform(0, 1, len(cust)) * active[cust]
    order = np.lexsort((times, cust))
    cust, times = cust[order], times[order]
    starts = np.r_[0, np.cumsum(counts)[:-1]]
    rank = np.arange(len(cust)) - np.repeat(starts, counts)
    keep = rank < allowed[cust]
    cust = np.concatenate([np.arange(n), cust[keep]])
    times = np.concatenate([t0, times[keep]])
    nu = rng.gamma(gg.q, 1.0 / gg.v, n)
    amount = rng.gamma(gg.p, 1.0 / nu[cust])
    day = np.floor(times * 7.0).astype(np.int64)
    return _orders_frame(cust, day, amount, pd.Timestamp(start))


def _seasonal_clock(days: int) -> tuple[np.ndarray, np.ndarray]:
    """Calendar day -> operational time, busier in November-December (intensity up to 2.5x)."""
    t = np.arange(days + 1, dtype=np.float64)
    doy = t % 365.25
    intensity = 1.0 + 1.5 * np.exp(-0.5 * ((doy - 335.0) / 18.0) ** 2)
    clock = np.concatenate([[0.0], np.cumsum(0.5 * (intensity[1:] + intensity[:-1]))])
    return t, clock / intensity.mean()


def generate_order_log(
    n_customers: int,
    *,
    start: str = "2023-01-01",
    days: int = 730,
    seed: int = 0,
    mess: bool = True,
    activity: float = 1.0,
) -> pd.DataFrame:
    """A realistic order log: columns ``order_id, customer_id, order_date, amount`` (about 6 orders per
    customer over two years; ``activity`` multiplies purchase rates: 1.9 gives about 10). ``mess`` adds split
    orders, refunds, zero amounts and duplicated rows."""
    rng = np.random.default_rng(seed)
    n = n_customers
    growth = 1.2  # acquisitions grow: density proportional to exp(growth * share of the period)
    u = rng.random(n)
    acq = np.log1p(u * np.expm1(growth)) / growth * (days - 30)
    kind = rng.choice(3, size=n, p=[0.45, 0.30, 0.25])  # regular renewal, Poisson-like, occasional
    mean_gap = np.exp(rng.normal(np.log([30.0, 55.0, 140.0])[kind], 0.5)) / activity
    lifetime = rng.weibull(0.7, n) * np.array([500.0, 320.0, 160.0])[kind]
    death = np.minimum(acq + lifetime, days)
    cal_t, cal_clock = _seasonal_clock(days)
    op_now = np.interp(acq, cal_t, cal_clock)
    op_death = np.interp(death, cal_t, cal_clock)
    events_c, events_t = [np.arange(n)], [acq]
    active = np.flatnonzero(op_now < op_death)
    shape = np.where(kind == 0, 3.0, 1.0)
    while len(active):
        gap = rng.gamma(shape[active], mean_gap[active] / shape[active])
        op_now[active] += gap
        alive = op_now[active] < op_death[active]
        active = active[alive]
        events_c.append(active)
        events_t.append(np.interp(op_now[active], cal_clock, cal_t))
    cust = np.concatenate(events_c)
    when = np.concatenate(events_t)
    per_order = np.bincount(cust, minlength=n)
    base = np.exp(rng.normal(3.6, 0.7, n) + 0.15 * np.log(per_order))
    whales = rng.random(n) < 0.01
    base[whales] *= rng.pareto(1.5, whales.sum()) + 3.0
    amount = base[cust] * np.exp(rng.normal(0.0, 0.45, len(cust)))
    day = np.floor(when).astype(np.int64)
    if not mess:
        return _orders_frame(cust, day, amount, pd.Timestamp(start))
    m = len(cust)
    split = rng.random(m) < 0.03  # the same basket paid in two orders that day
    share = rng.uniform(0.2, 0.8, split.sum())
    extra_c, extra_d, extra_a = cust[split], day[split], amount[split] * (1 - share)
    amount[split] *= share
    refund = rng.random(m) < 0.04
    ref_c, ref_d = cust[refund], np.minimum(day[refund] + rng.integers(1, 31, refund.sum()), days)
    ref_a = -amount[refund] * rng.uniform(0.3, 1.0, refund.sum())
    amount[rng.random(m) < 0.005] = 0.0
    cust = np.concatenate([cust, extra_c, ref_c])
    day = np.concatenate([day, extra_d, ref_d])
    amount = np.concatenate([amount, extra_a, ref_a])
    frame = _orders_frame(cust, day, amount, pd.Timestamp(start))
    dup = frame.sample(frac=0.003, random_state=seed)
    return pd.concat([frame, dup], ignore_index=True)
