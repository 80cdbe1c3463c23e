"""Column role inference: cheap, sample-based, overridable by the config.

Roles: numeric, monetary (numeric money), categorical, date, text, identifier,
ignore (constant or all missing), churn_label. Behavioural roles (recency,
frequency, tenure) are inferred separately by ``infer_behaviour_roles``.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from .coerce import date_parse_share, has_currency, is_missing_token, numeric_parse_share
from .config import AUTO, BEHAVIOUR_KEYS, BEHAVIOUR_UNIT_KEYS, AnalysisConfig, roles_from_config
from .errors import EngineError
from .units import CHARGE_KEYS, RecurringCharge, UnitGuess, infer_units

SAMPLE_ROWS = 5_000

_ID_NAME = re.compile(r"(^id$|_id$|^id_|uuid|guid|customer_?(no|number|key)$|^account_?(no|number)$)", re.I)
_MONEY_NAME = re.compile(
    r"spend|revenue|amount|price|sales|monetary|ltv|value|aov|income|paid|purchase_total|"
    r"total|cost|profit|basket|charge|fee|billing|mrr|umsatz|betrag|preis|kosten|chiffre|montant|importe|"
    r"[€$£¥]|\b(eur|usd|gbp|chf|jpy)\b",
    re.I,
)
# Counts and durations whose names carry a money word ("total_day_minutes", "total_orders"): not money.
_NOT_MONEY_NAME = re.compile(
    r"minute|mins?\b|_min_|calls?\b|calls_|count|messages|msgs|number|\bnum_|_num\b|qty|quantity|sessions|"
    r"visits|orders|tickets|clicks|logins|days|weeks|months|years|tenure|length|age\b",
    re.I,
)
_CHURN_NAME = re.compile(r"churn|attrit|cancel+ed|is_lost|lapsed", re.I)
_TRUE_LABEL = re.compile(r"^(true_)?segment(_label)?$|^true_", re.I)
_RECENCY_NUM = [
    re.compile(p, re.I)
    for p in (
        r"(days|weeks)_?since_?last_?(purchase|order|transaction)",
        r"recency",
        r"(days|weeks)_?since_?last",
        r"last_?(purchase|order)_?days",
    )
]
_RECENCY_DATE = [
    re.compile(p, re.I) for p in (r"last_?(purchase|order|transaction)", r"last_?(visit|activity|active|seen|login)")
]
_FREQ = [
    re.compile(p, re.I)
    for p in (
        r"^(n_|num_|number_of_|total_)?(orders|purchases|transactions)(_count)?$",
        r"frequency",
        r"(order|purchase|transaction)s?_?count",
    )
]
_TENURE_NUM = [
    re.compile(p, re.I)
    for p in (
        r"tenure",
        r"(days|weeks|months)_?since_?(signup|sign_up|first|registration|join)",
        r"(customer|account)_?(age|length)",
        r"length_?of_?(service|account|relationship|membership)",
        r"months?_?(as_?customer|active|subscribed)",
    )
]
_TENURE_DATE = [
    re.compile(p, re.I) for p in (r"signup|sign_up|registration|registered|joined|first_?(purchase|order)|created",)
]


def _sample(df: pd.DataFrame, n: int = SAMPLE_ROWS) -> pd.DataFrame:
    if len(df) <= n:
        return df
    rng = np.random.default_rng(0)
    return df.iloc[np.sort(rng.choice(len(df), n, replace=False))]


def _is_money_name(name: str) -> bool:
    return bool(_MONEY_NAME.search(name)) and not _NOT_MONEY_NAME.search(name)


def _infer_one(name: str, s: pd.Series, n_total: int) -> str:
    non_missing = (
        s[~s.map(is_missing_token).astype(bool)]
        if s.dtype == object or pd.api.types.is_string_dtype(s.dtype)
        else s.dropna()
    )
    if len(non_missing) == 0:
        return "ignore"
    n_unique = non_missing.nunique()
    if n_unique <= 1:
        return "ignore"
    unique_share = n_unique / len(non_missing)
    if _CHURN_NAME.search(name) and n_unique == 2:
        return "churn_label"
    if pd.api.types.is_bool_dtype(s.dtype):
        return "categorical"
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        return "date"
    if pd.api.types.is_numeric_dtype(s.dtype):
        if _ID_NAME.search(name) and unique_share > 0.95:
            return "identifier"
        if _TRUE_LABEL.search(name):
            return "ignore"
        return "monetary" if _is_money_name(name) else "numeric"
    # strings / objects
    values = non_missing.astype(str)
    if numeric_parse_share(non_missing) >= 0.95:
        if _ID_NAME.search(name) and unique_share > 0.95:
            return "identifier"
        return "monetary" if (_is_money_name(name) or has_currency(values.head(200).tolist())) else "numeric"
    if date_parse_share(non_missing) >= 0.9:
        return "date"
    words = values.str.count(" ") + 1
    if unique_share > 0.95 and len(non_missing) >= 20 and words.mean() < 2.5:
        return "identifier"
    if _ID_NAME.search(name) and unique_share > 0.9:
        return "identifier"
    if words.mean() >= 3 or (values.str.len().mean() > 40):
        return "text"
    return "categorical"


def infer_roles(df: pd.DataFrame, config: AnalysisConfig | None = None) -> dict[str, str]:
    """Column -> role, inferred from a sample of rows, with the config's explicit roles winning."""
    config = config or AnalysisConfig()
    for col in config.declared_columns():
        if col not in df.columns:
            raise EngineError(f"column {col!r} named in the configuration is not in the data")
    sample = _sample(df)
    roles: dict[str, str] = {}
    for col in df.columns:
        roles[str(col)] = _infer_one(str(col), sample[col], len(df))
    explicit = {c: r for c, r in roles_from_config(config.to_dict(), ()).items() if r != AUTO}
    roles.update(explicit)
    return roles


def _match(patterns, candidates: list[str]) -> str | None:
    for pat in patterns:
        for col in candidates:
            if pat.search(col):
                return col
    return None


def infer_behaviour_roles(
    df: pd.DataFrame, roles: dict[str, str] | None = None, config: AnalysisConfig | None = None
) -> dict[str, str | None]:
    """{key: column or None} for each of BEHAVIOUR_KEYS (recency, frequency, tenure): from the config when given,
    else from column names (numeric columns such as days_since_last_purchase / orders / tenure_days, or date
    columns such as last_purchase_date / signup_date, which become days before the reference date)."""
    config = config or AnalysisConfig()
    roles = roles if roles is not None else infer_roles(df, config)
    numeric = [c for c, r in roles.items() if r in ("numeric", "monetary")]
    dates = [c for c, r in roles.items() if r == "date"]
    by_name = {  # the column names each behaviour role is recognised by, in order of preference
        "recency_col": lambda: (
            _match(_RECENCY_NUM[:1], numeric)
            or _match(_RECENCY_DATE[:1], dates)
            or _match(_RECENCY_NUM[1:], numeric)
            or _match(_RECENCY_DATE[1:], dates)
        ),
        "frequency_col": lambda: _match(_FREQ, [c for c in numeric if roles[c] == "numeric"]),
        "tenure_col": lambda: _match(_TENURE_NUM, numeric) or _match(_TENURE_DATE, dates),
    }
    out: dict[str, str | None] = {key: getattr(config, key) or by_name[key]() for key in BEHAVIOUR_KEYS}
    for key, col in out.items():
        if col is not None and col not in df.columns:
            raise EngineError(f"column {col!r} given as {key.removesuffix('_col')} is not in the data")
    return out


def behaviour_units(
    df: pd.DataFrame, roles: dict[str, str], behaviour: dict[str, str | None], config: AnalysisConfig | None = None
) -> tuple[dict[str, UnitGuess], RecurringCharge | None]:
    """The unit of each duration behaviour column (the config's stated unit, else inferred from a sample of rows
    by units.infer_units) and the recurring charge, if the table has one."""
    config = config or AnalysisConfig()
    stated = {key: getattr(config, key) for key in (*BEHAVIOUR_UNIT_KEYS, *CHARGE_KEYS)}
    return infer_units(_sample(df), roles, behaviour, stated)


def pick_id_column(df: pd.DataFrame, roles: dict[str, str], config: AnalysisConfig) -> str | None:
    if config.id_col:
        return config.id_col
    ids = [c for c, r in roles.items() if r == "identifier"]
    for col in ids:
        if df[col].is_unique:
            return col
    return None
