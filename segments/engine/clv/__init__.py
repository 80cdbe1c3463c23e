"""Customer lifetime value from order logs: buy-till-you-die models chosen on a holdout, with ranges.

Modules (read in this order): ``config.py`` (CLVConfig), ``orders.py`` (streamed reading, with the rules for
unreadable values, future dates and duplicated order ids), ``transactions.py`` (purchase days and the
per-customer summary, with the rules for same-day orders, refunds, zero amounts, one-time buyers), ``models.py`` (Pareto/NBD, BG/NBD,
MBG/NBD, Gamma-Gamma: likelihoods, P(alive), conditional expectations), ``holdout.py`` (split, eligibility,
scores, model choice), ``ranges.py`` (discounted expected value and the simulated 80 % ranges), ``api.py``
(``fit_clv``), ``simulate.py`` (order logs for tests and benches).

Public API: ``fit_clv(source, config=None, progress=None) -> CLVResult``, ``CLVConfig``, ``CLVResult``,
``read_orders``, ``summarize``, ``generate_order_log``, ``simulate_model_log``, the model classes, and
``CUSTOMER_COLUMNS`` (the columns of ``clv_customers.csv``).
"""

from .api import CUSTOMER_COLUMNS, UNITS, CLVResult, fit_clv
from .config import CLVConfig
from .models import BGNBD, MBGNBD, GammaGamma, ParetoNBD
from .orders import IngestReport, OrderLog, read_orders
from .simulate import generate_order_log, simulate_model_log
from .transactions import CustomerSummary, summarize

__all__ = [
    "BGNBD",
    "CUSTOMER_COLUMNS",
    "MBGNBD",
    "UNITS",
    "CLVConfig",
    "CLVResult",
    "CustomerSummary",
    "GammaGamma",
    "IngestReport",
    "OrderLog",
    "ParetoNBD",
    "fit_clv",
    "generate_order_log",
    "read_orders",
    "simulate_model_log",
    "summarize",
]
