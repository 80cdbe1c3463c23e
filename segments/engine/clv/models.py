"""Buy-till-you-die purchase models and the Gamma-Gamma spend model: each defined once, here.

Every purchase model takes per-customer arrays in **weeks**: ``x`` repeat purchases (purchase occasions after
the first), ``t_x`` time from the first to the last purchase, ``T`` time from the first purchase to the end of
the observation period.

- Pareto/NBD (Schmittlein, Morrison & Colombo 1987): purchases Poisson(lambda) while alive, lambda ~ Gamma(r,
  alpha); lifetime Exponential(mu), mu ~ Gamma(s, beta). Likelihood in the form of Fader & Hardie's 2005 note,
  with Euler's transformation so that the hypergeometric function is 2F1(1, b; c; z) with c - 1 - b > 0
  (finite up to z = 1; no overflow for heavy buyers).
- BG/NBD (Fader, Hardie & Lee 2005): purchases as above; after each *repeat* purchase the customer drops out
  with probability p ~ Beta(a, b). A customer who never bought again cannot have dropped out (P(alive) = 1).
- MBG/NBD (Batislam, Denizel & Filiztekin 2007): as BG/NBD, but dropout is possible after *every* purchase,
  including the first, so P(alive) of one-time buyers falls with time.
- Gamma-Gamma (Fader, Hardie & Lee 2005, spend note): spend per purchase ~ Gamma(p, nu), nu ~ Gamma(q, gamma)
  (``v`` here); fitted on customers' number of repeat purchases ``n`` and their mean spend ``m``.

Parameters are estimated by maximum likelihood in log space (L-BFGS-B, analytic gradients for BG/NBD,
MBG/NBD and Gamma-Gamma; finite differences for Pareto/NBD, whose gradient through 2F1 has no cheap closed
form). Customers with identical inputs are collapsed to one weighted row first (one-time buyers share
``(0, 0, T)``; day-resolution logs repeat triples often). ``cov_`` is the inverse Hessian of the total negative
log-likelihood in log-parameter space (numerical, from the gradient) and is what the predictive ranges draw
parameters from (segments/engine/clv/ranges.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import minimize
from scipy.special import betaln, digamma, gammaln, hyp2f1

LOG_BOUNDS = (-8.0, 6.0)  # log-parameter box: e^-8 .. e^6 (0.0003 .. 403)


def _wsum(w: np.ndarray, v: np.ndarray) -> float:
    """Weighted sum without BLAS: a BLAS dot product may start threads that spin against other processes on a
    shared machine (50 ms instead of 10 us for 10,000 values under load)."""
    return float(np.add.reduce(w * v))


def _unique(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    u, inv = np.unique(values, return_inverse=True)
    return u, inv.reshape(-1)


def _unique_rows(*columns: np.ndarray) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    """Distinct rows of ``columns``: (unique columns, inverse index per row, count per unique row).

    Each column is replaced by its rank among its distinct values and the ranks are combined into one integer
    key, so that a million rows need one-dimensional sorts only (a lexicographic sort of float rows is ~5x
    slower); when the ranks do not fit one 62-bit key, rows are sorted lexicographically instead."""
    cols = [np.asarray(c, dtype=np.float64).reshape(-1) for c in columns]
    n = len(cols[0]) if cols else 0
    if n == 0:
        return [np.zeros(0) for _ in columns], np.zeros(0, dtype=np.int64), np.zeros(0)
    coded = [_unique(c) for c in cols]
    sizes = [len(u) for u, _ in coded]
    if float(np.prod(np.array(sizes, dtype=np.float64))) < 2.0**62:
        key = np.zeros(n, dtype=np.int64)
        for (_, codes), size in zip(coded, sizes, strict=True):
            key = key * size + codes
        _, first, inv, counts = np.unique(key, return_index=True, return_inverse=True, return_counts=True)
        return [c[first] for c in cols], inv.reshape(-1), counts.astype(np.float64)
    stacked = np.column_stack(cols)
    order = np.lexsort(stacked.T[::-1])
    srt = stacked[order]
    new = np.ones(n, dtype=bool)
    new[1:] = np.any(srt[1:] != srt[:-1], axis=1)
    group = np.cumsum(new) - 1
    inv = np.empty(n, dtype=np.int64)
    inv[order] = group
    uniq = srt[new]
    return [np.ascontiguousarray(uniq[:, j]) for j in range(uniq.shape[1])], inv, np.bincount(group).astype(np.float64)


class _Data:
    """Per-customer (x, t_x, T) with the distinct values the likelihoods reuse: terms that depend on x alone,
    on T alone, on t_x alone or on the pairs (x, T) and (x, t_x) are computed once per distinct value."""

    def __init__(self, x, t_x, T, w=None):
        self.x, self.t_x, self.T = (np.ascontiguousarray(v, dtype=np.float64) for v in (x, t_x, T))
        self.w = None if w is None else np.asarray(w, dtype=np.float64)
        self.ux, self.ix = _unique(self.x)
        self.uT, self.iT = _unique(self.T)
        self.utx, self.itx = _unique(self.t_x)
        self._pairs = {}

    def pairs(self, which: str):
        """(unique x, unique t, inverse) for which = "T" or "t_x"."""
        if which not in self._pairs:
            ut, it = (self.uT, self.iT) if which == "T" else (self.utx, self.itx)
            key = self.ix.astype(np.int64) * len(ut) + it
            _, first, inv = np.unique(key, return_index=True, return_inverse=True)
            self._pairs[which] = (self.x[first], ut[it[first]], inv.reshape(-1))
        return self._pairs[which]


def _data(x, t_x, T) -> _Data:
    """Every method that takes (x, t_x, T) also takes a prepared ``_Data`` as ``x`` alone (``CustomerSummary``
    keeps one), so that the distinct values are found once per summary, not once per call."""
    return x if isinstance(x, _Data) else _Data(x, t_x, T)


def _numeric_hessian(grad, theta: np.ndarray, step: float = 1e-4) -> np.ndarray:
    k = len(theta)
    H = np.empty((k, k))
    for j in range(k):
        e = np.zeros(k)
        e[j] = step
        H[j] = (grad(theta + e) - grad(theta - e)) / (2 * step)
    return 0.5 * (H + H.T)


def _covariance(H: np.ndarray) -> tuple[np.ndarray | None, str | None]:
    """Inverse of a Hessian that should be positive definite; None and a reason when it is not."""
    if not np.all(np.isfinite(H)):
        return None, "the Hessian of the likelihood is not finite at the estimate"
    w, V = np.linalg.eigh(H)
    if w.min() <= 0:
        return None, "the likelihood is flat or curved the wrong way in some direction (parameters not identified)"
    return (V / w) @ V.T, None


@dataclass
class _MLE:
    """Maximum-likelihood machinery shared by the models (parameters live in log space while fitting)."""

    param_names: tuple[str, ...] = field(default=(), init=False, repr=False)

    def params(self) -> dict[str, float]:
        return {k: float(getattr(self, k)) for k in self.param_names}

    def _theta(self) -> np.ndarray:
        return np.log([getattr(self, k) for k in self.param_names])

    def _set(self, theta: np.ndarray) -> None:
        for k, v in zip(self.param_names, np.exp(theta), strict=True):
            setattr(self, k, float(v))

    def with_params(self, theta: np.ndarray):
        """A copy with log-parameters ``theta`` (used for parameter draws)."""
        other = type(self)(**dict(zip(self.param_names, (float(v) for v in np.exp(theta)), strict=True)))
        return other

    def _optimise(
        self,
        fun_and_grad,
        starts,
        bounds,
        jac: bool,
        total_weight: float,
        grad_only=None,
        hessian_fun=None,
        stop_when_converged: bool = False,
    ):
        from threadpoolctl import threadpool_limits

        best = None
        # one BLAS thread: L-BFGS-B's 4-dimensional updates run 100x slower when BLAS threads spin against
        # other processes on a shared machine
        with threadpool_limits(1, user_api="blas"):
            best = self._minimise(fun_and_grad, starts, bounds, jac, stop_when_converged)
        if best is None:
            raise ValueError("the optimiser found no finite likelihood")
        return self._finish(best, bounds, total_weight, grad_only, hessian_fun)

    @staticmethod
    def _minimise(fun_and_grad, starts, bounds, jac, stop_when_converged=False):
        best = None
        for start in starts:
            res = minimize(
                fun_and_grad,
                np.asarray(start, float),
                jac=jac,
                method="L-BFGS-B",
                bounds=bounds,
                options={"maxiter": 500},
            )
            if best is None or res.fun < best.fun:
                best = res
            if stop_when_converged and res.success:
                break
        return best

    def _finish(self, best, bounds, total_weight, grad_only, hessian_fun):
        self._set(best.x)
        self.converged_ = bool(best.success)
        self.loglik_ = float(-best.fun * total_weight)
        self.n_fitted_ = round(total_weight)
        at_bound = [
            name
            for name, v, (lo, hi) in zip(self.param_names, best.x, bounds, strict=True)
            if v <= lo + 1e-6 or v >= hi - 1e-6
        ]
        self.at_bound_ = at_bound
        if grad_only is not None:
            H = _numeric_hessian(grad_only, best.x) * total_weight
        else:
            H = _hessian_from_values(hessian_fun, best.x) * total_weight
        self.cov_, self.cov_problem_ = _covariance(H)
        if at_bound and self.cov_problem_ is None:
            self.cov_problem_ = "parameter(s) at the edge of the search box: " + ", ".join(at_bound)
        return self

    def standard_errors(self) -> dict[str, float | None]:
        """Delta-method standard errors in natural units (None without a usable covariance)."""
        if self.cov_ is None:
            return dict.fromkeys(self.param_names)
        se = np.exp(self._theta()) * np.sqrt(np.diag(self.cov_))
        return {k: float(v) for k, v in zip(self.param_names, se, strict=True)}


def _hessian_from_values(fun, theta: np.ndarray, step: float = 1e-3) -> np.ndarray:
    """Central second differences of a function (for models without an analytic gradient): 2k^2 + 1 calls."""
    k = len(theta)
    f0 = fun(theta)
    H = np.empty((k, k))
    E = np.eye(k) * step
    for i in range(k):
        H[i, i] = (fun(theta + E[i]) - 2 * f0 + fun(theta - E[i])) / step**2
        for j in range(i):
            H[i, j] = H[j, i] = (
                fun(theta + E[i] + E[j])
                - fun(theta + E[i] - E[j])
                - fun(theta - E[i] + E[j])
                + fun(theta - E[i] - E[j])
            ) / (4 * step**2)
    return H


class _PurchaseModel(_MLE):
    name = ""
    label = ""

    def fit(self, x, t_x, T, *, weights=None, start=None):
        """Maximum likelihood on customers' (x, t_x, T) in weeks; identical rows are collapsed with weights.
        ``start``: optional log-parameters to try first (e.g. from a related model)."""
        x, t_x, T = (np.asarray(v, dtype=np.float64) for v in (x, t_x, T))
        if weights is None:
            (x, t_x, T), _, w = _unique_rows(x, t_x, T)
        else:
            w = np.asarray(weights, dtype=np.float64)
        total = float(w.sum())
        if total <= 0:
            raise ValueError("no customers to fit")
        d = _Data(x, t_x, T, w / total)
        return self._fit(d, total, start)

    def loglik(self, x, t_x=None, T=None) -> np.ndarray:
        """Per-customer log-likelihood at the current parameters."""
        return self._ll(self._theta(), _data(x, t_x, T))

    def expected_purchases(self, t, x, t_x=None, T=None):
        """E[purchases in (T, T + t] | x, t_x, T] (``t`` in weeks)."""
        return next(iter(self.expected_purchases_path([t], x, t_x, T)))


@dataclass
class ParetoNBD(_PurchaseModel):
    r: float = 1.0
    alpha: float = 1.0
    s: float = 1.0
    beta: float = 1.0
    name = "pareto_nbd"
    label = "Pareto/NBD"

    def __post_init__(self):
        self.param_names = ("r", "alpha", "s", "beta")

    @staticmethod
    def _log_EH(r, alpha, s, beta, ux, ut):
        """log E(t) and log E(t)H(t) on distinct (x, t) pairs, where E(t) = (α+t)^-(r+x) (β+t)^-s and
        H(t) = 2F1(1, r+x; r+s+x+1; (α-β)/(α+t)) when α >= β, else 2F1(1, s+1; r+s+x+1; (β-α)/(β+t)) (α+t)/(β+t)
        (Euler's transformation of the note's 2F1(r+s+x, ·; r+s+x+1; z): finite up to z = 1, no overflow)."""
        rx = r + ux
        c = rx + s + 1.0
        la, lb = np.log(alpha + ut), np.log(beta + ut)
        logE = -rx * la - s * lb
        if alpha >= beta:
            H = hyp2f1(1.0, rx, c, (alpha - beta) / (alpha + ut))
            return logE, logE + np.log(H)
        H = hyp2f1(1.0, s + 1.0, c, (beta - alpha) / (beta + ut))
        return logE, logE + np.log(H) + la - lb

    def _log_terms(self, r, alpha, s, beta, d: _Data):
        """log of the likelihood bracket's two parts without the prefactor Γ(r+x) α^r β^s / Γ(r): alive at T,
        E(T); dropped out between t_x and T, s/(r+s+x) [E(t_x) H(t_x) - E(T) H(T)] (Fader & Hardie 2005)."""
        pxT, pT, iT = d.pairs("T")
        pxt, pt, it = d.pairs("t_x")
        logE_T, logEH_T = (v[iT] for v in self._log_EH(r, alpha, s, beta, pxT, pT))
        logEH_tx = self._log_EH(r, alpha, s, beta, pxt, pt)[1][it]
        diff = np.minimum(logEH_T - logEH_tx, 0.0)  # zero dropout window when t_x == T
        with np.errstate(divide="ignore"):
            log_dropout = np.log(s) - np.log(r + s + d.x) + logEH_tx + np.log(-np.expm1(diff))
        return logE_T, log_dropout

    def _ll(self, theta, d: _Data):
        r, alpha, s, beta = np.exp(theta)
        alive, dropout = self._log_terms(r, alpha, s, beta, d)
        gx = (gammaln(r + d.ux) - gammaln(r))[d.ix]
        return gx + r * np.log(alpha) + s * np.log(beta) + np.logaddexp(alive, dropout)

    def _fit(self, d: _Data, total, start):
        def nll(theta):
            v = -_wsum(d.w, self._ll(theta, d))
            return v if np.isfinite(v) else 1e10

        # one start usually suffices (the CDNOW and generated logs reach the same optimum from either); the
        # second is tried only when the first does not converge
        starts = [list(start) if start is not None else [np.log(0.5), np.log(10.0), np.log(0.5), np.log(10.0)]]
        starts.append([0.0, 0.0, 0.0, 0.0])
        self._optimise(
            nll, starts, [LOG_BOUNDS] * 4, jac=False, total_weight=total, hessian_fun=nll, stop_when_converged=True
        )
        return self

    def p_alive(self, x, t_x=None, T=None):
        d = _data(x, t_x, T)
        alive, dropout = self._log_terms(self.r, self.alpha, self.s, self.beta, d)
        return 1.0 / (1.0 + np.exp(np.clip(dropout - alive, -700, 700)))

    def expected_purchases_path(self, times, x, t_x=None, T=None):
        """Yield E[purchases in (T, T + t] | x, t_x, T] for each t in ``times``: P(alive) x (r + x)(β + T) /
        ((α + T)(s - 1)) x [1 - ((β + T)/(β + T + t))^(s - 1)] (Fader & Hardie 2005), P(alive) computed once."""
        d = _data(x, t_x, T)
        r, alpha, s, beta = self.r, self.alpha, self.s, self.beta
        scale = self.p_alive(d) * (r + d.x) * (beta + d.T) / (alpha + d.T)
        sm1 = s - 1.0
        for t in times:
            L = np.log1p(t / (beta + d.T))
            yield scale * (L if abs(sm1) < 1e-8 else -np.expm1(-sm1 * L) / sm1)


@dataclass
class BGNBD(_PurchaseModel):
    r: float = 1.0
    alpha: float = 1.0
    a: float = 1.0
    b: float = 1.0
    name = "bg_nbd"
    label = "BG/NBD"
    # MBG/NBD differs by one extra dropout opportunity (at the first purchase): shift = 1
    shift = 0

    def __post_init__(self):
        self.param_names = ("r", "alpha", "a", "b")

    def _parts(self, theta, d: _Data):
        r, alpha, a, b = np.exp(theta)
        k = self.shift
        AB = gammaln(r + d.ux) - gammaln(r) + r * np.log(alpha) + betaln(a, b + d.ux + k) - betaln(a, b)
        rx = r + d.x
        lT = np.log(alpha + d.uT)[d.iT]
        ltx = np.log(alpha + d.utx)[d.itx]
        C1 = -rx * lT
        with np.errstate(divide="ignore", invalid="ignore"):
            c2x = np.log(a) - np.log(b + d.ux + k - 1)
        if k == 0:
            c2x = np.where(d.ux > 0, c2x, -np.inf)
        C2 = c2x[d.ix] - rx * ltx
        D = np.logaddexp(C1, C2)
        return r, alpha, a, b, AB, lT, ltx, C2, D

    def _ll(self, theta, d: _Data):
        *_, AB, _lT, _ltx, _C2, D = self._parts(theta, d)
        return AB[d.ix] + D

    def _grad(self, theta, d: _Data):
        r, alpha, a, b, _AB, lT, ltx, C2, D = self._parts(theta, d)
        k = self.shift
        w2 = np.exp(C2 - D)
        w1 = 1.0 - w2
        ux = d.ux
        dr = (digamma(r + ux) - digamma(r) + np.log(alpha))[d.ix] - w1 * lT - w2 * ltx
        dalpha = r / alpha - (r + d.x) * (w1 / (alpha + d.T) + w2 / (alpha + d.t_x))
        dab = (digamma(a + b) - digamma(a + b + ux + k))[d.ix]
        da = dab + w2 / a
        with np.errstate(divide="ignore", invalid="ignore"):
            inv_b = np.where(ux + k > 0, 1.0 / (b + ux + k - 1), 0.0)
        db = (digamma(b + ux + k) - digamma(b))[d.ix] + dab - w2 * inv_b[d.ix]
        w = d.w
        return -np.array([_wsum(w, dr) * r, _wsum(w, dalpha) * alpha, _wsum(w, da) * a, _wsum(w, db) * b])

    def _fit(self, d: _Data, total, start):
        def fun(theta):
            v = -_wsum(d.w, self._ll(theta, d))
            if not np.isfinite(v):
                return 1e10, np.zeros(4)
            return v, self._grad(theta, d)

        starts = [[0.0, 0.0, 0.0, 0.0], [0.0, 1.0, -1.0, 1.0]]
        if start is not None:
            starts = [list(start), *starts]
        self._optimise(
            fun, starts, [LOG_BOUNDS] * 4, jac=True, total_weight=total, grad_only=lambda th: self._grad(th, d)
        )
        return self

    def p_alive(self, x, t_x=None, T=None):
        d = _data(x, t_x, T)
        r, alpha, a, b, k = self.r, self.alpha, self.a, self.b, self.shift
        with np.errstate(divide="ignore", invalid="ignore"):
            c2x = np.log(a) - np.log(b + d.ux + k - 1)
        if k == 0:
            c2x = np.where(d.ux > 0, c2x, -np.inf)
        log_ratio = c2x[d.ix] + (r + d.x) * (np.log(alpha + d.uT)[d.iT] - np.log(alpha + d.utx)[d.itx])
        return 1.0 / (1.0 + np.exp(np.clip(log_ratio, -700, 700)))

    def p_no_purchase(self, x, t_x, T, horizon):
        """P(no purchase in (T, T + horizon]) = P(dead) + P(alive) P(no Poisson event | alive)."""
        pa = self.p_alive(x, t_x, T)
        quiet = np.exp((self.r + x) * (np.log(self.alpha + T) - np.log(self.alpha + T + horizon)))
        return (1.0 - pa) + pa * quiet

    def expected_purchases_path(self, times, x, t_x=None, T=None):
        """Yield E[purchases in (T, T + t] | x, t_x, T] for each t in ``times``: Fader, Hardie & Lee (2005)
        eq. 10 (BG/NBD) and its MBG/NBD counterpart. Valid for every a != 1 (checked against numerical
        integration over p in the tests); the 2F1 factor depends on (x, T) only and is evaluated once per
        distinct pair, P(alive) once."""
        d = _data(x, t_x, T)
        r, alpha, a, b, k = self.r, self.alpha, self.a, self.b, self.shift
        if abs(a - 1.0) < 1e-6:  # removable singularity: step off it
            a = 1.0 + 1e-6
        pa = self.p_alive(d)
        ux, uT, inv = d.pairs("T")
        for t in times:
            z = t / (alpha + uT + t)
            log_disc = (r + ux) * (np.log(alpha + uT) - np.log(alpha + uT + t))
            hyp = hyp2f1(r + ux, b + ux + k, a + b + ux + k - 1, z)
            bracket = (1.0 - np.exp(log_disc) * hyp) * (a + b + ux + k - 1) / (a - 1)
            yield pa * bracket[inv]


@dataclass
class MBGNBD(BGNBD):
    r: float = 1.0
    alpha: float = 1.0
    a: float = 1.0
    b: float = 1.0
    name = "mbg_nbd"
    label = "MBG/NBD"
    shift = 1


@dataclass
class GammaGamma(_MLE):
    """Spend per purchase. ``n``: purchases whose mean spend is ``m`` (the CLV module passes repeat purchases
    and their mean; predictive.py passes all purchases)."""

    p: float = 1.0
    q: float = 1.0
    v: float = 1.0
    name = "gamma_gamma"
    label = "Gamma-Gamma"

    def __post_init__(self):
        self.param_names = ("p", "q", "v")

    @staticmethod
    def _ll(theta, n, m):
        p, q, v = np.exp(theta)
        pn = p * n
        return (
            gammaln(pn + q)
            - gammaln(pn)
            - gammaln(q)
            + q * np.log(v)
            + (pn - 1) * np.log(m)
            + pn * np.log(n)
            - (pn + q) * np.log(n * m + v)
        )

    @staticmethod
    def _grad(theta, n, m, wn):
        p, q, v = np.exp(theta)
        pn = p * n
        lnv = np.log(n * m + v)
        dp = n * (digamma(pn + q) - digamma(pn) + np.log(m) + np.log(n) - lnv)
        dq = digamma(pn + q) - digamma(q) + np.log(v) - lnv
        dv = q / v - (pn + q) / (n * m + v)
        return -np.array([_wsum(wn, dp) * p, _wsum(wn, dq) * q, _wsum(wn, dv) * v])

    def loglik(self, n, m):
        return self._ll(self._theta(), np.asarray(n, float), np.asarray(m, float))

    def fit(self, n, m, *, weights=None):
        n, m = np.asarray(n, float), np.asarray(m, float)
        w = np.ones(len(n)) if weights is None else np.asarray(weights, float)
        total = float(w.sum())
        if total <= 0:
            raise ValueError("no customers with positive spend to fit")
        wn = w / total
        scale = float(np.median(m))

        def fun(theta):
            val = -_wsum(wn, self._ll(theta, n, m))
            if not np.isfinite(val):
                return 1e10, np.zeros(3)
            return val, self._grad(theta, n, m, wn)

        bounds = [(-6.0, 8.0), (np.log(1.01), 10.0), (-10.0, 20.0)]  # q > 1: the mean spend must exist
        return self._optimise(
            fun,
            ([0.0, 1.0, np.log(scale)],),
            bounds,
            jac=True,
            total_weight=total,
            grad_only=lambda th: self._grad(th, n, m, wn),
        )

    def expected_spend(self, n, m):
        """E[spend per purchase | n purchases with mean m]; the population mean p v / (q - 1) when n = 0."""
        p, q, v = self.p, self.q, self.v
        n = np.maximum(np.asarray(n, float), 0)
        m = np.nan_to_num(np.asarray(m, float), nan=0.0)
        return p * (v + n * m) / (p * n + q - 1)

    def posterior_rate(self, n, m):
        """Shape and rate of ν (the customer's spend-rate parameter) given n purchases with mean m."""
        n = np.maximum(np.asarray(n, float), 0)
        m = np.nan_to_num(np.asarray(m, float), nan=0.0)
        return self.q + self.p * n, self.v + n * m


PURCHASE_MODELS: dict[str, type[_PurchaseModel]] = {"pareto_nbd": ParetoNBD, "bg_nbd": BGNBD, "mbg_nbd": MBGNBD}
