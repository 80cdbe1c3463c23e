"""What the pages need, computed once when a run is stored rather than on every page view: the chart sample,
each segment's features in standard deviations (the heat map), segment sizes, lifecycle counts, totals."""

from __future__ import annotations

# Points per segment kept for the scatter charts: enough to see the shape, small enough to draw fast.
CHART_SAMPLE_PER_SEGMENT = 2_000


def chart_sample(customers, per_segment: int | None = None, seed: int = 42):
    """Up to `per_segment` customers of each segment (seeded), for scatter and distribution charts."""
    import numpy as np
    import pandas as pd

    per_segment = per_segment or CHART_SAMPLE_PER_SEGMENT
    rng = np.random.default_rng(seed)
    seg = customers["segment"].to_numpy()
    picks = []
    for s in np.unique(seg):
        idx = np.flatnonzero(seg == s)
        if len(idx) > per_segment:
            idx = np.sort(rng.choice(idx, per_segment, replace=False))
        picks.append(idx)
    idx = np.concatenate(picks) if picks else np.array([], dtype=np.int64)
    cols = [
        c
        for c in ("customer_id", "segment", "pca_x", "pca_y", "churn_risk", "predicted_ltv", "lifecycle_stage")
        if c in customers.columns
    ]
    sample = customers.iloc[idx][cols].copy()
    sample["customer_id"] = sample["customer_id"].astype(str)
    for c in ("pca_x", "pca_y", "churn_risk", "predicted_ltv"):
        if c in sample:
            sample[c] = pd.to_numeric(sample[c], errors="coerce").astype("float32")
    return sample.reset_index(drop=True)


HEATMAP_MAX_FEATURES = 14


def feature_zscores(df, labels, profiles: list[dict], metrics: dict) -> dict:
    """Per segment, the mean of each profiled numeric column in standard deviations from the population."""
    import numpy as np
    import pandas as pd

    profiled = list(((profiles or [{}])[0].get("stats") or {}).keys())
    ranked = [d.get("feature") for d in (metrics.get("feature_importance") or []) if isinstance(d, dict)]
    order = [c for c in ranked if c in profiled] + [c for c in profiled if c not in ranked]

    def engine_z(p, c):
        stat = (p.get("stats") or {}).get(c)
        return stat.get("z") if isinstance(stat, dict) else None

    # The engine's own figure (the one "what sets it apart" prints), on the values it read from messy cells too.
    with_z = [c for c in order if profiles and all(engine_z(p, c) is not None for p in profiles)]
    if with_z:
        features = with_z[:HEATMAP_MAX_FEATURES]
        return {
            "features": features,
            "z": {str(int(p["segment"])): [round(float(engine_z(p, c)), 4) for c in features] for p in profiles},
        }
    # Analyses stored before the engine reported z: recompute from the dataset's numeric columns.
    features, columns = [], []
    for name in order:
        if name not in df.columns:
            continue
        values = (
            pd.to_numeric(df[name], errors="coerce")
            if not pd.api.types.is_bool_dtype(df[name])
            else df[name].astype(float)
        )
        if values.notna().sum() < 2 or not np.isfinite(values.std()) or values.std() == 0:
            continue
        features.append(name)
        columns.append(values.astype("float64"))
        if len(features) == HEATMAP_MAX_FEATURES:
            break
    if not features:
        return {}
    frame = pd.concat(columns, axis=1, keys=features)
    z = (frame.groupby(np.asarray(labels)).mean() - frame.mean()) / frame.std(ddof=0)
    return {
        "features": features,
        "z": {
            str(int(s)): [round(float(v), 4) if np.isfinite(v) else 0.0 for v in row]
            for s, row in zip(z.index, z.to_numpy(), strict=True)
        },
    }


def summarise(customers, profiles: list[dict]) -> dict:
    """Aggregates the pages need that are cheaper to compute once here than per page view."""
    import numpy as np
    import pandas as pd

    out: dict = {"customers": len(customers), "sample_per_segment": CHART_SAMPLE_PER_SEGMENT}
    seg = customers["segment"]
    out["segment_sizes"] = {str(int(k)): int(v) for k, v in seg.value_counts().sort_index().items()}
    if "lifecycle_stage" in customers:
        table = pd.crosstab(seg, customers["lifecycle_stage"].astype(str))
        from segments.engine.vocabulary import LIFECYCLE_STAGES

        stages = [s for s in LIFECYCLE_STAGES if s in table.columns] + [
            s for s in table.columns if s not in LIFECYCLE_STAGES
        ]
        out["lifecycle"] = {
            "stages": stages,
            "counts": {str(int(s)): [int(table.loc[s, st]) for st in stages] for s in table.index},
        }
    if "predicted_ltv" in customers:
        ltv = pd.to_numeric(customers["predicted_ltv"], errors="coerce")
        known = ltv.notna().any()  # no money column: no LTV at all, and the pages say so instead of $0
        out["total_predicted_ltv"] = float(np.nansum(ltv)) if known else None
        out["avg_predicted_ltv"] = float(np.nanmean(ltv)) if known else None
    if "churn_risk" in customers:
        churn = pd.to_numeric(customers["churn_risk"], errors="coerce")
        out["avg_churn_risk"] = float(np.nanmean(churn)) if churn.notna().any() else None
        out["high_risk_customers"] = int((churn >= 0.5).sum())
    return out
