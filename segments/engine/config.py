"""AnalysisConfig: every knob of one analysis, as a plain dataclass; and the one mapping between column
roles (what the dataset page and the API speak) and the config's column keys, both ways."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import EngineError
from .units import CHARGE_KEYS, DATE, UNIT_KEYS, check_period, check_unit
from .vocabulary import ALGORITHMS as ALGORITHM_INFO

ALGORITHMS = tuple(ALGORITHM_INFO)

# --- column roles ----------------------------------------------------------------------------------
# The roles a column can have (labels for people: datasets.models.ColumnRole), and "auto": left to inference.
ROLES = ("numeric", "monetary", "categorical", "date", "text", "identifier", "churn_label", "ignore")
AUTO = "auto"
# Roles many columns share, and the config list that holds them.
LIST_KEYS = {
    "numeric": "numeric_cols",
    "monetary": "monetary_cols",
    "categorical": "categorical_cols",
    "date": "date_cols",
    "text": "text_cols",
    "ignore": "ignore_cols",
}
# Roles one column holds in an analysis, and the config key that names it.
SINGLE_KEYS = {"identifier": "id_col", "churn_label": "churn_label_col"}
# Behaviour columns: (config key, label, help). Each is read as a number or a date.
BEHAVIOUR_FIELDS = (
    ("recency_col", "Recency", "Time since the last purchase (in its unit), or the last-purchase date"),
    ("frequency_col", "Frequency", "Number of orders or purchases"),
    ("tenure_col", "Tenure", "Time as a customer (in its unit), or the sign-up date"),
)
BEHAVIOUR_KEYS = tuple(key for key, _, _ in BEHAVIOUR_FIELDS)
BEHAVIOUR_LABELS = {key: label for key, label, _ in BEHAVIOUR_FIELDS}
BEHAVIOUR_ROLES = ("numeric", "monetary", "date")
# The unit of a duration column (units.UNITS; None: inferred), one config key per behaviour key that has one.
BEHAVIOUR_UNIT_KEYS = tuple(UNIT_KEYS.values())
# Everything a "behaviour" mapping may carry (dataset roles, analysis settings, API bodies): columns, then units.
# ... and the recurring charge a person declares: its column and billing period (units.CHARGE_KEYS)
BEHAVIOUR_SETTING_KEYS = (*BEHAVIOUR_KEYS, *BEHAVIOUR_UNIT_KEYS, *CHARGE_KEYS)
# Engagement columns: {column: "more" | "less"} (engagement.DIRECTIONS); None in a config = inferred from names.
ENGAGEMENT_KEY = "engagement_cols"
ENGAGEMENT_DIRECTIONS = {"more": "Higher means more engaged", "less": "Higher (a date: longer ago) means less engaged"}


@dataclass
class AnalysisConfig:
    # Segmentation
    algorithm: str = "kmeans"
    n_clusters: int | None = None  # None -> chosen automatically over k_min..k_max
    k_min: int = 2
    k_max: int = 10
    # Column roles (anything not listed is inferred by infer_roles)
    categorical_cols: list[str] = field(default_factory=list)
    text_cols: list[str] = field(default_factory=list)
    date_cols: list[str] = field(default_factory=list)
    numeric_cols: list[str] = field(default_factory=list)
    id_col: str | None = None
    ignore_cols: list[str] = field(default_factory=list)
    churn_label_col: str | None = None
    monetary_cols: list[str] = field(default_factory=list)
    recency_col: str | None = None
    frequency_col: str | None = None
    tenure_col: str | None = None
    recency_unit: str | None = None  # days, weeks, months, years or date; None: inferred (units.infer_units)
    tenure_unit: str | None = None
    charge_col: str | None = None  # a recurring charge per period (e.g. plan_price); None: found by name/consistency
    charge_period: str | None = None  # what charge_col is charged per: weeks, months or years
    engagement_cols: dict[str, str] | None = None  # {column: "more" | "less"}; None: inferred from names
    # Behaviour
    nlp: bool = True
    random_state: int = 42
    ltv_horizon_months: int = 12
    # False: no LTV estimate of the pipeline's own (an order log's table carries its CLV, fitted on the orders
    # with ranges: that is the analysis's one lifetime value; see segments/engine/clv/product.py)
    predict_ltv: bool = True
    churn_horizon_days: int = 90
    reference_date: str | None = None  # ISO date; default: newest date in the data
    # Encoding thresholds
    label_encode_max_levels: int = 2  # <= this many levels: one integer code
    onehot_max_levels: int = 15  # <= this many: one-hot; above: top levels + "other"
    top_levels: int = 10
    missing_indicator_min_share: float = 0.05  # add "<col>_missing" when this share is missing
    tfidf_components: int = 5
    # Scale: fit on samples, assign every row. None means "all rows" (slow, for comparisons).
    fit_sample_size: int | None = 50_000
    selection_sample_size: int = 20_000  # rows used to compare k (ignored when fit_sample_size is None)
    silhouette_sample_size: int = 6_000
    stability_sample_size: int = 5_000
    importance_sample_size: int = 10_000
    model_sample_size: int = 50_000
    agglomerative_sample_size: int = 5_000
    dbscan_sample_size: int = 5_000  # DBSCAN neighbourhoods can hold n^2 indices when eps is large
    dbscan_eps: float | None = None
    dbscan_min_samples: int | None = None
    max_rows: int = 5_000_000
    n_threads: int | None = None  # None: one thread (robust when workers share the cores); 2 to use both

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        if self.algorithm not in ALGORITHMS:
            raise EngineError(
                f"config 'algorithm': {self.algorithm!r} is not one of {', '.join(ALGORITHMS)}", field="algorithm"
            )
        if self.n_clusters is not None and (
            not isinstance(self.n_clusters, int) or isinstance(self.n_clusters, bool) or self.n_clusters < 2
        ):
            raise EngineError(
                f"config 'n_clusters': must be an integer >= 2, got {self.n_clusters!r}", field="n_clusters"
            )
        if not (isinstance(self.k_min, int) and isinstance(self.k_max, int)) or self.k_min < 2:
            raise EngineError(
                f"The smallest k to try must be a whole number of at least 2, not {self.k_min!r}.", field="k_min"
            )
        if self.k_max < self.k_min:
            raise EngineError(
                f"The range of k must go from a smaller to a larger number: {self.k_min} to {self.k_max} does not.",
                field="k_max",
            )
        for key in BEHAVIOUR_UNIT_KEYS:
            setattr(self, key, check_unit(getattr(self, key), key))
        self.charge_period = check_period(self.charge_period)
        if self.charge_col is not None and not isinstance(self.charge_col, str):
            raise EngineError("config 'charge_col': must be a column name", field="charge_col")
        if self.charge_col and not self.charge_period:
            raise EngineError(
                f"Say what {self.charge_col!r} is charged per (weeks, months or years) to use it as a recurring "
                "charge.",
                field="charge_period",
            )
        if self.dbscan_eps is not None:
            if self.algorithm != "dbscan":
                raise EngineError(
                    "A radius (eps) is a DBSCAN setting: choose DBSCAN, or leave eps empty.", field="dbscan_eps"
                )
            if (
                isinstance(self.dbscan_eps, bool)
                or not isinstance(self.dbscan_eps, int | float)
                or self.dbscan_eps <= 0
            ):
                raise EngineError(
                    f"DBSCAN's eps must be a number above 0, not {self.dbscan_eps!r}.", field="dbscan_eps"
                )
        if self.ltv_horizon_months < 1:
            raise EngineError("config 'ltv_horizon_months': must be at least 1", field="ltv_horizon_months")
        for name in LIST_KEYS.values():
            value = getattr(self, name)
            if isinstance(value, str):
                value = [v.strip() for v in value.split(",") if v.strip()]
                setattr(self, name, value)
            if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
                raise EngineError(f"config {name!r}: must be a list of column names", field=name)
            setattr(self, name, list(value))
        engagement = self.engagement_cols
        valid = isinstance(engagement, dict) and all(
            isinstance(c, str) and d in ENGAGEMENT_DIRECTIONS for c, d in engagement.items()
        )
        if engagement is not None and not valid:
            raise EngineError(
                "config 'engagement_cols': must map column names to a direction "
                f"({' or '.join(repr(d) for d in ENGAGEMENT_DIRECTIONS)})",
                field=ENGAGEMENT_KEY,
            )
        seen: dict[str, str] = {}
        for role, key in (*LIST_KEYS.items(), *SINGLE_KEYS.items()):
            value = getattr(self, key)
            for column in value if isinstance(value, list) else [value] if value else []:
                if column in seen and seen[column] != role:
                    raise EngineError(
                        f"Column {column!r} has two roles ({seen[column].replace('_', ' ')} and "
                        f"{role.replace('_', ' ')}); give it one.",
                        field="roles",
                    )
                seen[column] = role

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> AnalysisConfig:
        data = dict(data or {})
        known = {f.name for f in dataclasses.fields(cls)}
        for key in data:
            if key not in known:
                raise EngineError(f"config: unknown option {key!r}", field=key)
        return cls(**data)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def declared_columns(self) -> list[str]:
        return declared_columns(self.to_dict())


def declared_columns(config: Mapping[str, Any]) -> list[str]:
    """Every column a config names, by any role (behaviour columns included)."""
    cols: list[str] = []
    for key in LIST_KEYS.values():
        cols.extend(config.get(key) or [])
    for key in (*SINGLE_KEYS.values(), *BEHAVIOUR_KEYS, "charge_col"):
        if config.get(key):
            cols.append(config[key])
    cols.extend(config.get(ENGAGEMENT_KEY) or {})
    return cols


def roles_from_config(config: Mapping[str, Any], columns: Iterable[str]) -> dict[str, str]:
    """{column: role} as the config declares it; a column it does not declare is AUTO (inferred)."""
    roles = {str(c): AUTO for c in columns}
    for role, key in LIST_KEYS.items():
        for col in config.get(key) or []:
            roles[col] = role
    for role, key in SINGLE_KEYS.items():
        if config.get(key):
            roles[config[key]] = role
    return roles


def config_from_roles(roles: Mapping[str, str], behaviour: Mapping[str, str | None] | None = None) -> dict[str, Any]:
    """The config's column keys for {column: role} (in column order) and the behaviour columns.

    AUTO columns are left out (the engine infers their role). An analysis has one customer id and one churn
    label: two columns with either role are refused, naming both (`analysis_roles` resolves a dataset's
    several identifier columns first)."""
    config: dict[str, Any] = {key: [] for key in LIST_KEYS.values()}
    config.update({key: None for key in SINGLE_KEYS.values()})
    for column, role in roles.items():
        if role == AUTO or role is None:
            continue
        if role in LIST_KEYS:
            config[LIST_KEYS[role]].append(column)
        elif role in SINGLE_KEYS:
            key = SINGLE_KEYS[role]
            if config[key] is not None:
                what = "customer id" if role == "identifier" else "churn label"
                raise EngineError(
                    f"Only one {what} column, please: {config[key]!r} and {column!r} both have that role; "
                    "give the others another role (Ignore keeps a column out of the analysis).",
                    field="roles",
                )
            config[key] = column
        else:
            raise EngineError(f"Column {column!r}: {role!r} is not a role ({', '.join(ROLES)}).", field="roles")
    for key in BEHAVIOUR_SETTING_KEYS:
        config[key] = (behaviour or {}).get(key) or None
    engagement = (behaviour or {}).get(ENGAGEMENT_KEY)
    if isinstance(engagement, dict):  # confirmed (possibly none); absent: inferred by the engine from names
        config[ENGAGEMENT_KEY] = dict(engagement)
    return config


def analysis_roles(dataset_roles: Mapping[str, str], requested: Mapping[str, str] | None = None) -> dict[str, str]:
    """The roles an analysis runs with: the dataset's, with the requested ones on top.

    One customer id and one churn label per analysis: a requested identifier (or label) takes the role from the
    dataset's; of several identifier columns in the dataset, the first is the customer id and the others (names,
    e-mails) stay out of the analysis (ignore). Two in one request are refused by `config_from_roles`."""
    requested = dict(requested or {})
    roles = {**dict(dataset_roles or {}), **requested}
    for role in SINGLE_KEYS:
        asked = [c for c, r in requested.items() if r == role]
        holders = [c for c, r in roles.items() if r == role]
        keep = asked if asked else holders[:1]
        for column in holders:
            if column not in keep:
                roles[column] = "ignore"
    return roles


def behaviour_role_errors(roles: Mapping[str, str], behaviour: Mapping[str, str | None]) -> list[EngineError]:
    """A behaviour column must be read as a number or a date: one error (with its field) per column that is
    not. `roles` holds each column's effective role (an AUTO column's detected role, or its stored type's)."""
    errors = []
    for key in BEHAVIOUR_KEYS:
        column = (behaviour or {}).get(key)
        if not column:
            continue
        role = roles.get(column)
        if role is None:
            errors.append(
                EngineError(f"The {BEHAVIOUR_LABELS[key].lower()} column {column!r} is not in the data.", field=key)
            )
        elif role not in BEHAVIOUR_ROLES:
            errors.append(
                EngineError(
                    f"{BEHAVIOUR_LABELS[key]} must be a numeric or date column; {column!r} is "
                    f"{role.replace('_', ' ')}.",
                    field=key,
                )
            )
    column = (behaviour or {}).get("charge_col")
    if column:
        role = roles.get(column)
        if role is None:
            errors.append(
                EngineError(f"The recurring charge column {column!r} is not in the data.", field="charge_col")
            )
        elif role not in ("numeric", "monetary"):
            errors.append(
                EngineError(
                    f"A recurring charge must be a money column; {column!r} is {role.replace('_', ' ')}.",
                    field="charge_col",
                )
            )
        try:
            period = check_period((behaviour or {}).get("charge_period"))
        except EngineError as exc:
            errors.append(exc)
        else:
            if period is None:
                errors.append(
                    EngineError(
                        f"Say what {column!r} is charged per (week, month or year) to use it as a recurring charge.",
                        field="charge_period",
                    )
                )
    return errors


def behaviour_unit_errors(roles: Mapping[str, str], behaviour: Mapping[str, str | None]) -> list[EngineError]:
    """A stated unit must be one of the vocabulary's (units.UNITS), and "date" exactly for a date column: one error
    (with its field) per unit that is not. `roles` holds each column's effective role."""
    errors = []
    for key, unit_key in UNIT_KEYS.items():
        try:
            unit = check_unit((behaviour or {}).get(unit_key), unit_key)
        except EngineError as exc:
            errors.append(exc)
            continue
        column = (behaviour or {}).get(key)
        if unit is None or not column:
            continue
        is_date = roles.get(column) == "date"
        if is_date != (unit == DATE):
            what = key.removesuffix("_col")
            errors.append(
                EngineError(
                    f"{column!r} holds dates: its {what} unit is “date”, not {unit!r}."
                    if is_date
                    else f"{column!r} holds numbers: state what its {what} counts (days, weeks, months or years).",
                    field=unit_key,
                )
            )
    return errors
