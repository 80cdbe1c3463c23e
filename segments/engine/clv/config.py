"""CLVConfig: every option of one lifetime-value run, as a plain dataclass."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date
from typing import Any

from ..errors import EngineError

MODEL_NAMES = ("pareto_nbd", "bg_nbd", "mbg_nbd")


def _as_date(value, name: str) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip()[:10])
    except ValueError:
        raise EngineError(f"config {name!r}: expected a date as YYYY-MM-DD, got {value!r}") from None


@dataclass
class CLVConfig:
    # Columns of the order log
    customer_col: str = "customer_id"
    date_col: str = "order_date"
    amount_col: str = "amount"
    order_id_col: str | None = None
    # Periods
    calibration_end: date | None = None  # use orders up to this date; predict from it (to compare with the rest)
    observation_end: date | None = None  # the extract's date; later orders are future-dated (default: today, UTC)
    holdout_share: float = 0.25  # share of the log's time span held out to choose and score the models...
    min_holdout_days: int = 56  # ...but at least 8 weeks
    horizon_days: int | None = None  # None: 365 days, or to the end of the log after calibration_end
    discount_rate: float = 0.10  # per year, applied to each purchase at its time (continuous compounding)
    # Models
    models: tuple[str, ...] = MODEL_NAMES
    fit_sample_size: int = 100_000  # customers the likelihoods are maximised on (a seeded random sample beyond)
    range_draws: int = 100  # simulated futures per customer for the 80 % ranges...
    max_range_cells: int = 30_000_000  # ...fewer when customers x draws would exceed this (1M customers: ~45)
    parameter_draws: int = 20  # parameter sets drawn from the estimate's covariance (range_draws are split)
    range_level: float = 0.80
    score_sample_size: int = 10_000  # customers whose holdout ranges are simulated to measure coverage
    # Eligibility
    min_repeat_customers: int = 100
    min_cycles: float = 2.0  # the calibration period must span this many median purchase cycles
    random_state: int = 42

    DEFAULT_HORIZON_DAYS = 365

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        for name in ("customer_col", "date_col", "amount_col"):
            if not isinstance(getattr(self, name), str) or not getattr(self, name):
                raise EngineError(f"config {name!r}: a column name is required")
        self.calibration_end = _as_date(self.calibration_end, "calibration_end")
        self.observation_end = _as_date(self.observation_end, "observation_end")
        if not 0 < self.holdout_share < 1:
            raise EngineError(f"config 'holdout_share': must be between 0 and 1, got {self.holdout_share!r}")
        if self.min_holdout_days < 7:
            raise EngineError("config 'min_holdout_days': must be at least 7")
        if self.horizon_days is not None and (not isinstance(self.horizon_days, int) or self.horizon_days < 1):
            raise EngineError(f"config 'horizon_days': must be a whole number of days >= 1, got {self.horizon_days!r}")
        if not 0 <= self.discount_rate < 1:
            raise EngineError(f"config 'discount_rate': a yearly rate between 0 and 1, got {self.discount_rate!r}")
        if isinstance(self.models, str):
            self.models = tuple(m.strip() for m in self.models.split(",") if m.strip())
        self.models = tuple(self.models)
        for m in self.models:
            if m not in MODEL_NAMES:
                raise EngineError(f"config 'models': {m!r} is not one of {', '.join(MODEL_NAMES)}")
        if not self.models:
            raise EngineError("config 'models': name at least one model")
        if self.range_draws < 20 or self.parameter_draws < 1 or self.range_draws % self.parameter_draws:
            raise EngineError("config 'range_draws' must be >= 20 and a multiple of 'parameter_draws'")
        if not 0.5 <= self.range_level < 1:
            raise EngineError("config 'range_level': between 0.5 and 1")
        if self.fit_sample_size < 1_000:
            raise EngineError("config 'fit_sample_size': at least 1,000 customers")

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> CLVConfig:
        data = dict(data or {})
        known = {f.name for f in dataclasses.fields(cls)}
        for key in data:
            if key not in known:
                raise EngineError(f"config: unknown option {key!r}")
        return cls(**data)

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        for k in ("calibration_end", "observation_end"):
            out[k] = out[k].isoformat() if out[k] else None
        out["models"] = list(self.models)
        return out
