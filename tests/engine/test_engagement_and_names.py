"""Engagement from columns with a direction, names that follow the levels, traits a marketer can read, levels that
agree with their evidence, ceilings labelled as such, noise without a plan, and each customer's own advice."""

import numpy as np
import pandas as pd
import pytest

from segments.engine import AnalysisConfig, analyze, generate_synthetic
from segments.engine.engagement import column_direction, infer_engagement
from segments.engine.predict import predict_segment
from segments.engine.profiles import risk_levels, value_tiers

ENGAGEMENT_WORDS = ("Engaged", "Engagement")


@pytest.mark.parametrize(
    "name,role,direction",
    [
        ("sessions_per_month", "numeric", "more"),
        ("page_views", "numeric", "more"),
        ("total_orders", "numeric", "more"),
        ("email_open_rate", "numeric", "more"),
        ("logins_last_30d", "numeric", "more"),
        ("days_since_last_visit", "numeric", "less"),
        ("daysSinceLastLogin", "numeric", "less"),
        ("cart_abandonment_rate", "numeric", "less"),
        ("last_purchase_date", "date", "less"),
        ("review", "text", None),  # "view" inside "review" is no word
        ("review_score", "numeric", None),
        ("preview_count", "numeric", None),
        ("avg_order_value", "monetary", None),  # money is not engagement
        ("order_value", "numeric", None),
        ("signup_date", "date", None),
        ("first_order_date", "date", None),
        ("tenure_days", "numeric", None),
        ("number_customer_service_calls", "numeric", None),
        ("voice_mail_plan", "categorical", None),
    ],
)
def test_engagement_is_read_from_whole_words_with_a_direction(name, role, direction):
    assert column_direction(name, role) == direction


def test_the_synthetic_table_s_engagement_columns_and_directions_are_inferred():
    frame = generate_synthetic(500, seed=2)
    from segments.engine.roles import infer_behaviour_roles, infer_roles

    roles = infer_roles(frame)
    mapping = infer_engagement(roles, infer_behaviour_roles(frame, roles)["recency_col"])
    assert mapping == {
        "orders": "more",
        "days_since_last_visit": "less",
        "sessions_per_month": "more",
        "last_purchase_date": "less",
    }


def _engagement_table(n=1200, seed=0):
    """Two groups: many sessions and a recent visit (engaged), few sessions and a visit 250 days ago."""
    rng = np.random.default_rng(seed)
    engaged = rng.random(n) < 0.5
    return pd.DataFrame(
        {
            "customer_id": [f"C{i:05d}" for i in range(n)],
            "sessions_per_month": np.where(engaged, rng.normal(14, 2, n), rng.normal(2.5, 1, n)).clip(0),
            "days_since_last_visit": np.where(engaged, rng.normal(10, 4, n), rng.normal(257, 30, n)).clip(0),
            "total_spend": rng.gamma(3, 100, n),
            "review": rng.choice(["great service", "slow delivery again", "fine"], n),
        }
    ), engaged


def test_many_days_since_the_last_visit_reads_as_low_engagement():
    frame, engaged = _engagement_table()
    result = analyze(frame, AnalysisConfig(n_clusters=2, nlp=False))
    by_seg = {p["segment"]: p for p in result.profiles}
    segs = result.customers["segment"].to_numpy()
    lazy = pd.Series(segs[~engaged]).mode()[0]
    busy = pd.Series(segs[engaged]).mode()[0]
    assert by_seg[lazy]["engagement_level"] == "low"
    assert by_seg[busy]["engagement_level"] == "high"
    assert "review" not in result.metrics["engagement_columns"]
    low_recs = [r for r in by_seg[lazy]["recommendations"] if r["category"] == "engagement"]
    assert low_recs and "tutorials" in low_recs[0]["action"]  # the seed's rule: low engagement -> tutorials
    own = result.customers.loc[~engaged, "engagement_level"]
    assert (own == "low").mean() > 0.9


def test_without_engagement_columns_engagement_is_unknown_and_says_nothing():
    rng = np.random.default_rng(1)
    n = 800
    frame = pd.DataFrame(
        {
            "customer_id": [f"C{i}" for i in range(n)],
            "total_spend": rng.gamma(2, 200, n),
            "support_tickets": rng.poisson(2, n),
            "region": rng.choice(["North", "South"], n),
        }
    )
    result = analyze(frame, AnalysisConfig(n_clusters=3, nlp=False))
    assert result.metrics["engagement_columns"] == {}
    for p in result.profiles:
        assert p["engagement_level"] == "unknown" and p["engagement_score"] is None
        assert not any(word in p["name"] for word in ENGAGEMENT_WORDS), p["name"]
        assert all(r["category"] != "engagement" for r in p["recommendations"])
    assert set(result.customers["engagement_level"]) == {"unknown"}


def test_a_confirmed_empty_engagement_mapping_overrides_the_names():
    frame, _ = _engagement_table(600)
    result = analyze(frame, AnalysisConfig(n_clusters=2, nlp=False, engagement_cols={}))
    assert {p["engagement_level"] for p in result.profiles} == {"unknown"}


@pytest.fixture(scope="module")
def mlc_result():
    from helpers import real_table

    frame = pd.read_csv(real_table())
    return frame, analyze(frame, AnalysisConfig(nlp=False))


def test_the_real_telecom_table_invents_no_engagement_and_reads_plans_as_shares(mlc_result):
    _, result = mlc_result
    names = [p["name"] for p in result.profiles]
    assert len(set(names)) == len(names)
    prefixes = {" ".join(n.split(" (")[0].split()[:2]) for n in names}
    assert len(prefixes) > 1, names  # not all "Steady Mid-Value (...)"
    texts = []
    for p in result.profiles:
        assert p["engagement_level"] == "unknown"  # usage minutes are not an engagement role by name
        assert not any(word in p["name"] for word in ENGAGEMENT_WORDS)
        assert "high voice mail plan" not in p["name"] and "high international plan" not in p["name"]
        texts += [d["text"] for d in p["distinguishing_features"]]
    plan_texts = [t for t in texts if "plan" in t]
    assert plan_texts and all("% have a " in t and "overall)" in t for t in plan_texts), plan_texts
    assert set(result.customers["engagement_level"]) == {"unknown"}


def test_risk_levels_never_contradict_their_evidence(mlc_result):
    _, result = mlc_result
    population = result.metrics["insights"]["population"]
    for p in result.profiles:
        if p["risk_level"] == "high":
            assert p["avg_churn_risk"] > population["avg_churn_risk"]
        if p["risk_level"] == "low":
            assert p["avg_churn_risk"] < population["avg_churn_risk"]
    # relative to this client: where most customers churn, 51 % is not "high", 80 % is
    assert risk_levels([0.51, 0.80, 0.30], 0.55, "supervised").tolist() == ["medium", "high", "low"]
    assert risk_levels([0.26, 0.08], 0.14, "supervised").tolist() == ["high", "low"]
    assert value_tiers([130, 70, 100], 100).tolist() == ["high", "low", "medium"]


def test_traits_read_as_sentences_without_engine_feature_names():
    frame = generate_synthetic(3000, seed=4)
    result = analyze(frame, AnalysisConfig(n_clusters=5, reference_date="2026-01-01"))
    for p in result.profiles:
        for d in p["distinguishing_features"]:
            text = d["text"]
            assert "=" not in text and "(topic" not in text and "-0.00" not in text, text
            assert not d["feature"].endswith((" (year)", " (month)")), d["feature"]
            assert "_" not in text, text
            if "(topic" in d["feature"]:
                assert "about “" in text
        assert all(x not in p["name"] for x in ("(month)", "(year)", "(days ago)", "=", "_")), p["name"]


def test_a_text_topic_is_described_by_its_top_words():
    from segments.engine.preprocess import Preprocessor
    from segments.engine.roles import infer_behaviour_roles, infer_roles
    from segments.engine.traits import describe, feature_glossary

    frame = generate_synthetic(1500, seed=4)
    roles = infer_roles(frame)
    pre = Preprocessor(AnalysisConfig())
    pre.fit_transform(frame, roles, infer_behaviour_roles(frame, roles), [])
    glossary = feature_glossary(pre)
    topic = glossary["review (topic 1)"]
    assert len(topic["words"]) == 4 and all(w.isalpha() for w in topic["words"])
    text = describe({"feature": "review (topic 1)", "z": 0.8, "segment_mean": 0.2, "population_mean": 0.1}, glossary)
    assert text == f"review more often about “{', '.join(topic['words'])}” than the average customer's"
    level = next(f for f, g in glossary.items() if g["kind"] == "level" and g["column"] == "device")
    line = describe({"feature": level, "z": 1, "segment_mean": 0.41, "population_mean": 0.3}, glossary)
    assert line == f"41% with device “{glossary[level]['level']}” (vs 30% overall)"


def test_growth_and_development_figures_are_labelled_ceilings(mlc_result):
    _, result = mlc_result
    insights = result.metrics["insights"]
    for item in insights["growth_opportunities"] + insights["underperforming"]:
        assert "ceiling" in item["label"].lower() and "not a forecast" in item["reason"]


def test_the_same_customers_get_the_same_names_in_two_runs():
    frame = generate_synthetic(3000, seed=21)
    config = dict(n_clusters=4, nlp=False, reference_date="2026-01-01")
    first = analyze(frame, AnalysisConfig(**config, random_state=1))
    shuffled = frame.sample(frac=1.0, random_state=5).reset_index(drop=True)
    second = analyze(shuffled, AnalysisConfig(**config, random_state=7))
    a = first.customers.set_index("customer_id")["segment_name"]
    b = second.customers.set_index("customer_id")["segment_name"].reindex(a.index)
    # segment numbers differ between the runs; the names of the same customers do not
    assert (a == b).mean() > 0.97, pd.crosstab(a, b)


def test_density_noise_is_a_group_to_look_at_without_a_plan():
    frame = generate_synthetic(1500, seed=3)
    result = analyze(frame, AnalysisConfig(algorithm="dbscan", nlp=False))
    noise = [p for p in result.profiles if p["segment"] == -1]
    if not noise:
        pytest.skip("this DBSCAN run left no customer unclustered")
    p = noise[0]
    assert p["recommendations"] == [] and p["growth_potential"] is None and p["development_potential"] is None
    assert not any(word in p["name"] for word in ("Value", "Budget", "Loyal", "Steady", "At-Risk"))
    rows = result.customers[result.customers["segment"] == -1]
    assert (rows["top_recommendation"] == "").all()


def test_a_high_risk_customer_in_a_low_risk_segment_gets_a_retention_action_citing_their_own_risk(mlc_result):
    frame, result = mlc_result
    c = result.customers
    population = result.metrics["insights"]["population"]
    low_segments = {p["segment"] for p in result.profiles if p["risk_level"] == "low"}
    assert low_segments
    odd = c[c["segment"].isin(low_segments) & (c["risk_level"] == "high")]
    assert len(odd) > 0
    for _, row in odd.head(20).iterrows():
        assert "retention" in row["recommendation"]
        assert f"own churn risk {row['churn_risk']:.0%}" in row["recommendation_reason"]
        assert f"{population['avg_churn_risk']:.0%}" in row["recommendation_reason"]
    # predict gives the same record the same advice, its own first, and drops the segment's contradicted actions
    record = frame[frame["customer_id"] == odd["customer_id"].iloc[0]].drop(columns=["churn"]).iloc[0].to_dict()
    out = predict_segment(result.model, record)
    assert out["risk_level"] == "high" and "engagement_level" not in out
    first = out["recommendations"][0]
    assert (
        first["applies_to"] == "customer" and first["category"] == "retention" and "own churn risk" in first["reason"]
    )
    assert all(r["category"] not in ("growth", "loyalty") for r in out["recommendations"][1:])


def test_each_customer_s_advice_follows_their_own_levels():
    frame = generate_synthetic(2000, seed=8)
    result = analyze(frame, AnalysisConfig(n_clusters=4, nlp=False))
    c = result.customers
    assert {"engagement_level", "recommendation", "recommendation_reason"} <= set(c.columns)
    assert set(c["engagement_level"]) <= {"high", "medium", "low"}
    high = c["risk_level"] == "high"
    assert c.loc[high, "recommendation"].str.contains("retention").all()
    low_eng = (~high) & (c["engagement_level"] == "low")
    assert c.loc[low_eng, "recommendation"].str.contains("tutorials").all()
    within = c.groupby("segment")["recommendation"].nunique()
    assert (within > 1).any()  # not the segment's action copied down


def test_a_figure_that_rounds_to_zero_never_reads_negative():
    from segments.engine.formatting import number, percent, signed

    assert signed(-0.001) == "+0.00" and signed(-0.5) == "-0.50"
    assert number(-0.0) == "0" and percent(-0.00001) == "0.0%"


def test_a_segment_of_newcomers_is_never_called_loyal_and_gets_the_welcome_series():
    """account_length read in days makes about 40 % of the telecom table's customers new (≤ 90 days): a low-risk
    segment of them is told to onboard, so its name cannot say "Loyal" (loyalty needs time)."""
    from helpers import real_table

    from segments.engine.recommend import mostly_new

    frame = pd.read_csv(real_table())
    result = analyze(frame, AnalysisConfig(nlp=False, tenure_col="account_length", tenure_unit="days"))
    newcomers = [p for p in result.profiles if mostly_new(p)]
    assert newcomers, [p["lifecycle"] for p in result.profiles]
    for p in result.profiles:
        onboarding = any(r["category"] == "onboarding" for r in p["recommendations"])
        assert onboarding == mostly_new(p), p["name"]
        assert not (onboarding and p["name"].startswith("Loyal")), p["name"]
