"""How the engine's keys read to people: algorithms and model methods. One table each, used by the engine's own
metrics, the pages, the API, the exports and the command line (light: no pandas, no scikit-learn)."""

from __future__ import annotations

import re
from typing import NamedTuple


class Algorithm(NamedTuple):
    label: str  # a name on its own: form choices, tables, automatic analysis names
    phrase: str  # inside a sentence: "grouped with k-means clustering"
    note: str = ""  # a hint beside the form choice


ALGORITHMS: dict[str, Algorithm] = {
    "kmeans": Algorithm("K-means", "k-means clustering", "default"),
    "gmm": Algorithm("Gaussian mixture", "a Gaussian mixture model"),
    "agglomerative": Algorithm("Agglomerative (Ward)", "agglomerative (Ward) clustering"),
    "hdbscan": Algorithm("HDBSCAN", "density-based clustering (HDBSCAN)", "density; finds its own number of segments"),
    "dbscan": Algorithm("DBSCAN", "density-based clustering (DBSCAN)", "density with a radius (eps) you may set"),
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
        "supervised": "Model trained on the churn label",
        "mbg_nbd": "MBG/NBD buy-till-you-die model",
        "recency_rank": "Recency ranking",
        "recency_plus_behaviour": "Recency ranking combined with a behaviour model",
        "unavailable": "Not available (no recency, frequency or churn label column)",
    },
    # the supervised churn model kept by cross-validation (metrics["churn"]["model"])
    "churn_model": {
        "logistic": "Regularised logistic regression",
        "gradient_boosting": "Gradient boosting",
        "blend": "Average of logistic regression and gradient boosting",
    },
    "ltv": {
        "gradient_boosting_on_mbg_nbd_gamma_gamma": "Gradient boosting trained on an MBG/NBD and Gamma-Gamma forecast",
        "gradient_boosting_on_run_rate": "Gradient boosting trained on the spend run-rate",
        "gradient_boosting_on_retained_spend": "Gradient boosting trained on historical spend",
        "gradient_boosting_on_subscription": "Gradient boosting trained on the subscription value (recurring charge × "
        "expected paid months)",
        "unavailable": "Not available (no spend column, or no duration with a known unit)",
        "order_log_clv": "The order log's CLV (purchase and spend models fitted on the orders; no separate estimate)",
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


# One word, at least two humps, each a capital and small letters ("MonthlyCharges", "paymentMethod"); not "NPS"
_CAMEL = re.compile(r"[A-Za-z][a-z0-9]+(?:[A-Z][a-z0-9]+|[A-Z]{2,}(?![a-z]))+")

# Columns the product itself derives (the customer table built from an order log, `clv/product.py`): their names.
DERIVED_COLUMN_LABELS = {
    "p_active": "P(active)",
    "clv": "CLV",
    "clv_low": "CLV, low end",
    "clv_high": "CLV, high end",
    "expected_purchases": "Expected purchases",
    "avg_repeat_spend": "Average repeat spend",
}


def feature_label(feature: str | None) -> str:
    """A derived feature as people read it: "signup_date (year)" -> "Signup date (year)", "device=mobile" ->
    "Device: mobile", "total_spend (missing)" -> "Total spend missing", "p_active" -> "P(active)". A column
    someone named with capitals or spaces keeps its own spelling."""
    name = str(feature or "")
    if name in DERIVED_COLUMN_LABELS:
        return DERIVED_COLUMN_LABELS[name]
    if "=" in name:
        column, _, level = name.partition("=")
        return f"{feature_label(column)}: {level}"
    if name.endswith(" (missing)"):
        return f"{feature_label(name[: -len(' (missing)')])} missing"
    if name.endswith(" (days ago)"):  # its figures read "23 days ago"
        return feature_label(name[: -len(" (days ago)")])
    base, paren, rest = name.partition(" (")
    if _CAMEL.fullmatch(base):  # an identifier written in CamelCase: "MonthlyCharges" -> "Monthly charges"
        words = re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+", base)
        base = " ".join(w if w.isupper() and len(w) > 1 else w.lower() for w in words)
        base = base[:1].upper() + base[1:]
    elif base and base == base.lower() and " " not in base:
        base = base.replace("_", " ").strip()
        base = base[:1].upper() + base[1:]
    return f"{base}{paren}{rest}"


# What an LTV model's fit is a fit *to*: the target is itself an estimate, so R² against it measures how well the
# per-customer model reproduces that estimate, never accuracy. Keyed by the target part of the LTV `method`.
LTV_TARGETS = {
    "mbg_nbd_gamma_gamma": "the MBG/NBD × Gamma-Gamma estimate",
    "run_rate": "the spend run-rate estimate",
    "retained_spend": "the historical spend × (1 − churn risk) estimate",
}
LTV_ACCURACY_UNKNOWN = "not measured: a customer table has no observed future spend to score it against"

# How strong the segments are (metrics["segment_structure"]["strength"]).
STRUCTURE_LABELS = {"clear": "Clear", "weak": "Weak", "none": "None found"}


def ltv_target_phrase(metrics: dict | None) -> str:
    """ "the MBG/NBD × Gamma-Gamma estimate" for an LTV model's stored metrics ("its target estimate" if unknown)."""
    method = str((metrics or {}).get("method") or "")
    key = method.removeprefix("gradient_boosting_on_")
    return LTV_TARGETS.get(key) or "its target estimate"


def ltv_fidelity(metrics: dict | None) -> str:
    """ "reproduces the MBG/NBD × Gamma-Gamma estimate, R² 0.99" — what an LTV model's R² is ("—" without one)."""
    r2 = (metrics or {}).get("r2")
    if r2 is None:
        return "—"
    return f"reproduces {ltv_target_phrase(metrics)}, R² {r2:.2f}"


# What a value tier is measured on (profiles: population["value_measure"] and ["value_per"]): a predicted LTV, a
# charge per period (the recurring charge, or a money column that does not grow with tenure), or spend to date.
BILLING_PERIOD = "billing period"  # a charge per period whose length nothing states


def value_text(amount: str, measure: str | None, per: str | None = None) -> str:
    """ "predicted LTV $120.00", "$45.07 a month in charges", "$45.07 per billing period in charges", "spend $300.00":
    one wording of a value figure with its unit, for reasons, cards and advice."""
    if measure == "predicted_ltv":
        return f"predicted LTV {amount}"
    if per == BILLING_PERIOD:
        return f"{amount} per billing period in charges"
    if per:
        return f"{amount} a {per} in charges"
    return f"spend {amount}"


def value_basis_label(measure: str | None, per: str | None = None) -> str:
    """What the value tiers compare, for people: "predicted LTV", "charges a month (monthly_charges)", ..."""
    if not measure:
        return "—"
    if measure == "predicted_ltv":
        return "predicted LTV"
    if per:
        return f"charges {'per billing period' if per == BILLING_PERIOD else 'a ' + per} ({measure})"
    return f"spend to date ({measure})"
