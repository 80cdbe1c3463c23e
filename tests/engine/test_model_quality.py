"""Honest model quality: churn scores out of sample, the better of two model families kept by cross-validation,
label leakage flagged, and an LTV fit presented as what it is (a fit to an estimate, not accuracy)."""

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from segments.engine import AnalysisConfig, analyze, generate_synthetic
from segments.engine.vocabulary import ltv_fidelity


@pytest.fixture(scope="module")
def leaky():
    df = generate_synthetic(3000, seed=11)
    # the generator's customers 120 days away have under 3 sessions anyway: make the two columns independent
    df["sessions_per_month"] = np.random.default_rng(0).permutation(df["sessions_per_month"].to_numpy())
    df["churned"] = ((df["days_since_last_visit"] > 120) & (df["sessions_per_month"] < 3)).astype(int)
    return analyze(df, AnalysisConfig(churn_label_col="churned", n_clusters=4, nlp=False))


def test_a_label_computed_from_two_columns_is_flagged_as_leakage_naming_both(leaky):
    churn = leaky.metrics["churn"]
    assert churn["leakage"]["suspected"] is True
    assert {"days_since_last_visit", "sessions_per_month"} <= set(churn["leakage"]["columns"])
    assert len(churn["leakage"]["columns"]) <= 3
    [warning] = [w for w in leaky.metrics["warnings"] if "leakage" in w]
    assert "days_since_last_visit" in warning and "sessions_per_month" in warning


def test_an_honest_label_raises_no_leakage_warning():
    rng = np.random.default_rng(3)
    df = generate_synthetic(2500, seed=5)
    # churn driven by behaviour but noisy: no rule on three columns reproduces it
    z = (
        -0.02 * df["days_since_last_visit"].fillna(30)
        + 0.15 * df["sessions_per_month"].fillna(5)
        + rng.normal(0, 1.5, len(df))
    )
    df["churned"] = (z < np.quantile(z, 0.2)).astype(int)
    result = analyze(df, AnalysisConfig(churn_label_col="churned", n_clusters=3, nlp=False))
    assert "leakage" not in result.metrics["churn"]
    assert not [w for w in result.metrics["warnings"] if "leakage" in w]
    assert 0.6 < result.metrics["churn"]["auc"] < 0.98


def test_training_customers_carry_out_of_fold_scores_not_in_sample_ones():
    """A label of pure noise: in-sample scores of a boosted model would rank it (AUC well above 0.5); scores
    from models that never saw the customer cannot."""
    rng = np.random.default_rng(0)
    df = generate_synthetic(2000, seed=2)
    df["churned"] = rng.integers(0, 2, len(df))
    result = analyze(df, AnalysisConfig(churn_label_col="churned", n_clusters=3, nlp=False))
    stored = result.customers["churn_risk"].to_numpy()
    assert abs(roc_auc_score(df["churned"], stored) - 0.5) < 0.06
    in_sample = result.model.churn_model.predict(result.model.preprocessor.transform(df)[0], {})
    assert roc_auc_score(df["churned"], in_sample) > 0.6  # what storing in-sample scores would have shown
    assert "out-of-fold" in result.metrics["churn"]["scores"]


def test_unlabelled_customers_are_scored_by_the_model_and_labelled_ones_keep_their_out_of_fold_score():
    rng = np.random.default_rng(1)
    df = generate_synthetic(1500, seed=4)
    df["churned"] = rng.integers(0, 2, len(df)).astype(float)
    df.loc[:99, "churned"] = np.nan
    result = analyze(df, AnalysisConfig(churn_label_col="churned", n_clusters=3, nlp=False))
    stored = result.customers["churn_risk"].to_numpy()
    model_scores = np.round(result.model.churn_model.predict(result.model.preprocessor.transform(df)[0], {}), 6)
    np.testing.assert_allclose(stored[:100], model_scores[:100], atol=1e-6)
    labelled = df["churned"].notna().to_numpy()
    assert abs(roc_auc_score(df["churned"][labelled], stored[labelled]) - 0.5) < 0.07


def test_the_kept_churn_model_is_the_best_by_cross_validation_and_is_named(leaky):
    churn = leaky.metrics["churn"]
    assert set(churn["cv_auc"]) == {"logistic", "gradient_boosting", "blend"}
    assert churn["model"] == max(churn["cv_auc"], key=churn["cv_auc"].get)
    assert churn["model_label"] in churn["note"] and churn["model_label"] in churn["method_label"]


def test_a_linear_signal_keeps_a_model_with_the_logistic_regression_in_it():
    rng = np.random.default_rng(7)
    n = 3000
    X = rng.normal(size=(n, 8))
    z = X @ np.array([1.0, -0.8, 0.6, 0.5, -0.4, 0.3, 0.3, -0.2])
    df = pd.DataFrame(X, columns=[f"usage_{i}" for i in range(8)])
    df["churned"] = (rng.random(n) < 1 / (1 + np.exp(-(z - 1.0)))).astype(int)
    result = analyze(df, AnalysisConfig(churn_label_col="churned", n_clusters=3))
    churn = result.metrics["churn"]
    assert churn["cv_auc"]["logistic"] > churn["cv_auc"]["gradient_boosting"]
    assert churn["model"] in ("logistic", "blend")
    # the kept model scores new records the way it scored the table
    few = result.model.churn_model.predict(result.model.preprocessor.transform(df.head(5))[0], {})
    many = result.model.churn_model.predict(result.model.preprocessor.transform(df)[0], {})[:5]
    np.testing.assert_allclose(few, many, atol=1e-9)


def test_the_ltv_fit_reads_as_reproducing_its_target_never_as_accuracy(default_result):
    ltv = default_result.metrics["ltv"]
    assert ltv["method"] == "gradient_boosting_on_mbg_nbd_gamma_gamma"
    assert ltv["fidelity"] == f"reproduces the MBG/NBD × Gamma-Gamma estimate, R² {ltv['r2']:.2f}"
    assert ltv_fidelity(ltv) == ltv["fidelity"]
    assert ltv["accuracy"] is None and "no observed future spend" in ltv["accuracy_note"]


def test_the_command_line_prints_the_suspect_auc_the_structure_and_the_warnings(tmp_path, capsys):
    from segments.engine.cli import main

    df = generate_synthetic(2000, seed=11)
    df["sessions_per_month"] = np.random.default_rng(0).permutation(df["sessions_per_month"].to_numpy())
    df["churned"] = ((df["days_since_last_visit"] > 120) & (df["sessions_per_month"] < 3)).astype(int)
    df.to_csv(tmp_path / "leaky.csv", index=False)
    code = main(["analyze", str(tmp_path / "leaky.csv"), "--out", str(tmp_path / "out"), "--churn-label", "churned"])
    out = capsys.readouterr().out
    assert code == 0
    assert "held-out AUC" in out and "SUSPECT (likely label leakage" in out
    assert "warning: Likely churn label leakage" in out
    assert "segment structure (" in out
    assert "(a fit to an estimate, not accuracy)" in out


def test_the_engines_auc_equals_scikit_learns_with_ties():
    from segments.engine.predictive import _auc

    rng = np.random.default_rng(0)
    for n in (40, 3000):
        y = rng.integers(0, 2, n)
        s = np.round(rng.normal(size=n) + y, 1).astype(np.float32)  # many ties
        assert _auc(y, s) == pytest.approx(roc_auc_score(y, s), abs=1e-12)


def test_the_command_line_s_segment_table_prints_every_ltv_at_one_precision(capsys):
    """Cents below $100 and whole dollars above read as inconsistent in one column: once any segment's average
    reaches $100 the column is in whole amounts."""
    from segments.engine.cli import _print_table

    profiles = [
        {"segment": s, "name": f"S{s}", "size": 10, "share": 0.5, "avg_ltv": v, "avg_churn_risk": 0.1}
        for s, v in enumerate([33.37, 101.2])
    ]
    _print_table(profiles)
    rows = capsys.readouterr().out.splitlines()[2:]
    assert "$33 " in rows[0] and "$33.37" not in rows[0] and "$101 " in rows[1]
    _print_table(profiles[:1])
    assert "$33.37" in capsys.readouterr().out  # a column all under $100 keeps its cents
