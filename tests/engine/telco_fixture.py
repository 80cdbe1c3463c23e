"""A Telco-shaped subscription table (the public telecom churn table's shape): tenure in months 0-72, a monthly
charge, a total charge ≈ tenure x monthly charge, contract and service columns, and a churn label."""

from __future__ import annotations

import numpy as np
import pandas as pd


def telco_frame(n: int = 3000, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    contract = rng.choice(["Month-to-month", "One year", "Two year"], n, p=[0.55, 0.21, 0.24])
    internet = rng.choice(["DSL", "Fiber optic", "No"], n, p=[0.34, 0.44, 0.22])
    long_contract = contract != "Month-to-month"
    tenure = np.where(long_contract, rng.integers(12, 73, n), rng.integers(0, 73, n) * rng.uniform(0.2, 1.0, n))
    tenure = np.round(tenure).astype(int)
    base = np.select([internet == "Fiber optic", internet == "DSL"], [70.0, 45.0], 20.0)
    monthly = np.round(base + rng.uniform(0, 45, n), 2)
    total = np.round(tenure * monthly * rng.uniform(0.96, 1.04, n), 2)
    logit = (
        -1.0
        + 1.4 * (contract == "Month-to-month")
        - 0.04 * tenure
        + 0.015 * (monthly - 65)
        + 0.6 * (internet == "Fiber optic")
    )
    churn = rng.random(n) < 1 / (1 + np.exp(-logit))
    total_text = np.where(tenure == 0, " ", total.astype(str))  # the public table leaves new customers' total blank
    return pd.DataFrame(
        {
            "customerID": [f"{i:04d}-TLC" for i in range(n)],
            "gender": rng.choice(["Female", "Male"], n),
            "SeniorCitizen": (rng.random(n) < 0.16).astype(int),
            "Partner": rng.choice(["Yes", "No"], n),
            "tenure": tenure,
            "PhoneService": rng.choice(["Yes", "No"], n, p=[0.9, 0.1]),
            "InternetService": internet,
            "Contract": contract,
            "PaymentMethod": rng.choice(["Electronic check", "Mailed check", "Bank transfer", "Credit card"], n),
            "MonthlyCharges": monthly,
            "TotalCharges": total_text,
            "Churn": np.where(churn, "Yes", "No"),
        }
    )
