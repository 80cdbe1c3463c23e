"""The 80 % ranges hold the simulated truth 80 % of the time; discounting and the expected value agree."""

import numpy as np
import pytest

from segments.engine.clv import (
    BGNBD,
    CLVConfig,
    GammaGamma,
    ParetoNBD,
    fit_clv,
    read_orders,
    simulate_model_log,
    summarize,
)
from segments.engine.clv.orders import to_day
from segments.engine.clv.ranges import expected_value, simulate_spend, weekly_discount_rate

GG = GammaGamma(p=4.0, q=5.0, v=60.0)


def _calibrated(truth, n=5000, seed=1):
    log = read_orders(simulate_model_log(truth, GG, n, seed=seed), CLVConfig(observation_end="2024-12-31"))
    s = summarize(log, to_day("2023-01-01") + 52 * 7, to_day("2023-01-01") + 104 * 7 - 1)
    model = type(truth)().fit(*s.weeks)
    rep = (s.x > 0) & (s.monetary > 0)
    gg = GammaGamma().fit(s.x[rep], s.monetary[rep])
    return s, model, gg


@pytest.mark.parametrize("truth", [BGNBD(0.8, 8.0, 0.6, 4.0), ParetoNBD(0.8, 8.0, 0.7, 30.0)], ids=lambda m: m.name)
def test_the_80_percent_range_holds_the_simulated_truth_80_percent_of_the_time(truth):
    """Customers simulated from known parameters; the model is fitted on their first year and the ranges of next
    year's spend (parameter uncertainty included) are checked against what the simulation then did.

    Spend has an atom at zero, so a central 80 % range of it holds at least 80 % of outcomes: where the low end
    is above zero there is no atom and the range must hold ~80 %; over everyone, the randomised PIT must put
    ~80 % in its central 80 %, and the plain coverage must equal the mass the model itself puts in the ranges."""
    s, model, gg = _calibrated(truth)
    r = simulate_spend(
        model, gg, *s.weeks, s.x, s.monetary, 52.0, 0.0,
        range_draws=100, parameter_draws=20, level=0.8, seed=7, truth=s.after_spend,
    )  # fmt: skip
    assert r.parameter_uncertainty
    assert 0.75 <= r.pit_coverage <= 0.85
    no_atom = r.low > 0
    assert no_atom.sum() > 300
    inside = (s.after_spend >= r.low) & (s.after_spend <= r.high)
    assert 0.75 <= inside[no_atom].mean() <= 0.85
    assert r.coverage == pytest.approx(inside.mean())
    assert r.coverage == pytest.approx(r.expected_coverage, abs=0.03)


def test_fit_clv_ranges_cover_what_happened_after_the_calibration_end():
    """Through the whole pipeline (order log, holdout model choice, refit, ranges): predictions from the end of
    year one, compared with the simulated second year."""
    log = simulate_model_log(BGNBD(1.5, 20.0, 0.6, 4.0), GG, 4000, seed=3)
    cfg = CLVConfig(observation_end="2024-12-29", calibration_end="2023-12-31", discount_rate=0.0)
    result = fit_clv(log, cfg)
    assert result.eligible
    after = result.metrics["after_calibration_end"]
    assert 0.75 <= after["ranges"]["pit_coverage"] <= 0.85
    assert after["purchases_error"] == pytest.approx(0.0, abs=0.05)
    assert result.metrics["periods"]["horizon_days"] == 364


def test_without_discounting_clv_is_expected_purchases_times_expected_spend():
    log = simulate_model_log(BGNBD(0.8, 8.0, 0.6, 4.0), GG, 2000, seed=4)
    result = fit_clv(log, CLVConfig(observation_end="2024-12-29", discount_rate=0.0))
    c = result.customers
    np.testing.assert_allclose(c["clv"], c["expected_purchases"] * c["expected_spend_per_purchase"], rtol=1e-12)
    assert (c["clv_low"] <= c["clv_high"]).all() and (c["clv_low"] >= 0).all()


def test_discounting_lowers_clv_and_matches_a_fine_numerical_integral():
    s, model, _ = _calibrated(BGNBD(0.8, 8.0, 0.6, 4.0), n=1500)
    rho = weekly_discount_rate(0.10)
    total, discounted = expected_value(model, 52.0, *s.weeks, rho)
    fine = np.zeros_like(total)
    edges = np.linspace(0, 52.0, 365)
    previous = np.zeros_like(total)
    for k, current in enumerate(model.expected_purchases_path(edges[1:], *s.weeks), start=1):
        fine += (current - previous) * np.exp(-rho * 0.5 * (edges[k - 1] + edges[k]))
        previous = current
    np.testing.assert_allclose(discounted, fine, rtol=2e-4)
    assert (discounted < total).all() and (discounted > total / 1.1).all()


def test_ranges_are_reproducible_and_quiet_customers_get_zero_without_simulation():
    s, model, gg = _calibrated(BGNBD(0.8, 8.0, 0.6, 4.0), n=1500)
    args = (model, gg, *s.weeks, s.x, s.monetary, 52.0, 0.0)
    one = simulate_spend(*args, range_draws=40, parameter_draws=10, level=0.8, seed=3)
    two = simulate_spend(*args, range_draws=40, parameter_draws=10, level=0.8, seed=3)
    np.testing.assert_array_equal(one.low, two.low)
    np.testing.assert_array_equal(one.high, two.high)
    x, t_x, T = s.weeks
    quiet = (
        model.p_alive(x, t_x, T) * (1 - np.exp((model.r + x) * np.log((model.alpha + T) / (model.alpha + T + 52))))
        < 0.05
    )
    assert quiet.any() and one.simulated_share < 1
    assert (one.high[quiet] == 0).all()
