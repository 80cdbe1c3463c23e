import numpy as np
import pandas as pd
import pytest

from segments.engine import AnalysisConfig, EngineError, analyze


def _numbers(n=200, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {"spend": rng.gamma(2, 50, n).round(2), "visits": rng.poisson(6, n), "plan": rng.choice(["a", "b", "c"], n)}
    )


def test_empty_data_is_rejected():
    with pytest.raises(EngineError, match="empty: no rows"):
        analyze(pd.DataFrame({"spend": []}))
    with pytest.raises(EngineError, match="empty: no columns"):
        analyze(pd.DataFrame())


def test_one_row_is_rejected():
    with pytest.raises(EngineError, match="only one row"):
        analyze(_numbers().head(1))


def test_fewer_rows_than_k_is_rejected():
    with pytest.raises(EngineError, match=r"fewer rows \(12\) than the requested number of segments k=20"):
        analyze(_numbers().head(12), AnalysisConfig(n_clusters=20))


def test_small_data_lowers_the_automatic_k_range_by_rule():
    result = analyze(_numbers().head(20), AnalysisConfig())
    assert max(result.metrics["k_selection"]["k_values"]) == 4  # at most one segment per 5 rows


def test_no_usable_numeric_feature_is_rejected_naming_the_columns():
    df = pd.DataFrame({"plan": ["a", "b"] * 50, "region": ["x", "y", "z", "w"] * 25, "const": 1})
    with pytest.raises(EngineError, match=r"no usable numeric feature.*categorical: plan, region.*const \(constant\)"):
        analyze(df)


def test_all_missing_and_constant_columns_are_ignored_by_rule():
    df = _numbers()
    df["blank"] = np.nan
    df["same"] = "x"
    result = analyze(df, AnalysisConfig(n_clusters=2))
    assert result.metrics["ignored_columns"] == {"blank": "all values missing", "same": "constant"}


def test_declared_column_that_is_all_missing_is_rejected():
    df = _numbers()
    df["revenue"] = np.nan
    with pytest.raises(EngineError, match="column 'revenue': all values missing"):
        analyze(df, AnalysisConfig(monetary_cols=["revenue"]))


def test_a_few_words_in_a_numeric_column_become_missing_with_a_warning():
    df = _numbers().astype({"spend": object})
    df.loc[5, "spend"] = "unknown"
    result = analyze(df, AnalysisConfig(n_clusters=2))
    assert result.metrics["roles"]["spend"] == "monetary"
    assert any("'spend'" in w and "row 6" in w for w in result.metrics["warnings"])


def test_many_words_in_a_declared_numeric_column_are_rejected():
    df = _numbers().astype({"spend": object})
    df.loc[::3, "spend"] = "lots"
    with pytest.raises(EngineError, match=r"column 'spend': \d+ values are not numbers .*row 1: 'lots'"):
        analyze(df, AnalysisConfig(numeric_cols=["spend"]))


def test_dates_in_mixed_formats_are_parsed():
    df = _numbers(120)
    formats = ["2024-01-15", "01/20/2024", "Feb 3, 2024", "2024-03-01T10:00:00", "15 March 2024"]
    df["signup"] = [formats[i % 5] for i in range(120)]
    result = analyze(df, AnalysisConfig(n_clusters=2, date_cols=["signup"]))
    assert "signup (days ago)" in result.metrics["features"]
    assert result.metrics["reference_date"] == "2024-03-15"


def test_unparseable_dates_are_rejected_naming_the_column_and_row():
    df = _numbers(100)
    df["signup"] = ["2024-01-15"] * 50 + ["31/31/2024"] * 50
    with pytest.raises(
        EngineError, match=r"column 'signup': 50 values could not be parsed as dates.*row 51: '31/31/2024'"
    ):
        analyze(df, AnalysisConfig(date_cols=["signup"]))


def test_churn_label_with_non_binary_values_is_rejected():
    df = _numbers()
    df["churn"] = ["yes", "no", "maybe", "no"] * 50
    with pytest.raises(EngineError, match=r"column 'churn'.*'maybe'"):
        analyze(df, AnalysisConfig(churn_label_col="churn"))


def test_unknown_config_key_and_bad_values_are_named():
    with pytest.raises(EngineError, match="unknown option 'clusters'"):
        AnalysisConfig.from_dict({"clusters": 3})
    with pytest.raises(EngineError, match="'algorithm'"):
        AnalysisConfig(algorithm="spectral")
    with pytest.raises(EngineError, match="'n_clusters'"):
        AnalysisConfig(n_clusters=1)
    with pytest.raises(EngineError, match="column 'nope'"):
        analyze(_numbers(), AnalysisConfig(text_cols=["nope"]))


def test_config_round_trips_through_a_dict():
    cfg = AnalysisConfig(algorithm="gmm", n_clusters=4, categorical_cols=["plan"])
    assert AnalysisConfig.from_dict(cfg.to_dict()) == cfg


def test_not_a_dataframe_is_rejected():
    with pytest.raises(EngineError, match="expected a pandas DataFrame"):
        analyze([{"a": 1}])


def test_infinite_values_are_treated_as_missing_with_a_warning():
    df = _numbers(60).astype({"spend": float})
    df.loc[3, "spend"] = np.inf
    result = analyze(df, AnalysisConfig(n_clusters=2))
    assert any("'spend': 1 infinite values treated as missing" in w for w in result.metrics["warnings"])
    assert result.customers["pca_x"].notna().all() and result.customers["segment"].notna().all()
    # no behaviour and no label: churn cannot be estimated and is left out, never a placeholder
    assert result.metrics["churn"]["method"] == "unavailable"
    assert result.customers["churn_risk"].isna().all()


@pytest.mark.parametrize("algorithm", ["kmeans", "gmm", "agglomerative", "hdbscan", "dbscan"])
def test_ten_rows_is_the_smallest_table_every_algorithm_accepts(algorithm):
    result = analyze(_numbers(10), AnalysisConfig(algorithm=algorithm))
    assert len(result.customers) == 10
