import pandas as pd

from segments.engine import generate_synthetic, infer_behaviour_roles


def test_synthetic_customers_have_the_promised_columns():
    df = generate_synthetic(2000, seed=1)
    for col in (
        "customer_id",
        "total_spend",
        "orders",
        "avg_order_value",
        "days_since_last_visit",
        "sessions_per_month",
        "support_tickets",
        "tenure_days",
        "discount_usage",
        "region",
        "device",
        "channel",
        "city",
        "signup_date",
        "last_purchase_date",
        "review",
    ):
        assert col in df.columns
    assert "true_segment" not in df.columns and "churned" not in df.columns
    assert df["city"].nunique() > 50
    assert df["customer_id"].is_unique
    missing = df[["total_spend", "region", "review"]].isna().mean()
    assert ((missing > 0.01) & (missing < 0.04)).all()
    assert infer_behaviour_roles(df)["recency_col"] == "last_purchase_date"


def test_synthetic_is_reproducible_from_the_seed_and_labels_are_optional():
    a = generate_synthetic(500, seed=9, include_segment_labels=True, include_churn_label=True)
    b = generate_synthetic(500, seed=9, include_segment_labels=True, include_churn_label=True)
    pd.testing.assert_frame_equal(a, b)
    assert set(a["true_segment"].unique()) == {0, 1, 2, 3, 4}
    assert set(a["churned"].unique()) == {0, 1}
    assert not generate_synthetic(500, seed=10).equals(generate_synthetic(500, seed=9))


def test_review_sentiment_follows_the_segment():
    from textblob import TextBlob

    df = generate_synthetic(1500, seed=2, include_segment_labels=True).dropna(subset=["review"])
    pol = df["review"].map(lambda t: TextBlob(t).sentiment.polarity)
    by_seg = pol.groupby(df["true_segment"]).mean()
    assert by_seg[0] > by_seg[1]  # VIP loyalists happier than at-risk budget buyers


def test_reviews_vary_like_a_real_review_column():
    """Real review columns are mostly distinct, short and long, positive, neutral, negative and mixed, with
    negations, typos and non-ASCII: the text encoder is measured (bench/engine.py) on text like that."""
    reviews = generate_synthetic(20_000, seed=3)["review"].dropna()
    assert reviews.nunique() > 0.6 * len(reviews)
    assert reviews.value_counts().iloc[0] > 0.01 * len(reviews)  # a few short reviews repeat word for word
    words = reviews.str.split().str.len()
    assert words.min() == 1 and words.max() >= 20
    assert reviews.str.contains(r"\b(?:but|although|however|yet)\b", case=False).mean() > 0.02  # mixed
    assert reviews.str.contains(r"\b(?:not|never)\b", case=False).mean() > 0.05
    assert not reviews.map(str.isascii).all()


def test_distinct_reviews_grow_with_the_table_but_more_slowly():
    small = generate_synthetic(10_000, seed=3)["review"].nunique()
    large = generate_synthetic(100_000, seed=3)["review"].nunique()
    assert 0.45 * 100_000 < large < 8 * small  # about half distinct at 100k rows; the one-clause texts repeat
