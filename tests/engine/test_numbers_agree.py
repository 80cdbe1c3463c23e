"""Every figure the engine states about a segment or a customer agrees with the numbers it prints next to it."""

import numpy as np
import pandas as pd
import pytest

from segments.engine import AnalysisConfig, EngineError, analyze, predict_segment
from segments.engine.profiles import RISK_HIGH, risk_levels, value_tiers


def _observed(customers, column):
    return pd.to_numeric(customers[column], errors="coerce").astype(float)


def test_a_distinguishing_feature_s_direction_sd_and_printed_means_agree(customers, default_result):
    """One definition: (segment mean - population mean) / population SD, on the values printed (the recorded
    values; skewed columns are log-transformed for the clustering only, never for what a person reads)."""
    labels = default_result.customers["segment"].to_numpy()
    checked = 0
    for p in default_result.profiles:
        for d in p["distinguishing_features"]:
            seg, pop, z = d["segment_mean"], d["population_mean"], d["z"]
            assert (z > 0) == (seg > pop), (p["name"], d)
            if d["feature"] in customers.columns and pd.api.types.is_numeric_dtype(customers[d["feature"]]):
                values = _observed(customers, d["feature"])
                assert seg == pytest.approx(values[labels == p["segment"]].mean(), rel=1e-4)
                assert pop == pytest.approx(values.mean(), rel=1e-4)
                assert z == pytest.approx((seg - pop) / values.std(ddof=0), abs=1e-3)
                checked += 1
            stat = p["stats"].get(d["feature"])
            if stat is not None:
                assert stat["z"] == pytest.approx(z, abs=1e-9)
                assert stat["mean"] == pytest.approx(seg, rel=1e-6)
    assert checked >= 5


def test_a_skewed_spend_column_is_never_called_higher_when_the_segment_spends_less(customers, default_result):
    labels = default_result.customers["segment"].to_numpy()
    spend = _observed(customers, "total_spend")
    for p in default_result.profiles:
        z = p["stats"]["total_spend"]["z"]
        gap = spend[labels == p["segment"]].mean() - spend.mean()
        assert np.sign(z) == np.sign(gap), p["name"]


def test_each_customer_s_risk_level_and_value_tier_are_their_own(default_result):
    c = default_result.customers
    population = default_result.metrics["insights"]["population"]
    avg = population["avg_churn_risk"]
    margin = max(0.05, 0.25 * avg)  # levels are relative to this client's average customer (profiles.RULES)
    assert (c.loc[c["churn_risk"] >= avg + margin, "risk_level"] == "high").all()
    assert (c.loc[c["churn_risk"] <= avg - margin, "risk_level"] == "low").all()
    assert (c.loc[c["risk_level"] == "high", "churn_risk"] > avg).all()  # "high" is never below average
    expected_risk = risk_levels(c["churn_risk"].to_numpy(), population["avg_churn_risk"], "mbg_nbd")
    assert (c["risk_level"].to_numpy() == expected_risk).all()
    ratio = c["predicted_ltv"] / population["avg_ltv"]
    assert (c.loc[ratio >= 1.25, "value_tier"] == "high").all()
    assert (c.loc[ratio <= 0.8, "value_tier"] == "low").all()
    # within one segment customers differ: the labels are not the segment's copied down
    assert any(len(set(g)) > 1 for _, g in c.groupby("segment")["risk_level"])


def test_segment_and_customer_labels_follow_the_same_rule(default_result):
    population = default_result.metrics["insights"]["population"]
    for p in default_result.profiles:
        assert p["risk_level"] == risk_levels([p["avg_churn_risk"]], population["avg_churn_risk"], "mbg_nbd")[0]
        assert p["value_tier"] == value_tiers([p["avg_ltv"]], population["avg_ltv"])[0]
    rules = default_result.metrics["insights"]["rules"]
    assert "average customer's churn risk" in rules["risk_level"] and "1.25" in rules["value_tier"]


def test_the_likely_to_leave_figure_counts_customers_not_segments(default_result):
    c = default_result.customers
    leaving = default_result.metrics["insights"]["population"]["likely_to_leave"]
    mask = c["churn_risk"] >= RISK_HIGH
    assert leaving["threshold"] == RISK_HIGH
    assert leaving["customers"] == int(mask.sum())
    assert leaving["predicted_value"] == pytest.approx(float(c.loc[mask, "predicted_ltv"].sum()), rel=1e-6)


def test_a_segment_has_a_potential_only_where_the_opportunity_lists_name_it(default_result):
    insights = default_result.metrics["insights"]
    growth = {g["segment"]: g["growth_potential"] for g in insights["growth_opportunities"]}
    develop = {u["segment"]: u["development_potential"] for u in insights["underperforming"]}
    assert growth and develop
    for p in default_result.profiles:
        assert p["growth_potential"] == growth.get(p["segment"])
        assert p["development_potential"] == develop.get(p["segment"])


@pytest.mark.parametrize(
    "config,expected,absent",
    [
        ({"n_clusters": 3}, "Clustering", "Choosing k"),
        ({"k_min": 2, "k_max": 3}, "Choosing k", None),
        ({"algorithm": "agglomerative", "n_clusters": 3}, "Clustering", "Choosing k"),
        ({"algorithm": "gmm", "n_clusters": 3}, "Clustering", "Choosing k"),
        ({"algorithm": "dbscan"}, "Choosing eps", "Choosing k"),
    ],
)
def test_the_progress_stage_says_what_the_clustering_does(small_customers, config, expected, absent):
    stages = []
    analyze(small_customers, AnalysisConfig.from_dict({"nlp": False, **config}), lambda s, p: stages.append(s))
    assert expected in stages
    if absent:
        assert absent not in stages


@pytest.fixture(scope="module")
def labelled_result(customers_with_truth):
    frame = customers_with_truth.drop(columns=["true_segment", "future_spend_12m"]).head(1500)
    return frame, analyze(frame, AnalysisConfig(n_clusters=3, nlp=False))


def test_predict_does_not_ask_for_the_churn_label_or_the_customer_id(labelled_result):
    frame, result = labelled_result
    assert result.metrics["churn"]["method"] == "supervised"
    with pytest.raises(EngineError) as info:
        predict_segment(result.model, {"favourite_colour": "blue"})
    listed = str(info.value).split("expects:")[1]
    assert "total_spend" in listed
    assert "churned" not in listed and "customer_id" not in listed
    record = frame.drop(columns=["churned", "customer_id"]).iloc[5].to_dict()
    record = {k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in record.items()}
    got = predict_segment(result.model, record)
    row = result.customers.iloc[5]
    assert got["segment"] == row["segment"]
    # the same model scores the record; the table's stored score of a customer the model was trained on is out of
    # fold (from models that did not see that customer), so it is compared with the model's own score
    X, _, _ = result.model.preprocessor.transform(frame.iloc[[5]])
    assert got["churn_risk"] == pytest.approx(float(result.model.churn_model.predict(X, {})[0]), abs=1e-5)
    # a partner may still send its own id (it is passed through, not used)
    assert predict_segment(result.model, {**record, "customer_id": "NEW-1"})["segment"] == row["segment"]


def test_method_labels_are_readable_and_the_machine_keys_stay(default_result, labelled_result):
    for metrics in (default_result.metrics, labelled_result[1].metrics):
        for part in ("churn", "ltv"):
            assert metrics[part]["method"]
            label = metrics[part]["method_label"]
            assert "_" not in label and "mbg nbd" not in label.lower() and label[0].isupper(), label
        assert "_" not in metrics["algorithm_label"]
    assert "MBG/NBD" in default_result.metrics["ltv"]["method_label"]
    assert "churn label" in labelled_result[1].metrics["churn"]["method_label"]


@pytest.mark.parametrize("algorithm", ["kmeans", "gmm", "agglomerative", "hdbscan", "dbscan"])
def test_the_sampling_note_reads_as_a_sentence(small_customers, algorithm):
    m = analyze(small_customers.head(600), AnalysisConfig(algorithm=algorithm, nlp=False, n_clusters=None)).metrics
    # pages print it as "<assignment> (fitted on N rows)."
    text = f"{m['sampling']['assignment']} (fitted on {m['sampling']['fit_rows']:,} rows)"
    assert "sample (fitted on" not in text and "(-1)" not in text and "eps" not in text
    assert "segment -1" not in m["k_selection"]["chosen_by"]


def test_a_low_engagement_reason_has_no_double_negative(default_result):
    from segments.engine.recommend import segment_recommendations

    profile = {**default_result.profiles[0], "engagement_level": "low", "engagement_score": -0.62}
    population = default_result.metrics["insights"]["population"]
    reasons = [r["reason"] for r in segment_recommendations(profile, population) if r["category"] == "engagement"]
    assert reasons == [
        "engagement 0.62 standard deviations below the average customer's (on orders, days_since_last_visit, "
        "sessions_per_month, last_purchase_date)"
    ]


def test_a_segments_traits_do_not_say_the_same_thing_twice():
    from segments.engine import generate_synthetic

    frame = generate_synthetic(rows=3000, seed=4)  # tenure_days and signup_date carry the same fact
    result = analyze(frame, AnalysisConfig(n_clusters=4, nlp=False, reference_date="2026-01-01"))
    for p in result.profiles:
        names = [d["feature"] for d in p["distinguishing_features"]]
        assert not ({"tenure_days", "signup_date (days ago)"} <= set(names)), names
        for d in names:
            if d.endswith(" (year)"):
                assert d.replace(" (year)", " (days ago)") not in names, names
