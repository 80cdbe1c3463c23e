"""Buy-till-you-die models now live in ``segments.engine.clv.models`` (one definition each: Pareto/NBD,
BG/NBD, MBG/NBD, Gamma-Gamma). This module keeps the old import path working for code written against it."""

from .clv.models import BGNBD, MBGNBD, GammaGamma, ParetoNBD

__all__ = ["BGNBD", "MBGNBD", "GammaGamma", "ParetoNBD"]
