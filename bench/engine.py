"""Benchmark the segmentation engine on synthetic customers.

    .venv/bin/python bench/engine.py --rows 100000 [--compare-full] [--recovery] [--algorithm kmeans]

The data is generated (and written to Parquet) in a separate process, so the figures below are for a
process that loads the customer table and runs the full default analysis (automatic k over 2..10, NLP on):
seconds per stage, total wall time, peak resident memory (ru_maxrss, includes the loaded table and the
imported libraries), rows/s. Library import time is reported separately: a Celery worker pays it once.

--recovery      adjusted Rand index of the segments vs the hidden true segments, and the ceiling: a
                supervised classifier (gradient boosting on the engine's features) trained on the true labels
                of half the customers and scored on the other half. Also checks churn risk against the
                simulated future churn label and predicted LTV against simulated 12-month spend.
--micro         instead of an analysis, the small figures the tests used to time: generating 100,000 customers,
                inferring roles on them, scoring one record and 10,000 records with predict_segment, and the
                text encoder's sentiment per distinct text against TextBlob's.
--real          the real telecom churn table (shared/realdata/mlc_churn.csv) analysed once per seed: held-out
                churn AUC of the kept model (reference: 5-fold HGB 0.924), the model cross-validation kept, the
                segment structure, wall and CPU seconds.
--compare-full  repeats the analysis with every row used for choosing k and fitting (fit_sample_size=None;
                silhouette stays on its fixed 6,000-row sample, an all-pairs silhouette on 100k rows is
                10^10 distances per k) and reports whether k matches and the ARI between the two labelings.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from segments.engine.vocabulary import ALGORITHMS  # noqa: E402  (light: no pandas, no scikit-learn)

HIDDEN = ["true_segment", "churned", "future_spend_12m"]


def _generate(rows: int, seed: int, path: Path) -> None:
    code = (
        f"import sys; sys.path.insert(0, {str(ROOT)!r})\n"
        "from segments.engine.synthetic import generate_synthetic\n"
        f"df = generate_synthetic({rows}, seed={seed}, include_segment_labels=True, include_churn_label=True,"
        " include_future_value=True)\n"
        f"df.to_parquet({str(path)!r}, index=False)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def _run(args) -> dict:
    import resource

    t0 = time.perf_counter()
    import numpy as np
    import pandas as pd
    import sklearn.cluster  # noqa: F401
    import sklearn.ensemble  # noqa: F401
    import textblob  # noqa: F401  (TextBlob pulls in NLTK: ~1.5 s, once per worker process)

    from segments.engine import AnalysisConfig, analyze

    import_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    df = pd.read_parquet(args.data)
    hidden = {c: df.pop(c).to_numpy() for c in HIDDEN if c in df.columns}
    load_s = time.perf_counter() - t0
    load_before = os.getloadavg()
    config = AnalysisConfig(algorithm=args.algorithm, random_state=args.seed, n_threads=args.threads)
    t0 = time.perf_counter()
    r0 = resource.getrusage(resource.RUSAGE_SELF)
    result = analyze(df, config)
    wall = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    load_after = os.getloadavg()
    m = result.metrics
    out = {
        "rows": len(df),
        "algorithm": args.algorithm,
        "import_seconds": round(import_s, 2),
        "load_seconds": round(load_s, 2),
        "stages": m["timings"],
        "wall_seconds": round(wall, 2),
        "rows_per_second": round(len(df) / wall),
        "cpu_seconds": round(cpu, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "k": m["k"],
        "chosen_by": m["k_selection"]["chosen_by"],
        "quality": m["quality"],
        "churn_method": m["churn"]["method"],
        "ltv_method": m["ltv"]["method"],
        "ltv_r2_vs_target": m["ltv"].get("r2"),
        "peak_rss_mb_after_stage": m["peak_memory_mb_after_stage"],
        "distinct_texts": {
            c: int(df[c].nunique()) for c, role in m["roles"].items() if role == "text" and c in df.columns
        },
        "loadavg_before": [round(x, 2) for x in load_before],
        "loadavg_after": [round(x, 2) for x in load_after],
    }
    labels = result.customers["segment"].to_numpy()
    if args.recovery:
        from sklearn.ensemble import HistGradientBoostingClassifier
        from sklearn.metrics import adjusted_rand_score, r2_score, roc_auc_score

        truth = hidden["true_segment"]
        out["ari_vs_truth"] = round(float(adjusted_rand_score(truth, labels)), 4)
        rng = np.random.default_rng(0)
        idx = rng.choice(len(df), min(len(df), 60_000), replace=False)
        X, _, _ = result.model.preprocessor.transform(df.iloc[idx].reset_index(drop=True))
        half = len(idx) // 2
        clf = HistGradientBoostingClassifier(random_state=0).fit(X[:half], truth[idx[:half]])
        ceiling = float(adjusted_rand_score(truth[idx[half:]], clf.predict(X[half:])))
        out["supervised_ceiling_ari"] = round(ceiling, 4)
        out["recovery_ratio"] = round(out["ari_vs_truth"] / ceiling, 4)
        out["recovery_ok"] = out["recovery_ratio"] >= 0.8
        churn = result.customers["churn_risk"].to_numpy()
        out["churn_auc_vs_simulated_future"] = round(float(roc_auc_score(hidden["churned"], churn)), 4)
        ltv = result.customers["predicted_ltv"].to_numpy()
        out["ltv_r2_vs_simulated_future_12m"] = round(float(r2_score(hidden["future_spend_12m"], ltv)), 4)
    if args.compare_full:
        from sklearn.metrics import adjusted_rand_score

        full_cfg = AnalysisConfig(algorithm=args.algorithm, random_state=args.seed, fit_sample_size=None)
        t0 = time.perf_counter()
        full = analyze(df, full_cfg)
        out["full_wall_seconds"] = round(time.perf_counter() - t0, 2)
        out["full_k"] = full.metrics["k"]
        out["full_chosen_by"] = full.metrics["k_selection"]["chosen_by"]
        out["sampled_vs_full_ari"] = round(float(adjusted_rand_score(full.customers["segment"], labels)), 4)
        out["sampling_ok"] = out["full_k"] == out["k"] and out["sampled_vs_full_ari"] >= 0.95
    return out


def _micro(rows: int, seed: int) -> None:
    """Small figures, each the median of a few repeats (the single-record call: of 50)."""
    import statistics

    import pandas as pd
    from textblob import TextBlob

    from segments.engine import AnalysisConfig, analyze, generate_synthetic, infer_roles, predict_segment
    from segments.engine.preprocess.sentiment import pattern_sentiment

    def timed(fn, repeat=3):
        times = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            out = fn()
            times.append(time.perf_counter() - t0)
        return statistics.median(times), out

    print(f"load average {[round(x, 2) for x in os.getloadavg()]}")
    secs, df = timed(lambda: generate_synthetic(rows, seed=seed))
    print(f"  generate_synthetic({rows:,})        {secs:8.3f} s   ({rows / secs:,.0f} rows/s)")
    secs, _ = timed(lambda: infer_roles(df))
    print(f"  infer_roles on {rows:,} rows      {secs:8.3f} s")
    model = analyze(df.head(3000), AnalysisConfig(n_clusters=5)).model
    record = df.drop(columns=["customer_id"]).iloc[3].to_dict()
    record = {k: (None if isinstance(v, float) and v != v else v) for k, v in record.items()}
    predict_segment(model, record)
    one = [timed(lambda: predict_segment(model, record), repeat=1)[0] for _ in range(50)]
    print(f"  predict_segment, one record      {statistics.median(one) * 1000:8.2f} ms (median of 50)")
    batch = df.head(10_000)
    secs, _ = timed(lambda: predict_segment(model, batch))
    print(f"  predict_segment, 10,000 records  {secs:8.3f} s")
    texts = [t for t in pd.unique(df["review"].dropna())][:2000]
    sentiment = pattern_sentiment()
    secs, _ = timed(lambda: sentiment(texts))
    tb, _ = timed(lambda: [TextBlob(t).sentiment for t in texts], repeat=1)
    print(
        f"  sentiment per distinct text      {secs / len(texts) * 1e6:8.1f} us (TextBlob(t).sentiment: "
        f"{tb / len(texts) * 1e6:.1f} us, {tb / secs:.1f}x)"
    )


REAL_TABLE = "realdata/mlc_churn.csv"
REAL_REFERENCE_AUC = 0.924  # realdata/README.md: 5-fold CV, histogram gradient boosting with scikit-learn defaults


def _real_table() -> Path | None:
    for shared in (ROOT.parent / "shared", ROOT.parent.parent / "shared"):
        if (shared / REAL_TABLE).exists():
            return shared / REAL_TABLE
    return None


def _real(seeds: int) -> int:
    """The full default analysis on the real telecom table (5,000 customers, observed churn label), once per
    seed: the held-out churn AUC of the model kept, which model cross-validation kept, the segment structure."""
    import resource
    import statistics

    import pandas as pd

    from segments.engine import AnalysisConfig, analyze

    path = _real_table()
    if path is None:
        print(f"{REAL_TABLE} not found next to the repository", file=sys.stderr)
        return 1
    df = pd.read_csv(path)
    print(f"{path.name}: {len(df):,} customers, {df.shape[1]} columns; load average {os.getloadavg()[0]:.2f}")
    aucs = []
    for seed in range(seeds):
        r0 = resource.getrusage(resource.RUSAGE_SELF)
        t0 = time.perf_counter()
        m = analyze(df, AnalysisConfig(random_state=seed)).metrics
        wall = time.perf_counter() - t0
        r1 = resource.getrusage(resource.RUSAGE_SELF)
        cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
        c, s = m["churn"], m["segment_structure"]
        aucs.append(c["auc"])
        cv = ", ".join(f"{k} {v:.3f}" for k, v in c["cv_auc"].items())
        print(
            f"  seed {seed}: churn held-out AUC {c['auc']:.3f} on {c['held_out_rows']:,} customers, kept "
            f"{c['model']} (CV AUC {cv}); leakage {'SUSPECTED' if c.get('leakage') else 'none'}; "
            f"k={m['k']}, structure {s['strength']} (ARI {s['evidence']['stability_ari']:.2f}, silhouette "
            f"{s['evidence']['silhouette']:.3f}); {wall:.2f} s wall, {cpu:.2f} s CPU"
        )
    print(
        f"  held-out churn AUC: mean {statistics.mean(aucs):.3f}, min {min(aucs):.3f} over {seeds} splits "
        f"(reference 5-fold HGB {REAL_REFERENCE_AUC}; need >= 0.92: "
        f"{'OK' if statistics.mean(aucs) >= 0.92 else 'FAIL'})"
    )
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--algorithm", default="kmeans", choices=list(ALGORITHMS))
    parser.add_argument("--recovery", action="store_true", help="measure ARI vs hidden segments and the ceiling")
    parser.add_argument("--compare-full", action="store_true", help="compare with an all-rows run")
    parser.add_argument("--micro", action="store_true", help="small figures instead of an analysis (see above)")
    parser.add_argument(
        "--real", action="store_true", help="the real telecom churn table: held-out churn AUC, model kept, structure"
    )
    parser.add_argument("--real-seeds", type=int, default=5, help="--real: splits (random states) to run")
    parser.add_argument("--threads", type=int, default=None, help="OpenMP/BLAS threads (default: engine's rule)")
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--data", help=argparse.SUPPRESS)  # internal: run the measurement on this Parquet file
    args = parser.parse_args()
    if args.micro:
        _micro(args.rows, args.seed)
        return 0
    if args.real:
        return _real(args.real_seeds)
    if args.data:
        print(json.dumps(_run(args)))
        return 0
    out_dir = ROOT / "bench" / "out"
    out_dir.mkdir(parents=True, exist_ok=True)
    data = out_dir / f"synthetic_{args.rows}_{args.seed}.parquet"
    t0 = time.perf_counter()
    _generate(args.rows, args.seed, data)  # always regenerate: the generator may have changed
    gen_s = time.perf_counter() - t0
    cmd = [
        sys.executable,
        __file__,
        "--rows",
        str(args.rows),
        "--seed",
        str(args.seed),
        "--algorithm",
        args.algorithm,
        "--data",
        str(data),
    ]
    cmd += ["--threads", str(args.threads)] if args.threads else []
    cmd += ["--recovery"] if args.recovery else []
    cmd += ["--compare-full"] if args.compare_full else []
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        print(proc.stderr, file=sys.stderr)
        return proc.returncode
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    res["generate_seconds"] = round(gen_s, 2)
    print(
        f"rows: {res['rows']:,}   algorithm: {res['algorithm']}   (data generated in {gen_s:.1f} s; "
        f"imports {res['import_seconds']} s, Parquet load {res['load_seconds']} s, not counted)"
    )
    for stage, secs in res["stages"].items():
        if stage != "total":
            print(f"  {stage:<28} {secs:8.2f} s")
    print(f"  {'TOTAL wall':<28} {res['wall_seconds']:8.2f} s   ({res['rows_per_second']:,} rows/s)")
    print(
        f"  {'CPU time (user+sys)':<28} {res['cpu_seconds']:8.2f} s   (with one thread: the wall time on an idle box)"
    )
    print(f"  peak RSS                     {res['peak_rss_mb']:8,} MB")
    after = ", ".join(f"{stage} {mb:,.0f}" for stage, mb in res["peak_rss_mb_after_stage"].items())
    print(f"  peak RSS after each stage (MB): {after}")
    for column, distinct in res["distinct_texts"].items():
        print(f"  text column {column!r}: {distinct:,} distinct texts in {res['rows']:,} rows")
    print(f"  k = {res['k']}: {res['chosen_by']}")
    q = res["quality"]
    print(
        f"  quality: silhouette {q['silhouette']}, Davies-Bouldin {q['davies_bouldin']}, "
        f"Calinski-Harabasz {q['calinski_harabasz']}, stability ARI {q['stability_ari']}"
    )
    print(f"  churn: {res['churn_method']}; LTV: {res['ltv_method']} (R2 vs its target {res['ltv_r2_vs_target']})")
    if "ari_vs_truth" in res:
        print(
            f"  recovery: ARI vs hidden segments {res['ari_vs_truth']}, supervised ceiling {res['supervised_ceiling_ari']}, "
            f"ratio {res['recovery_ratio']} (need >= 0.8: {'OK' if res['recovery_ok'] else 'FAIL'})"
        )
        print(
            f"  churn AUC vs simulated future churn {res['churn_auc_vs_simulated_future']}; "
            f"LTV R2 vs simulated 12-month spend {res['ltv_r2_vs_simulated_future_12m']}"
        )
    if "full_k" in res:
        print(
            f"  all-rows run: k = {res['full_k']} ({res['full_wall_seconds']} s); ARI sampled vs all rows "
            f"{res['sampled_vs_full_ari']} (need same k and >= 0.95: {'OK' if res['sampling_ok'] else 'FAIL'})"
        )
    print(f"  load average before/after: {res['loadavg_before']} / {res['loadavg_after']}")
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
