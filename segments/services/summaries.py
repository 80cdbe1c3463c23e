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
    return summary_from_parts([summary_part(customers)])


def summary_part(customers) -> dict:
    """The additive pieces of `summarise` for some of the customers (a Dask run's partitions are summed with
    `summary_from_parts`, so no process holds every customer to summarise them)."""
    import numpy as np
    import pandas as pd

    seg = customers["segment"]
    part: dict = {"customers": len(customers), "sizes": {int(k): int(v) for k, v in seg.value_counts().items()}}
    if "lifecycle_stage" in customers:
        table = pd.crosstab(seg, customers["lifecycle_stage"].astype(str))
        part["lifecycle"] = {(int(s), str(st)): int(table.loc[s, st]) for s in table.index for st in table.columns}
    if "predicted_ltv" in customers:
        ltv = pd.to_numeric(customers["predicted_ltv"], errors="coerce")
        part["ltv"] = (float(np.nansum(ltv)), int(ltv.notna().sum()))
    if "churn_risk" in customers:
        churn = pd.to_numeric(customers["churn_risk"], errors="coerce")
        part["churn"] = (float(np.nansum(churn)), int(churn.notna().sum()), int((churn >= 0.5).sum()))
    return part


def summary_from_parts(parts: list[dict]) -> dict:
    """`summarise`'s figures from the `summary_part`s of all the customers."""
    from collections import Counter

    out: dict = {"customers": sum(p["customers"] for p in parts), "sample_per_segment": CHART_SAMPLE_PER_SEGMENT}
    sizes: Counter = Counter()
    for p in parts:
        sizes.update(p["sizes"])
    out["segment_sizes"] = {str(k): int(sizes[k]) for k in sorted(sizes)}
    if any("lifecycle" in p for p in parts):
        from segments.engine.vocabulary import LIFECYCLE_STAGES

        cells: Counter = Counter()
        for p in parts:
            cells.update(p.get("lifecycle") or {})
        present = sorted({st for _s, st in cells}, key=str)
        stages = [s for s in LIFECYCLE_STAGES if s in present] + [s for s in present if s not in LIFECYCLE_STAGES]
        segments = sorted({s for s, _st in cells})
        out["lifecycle"] = {
            "stages": stages,
            "counts": {str(s): [int(cells[(s, st)]) for st in stages] for s in segments},
        }
    if any("ltv" in p for p in parts):
        total = sum(p["ltv"][0] for p in parts if "ltv" in p)
        known = sum(p["ltv"][1] for p in parts if "ltv" in p)
        # no money column: no LTV at all, and the pages say so instead of $0
        out["total_predicted_ltv"] = float(total) if known else None
        out["avg_predicted_ltv"] = float(total / known) if known else None
    if any("churn" in p for p in parts):
        total = sum(p["churn"][0] for p in parts if "churn" in p)
        known = sum(p["churn"][1] for p in parts if "churn" in p)
        out["avg_churn_risk"] = float(total / known) if known else None
        out["high_risk_customers"] = int(sum(p["churn"][2] for p in parts if "churn" in p))
    return out
