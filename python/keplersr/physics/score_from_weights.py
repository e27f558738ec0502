"""The joint score and the joint likelihood ratio from per-event reweighting weights.

An event generator with a reweighting module (MadGraph's ``reweight``) gives every event ``i``
its weight ``w_i(theta)`` at a few parameter points.  The weight is ``p(x_i, z_i | theta)`` up to
a constant, so (as in MadMiner)

* the joint score ``t_i = d/dtheta log p(x_i, z_i | theta) = d log w_i / dtheta - d log sigma /
  dtheta`` at a reference ``theta_ref``, with ``sigma(theta) = sum_i w_i(theta)`` (the rate term,
  estimated from the same sample unless given);
* the joint likelihood ratio ``r_i(theta, theta_ref) = [w_i(theta) / w_i(theta_ref)] /
  [sigma(theta) / sigma(theta_ref)]``.

The derivative comes from the weights in one of two ways:

* ``method="morphing"`` (default): each event's weight is fitted, over all points, by a
  polynomial in ``theta - theta_ref`` of ``degree`` 1 (a dimension-6 operator's interference
  only) or 2 (interference and square: the amplitude is linear in the Wilson coefficient, so
  ``w = w_0 (1 + theta t + theta^2 q)`` exactly); the score is its linear coefficient over its
  constant.  Exact for such weights; needs ``degree + 1`` points.  With more points the fit is
  least squares, and a residual above ``tolerance`` (relative to the event's largest weight)
  is an error: the weights are not that polynomial.
* ``method="central"``: the central difference ``(w(theta_ref + delta) - w(theta_ref - delta)) /
  (2 delta w(theta_ref))``; exact for a quadratic weight, ``O(delta^2)`` otherwise.  Needs the
  points ``theta_ref`` and ``theta_ref +- delta`` (``delta`` given, or the smallest available).

The arrays feed :func:`keplersr.physics.fisher_fraction`, :func:`~keplersr.physics.regress_score`
and a :class:`keplersr.SymbolicRegressor` like the built-in datasets' ``t`` column.
"""
from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np


@dataclass
class JointScore:
    """The joint score of events at ``theta_ref`` and how it was obtained."""

    t: np.ndarray                  #: the joint score ``d log w_i/dtheta - rate_term``, per event
    dlog_weight: np.ndarray        #: ``d log w_i / dtheta`` at ``theta_ref`` (no rate term)
    rate_term: float               #: ``d log sigma / dtheta`` at ``theta_ref``, as subtracted
    reference_weights: np.ndarray  #: ``w_i(theta_ref)``
    theta_ref: float
    method: str
    thetas_used: tuple             #: the parameter points the derivative was taken from


def _check_real(v, name):
    if isinstance(v, bool) or not isinstance(v, numbers.Real) or not np.isfinite(v):
        raise ValueError(f"{name} must be a finite real number, got {v!r}")
    return float(v)


def weight_matrix(weights, thetas):
    """``(W, thetas)``: the weights as an array (n_events, n_points) and the points, checked.

    ``weights`` is a 2-D array (or DataFrame) with one column per point, or a dict
    ``{theta: weights of the events}``; ``thetas`` the points of the columns (not with a dict).
    """
    if isinstance(weights, dict):
        if thetas is not None:
            raise ValueError("give the weights as a dict {theta: weights} or as a matrix with thetas, not both")
        thetas = list(weights)
        weights = np.column_stack([np.asarray(weights[t], dtype=float).ravel() for t in thetas])
    if thetas is None:
        raise ValueError("thetas is needed: the parameter point of each column of weights")
    W = np.asarray(weights, dtype=float)
    th = np.array([_check_real(t, "each theta") for t in np.ravel(np.asarray(thetas, dtype=object))])
    if W.ndim != 2 or W.shape[1] != th.size:
        raise ValueError(f"weights must be a 2-d array with one column per theta ({th.size}), got shape {W.shape}")
    if W.shape[0] < 1:
        raise ValueError("no events")
    if np.unique(th).size != th.size:
        raise ValueError(f"thetas has repeated values: {th.tolist()}")
    if not np.all(np.isfinite(W)):
        bad = np.argwhere(~np.isfinite(W))[0]
        raise ValueError(f"weights must be finite: event {bad[0]} at theta = {th[bad[1]]} has {W[tuple(bad)]}")
    return W, th


def _index_of(th, value, what):
    hit = np.flatnonzero(np.isclose(th, value, rtol=1e-12, atol=1e-12))
    if hit.size == 0:
        raise ValueError(f"no weights at {what} = {value!r}: the weights are at theta = {sorted(th.tolist())}")
    return int(hit[0])


def _check_reference(w0, theta_ref):
    bad = np.flatnonzero(~(w0 > 0))
    if bad.size:
        raise ValueError(f"{bad.size} of {w0.size} events have a non-positive weight at the reference "
                         f"theta_ref = {theta_ref!r} (event {bad[0]}: {float(w0[bad[0]]):.6g}); the score d log w / "
                         f"d theta needs w(theta_ref) > 0: choose another reference point or drop these events")


def polynomial_coefficients(W, th, theta_ref, degree, tolerance=1e-6):
    """Per-event coefficients ``c`` (n_events, degree + 1) of ``w(theta) = sum_k c_k (theta - theta_ref)^k``.

    Least squares over the points (exact interpolation with ``degree + 1`` of them); a relative
    residual above ``tolerance`` is a ``ValueError``.
    """
    if isinstance(degree, bool) or degree not in (1, 2):
        raise ValueError(f"degree must be 1 (linear: interference only) or 2 (quadratic), got {degree!r}")
    if th.size < degree + 1:
        raise ValueError(f"a polynomial of degree {degree} needs weights at {degree + 1} or more thetas, "
                         f"the weights are at {sorted(th.tolist())}")
    x = th - theta_ref
    V = np.vander(x, degree + 1, increasing=True)         # (n_points, degree + 1)
    coef, *_ = np.linalg.lstsq(V, W.T, rcond=None)        # (degree + 1, n_events)
    if th.size > degree + 1:
        resid = np.abs(V @ coef - W.T).max(axis=0) / np.maximum(np.abs(W).max(axis=1), np.finfo(float).tiny)
        worst = int(np.argmax(resid))
        if resid[worst] > tolerance:
            raise ValueError(f"the weights are not a polynomial of degree {degree} in theta: event {worst} "
                             f"deviates by {resid[worst]:.3g} of its largest weight (tolerance {tolerance:g}); "
                             f"use degree=2, method='central', or fewer points")
    return coef.T


def joint_score(weights, thetas=None, theta_ref=0.0, method="morphing", degree=2, delta=None,
                rate_term="sample", tolerance=1e-6):
    """The joint score ``t(x, z) = d log p(x, z | theta) / dtheta`` at ``theta_ref`` from weights.

    Parameters
    ----------
    weights : array (n_events, n_points), DataFrame, or dict ``{theta: array (n_events,)}``
        The events' weights at the parameter points.
    thetas : the points of the columns (not with a dict).
    theta_ref : the reference point.
    method : ``"morphing"`` (polynomial of ``degree`` in theta, fitted per event) or ``"central"``
        (central difference with step ``delta``).
    rate_term : ``"sample"`` (``d log sum_i w_i / dtheta`` of these events, as MadMiner) or a
        number, the known ``d log sigma / dtheta`` (0 for a CP-odd operator at the SM, or a
        fiducial cross section's slope); subtracted from ``d log w_i / dtheta``.
    tolerance : relative residual of the morphing fit above which it is an error.

    Returns
    -------
    :class:`JointScore`.
    """
    W, th = weight_matrix(weights, thetas)
    theta_ref = _check_real(theta_ref, "theta_ref")
    if method == "morphing":
        coef = polynomial_coefficients(W, th, theta_ref, degree, tolerance)
        at_ref = np.flatnonzero(np.isclose(th, theta_ref, rtol=1e-12, atol=1e-12))
        w0 = W[:, at_ref[0]] if at_ref.size else coef[:, 0]     # the file's weight where it has one
        dw, used = coef[:, 1], tuple(sorted(th.tolist()))
    elif method == "central":
        i0 = _index_of(th, theta_ref, "theta_ref")
        if delta is None:
            steps = [abs(t - theta_ref) for t in th if t != th[i0]
                     and np.isclose(th, 2 * theta_ref - t, rtol=1e-12, atol=1e-12).any()]
            if not steps:
                raise ValueError(f"central differences need weights at theta_ref +- delta: no symmetric pair "
                                 f"around theta_ref = {theta_ref!r} in theta = {sorted(th.tolist())}")
            delta = min(steps)
        delta = _check_real(delta, "delta")
        if delta <= 0:
            raise ValueError(f"delta must be positive, got {delta!r}")
        ip = _index_of(th, theta_ref + delta, "theta_ref + delta")
        im = _index_of(th, theta_ref - delta, "theta_ref - delta")
        w0 = W[:, i0]
        dw = (W[:, ip] - W[:, im]) / (2.0 * delta)
        used = (theta_ref - delta, theta_ref, theta_ref + delta)
    else:
        raise ValueError(f"method must be 'morphing' or 'central', got {method!r}")
    _check_reference(w0, theta_ref)
    dlog = dw / w0
    if isinstance(rate_term, str):
        if rate_term != "sample":
            raise ValueError(f"rate_term must be 'sample' or a number, got {rate_term!r}")
        rate = float(np.sum(dw) / np.sum(w0))
    else:
        rate = _check_real(rate_term, "rate_term")
    return JointScore(t=dlog - rate, dlog_weight=dlog, rate_term=rate, reference_weights=w0,
                      theta_ref=theta_ref, method=method, thetas_used=used)


def joint_likelihood_ratio(weights, thetas=None, theta=1.0, theta_ref=0.0, degree=2, tolerance=1e-6):
    """The joint likelihood ratio ``r_i = p(x_i, z_i | theta) / p(x_i, z_i | theta_ref)`` per event.

    ``[w_i(theta) / w_i(theta_ref)] / [sigma(theta) / sigma(theta_ref)]`` with ``sigma`` the sum
    of the weights.  Weights at a point of the file are used as they are; elsewhere they are
    morphed (a polynomial of ``degree`` in theta, fitted per event, see :func:`joint_score`).
    """
    W, th = weight_matrix(weights, thetas)
    theta = _check_real(theta, "theta")
    theta_ref = _check_real(theta_ref, "theta_ref")

    def at(value):
        hit = np.flatnonzero(np.isclose(th, value, rtol=1e-12, atol=1e-12))
        if hit.size:
            return W[:, hit[0]]
        coef = polynomial_coefficients(W, th, value, degree, tolerance)
        return coef[:, 0]

    w0, w1 = at(theta_ref), at(theta)
    _check_reference(w0, theta_ref)
    return (w1 / w0) / (np.sum(w1) / np.sum(w0))
