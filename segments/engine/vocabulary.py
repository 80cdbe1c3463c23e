"""How the engine's keys read to people: algorithms and model methods. One table each, used by the engine's own
metrics, the pages, the API, the exports and the command line (light: no pandas, no scikit-learn)."""

from __future__ import annotations

from typing import NamedTuple


class Algorithm(NamedTuple):
    label: str  # a name on its own: form choices, tables, automatic analysis names
    phrase: str  # inside a sentence: "grouped with k-means clustering"
    note: str = ""  # a hint beside the form choice


ALGORITHMS: dict[str, Algorithm] = {
    "kmeans": Algorithm("K-means", "k-means clustering", "default"),
    "gmm": Algorithm("Gaussian mixture", "a Gaussian mixture model"),
    "agglomerative": Algorithm("Agglomerative (Ward)", "agglomerative (Ward) clustering"),
    "dbscan": Algorithm("DBSCAN", "density-based clustering (DBSCAN)", "density; finds its own number of segments"),
}


def algorithm_label(key: str | None) -> str:
    """ "kmeans" -> "K-means"; an unknown key is returned as it is, a missing one as "—"."""
    if not key:
        return "—"
    return ALGORITHMS[key].label if key in ALGORITHMS else str(key)


def algorithm_phrase(key: str | None) -> str:
    return ALGORITHMS[key].phrase if key in ALGORITHMS else (str(key) if key else "clustering")


def algorithm_choices(*, with_notes: bool = False) -> list[tuple[str, str]]:
    """(key, label) pairs in the order people see them; with_notes adds each note in brackets."""
    return [(key, f"{a.label} ({a.note})" if with_notes and a.note else a.label) for key, a in ALGORITHMS.items()]


# A customer's lifecycle stage, in the order customers move through them: key -> label.
LIFECYCLE_STAGES = {"new": "New", "active": "Active", "at_risk": "At risk", "dormant": "Dormant"}


def lifecycle_label(key: str | None) -> str:
    if not key:
        return "—"
    return LIFECYCLE_STAGES.get(key, str(key).replace("_", " ").capitalize())


# The churn and LTV models' `method` keys (stored in the metrics with a `method_label`).
METHOD_LABELS = {
    "churn": {
        "supervised": "Gradient boosting trained on the churn label",
        "mbg_nbd": "MBG/NBD buy-till-you-die model",
        "recency_rank": "Recency ranking",
        "recency_plus_behaviour": "Recency ranking combined with a behaviour model",
        "unavailable": "Not available (no recency, frequency or churn label column)",
    },
    "ltv": {
        "gradient_boosting_on_mbg_nbd_gamma_gamma": "Gradient boosting trained on an MBG/NBD and Gamma-Gamma forecast",
        "gradient_boosting_on_run_rate": "Gradient boosting trained on the spend run-rate",
        "gradient_boosting_on_retained_spend": "Gradient boosting trained on historical spend",
        "gradient_boosting_on_subscription": "Gradient boosting trained on the subscription value (recurring charge × "
        "expected paid months)",
        "unavailable": "Not available (no spend column, or no duration with a known unit)",
    },
}


def method_label(model: str, method: str | None) -> str:
    """The label of a churn or LTV `method` key ("—" when there is none)."""
    if not method:
        return "—"
    return METHOD_LABELS.get(model, {}).get(method) or method.replace("_", " ").capitalize()


def metrics_method_label(model: str, metrics: dict | None) -> str:
    """The label a model's stored metrics carry (`method_label`), else the one of its `method` key."""
    metrics = metrics or {}
    return str(metrics.get("method_label") or method_label(model, metrics.get("method")))
