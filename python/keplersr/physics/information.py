"""Physics helpers for optimal observables: Fisher fractions, expected limits, MSE floors.

Notation: ``t`` is the per-event score ``d log p / d theta`` at the reference point (the
Standard Model), ``g`` any observable (a candidate formula evaluated on the events).
For the WBF dataset ``theta = f_WWtilde / Lambda^2`` in TeV^-2 and ``t`` is in TeV^2, so
Fisher informations are in TeV^4 and limits in TeV^-2.
"""
from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree
from scipy.stats import chi2


def _weights(weights, n):
    if weights is None:
        return np.full(n, 1.0 / n)
    w = np.asarray(weights, dtype=float)
    if w.shape != (n,):
        raise ValueError(f"weights must have shape ({n},), got {w.shape}")
    if not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
        raise ValueError("weights must be finite, non-negative and not all zero")
    return w / w.sum()


def _pair(g, t):
    g = np.asarray(g, dtype=float).ravel()
    t = np.asarray(t, dtype=float).ravel()
    if g.shape != t.shape:
        raise ValueError(f"observable and score must have the same length, got {g.size} and {t.size}")
    if g.size < 2:
        raise ValueError("need at least two events")
    if not (np.all(np.isfinite(g)) and np.all(np.isfinite(t))):
        raise ValueError("observable and score must be finite")
    return g, t


def _centred_cov(g, t, w):
    """Weighted ``(Cov(g, t), Var(g), Var(t))``."""
    gm = g - np.sum(w * g)
    tm = t - np.sum(w * t)
    return float(np.sum(w * gm * tm)), float(np.sum(w * gm * gm)), float(np.sum(w * tm * tm))


def _is_constant(g):
    return bool(np.all(g == g[0]))


def score_information(t, weights=None):
    """Per-event Fisher information carried by the score ``t`` itself: ``Var(t)``.

    For the joint (parton-level) score this is the full information ``E[t^2]`` (the score
    has mean zero under the model it is computed at; the variance removes the sampling
    fluctuation of the mean).  Units: [t]^2 (TeV^4 for WBF).
    """
    t, _ = _pair(t, t)
    return _centred_cov(t, t, _weights(weights, t.size))[2]


def fisher_fraction(g, t, weights=None, information=None):
    """Fraction of the Fisher information captured by the observable ``g`` (centred).

    ``Cov(g, t)^2 / (Var(g) I)`` with ``I = Var(t)`` by default, i.e. the squared
    correlation of ``g`` and ``t`` (expectations under the reference model, optionally
    weighted).  It is :func:`fisher_information` of ``g`` divided by the information ``I``,
    so it is 1 iff ``g = A t + B`` and it is invariant under ``g -> A g + B``: adding a
    constant to an observable does not change the information it carries.

    ``t`` is the joint score ``t(z)``, so by default the fraction is of the *full*
    (parton-level) information ``E[t(z)^2]``, also when ``g`` is a function of
    detector-level observables.  Pass ``information`` to measure it against another
    reference, e.g. ``information = fisher_information(t_hat, t)`` with ``t_hat`` an
    estimate of the detector-level score ``E[t | x]`` (see :func:`regress_score`): the
    fraction of the information that is left at detector level.

    A constant observable carries no information: the fraction is 0.
    """
    g, t = _pair(g, t)
    w = _weights(weights, g.size)
    cov, var_g, var_t = _centred_cov(g, t, w)
    ref = var_t if information is None else float(information)
    if not (np.isfinite(ref) and ref > 0):
        raise ValueError("the score has zero variance (or information <= 0): Fisher fraction undefined")
    if _is_constant(g) or var_g <= 0:
        return 0.0
    return float(cov ** 2 / (var_g * ref))


def fisher_information(g, t, weights=None):
    """Per-event Fisher information on theta from the (linearised) observable ``g``.

    ``Cov(g, t)^2 / Var(g)``: the information of the optimal linear estimator built on the
    mean of ``g`` (``d E_theta[g] / d theta = E[g t] = Cov(g, t)`` as ``E[t] = 0``).  With
    ``g = t`` it is ``Var(t) = E[t^2]``.  A constant observable gives 0.
    Units: [t]^2 (TeV^4 for the WBF dataset).
    """
    g, t = _pair(g, t)
    w = _weights(weights, g.size)
    cov, var_g, _ = _centred_cov(g, t, w)
    if _is_constant(g) or var_g <= 0:
        return 0.0
    return float(cov ** 2 / var_g)


def regress_score(basis_train, t_train, basis, weights=None, ridge=1e-10):
    """Least-squares series estimate of the observed-level score ``t_hat(x) = E[t(z) | x]``.

    The minimiser of ``E[(t(z) - f(x))^2]`` over functions of the observed ``x`` is
    ``E[t(z) | x]``, the score of the observed-level likelihood ``p(x | theta)`` (the SALLY
    argument MadMiner uses to train its detector-level score on the joint score).  This
    estimates it as the (weighted) least-squares combination of the columns of
    ``basis_train`` (functions of ``x`` evaluated on a training sample, e.g. a CP-odd series
    such as :func:`keplersr.datasets.wbf.cp_odd_basis`), with a tiny ridge term for
    conditioning, and returns it evaluated on ``basis`` (an independent sample).

    ``fisher_information(t_hat, t)`` on the independent sample is a lower bound on the
    observed-level information (any function of ``x`` is); use it as ``information`` in
    :func:`fisher_fraction` for fractions of the detector-level information.
    """
    B = np.asarray(basis_train, dtype=float)
    Be = np.asarray(basis, dtype=float)
    t = np.asarray(t_train, dtype=float).ravel()
    if B.ndim != 2 or Be.ndim != 2 or B.shape[1] != Be.shape[1]:
        raise ValueError("basis_train and basis must be 2-d arrays with the same number of columns")
    if B.shape[0] != t.size:
        raise ValueError(f"basis_train has {B.shape[0]} rows but t_train has {t.size}")
    if not (np.all(np.isfinite(B)) and np.all(np.isfinite(Be)) and np.all(np.isfinite(t))):
        raise ValueError("basis and score must be finite")
    w = _weights(weights, t.size)
    sd = np.sqrt(np.sum(w[:, None] * B ** 2, axis=0))
    sd[sd == 0] = 1.0
    Bs = B / sd
    gram = (Bs.T * w) @ Bs
    rhs = (Bs.T * w) @ t
    coef = np.linalg.solve(gram + ridge * np.trace(gram) / gram.shape[0] * np.eye(gram.shape[0]), rhs)
    return (Be / sd) @ coef


def _z_value(cl):
    if isinstance(cl, bool) or not isinstance(cl, (int, float)) or not 0.0 < cl < 1.0:
        raise ValueError(f"cl must be a confidence level in (0, 1), got {cl!r}")
    if abs(cl - 0.68) < 1e-12:
        return 1.0  # read 0.68 as "1 sigma" (coverage 0.6827)
    return float(np.sqrt(chi2.ppf(cl, 1)))


def expected_limit(g, t, n_events=None, luminosity_fb=None, cross_section_fb=None, cl=0.68,
                   weights=None):
    """Expected (Asimov, Gaussian) two-sided limit on theta from the observable ``g``.

    ``delta theta = z(cl) / sqrt(N * I_1)`` with ``I_1 = Cov(g, t)^2 / Var(g)``
    (:func:`fisher_information`); pass ``g = t`` for the optimal (exact-score) limit.

    Assumptions (what the number means):

    * **signal only**: the N events are all signal; no background, no systematic
      uncertainty.  With background the limit is weaker (``t`` would have to be the score
      of the signal + background mixture);
    * **shape only, N fixed**: the information is that of the per-event distribution;
      the rate term ``d log sigma / d theta`` is not included (it vanishes at the SM for a
      CP-odd operator, but not in general, e.g. at ``theta != 0``);
    * **linear in theta**: ``g`` enters through its mean, ``E_theta[g] ~ E_0[g] +
      theta Cov(g, t)``, and the variance of ``g`` is taken at the reference point, so the
      limit is valid while ``theta |t| << 1`` over the interval (for WBF at the SM:
      ``delta theta << 1 / sqrt(E[t^2]) ~ 20 TeV^-2``); for ``g = t`` it is the
      Cramer-Rao bound of the linearised model;
    * **asymptotic (Gaussian)**: N large enough that the mean of ``g`` is Gaussian;
      independent, unweighted events (``weights`` only correct for generator weights).

    A constant observable has no information: the limit is ``inf``.

    Parameters
    ----------
    g, t : array-like
        Observable and score per event (reference-model sample).
    n_events : float, optional
        Expected number of signal events N.
    luminosity_fb, cross_section_fb : float, optional
        Alternatively ``N = luminosity [fb^-1] * fiducial cross section [fb]`` (both needed).
    cl : float
        Confidence level; ``0.68`` means 1 sigma (z = 1), otherwise
        ``z = sqrt(chi2_1^-1(cl))`` (0.95 -> 1.96).

    Returns
    -------
    float, the half-width of the interval in units of theta (TeV^-2 for WBF).
    """
    if n_events is None:
        if luminosity_fb is None or cross_section_fb is None:
            raise ValueError("give n_events, or both luminosity_fb and cross_section_fb")
        n_events = float(luminosity_fb) * float(cross_section_fb)
    elif luminosity_fb is not None or cross_section_fb is not None:
        raise ValueError("give either n_events or luminosity_fb and cross_section_fb, not both")
    if not np.isfinite(n_events) or n_events <= 0:
        raise ValueError(f"number of events must be positive, got {n_events!r}")
    info = fisher_information(g, t, weights)
    if info <= 0:
        return float("inf")
    return float(_z_value(cl) / np.sqrt(n_events * info))


def mse_floor(X, t, weights=None, k=4, standardize=True, baseline=None, return_fit=False):
    """Estimate the irreducible regression MSE ``E[Var(t | x)]`` from a sample.

    Method (the "Gamma test" idea): for each event i and its m-th nearest neighbour
    j(i, m) in (standardised) feature space, ``gamma_m = mean (t_i - t_j)^2 / 2`` and
    ``delta_m = mean |x_i - x_j|^2``.  For close neighbours
    ``gamma_m ~ E[Var(t|x)] + B delta_m`` (the second term is the variation of E[t|x]
    between neighbours), so a straight-line fit over m = 1..k extrapolated to
    ``delta -> 0`` gives the floor.  A regressor of t on x cannot reach an MSE below it;
    a consistent regressor approaches it as the sample grows.

    Detrending (recommended): ``Var(t | x) = Var(t - f(x) | x)`` for any function f of
    the observed x, so pass ``baseline = f(X)`` (e.g. the predictions of the best formula
    found, or a least-squares fit of a physics-motivated observable).  The neighbour
    differences of the residual are then dominated by the noise, not by the variation of
    E[t|x], which removes most of the upward bias (for the WBF dataset the plain estimate
    is biased by ~1% of E[t^2]; detrended it reproduces the parton-level floor ~1e-4 E[t^2]).

    Parameters
    ----------
    X : array (n, d) or DataFrame of the regression inputs (the *observed* variables).
    t : array (n,) target (joint score).
    weights : optional event weights used in the averages.
    k : number of neighbours used in the extrapolation (>= 2).  Larger k lowers the noise
        but increases the upward bias from curvature of E[t|x]; validated bias for k = 4 on
        smooth test functions with 4e4 events: ~0.1% of Var(E[t|x]).
    standardize : scale each feature to unit variance first (recommended: distances
        between features with different units are otherwise meaningless).
    baseline : optional array (n,) of predictions f(x); the estimate uses ``t - baseline``.
    return_fit : also return ``(delta_m, gamma_m, slope)``.

    Returns
    -------
    float, the estimated ``E[Var(t|x)]`` in units of t^2 (TeV^4 for WBF), clipped at 0.
    """
    X = np.asarray(X, dtype=float)
    if X.ndim == 1:
        X = X[:, None]
    t = np.asarray(t, dtype=float).ravel()
    if X.shape[0] != t.size:
        raise ValueError(f"X has {X.shape[0]} rows but t has {t.size} entries")
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 2:
        raise ValueError(f"k must be an integer >= 2, got {k!r}")
    if t.size <= k + 1:
        raise ValueError(f"need more than k + 1 = {k + 1} events, got {t.size}")
    if not (np.all(np.isfinite(X)) and np.all(np.isfinite(t))):
        raise ValueError("X and t must be finite")
    if baseline is not None:
        b = np.asarray(baseline, dtype=float).ravel()
        if b.shape != t.shape or not np.all(np.isfinite(b)):
            raise ValueError(f"baseline must be a finite array of length {t.size}")
        t = t - b
    w = _weights(weights, t.size)
    if standardize:
        sd = X.std(axis=0)
        if np.any(sd == 0):
            raise ValueError("a feature is constant; cannot standardize")
        X = (X - X.mean(axis=0)) / sd
    tree = cKDTree(X)
    dist, idx = tree.query(X, k=k + 1)
    dist, idx = dist[:, 1:], idx[:, 1:]
    delta = np.array([np.sum(w * dist[:, m] ** 2) for m in range(k)])
    gamma = np.array([np.sum(w * 0.5 * (t - t[idx[:, m]]) ** 2) for m in range(k)])
    slope, intercept = np.polyfit(delta, gamma, 1)
    floor = float(max(intercept, 0.0))
    return (floor, (delta, gamma, float(slope))) if return_fit else floor
