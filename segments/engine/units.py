"""Units of the behaviour columns: the ONE vocabulary (days, weeks, months, years, or a date), the conversion to
days every derived figure uses, and the inference of a column's unit with its evidence.

A recency or tenure column is a duration in some unit, or a date (then it is "days before the reference date").
The unit is read from the column's name (`tenure_days`, `tenure_m`, `months_active`), its values (a tenure up to
2,000 cannot be months) and its consistency with the money columns (a tenure of 0-72 next to a monthly charge whose
product with it matches a total charge counts months). When nothing says, the unit is "unknown": the column still
describes customers, but no figure that needs a duration (run-rates, LTV horizons, "joined in the last 90 days",
lifecycle stages) is derived from it until a person states the unit.

A recurring charge (a money column per billing period: `monthly_charges`, `mrr`, `weekly_fee`) is found the same
way; with it a table is subscription-shaped and gets a subscription LTV (see predictive.ltv_target).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass

from .errors import EngineError

DURATION_UNITS = ("days", "weeks", "months", "years")
DATE = "date"
UNKNOWN = "unknown"
UNITS = (*DURATION_UNITS, DATE)  # what a person may state
DAYS_PER_UNIT = {"days": 1.0, "weeks": 7.0, "months": 30.4375, "years": 365.25}
DAYS_PER_MONTH = DAYS_PER_UNIT["months"]
# behaviour column key -> the config key of its unit (frequency is a count: no unit)
UNIT_KEYS = {"recency_col": "recency_unit", "tenure_col": "tenure_unit"}
UNIT_LABELS = {
    "days": "Days",
    "weeks": "Weeks",
    "months": "Months",
    "years": "Years",
    DATE: "A date",
    UNKNOWN: "Unknown (not stated)",
}

_TOKENS = {
    "days": {"day", "days", "d", "dias", "tage", "jours"},
    "weeks": {"week", "weeks", "wk", "wks", "w"},
    "months": {"month", "months", "mo", "mos", "mon", "mth", "mths", "m"},
    "years": {"year", "years", "yr", "yrs", "y"},
}
_PERIOD_TOKENS = {  # a money column billed per period
    "months": {"monthly", "mrr", "permonth", "pm"},
    "weeks": {"weekly", "perweek"},
    "years": {"annual", "annually", "yearly", "arr", "peryear"},
}
MAX_MONTHS = 1_200  # 100 years: a tenure above this many is not months (nor weeks, nor years)
CONSISTENT_SHARE = 0.6  # share of customers whose total matches tenure x charge within CONSISTENT_TOLERANCE
CONSISTENT_TOLERANCE = 0.15


# A recurring charge a person declares (dataset roles, analysis config, CLI --charge-col/--charge-period): the column
# and the period it is charged per. A declared charge gets a subscription LTV like a charge named per period.
CHARGE_KEYS = ("charge_col", "charge_period")
CHARGE_PERIODS = ("weeks", "months", "years")
CHARGE_PERIOD_LABELS = {"weeks": "Per week", "months": "Per month", "years": "Per year"}


def check_period(value, field: str = "charge_period") -> str | None:
    """A stated billing period ("month", "months", "monthly" ...) -> "weeks" | "months" | "years", None for none,
    or an EngineError naming the field."""
    if value in (None, ""):
        return None
    text = str(value).strip().lower()
    aliases = {
        "week": "weeks", "weekly": "weeks", "month": "months", "monthly": "months",
        "year": "years", "yearly": "years", "annual": "years", "annually": "years",
    }  # fmt: skip
    period = aliases.get(text, text)
    if period not in CHARGE_PERIODS:
        raise EngineError(
            f"{value!r} is not a billing period; use one of {', '.join(CHARGE_PERIODS)} (what the recurring charge is "
            "charged per).",
            field=field,
        )
    return period


def check_unit(value, field: str) -> str | None:
    """A stated unit (None or "" for "infer it") -> the unit, or an EngineError naming the field."""
    if value in (None, "", "auto"):
        return None
    if value not in UNITS:
        raise EngineError(
            f"{value!r} is not a unit; use one of {', '.join(UNITS)} (or leave it empty to infer it).", field=field
        )
    return value


def to_days(values, unit: str):
    """A duration column's values in its unit -> days (the unit every derived figure works in)."""
    import numpy as np

    if unit not in DAYS_PER_UNIT:
        raise EngineError(f"cannot convert a duration in {unit!r} to days")
    return np.asarray(values, dtype=float) * DAYS_PER_UNIT[unit]


def tokens(name: str) -> list[str]:
    """`MonthlyCharges` -> ["monthly", "charges"]; `tenure_m` -> ["tenure", "m"]."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", str(name))
    return [t for t in re.split(r"[^A-Za-z0-9]+", spaced.lower()) if t]


def unit_from_name(name: str) -> str | None:
    found = [unit for unit, words in _TOKENS.items() for t in tokens(name) if t in words]
    return found[0] if len(set(found)) == 1 else None


def period_from_name(name: str) -> str | None:
    """The billing period a money column's name states (`monthly_charges` -> "months"), or None."""
    toks = tokens(name)
    joined = {"".join(toks[i : i + 2]) for i in range(len(toks))}
    found = {unit for unit, words in _PERIOD_TOKENS.items() if words & (set(toks) | joined)}
    return found.pop() if len(found) == 1 else None


@dataclass
class UnitGuess:
    unit: str  # one of UNITS, or UNKNOWN
    source: str  # "stated", "date", "name", "values", "consistency", "none"
    evidence: str

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class RecurringCharge:
    column: str
    period: str  # one of DURATION_UNITS
    evidence: str
    total_column: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def _numbers(df, col: str):
    from .coerce import coerce_numeric

    return coerce_numeric(df[col])[0]


def _consistency(df, tenure_col: str, money_cols: list[str]) -> tuple[str, str, float] | None:
    """(charge column, total column, share) when total ≈ tenure x charge for most customers."""
    import numpy as np

    tenure = _numbers(df, tenure_col)
    values = {c: _numbers(df, c) for c in money_cols}
    best = None
    for charge in money_cols:
        for total in money_cols:
            if charge == total:
                continue
            a, b = values[charge], values[total]
            ok = np.isfinite(tenure) & np.isfinite(a) & np.isfinite(b) & (tenure > 0) & (a > 0) & (b > 0)
            if ok.sum() < 20:
                continue
            ratio = b[ok] / (a[ok] * tenure[ok])
            share = float(np.mean(np.abs(ratio - 1) <= CONSISTENT_TOLERANCE))
            if share >= CONSISTENT_SHARE and (best is None or share > best[2]):
                best = (charge, total, share)
    return best


def infer_units(
    df,
    roles: Mapping[str, str],
    behaviour: Mapping[str, str | None],
    stated: Mapping[str, str | None] | None = None,
) -> tuple[dict[str, UnitGuess], RecurringCharge | None]:
    """({"recency_unit": UnitGuess, "tenure_unit": UnitGuess} for the behaviour columns present, the recurring
    charge or None). `stated` units (the config's or a person's) win over inference, and so does a stated recurring
    charge (`charge_col` with its `charge_period`); `df` may be a sample."""
    stated = stated or {}
    money = [c for c, r in roles.items() if r == "monetary" and c in df.columns]
    guesses: dict[str, UnitGuess] = {}
    tenure_col = behaviour.get("tenure_col")
    consistent = None
    if tenure_col and roles.get(tenure_col) != "date" and len(money) >= 2:
        consistent = _consistency(df, tenure_col, money)
    for key, unit_key in UNIT_KEYS.items():
        col = behaviour.get(key)
        if not col:
            continue
        if roles.get(col) == "date":
            guesses[unit_key] = UnitGuess(DATE, "date", f"{col!r} holds dates: days before the reference date")
            if stated.get(unit_key) not in (None, DATE):
                raise EngineError(
                    f"{col!r} holds dates, so its unit cannot be {stated[unit_key]!r}; choose another column or "
                    "leave the unit empty.",
                    field=unit_key,
                )
            continue
        if stated.get(unit_key):
            if stated[unit_key] == DATE:
                raise EngineError(
                    f"{col!r} holds numbers, not dates: state its unit (days, weeks, months or years).", field=unit_key
                )
            guesses[unit_key] = UnitGuess(stated[unit_key], "stated", f"stated for {col!r}")
            continue
        guesses[unit_key] = _guess_duration(df, col, key == "tenure_col" and consistent)
    charge_col = stated.get("charge_col")
    if charge_col:
        period = check_period(stated.get("charge_period"))
        if period is None:
            raise EngineError(
                f"Say what {charge_col!r} is charged per (week, month or year) to use it as a recurring charge.",
                field="charge_period",
            )
        if charge_col not in df.columns:
            raise EngineError(f"The recurring charge column {charge_col!r} is not in the data.", field="charge_col")
        return guesses, RecurringCharge(charge_col, period, f"stated: {charge_col!r} is charged per {period[:-1]}")
    recurring = _recurring(money, consistent, guesses.get("tenure_unit"))
    return guesses, recurring


def _guess_duration(df, col: str, consistent) -> UnitGuess:
    import numpy as np

    named = unit_from_name(col)
    if named:
        return UnitGuess(named, "name", f"the name {col!r} says {named}")
    values = _numbers(df, col)
    finite = values[np.isfinite(values)]
    if consistent:
        charge, total, share = consistent
        period = period_from_name(charge)
        if period:
            return UnitGuess(
                period,
                "consistency",
                f"{total!r} ≈ {col!r} × {charge!r} for {share:.0%} of customers, and {charge!r} is charged per "
                f"{period[:-1]}: {col!r} counts {period}",
            )
        return UnitGuess(
            UNKNOWN,
            "consistency",
            f"{total!r} ≈ {col!r} × {charge!r} for {share:.0%} of customers, so {col!r} counts {charge!r}'s billing "
            "periods, whose length nothing states: please state it",
        )
    if finite.size and finite.max() > MAX_MONTHS:
        return UnitGuess(
            "days",
            "values",
            f"values of {col!r} reach {finite.max():,.0f}: as months that would be over {MAX_MONTHS // 12} years, so "
            "they are days",
        )
    span = f"values {finite.min():,.0f}–{finite.max():,.0f}" if finite.size else "no values"
    return UnitGuess(
        UNKNOWN,
        "none",
        f"neither the name {col!r} nor its {span} say whether it counts days, weeks, months or years: please state it",
    )


def _recurring(money: list[str], consistent, tenure: UnitGuess | None) -> RecurringCharge | None:
    if consistent:
        charge, total, share = consistent
        period = period_from_name(charge) or (tenure.unit if tenure and tenure.unit in DURATION_UNITS else None)
        if period:
            return RecurringCharge(
                charge, period, f"{total!r} ≈ tenure × {charge!r} for {share:.0%} of customers", total_column=total
            )
    for col in money:
        period = period_from_name(col)
        if period:
            return RecurringCharge(col, period, f"the name {col!r} says it is charged per {period[:-1]}")
    return None


def units_summary(guesses: Mapping[str, UnitGuess], recurring: RecurringCharge | None) -> dict:
    """The JSON a dataset's profile and an analysis' metrics carry."""
    out = {key: g.to_dict() for key, g in guesses.items()}
    out["recurring_charge"] = recurring.to_dict() if recurring else None
    return out
