"""The engine's command line states units (--tenure-unit, --recency-unit) and refuses impossible predict records
with exit code 2 and the message naming the field and value."""

import json
import os
import subprocess
import sys
from pathlib import Path

from telco_fixture import telco_frame

ROOT = Path(__file__).resolve().parents[2]


def _cli(*args, cwd):
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.run(
        [sys.executable, "-m", "segments.engine", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


def test_units_are_stated_on_the_command_line_and_predict_refuses_with_exit_code_2(tmp_path):
    telco_frame(1200).to_csv(tmp_path / "telco.csv", index=False)
    out = _cli("analyze", "telco.csv", "--out", "inferred", "--k", "3", "--no-nlp", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "tenure 'tenure' read in months ('TotalCharges' ≈ 'tenure' × 'MonthlyCharges'" in out.stdout
    inferred = json.loads((tmp_path / "inferred" / "metrics.json").read_text())
    assert inferred["behaviour_units"]["tenure_unit"]["unit"] == "months"
    out = _cli("analyze", "telco.csv", "--out", "stated", "--k", "3", "--no-nlp", "--tenure-unit", "days", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    stated = json.loads((tmp_path / "stated" / "metrics.json").read_text())
    assert stated["behaviour_units"]["tenure_unit"] == {
        "unit": "days",
        "source": "stated",
        "evidence": "stated for 'tenure'",
    }
    out = _cli("analyze", "telco.csv", "--out", "bad", "--tenure-unit", "fortnights", cwd=tmp_path)
    assert out.returncode == 2 and "--tenure-unit" in out.stderr and "fortnights" in out.stderr

    (tmp_path / "bad.json").write_text(json.dumps([{"tenure": 5, "MonthlyCharges": -20.0}]))
    out = _cli("predict", "inferred/model.joblib", "bad.json", cwd=tmp_path)
    assert out.returncode == 2
    assert "record 1: field 'MonthlyCharges' is -20.0: a negative amount of money" in out.stderr
    (tmp_path / "empty.json").write_text(json.dumps([{}]))
    out = _cli("predict", "inferred/model.joblib", "empty.json", cwd=tmp_path)
    assert out.returncode == 2 and "record 1: no usable field" in out.stderr
    (tmp_path / "good.json").write_text(json.dumps([{"tenure": 5, "MonthlyCharges": 70.0, "Contract": "Weekly"}]))
    out = _cli("predict", "inferred/model.joblib", "good.json", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    [prediction] = json.loads(out.stdout)
    assert prediction["unseen_values"] == {"Contract": "Weekly"} and "TotalCharges" in prediction["imputed_fields"]
    assert 0 < prediction["predicted_ltv"] <= 12 * 70.0 * 1.1


def test_a_recurring_charge_is_declared_on_the_command_line(tmp_path):
    frame = telco_frame(1200).rename(columns={"MonthlyCharges": "plan_price"}).drop(columns=["TotalCharges"])
    frame.to_csv(tmp_path / "plans.csv", index=False)
    common = ("--k", "3", "--no-nlp", "--churn-label", "Churn", "--tenure-unit", "months")
    out = _cli("analyze", "plans.csv", "--out", "plain", *common, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert json.loads((tmp_path / "plain" / "metrics.json").read_text())["ltv"]["method"] == "unavailable"
    args = ("--charge-col", "plan_price", "--charge-period", "months")
    out = _cli("analyze", "plans.csv", "--out", "declared", *common, *args, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    metrics = json.loads((tmp_path / "declared" / "metrics.json").read_text())
    assert metrics["ltv"]["method"] == "gradient_boosting_on_subscription"
    assert metrics["behaviour_units"]["recurring_charge"]["column"] == "plan_price"
    out = _cli("analyze", "plans.csv", "--out", "bad", "--charge-col", "plan_price", cwd=tmp_path)
    assert out.returncode == 2 and "charged per" in out.stderr
