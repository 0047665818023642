"""The estimation machinery (calibration/estimation.py) on a synthetic problem with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from calibration.estimation import EstimationError, Moment, Prior, Settings, estimate, latin_design

PRIORS = [Prior("spend_share", 0.0, 2.0), Prior("attention", 0.1, 1.0), Prior("horizon", 1.0, 5.0)]
#: The truth lives only in the data generator below; the machinery sees the moments it produced.
_TRUTH = {"spend_share": 1.3, "attention": 0.45, "horizon": 3.2}


def _simulator(noise_seed: int):
    """A stochastic toy simulator: nonlinear moments plus noise fixed by the seed (common random numbers)."""
    def simulate(theta: dict[str, float]) -> dict[str, float]:
        rng = np.random.default_rng(noise_seed)
        a, b, c = theta["spend_share"], theta["attention"], theta["horizon"]
        eps = 0.005 * rng.standard_normal(4)
        return {"product": a * b + eps[0], "sum_sq": a + b * b + eps[1], "log_h": np.log(c) + 0.2 * a + eps[2],
                "ratio": c * b + eps[3], "ignored": np.nan}
    return simulate


def _published_figures() -> list[Moment]:
    """What 'the studies' report: the simulator at the truth on other random numbers, with 3% uncertainty."""
    observed = _simulator(noise_seed=999)(_TRUTH)
    return [Moment(k, float(observed[k]), 0.03 * abs(float(observed[k]))) for k in ("product", "sum_sq", "log_h", "ratio")]


FAST = Settings(seed=7, design_points=30, refine_points=20, ensemble_size=50, walkers=12, steps=250, burn=150, gp_restarts=0)


def test_recovers_known_parameters_on_a_synthetic_problem():
    calls = []

    def counted(theta):
        calls.append(theta)
        return _simulator(noise_seed=1)(theta)

    result = estimate(counted, PRIORS, _published_figures(), FAST)
    assert len(calls) == FAST.design_points + FAST.refine_points
    assert result.ensemble.shape == (50, 3)
    widths = np.array([p.high - p.low for p in PRIORS])
    truth = np.array([_TRUTH[p.name] for p in PRIORS])
    # The point estimate lands within 5% of each parameter's range of the truth ...
    assert np.all(np.abs(result.point - truth) <= 0.05 * widths), (result.point, truth)
    # ... the ensemble covers the truth, and it is far narrower than the prior (the figures inform it).
    lo, hi = np.percentile(result.ensemble, [2.5, 97.5], axis=0)
    assert np.all((lo <= truth) & (truth <= hi)), (lo, hi, truth)
    assert np.all((hi - lo) < 0.35 * widths), (hi - lo)
    # Every ensemble member stays in the prior box.
    assert np.all(result.ensemble >= [p.low for p in PRIORS]) and np.all(result.ensemble <= [p.high for p in PRIORS])


def test_same_seed_same_estimate_and_another_seed_differs():
    figures = _published_figures()
    quick = Settings(seed=3, design_points=16, refine_points=0, ensemble_size=20, walkers=8, steps=40, burn=20, gp_restarts=0)
    a = estimate(_simulator(1), PRIORS, figures, quick)
    b = estimate(_simulator(1), PRIORS, figures, quick)
    np.testing.assert_allclose(a.ensemble, b.ensemble)
    np.testing.assert_allclose(a.point, b.point)
    c = estimate(_simulator(1), PRIORS, figures, Settings(**{**quick.__dict__, "seed": 4}))
    assert not np.allclose(a.design, c.design)


def test_design_fills_the_prior_box():
    x = latin_design(PRIORS, 40, seed=0)
    for j, p in enumerate(PRIORS):
        assert p.low <= x[:, j].min() and x[:, j].max() <= p.high
        # A Latin hypercube puts exactly one point in each of 40 equal slices of every parameter's range.
        slices = np.floor((x[:, j] - p.low) / (p.high - p.low) * 40).astype(int)
        assert sorted(slices) == list(range(40))


@pytest.mark.parametrize("priors, moments, settings, message", [
    ([], [Moment("m", 1.0, 0.1)], Settings(), "no parameters"),
    (PRIORS, [], Settings(), "no published figures"),
    ([Prior("a", 1.0, 1.0)], [Moment("m", 1.0, 0.1)], Settings(), "low < high"),
    (PRIORS, [Moment("m", 1.0, 0.0)], Settings(), "positive sd"),
    (PRIORS, [Moment("m", 1.0, 0.1)], Settings(design_points=4), "design_points"),
    (PRIORS, [Moment("m", 1.0, 0.1)], Settings(walkers=5), "walkers"),
])
def test_bad_problems_are_refused_before_any_run(priors, moments, settings, message):
    def never(theta):
        raise AssertionError("the simulator must not run")

    with pytest.raises(EstimationError, match=message):
        estimate(never, priors, moments, settings)
