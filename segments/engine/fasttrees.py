"""Pure-Python evaluation of a fitted HistGradientBoosting model for a handful of rows.

sklearn's predictor dispatches every tree through OpenMP; for one API record that costs
~0.1-0.2 ms per tree on a busy 2-core machine. Walking the ~80 small trees in Python costs
a fraction of a millisecond. Results equal sklearn's (same thresholds, missing-value rule and order of
summation): tests/engine/test_oracles.py compares them with ``decision_function`` / ``predict`` /
``predict_proba`` on random data.

The walk reads private attributes of scikit-learn's fitted model (``_predictors``, ``_baseline_prediction`` and
the fields of each predictor's ``nodes`` array). Their presence is checked when a model is wrapped (a renamed or
removed attribute raises ``FastTreesUnsupported`` naming it, rather than scoring wrongly), and the test suite
fails on a scikit-learn version not in ``VERIFIED_SKLEARN`` until the oracle tests have been run against it.
"""

from __future__ import annotations

import math

import numpy as np

VERIFIED_SKLEARN = ("1.9",)  # major.minor versions the oracle tests passed on
NODE_FIELDS = (
    "value",
    "feature_idx",
    "num_threshold",
    "missing_go_to_left",
    "left",
    "right",
    "is_leaf",
    "is_categorical",
)


class FastTreesUnsupported(RuntimeError):
    """The fitted model is not one this walk can score exactly (another layout, several outputs, categories)."""


def _sklearn_version() -> str:
    import sklearn

    return sklearn.__version__


class FastTrees:
    def __init__(self, hgb):
        for attribute in ("_predictors", "_baseline_prediction", "n_trees_per_iteration_"):
            if not hasattr(hgb, attribute):
                raise FastTreesUnsupported(
                    f"scikit-learn {_sklearn_version()}: a fitted {type(hgb).__name__} has no {attribute!r}; "
                    "segments/engine/fasttrees.py reads it to score small batches: re-check the walk against "
                    "tests/engine/test_oracles.py"
                )
        if hgb.n_trees_per_iteration_ != 1:
            raise FastTreesUnsupported("only single-output fitted HistGradientBoosting models are supported")
        self.baseline = float(np.ravel(hgb._baseline_prediction)[0])
        self.trees = []
        for (predictor,) in hgb._predictors:
            nodes = predictor.nodes
            missing = [f for f in NODE_FIELDS if f not in (nodes.dtype.names or ())]
            if missing:
                raise FastTreesUnsupported(
                    f"scikit-learn {_sklearn_version()}: HistGradientBoosting's tree nodes have no field "
                    f"{', '.join(map(repr, missing))}; segments/engine/fasttrees.py reads them to score small "
                    "batches: re-check the walk against tests/engine/test_oracles.py"
                )
            if nodes["is_categorical"].any():
                raise FastTreesUnsupported("categorical splits are not supported")
            self.trees.append(
                (
                    nodes["value"].tolist(),
                    nodes["feature_idx"].tolist(),
                    nodes["num_threshold"].tolist(),
                    nodes["missing_go_to_left"].astype(bool).tolist(),
                    nodes["left"].tolist(),
                    nodes["right"].tolist(),
                    nodes["is_leaf"].astype(bool).tolist(),
                )
            )

    def raw(self, X: np.ndarray) -> np.ndarray:
        out = np.empty(len(X))
        for r, row in enumerate(X.tolist()):
            total = self.baseline
            for value, feat, thr, miss_left, left, right, leaf in self.trees:
                i = 0
                while not leaf[i]:
                    x = row[feat[i]]
                    if math.isnan(x):
                        i = left[i] if miss_left[i] else right[i]
                    else:
                        i = left[i] if x <= thr[i] else right[i]
                total += value[i]
            out[r] = total
        return out
