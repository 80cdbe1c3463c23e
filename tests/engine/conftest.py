"""Engine fixtures: small synthetic customer tables and one shared default analysis.

The engine needs no Django and no database; these tests use plain pytest only.
"""

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from segments.engine import AnalysisConfig, analyze, generate_synthetic  # noqa: E402

ROWS = 3000


@pytest.fixture(scope="session")
def customers_with_truth():
    return generate_synthetic(
        ROWS, seed=11, include_segment_labels=True, include_churn_label=True, include_future_value=True
    )


@pytest.fixture(scope="session")
def customers(customers_with_truth):
    return customers_with_truth.drop(columns=["true_segment", "churned", "future_spend_12m"])


@pytest.fixture(scope="session")
def default_result(customers):
    return analyze(customers, AnalysisConfig())


@pytest.fixture
def small_customers():
    return generate_synthetic(1500, seed=3)
