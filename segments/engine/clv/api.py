"""``fit_clv``: an order log in, per-customer lifetime value with ranges and the holdout evidence out."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import EngineError
from .config import CLVConfig
from .holdout import Reason, accuracy_sentence, choose, direction_check, eligibility, holdout_days, score
from .models import PURCHASE_MODELS, GammaGamma
from .orders import OrderLog, day_to_date, read_orders, to_day
from .scoring import _values
from .transactions import CustomerSummary, summarize

CUSTOMER_COLUMNS = [
    "customer_id",
    "frequency",
    "recency",
    "T",
    "monetary",
    "p_active",
    "expected_purchases",
    "clv",
    "clv_low",
    "clv_high",
]
UNITS = {
    "frequency": "repeat purchase days (purchase days after the first)",
    "recency": "days from the first to the last purchase day",
    "T": "days from the first purchase to the end of the fitting period",
    "monetary": "mean net spend of the repeat purchase days (empty for one-time buyers)",
    "p_active": "probability that the customer is still active at the end of the fitting period",
    "expected_purchases": "expected purchase days over the horizon",
    "clv": "expected spend over the horizon, discounted to the end of the fitting period",
    "clv_low": "10th percentile of the customer's discounted spend over the horizon (parameter uncertainty included)",
    "clv_high": "90th percentile of the same",
}
HOLDOUT_DRAWS = 20  # simulated futures per customer when scoring ranges on the holdout (coverage is aggregate)


@dataclass
class CLVResult:
    """``eligible`` False -> ``reasons`` say what is missing and what to do; ``customers`` then holds the
    per-customer history only. Otherwise ``customers`` has CUSTOMER_COLUMNS (plus first/last purchase and
    total spend) and ``metrics`` the holdout scores per model, the chosen model and its parameters."""

    eligible: bool
    reasons: list[dict]
    customers: pd.DataFrame
    metrics: dict
    purchase_model: object | None = None
    spend_model: GammaGamma | None = None
    timings: dict = field(default_factory=dict)
    config: CLVConfig | None = None

    def scorer(self):
        """What scoring a new customer's history needs (``scoring.CLVScorer``): kept in the analysis's model."""
        from .scoring import CLVScorer

        return CLVScorer.from_result(self, self.config or CLVConfig())


class _Clock:
    """Wall and CPU seconds per stage (the machine may be shared: CPU time is what an idle box would take)."""

    def __init__(self, wall: dict, cpu: dict):
        self.wall, self.cpu = wall, cpu
        self.start_wall = self.last_wall = time.perf_counter()
        self.start_cpu = self.last_cpu = time.process_time()

    def lap(self, name: str) -> None:
        now_wall, now_cpu = time.perf_counter(), time.process_time()
        self.wall[name] = now_wall - self.last_wall
        self.cpu[name] = now_cpu - self.last_cpu
        self.last_wall, self.last_cpu = now_wall, now_cpu

    def total(self) -> None:
        self.wall["total"] = time.perf_counter() - self.start_wall
        self.cpu["total"] = time.process_time() - self.start_cpu


def _fit_purchase_model(name: str, s: CustomerSummary, config: CLVConfig, rng):
    x, t_x, T = s.weeks
    n = len(s)
    sampled = n > config.fit_sample_size
    if sampled:
        idx = np.sort(rng.choice(n, config.fit_sample_size, replace=False))
        x, t_x, T = x[idx], t_x[idx], T[idx]
    model = PURCHASE_MODELS[name]().fit(x, t_x, T)
    model.sampled_ = sampled
    return model


def _fit_spend_model(s: CustomerSummary, config: CLVConfig, rng) -> GammaGamma:
    use = np.flatnonzero((s.x > 0) & (s.monetary > 0))
    if len(use) < 10:
        raise EngineError(
            f"only {len(use)} customers have a positive mean repeat spend: the spend model needs at least 10"
        )
    if len(use) > config.fit_sample_size:
        use = np.sort(rng.choice(use, config.fit_sample_size, replace=False))
    return GammaGamma().fit(s.x[use].astype(np.float64), s.monetary[use])


def _model_info(model, n_customers: int) -> dict:
    return {
        "name": model.name,
        "label": model.label,
        "params": model.params(),
        "standard_errors": model.standard_errors(),
        "loglik": model.loglik_,
        "converged": model.converged_,
        "fitted_customers": model.n_fitted_,
        "customers": n_customers,
        "fitted_on_sample": bool(getattr(model, "sampled_", False)),
        "covariance_problem": model.cov_problem_,
    }


def _history_frame(s: CustomerSummary) -> pd.DataFrame:
    frame = s.to_frame()
    return frame[
        ["customer_id", "frequency", "recency", "T", "monetary", "first_purchase", "last_purchase", "total_spend"]
    ]


def fit_clv(
    source,
    config: CLVConfig | None = None,
    *,
    progress: Callable[[str, float], None] | None = None,
    encoding: str = "utf8",
) -> CLVResult:
    """Order log (path to CSV/CSV.gz/Parquet, seekable CSV stream, DataFrame, or an ``OrderLog``) -> CLVResult.

    Periods: the fitting period ends at ``config.calibration_end`` when given (later orders are only used to
    compare the predictions with what happened), else at the end of the log. The holdout is the last part of
    the fitting period (holdout.py). The horizon is ``config.horizon_days``, by default 365 days, or, with a
    calibration end, the rest of the log after it."""
    config = config or CLVConfig()
    report_progress = progress or (lambda stage, pct: None)
    timings: dict[str, float] = {}
    cpu: dict[str, float] = {}
    clock = _Clock(timings, cpu)
    report_progress("Reading orders", 0)
    log = source if isinstance(source, OrderLog) else read_orders(source, config, encoding=encoding)
    clock.lap("read")
    first, end = log.first_day, log.observation_end
    if config.calibration_end is not None:
        fit_end = to_day(config.calibration_end)
        if fit_end <= first or fit_end >= end:
            raise EngineError(
                f"calibration end {config.calibration_end.isoformat()} must fall inside the log "
                f"({day_to_date(first)} to {day_to_date(end)})"
            )
    else:
        fit_end = end
    if config.horizon_days is not None:
        horizon_days = config.horizon_days
    elif config.calibration_end is not None:
        horizon_days = end - fit_end
    else:
        horizon_days = CLVConfig.DEFAULT_HORIZON_DAYS
    hold = holdout_days(fit_end - first, config.holdout_share, config.min_holdout_days)
    cut = fit_end - hold
    report_progress("Summarising customers", 10)
    after_end = min(end, fit_end + horizon_days) if config.calibration_end is not None else fit_end
    full = summarize(log, fit_end, after_end)
    cal = summarize(log, cut, fit_end) if cut > first else None
    clock.lap("summarize")
    periods = {
        "first_order": day_to_date(first).isoformat(),
        "observation_end": day_to_date(end).isoformat(),
        "fitting_period_end": day_to_date(fit_end).isoformat(),
        "calibration_end": config.calibration_end.isoformat() if config.calibration_end else None,
        "holdout_start": day_to_date(cut + 1).isoformat(),
        "holdout_days": hold,
        "holdout_rule": f"the last {config.holdout_share:.0%} of the fitting period, at least "
        f"{config.min_holdout_days} days",
        "horizon_days": horizon_days,
        "horizon_start": day_to_date(fit_end + 1).isoformat(),
    }
    metrics: dict = {
        "ingest": log.report.to_dict(),
        "periods": periods,
        "units": UNITS,
        "discount_rate": config.discount_rate,
        "config": config.to_dict(),
        "summary": {"customers": len(full), "repeat_customers": int((full.x > 0).sum()), **full.stats},
        "purchase_cycle_days": full.purchase_cycle_days(),
        "warnings": list(log.report.warnings),
    }
    reasons = eligibility(cal, full, first, cut, config)
    if reasons:
        metrics.update(eligible=False, reasons=[r.to_dict() for r in reasons])
        report_progress("Done", 100)
        clock.total()
        metrics["timings"] = timings
        metrics["cpu_seconds"] = cpu
        return CLVResult(False, metrics["reasons"], _history_frame(full), metrics, timings=timings, config=config)

    rng = np.random.default_rng(config.random_state)
    scores: dict[str, dict] = {}
    gg_cal = _fit_spend_model(cal, config, rng)
    for i, name in enumerate(config.models):
        report_progress(f"Holdout: {PURCHASE_MODELS[name].label}", 15 + 50 * i / len(config.models))
        try:
            model = _fit_purchase_model(name, cal, config, rng)
            scores[name] = score(model, gg_cal, cal, config, draws=HOLDOUT_DRAWS, seed=config.random_state + i)
        except (ValueError, FloatingPointError, np.linalg.LinAlgError) as exc:
            scores[name] = {"model": name, "label": PURCHASE_MODELS[name].label, "error": str(exc)}
    clock.lap("holdout")
    chosen, why = choose(scores)
    metrics["holdout"] = {
        "customers": len(cal),
        "new_customers_after_cut": cal.stats["customers_new_after_cut"],
        "models": scores,
        "spend_model": _model_info(gg_cal, len(cal)),
        "chosen": chosen,
        "chosen_because": why,
        "accuracy_sentence": accuracy_sentence(scores[chosen]) if chosen else None,
    }
    if chosen is None:
        reason = Reason(
            "no_model_fits",
            "None of the purchase models fitted this log with a probability of being active that falls with "
            "time since the last purchase: " + why + ".",
            "Check that the customer, date and amount columns are the right ones; a longer history usually helps.",
        )
        metrics.update(eligible=False, reasons=[reason.to_dict()])
        clock.total()
        metrics["timings"] = timings
        metrics["cpu_seconds"] = cpu
        return CLVResult(False, metrics["reasons"], _history_frame(full), metrics, timings=timings, config=config)

    report_progress("Refitting on the whole log", 70)
    model = _fit_purchase_model(chosen, full, config, rng)
    gg = _fit_spend_model(full, config, rng)
    clock.lap("refit")
    report_progress("Predicting and ranges", 80)
    x, t_x, T = full.weeks
    values = _values(model, gg, x, t_x, T, full.x, full.monetary, full.model_data(), horizon_days, config)
    p_active, expected, spend_per, ranges = (
        values["p_active"],
        values["expected_purchases"],
        values["expected_spend_per_purchase"],
        values["_ranges"],
    )
    clock.lap("predict_and_ranges")
    customers = pd.DataFrame(
        {
            "customer_id": full.customer_ids,
            "frequency": full.x,
            "recency": full.t_x_days,
            "T": full.T_days,
            "monetary": full.monetary,
            "p_active": p_active,
            "expected_purchases": expected,
            "clv": values["clv"],
            "clv_low": ranges.low,
            "clv_high": ranges.high,
            "expected_spend_per_purchase": spend_per,
            "first_purchase": full.first_day.astype("datetime64[D]"),
            "last_purchase": full.last_day.astype("datetime64[D]"),
            "total_spend": full.total_spend,
        }
    )
    metrics.update(
        eligible=True,
        reasons=[],
        model=_model_info(model, len(full)),
        spend_model=_model_info(gg, len(full)),
        direction_check=direction_check(p_active, full.x, full.t_x_days, full.T_days),
        ranges={
            "level": config.range_level,
            "draws": ranges.draws,
            "parameter_draws": config.parameter_draws,
            "simulated_share": ranges.simulated_share,
            "parameter_uncertainty": ranges.parameter_uncertainty,
            "note": ranges.note,
        },
        totals={
            "expected_purchases": float(expected.sum()),
            "clv": float(customers["clv"].sum()),
            "mean_p_active": float(p_active.mean()),
        },
    )
    if chosen == "bg_nbd":
        metrics["warnings"].append(
            "BG/NBD counts customers who never bought again as certainly active (p_active = 1): read their "
            "p_active as 'no evidence of leaving yet'."
        )
    if config.calibration_end is not None and after_end > fit_end:
        report_progress("Comparing with what happened after the calibration end", 95)
        evaluation = score(model, gg, full, config, draws=HOLDOUT_DRAWS, seed=config.random_state + 99)
        evaluation["accuracy_sentence"] = accuracy_sentence(evaluation, after=config.calibration_end.isoformat())
        metrics["after_calibration_end"] = evaluation
        clock.lap("after_calibration_end")
    clock.total()
    metrics["timings"] = timings
    metrics["cpu_seconds"] = cpu
    report_progress("Done", 100)
    return CLVResult(True, [], customers, metrics, model, gg, timings, config)
