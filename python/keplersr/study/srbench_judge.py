"""SRBench's "symbolic solution" criterion, with a time limit on sympy.

SRBench (La Cava et al., 2021) counts a model as an exact recovery of the
ground truth when, after rounding the model's floating-point constants to 3
decimals (constants below 1e-4 in magnitude become 0), either

    simplify(truth - model)   or   simplify(truth / model)

is a constant, i.e. has no free symbols (and the model itself is not a
constant). :func:`judge` implements exactly that, plus two practical pieces:

* **Numeric pre-check.** Both expressions are evaluated on random points (the
  variables' ``domains`` if given, else uniform in [0.5, 2]). If the difference
  *and* the ratio clearly vary (relative spread > 1e-4) the model is rejected
  without calling ``simplify`` -- a non-constant function cannot simplify to a
  constant. Otherwise it only orders the two symbolic checks (the numerically
  constant one first); acceptance always needs ``simplify``.
* **Time limit.** ``sympy.simplify`` can run for a very long time. On the main
  thread of a Unix process the symbolic phase runs under ``signal.setitimer``
  (``SIGALRM``), which interrupts pure-Python sympy code cheaply. Elsewhere
  (another thread, no ``SIGALRM``, or an itimer already in use) it runs in a
  child process (``fork`` where available, else ``spawn``) that is killed at the
  deadline. A timeout counts as *not recovered* with reason ``"timed out ..."``.

Symbols are matched by name: both expressions have their symbols replaced by
``sympy.Symbol(name, real=True)`` before comparison, so assumptions attached by
different producers do not make equal formulas differ.

**Positive domain** (``positive=True``, a second verdict, not SRBench's): the
symbols are ``positive=True`` instead, as when every variable is sampled from a
positive range (all of the AI-Feynman table). Then ``sqrt(a)*sqrt(b)`` equals
``sqrt(a*b)``, ``sqrt(c**2)`` equals ``c`` and ``-log(a/b)`` equals
``log(b/a)``: formulas that equal the law wherever the data live, which the
real-symbol rule rejects.
"""

from __future__ import annotations

import math
import multiprocessing
import signal
import threading
import time
from dataclasses import dataclass
from typing import Callable, Mapping, Optional, Sequence, Tuple

import numpy as np
import sympy

__all__ = ["JudgeResult", "JudgeTimeout", "judge", "r2_score", "round_constants", "run_with_timeout"]

_NUMERIC_SPREAD = 1e-4
_DEFAULT_DOMAIN = (0.5, 2.0)


@dataclass
class JudgeResult:
    """Outcome of :func:`judge`.

    ``recovered`` is the SRBench verdict, ``reason`` says why in words,
    ``model_rounded`` is the model after constant rounding, ``timed_out`` tells
    whether the symbolic phase hit the time limit, ``elapsed_s`` the judge's time.
    """

    recovered: bool
    reason: str
    model_rounded: Optional[sympy.Expr] = None
    timed_out: bool = False
    elapsed_s: float = 0.0


class JudgeTimeout(Exception):
    """Raised by :func:`run_with_timeout` when the deadline passes."""


def round_constants(expr: sympy.Expr, digits: int = 3, zero_below: float = 1e-4) -> sympy.Expr:
    """Round every Float in ``expr`` to ``digits`` decimals; set those with ``|c| < zero_below`` to 0."""
    mapping = {}
    for atom in expr.atoms(sympy.Float):
        value = float(atom)
        if abs(value) < zero_below:
            mapping[atom] = sympy.Integer(0)
        else:
            mapping[atom] = sympy.Float(round(value, digits))
    return expr.xreplace(mapping) if mapping else expr


def _canonical(expr, names: Optional[Mapping[str, sympy.Symbol]] = None, positive: bool = False) -> sympy.Expr:
    if isinstance(expr, str):
        local = dict(names or {})
        expr = sympy.sympify(expr, locals=local)
    expr = sympy.sympify(expr)
    assume = {"positive": True} if positive else {"real": True}
    mapping = {s: sympy.Symbol(s.name, **assume) for s in expr.free_symbols if isinstance(s, sympy.Symbol)}
    return expr.xreplace(mapping)


def _is_constant(e: sympy.Expr, nonzero: bool = False) -> bool:
    if e.free_symbols:
        return False
    if e.has(sympy.nan, sympy.zoo, sympy.oo, -sympy.oo):
        return False
    if nonzero and e.is_zero:
        return False
    return True


def _symbolic_check(truth: sympy.Expr, model: sympy.Expr, order: Sequence[str]) -> Tuple[bool, str]:
    """The SRBench test proper (may be slow): returns ``(recovered, reason)``."""
    found = {}
    for kind in order:
        if kind == "difference":
            e = sympy.simplify(truth - model)
            if _is_constant(e):
                return True, f"truth - model simplifies to the constant {e}"
        else:
            e = sympy.simplify(truth / model)
            if _is_constant(e, nonzero=True):
                return True, f"truth / model simplifies to the constant {e}"
        found[kind] = e
    return False, (
        f"neither truth - model ({found.get('difference')}) nor truth / model "
        f"({found.get('ratio')}) simplifies to a constant"
    )


def _child_entry(conn, fn, args):
    try:
        conn.send(("ok", fn(*args)))
    except BaseException as exc:  # pragma: no cover - reported to the parent
        conn.send(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        conn.close()


def run_with_timeout(fn: Callable, args: tuple, timeout: Optional[float]):
    """Call ``fn(*args)``; raise :class:`JudgeTimeout` if it takes longer than ``timeout`` seconds.

    Uses ``SIGALRM`` on the main thread of a Unix process when no interval timer
    is already armed, otherwise a child process (``fn``, ``args`` and the result
    must then be picklable under ``spawn``; under ``fork`` only the result).
    ``timeout=None`` means no limit.
    """
    if timeout is None or math.isinf(timeout):
        return fn(*args)
    if timeout <= 0:
        raise ValueError(f"timeout must be > 0 seconds, got {timeout}")
    use_alarm = (
        hasattr(signal, "SIGALRM")
        and threading.current_thread() is threading.main_thread()
        and signal.getitimer(signal.ITIMER_REAL)[0] == 0.0
    )
    if use_alarm:
        return _run_with_alarm(fn, args, timeout)
    return _run_in_child(fn, args, timeout)


class _Alarm(BaseException):
    """Internal: raised by the SIGALRM handler (BaseException so sympy's ``except Exception`` cannot swallow it)."""


def _run_with_alarm(fn, args, timeout):
    def handler(signum, frame):
        raise _Alarm()

    previous = signal.signal(signal.SIGALRM, handler)
    try:
        signal.setitimer(signal.ITIMER_REAL, timeout)
        try:
            return fn(*args)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
    except _Alarm:
        raise JudgeTimeout(f"timed out after {timeout:g} s") from None
    finally:
        signal.signal(signal.SIGALRM, previous)


def _run_in_child(fn, args, timeout):
    methods = multiprocessing.get_all_start_methods()
    ctx = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child_entry, args=(child, fn, args), daemon=True)
    proc.start()
    child.close()
    try:
        if not parent.poll(timeout):
            raise JudgeTimeout(f"timed out after {timeout:g} s")
        try:
            status, value = parent.recv()
        except EOFError:
            raise RuntimeError(f"judge child process died (exit code {proc.exitcode})") from None
    finally:
        if proc.is_alive():
            proc.terminate()
            proc.join(1.0)
            if proc.is_alive():  # pragma: no cover
                proc.kill()
        proc.join(1.0)
        parent.close()
    if status == "error":
        raise RuntimeError(f"judge child process failed: {value}")
    return value


def _numeric_spreads(truth, model, domains, n_points, seed) -> Optional[Tuple[float, float]]:
    """Relative spreads of truth-model and truth/model on random points; None if inconclusive."""
    syms = sorted(truth.free_symbols | model.free_symbols, key=lambda s: s.name)
    rng = np.random.default_rng(seed)
    cols = []
    for s in syms:
        lo, hi = (domains or {}).get(s.name, _DEFAULT_DOMAIN)
        cols.append(rng.uniform(lo, hi, size=n_points))
    try:
        ft = sympy.lambdify(syms, truth, modules="numpy")
        fm = sympy.lambdify(syms, model, modules="numpy")
        with np.errstate(all="ignore"):
            t = np.broadcast_to(np.asarray(ft(*cols), dtype=float), (n_points,))
            m = np.broadcast_to(np.asarray(fm(*cols), dtype=float), (n_points,))
    except Exception:  # noqa: BLE001 - anything odd just makes the check inconclusive
        return None
    ok = np.isfinite(t) & np.isfinite(m) & (m != 0)
    if ok.sum() < max(5, n_points // 4):
        return None
    t, m = t[ok], m[ok]
    d = t - m
    scale = max(float(np.median(np.abs(t))), float(np.median(np.abs(m))), 1e-300)
    spread_d = float(np.max(np.abs(d - np.median(d)))) / scale
    r = t / m
    spread_r = float(np.max(np.abs(r - np.median(r)))) / max(float(np.median(np.abs(r))), 1e-300)
    return spread_d, spread_r


def judge(
    truth_expr,
    model_expr,
    timeout: Optional[float] = 10.0,
    domains: Optional[Mapping[str, Tuple[float, float]]] = None,
    numeric_precheck: bool = True,
    n_points: int = 64,
    seed: int = 0,
    positive: bool = False,
) -> JudgeResult:
    """Is ``model_expr`` an exact recovery of ``truth_expr`` by SRBench's rule?

    Parameters
    ----------
    truth_expr, model_expr:
        sympy expressions (or strings, parsed with the truth's symbol names).
    timeout:
        Seconds allowed for the symbolic (``simplify``) phase; ``None`` = no limit.
    domains:
        ``name -> (low, high)`` for the numeric pre-check points.
    numeric_precheck:
        Reject early when difference and ratio both vary numerically.
    positive:
        Positive symbols instead of real ones (the positive-domain verdict; see the module docstring).
    """
    start = time.perf_counter()
    truth = _canonical(truth_expr, positive=positive)
    names = {s.name: s for s in truth.free_symbols}
    model = _canonical(model_expr, names, positive=positive)
    model = round_constants(model)

    def done(recovered, reason, timed_out=False):
        return JudgeResult(recovered, reason, model, timed_out, time.perf_counter() - start)

    if not model.free_symbols:
        return done(False, f"model is a constant ({model}) after rounding")
    order = ["difference", "ratio"]
    if numeric_precheck:
        spreads = _numeric_spreads(truth, model, domains, n_points, seed)
        if spreads is not None:
            spread_d, spread_r = spreads
            if spread_d > _NUMERIC_SPREAD and spread_r > _NUMERIC_SPREAD:
                return done(
                    False,
                    f"numeric pre-check: truth - model (relative spread {spread_d:.3g}) and truth / model "
                    f"(relative spread {spread_r:.3g}) both vary",
                )
            if spread_r < spread_d:
                order = ["ratio", "difference"]
    try:
        recovered, reason = run_with_timeout(_symbolic_check, (truth, model, order), timeout)
    except JudgeTimeout as exc:
        return done(False, f"simplify {exc}", timed_out=True)
    return done(recovered, reason)


def r2_score(y_true, y_pred) -> float:
    """Coefficient of determination 1 - SS_res / SS_tot.

    Returns ``-inf`` if any prediction is non-finite and ``nan`` if ``y_true`` is
    constant (R^2 undefined). Raises ``ValueError`` on a length mismatch.
    """
    yt = np.asarray(y_true, dtype=float).ravel()
    yp = np.asarray(y_pred, dtype=float)
    if yp.ndim == 0:
        yp = np.full_like(yt, float(yp))
    yp = yp.ravel()
    if yt.shape != yp.shape:
        raise ValueError(f"y_true has {yt.size} values but y_pred has {yp.size}")
    if yt.size == 0:
        raise ValueError("r2_score needs at least one value")
    if not np.all(np.isfinite(yp)):
        return float("-inf")
    ss_tot = float(np.sum((yt - yt.mean()) ** 2))
    if ss_tot == 0.0:
        return float("nan")
    return 1.0 - float(np.sum((yt - yp) ** 2)) / ss_tot
