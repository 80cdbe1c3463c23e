"""AnalysisConfig: every knob of one analysis, as a plain dataclass."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from .errors import EngineError

ALGORITHMS = ("kmeans", "gmm", "agglomerative", "dbscan")


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
    # Behaviour
    nlp: bool = True
    random_state: int = 42
    ltv_horizon_months: int = 12
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
            raise EngineError(f"config 'algorithm': {self.algorithm!r} is not one of {', '.join(ALGORITHMS)}")
        if self.n_clusters is not None and (
            not isinstance(self.n_clusters, int) or isinstance(self.n_clusters, bool) or self.n_clusters < 2
        ):
            raise EngineError(f"config 'n_clusters': must be an integer >= 2, got {self.n_clusters!r}")
        if (
            not (isinstance(self.k_min, int) and isinstance(self.k_max, int))
            or self.k_min < 2
            or self.k_max < self.k_min
        ):
            raise EngineError(f"config 'k_min'/'k_max': need 2 <= k_min <= k_max, got {self.k_min!r}..{self.k_max!r}")
        if self.ltv_horizon_months < 1:
            raise EngineError("config 'ltv_horizon_months': must be at least 1")
        for name in ("categorical_cols", "text_cols", "date_cols", "numeric_cols", "ignore_cols", "monetary_cols"):
            value = getattr(self, name)
            if isinstance(value, str):
                value = [v.strip() for v in value.split(",") if v.strip()]
                setattr(self, name, value)
            if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
                raise EngineError(f"config {name!r}: must be a list of column names")
            setattr(self, name, list(value))

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> AnalysisConfig:
        data = dict(data or {})
        known = {f.name for f in dataclasses.fields(cls)}
        for key in data:
            if key not in known:
                raise EngineError(f"config: unknown option {key!r}")
        return cls(**data)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def declared_columns(self) -> list[str]:
        cols: list[str] = []
        for name in ("categorical_cols", "text_cols", "date_cols", "numeric_cols", "ignore_cols", "monetary_cols"):
            cols.extend(getattr(self, name))
        for name in ("id_col", "churn_label_col", "recency_col", "frequency_col", "tenure_col"):
            if getattr(self, name):
                cols.append(getattr(self, name))
        return cols
