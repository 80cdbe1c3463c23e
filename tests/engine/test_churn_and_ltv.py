import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr
from sklearn.metrics import roc_auc_score

from segments.engine import AnalysisConfig, EngineError, analyze


def test_without_label_churn_uses_a_purchase_model_and_reports_no_accuracy(default_result):
    churn = default_result.metrics["churn"]
    assert churn["method"] == "mbg_nbd"
    for forbidden in ("auc", "accuracy", "precision", "recall", "f1"):
        assert forbidden not in churn
    assert "No accuracy is reported" in churn["note"]


def test_churn_risk_rises_with_recency(customers, default_result):
    recency = (pd.Timestamp("2026-06-30") - customers["last_purchase_date"]).dt.days
    rho = spearmanr(default_result.customers["churn_risk"], recency)[0]
    assert rho > 0.5
    assert default_result.metrics["churn"]["direction_check"]["ok"] is True


def test_churn_risk_ranks_the_simulated_future_churners(customers_with_truth, default_result):
    auc = roc_auc_score(customers_with_truth["churned"], default_result.customers["churn_risk"])
    assert auc > 0.85


def test_churn_risk_is_a_probability(default_result):
    risk = default_result.customers["churn_risk"]
    assert risk.between(0, 1).all()


def test_with_a_real_label_churn_is_supervised_with_auc_and_calibration(customers_with_truth):
    df = customers_with_truth.drop(columns=["true_segment", "future_spend_12m"])
    result = analyze(df, AnalysisConfig(churn_label_col="churned", n_clusters=4))
    churn = result.metrics["churn"]
    assert churn["method"] == "supervised"
    assert 0.7 < churn["auc"] <= 1.0
    assert churn["calibration"] and {"predicted", "observed", "count"} <= set(churn["calibration"][0])
    assert "churned" not in result.metrics["features"]


def test_a_label_derived_from_an_input_is_excluded_as_leakage(customers):
    df = customers.copy()
    df["churn_flag"] = (df["days_since_last_visit"].fillna(0) > 60).astype(int)
    result = analyze(df, AnalysisConfig(churn_label_col="churn_flag", n_clusters=4))
    churn = result.metrics["churn"]
    leaked = [d["feature"] for d in churn["excluded_as_leakage"]]
    assert "days_since_last_visit" in leaked
    assert "days_since_last_visit" in churn["note"]


def test_recency_only_data_combines_recency_with_a_model_of_the_other_behaviour():
    rng = np.random.default_rng(0)
    n = 800
    visits = rng.poisson(6, n)
    recency = rng.integers(0, 300, n) + (12 - np.minimum(visits, 12)) * 10  # fewer visits, longer since last
    df = pd.DataFrame({"days_since_last_visit": recency, "spend": rng.gamma(2, 50, n), "visits": visits})
    result = analyze(df, AnalysisConfig(n_clusters=3))
    churn = result.metrics["churn"]
    assert churn["method"] == "recency_plus_behaviour"
    assert "auc" not in churn and "not a churn accuracy" in churn["note"]
    assert churn["proxy_auc"] > 0.5
    rho = spearmanr(result.customers["churn_risk"], df["days_since_last_visit"])[0]
    assert rho > 0.7


def test_one_class_churn_label_is_rejected(customers):
    df = customers.copy()
    df["churned"] = 0
    with pytest.raises(EngineError, match=r"column 'churned'.*only the value 0"):
        analyze(df, AnalysisConfig(churn_label_col="churned"))


def test_ltv_states_target_horizon_and_held_out_scores(default_result):
    ltv = default_result.metrics["ltv"]
    assert ltv["horizon_months"] == 12
    assert "12 months" in ltv["target"]
    assert ltv["r2"] is not None and ltv["mae"] is not None
    assert (default_result.customers["predicted_ltv"] >= 0).all()


def test_ltv_is_not_a_copy_of_past_spend(customers_with_truth, default_result):
    pred = default_result.customers["predicted_ltv"]
    future = customers_with_truth["future_spend_12m"]
    past = customers_with_truth["total_spend"].fillna(0)
    assert np.corrcoef(pred, future)[0, 1] > np.corrcoef(past, future)[0, 1]


def test_ltv_horizon_is_configurable(small_customers):
    short = analyze(small_customers, AnalysisConfig(n_clusters=4, ltv_horizon_months=3))
    long = analyze(small_customers, AnalysisConfig(n_clusters=4, ltv_horizon_months=24))
    assert short.customers["predicted_ltv"].mean() < long.customers["predicted_ltv"].mean()
    assert short.metrics["ltv"]["horizon_months"] == 3


def test_no_monetary_column_means_ltv_unavailable():
    rng = np.random.default_rng(1)
    df = pd.DataFrame({"sessions": rng.poisson(5, 300), "tickets": rng.poisson(1, 300)})
    result = analyze(df, AnalysisConfig(n_clusters=2))
    assert result.metrics["ltv"]["method"] == "unavailable"
    assert result.metrics["churn"]["method"] == "unavailable"
    assert all(p["avg_ltv"] is None for p in result.profiles)
