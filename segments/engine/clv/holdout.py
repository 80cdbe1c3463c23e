"""Holdout split, eligibility, scores and model choice.

**Split.** The last part of the log is held out: ``max(holdout_share x span, min_holdout_days)`` days (default
the last 25 %, at least 8 weeks), where span = first order to the end of the fitting period. Each model is fitted
on the customers' histories up to the cut and predicts what the same customers do after it; customers whose
first purchase is after the cut are new and are not part of the per-customer scores (their count is reported).

**Eligibility.** A model is fitted only when (1) at least ``min_repeat_customers`` customers bought on two
different days before the cut (the models learn purchase rates and dropout from repeat buyers), and (2) the
period before the cut spans at least ``min_cycles`` (2) purchase cycles, a cycle being the median over repeat
customers of their mean days between purchase days. Otherwise the result says what is missing and what to do.

**Scores** (per model, on the held-out period, undiscounted):
- ``mae``: mean over customers of |expected - actual purchase days|; ``relative_mae`` = sum |E - A| / sum A;
- ``purchases_expected``/``purchases_actual`` and ``purchases_error`` = (expected - actual) / actual; the same
  for spend (expected purchases x Gamma-Gamma expected spend per purchase, against actual net spend);
- ``tracking``: expected and actual purchase days per week after the cut (the last week may be partial);
- ``conditional_expectation``: by number of repeat purchases before the cut (0-6, 7+), customers, mean
  actual and mean expected purchases after it;
- ``ranges``: coverage of the 80 % spend ranges (see ranges.py: plain coverage, the model's own expected
  coverage and the PIT coverage), on a seeded sample of at most ``score_sample_size`` customers;
- ``direction_check``: among frequent buyers (repeat purchases >= the median of repeat buyers, at least 2),
  P(active) must fall as the time since the last purchase grows (Spearman < 0).

**Choice.** Among models whose fit converged and whose direction check holds, the lowest ``mae``; models
within 1 % of it are compared on |purchases_error|. The chosen model is refitted on the whole log.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .orders import day_to_date
from .ranges import simulate_spend
from .transactions import CustomerSummary

CE_BUCKETS = 8  # 0..6 repeat purchases, then "7+"


@dataclass
class Reason:
    """Why no model was fitted: what is missing, with the figures, and what the client can do."""

    code: str
    message: str
    advice: str

    def to_dict(self) -> dict:
        return {"code": self.code, "message": self.message, "advice": self.advice}


def holdout_days(span_days: int, share: float, min_days: int) -> int:
    return int(max(np.ceil(share * span_days), min_days))


def eligibility(cal: CustomerSummary | None, full: CustomerSummary, first_day: int, cut: int, config) -> list[Reason]:
    reasons: list[Reason] = []
    span = full.cut - first_day
    hold = full.cut - cut
    cycle = full.purchase_cycle_days()
    if cal is None or cut <= first_day:
        need = hold + (int(np.ceil(config.min_cycles * cycle)) if cycle else 0)
        reasons.append(
            Reason(
                "log_too_short",
                f"The log covers {span} days ({day_to_date(first_day)} to {day_to_date(full.cut)}); the last "
                f"{hold} days must be held out to check the model's accuracy, which leaves nothing to fit on.",
                f"Upload orders going back further: at least {need} days in all.",
            )
        )
        return reasons
    repeaters = int((cal.x > 0).sum())
    if repeaters < config.min_repeat_customers:
        reasons.append(
            Reason(
                "few_repeat_customers",
                f"Only {repeaters:,} customers bought on two different days before {day_to_date(cut)}; the models "
                f"need at least {config.min_repeat_customers:,} to learn how often customers come back and when "
                "they stop.",
                "Upload a longer history or more customers (all channels, all regions); or wait until more "
                "customers have bought again.",
            )
        )
    cal_span = cut - first_day
    if cycle is not None and cal_span < config.min_cycles * cycle:
        need = int(np.ceil(config.min_cycles * cycle)) + hold
        reasons.append(
            Reason(
                "log_shorter_than_two_cycles",
                f"Customers buy again every {cycle:.0f} days (median), but only {cal_span} days of orders come "
                f"before the {hold}-day holdout: the models need about {config.min_cycles:g} purchase cycles to "
                "tell customers who left from customers who have not come back yet.",
                f"Upload at least {need} days of orders (from {day_to_date(full.cut - need)}).",
            )
        )
    if cycle is None:
        reasons.append(
            Reason(
                "no_repeat_purchases",
                "No customer bought on two different days, so there is no purchase cycle to learn from.",
                "Check that the customer column identifies customers (not orders) and upload a longer history.",
            )
        )
    return reasons


def direction_check(p_active: np.ndarray, x: np.ndarray, t_x_days: np.ndarray, T_days: np.ndarray) -> dict:
    rep = x > 0
    if rep.sum() < 10:
        return {"ok": None, "note": "too few repeat buyers to check"}
    threshold = max(2, int(np.median(x[rep])))
    frequent = x >= threshold
    since_last = (T_days - t_x_days)[frequent]
    if frequent.sum() < 10 or np.std(since_last) == 0 or np.std(p_active[frequent]) == 0:
        return {"ok": None, "note": "not enough variation among frequent buyers to check", "min_purchases": threshold}
    rho = spearman(p_active[frequent], since_last)
    return {
        "ok": bool(rho < 0),
        "spearman_p_active_vs_days_since_last_purchase": rho,
        "customers": int(frequent.sum()),
        "min_repeat_purchases": threshold,
        "note": "Among frequent buyers, P(active) must fall as the time since their last purchase grows.",
    }


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman's rank correlation (average ranks for ties), without importing scipy.stats (slow to load)."""
    import pandas as pd

    ra = pd.Series(a).rank().to_numpy()
    rb = pd.Series(b).rank().to_numpy()
    ra = ra - ra.mean()
    rb = rb - rb.mean()
    return float(np.add.reduce(ra * rb) / np.sqrt(np.add.reduce(ra * ra) * np.add.reduce(rb * rb)))


def _ratio_error(expected: float, actual: float) -> float | None:
    return None if actual == 0 else float((expected - actual) / actual)


def score(model, gg, cal: CustomerSummary, config, *, draws: int, seed: int) -> dict:
    """Predictions for (cal.cut, cal.end] against what the customers did; see the module docstring."""
    x, t_x, T = cal.weeks
    d = cal.model_data()
    h = (cal.end - cal.cut) / 7.0
    weeks = len(cal.after_weekly)
    edges = np.minimum(np.arange(1, weeks + 1) * 7.0, cal.end - cal.cut) / 7.0
    cumulative = []
    for expected in model.expected_purchases_path(edges, d):
        cumulative.append(float(expected.sum()))
    tracking_expected = np.diff(np.r_[0.0, cumulative])
    actual = cal.after_purchases.astype(np.float64)
    spend_per = gg.expected_spend(cal.x, cal.monetary)
    exp_spend = expected * spend_per
    bucket = np.minimum(cal.x, CE_BUCKETS - 1)
    table = []
    for b in range(CE_BUCKETS):
        sel = bucket == b
        if sel.any():
            table.append(
                {
                    "repeat_purchases": f"{b}+" if b == CE_BUCKETS - 1 else str(b),
                    "customers": int(sel.sum()),
                    "actual": float(actual[sel].mean()),
                    "expected": float(expected[sel].mean()),
                }
            )
    # coverage is an aggregate: a seeded sample of customers measures it as well as all of them (SE ~0.004
    # at 10,000) at a fraction of the simulation cost
    rows = np.arange(len(cal))
    if len(rows) > config.score_sample_size:
        rows = np.sort(np.random.default_rng(seed).choice(rows, config.score_sample_size, replace=False))
    ranges = simulate_spend(
        model,
        gg,
        x[rows],
        t_x[rows],
        T[rows],
        cal.x[rows],
        cal.monetary[rows],
        h,
        0.0,
        range_draws=draws,
        parameter_draws=max(1, min(config.parameter_draws, draws // 2)),
        level=config.range_level,
        seed=seed,
        truth=cal.after_spend[rows],
    )
    p_active = model.p_alive(d)
    return {
        "model": model.name,
        "label": model.label,
        "params": model.params(),
        "standard_errors": model.standard_errors(),
        "loglik": model.loglik_,
        "converged": model.converged_,
        "customers": len(cal),
        "holdout_weeks": round(h, 2),
        "mae": float(np.mean(np.abs(expected - actual))),
        "relative_mae": float(np.abs(expected - actual).sum() / actual.sum()) if actual.sum() else None,
        "purchases_expected": float(expected.sum()),
        "purchases_actual": int(actual.sum()),
        "purchases_error": _ratio_error(float(expected.sum()), float(actual.sum())),
        "spend_expected": float(exp_spend.sum()),
        "spend_actual": float(cal.after_spend.sum()),
        "spend_error": _ratio_error(float(exp_spend.sum()), float(cal.after_spend.sum())),
        "tracking": {
            "week_start": [day_to_date(cal.cut + 1 + 7 * k).isoformat() for k in range(weeks)],
            "expected": [float(v) for v in tracking_expected],
            "actual": [int(v) for v in cal.after_weekly],
        },
        "conditional_expectation": table,
        "ranges": {"level": config.range_level, "draws": draws, "customers": len(rows), **ranges.scores()},
        "direction_check": direction_check(p_active, cal.x, cal.t_x_days, cal.T_days),
    }


def choose(scores: dict[str, dict]) -> tuple[str | None, str]:
    usable = {
        k: s
        for k, s in scores.items()
        if "error" not in s and s["converged"] and s["direction_check"]["ok"] is not False
    }
    if not usable:
        return None, "no model converged with P(active) falling with time since the last purchase"
    best_mae = min(s["mae"] for s in usable.values())
    close = [k for k, s in usable.items() if s["mae"] <= best_mae * 1.01]
    pick = min(close, key=lambda k: abs(usable[k]["purchases_error"] or 0.0))
    others = [k for k in usable if k != pick]
    why = f"lowest per-customer error of held-out purchases (MAE {usable[pick]['mae']:.3f})"
    if len(close) > 1:
        why = (
            f"per-customer errors within 1 % of the best ({', '.join(close)}); smallest error of total purchases "
            f"({usable[pick]['purchases_error']:+.1%})"
        )
    excluded = [k for k in scores if k not in usable]
    if excluded:
        why += "; not eligible: " + ", ".join(excluded)
    elif not others:
        why += " (the only model tried)"
    return pick, why


def accuracy_sentence(s: dict, *, after: str | None = None) -> str:
    """The holdout result in plain words; ``after``: the calibration end, for the comparison after it."""
    weeks = s["holdout_weeks"]
    period = f"In the {weeks:.0f} weeks after {after}" if after else f"Over your last {weeks:.0f} weeks"
    return (
        f"{period} the model expected {s['purchases_expected']:,.0f} purchases from the customers it knew; "
        f"they made {s['purchases_actual']:,}."
    )
