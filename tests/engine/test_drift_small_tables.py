"""PSI on small tables (segments/engine/drift.py): random draws of one real population (mlc_churn.csv, 5,000
telecom customers) compared as two versions raise no drift at 200 and at 1,000 rows, while a real shift in the
second draw does; below the minimum row count nothing is alerted, and every feature held back says why."""

import numpy as np
import pandas as pd
import pytest
from helpers import real_table

from segments.engine.drift import (
    MIN_ROWS,
    PSI_MODERATE,
    bins_for,
    feature_drift,
    noise_bound,
    small_table_rule,
)

PAIRS = 25


@pytest.fixture(scope="module")
def population():
    frame = pd.read_csv(real_table("mlc_churn.csv")).drop(columns=["customer_id"])
    columns = {c: "numeric" if pd.api.types.is_numeric_dtype(frame[c]) else "categorical" for c in frame.columns}
    assert len(columns) == 20 and "categorical" in columns.values()
    return frame, columns


def _draws(frame, n, seed):
    rng = np.random.default_rng(seed)
    return (
        frame.sample(n, random_state=int(rng.integers(1 << 31))),
        frame.sample(n, random_state=int(rng.integers(1 << 31))).copy(),
    )


@pytest.mark.parametrize("rows", [200, 1000])
def test_random_draws_of_one_population_raise_no_drift(population, rows):
    frame, columns = population
    flagged, closest = [], 0.0
    for seed in range(PAIRS):
        old, new = _draws(frame, rows, seed)
        report = feature_drift(old, new, columns)
        assert len(report) == len(columns)
        flagged += [(seed, r["column"], r["psi"]) for r in report if r["level"] != "stable"]
        closest = max(closest, *(r["psi"] / r["noise"] for r in report))
    assert flagged == [], flagged
    assert closest < 1  # every PSI stayed under the noise bound of its sizes


def test_without_the_rule_the_same_draws_would_have_alerted_at_200_rows(population):
    """The rule is what keeps these quiet: plain PSI with 10 bins and the old sample's top 20 categories crosses
    0.1 on some of the same 200-row draws."""
    from segments.engine.drift import psi_categorical, psi_numeric

    frame, columns = population
    crossed = 0
    for seed in range(PAIRS):
        old, new = _draws(frame, 200, seed)
        for column, kind in columns.items():
            if kind == "numeric":
                value = psi_numeric(old[column], new[column], bins=10)
            else:
                value = _old_top_categories_psi(old[column], new[column], psi_categorical)
            crossed += value >= PSI_MODERATE
    assert crossed >= 5


def _old_top_categories_psi(old, new, psi_categorical):
    # the previous rule: the old sample's 20 most common values, however few rows each
    top = set(old.value_counts().index[:20])
    return psi_categorical(old.where(old.isin(top), "other"), new.where(new.isin(top), "other"), kept=21)


@pytest.mark.parametrize("rows", [200, 1000])
def test_a_real_shift_is_drift_at_both_sizes(population, rows):
    frame, columns = population
    for seed in range(5):
        old, new = _draws(frame, rows, 100 + seed)
        new["total_day_minutes"] = new["total_day_minutes"] * 1.3  # day usage up 30 %
        report = {r["column"]: r for r in feature_drift(old, new, columns)}
        shifted = report["total_day_minutes"]
        assert shifted["level"] in ("moderate", "major") and shifted["psi"] > shifted["noise"], shifted
        assert shifted["note"] == ""
    # a different mix of customers: half of the new draw churners (14 % in the population)
    churners, stayers = frame[frame.churn == "yes"], frame[frame.churn == "no"]
    old, _ = _draws(frame, rows, 7)
    mixed = pd.concat([churners.sample(rows // 2, random_state=1), stayers.sample(rows - rows // 2, random_state=1)])
    report = {r["column"]: r for r in feature_drift(old, mixed, columns)}
    assert report["churn"]["level"] == "major"


def test_below_the_minimum_row_count_nothing_is_alerted_and_the_row_says_why(population):
    frame, columns = population
    old = frame.sample(MIN_ROWS - 1, random_state=3)
    new = frame.sample(300, random_state=4).copy()
    new["total_day_minutes"] = new["total_day_minutes"] * 3
    report = {r["column"]: r for r in feature_drift(old, new, columns)}
    held = report["total_day_minutes"]
    assert held["psi"] >= 0.25 and held["level"] == "stable"
    assert held["note"].startswith(f"too few rows to judge ({MIN_ROWS - 1:,} and 300)")
    assert all(r["level"] == "stable" for r in report.values())


def test_a_psi_within_sampling_noise_is_held_back_with_the_reason():
    rng = np.random.default_rng(0)
    old = pd.Series(rng.normal(100, 10, 150))
    new = pd.Series(rng.normal(103, 10, 150))  # a small move that 150 rows cannot tell from chance
    (row,) = feature_drift(pd.DataFrame({"x": old}), pd.DataFrame({"x": new}), {"x": "numeric"})
    assert row["bins"] <= 4 and row["level"] == "stable"
    if row["psi"] >= PSI_MODERATE:
        assert row["note"].startswith("within sampling noise") and row["psi"] <= row["noise"]


def test_bins_and_the_noise_bound_follow_the_stated_rule():
    assert [bins_for(n, n) for n in (100, 199, 200, 499, 500, 1000, 50_000)] == [2, 3, 4, 9, 10, 10, 10]
    assert bins_for(5000, 200) == 4  # the smaller version decides
    # sampling noise shrinks with rows: above 0.1 at 200 rows a side, below it from 1,000
    assert noise_bound(200, 200, 4) > PSI_MODERATE > noise_bound(1000, 1000, 10)
    assert "fewer than 100 rows" in small_table_rule()
