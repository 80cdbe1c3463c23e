import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[2]


def _cli(*args, cwd):
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.run(
        [sys.executable, "-m", "segments.engine", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


def test_synth_analyze_predict_round_trip(tmp_path):
    out = _cli("synth", "--rows", "2000", "--seed", "4", "customers.csv", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    out = _cli("analyze", "customers.csv", "--out", "res", "--k", "auto", "--id-col", "customer_id", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "segments" in out.stdout
    res = tmp_path / "res"
    for name in ("profiles.json", "metrics.json", "customers.csv", "model.joblib"):
        assert (res / name).exists()
    metrics = json.loads((res / "metrics.json").read_text())
    assert {"k", "k_selection", "timings", "peak_memory_mb"} <= set(metrics)
    cust = pd.read_csv(res / "customers.csv")
    assert list(cust.columns[:7]) == [
        "customer_id",
        "segment",
        "segment_name",
        "churn_risk",
        "predicted_ltv",
        "pca_x",
        "pca_y",
    ]
    assert len(cust) == 2000 and cust["churn_risk"].between(0, 1).all()
    src = pd.read_csv(tmp_path / "customers.csv")
    src.head(3).to_csv(tmp_path / "records.csv", index=False)
    src.head(2).drop(columns=["customer_id"]).to_json(tmp_path / "records.json", orient="records")
    for records in ("records.csv", "records.json"):
        out = _cli("predict", "res/model.joblib", records, cwd=tmp_path)
        assert out.returncode == 0, out.stderr
        preds = json.loads(out.stdout)
        assert [p["segment"] for p in preds] == list(cust["segment"].head(len(preds)))
        assert set(preds[0]) == {
            "segment",
            "segment_name",
            "churn_risk",
            "predicted_ltv",
            "recommendations",
            "key_features",
            "imputed_fields",
            "unseen_values",
            "risk_level",
            "value_tier",
            "engagement_level",
        }
        assert preds[0]["recommendations"][0]["applies_to"] == "customer"


MESSY = """Customer ID,Total Spend,Orders,Last Purchase,Signup Date,Plan,Comment,Days Since Last Purchase
"""


def _messy_csv(path: Path, n=60):
    rows = ["Customer ID,Total Spend,Orders,Signup Date,Plan,Comment,Days Since Last Purchase,Tenure Days"]
    formats = ["2024-01-{d:02d}", "01/{d:02d}/2024", '"Jan {d}, 2024"']
    for i in range(n):
        spend = ['"$1,234.50"', "N/A", '"$12,000"', "$85.10", "(15.00)", "", "€99"][i % 7]
        orders = ["3", "12", "n/a", "1", "40", "7"][i % 6]
        date = formats[i % 3].format(d=(i % 27) + 1)
        plan = ["Basic", "Pro", " Pro ", "Enterprise", ""][i % 5]
        comment = ['"Great service, thanks"', "slow delivery", "", "ok", '"Terrible, never again"'][i % 5]
        recency = [str(i * 3 % 200), "-", "unknown" if i == 17 else "30"][i % 3]
        rows.append(f"C-{i:04d},{spend},{orders},{date},{plan},{comment},{recency},{300 + i * 5}")
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")


def test_messy_spreadsheet_export_runs_through_the_cli(tmp_path):
    _messy_csv(tmp_path / "messy.csv")
    out = _cli(
        "analyze",
        "messy.csv",
        "--out",
        "res",
        "--date",
        "Signup Date",
        "--monetary",
        "Total Spend",
        "--text",
        "Comment",
        cwd=tmp_path,
    )
    assert out.returncode == 0, out.stderr + out.stdout
    metrics = json.loads((tmp_path / "res" / "metrics.json").read_text())
    assert metrics["roles"]["Total Spend"] == "monetary"
    assert metrics["roles"]["Customer ID"] == "identifier"
    assert metrics["roles"]["Orders"] == "numeric"
    assert any("Days Since Last Purchase" in w for w in metrics["warnings"])
    cust = pd.read_csv(tmp_path / "res" / "customers.csv")
    assert cust["customer_id"].iloc[0] == "C-0000"
    profiles = json.loads((tmp_path / "res" / "profiles.json").read_text())
    assert sum(p["size"] for p in profiles) == 60


def test_cli_errors_are_one_line_messages_not_tracebacks(tmp_path):
    (tmp_path / "one.csv").write_text("spend,visits\n10,2\n")
    out = _cli("analyze", "one.csv", "--out", "res", cwd=tmp_path)
    assert out.returncode == 2
    assert out.stderr.startswith("error: ") and "Traceback" not in out.stderr
    assert "only one row" in out.stderr
    out = _cli("analyze", "missing.csv", "--out", "res", cwd=tmp_path)
    assert out.returncode == 2 and "does not exist" in out.stderr
    (tmp_path / "empty.csv").write_text("")
    out = _cli("analyze", "empty.csv", "--out", "res", cwd=tmp_path)
    assert out.returncode == 2 and "empty" in out.stderr
    out = _cli("predict", "one.csv", "one.csv", cwd=tmp_path)
    assert out.returncode == 2 and "not a SegSaaS model" in out.stderr
