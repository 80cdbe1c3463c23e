import json

import numpy as np
import pandas as pd
import pytest

from segments.engine import AnalysisConfig, analyze
from segments.engine.profiles import ProfileInputs, build_profiles

PROFILE_KEYS = {
    "segment",
    "name",
    "size",
    "share",
    "value_tier",
    "risk_level",
    "engagement_level",
    "avg_ltv",
    "avg_churn_risk",
    "total_revenue",
    "revenue_share",
    "stats",
    "distinguishing_features",
    "recommendations",
    "lifecycle",
    "avg_recency_days",
    "avg_sentiment",
    "growth_potential",
    "engagement_score",
}


def test_profiles_have_every_field_and_are_json(default_result):
    json.dumps(default_result.profiles, allow_nan=False)
    json.dumps(default_result.metrics, allow_nan=False)
    for p in default_result.profiles:
        assert set(p) >= PROFILE_KEYS
        assert p["value_tier"] in {"high", "medium", "low"}
        assert p["risk_level"] in {"high", "medium", "low"}
        assert p["engagement_level"] in {"high", "medium", "low"}
        assert sum(p["lifecycle"].values()) == p["size"]
        for d in p["distinguishing_features"]:
            assert {"feature", "z", "segment_mean", "population_mean"} <= set(d)
        for r in p["recommendations"]:
            assert r["action"] and r["reason"] and r["category"] and r["priority"] in {"high", "medium", "low"}
        assert {"mean", "median", "z"} == set(next(iter(p["stats"].values())))
    assert abs(sum(p["share"] for p in default_result.profiles) - 1) < 1e-9
    assert abs(sum(p["revenue_share"] for p in default_result.profiles) - 1) < 1e-6


def test_segment_names_are_unique_and_readable(default_result):
    names = [p["name"] for p in default_result.profiles]
    assert len(set(names)) == len(names)
    assert any(w in " ".join(names) for w in ("High-Value", "Budget", "Mid-Value"))


def test_rules_give_vip_to_high_value_and_win_back_to_high_risk(default_result):
    for p in default_result.profiles:
        cats = {r["category"] for r in p["recommendations"]}
        if p["value_tier"] == "high":
            assert "loyalty" in cats
        if p["risk_level"] == "high":
            assert "retention" in cats
        if p["engagement_level"] == "low":
            assert "engagement" in cats
        if p["value_tier"] == "low":
            assert "upsell" in cats


def test_insights_list_growth_and_underperforming_segments(default_result):
    insights = default_result.metrics["insights"]
    assert insights["growth_opportunities"]
    assert all(g["growth_potential"] is not None for g in insights["growth_opportunities"])
    assert "underperforming" in insights


def test_customers_table_is_in_input_order_with_every_column(customers, default_result):
    c = default_result.customers
    assert list(c["customer_id"]) == list(customers["customer_id"])
    for col in (
        "segment",
        "segment_name",
        "churn_risk",
        "predicted_ltv",
        "pca_x",
        "pca_y",
        "value_tier",
        "risk_level",
        "lifecycle_stage",
        "top_recommendation",
    ):
        assert col in c.columns
    assert set(c["lifecycle_stage"]) <= {"new", "active", "at_risk", "dormant"}


def test_metrics_record_timings_memory_roles_and_importance(default_result):
    m = default_result.metrics
    assert m["timings"]["total"] > 0 and m["peak_memory_mb"] > 0
    assert m["roles"]["customer_id"] == "identifier"
    assert m["behaviour_roles"]["frequency_col"] == "orders"
    fi = m["feature_importance"]
    assert fi and {"feature", "importance", "rf", "mi"} <= set(fi[0])
    assert abs(sum(f["importance"] for f in fi) - 1) < 1e-6


def _stable(metrics):
    return {k: v for k, v in metrics.items() if k not in ("timings", "peak_memory_mb", "peak_memory_mb_after_stage")}


def test_same_input_and_config_give_the_same_output(small_customers):
    a = analyze(small_customers, AnalysisConfig())
    b = analyze(small_customers.copy(), AnalysisConfig())
    pd.testing.assert_frame_equal(a.customers, b.customers)
    assert a.profiles == b.profiles
    assert _stable(a.metrics) == _stable(b.metrics)


def test_progress_reports_stages_and_can_cancel(small_customers):
    seen = []
    analyze(small_customers, AnalysisConfig(k_min=2, k_max=4), progress=lambda s, p: seen.append((s, p)))
    stages = [s for s, _ in seen]
    for expected in (
        "Preprocessing",
        "Choosing k",
        "Clustering",
        "PCA",
        "Feature importance",
        "Churn model",
        "LTV model",
        "Profiles",
        "Recommendations",
    ):
        assert expected in stages
    assert all(0 <= p <= 100 for _, p in seen)

    class Cancelled(Exception):
        pass

    def cancel(stage, pct):
        if stage == "PCA":
            raise Cancelled

    with pytest.raises(Cancelled):
        analyze(small_customers, AnalysisConfig(n_clusters=3), progress=cancel)


def test_a_segment_s_mean_and_distance_from_average_come_from_its_readable_values():
    """build_profiles on a hand-made population: two segments of two customers, spend 1 and 3 on average."""
    labels = np.array([0, 0, 1, 1])
    spend = np.array([1.0, 1.0, 3.0, 3.0])
    X = ((spend - 2.0) / 1.0)[:, None].astype(np.float32)
    profiles, insights, levels = build_profiles(
        ProfileInputs(
            labels=labels,
            features=X,
            feature_names=["spend"],
            weights=np.array([1.0]),
            means=np.array([2.0]),
            stds=np.array([1.0]),
            readable=pd.DataFrame({"spend": spend.astype(np.float32)}),
            behaviour={"monetary": spend},
            churn=np.array([0.1, 0.1, 0.6, 0.6]),
            ltv=np.array([10.0, 10.0, 30.0, 30.0]),
            revenue_column="spend",
            churn_method="supervised",
            lifecycle=np.array(["active", "active", "at_risk", "at_risk"], dtype=object),
        )
    )
    low, high = profiles
    assert (low["stats"]["spend"]["mean"], low["stats"]["spend"]["z"]) == (1.0, -1.0)
    assert (high["stats"]["spend"]["mean"], high["stats"]["spend"]["z"]) == (3.0, 1.0)
    assert low["total_revenue"] == 2.0 and high["revenue_share"] == 0.75
    assert (low["value_tier"], high["value_tier"]) == ("low", "high")  # LTV 10 and 30 against an average of 20
    assert (low["risk_level"], high["risk_level"]) == ("low", "high")
    assert levels["risk_level"].tolist() == ["low", "low", "high", "high"]
    assert insights["population"]["likely_to_leave"]["customers"] == 2
