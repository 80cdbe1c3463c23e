"""Buy-till-you-die models fitted on the customer table with vectorised likelihoods.

MBG/NBD (Batislam et al. 2007): purchases follow Poisson(lambda), lambda ~ Gamma(r, alpha); after
every purchase, *including the first*, the customer drops out with probability p ~ Beta(a, b).
Unlike BG/NBD, a customer who never bought again is not certainly alive: P(alive) falls with
time since the first purchase, so the churn ranking follows recency on retail data.

Gamma-Gamma (Fader, Hardie & Lee 2005): spend per purchase ~ Gamma(p, nu), nu ~ Gamma(q, gamma).
Time unit: weeks (days / 7), which keeps the parameters well scaled.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize
from scipy.special import betaln, gammaln, hyp2f1


@dataclass
class MBGNBD:
    r: float = 1.0
    alpha: float = 1.0
    a: float = 1.0
    b: float = 1.0

    @staticmethod
    def _nll(log_params, x, t_x, T):
        r, alpha, a, b = np.exp(log_params)
        A1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
        A2 = betaln(a, b + x + 1) - betaln(a, b)
        A3 = -(r + x) * np.log(alpha + T)
        A4 = np.log(a) - np.log(b + x) - (r + x) * np.log(alpha + t_x)
        ll = A1 + A2 + np.logaddexp(A3, A4)
        return -np.mean(ll)

    def fit(self, x, t_x, T) -> MBGNBD:
        best = None
        for start in ([0.0, 0.0, 0.0, 0.0], [0.0, 1.0, -1.0, 1.0]):
            res = minimize(self._nll, np.array(start), args=(x, t_x, T), method="L-BFGS-B", bounds=[(-8, 6)] * 4)
            if best is None or res.fun < best.fun:
                best = res
        self.r, self.alpha, self.a, self.b = (float(v) for v in np.exp(best.x))
        self.converged_ = bool(best.success)
        return self

    def p_alive(self, x, t_x, T):
        r, alpha, a, b = self.r, self.alpha, self.a, self.b
        log_ratio = np.log(a) - np.log(b + x) + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x))
        return 1.0 / (1.0 + np.exp(np.clip(log_ratio, -50, 50)))

    def p_no_purchase(self, x, t_x, T, horizon):
        """P(no purchase in (T, T + horizon]) = P(dead) + P(alive) * P(no Poisson event | alive)."""
        pa = self.p_alive(x, t_x, T)
        quiet = np.exp((self.r + x) * (np.log(self.alpha + T) - np.log(self.alpha + T + horizon)))
        return (1.0 - pa) + pa * quiet

    def expected_purchases(self, t, x, t_x, T):
        """E[purchases in (T, T + t] | x, t_x, T] (MBG/NBD conditional expectation)."""
        r, alpha, a, b = self.r, self.alpha, self.a, self.b
        if a <= 1:
            # the closed form needs a > 1; fall back to P(alive) * posterior rate * t (no further dropout)
            return self.p_alive(x, t_x, T) * (r + x) / (alpha + T) * t
        z = t / (alpha + T + t)
        hyp = hyp2f1(r + x, b + x + 1, a + b + x, z)
        first = (a + b + x) / (a - 1)
        second = 1 - np.exp((r + x) * (np.log(alpha + T) - np.log(alpha + T + t))) * hyp
        denom = 1 + (a / (b + x)) * np.exp((r + x) * (np.log(alpha + T) - np.log(alpha + t_x)))
        out = first * second / denom
        bad = ~np.isfinite(out) | (out < 0)
        if bad.any():
            fallback = self.p_alive(x, t_x, T) * (r + x) / (alpha + T) * t
            out = np.where(bad, fallback, out)
        return out


@dataclass
class GammaGamma:
    p: float = 1.0
    q: float = 1.0
    v: float = 1.0

    @staticmethod
    def _nll(log_params, n, m):
        p, q, v = np.exp(log_params)
        ll = (
            gammaln(p * n + q)
            - gammaln(p * n)
            - gammaln(q)
            + q * np.log(v)
            + (p * n - 1) * np.log(m)
            + p * n * np.log(n)
            - (p * n + q) * np.log(n * m + v)
        )
        return -np.mean(ll)

    def fit(self, n, m) -> GammaGamma:
        scale = float(np.median(m))
        res = minimize(
            self._nll,
            np.array([0.0, 1.0, np.log(scale)]),
            args=(n, m),
            method="L-BFGS-B",
            bounds=[(-6, 8), (np.log(1.01), 10), (-10, 20)],
        )
        self.p, self.q, self.v = (float(v) for v in np.exp(res.x))
        self.converged_ = bool(res.success)
        return self

    def expected_spend(self, n, m):
        p, q, v = self.p, self.q, self.v
        n = np.maximum(n, 0)
        pop = p * v / (q - 1)
        cond = (p * (v + n * m)) / (p * n + q - 1)
        return np.where(n > 0, cond, pop)
