"""Command line: python -m segments.engine analyze|predict|synth|clv ..."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from . import formatting as fmt
from .errors import EngineError
from .units import CHARGE_PERIODS, UNITS
from .vocabulary import ALGORITHMS


def _list(value: str | None) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()] if value else []


def read_table(path: str):
    import pandas as pd

    p = Path(path)
    if not p.exists():
        raise EngineError(f"input file {path!r} does not exist")
    if p.suffix.lower() == ".json":
        try:
            data = json.loads(p.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise EngineError(f"{path!r} is not valid JSON ({exc})") from None
        if isinstance(data, dict):
            data = [data]
        if not isinstance(data, list):
            raise EngineError(f"{path!r}: expected a JSON object or a list of objects")
        return data
    last_exc = None
    for encoding in ("utf-8-sig", "latin-1"):
        try:
            return pd.read_csv(p, encoding=encoding, skipinitialspace=True, low_memory=False)
        except UnicodeDecodeError as exc:
            last_exc = exc
        except pd.errors.EmptyDataError:
            raise EngineError(f"{path!r} is empty: no header and no rows") from None
        except pd.errors.ParserError as exc:
            raise EngineError(f"{path!r} is not a readable CSV file ({str(exc).strip()})") from None
    raise EngineError(f"{path!r}: cannot decode the file ({last_exc})")


def _print_table(profiles: list[dict]) -> None:
    header = f"{'seg':>4}  {'name':<42} {'size':>9} {'share':>6} {'avg LTV':>10} {'churn':>6}  top recommendation"
    print(header)
    print("-" * len(header))
    # one precision for the whole column: whole amounts once any segment's reaches 100 (no "$33.37" above "$101")
    whole = any(abs(fmt.finite(p.get("avg_ltv")) or 0) >= 100 for p in profiles)
    for p in profiles:
        ltv, churn = fmt.money(p.get("avg_ltv"), whole=whole), fmt.percent(p.get("avg_churn_risk"), 0)
        rec = p["recommendations"][0]["category"] if p.get("recommendations") else ""
        print(f"{p['segment']:>4}  {p['name'][:42]:<42} {p['size']:>9,} {p['share']:>6.1%} {ltv:>10} {churn:>6}  {rec}")


def cmd_analyze(args) -> int:
    from .config import AnalysisConfig
    from .pipeline import analyze

    dask = _use_dask(args)
    df = None if dask else read_table(args.input)
    if isinstance(df, list):
        import pandas as pd

        df = pd.DataFrame(df)
    k = args.k.strip().lower()
    if k == "auto":
        n_clusters = None
    else:
        try:
            n_clusters = int(k)
        except ValueError:
            raise EngineError(f"--k: expected 'auto' or a whole number, got {args.k!r}") from None
    config = AnalysisConfig(
        algorithm=args.algorithm,
        n_clusters=n_clusters,
        k_min=args.k_min,
        k_max=args.k_max,
        categorical_cols=_list(args.categorical),
        text_cols=_list(args.text),
        date_cols=_list(args.date),
        numeric_cols=_list(args.numeric),
        id_col=args.id_col,
        ignore_cols=_list(args.ignore),
        churn_label_col=args.churn_label,
        monetary_cols=_list(args.monetary),
        recency_col=args.recency,
        frequency_col=args.frequency,
        tenure_col=args.tenure,
        recency_unit=args.recency_unit,
        tenure_unit=args.tenure_unit,
        charge_col=args.charge_col,
        charge_period=args.charge_period,
        nlp=args.nlp,
        random_state=args.seed,
        ltv_horizon_months=args.horizon,
        dbscan_eps=args.eps,
    )
    if args.eps is not None and args.algorithm != "dbscan":
        raise EngineError("--eps is DBSCAN's radius: use it with --algorithm dbscan", field="dbscan_eps")

    def progress(stage: str, pct: float) -> None:
        if args.verbose:
            print(f"[{pct:5.1f}%] {stage}", file=sys.stderr)

    if dask:
        return _analyze_with_dask(args, config, progress)
    result = analyze(df, config, progress=progress)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "profiles.json").write_text(json.dumps(result.profiles, indent=2))
    (out / "metrics.json").write_text(json.dumps(result.metrics, indent=2))
    result.customers[
        [
            "customer_id",
            "segment",
            "segment_name",
            "churn_risk",
            "predicted_ltv",
            "pca_x",
            "pca_y",
            "value_tier",
            "risk_level",
            "engagement_level",
            "lifecycle_stage",
            "top_recommendation",
            "recommendation",
            "recommendation_reason",
        ]
    ].to_csv(out / "customers.csv", index=False)
    result.model.save(out / "model.joblib")
    m = result.metrics
    print(f"{m['n_rows']:,} customers, {m['n_segments']} segments ({m['algorithm']}); {m['k_selection']['chosen_by']}")
    _print_table(result.profiles)
    _print_units(m)
    structure = m.get("segment_structure") or {}
    if structure:
        print(f"segment structure ({structure['strength']}): {structure['summary']}")
        for advice in structure.get("advice") or []:
            print(f"  - {advice}")
    churn = m["churn"]
    if churn.get("auc") is not None:
        suspect = " SUSPECT (likely label leakage, see the warnings)" if churn.get("leakage") else ""
        print(f"churn: {churn['method_label']}; held-out AUC {churn['auc']:.3f}{suspect}")
    if m["ltv"].get("fidelity"):
        print(f"LTV: {m['ltv']['method_label']}; {m['ltv']['fidelity']} (a fit to an estimate, not accuracy)")
    for warning in m.get("warnings") or []:
        print(f"warning: {warning}")
    print(
        f"wrote {out}/profiles.json, metrics.json, customers.csv, model.joblib "
        f"({m['timings']['total']:.1f} s, peak {m['peak_memory_mb']:.0f} MB)"
    )
    return 0


def _print_units(m: dict) -> None:
    """The unit each duration column was read in, and why; an unknown one on standard error with the flag."""
    for unit_key, guess in (m.get("behaviour_units") or {}).items():
        if unit_key == "recurring_charge" or not guess:
            continue
        column = (m.get("behaviour_roles") or {}).get(unit_key.replace("_unit", "_col"))
        what = unit_key.removesuffix("_unit")
        if guess["unit"] == "unknown":
            print(
                f"{what} {column!r}: unit unknown ({guess['evidence']}); state it with --{what}-unit",
                file=sys.stderr,
            )
        else:
            print(f"{what} {column!r} read in {guess['unit']} ({guess['evidence']})")


def _use_dask(args) -> bool:
    """--engine dask, or --engine auto with a Parquet table above the Dask threshold (dask_path.DASK_MIN_ROWS)."""
    if args.engine == "single":
        return False
    from .dask_path import parquet_rows, wants_dask

    if args.engine == "dask":
        return True
    return Path(args.input).suffix.lower() in ("", ".parquet", ".pq") and wants_dask(parquet_rows(args.input))


def _analyze_with_dask(args, config, progress) -> int:
    import os

    from .dask_path import analyze_distributed

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    result = analyze_distributed(
        args.input,
        config,
        out / "customers.parquet",
        scheduler_address=args.scheduler or os.environ.get("DASK_SCHEDULER_ADDRESS") or None,
        n_workers=args.workers,
        progress=progress,
    )
    (out / "profiles.json").write_text(json.dumps(result.profiles, indent=2))
    (out / "metrics.json").write_text(json.dumps(result.metrics, indent=2))
    result.model.save(out / "model.joblib")
    d = result.metrics["distributed"]
    print(
        f"{result.n_rows:,} customers in {result.partitions} partitions, {result.metrics['n_segments']} segments "
        f"fitted on {d['sample_rows']:,} sampled rows (Dask, {d['scheduler']})"
    )
    _print_table(result.profiles)
    workers = ", ".join(f"{v:.0f}" for v in d["worker_peak_memory_mb"].values())
    print(
        f"wrote {out}/profiles.json, metrics.json, customers.parquet/, model.joblib "
        f"({sum(d['timings'].values()):.1f} s; peak memory: driver {d['driver_peak_memory_mb']:.0f} MB, "
        f"workers {workers} MB)"
    )
    return 0


def cmd_predict(args) -> int:
    from .pipeline import load_model
    from .predict import predict_segment

    model = load_model(args.model)
    records = read_table(args.records)
    if not isinstance(records, list):
        records = records.astype(object).where(records.notna(), None).to_dict("records")
    result = predict_segment(model, records)
    print(json.dumps(result, indent=2, default=str))
    return 0


def cmd_synth(args) -> int:
    from .synthetic import generate_synthetic

    if args.rows < 1:
        raise EngineError("--rows must be at least 1")
    t = time.perf_counter()
    df = generate_synthetic(
        args.rows, seed=args.seed, include_segment_labels=args.labels, include_churn_label=args.churn_label
    )
    df.to_csv(args.out, index=False, date_format="%Y-%m-%d")
    print(f"wrote {len(df):,} synthetic customers to {args.out} in {time.perf_counter() - t:.1f} s")
    return 0


def cmd_clv(args) -> int:
    import pandas as pd

    from .clv import CUSTOMER_COLUMNS, CLVConfig, fit_clv

    config = CLVConfig(
        customer_col=args.customer_col,
        date_col=args.date_col,
        amount_col=args.amount_col,
        order_id_col=args.order_col,
        calibration_end=args.calibration_end,
        observation_end=args.as_of,
        horizon_days=args.horizon_days,
        discount_rate=args.discount_rate,
        random_state=args.seed,
    )

    def progress(stage: str, pct: float) -> None:
        if args.verbose:
            print(f"[{pct:5.1f}%] {stage}", file=sys.stderr)

    result = fit_clv(args.input, config, progress=progress)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    customers = result.customers.reindex(columns=CUSTOMER_COLUMNS)
    customers.to_csv(out / "clv_customers.csv", index=False)
    (out / "clv_metrics.json").write_text(json.dumps(result.metrics, indent=2, default=str))
    m = result.metrics
    print(
        f"{m['summary']['customers']:,} customers, {m['ingest']['orders_used']:,} orders "
        f"({m['periods']['first_order']} to {m['periods']['fitting_period_end']})"
    )
    if not result.eligible:
        print("No lifetime-value model: the log does not support one yet.")
        for r in result.reasons:
            print(f"- {r['message']}\n  What to do: {r['advice']}")
    else:
        h = m["holdout"]
        for s in h["models"].values():
            if "error" in s:
                print(f"  {s['label']:<11} failed: {s['error']}")
                continue
            print(
                f"  {s['label']:<11} holdout MAE {s['mae']:.3f}  total purchases {s['purchases_error']:+.1%}  "
                f"spend {s['spend_error']:+.1%}  80% range coverage {s['ranges']['coverage']:.1%}"
            )
        print(f"chosen: {m['model']['label']} ({h['chosen_because']})")
        print(h["accuracy_sentence"])
        if "after_calibration_end" in m:
            print("after the calibration end: " + m["after_calibration_end"]["accuracy_sentence"])
        total = pd.to_numeric(customers["clv"]).sum()
        print(
            f"expected value over {m['periods']['horizon_days']} days: {total:,.0f} (discount rate {m['discount_rate']:.0%})"
        )
    print(f"wrote {out}/clv_customers.csv, clv_metrics.json ({m['timings']['total']:.1f} s)")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m segments.engine", description="SegSaaS segmentation engine")
    sub = parser.add_subparsers(dest="command", required=True)
    a = sub.add_parser("analyze", help="segment a CSV of customers")
    a.add_argument("input")
    a.add_argument("--out", required=True)
    a.add_argument("--algorithm", default="kmeans", choices=list(ALGORITHMS))
    a.add_argument("--k", default="auto", help="auto or a number of segments")
    a.add_argument("--eps", type=float, default=None, help="DBSCAN's radius (default: chosen from the data)")
    a.add_argument("--k-min", type=int, default=2)
    a.add_argument("--k-max", type=int, default=10)
    for name in ("categorical", "text", "date", "numeric", "monetary", "ignore"):
        a.add_argument(f"--{name}", default=None, help="comma-separated column names")
    for name in ("id-col", "churn-label", "recency", "frequency", "tenure"):
        a.add_argument(f"--{name}", default=None)
    for name in ("recency", "tenure"):
        a.add_argument(
            f"--{name}-unit",
            default=None,
            choices=UNITS,
            help=f"what the {name} column counts (default: inferred from its name, values and the money columns; "
            "a unit nothing states is 'unknown' and no duration figure is derived from it)",
        )
    a.add_argument(
        "--charge-col",
        default=None,
        help="a recurring charge per period (e.g. plan_price) whose name does not say the period; with "
        "--charge-period it gives a subscription LTV like a column named monthly_charges",
    )
    a.add_argument("--charge-period", default=None, choices=CHARGE_PERIODS, help="what --charge-col is charged per")
    a.add_argument(
        "--nlp",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="sentiment and TF-IDF features for text columns (default on)",
    )
    a.add_argument("--seed", type=int, default=42)
    a.add_argument("--horizon", type=int, default=12, help="LTV horizon in months")
    a.add_argument(
        "--engine",
        default="auto",
        choices=["auto", "single", "dask"],
        help="dask: partitioned Parquet through Dask (auto: when a Parquet table has more rows than "
        "SEGSAAS_DASK_MIN_ROWS, default 5,000,000)",
    )
    a.add_argument(
        "--scheduler", default=None, help="Dask scheduler address (default DASK_SCHEDULER_ADDRESS, else local)"
    )
    a.add_argument("--workers", type=int, default=None, help="worker processes of the local Dask cluster (default 2)")
    a.add_argument("-v", "--verbose", action="store_true")
    a.set_defaults(func=cmd_analyze)
    p = sub.add_parser("predict", help="score records with a saved model")
    p.add_argument("model")
    p.add_argument("records", help="RECORDS.json (object or list) or RECORDS.csv")
    p.set_defaults(func=cmd_predict)
    s = sub.add_parser("synth", help="write synthetic customers")
    s.add_argument("out")
    s.add_argument("--rows", type=int, default=10_000)
    s.add_argument("--seed", type=int, default=42)
    s.add_argument("--labels", action="store_true", help="include the hidden true_segment column")
    s.add_argument("--churn-label", action="store_true", help="include a churned column")
    s.set_defaults(func=cmd_synth)
    c = sub.add_parser("clv", help="lifetime value per customer from an order log (CSV, CSV.gz or Parquet)")
    c.add_argument("input", help="ORDERS.csv: one row per order")
    c.add_argument("--customer-col", required=True)
    c.add_argument("--date-col", required=True)
    c.add_argument("--amount-col", required=True, help="order amount; refunds as negative amounts")
    c.add_argument("--order-col", default=None, help="order id: repeated ids are dropped as duplicates")
    c.add_argument("--out", required=True)
    c.add_argument(
        "--calibration-end",
        default=None,
        help="YYYY-MM-DD: use orders up to this date and predict from it to the end of the log (or --horizon-days), "
        "to compare with what happened (use --discount-rate 0 to compare clv with actual spend)",
    )
    c.add_argument(
        "--horizon-days", type=int, default=None, help="default 365 (or the rest of the log after --calibration-end)"
    )
    c.add_argument("--discount-rate", type=float, default=0.10, help="yearly, default 0.10")
    c.add_argument("--as-of", default=None, help="YYYY-MM-DD the extract was taken (later orders are future-dated)")
    c.add_argument("--seed", type=int, default=42)
    c.add_argument("-v", "--verbose", action="store_true")
    c.set_defaults(func=cmd_clv)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except EngineError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except MemoryError:
        print("error: out of memory; try a smaller file", file=sys.stderr)
        return 3
