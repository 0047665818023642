"""Estimating parameters of a slow stochastic simulator from published figures: the method, as glue.

The method is simulated method of moments read as a Bayesian synthetic
likelihood, with a Gaussian-process surrogate because the simulator is too slow
to call inside a sampler:

1. **Design.** A Latin hypercube (``scipy.stats.qmc``) of ``design_points``
   parameter sets fills the prior box (uniform within each parameter's bounds).
   The simulator runs at each, always on the same random numbers (common random
   numbers: one seed for every set, so differences between sets are the
   parameters' doing, not noise).
2. **Surrogate.** One Gaussian process per moment (scikit-learn,
   Matérn 5/2 kernel with one length scale per parameter plus a white-noise
   term for what the common random numbers leave) maps parameters to the
   simulated moment, with its own predictive uncertainty.
3. **Posterior.** The likelihood of a parameter set is Gaussian in the gap
   between each surrogate moment and its published figure, with variance the
   published figure's uncertainty plus the surrogate's predictive variance, so
   a region the surrogate does not know is not mistaken for a good fit. An
   affine-invariant ensemble MCMC (``emcee``) samples the posterior under the
   uniform prior.
4. **Refinement.** ``refine_points`` parameter sets drawn from that posterior
   are simulated too and the surrogate refitted on all runs, so it is accurate
   where the posterior lies; the posterior is sampled again.
5. **Result.** The point estimate is the posterior sample of highest density;
   the ensemble is ``ensemble_size`` draws spread evenly over the chain, in
   random order (so its first k sets are a fair sample too), which represent
   what the figures leave open. Neither bends one parameter to one
   figure: every set is judged on every figure at once.

Nothing here knows about the consumption model: ``estimate`` takes the moments
as a function ``simulate(values) -> {moment: value}``, which is how the tests
check that the method recovers known parameters on a synthetic problem
(``tests/test_estimation.py``). ``calibration/estimate_behaviour.py`` supplies
the model's simulator and the published figures.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np
from scipy.stats import qmc


class EstimationError(ValueError):
    """An estimation problem that cannot be run as given (names what is wrong)."""


@dataclass(frozen=True)
class Prior:
    """A parameter estimated, uniform between its bounds.

    Attributes:
        name: parameter path (``name`` or ``name.key``).
        low: lower bound (inclusive).
        high: upper bound.
        reason: why these bounds (printed in the estimate's documentation).
    """

    name: str
    low: float
    high: float
    reason: str = ""


@dataclass(frozen=True)
class Moment:
    """A published figure the simulated moment is held against.

    Attributes:
        key: the simulator's name for the moment.
        target: the published value (or the middle of a published range).
        sd: its uncertainty as one standard deviation (published, or stated as an assumption).
        label: how the fit table names it.
    """

    key: str
    target: float
    sd: float
    label: str = ""


@dataclass(frozen=True)
class Settings:
    """How hard the estimation works.

    Attributes:
        seed: root seed of the design, the surrogate and the sampler.
        design_points: simulator runs in the first (space-filling) wave.
        refine_points: simulator runs drawn from the first posterior.
        ensemble_size: parameter sets kept to represent uncertainty.
        walkers: emcee walkers.
        steps: emcee steps per walker after burn-in.
        burn: emcee steps discarded.
        gp_restarts: extra random starts of each Gaussian process's hyperparameter search.
    """

    seed: int = 0
    design_points: int = 80
    refine_points: int = 40
    ensemble_size: int = 60
    walkers: int = 32
    steps: int = 1500
    burn: int = 500
    gp_restarts: int = 2


@dataclass
class Surrogate:
    """One Gaussian process per moment, on parameters scaled to the unit box.

    Attributes:
        priors: the parameters, in column order.
        keys: the moments, in the order of ``predict``'s columns.
        models: fitted regressors by moment key (None when a moment had too few finite runs).
    """

    priors: list[Prior]
    keys: list[str]
    models: dict[str, object] = field(default_factory=dict)

    def unit(self, x: np.ndarray) -> np.ndarray:
        lo = np.array([p.low for p in self.priors])
        hi = np.array([p.high for p in self.priors])
        return (np.atleast_2d(x) - lo) / (hi - lo)

    def predict(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Mean and standard deviation of every moment at parameter sets ``x`` (sets x parameters)."""
        u = self.unit(x)
        mean = np.full((u.shape[0], len(self.keys)), np.nan)
        sd = np.full_like(mean, np.nan)
        for j, key in enumerate(self.keys):
            gp = self.models.get(key)
            if gp is None:
                continue
            m, s = gp.predict(u, return_std=True)
            mean[:, j], sd[:, j] = m, s
        return mean, sd


@dataclass
class EstimateResult:
    """What an estimation produced.

    Attributes:
        priors: the parameters, in column order.
        moments: the published figures used.
        design: every simulated parameter set (runs x parameters), both waves.
        simulated: the simulated moments at each (runs x moments; NaN where undefined).
        point: the point estimate (highest posterior density among the samples).
        ensemble: parameter sets representing uncertainty (ensemble_size x parameters).
        chain: the posterior samples after burn-in (samples x parameters).
        acceptance: mean emcee acceptance fraction of the final sampling.
        surrogate: the final surrogate.
    """

    priors: list[Prior]
    moments: list[Moment]
    design: np.ndarray
    simulated: np.ndarray
    point: np.ndarray
    ensemble: np.ndarray
    chain: np.ndarray
    acceptance: float
    surrogate: Surrogate

    def as_dicts(self, x: np.ndarray) -> list[dict[str, float]]:
        """Parameter sets as ``{name: value}``."""
        return [{p.name: float(v) for p, v in zip(self.priors, row)} for row in np.atleast_2d(x)]


def edge_shares(priors: Sequence[Prior], sets: np.ndarray, within: float = 0.05) -> list[tuple[float, float]]:
    """Per parameter, the share of ``sets`` within ``within`` of the prior box's width of its lower and upper bound.

    A posterior piled against a bound says the evidence would take the parameter past it: either the bound
    cuts off values the evidence wants (revisit it, with a reason) or a mechanism is missing.
    """
    sets = np.atleast_2d(sets)
    out = []
    for j, p in enumerate(priors):
        width = p.high - p.low
        out.append((float(np.mean(sets[:, j] <= p.low + within * width)),
                    float(np.mean(sets[:, j] >= p.high - within * width))))
    return out


def check_problem(priors: Sequence[Prior], moments: Sequence[Moment], settings: Settings) -> None:
    """Raise EstimationError for a problem that cannot be estimated."""
    if not priors:
        raise EstimationError("no parameters to estimate")
    if not moments:
        raise EstimationError("no published figures to fit")
    names = [p.name for p in priors]
    if len(set(names)) != len(names):
        raise EstimationError(f"a parameter is listed twice: {names}")
    for p in priors:
        if not (math.isfinite(p.low) and math.isfinite(p.high) and p.low < p.high):
            raise EstimationError(f"parameter {p.name}: bounds [{p.low}, {p.high}] must be finite with low < high")
    for m in moments:
        if not (math.isfinite(m.target) and m.sd > 0):
            raise EstimationError(f"moment {m.key}: needs a finite target and a positive sd, got {m.target}, {m.sd}")
    if settings.design_points < 2 * len(priors) + 2:
        raise EstimationError(f"design_points must be at least {2 * len(priors) + 2} for {len(priors)} parameters")
    if settings.ensemble_size < 1 or settings.walkers < 2 * len(priors) or settings.walkers % 2:
        raise EstimationError(f"ensemble_size >= 1 and an even number of walkers >= {2 * len(priors)} are needed")
    if settings.steps * settings.walkers < settings.ensemble_size:
        raise EstimationError("the chain is shorter than the ensemble")


def latin_design(priors: Sequence[Prior], n: int, seed: int) -> np.ndarray:
    """``n`` parameter sets filling the prior box (Latin hypercube, optimised for spread)."""
    sampler = qmc.LatinHypercube(d=len(priors), seed=np.random.default_rng(seed), optimization="random-cd")
    lo = [p.low for p in priors]
    hi = [p.high for p in priors]
    return qmc.scale(sampler.random(n), lo, hi)


def _fit_gp(task: tuple[np.ndarray, np.ndarray, int, int]):
    """One moment's Gaussian process on unit-box inputs (module level, so a process pool can fit moments at once)."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.gaussian_process import GaussianProcessRegressor
    from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel

    u, y, restarts, random_state = task
    d = u.shape[1]
    kernel = (ConstantKernel(1.0, (1e-3, 1e3)) * Matern(length_scale=np.full(d, 0.5), length_scale_bounds=(0.05, 50.0), nu=2.5)
              + WhiteKernel(1e-2, (1e-6, 1.0)))
    gp = GaussianProcessRegressor(kernel=kernel, normalize_y=True, n_restarts_optimizer=restarts, random_state=random_state)
    with warnings.catch_warnings():
        # A length scale at its bound means the moment ignores that parameter: useful, not a failure.
        warnings.simplefilter("ignore", ConvergenceWarning)
        gp.fit(u, y)
    return gp


def fit_surrogate(priors: Sequence[Prior], keys: Sequence[str], x: np.ndarray, y: np.ndarray, seed: int,
                  restarts: int = 2, mapper: Callable[[Callable, list], Any] | None = None) -> Surrogate:
    """Fit one Gaussian process per moment to simulated runs (``y``: runs x moments, NaN dropped).

    ``mapper(f, tasks)`` may fit the moments in parallel (results in order, like ``map``); each fit has its own
    seed, so the surrogate does not depend on it.
    """
    surrogate = Surrogate(list(priors), list(keys))
    u = surrogate.unit(x)
    d = len(priors)
    tasks, fitted = [], []
    for j, key in enumerate(keys):
        ok = np.isfinite(y[:, j])
        if ok.sum() < d + 2:
            surrogate.models[key] = None
            continue
        tasks.append((u[ok], y[ok, j], restarts, seed + j))
        fitted.append(key)
    for key, gp in zip(fitted, (mapper or map)(_fit_gp, tasks)):
        surrogate.models[key] = gp
    return surrogate


def log_posterior(surrogate: Surrogate, moments: Sequence[Moment], x: np.ndarray) -> np.ndarray:
    """Log posterior (up to a constant) of parameter sets ``x`` under a uniform prior and synthetic likelihood."""
    x = np.atleast_2d(x)
    lo = np.array([p.low for p in surrogate.priors])
    hi = np.array([p.high for p in surrogate.priors])
    inside = np.all((x >= lo) & (x <= hi), axis=1)
    out = np.full(x.shape[0], -np.inf)
    if not inside.any():
        return out
    mean, sd = surrogate.predict(x[inside])
    col = {k: j for j, k in enumerate(surrogate.keys)}
    total = np.zeros(int(inside.sum()))
    for m in moments:
        j = col[m.key]
        if surrogate.models.get(m.key) is None:
            continue
        var = m.sd ** 2 + sd[:, j] ** 2
        total += -0.5 * (mean[:, j] - m.target) ** 2 / var - 0.5 * np.log(var)
    out[inside] = total
    return out


def sample_posterior(surrogate: Surrogate, moments: Sequence[Moment], start: np.ndarray, settings: Settings,
                     seed: int) -> tuple[np.ndarray, np.ndarray, float]:
    """emcee samples of the posterior: (chain after burn-in, its log densities, mean acceptance)."""
    import emcee

    d = len(surrogate.priors)
    rng = np.random.default_rng(seed)
    lo = np.array([p.low for p in surrogate.priors])
    hi = np.array([p.high for p in surrogate.priors])
    # Walkers start near the best runs so far, jittered by 2% of the box, kept inside it.
    picks = start[rng.integers(0, start.shape[0], settings.walkers)]
    p0 = np.clip(picks + 0.02 * (hi - lo) * rng.standard_normal((settings.walkers, d)), lo, hi)
    sampler = emcee.EnsembleSampler(settings.walkers, d, lambda x: log_posterior(surrogate, moments, x),
                                    vectorize=True)
    sampler.random_state = np.random.RandomState(seed % (2**32)).get_state()
    sampler.run_mcmc(p0, settings.burn + settings.steps, progress=False)
    chain = sampler.get_chain(discard=settings.burn, flat=True)
    logp = sampler.get_log_prob(discard=settings.burn, flat=True)
    return chain, logp, float(np.mean(sampler.acceptance_fraction))


def _discrepancy(y: np.ndarray, keys: Sequence[str], moments: Sequence[Moment]) -> np.ndarray:
    """Sum of squared standardised gaps per run (NaN moments count as far off)."""
    col = {k: j for j, k in enumerate(keys)}
    total = np.zeros(y.shape[0])
    for m in moments:
        z = (y[:, col[m.key]] - m.target) / m.sd
        total += np.where(np.isfinite(z), z * z, 1e6)
    return total


def _spread_rows(chain: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` rows spread evenly over a chain, from a random offset."""
    if chain.shape[0] <= n:
        return chain.copy()
    step = chain.shape[0] / n
    idx = (rng.random() * step + step * np.arange(n)).astype(int)
    return chain[np.minimum(idx, chain.shape[0] - 1)]


def estimate(simulate: Callable[[dict[str, float]], dict[str, float]], priors: Sequence[Prior],
             moments: Sequence[Moment], settings: Settings, *,
             progress: Callable[[str], None] | None = None,
             map_sets: Callable[[Callable, list[dict[str, float]]], Any] | None = None) -> EstimateResult:
    """Estimate the parameters: design, surrogate, posterior, refinement, result (see the module docstring).

    ``simulate`` returns the moments of one parameter set, always on the same
    random numbers; it is called ``design_points + refine_points`` times.
    ``map_sets(simulate, sets)`` may run them in parallel (it must yield
    results in order, like ``map``); the result does not depend on it.
    """
    check_problem(priors, moments, settings)
    priors = list(priors)
    say = progress or (lambda _line: None)
    keys = list(dict.fromkeys(m.key for m in moments))

    mapper = map_sets or map

    def run(x: np.ndarray, wave: str) -> np.ndarray:
        rows = []
        sets = [{p.name: float(v) for p, v in zip(priors, values)} for values in x]
        for i, sims in enumerate(mapper(simulate, sets)):
            rows.append([float(sims.get(k, np.nan)) for k in keys])
            say(f"{wave}: run {i + 1} of {x.shape[0]}")
        return np.array(rows, dtype=float).reshape(len(rows), len(keys))

    x = latin_design(priors, settings.design_points, settings.seed)
    y = run(x, "design")
    surrogate = fit_surrogate(priors, keys, x, y, settings.seed, settings.gp_restarts, map_sets)
    say(f"surrogate fitted to {x.shape[0]} runs")
    best = x[np.argsort(_discrepancy(y, keys, moments))[: max(4, settings.walkers // 4)]]
    chain, logp, acceptance = sample_posterior(surrogate, moments, best, settings, settings.seed + 1)
    say(f"posterior sampled on the first surrogate: acceptance {acceptance:.2f}")
    rng = np.random.default_rng(settings.seed + 2)
    if settings.refine_points > 0:
        x_new = _spread_rows(chain, settings.refine_points, rng)
        y_new = run(x_new, "refinement")
        x, y = np.vstack([x, x_new]), np.vstack([y, y_new])
        surrogate = fit_surrogate(priors, keys, x, y, settings.seed, settings.gp_restarts, map_sets)
        say(f"surrogate refitted to {x.shape[0]} runs")
        best = x[np.argsort(_discrepancy(y, keys, moments))[: max(4, settings.walkers // 4)]]
        start = np.vstack([best, chain[np.argsort(logp)[-settings.walkers:]]])
        chain, logp, acceptance = sample_posterior(surrogate, moments, start, settings, settings.seed + 3)
    say(f"posterior sampled: {chain.shape[0]} samples, acceptance {acceptance:.2f}")
    point = chain[int(np.argmax(logp))]
    # Spread evenly over the chain, then in random order, so that any first k sets (a run with k replications
    # uses sets 0..k-1) are a fair sample of the posterior rather than one stretch of the chain.
    ensemble = _spread_rows(chain, settings.ensemble_size, rng)
    ensemble = ensemble[rng.permutation(ensemble.shape[0])]
    return EstimateResult(priors=priors, moments=list(moments), design=x, simulated=y, point=point,
                          ensemble=ensemble, chain=chain, acceptance=acceptance, surrogate=surrogate)
