"""SegSaaS segmentation engine: pure Python (pandas, scikit-learn, scipy, TextBlob), no Django.

Public API
----------
``AnalysisConfig``            plain dataclass of options; ``AnalysisConfig.from_dict(d)`` (unknown keys raise
                              EngineError naming the key) and ``.to_dict()``.
``analyze(df, config=None, progress=None) -> AnalysisResult``
                              full analysis. ``progress(stage_label, percent)`` is called at each stage
                              ("Preprocessing", "Choosing k" (only when k is searched; "Choosing eps" for
                              DBSCAN), "Clustering", "PCA", "Feature importance",
                              "Churn model", "LTV model", "Profiles", "Recommendations", "Done"); an exception
                              raised by it propagates (use it to cancel).
``AnalysisResult``            ``.profiles`` (list of JSON-safe dicts, one per segment), ``.metrics`` (JSON-safe
                              dict), ``.customers`` (DataFrame, one row per input row in input order),
                              ``.model`` (FittedPipeline).
``FittedPipeline``            ``.save(path)`` writes one joblib file with ENGINE_VERSION and the expected schema.
``load_model(path)``          -> FittedPipeline; EngineError when the file is not a model or the version is
                              incompatible (different major version).
``predict_segment(model, record_or_records)``
                              dict -> dict; list/DataFrame -> list of dicts with segment, segment_name,
                              churn_risk, predicted_ltv, recommendations (top 3), key_features.
``generate_synthetic(rows=10_000, seed=42, include_segment_labels=False, include_churn_label=False,
                     include_future_value=False)``  synthetic customers with hidden segments.
``infer_roles(df, config=None) -> {column: role}``   roles: numeric, monetary, categorical, date, text,
                              identifier, ignore, churn_label. Sample-based (5,000 rows), cheap on big frames.
``infer_behaviour_roles(df, roles=None, config=None) -> {"recency_col", "frequency_col", "tenure_col"}``
                              behavioural roles (column names or None), from the config or column names.
``fit_clv(source, config=None, progress=None) -> CLVResult``
                              lifetime value from an order log (path to CSV/CSV.gz/Parquet, seekable CSV stream
                              or DataFrame): per customer ``p_active``, ``expected_purchases``, ``clv`` and its
                              80 % range ``clv_low``/``clv_high``; Pareto/NBD, BG/NBD and MBG/NBD scored on a
                              holdout, the best refitted on the whole log. ``CLVConfig`` (``from_dict``/
                              ``to_dict``) holds the columns, periods, horizon and discount rate; a result with
                              ``eligible=False`` carries ``reasons`` (what is missing, what to do) instead of a
                              model. Details: ``segments/engine/clv/__init__.py``.
``EngineError``               the one exception type; its message names the column, row or limit.
``ENGINE_VERSION``            version string stored in saved models.

Command line: ``python -m segments.engine analyze|predict|synth|clv`` (see ``segments/engine/cli.py``).
"""

import os

# OpenMP threads (scikit-learn's HistGradientBoosting, KMeans) spin-wait by default. When two Celery workers
# or a test run share the two cores, spinning threads steal each other's time and a job runs 2-50x slower.
# PASSIVE makes idle threads sleep; it must be set before scikit-learn loads its OpenMP runtime, and an
# explicit setting in the environment wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from .clv import CLVConfig, CLVResult, fit_clv  # noqa: E402
from .config import AnalysisConfig  # noqa: E402
from .errors import EngineError  # noqa: E402
from .pipeline import ENGINE_VERSION, AnalysisResult, FittedPipeline, analyze, load_model  # noqa: E402
from .predict import predict_segment  # noqa: E402
from .roles import infer_behaviour_roles, infer_roles  # noqa: E402
from .synthetic import generate_synthetic  # noqa: E402

__all__ = [
    "ENGINE_VERSION",
    "AnalysisConfig",
    "AnalysisResult",
    "CLVConfig",
    "CLVResult",
    "EngineError",
    "FittedPipeline",
    "analyze",
    "fit_clv",
    "generate_synthetic",
    "infer_behaviour_roles",
    "infer_roles",
    "load_model",
    "predict_segment",
]
