"""Density clustering (HDBSCAN, and DBSCAN with a given eps), the warnings any run gives when it leaves many
customers unclustered or puts most of them in one segment, and a Gaussian mixture choosing its own k."""

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score

from segments.engine import AnalysisConfig, analyze, predict_segment
from segments.engine.clustering import segment_balance_warnings
from segments.engine.vocabulary import ALGORITHMS


def _blobs(n=2500, centers=5, std=1.0, seed=1, d=6):
    X, y = make_blobs(n, n_features=d, centers=centers, cluster_std=std, random_state=seed)
    return pd.DataFrame(X, columns=[f"x{i}" for i in range(d)]), y


def test_hdbscan_is_offered_as_the_density_option_with_its_label():
    assert ALGORITHMS["hdbscan"].label == "HDBSCAN"
    assert "density" in ALGORITHMS["hdbscan"].note
    assert "eps" in ALGORITHMS["dbscan"].note


def test_hdbscan_finds_well_separated_groups_and_scores_new_records_the_same_way():
    df, truth = _blobs()
    result = analyze(df, AnalysisConfig(algorithm="hdbscan"))
    m = result.metrics
    assert m["algorithm_label"] == "HDBSCAN"
    assert m["k"] == 5 and "HDBSCAN found 5 dense groups" in m["k_selection"]["chosen_by"]
    seg = result.customers["segment"].to_numpy()
    assert adjusted_rand_score(truth, seg) > 0.95
    assert (seg == -1).mean() < 0.05 and not [w for w in m["warnings"] if "noise" in w]
    assert m["segment_structure"]["strength"] == "clear"
    records = df.head(10).to_dict("records")
    assert [r["segment"] for r in predict_segment(result.model, records)] == seg[:10].tolist()


def test_a_run_leaving_over_a_fifth_unclustered_says_so_in_the_warnings():
    rng = np.random.default_rng(4)
    df, _ = _blobs(n=1200, centers=3, std=0.5, d=4)
    scatter = pd.DataFrame(rng.uniform(-15, 15, size=(800, 4)), columns=df.columns)
    result = analyze(pd.concat([df, scatter], ignore_index=True), AnalysisConfig(algorithm="hdbscan"))
    noise = (result.customers["segment"] == -1).mean()
    assert noise > 0.2
    [warning] = [w for w in result.metrics["warnings"] if "no dense group" in w]
    assert f"{noise:.0%}" in warning
    assert result.metrics["segment_structure"]["strength"] != "clear"


def test_dbscan_keeps_a_given_eps_and_one_dominant_group_is_warned_about():
    df, _ = _blobs(n=1500, centers=3, std=1.0, d=4)
    result = analyze(df, AnalysisConfig(algorithm="dbscan", dbscan_eps=50.0))
    assert "eps=50.0 set by the user" in result.metrics["k_selection"]["chosen_by"]
    assert any("holds 1,500 customers (100%)" in w for w in result.metrics["warnings"])


def test_balance_warnings_name_shares_only_above_the_limits():
    assert segment_balance_warnings(np.array([0] * 6 + [1] * 4)) == []
    [big] = segment_balance_warnings(np.array([0] * 61 + [1] * 39))
    assert "61%" in big
    [noise] = segment_balance_warnings(np.array([-1] * 21 + [0] * 40 + [1] * 39))
    assert "21 customers (21%)" in noise


def test_a_gaussian_mixture_chooses_its_own_k_by_bic():
    df, truth = _blobs(n=2500, centers=4, std=1.0, seed=3)
    result = analyze(df, AnalysisConfig(algorithm="gmm"))
    sel = result.metrics["k_selection"]
    assert result.metrics["k"] == 4
    assert sel["chosen_by"].startswith("k=4: lowest BIC of the mixture")
    assert len(sel["bic"]) == 9 and int(np.argmin(sel["bic"])) + 2 == 4
    assert adjusted_rand_score(truth, result.customers["segment"]) > 0.95


@pytest.mark.parametrize("seed", [0])
def test_a_mixture_without_a_reproducible_bic_minimum_says_why_it_did_not_choose(seed):
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(rng.normal(size=(2000, 5)), columns=list("abcde"))
    sel = analyze(df, AnalysisConfig(algorithm="gmm")).metrics["k_selection"]
    assert "the mixture did not choose its own k" in sel["chosen_by"]
