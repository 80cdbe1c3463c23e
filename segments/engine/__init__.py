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
                              incompatible (another major version, or older than ``OLDEST_LOADABLE`` in
                              pipeline.py: 1.0 models, saved before the per-role encoders).
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
``EngineError``               the engine's exception; its message names the column, row or limit. It is a
                              ``UserFacingError`` (message for people, optional ``field``), the base every
                              layer's expected failures share.
Column roles                  ``ROLES``, ``AUTO``, ``BEHAVIOUR_KEYS``/``BEHAVIOUR_FIELDS``, and the one mapping
                              between roles and config keys: ``config_from_roles``, ``roles_from_config``,
                              ``analysis_roles``, ``behaviour_role_errors`` (see ``config.py``).
``ENGINE_VERSION``            version string stored in saved models.

Command line: ``python -m segments.engine analyze|predict|synth|clv`` (see ``segments/engine/cli.py``).
"""

import os

# OpenMP threads (scikit-learn's HistGradientBoosting, KMeans) spin-wait by default. When two Celery workers
# or a test run share the two cores, spinning threads steal each other's time and a job runs 2-50x slower.
# PASSIVE makes idle threads sleep; it must be set before scikit-learn loads its OpenMP runtime, and an
# explicit setting in the environment wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from .config import (  # noqa: E402
    AUTO,
    BEHAVIOUR_FIELDS,
    BEHAVIOUR_KEYS,
    BEHAVIOUR_ROLES,
    BEHAVIOUR_SETTING_KEYS,
    BEHAVIOUR_UNIT_KEYS,
    ROLES,
    AnalysisConfig,
    analysis_roles,
    behaviour_role_errors,
    behaviour_unit_errors,
    config_from_roles,
    roles_from_config,
)
from .errors import EngineError, UserFacingError  # noqa: E402

# The modules that load pandas and scikit-learn are imported on first use, so that importing the engine's
# vocabulary (config, roles, errors) costs a web process nothing.
_LAZY = {
    "ENGINE_VERSION": "pipeline",
    "AnalysisResult": "pipeline",
    "FittedPipeline": "pipeline",
    "analyze": "pipeline",
    "load_model": "pipeline",
    "predict_segment": "predict",
    "infer_behaviour_roles": "roles",
    "infer_roles": "roles",
    "behaviour_units": "roles",
    "generate_synthetic": "synthetic",
    "CLVConfig": "clv",
    "CLVResult": "clv",
    "fit_clv": "clv",
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "AUTO",
    "BEHAVIOUR_FIELDS",
    "BEHAVIOUR_KEYS",
    "BEHAVIOUR_ROLES",
    "BEHAVIOUR_SETTING_KEYS",
    "BEHAVIOUR_UNIT_KEYS",
    "ENGINE_VERSION",
    "ROLES",
    "AnalysisConfig",
    "AnalysisResult",
    "CLVConfig",
    "CLVResult",
    "EngineError",
    "FittedPipeline",
    "UserFacingError",
    "analysis_roles",
    "analyze",
    "behaviour_role_errors",
    "behaviour_unit_errors",
    "behaviour_units",
    "config_from_roles",
    "fit_clv",
    "generate_synthetic",
    "infer_behaviour_roles",
    "infer_roles",
    "load_model",
    "predict_segment",
    "roles_from_config",
]
