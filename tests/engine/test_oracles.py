"""The engine's hand-written maths agrees with scikit-learn's: the silhouette of a precomputed distance matrix, and
the pure-Python walk of gradient-boosted trees that scores a handful of API records."""

import numpy as np
import pytest
import sklearn
from scipy.special import expit
from sklearn.datasets import make_blobs
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.metrics import silhouette_score

from segments.engine import AnalysisConfig
from segments.engine.clustering import pairwise_sq_free_distances, silhouette_from_distances
from segments.engine.fasttrees import NODE_FIELDS, VERIFIED_SKLEARN, FastTrees, FastTreesUnsupported
from segments.engine.predictive import SMALL_BATCH, fit_churn, fit_ltv

# ------------------------------------------------------------------------------------------ silhouette


@pytest.mark.parametrize("k", [2, 3, 5, 8])
def test_the_silhouette_equals_scikit_learn_s_on_the_same_sample(k):
    A, labels = make_blobs(n_samples=900, centers=k, n_features=6, cluster_std=2.5, random_state=k)
    ours = silhouette_from_distances(pairwise_sq_free_distances(A), labels)
    assert ours == pytest.approx(silhouette_score(A, labels), abs=2e-5)  # float32 distances


def test_the_silhouette_of_assigned_labels_on_overlapping_data_equals_scikit_learn_s():
    rng = np.random.default_rng(3)
    A = rng.normal(size=(700, 9)).astype(np.float32)  # no structure at all: silhouettes near zero
    labels = rng.integers(0, 4, len(A))
    ours = silhouette_from_distances(pairwise_sq_free_distances(A), labels)
    assert ours == pytest.approx(silhouette_score(A, labels), abs=2e-5)


def test_the_silhouette_leaves_out_noise_and_scores_a_single_member_cluster_zero():
    A, labels = make_blobs(n_samples=400, centers=3, n_features=4, random_state=7)
    labels = labels.copy()
    labels[:40] = -1  # DBSCAN noise: not part of any segment
    labels[40] = 9  # a segment of one customer: its silhouette is 0 by definition
    kept = labels >= 0
    ours = silhouette_from_distances(pairwise_sq_free_distances(A), labels)
    assert ours == pytest.approx(silhouette_score(A[kept], labels[kept]), abs=2e-5)


# ------------------------------------------------------------------------------------------ tree walk


def _data(n=2500, d=7, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    X[rng.random(X.shape) < 0.08] = np.nan  # missing values take each split's learned side
    X[:, 3] = np.round(X[:, 3])  # a feature with few distinct values: thresholds fall between them
    X[:, 5] = rng.normal(size=n)  # never missing in training: a missing value goes where most samples went
    signal = np.nan_to_num(X[:, 0]) - 0.8 * np.nan_to_num(X[:, 1]) * np.nan_to_num(X[:, 3]) + np.isnan(X[:, 2])
    return X, signal, rng


def _on_thresholds(model, X, rng):
    """Rows whose values sit exactly on the first trees' split thresholds (x <= threshold goes left), plus rows
    with every value missing or infinite."""
    rows = []
    for (predictor,) in model._predictors[:10]:
        for node in predictor.nodes[predictor.nodes["is_leaf"] == 0]:
            row = X[rng.integers(0, len(X))].copy()
            row[node["feature_idx"]] = node["num_threshold"]
            rows.append(row)
    rows += [np.full(X.shape[1], np.nan), np.full(X.shape[1], np.inf), np.full(X.shape[1], -np.inf)]
    return np.vstack(rows)


def test_the_tree_walk_scores_a_classifier_as_scikit_learn_does():
    X, signal, rng = _data()
    y = (signal + rng.normal(scale=0.7, size=len(X)) > 0).astype(int)
    model = HistGradientBoostingClassifier(max_iter=80, random_state=0, early_stopping=False).fit(X[:2000], y[:2000])
    held_out = X[2000:].copy()
    held_out[:100, 5] = np.nan
    rows = np.vstack([held_out, _on_thresholds(model, X, rng)])
    raw = FastTrees(model).raw(rows)
    np.testing.assert_array_equal(raw, model.decision_function(rows))
    np.testing.assert_allclose(expit(raw), model.predict_proba(rows)[:, 1], rtol=0, atol=1e-12)
    np.testing.assert_array_equal((raw > 0).astype(int), model.predict(rows))


def test_the_tree_walk_scores_a_regressor_as_scikit_learn_does():
    X, signal, rng = _data(seed=1)
    y = 50 + 20 * signal + rng.normal(size=len(X))
    model = HistGradientBoostingRegressor(max_iter=40, max_leaf_nodes=31, random_state=0).fit(X[:2000], y[:2000])
    rows = np.vstack([X[2000:], _on_thresholds(model, X, rng)])
    np.testing.assert_array_equal(FastTrees(model).raw(rows), model.predict(rows))


def test_the_engine_scores_a_few_records_as_it_scores_a_batch(customers_with_truth):
    """Up to SMALL_BATCH rows the churn and LTV models walk their trees in Python; the same rows inside a larger
    batch go through scikit-learn."""
    frame = customers_with_truth.head(1200)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(len(frame), 6)).astype(np.float32)
    X[:, 0] = np.log1p(frame["total_spend"].fillna(0).to_numpy())
    beh = {
        "recency": frame["days_since_last_visit"].fillna(30).to_numpy(float),
        "frequency": frame["orders"].to_numpy(float),
        "tenure": frame["tenure_days"].to_numpy(float),
        "monetary": frame["total_spend"].fillna(0).to_numpy(float),
    }
    config = AnalysisConfig()
    label = frame["churned"].to_numpy()
    churn_model, churn, _ = fit_churn(X, beh, label, [f"f{i}" for i in range(6)], config, np.random.default_rng(1))
    ltv_model, _, _ = fit_ltv(X, beh, churn, config, np.random.default_rng(2))
    few = slice(0, SMALL_BATCH)
    small_beh = {k: v[few] for k, v in beh.items()}
    np.testing.assert_allclose(
        churn_model.predict(X[few], small_beh), churn_model.predict(X, beh)[few], rtol=0, atol=1e-12
    )
    np.testing.assert_allclose(ltv_model.predict(X[few]), ltv_model.predict(X)[few], rtol=0, atol=1e-9)


def test_the_tree_walk_refuses_models_it_cannot_score_exactly():
    X, signal, _ = _data(n=600)
    three = np.digitize(signal, [-0.5, 0.5])
    with pytest.raises(FastTreesUnsupported, match="single-output"):
        FastTrees(HistGradientBoostingClassifier(max_iter=5).fit(X, three))
    categorical = np.column_stack([X[:, :2], np.abs(np.nan_to_num(X[:, 3])).astype(int) % 4])
    model = HistGradientBoostingRegressor(max_iter=5, categorical_features=[2]).fit(categorical, signal)
    with pytest.raises(FastTreesUnsupported, match="categorical"):
        FastTrees(model)


def test_the_tree_walk_names_a_private_attribute_scikit_learn_no_longer_has():
    X, signal, _ = _data(n=600)
    model = HistGradientBoostingRegressor(max_iter=5).fit(X, signal)
    del model._baseline_prediction
    with pytest.raises(FastTreesUnsupported, match=r"no '_baseline_prediction'.*fasttrees\.py"):
        FastTrees(model)


def test_the_tree_walk_was_checked_on_the_installed_scikit_learn():
    """The walk reads scikit-learn's private tree layout. On a version nobody checked it against, this fails until
    someone runs this file there and adds the version to VERIFIED_SKLEARN."""
    installed = ".".join(sklearn.__version__.split(".")[:2])
    assert installed in VERIFIED_SKLEARN, (
        f"scikit-learn {sklearn.__version__} is installed; segments/engine/fasttrees.py was checked on "
        f"{', '.join(VERIFIED_SKLEARN)}. It reads HistGradientBoosting's _predictors, _baseline_prediction and the "
        f"node fields {', '.join(NODE_FIELDS)}: check them and the scoring rule in "
        "sklearn/ensemble/_hist_gradient_boosting/_predictor.pyx, run this file, then add the version."
    )
    X, signal, _ = _data(n=600)
    nodes = HistGradientBoostingRegressor(max_iter=2).fit(X, signal)._predictors[0][0].nodes
    assert set(NODE_FIELDS) <= set(nodes.dtype.names)
