import json

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

from segments.engine import AnalysisConfig, analyze


@pytest.mark.parametrize("algorithm", ["kmeans", "gmm", "agglomerative", "hdbscan", "dbscan"])
def test_each_algorithm_segments_every_customer(small_customers, algorithm):
    result = analyze(small_customers, AnalysisConfig(algorithm=algorithm, k_max=6))
    seg = result.customers["segment"].to_numpy()
    assert len(seg) == len(small_customers)
    assert result.metrics["algorithm"] == algorithm
    assert result.metrics["sampling"]["assignment"]
    ids = {p["segment"] for p in result.profiles}
    assert set(np.unique(seg)) == ids
    assert sum(p["size"] for p in result.profiles) == len(small_customers)
    json.dumps(result.profiles)
    json.dumps(result.metrics)


def test_dbscan_reports_noise_as_its_own_group(small_customers):
    result = analyze(small_customers, AnalysisConfig(algorithm="dbscan"))
    assert "eps" in result.metrics["k_selection"]
    assert (
        "k-distance" in result.metrics["k_selection"]["chosen_by"]
        or "eps=" in result.metrics["k_selection"]["chosen_by"]
    )
    noise = [p for p in result.profiles if p["segment"] == -1]
    if (result.customers["segment"] == -1).any():
        assert noise and noise[0]["name"] == "Unclustered (noise)"


def test_agglomerative_states_its_sample_and_assignment_rule(small_customers):
    result = analyze(small_customers, AnalysisConfig(algorithm="agglomerative", agglomerative_sample_size=800, k_max=6))
    sampling = result.metrics["sampling"]
    assert sampling["fit_rows"] == 800
    assert "nearest centre" in sampling["assignment"]


def test_user_set_k_is_respected(small_customers):
    result = analyze(small_customers, AnalysisConfig(n_clusters=3))
    assert result.metrics["k"] == 3
    assert sorted(result.customers["segment"].unique()) == [0, 1, 2]
    assert "set by the user" in result.metrics["k_selection"]["chosen_by"]


def test_auto_k_keeps_both_curves_and_explains_the_choice(default_result):
    sel = default_result.metrics["k_selection"]
    assert sel["k_values"] == list(range(2, 11))
    assert len(sel["silhouette"]) == len(sel["inertia"]) == len(sel["stability"]) == 9
    assert f"k={default_result.metrics['k']}" in sel["chosen_by"]
    q = default_result.metrics["quality"]
    for key in ("silhouette", "davies_bouldin", "calinski_harabasz", "stability_ari"):
        assert q[key] is not None


def test_gmm_reports_bic_curve(small_customers):
    result = analyze(small_customers, AnalysisConfig(algorithm="gmm", k_max=5))
    assert len(result.metrics["k_selection"]["bic"]) == 4


def test_default_analysis_recovers_hidden_segments(customers_with_truth, default_result):
    ari = adjusted_rand_score(customers_with_truth["true_segment"], default_result.customers["segment"])
    assert default_result.metrics["k"] >= 4
    assert ari > 0.6


def test_pca_coordinates_for_every_customer(default_result):
    c = default_result.customers
    assert c[["pca_x", "pca_y"]].notna().all().all()
    assert len(default_result.metrics["pca"]["explained_variance"]) == 2
