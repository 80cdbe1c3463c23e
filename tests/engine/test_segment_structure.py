"""segment_structure: 'none' | 'weak' | 'clear', from stability, silhouette against a structureless reference of
the same shape, and the k curves; weak or none comes with the plain sentence and advice."""

import numpy as np
import pandas as pd
from helpers import real_table  # noqa: E402
from sklearn.datasets import make_blobs

from segments.engine import AnalysisConfig, analyze
from segments.engine.clustering import CONTINUUM


def _structure(df, **config):
    return analyze(df, AnalysisConfig(**config)).metrics["segment_structure"]


def test_pure_noise_has_no_clear_structure_and_says_so():
    rng = np.random.default_rng(0)
    df = pd.DataFrame(rng.normal(size=(2500, 6)), columns=[f"x{i}" for i in range(6)])
    s = _structure(df)
    assert s["strength"] in ("none", "weak")
    assert CONTINUUM in s["summary"]
    assert any("fewer segments" in a for a in s["advice"])
    assert any("other columns" in a for a in s["advice"])


def test_uniform_noise_has_no_clear_structure():
    rng = np.random.default_rng(1)
    df = pd.DataFrame(rng.uniform(size=(2500, 4)), columns=[f"x{i}" for i in range(4)])
    assert _structure(df)["strength"] in ("none", "weak")


def test_five_well_separated_groups_are_clear():
    X, _ = make_blobs(2500, n_features=6, centers=5, cluster_std=1.0, random_state=1)
    s = _structure(pd.DataFrame(X, columns=[f"x{i}" for i in range(6)]))
    assert s["strength"] == "clear"
    ev = s["evidence"]
    assert ev["k"] == 5 and ev["stability_ari"] > 0.95
    assert ev["silhouette"] > ev["reference_silhouette"] + 0.3
    assert s["advice"] == [] and CONTINUUM not in s["summary"]


def test_a_fixed_k_on_clear_groups_is_judged_on_the_same_evidence():
    X, _ = make_blobs(2000, n_features=4, centers=3, cluster_std=0.8, random_state=2)
    s = _structure(pd.DataFrame(X, columns=list("abcd")), n_clusters=3)
    assert s["strength"] == "clear"
    assert s["evidence"]["stable_k"] is None  # no k curve when k is set


def test_the_real_telecom_table_is_not_clear_and_gets_the_plain_sentence():
    s = _structure(pd.read_csv(real_table()))
    assert s["strength"] in ("none", "weak")
    assert s["evidence"]["stability_ari"] < 0.8
    assert CONTINUUM in s["summary"]
    assert s["advice"]
