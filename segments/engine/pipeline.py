"""analyze(): the whole analysis, stage by stage, and the fitted pipeline it returns."""

from __future__ import annotations

import dataclasses
import math
import resource
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .clustering import TIER_K, sample_indices, segment, segment_balance_warnings, segment_structure, tier_k
from .coerce import MISSING_TOKENS
from .config import AnalysisConfig
from .engagement import infer_engagement
from .errors import EngineError
from .predictive import feature_importance, fit_churn, fit_ltv
from .preprocess import Preprocessor
from .profiles import ProfileInputs, build_profiles, lifecycle_stages
from .roles import behaviour_units, infer_behaviour_roles, infer_roles, pick_id_column
from .traits import feature_glossary
from .units import units_summary
from .vocabulary import algorithm_label

# 1.1: preprocessing is stored as one encoder per role (Preprocessor.encoders_); models saved by 1.0 cannot load
ENGINE_VERSION = "1.1.0"
OLDEST_LOADABLE = (1, 1)  # (major, minor) of the oldest saved model this engine reads
MODEL_KIND = "segsaas-engine-model"
MIN_ROWS = 10

Progress = Callable[[str, float], None] | None

_TRUE = {"1", "true", "yes", "y", "churned", "churn", "t", "lost", "inactive", "1.0"}
_FALSE = {"0", "false", "no", "n", "retained", "active", "f", "stayed", "0.0"}


def jsonable(obj: Any) -> Any:
    """numpy scalars -> Python, NaN/inf -> None, tuples -> lists, recursively."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return [jsonable(v) for v in obj.tolist()]
    if isinstance(obj, bool | np.bool_):
        return bool(obj)
    if isinstance(obj, int | np.integer):
        return int(obj)
    if isinstance(obj, float | np.floating):
        f = float(obj)
        return f if math.isfinite(f) else None
    if isinstance(obj, np.datetime64 | pd.Timestamp):
        return None if pd.isna(obj) else str(pd.Timestamp(obj).date())
    return obj


def repeated(values) -> pd.Categorical:
    """A per-customer text column that repeats a few texts (a level, a segment's name, an action, a reason written
    once per distinct figure) as a categorical: a code per customer instead of a string copy per customer (pandas
    stores an object array of shared strings as a string column, which cost ~300 MB at a million customers)."""
    return pd.Categorical(values)


def peak_memory_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


@dataclass
class FittedPipeline:
    """Everything needed to score a new customer record, saved as one joblib file."""

    engine_version: str
    config: dict
    preprocessor: Preprocessor
    cluster_model: Any
    pca: Any
    churn_model: Any
    ltv_model: Any
    segment_names: dict[int, str]
    segment_recommendations: dict[int, list[dict]]
    key_features: list[str]
    id_col: str | None
    schema: dict[str, str] = field(default_factory=dict)
    # {clustering label: segment number} when a re-run's segments were renumbered to match the previous run's
    # (`continuity.relabel_result`); empty: the labels are the numbers.
    segment_map: dict[int, int] = field(default_factory=dict)
    # what a customer's own levels and advice are measured against (profiles.customer_advice_reference)
    advice_reference: dict = field(default_factory=dict)
    # an order log's analysis: what scoring a new customer's orders or purchase history needs
    # (segments.engine.clv.scoring.CLVScorer); None for a customer table
    clv: Any = None

    def save(self, path) -> None:
        import joblib

        joblib.dump(
            {"kind": MODEL_KIND, "engine_version": self.engine_version, "schema": self.schema, "pipeline": self},
            path,
            compress=3,
        )


def _major_minor(version: str) -> tuple[int, int]:
    major, minor = ([int(p) if p.isdigit() else -1 for p in version.split(".")] + [0, 0])[:2]
    return major, minor


def load_model(path) -> FittedPipeline:
    import joblib

    rerun = "Re-run the analysis to rebuild the model."
    try:
        payload = joblib.load(path)
    except FileNotFoundError as exc:
        raise EngineError(f"model file {str(path)!r} does not exist") from exc
    except (AttributeError, ImportError) as exc:  # a class the file names has moved or gone: another layout
        raise EngineError(
            f"model {str(path)!r} was saved by an engine whose model layout this engine ({ENGINE_VERSION}) cannot "
            f"read. {rerun}"
        ) from exc
    except Exception as exc:  # joblib raises many types for foreign files
        raise EngineError(f"{str(path)!r} is not a SegSaaS model file ({type(exc).__name__})") from exc
    if not isinstance(payload, dict) or payload.get("kind") != MODEL_KIND:
        raise EngineError(f"{str(path)!r} is not a SegSaaS model file")
    version = str(payload.get("engine_version"))
    saved = _major_minor(version)
    if saved[0] != _major_minor(ENGINE_VERSION)[0] or saved < OLDEST_LOADABLE:
        raise EngineError(
            f"model {str(path)!r} was built by engine {version}; this engine ({ENGINE_VERSION}) cannot load it. {rerun}"
        )
    return payload["pipeline"]


@dataclass
class AnalysisResult:
    profiles: list[dict]
    metrics: dict
    customers: pd.DataFrame
    model: FittedPipeline


def _validate_frame(df, config: AnalysisConfig) -> None:
    if not isinstance(df, pd.DataFrame):
        raise EngineError(f"expected a pandas DataFrame, got {type(df).__name__}")
    if df.shape[1] == 0 or len(df) == 0:
        raise EngineError("the data is empty: no rows" if df.shape[1] else "the data is empty: no columns")
    if len(df) == 1:
        raise EngineError(f"the data has only one row: at least {MIN_ROWS} customers are needed to find segments")
    if len(df) < MIN_ROWS:
        raise EngineError(f"the data has {len(df)} rows: at least {MIN_ROWS} customers are needed to find segments")
    if len(df) > config.max_rows:
        raise EngineError(f"the data has {len(df):,} rows, above the limit of {config.max_rows:,} rows per analysis")
    dup = df.columns[df.columns.duplicated()].tolist()
    if dup:
        raise EngineError(f"column {str(dup[0])!r} appears more than once in the header")
    if config.n_clusters is not None and config.n_clusters > len(df):
        raise EngineError(f"fewer rows ({len(df)}) than the requested number of segments k={config.n_clusters}")


def _churn_label(series: pd.Series, col: str) -> np.ndarray:
    """Label column -> float array (1 churned, 0 retained, NaN unknown)."""
    out = np.full(len(series), np.nan)
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    mapped = []
    for u in uniques:
        key = str(u).strip().lower()
        if isinstance(u, bool | np.bool_):
            mapped.append(float(u))
        elif key in _TRUE:
            mapped.append(1.0)
        elif key in _FALSE:
            mapped.append(0.0)
        else:
            try:
                v = float(key)
            except ValueError:
                v = None
            if v in (0.0, 1.0):
                mapped.append(v)
            else:
                raise EngineError(
                    f"column {col!r}: churn label value {u!r} is not a yes/no value (expected 0/1, true/false, yes/no)"
                )
    mapped.append(np.nan)
    out = np.asarray(mapped)[codes]
    classes = np.unique(out[~np.isnan(out)])
    if len(classes) < 2:
        only = "no values" if len(classes) == 0 else f"only the value {int(classes[0])}"
        raise EngineError(
            f"column {col!r}: the churn label has {only}; a churn model needs both churned and retained customers "
            "(drop the churn label setting to estimate churn from behaviour instead)"
        )
    return out


def _ignore_reason(series: pd.Series, col: str, config: AnalysisConfig) -> str:
    if col in config.ignore_cols:
        return "ignored by configuration"
    values = series.dropna()
    if values.dtype == object or pd.api.types.is_string_dtype(values.dtype):
        values = values[~values.astype(str).str.strip().str.lower().isin(MISSING_TOKENS)]
    if len(values) == 0:
        return "all values missing"
    first = values.iloc[0]
    if (values == first).all():
        return "constant"
    return "looks like a segment label from elsewhere (kept out of the model)"


def value_basis(pre, profile_frame: pd.DataFrame) -> dict | None:
    """What value tiers compare when there is no predicted LTV: the recurring charge (per its period), else the spend
    column; a spend column that does not grow with tenure (Spearman < predictive.CUMULATIVE_MIN_SPEARMAN, whatever
    the tenure's unit) is a charge per billing period, compared as such, never called spend to date."""
    from .predictive import CUMULATIVE_MIN_SPEARMAN, _spearman

    recurring = getattr(pre, "recurring_", None)
    if recurring and recurring[0] in profile_frame.columns:
        return {"column": recurring[0], "per": str(recurring[1]).removesuffix("s")}
    money = pre.revenue_column()
    if not money or money not in profile_frame.columns:
        return None
    tenure = pre.behaviour_.get("tenure_col")
    values = profile_frame[tenure] if tenure in profile_frame.columns else profile_frame.get(f"{tenure} (days ago)")
    if values is not None:
        a, b = profile_frame[money].to_numpy(float), values.to_numpy(float)
        ok = np.isfinite(a) & np.isfinite(b)
        idx = np.flatnonzero(ok)[:20_000]
        if len(idx) >= 20 and _spearman(a[idx], b[idx]) < CUMULATIVE_MIN_SPEARMAN:
            from .vocabulary import BILLING_PERIOD

            return {"column": money, "per": BILLING_PERIOD}
    return {"column": money, "per": None}


def analyze(df: pd.DataFrame, config: AnalysisConfig | dict | None = None, progress: Progress = None) -> AnalysisResult:
    """Run the full analysis. ``progress(stage, percent)`` is called at each stage; an exception it raises
    (e.g. cancellation) propagates."""
    from threadpoolctl import threadpool_limits

    if isinstance(config, dict):
        config = AnalysisConfig.from_dict(config)
    config = config or AnalysisConfig()
    if not isinstance(config, AnalysisConfig):
        raise EngineError(f"config must be an AnalysisConfig or a dict, got {type(config).__name__}")
    # One thread per analysis unless configured: on a shared 2-core box (two Celery workers, a test run,
    # the web server) OpenMP/BLAS threads fight over the cores and a job measured 2-40x slower with two
    # threads than with one; on an idle box two threads gain only ~1.3x.
    threads = config.n_threads or 1
    with threadpool_limits(limits=threads):
        return _analyze(df, config, progress, threads)


def _analyze(df: pd.DataFrame, config: AnalysisConfig, progress: Progress, n_jobs: int) -> AnalysisResult:
    config.validate()
    _validate_frame(df, config)
    df = df.copy(deep=False)
    df.columns = [str(c) for c in df.columns]
    timings: dict[str, float] = {}
    warnings: list[str] = []
    rng = np.random.default_rng(config.random_state)
    t_start = time.perf_counter()
    clock = [time.perf_counter()]

    def stage(label: str, pct: float):
        if progress is not None:
            progress(label, pct)

    peaks: dict[str, float] = {"start": peak_memory_mb()}

    def done(label: str):
        now = time.perf_counter()
        timings[label] = round(now - clock[0], 4)
        peaks[label] = round(peak_memory_mb(), 1)
        clock[0] = now

    # ---- Preprocessing
    stage("Preprocessing", 0)
    roles = infer_roles(df, config)
    behaviour = infer_behaviour_roles(df, roles, config)
    for key, col in behaviour.items():
        if col and roles.get(col) in ("identifier", "ignore", "text", "categorical", "churn_label"):
            if getattr(config, key):
                raise EngineError(
                    f"column {col!r} given as {key.removesuffix('_col')} is {roles[col]}, not a number or date"
                )
            behaviour[key] = None
    engagement = (
        dict(config.engagement_cols)
        if config.engagement_cols is not None
        else infer_engagement(roles, behaviour.get("recency_col"))
    )
    label_cols = [c for c, r in roles.items() if r == "churn_label"]
    label_col = config.churn_label_col or (label_cols[0] if label_cols else None)
    label = _churn_label(df[label_col], label_col) if label_col else None
    id_col = pick_id_column(df, roles, config)
    unit_guesses, recurring = behaviour_units(df, roles, behaviour, config)
    for unit_key, guess in unit_guesses.items():
        if guess.unit == "unknown":
            key = unit_key.replace("_unit", "_col")
            warnings.append(
                f"The unit of {behaviour[key]!r} ({key.removesuffix('_col')}) is unknown: {guess.evidence}. It "
                "describes customers but no duration figure (LTV horizon, lifecycle stage, run-rate) is derived from "
                f"it until its unit is stated ({unit_key})."
            )
    pre = Preprocessor(config)
    ignored = {c: _ignore_reason(df[c], c, config) for c, r in roles.items() if r == "ignore"}
    X, profile_frame, beh = pre.fit_transform(
        df,
        roles,
        behaviour,
        warnings,
        ignored,
        units={k: g.unit for k, g in unit_guesses.items()},
        recurring=(recurring.column, recurring.period) if recurring else None,
    )
    n = len(X)
    done("Preprocessing")

    # ---- Segmentation (the stage says what happens: k is searched only when the user did not fix it)
    if config.algorithm == "hdbscan":
        seg_stage = "Clustering"
    elif config.algorithm == "dbscan":
        seg_stage = "Choosing eps" if config.dbscan_eps is None else "Clustering"
    else:
        seg_stage = "Choosing k" if config.n_clusters is None else "Clustering"
    stage(seg_stage, 10)
    outcome = segment(X, config, progress)
    structure_sample = X[sample_indices(n, 2_000, np.random.default_rng(config.random_state + 5))]

    def judge(outcome):
        return segment_structure(
            structure_sample,
            int(outcome.k),
            outcome.k_selection,
            outcome.quality,
            config.algorithm,
            float((outcome.labels < 0).mean()),
            config.random_state,
        )

    structure = judge(outcome)
    searched = outcome.k_selection.get("k_values") or []
    if (
        config.n_clusters is None
        and config.algorithm in ("kmeans", "gmm", "agglomerative")
        and len(searched) > 1
        and structure["strength"] == "none"
        and outcome.k > TIER_K
    ):
        # k follows the structure verdict: without segment structure an automatic k keeps the fewest segments.
        sel = outcome.k_selection
        k, why = tier_k(
            searched,
            sel.get("silhouette") or [None] * len(searched),
            sel.get("stability") or [None] * len(searched),
            reason=f"the evidence at k={outcome.k}, the k the curves suggested: {structure['summary'].split('Evidence: ')[-1].rstrip('.')}",
        )
        outcome = segment(X, dataclasses.replace(config, n_clusters=k), progress)
        outcome.k_selection = {**sel, "chosen_by": why}
        structure = judge(outcome)
    labels = outcome.labels
    warnings.extend(segment_balance_warnings(labels))
    done(f"{seg_stage} and clustering" if seg_stage.startswith("Choosing") else seg_stage)

    # ---- PCA
    stage("PCA", 40)
    from sklearn.decomposition import PCA

    pca_idx = sample_indices(n, config.fit_sample_size, rng)
    pca = PCA(n_components=min(2, X.shape[1]), random_state=config.random_state).fit(X[pca_idx])
    coords = pca.transform(X).astype(np.float32)
    if coords.shape[1] == 1:
        coords = np.column_stack([coords, np.zeros(n, np.float32)])
    done("PCA")

    # ---- Feature importance
    stage("Feature importance", 50)
    importance, importance_detail = feature_importance(
        X, labels, pre.feature_names_, pre.feature_sources_, config, rng, n_jobs=n_jobs
    )
    done("Feature importance")

    # ---- Churn
    stage("Churn model", 62)
    train_mask = None
    if label is not None:
        train_mask = ~np.isnan(label)
        if not train_mask.all():
            warnings.append(
                f"column {label_col!r}: {int((~train_mask).sum())} rows without a churn label were left out of "
                "churn training and scored by the model"
            )
    churn_model, churn, churn_metrics = fit_churn(
        X if train_mask is None or train_mask.all() else X[train_mask],
        beh if train_mask is None or train_mask.all() else {k: v[train_mask] for k, v in beh.items()},
        None if label is None else label[train_mask].astype(int),
        pre.feature_names_,
        config,
        # a labelled table's held-out split depends on the seed only, not on what the clustering drew before
        rng if label is None else np.random.default_rng([config.random_state, 2]),
        feature_sources=pre.feature_sources_,
        recency_col=behaviour.get("recency_col"),
    )
    if train_mask is not None and not train_mask.all():
        # labelled customers keep their out-of-sample scores; the unlabelled ones are scored by the model
        full = churn_model.predict(X, beh)
        full[train_mask] = churn
        churn = full
    if churn_metrics.get("leakage"):
        warnings.append(churn_metrics["leakage"]["message"])
    # rounded as stored and shown, so labels and counts derived from it agree with the printed figure
    churn = np.round(np.clip(np.asarray(churn, float), 0.0, 1.0), 6)
    if label_col:
        churn_metrics["label_column"] = label_col
    done("Churn model")

    # ---- LTV
    stage("LTV model", 74)
    bg = churn_model.model if churn_model.method == "mbg_nbd" else None
    ltv_model, ltv, ltv_metrics = fit_ltv(X, beh, churn, config, rng, bg)
    ltv = np.round(ltv, 2)
    done("LTV model")

    # ---- Profiles
    stage("Profiles", 84)
    stage_labels = lifecycle_stages(beh, churn)
    profiles, insight, levels = build_profiles(
        ProfileInputs(
            labels=labels,
            features=X,
            feature_names=pre.feature_names_,
            weights=pre.weights_,
            means=pre.mean_,
            stds=pre.std_,
            readable=profile_frame,
            behaviour=beh,
            churn=churn,
            ltv=ltv,
            revenue_column=pre.revenue_column(),
            churn_method=churn_metrics["method"],
            lifecycle=stage_labels,
            engagement=engagement,
            glossary=feature_glossary(pre),
            value_basis=value_basis(pre, profile_frame),
        )
    )
    done("Profiles")

    # ---- Recommendations and outputs
    stage("Recommendations", 94)
    by_id = {p["segment"]: p for p in profiles}
    seg_ids = np.array(sorted(by_id))
    names = {s: by_id[s]["name"] for s in seg_ids}
    pos = np.searchsorted(seg_ids, labels)

    def per_segment(values: list) -> pd.Categorical:
        return repeated(np.asarray(values, dtype=object)[pos])

    if id_col:
        cid = df[id_col].array  # as read (no per-customer Python string copies)
    else:
        cid = np.arange(1, n + 1)
    customers = pd.DataFrame(
        {
            "customer_id": cid,
            "segment": labels.astype(np.int64),
            "segment_name": per_segment([names[s] for s in seg_ids]),
            "churn_risk": churn,
            "predicted_ltv": ltv,
            "pca_x": coords[:, 0],
            "pca_y": coords[:, 1] if coords.shape[1] > 1 else 0.0,
            # the customer's own tier and risk (profiles.RULES), not the segment's label copied down
            "value_tier": repeated(levels["value_tier"]),
            "risk_level": repeated(levels["risk_level"]),
            "engagement_level": repeated(levels["engagement_level"]),
            "lifecycle_stage": repeated(stage_labels),
            "top_recommendation": per_segment(
                [by_id[s]["recommendations"][0]["action"] if by_id[s]["recommendations"] else "" for s in seg_ids]
            ),
            # the customer's own advice, from their own figures (recommend.customer_recommendations)
            "recommendation": repeated(levels["recommendation"]),
            "recommendation_reason": repeated(levels["recommendation_reason"]),
        }
    )
    key_features = [d["feature"] for d in importance[:6]] or [e.column for e in pre.encoders_[:6]]
    model = FittedPipeline(
        engine_version=ENGINE_VERSION,
        config=config.to_dict(),
        preprocessor=pre,
        cluster_model=outcome.model,
        pca=pca,
        churn_model=churn_model,
        ltv_model=ltv_model,
        segment_names={int(s): str(names[s]) for s in seg_ids},
        segment_recommendations={int(s): by_id[s]["recommendations"][:3] for s in seg_ids},
        key_features=key_features,
        id_col=id_col,
        schema=pre.schema(),
        advice_reference=levels["reference"],
    )
    done("Recommendations")
    timings["total"] = round(time.perf_counter() - t_start, 4)
    metrics = {
        "engine_version": ENGINE_VERSION,
        "algorithm": config.algorithm,
        "algorithm_label": algorithm_label(config.algorithm),
        "k": int(outcome.k),
        "n_segments": len([s for s in seg_ids if s >= 0]),
        "noise_customers": int((labels == -1).sum()),
        "k_selection": outcome.k_selection,
        "quality": outcome.quality,
        "segment_structure": structure,
        "pca": {"explained_variance": pca.explained_variance_ratio_.tolist()},
        "feature_importance": importance,
        "feature_importance_detail": importance_detail[:30],
        "importance_method": "0.5 x random-forest impurity importance + 0.5 x mutual information, each normalised "
        "to sum to 1, summed over a column's derived features",
        "churn": churn_metrics,
        "ltv": ltv_metrics,
        "insights": insight,
        "timings": timings,
        "peak_memory_mb": peak_memory_mb(),
        "peak_memory_mb_after_stage": peaks,
        "n_rows": int(n),
        "n_features": int(X.shape[1]),
        "features": pre.feature_names_,
        "reference_date": None if pre.reference_date_ is None else str(pd.Timestamp(pre.reference_date_).date()),
        "sampling": outcome.sampling,
        "roles": roles,
        "behaviour_roles": behaviour,
        "behaviour_units": units_summary(unit_guesses, recurring if pre.recurring_ else None),
        "engagement_columns": engagement,
        "engagement_inferred": config.engagement_cols is None,
        "id_column": id_col,
        "ignored_columns": pre.ignored_,
        "warnings": warnings,
        "config": config.to_dict(),
    }
    stage("Done", 100)
    return AnalysisResult(profiles=jsonable(profiles), metrics=jsonable(metrics), customers=customers, model=model)
