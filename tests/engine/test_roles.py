import numpy as np
import pandas as pd

from segments.engine import AnalysisConfig, analyze, infer_behaviour_roles, infer_roles


def _frame(n=400, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "customer_id": [f"U{i:05d}" for i in range(n)],
            "total_spend": rng.gamma(2, 100, n).round(2),
            "orders": rng.integers(1, 30, n),
            "days_since_last_purchase": rng.integers(0, 400, n),
            "tenure_days": rng.integers(400, 900, n),
            "plan": rng.choice(["basic", "pro"], n),
            "region": rng.choice(["north", "south", "east", "west"], n),
            "city": rng.choice([f"city{i}" for i in range(40)], n),
            "signup_date": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 500, n), unit="D"),
            "feedback": rng.choice(
                [
                    "I really love this shop a lot",
                    "The delivery was slow and bad",
                    "Okay experience with average prices",
                ],
                n,
            ),
            "constant": 7,
            "empty": [None] * n,
            "churned": rng.integers(0, 2, n),
        }
    )


def test_it_infers_every_role():
    roles = infer_roles(_frame())
    assert roles["customer_id"] == "identifier"
    assert roles["total_spend"] == "monetary"
    assert roles["orders"] == "numeric"
    assert roles["plan"] == "categorical"
    assert roles["region"] == "categorical"
    assert roles["signup_date"] == "date"
    assert roles["feedback"] == "text"
    assert roles["constant"] == "ignore"
    assert roles["empty"] == "ignore"
    assert roles["churned"] == "churn_label"


def test_it_infers_behaviour_roles_from_names():
    beh = infer_behaviour_roles(_frame())
    assert beh == {"recency_col": "days_since_last_purchase", "frequency_col": "orders", "tenure_col": "tenure_days"}


def test_config_overrides_inferred_roles():
    cfg = AnalysisConfig(categorical_cols=["orders"], ignore_cols=["city"], text_cols=["plan"], id_col="customer_id")
    roles = infer_roles(_frame(), cfg)
    assert roles["orders"] == "categorical"
    assert roles["city"] == "ignore"
    assert roles["plan"] == "text"


def test_dates_become_days_ago_month_and_year_relative_to_newest_date():
    df = _frame()
    result = analyze(df.drop(columns=["churned"]), AnalysisConfig(n_clusters=3))
    feats = result.metrics["features"]
    assert "signup_date (days ago)" in feats and "signup_date (month)" in feats and "signup_date (year)" in feats
    assert result.metrics["reference_date"] == str(df["signup_date"].max().date())


def test_categoricals_label_onehot_and_top_levels():
    result = analyze(_frame().drop(columns=["churned"]), AnalysisConfig(n_clusters=3, top_levels=5))
    feats = result.metrics["features"]
    assert "plan" in feats  # two levels: one integer code
    assert {"region=north", "region=south", "region=east", "region=west"} <= set(feats)  # one-hot
    city = [f for f in feats if f.startswith("city=")]
    assert len(city) == 6 and "city=other" in city  # 40 levels: top 5 + other


def test_text_gets_counts_sentiment_and_topics_with_nlp():
    df = _frame().drop(columns=["churned"])
    with_nlp = analyze(df, AnalysisConfig(n_clusters=3, nlp=True)).metrics["features"]
    without = analyze(df, AnalysisConfig(n_clusters=3, nlp=False)).metrics["features"]
    assert "feedback (words)" in without and "feedback (length)" in without
    assert "feedback (sentiment)" not in without
    assert "feedback (sentiment)" in with_nlp and "feedback (subjectivity)" in with_nlp
    assert any(f.startswith("feedback (topic") for f in with_nlp)


def test_identifier_and_ignored_columns_never_enter_the_model():
    result = analyze(_frame().drop(columns=["churned"]), AnalysisConfig(n_clusters=3))
    feats = result.metrics["features"]
    assert not any(f.startswith(("customer_id", "constant", "empty")) for f in feats)
    assert result.metrics["ignored_columns"] == {"constant": "constant", "empty": "all values missing"}
    assert result.customers["customer_id"].iloc[0] == "U00000"


def test_missing_indicator_added_when_missingness_is_common():
    df = _frame().drop(columns=["churned"])
    df.loc[df.index[:80], "total_spend"] = np.nan  # 20% missing
    feats = analyze(df, AnalysisConfig(n_clusters=3)).metrics["features"]
    assert "total_spend (missing)" in feats
    assert "orders (missing)" not in feats


def test_recency_can_come_from_a_last_activity_date():
    df = _frame().drop(columns=["churned", "days_since_last_purchase"])
    df["last_purchase_date"] = pd.Timestamp("2025-06-01") - pd.to_timedelta(np.arange(len(df)) % 300, unit="D")
    beh = infer_behaviour_roles(df)
    assert beh["recency_col"] == "last_purchase_date"
