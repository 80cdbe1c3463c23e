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


def _compress(*columns: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """Rows with identical values across ``columns`` -> (unique columns, counts)."""
    stacked = np.column_stack([np.asarray(c, dtype=np.float64) for c in columns])
    if len(stacked) == 0:
        return [np.asarray(c, dtype=np.float64) for c in columns], np.zeros(0)
    order = np.lexsort(stacked.T[::-1])
    s = stacked[order]
    new = np.ones(len(s), dtype=bool)
    new[1:] = np.any(s[1:] != s[:-1], axis=1)
    starts = np.flatnonzero(new)
    counts = np.diff(np.append(starts, len(s))).astype(np.float64)
    uniq = s[starts]
    return [uniq[:, j] for j in range(uniq.shape[1])], counts


def _unique_inverse(*columns: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """Unique rows of ``columns`` and the index mapping every input row to its unique row."""
    stacked = np.column_stack([np.asarray(c, dtype=np.float64) for c in columns])
    uniq, inverse = np.unique(stacked, axis=0, return_inverse=True)
    return [uniq[:, j] for j in range(uniq.shape[1])], inverse.reshape(-1)


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

    def _optimise(self, fun_and_grad, starts, bounds, jac: bool, total_weight: float, grad_only=None):
        best = None
        for start in starts:
            res = minimize(
                fun_and_grad, np.asarray(start, float), jac=jac, method="L-BFGS-B", bounds=bounds,
                options={"maxiter": 500},
            )
            if best is None or res.fun < best.fun:
                best = res
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
        H = _numeric_hessian(grad_only, best.x) * total_weight
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


def _finite_diff_grad(fun, theta: np.ndarray, step: float = 1e-6) -> np.ndarray:
    g = np.empty_like(theta)
    for j in range(len(theta)):
        e = np.zeros_like(theta)
        e[j] = step
        g[j] = (fun(theta + e) - fun(theta - e)) / (2 * step)
    return g


class _PurchaseModel(_MLE):
    name = ""
    label = ""

    def fit(self, x, t_x, T, *, weights=None):
        x, t_x, T = (np.asarray(v, dtype=np.float64) for v in (x, t_x, T))
        if weights is None:
            (x, t_x, T), w = _compress(x, t_x, T)
        else:
            w = np.asarray(weights, dtype=np.float64)
        total = float(w.sum())
        if total <= 0:
            raise ValueError("no customers to fit")
        wn = w / total
        return self._fit(x, t_x, T, wn, total)

    def loglik(self, x, t_x, T) -> np.ndarray:
        """Per-customer log-likelihood at the current parameters."""
        raise NotImplementedError

    def expected_purchases(self, t, x, t_x, T):
        raise NotImplementedError

    def p_alive(self, x, t_x, T):
        raise NotImplementedError


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
    def _log_terms(r, alpha, s, beta, x, t_x, T):
        """log of the two parts of the likelihood bracket: alive at T, and dropout between t_x and T (times
        s/(r+s+x)), without the Gamma prefactor Γ(r+x) α^r β^s / Γ(r).

        With E(t) = (α+t)^-(r+x) (β+t)^-s, the dropout part is s/(r+s+x) [E(t_x) H(t_x) - E(T) H(T)], where
        H(t) = 2F1(1, r+x; r+s+x+1; (α-β)/(α+t)) when α >= β and 2F1(1, s+1; r+s+x+1; (β-α)/(β+t)) x
        (α+t)/(β+t) otherwise (Euler's transformation of the note's 2F1(r+s+x, ·; r+s+x+1; z))."""
        rx = r + x
        c = rx + s + 1.0

        def log_EH(t):
            logE = -rx * np.log(alpha + t) - s * np.log(beta + t)
            if alpha >= beta:
                H = hyp2f1(1.0, rx, c, (alpha - beta) / (alpha + t))
                return logE, logE + np.log(H)
            H = hyp2f1(1.0, s + 1.0, c, (beta - alpha) / (beta + t))
            return logE, logE + np.log(H) + np.log(alpha + t) - np.log(beta + t)

        logE_T, logEH_T = log_EH(T)
        _, logEH_tx = log_EH(t_x)
        # E(t_x)H(t_x) - E(T)H(T) > 0 whenever t_x < T; equal (zero dropout window) when t_x == T
        diff = np.minimum(logEH_T - logEH_tx, 0.0)
        with np.errstate(divide="ignore"):
            log_dropout = np.log(s) - np.log(r + s + x) + logEH_tx + np.log(-np.expm1(diff))
        return logE_T, log_dropout

    def _ll(self, theta, x, t_x, T):
        r, alpha, s, beta = np.exp(theta)
        alive, dropout = self._log_terms(r, alpha, s, beta, x, t_x, T)
        return gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta) + np.logaddexp(alive, dropout)

    def loglik(self, x, t_x, T):
        return self._ll(self._theta(), *(np.asarray(v, float) for v in (x, t_x, T)))

    def _fit(self, x, t_x, T, wn, total):
        # the 2F1 terms depend on (x, t) pairs only: evaluate them once per distinct pair
        def nll(theta):
            v = -np.dot(wn, self._ll(theta, x, t_x, T))
            return v if np.isfinite(v) else 1e10

        def grad(theta):
            return _finite_diff_grad(nll, theta)

        starts = ([0.0, 0.0, 0.0, 0.0], [np.log(0.5), np.log(10.0), np.log(0.5), np.log(10.0)])
        return self._optimise(nll, starts, [LOG_BOUNDS] * 4, jac=False, total_weight=total, grad_only=grad)

    def p_alive(self, x, t_x, T):
        x, t_x, T = (np.asarray(v, float) for v in (x, t_x, T))
        alive, dropout = self._log_terms(self.r, self.alpha, self.s, self.beta, x, t_x, T)
        return 1.0 / (1.0 + np.exp(np.clip(dropout - alive, -700, 700)))

    def expected_purchases(self, t, x, t_x, T):
        """E[purchases in (T, T + t] | x, t_x, T] = P(alive) E[λ] E[min(lifetime, t)] / ... (closed form)."""
        x, t_x, T = (np.asarray(v, float) for v in (x, t_x, T))
        r, alpha, s, beta = self.r, self.alpha, self.s, self.beta
        L = np.log1p(t / (beta + T))
        sm1 = s - 1.0
        if abs(sm1) < 1e-8:
            span = L
        else:
            span = -np.expm1(-sm1 * L) / sm1
        return self.p_alive(x, t_x, T) * (r + x) * (beta + T) / (alpha + T) * span

    def posterior_future(self, x, t_x, T):
        """Shapes and rates of λ and μ given alive at T (for simulation)."""
        return (self.r + x, self.alpha + T), (self.s + 0 * x, self.beta + T)


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

    def _parts(self, theta, x, t_x, T):
        r, alpha, a, b = np.exp(theta)
        k = self.shift
        A = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
        B = betaln(a, b + x + k) - betaln(a, b)
        C1 = -(r + x) * np.log(alpha + T)
        with np.errstate(divide="ignore", invalid="ignore"):
            C2 = np.log(a) - np.log(b + x + k - 1) - (r + x) * np.log(alpha + t_x)
        if k == 0:
            C2 = np.where(x > 0, C2, -np.inf)
        D = np.logaddexp(C1, C2)
        return r, alpha, a, b, A, B, C1, C2, D

    def _ll(self, theta, x, t_x, T):
        *_, A, B, _C1, _C2, D = self._parts(theta, x, t_x, T)
        return A + B + D

    def loglik(self, x, t_x, T):
        return self._ll(self._theta(), *(np.asarray(v, float) for v in (x, t_x, T)))

    def _grad(self, theta, x, t_x, T, wn):
        r, alpha, a, b, _A, _B, _C1, C2, D = self._parts(theta, x, t_x, T)
        k = self.shift
        w2 = np.exp(C2 - D)
        w1 = 1.0 - w2
        lT, ltx = np.log(alpha + T), np.log(alpha + t_x)
        dr = digamma(r + x) - digamma(r) + np.log(alpha) - w1 * lT - w2 * ltx
        dalpha = r / alpha - (r + x) * (w1 / (alpha + T) + w2 / (alpha + t_x))
        dab = digamma(a + b) - digamma(a + b + x + k)
        da = dab + w2 / a
        with np.errstate(divide="ignore", invalid="ignore"):
            db = digamma(b + x + k) - digamma(b) + dab - np.where(w2 > 0, w2 / (b + x + k - 1), 0.0)
        g = np.array([wn @ dr * r, wn @ dalpha * alpha, wn @ da * a, wn @ db * b])
        return -g

    def _fit(self, x, t_x, T, wn, total):
        def fun(theta):
            v = -np.dot(wn, self._ll(theta, x, t_x, T))
            if not np.isfinite(v):
                return 1e10, np.zeros(4)
            return v, self._grad(theta, x, t_x, T, wn)

        starts = ([0.0, 0.0, 0.0, 0.0], [0.0, 1.0, -1.0, 1.0])
        return self._optimise(
            fun, starts, [LOG_BOUNDS] * 4, jac=True, total_weight=total,
            grad_only=lambda th: self._grad(th, x, t_x, T, wn),
        )

    def p_alive(self, x, t_x, T):
        x, t_x, T = (np.asarray(v, float) for v in (x, t_x, T))
        r, alpha, a, b, k = self.r, self.alpha, self.a, self.b, self.shift
        with np.errstate(divide="ignore", invalid="ignore"):
            log_ratio = np.log(a) - np.log(b + x + k - 1) + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x))
        if k == 0:
            log_ratio = np.where(x > 0, log_ratio, -np.inf)
        return 1.0 / (1.0 + np.exp(np.clip(log_ratio, -700, 700)))

    def p_no_purchase(self, x, t_x, T, horizon):
        """P(no purchase in (T, T + horizon]) = P(dead) + P(alive) P(no Poisson event | alive)."""
        pa = self.p_alive(x, t_x, T)
        quiet = np.exp((self.r + x) * (np.log(self.alpha + T) - np.log(self.alpha + T + horizon)))
        return (1.0 - pa) + pa * quiet

    def expected_purchases(self, t, x, t_x, T):
        """E[purchases in (T, T + t] | x, t_x, T]: Fader, Hardie & Lee (2005) eq. 10 (BG/NBD) and its MBG/NBD
        counterpart. Valid for every a != 1 (checked against numerical integration over p in the tests); the
        2F1 factor depends on (x, T) only and is evaluated once per distinct pair."""
        x, t_x, T = (np.asarray(v, float) for v in (x, t_x, T))
        r, alpha, a, b, k = self.r, self.alpha, self.a, self.b, self.shift
        if abs(a - 1.0) < 1e-6:  # removable singularity: step off it
            a = 1.0 + 1e-6
        (ux, uT), inv = _unique_inverse(x, T)
        z = t / (alpha + uT + t)
        log_disc = (r + ux) * (np.log(alpha + uT) - np.log(alpha + uT + t))
        hyp = hyp2f1(r + ux, b + ux + k, a + b + ux + k - 1, z)
        bracket = (1.0 - np.exp(log_disc) * hyp) * (a + b + ux + k - 1) / (a - 1)
        return self.p_alive(x, t_x, T) * bracket[inv]

    def posterior_future(self, x, t_x, T):
        """Shapes/rates of λ and Beta parameters of p given alive at T (for simulation)."""
        return (self.r + x, self.alpha + T), (self.a + 0 * x, self.b + x + self.shift)


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
            gammaln(pn + q) - gammaln(pn) - gammaln(q) + q * np.log(v)
            + (pn - 1) * np.log(m) + pn * np.log(n) - (pn + q) * np.log(n * m + v)
        )

    @staticmethod
    def _grad(theta, n, m, wn):
        p, q, v = np.exp(theta)
        pn = p * n
        lnv = np.log(n * m + v)
        dp = n * (digamma(pn + q) - digamma(pn) + np.log(m) + np.log(n) - lnv)
        dq = digamma(pn + q) - digamma(q) + np.log(v) - lnv
        dv = q / v - (pn + q) / (n * m + v)
        return -np.array([wn @ dp * p, wn @ dq * q, wn @ dv * v])

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
            val = -np.dot(wn, self._ll(theta, n, m))
            if not np.isfinite(val):
                return 1e10, np.zeros(3)
            return val, self._grad(theta, n, m, wn)

        bounds = [(-6.0, 8.0), (np.log(1.01), 10.0), (-10.0, 20.0)]  # q > 1: the mean spend must exist
        return self._optimise(
            fun, ([0.0, 1.0, np.log(scale)],), bounds, jac=True, total_weight=total,
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
