"""Order-log analyses: the lifetime-value models fitted on the log (`segments.engine.clv.fit_clv`), the customer
table built from it (RFM + CLV, `customer_table`) that the segmentation then runs on, each segment's CLV, and the
small aggregates the Lifetime value tab and the report draw (no page reads the per-customer table for a chart)."""

from __future__ import annotations

import math

import numpy as np

from segsaas import storage

TOP_CUSTOMERS = 25
CLV_HIST_BINS = 30
FREQUENCY_BUCKETS = 11  # 0..9 repeat purchase days, then "10+"
RECENCY_BINS = 10


def order_log_table(analysis, progress):
    """(customer table, CLVResult): fit the lifetime-value models on the analysis's order log with the job's
    progress (0-30 %), then the one-row-per-customer table the segmentation runs on."""
    from segments.engine.clv import CLVConfig, fit_clv
    from segments.engine.clv.product import customer_table
    from segments.engine.errors import EngineError
    from segments.services.analyses import AnalysisError, order_log_options

    dataset = analysis.dataset
    options = {**order_log_options(dataset), **(analysis.config.get("clv") or {})}
    config = CLVConfig.from_dict(options)

    def clv_progress(stage: str, percent: float) -> None:
        progress("Lifetime value: " + (stage[:1].lower() + stage[1:]), 1 + 0.29 * max(0.0, min(float(percent), 100.0)))

    # The log of the version the run reads (a re-run reads the latest; an analysis made on an older version keeps
    # reading that one), as a customer table's run does.
    version = analysis.dataset_version
    data_file = version.data_file if version is not None and version.data_file else dataset.data_file.name
    try:
        with storage.local_copy(data_file) as path:
            result = fit_clv(path, config, progress=clv_progress)
    except EngineError as exc:
        raise AnalysisError(f"The order log of “{dataset.name}” could not be read: {exc.message}") from exc
    return customer_table(result), result


def _finite(values) -> list[float | None]:
    return [None if v is None or not math.isfinite(float(v)) else float(v) for v in values]


def clv_metrics(result) -> dict:
    """fit_clv's metrics (JSON-safe: no NaN), stored on the analysis as metrics["clv"]."""
    from segments.engine.pipeline import jsonable

    return jsonable(result.metrics)


def segment_clv(profiles: list[dict], customers) -> None:
    """Each profile gets its customers' lifetime value: mean and total CLV, the mean of their 80 % range ends,
    mean probability of being active and expected purchases over the horizon."""
    if "clv" not in customers:
        return
    groups = customers.groupby("segment")
    stats = groups.agg(
        clv_mean=("clv", "mean"),
        clv_total=("clv", "sum"),
        low_mean=("clv_low", "mean"),
        high_mean=("clv_high", "mean"),
        p_active=("p_active", "mean"),
        expected=("expected_purchases", "mean"),
    )
    for p in profiles:
        seg = p.get("segment")
        if seg not in stats.index:
            continue
        row = stats.loc[seg]
        p["clv"] = {
            "avg": float(row.clv_mean),
            "total": float(row.clv_total),
            "avg_low": float(row.low_mean),
            "avg_high": float(row.high_mean),
            "avg_p_active": float(row.p_active),
            "avg_expected_purchases": float(row.expected),
        }


def clv_summary(table) -> dict:
    """What the Lifetime value tab draws besides the holdout evidence: the CLV distribution, P(active) by number of
    repeat purchases and days since the last purchase, and the top customers by CLV with their ranges."""
    if "clv" not in table:
        return {}
    clv = table["clv"].to_numpy(dtype=np.float64)
    top_edge = float(np.quantile(clv, 0.99)) if len(clv) else 0.0
    top_edge = top_edge if top_edge > 0 else float(clv.max(initial=0.0)) or 1.0
    counts, edges = np.histogram(np.clip(clv, 0, top_edge), bins=CLV_HIST_BINS, range=(0.0, top_edge))
    beyond = int((clv > top_edge).sum())

    freq = np.minimum(table["purchases"].to_numpy() - 1, FREQUENCY_BUCKETS - 1)
    since = table["days_since_last_purchase"].to_numpy(dtype=np.float64)
    since_edges = np.unique(np.quantile(since, np.linspace(0, 1, RECENCY_BINS + 1)).round())
    if len(since_edges) < 2:
        since_edges = np.array([since.min(initial=0.0), since.max(initial=0.0) + 1])
    since_bin = np.clip(np.searchsorted(since_edges, since, side="right") - 1, 0, len(since_edges) - 2)
    p_active = table["p_active"].to_numpy(dtype=np.float64)
    cells = len(since_edges) - 1
    sums = np.zeros((cells, FREQUENCY_BUCKETS))
    n = np.zeros((cells, FREQUENCY_BUCKETS), dtype=np.int64)
    np.add.at(sums, (since_bin, freq), p_active)
    np.add.at(n, (since_bin, freq), 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(n > 0, sums / np.maximum(n, 1), np.nan)

    top = table.nlargest(TOP_CUSTOMERS, "clv")
    return {
        "histogram": {
            "counts": [int(c) for c in counts],
            "edges": [float(e) for e in edges],
            "beyond": beyond,
            "clip": top_edge,
        },
        "p_active_grid": {
            "repeat_purchases": [str(i) if i < FREQUENCY_BUCKETS - 1 else f"{i}+" for i in range(FREQUENCY_BUCKETS)],
            "days_since_last": [
                f"{int(since_edges[i]):,}–{int(since_edges[i + 1]):,}" for i in range(len(since_edges) - 1)
            ],
            "mean": [_finite(row) for row in mean],
            "customers": n.tolist(),
        },
        "top_customers": [
            {
                "customer_id": str(r.customer_id),
                "purchases": int(r.purchases),
                "days_since_last_purchase": int(r.days_since_last_purchase),
                "total_spend": float(r.total_spend),
                "p_active": float(r.p_active),
                "expected_purchases": float(r.expected_purchases),
                "clv": float(r.clv),
                "clv_low": float(r.clv_low),
                "clv_high": float(r.clv_high),
            }
            for r in top.itertuples(index=False)
        ],
        "totals": {
            "customers": len(table),
            "clv": float(clv.sum()),
            "clv_low_sum": float(table["clv_low"].sum()),
            "clv_high_sum": float(table["clv_high"].sum()),
            "expected_purchases": float(table["expected_purchases"].sum()),
            "mean_p_active": float(p_active.mean()) if len(p_active) else None,
        },
    }


def accuracy_words(clv: dict) -> list[str]:
    """The holdout result in plain sentences (the Lifetime value tab and the PDF report say the same): purchases
    expected vs made, spend expected vs spent, and how often the 80 % ranges held what customers spent."""
    from segments.engine import formatting as fmt

    holdout = clv.get("holdout") or {}
    s = (holdout.get("models") or {}).get(holdout.get("chosen") or "")
    if not s:
        return []
    words = [holdout.get("accuracy_sentence") or ""]
    if s.get("spend_expected") is not None and s.get("spend_actual") is not None:
        words.append(
            f"It expected {fmt.money(s['spend_expected'])} of spend from them; they spent "
            f"{fmt.money(s['spend_actual'])} ({_signed_share(s.get('spend_error'))})."
        )
    ranges = s.get("ranges") or {}
    if ranges.get("coverage") is not None:
        words.append(
            f"The 80 % ranges held the actual spend of {ranges['coverage']:.0%} of the {ranges.get('customers', 0):,} "
            "customers checked (spend has many zeros, so a range holds at least 80 %; the calibration check, "
            f"randomised at ties, gives {ranges.get('pit_coverage', 0):.0%})."
        )
    labels = {name: m.get("label", name) for name, m in (holdout.get("models") or {}).items()}
    why = holdout.get("chosen_because", "")
    for name, label in sorted(
        labels.items(), key=lambda kv: -len(kv[0])
    ):  # people read the models' names, not the engine's keys
        why = why.replace(name, label)
    words.append(f"Model: {s.get('label')} ({why}), then refitted on the whole log.")
    return [w for w in words if w]


def _signed_share(x) -> str:
    if x is None:
        return "no spend to compare"
    return f"{abs(x):.1%} {'over' if x > 0 else 'under'}"
