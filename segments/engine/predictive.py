"""Churn risk and lifetime value.

Churn (probability of no purchase/visit in the next ``churn_horizon_days``):
- "supervised": a churn label column exists -> gradient boosting on the features; held-out ROC AUC,
  Brier score and a calibration table are reported. Features that alone separate the label almost
  perfectly (single-feature AUC >= 0.99) are treated as leakage (the label was probably computed
  from them) and excluded; the result says which.
- "mbg_nbd": recency, frequency and tenure exist -> MBG/NBD fitted on the customer table,
  P(no purchase in the horizon). No accuracy is reported: there is no observed future to score it
  against, and a label computed from the model's own inputs would only measure the formula.
  The direction is checked on the data (risk must rise with recency); if not, we fall back.
- "recency_rank": only recency exists -> the customer's recency percentile (a ranking, not a
  calibrated probability).
- "unavailable": no behavioural column -> no churn risk (NaN: "cannot be estimated", never a placeholder).

LTV (value over the next ``ltv_horizon_months``): on a subscription-shaped table (a recurring charge per
period, units.RecurringCharge) the recurring charge per month x the expected number of paid months over the
horizon, from the churn risk read as a constant monthly hazard; else MBG/NBD expected purchases x
Gamma-Gamma expected spend per purchase when recency, frequency, tenure and a monetary column exist,
otherwise the spend run-rate (monetary / tenure months x horizon) x (1 - churn risk). Durations are in days
whatever the column's unit (units.to_days); a table with no duration of known unit, or no money column, gets
no LTV (the horizon cannot be applied honestly). A gradient
boosting model learns that target from the features (so a new record gets an LTV from the same
inputs); R^2 and MAE are measured on held-out customers against the target.
"""

from __future__ import annotations

import numpy as np

from .clustering import sample_indices
from .clv.models import MBGNBD, GammaGamma
from .units import DAYS_PER_MONTH
from .vocabulary import LTV_ACCURACY_UNKNOWN, METHOD_LABELS, ltv_fidelity, method_label

DAYS_PER_WEEK = 7.0
CUMULATIVE_MIN_SPEARMAN = 0.2  # a spend total to date grows with tenure; below this it is an amount per period
SMALL_BATCH = 16  # up to this many rows, trees are walked in Python (see fasttrees.py)


def _chunked(fn, X: np.ndarray, size: int = 200_000) -> np.ndarray:
    """Predict in slices: sklearn copies float32 input to float64, which for a million rows is 400 MB."""
    if len(X) <= size:
        return fn(X)
    return np.concatenate([fn(X[s : s + size]) for s in range(0, len(X), size)])


def _fast(owner):
    fast = getattr(owner, "_fast_trees", None)
    if fast is None:
        from .fasttrees import FastTrees

        fast = owner._fast_trees = FastTrees(owner.model)
    return fast


def _hgb_classifier(seed):
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(max_iter=80, learning_rate=0.1, random_state=seed, early_stopping=False)


def _hgb_regressor(seed):
    from sklearn.ensemble import HistGradientBoostingRegressor

    # 40 shallow trees: predicting a million rows costs ~50 ns per row per tree, so the tree count is the price
    return HistGradientBoostingRegressor(
        max_iter=40, learning_rate=0.2, max_leaf_nodes=31, random_state=seed, early_stopping=False
    )


def rfm_arrays(beh: dict[str, np.ndarray]):
    """Behaviour (days, counts) -> MBG/NBD inputs x (repeat purchases), t_x, T in weeks."""
    T = np.maximum(beh["tenure"], 1.0) / DAYS_PER_WEEK
    rec = np.clip(beh["recency"], 0, None) / DAYS_PER_WEEK
    x = np.maximum(np.round(beh["frequency"]) - 1, 0)
    t_x = np.clip(T - rec, 0, T)
    t_x = np.where(x == 0, 0.0, t_x)
    return x, t_x, T


class ChurnModel:
    def __init__(self, method: str, horizon_days: int):
        self.method = method
        self.horizon_days = horizon_days
        self.model = None
        self.columns: np.ndarray | None = None
        self.recency_quantiles: np.ndarray | None = None
        self.kind = "gradient_boosting"  # supervised: "logistic", "gradient_boosting" or "blend"
        self.linear: tuple | None = None  # logistic: (mean, scale, coef, intercept)

    def fit(self, kind: str, X: np.ndarray, y: np.ndarray, seed: int) -> ChurnModel:
        """Supervised: fit the candidate ``kind`` ("logistic", "gradient_boosting" or "blend", the average of
        both) on feature rows already restricted to ``self.columns``."""
        self.kind = kind
        self.model, self.linear = None, None
        if kind in ("gradient_boosting", "blend"):
            self.model = _hgb_classifier(seed).fit(X, y)
        if kind in ("logistic", "blend"):
            from sklearn.linear_model import LogisticRegression

            A = np.asarray(X, np.float64)
            mean = A.mean(0)
            scale = A.std(0)
            scale[scale == 0] = 1.0
            lr = LogisticRegression(C=1.0, max_iter=1000).fit((A - mean) / scale, y)
            self.linear = (mean, scale, lr.coef_[0].astype(np.float64), float(lr.intercept_[0]))
        return self

    def predict(self, X: np.ndarray, beh: dict[str, np.ndarray]) -> np.ndarray:
        n = len(X)
        if self.method == "supervised":
            kind = getattr(self, "kind", "gradient_boosting")
            out = []
            if kind in ("gradient_boosting", "blend"):
                if n <= SMALL_BATCH:
                    raw = _fast(self).raw(np.ascontiguousarray(X[:, self.columns], dtype=np.float64))
                    out.append(1.0 / (1.0 + np.exp(-raw)))
                else:
                    out.append(_chunked(lambda A: self.model.predict_proba(A[:, self.columns])[:, 1], X))
            if kind in ("logistic", "blend"):
                mean, scale, coef, intercept = self.linear
                out.append(
                    _chunked(
                        lambda A: 1.0 / (1.0 + np.exp(-(((A[:, self.columns] - mean) / scale) @ coef + intercept))), X
                    )
                )
            return out[0] if len(out) == 1 else 0.5 * (out[0] + out[1])
        if self.method == "mbg_nbd":
            x, t_x, T = rfm_arrays(beh)
            return np.clip(self.model.p_no_purchase(x, t_x, T, self.horizon_days / DAYS_PER_WEEK), 0, 1)
        if self.method in ("recency_rank", "recency_plus_behaviour"):
            q = self.recency_quantiles
            rank = np.interp(beh["recency"], q, np.linspace(0, 1, len(q)))
            if self.model is None:
                return rank
            if n <= SMALL_BATCH:
                raw = _fast(self).raw(np.ascontiguousarray(X[:, self.columns], dtype=np.float64))
                other = 1.0 / (1.0 + np.exp(-raw))
            else:
                other = _chunked(lambda A: self.model.predict_proba(A[:, self.columns])[:, 1], X)
            return 0.5 * rank + 0.5 * other
        return np.full(n, np.nan)


def fit_churn(
    X, beh, label, feature_names, config, rng, feature_sources=None, recency_col=None
) -> tuple[ChurnModel, np.ndarray, dict]:
    """Churn risk per customer; the metrics carry ``method`` (a key) and ``method_label`` (for people)."""
    cm, risk, metrics = _fit_churn(X, beh, label, feature_names, config, rng, feature_sources, recency_col)
    metrics["method_label"] = method_label("churn", metrics["method"])
    if metrics.get("model"):
        metrics["method_label"] = f"{metrics['model_label']} trained on the churn label"
    return cm, risk, metrics


def _fit_churn(
    X, beh, label, feature_names, config, rng, feature_sources=None, recency_col=None
) -> tuple[ChurnModel, np.ndarray, dict]:
    horizon = config.churn_horizon_days
    if label is not None:
        return _fit_supervised_churn(X, label, feature_names, config, rng, feature_sources)
    if all(k in beh for k in ("recency", "frequency", "tenure")):
        idx = sample_indices(len(X), min(config.model_sample_size, 10_000), rng)
        sub = {k: v[idx] for k, v in beh.items()}
        x, t_x, T = rfm_arrays(sub)
        cm = ChurnModel("mbg_nbd", horizon)
        cm.model = MBGNBD().fit(x, t_x, T)
        risk = cm.predict(X, beh)
        direction = _spearman(risk[idx], sub["recency"])
        if direction > 0:
            m = cm.model
            return (
                cm,
                risk,
                {
                    "method": "mbg_nbd",
                    "horizon_days": horizon,
                    "params": {"r": m.r, "alpha": m.alpha, "a": m.a, "b": m.b},
                    "direction_check": {"spearman_risk_vs_recency": direction, "ok": True},
                    "note": "MBG/NBD buy-till-you-die model fitted on recency, frequency and tenure; churn risk = "
                    f"P(no purchase in the next {horizon} days). No accuracy is reported: there is no observed "
                    "future outcome to score against.",
                },
            )
        fallback_note = (
            f"MBG/NBD risk fell with recency on this data (Spearman {direction:.2f}), so it was "
            "rejected in favour of the recency ranking. "
        )
    else:
        fallback_note = ""
    if "recency" in beh:
        return _fit_recency_churn(X, beh, feature_sources, recency_col, config, rng, fallback_note)
    cm = ChurnModel("unavailable", horizon)
    return (
        cm,
        cm.predict(X, beh),
        {
            "method": "unavailable",
            "horizon_days": horizon,
            "note": "No recency, frequency or churn label column: churn risk cannot be estimated and is left out.",
        },
    )


def _fit_recency_churn(X, beh, feature_sources, recency_col, config, rng, fallback_note):
    """Recency percentile, averaged with a model of 'recently inactive' (recency above the median) that sees
    only the *other* behaviour (features derived from the recency column are excluded), so customers whose
    habits look like those of lapsed customers rank higher at equal recency."""
    horizon = config.churn_horizon_days
    cm = ChurnModel("recency_rank", horizon)
    cm.recency_quantiles = np.quantile(beh["recency"], np.linspace(0, 1, 101))
    sources = feature_sources or []
    keep = np.array([j for j, src in enumerate(sources) if src != recency_col], dtype=int)
    metrics = {"method": "recency_rank", "horizon_days": horizon}
    idx = sample_indices(len(X), min(config.model_sample_size, 30_000), rng)
    y = (beh["recency"][idx] > np.median(beh["recency"])).astype(int)
    if keep.size and len(idx) >= 50 and 0 < y.mean() < 1:
        perm = rng.permutation(len(idx))
        cut = int(len(idx) * 0.75)
        tr, te = perm[:cut], perm[cut:]
        from sklearn.ensemble import HistGradientBoostingClassifier

        # shallow and heavily regularised: the proxy label is noisy by construction
        model = HistGradientBoostingClassifier(
            max_iter=40,
            learning_rate=0.1,
            max_depth=3,
            min_samples_leaf=max(20, len(tr) // 50),
            random_state=config.random_state,
            early_stopping=False,
        )
        model.fit(X[idx[tr]][:, keep], y[tr])
        cm.method, cm.model, cm.columns = "recency_plus_behaviour", model, keep
        metrics["method"] = "recency_plus_behaviour"
        if len(np.unique(y[te])) == 2:
            metrics["proxy_auc"] = _auc(y[te], model.predict_proba(X[idx[te]][:, keep])[:, 1])
        metrics["note"] = (
            fallback_note + "Churn risk = 0.5 x recency percentile + 0.5 x a model's probability that the customer "
            "is in the less recently active half, learned from the other behaviour only (recency excluded). "
            "The proxy AUC says how well the other behaviour predicts recent inactivity on held-out customers; it is "
            "not a churn accuracy. Frequency or tenure is missing, so no purchase model was fitted."
        )
    else:
        metrics["note"] = (
            fallback_note + "Churn risk is the customer's recency percentile (days since last "
            "activity): a ranking, not a calibrated probability."
        )
    return cm, cm.predict(X, beh), metrics


def _spearman(a, b) -> float:
    from scipy.stats import spearmanr

    if np.std(a) == 0 or np.std(b) == 0:
        return 0.0
    return float(spearmanr(a, b)[0])


def _auc(y, s) -> float:
    """ROC AUC by the rank-sum (Mann-Whitney) identity, ties counted half: the value roc_auc_score gives, without
    its input checks (it is called once per feature and per candidate)."""
    from scipy.stats import rankdata

    y = np.asarray(y) == 1
    n1 = int(y.sum())
    n0 = len(y) - n1
    if n1 == 0 or n0 == 0:
        raise ValueError("AUC needs both classes")
    ranks = rankdata(np.asarray(s, dtype=np.float64))
    return float((ranks[y].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def _fit_supervised_churn(X, label, feature_names, config, rng, feature_sources=None):
    """Supervised churn, scored honestly.

    A 25 % held-out split measures the model in use (AUC, Brier, calibration). On the 75 % training split,
    regularised logistic regression, gradient boosting and their average are compared by 3-fold
    cross-validation; the best by cross-validated AUC is fitted on the training split and kept. Every
    customer's stored score comes from a model that did not see that customer: held-out customers get the
    kept model's score, training customers their out-of-fold (cross-fitted) score, and customers outside the
    training sample the kept model's. Label leakage is flagged when the held-out AUC reaches
    ``LEAKAGE_AUC`` or a depth-3 tree on at most 3 columns reproduces the label on held-out customers
    (``_leakage_check``)."""
    seed = config.random_state
    sources = list(feature_sources) if feature_sources is not None else list(feature_names)
    idx = sample_indices(len(X), min(config.model_sample_size, SUPERVISED_SAMPLE), rng)
    Xs, ys = X[idx], label[idx]
    leaked = []
    for j, name in enumerate(feature_names):
        col = Xs[:, j]
        if np.std(col) == 0:
            continue
        auc = _auc(ys, col)
        if max(auc, 1 - auc) >= 0.99:
            leaked.append((j, name, max(auc, 1 - auc)))
    keep = np.array([j for j in range(X.shape[1]) if j not in {j for j, _, _ in leaked}], dtype=int)
    if keep.size == 0:
        keep = np.arange(X.shape[1])
    perm = rng.permutation(len(idx))
    cut = int(len(idx) * 0.75)
    tr, te = np.sort(perm[:cut]), np.sort(perm[cut:])
    cm = ChurnModel("supervised", config.churn_horizon_days)
    cm.columns = keep
    metrics = {"method": "supervised", "label_positive_share": float(label.mean())}
    scores = None
    if len(np.unique(ys[te])) == 2 and np.bincount(ys[tr].astype(int), minlength=2).min() >= CV_FOLDS:
        Xtr, ytr = Xs[tr][:, keep], ys[tr]
        oof, cv_auc = _cross_validate(Xtr, ytr, seed)
        kind = max(cv_auc, key=lambda k: (cv_auc[k], k == "gradient_boosting"))
        cm.fit(kind, Xtr, ytr, seed)
        p = cm.predict(Xs[te], {})
        metrics["model"] = kind
        metrics["model_label"] = CHURN_MODELS[kind]
        metrics["cv_auc"] = cv_auc
        metrics["auc"] = _auc(ys[te], p)
        metrics["brier"] = float(np.mean((p - ys[te]) ** 2))
        metrics["calibration"] = _calibration(p, ys[te])
        metrics["held_out_rows"] = len(te)
        metrics["train_rows"] = len(tr)
        scores = cm.predict(X, {})
        scores[idx[tr]] = oof[kind]
        scores[idx[te]] = p
        metrics["scores"] = (
            "out of sample for every customer: training customers carry their out-of-fold (cross-fitted) score"
        )
        # every column, those excluded above included: a label computed from two columns is found here
        leak = _leakage_check(Xs[tr], ytr, Xs[te], ys[te], sources, metrics["auc"], seed)
        if leak:
            metrics["leakage"] = leak
        metrics["note"] = (
            f"{CHURN_MODELS[kind]}, chosen among regularised logistic regression, gradient boosting and their "
            f"average by {CV_FOLDS}-fold cross-validated AUC on the training split ("
            + ", ".join(f"{CHURN_MODELS[k].lower()} {v:.3f}" for k, v in cv_auc.items())
            + "); AUC, Brier score and calibration on a 25% held-out split. Each customer's churn risk comes from a "
            "model that did not see that customer."
        )
    else:
        cm.fit("gradient_boosting", Xs[:, keep], ys, seed)
        metrics["model"] = "gradient_boosting"
        metrics["model_label"] = CHURN_MODELS["gradient_boosting"]
        metrics["note"] = (
            "Gradient boosting on the features against the churn label column. Too few churned or retained "
            "customers to hold some out: no accuracy is reported."
        )
    if leaked:
        metrics["excluded_as_leakage"] = [{"feature": n, "single_feature_auc": a} for _, n, a in leaked]
        metrics["note"] += (
            " Excluded because they alone predict the label almost perfectly (the label looks derived "
            "from them): " + ", ".join(n for _, n, _ in leaked) + "."
        )
    return cm, (cm.predict(X, {}) if scores is None else scores), metrics


CV_FOLDS = 3
SUPERVISED_SAMPLE = 20_000  # labelled customers the candidates are compared and fitted on (25 % held out)
LEAKAGE_AUC = 0.98  # a held-out AUC this high on customer data is a rule, not a prediction
LEAKAGE_TREE_AUC = 0.95  # a depth-3 tree on <= 3 columns ranking churners this well on held-out customers
CHURN_MODELS = METHOD_LABELS["churn_model"]


def _cross_validate(X, y, seed) -> tuple[dict[str, np.ndarray], dict[str, float]]:
    """Out-of-fold probabilities and cross-validated AUC of each candidate (stratified folds)."""
    from sklearn.model_selection import StratifiedKFold

    oof = {"logistic": np.zeros(len(y)), "gradient_boosting": np.zeros(len(y))}
    for fit_idx, val_idx in StratifiedKFold(CV_FOLDS, shuffle=True, random_state=seed).split(X, y):
        for kind in oof:
            m = ChurnModel("supervised", 0)
            m.columns = np.arange(X.shape[1])
            m.fit(kind, X[fit_idx], y[fit_idx], seed)
            oof[kind][val_idx] = m.predict(X[val_idx], {})
    oof["blend"] = 0.5 * (oof["logistic"] + oof["gradient_boosting"])
    return oof, {k: _auc(y, v) for k, v in oof.items()}


def _leakage_check(X_tr, y_tr, X_te, y_te, sources, held_out_auc, seed) -> dict | None:
    """Can a depth-3 decision tree on at most 3 columns reproduce the label? Columns are added greedily (the
    one that lowers the tree's cross-validated Brier score most on the training split, while it falls),
    then the tree on them is scored on held-out customers. A label such a tree reproduces (AUC >=
    LEAKAGE_TREE_AUC), or that the model predicts with AUC >= LEAKAGE_AUC, was most likely computed from those
    columns."""
    from sklearn.tree import DecisionTreeClassifier

    def tree():
        return DecisionTreeClassifier(max_depth=3, min_samples_leaf=5, random_state=seed)

    from sklearn.model_selection import StratifiedKFold

    src = np.asarray(sources, dtype=object)
    names = list(dict.fromkeys(sources))
    top: list[str] = []
    first_round: dict[str, float] = {}
    # columns are chosen on up to 6,000 training customers (a tree per column, fold and round); the tree on the
    # chosen columns is then fitted on the whole training split and scored on the held-out customers
    sel = sample_indices(len(y_tr), 6_000, np.random.default_rng(seed))
    X_sel, y_sel = X_tr[sel], y_tr[sel]
    if np.bincount(y_sel.astype(int), minlength=2).min() >= CV_FOLDS:
        folds = list(StratifiedKFold(CV_FOLDS, shuffle=True, random_state=seed).split(X_sel, y_sel))

        def brier(cols) -> float:  # cross-validated Brier score of the tree on these features
            out = 0.0
            for fit, val in folds:
                t = tree().fit(X_sel[fit][:, cols], y_sel[fit])
                out += float(np.sum((t.predict_proba(X_sel[val][:, cols])[:, 1] - y_sel[val]) ** 2))
            return out / len(y_sel)

        best = float(np.mean((y_sel - y_sel.mean()) ** 2))  # the base rate's Brier score
        for _ in range(3):
            scores = {n: brier(np.flatnonzero(np.isin(src, [*top, n]))) for n in names if n not in top}
            if not scores:
                break
            first_round = first_round or scores
            name = min(scores, key=scores.get)
            if scores[name] > 0.9 * best - 1e-5:  # a column must cut the Brier score by a tenth to count
                break
            top.append(name)
            best = scores[name]
            if best < 1e-5:
                break
    cols = np.flatnonzero(np.isin(src, top))
    tree_auc = None
    if len(cols):
        shallow = tree().fit(X_tr[:, cols], y_tr)
        tree_auc = _auc(y_te, shallow.predict_proba(X_te[:, cols])[:, 1])
    if held_out_auc < LEAKAGE_AUC and (tree_auc is None or tree_auc < LEAKAGE_TREE_AUC):
        return None
    if not top:  # the model alone is too good: name the columns that alone come closest
        top = sorted(first_round, key=first_round.get)[:3]
    named = ", ".join(top) if top else "the model's features"
    if tree_auc is not None and tree_auc >= LEAKAGE_TREE_AUC:
        why = (
            f"a depth-3 decision tree on {named} alone reproduces the churn label on held-out customers "
            f"(AUC {tree_auc:.3f})"
        )
    else:
        why = f"the churn model's held-out AUC is {held_out_auc:.3f}; the columns it leans on most are {named}"
    return {
        "suspected": True,
        "columns": top,
        "held_out_auc": held_out_auc,
        "shallow_tree_auc": tree_auc,
        "message": f"Likely churn label leakage: {why}. The label was probably computed from "
        f"{'these columns' if len(top) > 1 else 'this column'}, so the AUC measures how well the model recovers "
        "that rule, not how well it predicts churn. Use a label observed after the feature columns were recorded.",
    }


def _calibration(p, y, bins: int = 10) -> list[dict]:
    edges = np.unique(np.quantile(p, np.linspace(0, 1, bins + 1)))
    which = np.clip(np.searchsorted(edges, p, side="right") - 1, 0, len(edges) - 2)
    out = []
    for b in range(len(edges) - 1):
        m = which == b
        if m.any():
            out.append({"predicted": float(p[m].mean()), "observed": float(y[m].mean()), "count": int(m.sum())})
    return out


class LTVModel:
    def __init__(self, method: str, horizon_months: int):
        self.method = method
        self.horizon_months = horizon_months
        self.model = None

    def predict(self, X: np.ndarray) -> np.ndarray:
        if self.model is None:
            return np.full(len(X), np.nan)
        if len(X) <= SMALL_BATCH:
            return np.maximum(_fast(self).raw(X.astype(np.float64)), 0.0)
        return np.maximum(_chunked(self.model.predict, X), 0.0)


def expected_paid_months(churn_risk, horizon_months: int, churn_horizon_days: float) -> np.ndarray:
    """Expected number of monthly payments over the next ``horizon_months`` for a customer whose probability of
    leaving within ``churn_horizon_days`` is ``churn_risk``, with a constant monthly hazard: the monthly survival
    s = (1 - risk) ** (1 / months in the churn horizon), and a payment for month t when still a customer then:
    sum over t = 1..H of s ** t (between 0 and H)."""
    p = np.clip(np.asarray(churn_risk, float), 0.0, 1.0)
    s = (1.0 - p) ** (1.0 / max(churn_horizon_days / DAYS_PER_MONTH, 1e-9))
    t = np.arange(1, horizon_months + 1, dtype=float)
    return (s[:, None] ** t[None, :]).sum(axis=1) if len(s) <= 200_000 else _sum_powers(s, horizon_months)


def _sum_powers(s: np.ndarray, h: int) -> np.ndarray:
    out = np.zeros_like(s)
    power = np.ones_like(s)
    for _ in range(h):
        power *= s
        out += power
    return out


def ltv_target(
    beh, churn_risk, horizon_months, rng, sample_size, bg: MBGNBD | None = None, churn_horizon_days: float = 90
):
    horizon_days = horizon_months * DAYS_PER_MONTH
    churn_known = churn_risk is not None and bool(np.isfinite(churn_risk).all())
    if "recurring" in beh and churn_known:
        periods = expected_paid_months(churn_risk, horizon_months, churn_horizon_days)
        return (
            np.maximum(beh["recurring"], 0) * periods,
            "subscription",
            {
                "target": f"recurring charge per month x expected paid months in the next {horizon_months} months "
                f"(monthly survival from the churn risk over {churn_horizon_days:g} days, read as a constant hazard)",
            },
        )
    if "monetary" not in beh:
        return None, "unavailable", {"reason": "no money column"}
    money = np.maximum(beh["monetary"], 0)
    if all(k in beh for k in ("recency", "frequency", "tenure")):
        x, t_x, T = rfm_arrays(beh)
        idx = sample_indices(len(x), sample_size, rng)
        if bg is None:
            bg = MBGNBD().fit(x[idx], t_x[idx], T[idx])
        n = np.maximum(np.round(beh["frequency"]), 1)
        m = np.maximum(money / n, 0.01)
        pos = idx[money[idx] > 0]
        gg = GammaGamma().fit(n[pos], m[pos])
        expected = bg.expected_purchases(horizon_days / DAYS_PER_WEEK, x, t_x, T)
        target = expected * gg.expected_spend(n, m)
        return (
            target,
            "mbg_nbd_gamma_gamma",
            {
                "target": f"MBG/NBD expected purchases in the next {horizon_months} months x Gamma-Gamma expected spend per purchase",
                "params": {
                    "mbg_nbd": {"r": bg.r, "alpha": bg.alpha, "a": bg.a, "b": bg.b},
                    "gamma_gamma": {"p": gg.p, "q": gg.q, "v": gg.v},
                },
            },
        )
    if "tenure" in beh and churn_known:
        idx = sample_indices(len(money), sample_size, rng)
        growth = _spearman(money[idx], beh["tenure"][idx])
        if growth < CUMULATIVE_MIN_SPEARMAN:
            return (
                None,
                "unavailable",
                {
                    "reason": f"no spend total to date: the money column does not grow with tenure (Spearman "
                    f"{growth:.2f}), so it looks like an amount per period and a run-rate from it would be meaningless"
                    " (name a recurring charge's period, e.g. monthly_charge, for a subscription value)"
                },
            )
        months = np.maximum(beh["tenure"] / DAYS_PER_MONTH, 1.0)
        target = money / months * horizon_months * (1 - churn_risk)
        return target, "run_rate", {"target": f"spend per month of tenure x {horizon_months} months x (1 - churn risk)"}
    if "tenure" in beh:
        return None, "unavailable", {"reason": "no churn risk to discount the run-rate with"}
    return None, "unavailable", {"reason": "no tenure (or recency and frequency) with a known unit"}


ORDER_LOG_LTV_NOTE = (
    "Lifetime value here is the order log's CLV: expected spend over the horizon from the purchase and spend "
    "models fitted on the orders (chosen on a holdout), with an 80 % range per customer. The segmentation's own "
    "LTV estimate, made for customer tables without order history, is not made for an order log, so one "
    "lifetime value is shown everywhere."
)


def fit_ltv(X, beh, churn_risk, config, rng, bg: MBGNBD | None = None) -> tuple[LTVModel, np.ndarray, dict]:
    """Predicted LTV per customer; the metrics carry ``method`` (a key) and ``method_label`` (for people)."""
    lm, values, metrics = _fit_ltv(X, beh, churn_risk, config, rng, bg)
    metrics["method_label"] = method_label("ltv", metrics["method"])
    return lm, values, metrics


def _fit_ltv(X, beh, churn_risk, config, rng, bg: MBGNBD | None = None) -> tuple[LTVModel, np.ndarray, dict]:
    horizon = config.ltv_horizon_months
    if not getattr(config, "predict_ltv", True):
        return (
            LTVModel("order_log_clv", horizon),
            np.full(len(X), np.nan),
            {
                "method": "order_log_clv",
                "horizon_months": horizon,
                "reason": "the order log's CLV is this analysis's lifetime value",
                "note": ORDER_LOG_LTV_NOTE,
            },
        )
    target, method, info = ltv_target(
        beh, churn_risk, horizon, rng, min(config.model_sample_size, 20_000), bg, config.churn_horizon_days
    )
    lm = LTVModel(method, horizon)
    if target is None:
        reason = info.get("reason", "no money column")
        return (
            lm,
            np.full(len(X), np.nan),
            {
                "method": "unavailable",
                "horizon_months": horizon,
                "reason": reason,
                "note": f"{reason[0].upper()}{reason[1:]}: lifetime value cannot be estimated over {horizon} months, "
                "so it is left out."
                + (
                    " A tenure column whose unit is not stated counts as no duration: state its unit (days, weeks, "
                    "months or years) to get an LTV."
                    if "unit" in reason
                    else ""
                ),
            },
        )
    from sklearn.metrics import mean_absolute_error, r2_score

    idx = sample_indices(len(X), min(config.model_sample_size, 15_000), rng)
    perm = rng.permutation(len(idx))
    cut = max(int(len(idx) * 0.8), 1)
    tr, te = idx[np.sort(perm[:cut])], idx[np.sort(perm[cut:])]
    # one model, trained on the training split only, so the held-out scores describe the model in use
    lm.model = _hgb_regressor(config.random_state).fit(X[tr], target[tr])
    pred = np.maximum(lm.model.predict(X[te]), 0) if len(te) else np.array([])
    r2 = float(r2_score(target[te], pred)) if len(te) > 1 else None
    mae = float(mean_absolute_error(target[te], pred)) if len(te) else None
    values = lm.predict(X)
    metrics = {
        "method": f"gradient_boosting_on_{method}",
        "target": info["target"],
        "horizon_months": horizon,
        "r2": r2,
        "mae": mae,
        "train_rows": len(tr),
        "held_out_rows": len(te),
        "note": "R2 and MAE compare the per-customer model with the target on held-out customers; the target is "
        "itself an estimate (no observed future spend in a customer table).",
    }
    # what the R² is: a fit to a formula's estimate, not accuracy (one wording: vocabulary.ltv_fidelity)
    metrics["fidelity"] = ltv_fidelity(metrics)
    metrics["accuracy"] = None
    metrics["accuracy_note"] = LTV_ACCURACY_UNKNOWN
    if "params" in info:
        metrics["params"] = info["params"]
    return lm, values, metrics


def feature_importance(
    X, labels, feature_names, sources, config, rng, n_jobs: int = 2
) -> tuple[list[dict], list[dict]]:
    """Random forest on the segment labels (impurity importance) and mutual information, each
    normalised to sum to 1, combined 50/50, summed per source column."""
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.feature_selection import mutual_info_classif

    mask = labels >= 0
    idx = np.flatnonzero(mask)
    if len(np.unique(labels[idx])) < 2:
        return [], []
    sub = idx[sample_indices(len(idx), config.importance_sample_size, rng)]
    rf = RandomForestClassifier(
        n_estimators=25, max_depth=10, min_samples_leaf=5, n_jobs=n_jobs, random_state=config.random_state
    ).fit(X[sub], labels[sub])
    rf_imp = rf.feature_importances_
    mi_idx = sub[sample_indices(len(sub), 1500, rng)]
    mi = mutual_info_classif(X[mi_idx], labels[mi_idx], random_state=config.random_state, n_neighbors=3)
    rf_n = rf_imp / max(rf_imp.sum(), 1e-12)
    mi_n = mi / max(mi.sum(), 1e-12)
    combined = 0.5 * rf_n + 0.5 * mi_n
    per_feature = [
        {"feature": f, "source": s, "importance": float(c), "rf": float(r), "mi": float(m)}
        for f, s, c, r, m in zip(feature_names, sources, combined, rf_n, mi_n, strict=True)
    ]
    per_feature.sort(key=lambda d: -d["importance"])
    by_source: dict[str, dict] = {}
    for d in per_feature:
        agg = by_source.setdefault(d["source"], {"feature": d["source"], "importance": 0.0, "rf": 0.0, "mi": 0.0})
        for key in ("importance", "rf", "mi"):
            agg[key] += d[key]
    ranked = sorted(by_source.values(), key=lambda d: -d["importance"])
    return ranked, per_feature
