"""Display simplification: the formulas of the front as a physicist writes them.

The engine's formulas are exact trees, seldom tidy: ``1.0*A*kappa*(-T1 + T2)/d``,
``k*(0.5*x*(x - 2.0) + x) + 5.2e-17``. :func:`simplify_formula` (or one
:class:`FormulaSimplifier` per front, which computes the data's scales once)
rewrites such a formula in three steps:

1. **Integer floats**: a float constant that is an integer up to rounding
   (``1.0``, ``2.0``, ``-1.0``, ``0.99999999999999978``: within
   ``INTEGER_RTOL`` = 1e-12 relative, never 0; magnitude below 1e6) becomes a sympy
   Integer, so ``1.0*`` factors vanish and ``x - 2.0`` reads ``x - 2``.
2. **Signs known from the data**: ``Abs(u)`` becomes ``u`` (or ``-u``) when
   u has one sign on every row (sympy writes ``sqrt(c**2)`` as ``Abs(c)``
   for a real c). **Tiny terms**: in a sum at any depth, a term that is a float constant,
   or a product with a float coefficient, is dropped when its magnitude on
   the data (root mean square over the rows) is below ``TINY`` (1e-12) of
   the sum's scale: the RMS of ``y`` for the outermost sum, the RMS of the
   sum's own values for a sum nested inside the formula.
3. **Rewrites**: ``expand``, ``factor_terms``, ``together``, ``cancel``,
   ``collect`` (of the expanded form, in the formula's variables), the
   sign of a logarithm's coefficient taken into its argument
   (``-n*log(V1/V2)`` -> ``n*log(V2/V1)``),
   ``factor`` and ``simplify`` each propose a form (step 1 is applied
   again to each, step 2 when the rewrite made new constants, as
   cancellations like ``1.0000000000000002 - 1`` do); the one with the
   fewest operations (``sympy.count_ops``; ties keep the earlier, closer
   to the engine's form) is kept. No ``nsimplify``: constants are never
   guessed.

**Acceptance.** A rewritten form replaces the engine's only if its loss on
the data is not worse than the engine form's beyond rounding: with ``r``
the original residuals and ``S`` the RMS of ``y`` (weighted, 1 if y is all
zero), the new loss must be at most ``(1 + RTOL) * L(|r| + TINY * S)``, the
loss the original would have if every prediction moved ``TINY * S`` away
from its target (``RTOL`` = 1e-9). For L2 this says: the new RMS error
exceeds the old one by at most ``1e-12 * RMS(y)``, i.e. by less than what
dropping a constant of step 2 can change. The loss is the search's
(``"L2"``, ``"L1"``, ``"Huber"``) or any ``loss(prediction, target)``
elementwise callable; a weighted mean with the fit's weights. Candidates
are tried from the fewest operations up; the first accepted wins, else the
engine's form is kept unchanged. A formula whose own loss is not finite on
the data is kept unchanged.

**Without data** (``X``/``y`` not given, e.g. ``SymbolicRegressor.from_file``):
only step 1, and only if the rewritten form evaluates like the original
(same NaN/inf positions, values equal to 1e-12 relative) on a fixed set of
probe points with both signs and magnitudes from 1e-2 to 1e2 (sympy
evaluates e.g. ``sqrt(x)**2`` to ``x``, which is not the same for x < 0).

**Time.** sympy can take very long on large expressions. The rewrites of
step 3 run only for formulas of at most ``max_ops`` operations (60), and
all of them within ``time_limit`` seconds per formula (0.2 s): each sympy
call is interrupted when the limit passes (a profile hook of the calling
thread, ``sys.setprofile``, raises; sympy's caches stay consistent), and
the remaining rewrites are skipped. The costly rewrites (``factor``,
``simplify``) also share ``front_time_limit`` seconds (1 s) over all the
formulas one :class:`FormulaSimplifier` sees; once that is spent, the
next formulas get the cheap rewrites only. When another profiler is active
the hook is not installed and only the cheap rewrites run. Evaluating the
candidates on the data comes on top (a few numpy evaluations per formula).
A front of 20 formulas of up to 30 operations on 10^4 rows takes about
1 to 2 s.

Layer: leaf (imports expressions only).
"""

from __future__ import annotations

import inspect
import sys
import time
from typing import Callable, Optional, Sequence, Union

import numpy as np
import sympy

from .expressions import CompiledExpression

__all__ = ["FormulaSimplifier", "simplify_formula", "integer_floats", "TINY", "RTOL", "TIME_LIMIT",
           "FRONT_TIME_LIMIT", "MAX_OPS"]

#: Relative scale below which an additive constant term counts as rounding noise.
TINY = 1e-12
#: Relative slack on the loss of an accepted rewrite.
RTOL = 1e-9
#: Seconds of sympy rewriting per formula.
TIME_LIMIT = 0.2
#: Seconds of sympy rewriting per front (per FormulaSimplifier): once spent, no more factor / simplify.
FRONT_TIME_LIMIT = 1.0
#: Formulas with more operations (``sympy.count_ops``) are not rewritten (steps 1 and 2 still apply).
MAX_OPS = 60
#: Integer-valued floats at least this large stay floats (``1e20`` is clearer than 21 digits).
_MAX_INTEGER = 1e6
#: Rows used to estimate the magnitude of terms (the acceptance uses every row).
_MAGNITUDE_ROWS = 256

LossArg = Union[str, Callable[[np.ndarray, np.ndarray], np.ndarray]]


class _Timeout(BaseException):
    """Raised inside sympy by the time guard.

    A BaseException, so that sympy's own ``except Exception`` clauses let it through.
    """


def _elementwise_loss(loss: LossArg, huber_delta: float) -> Callable:
    if callable(loss):
        return loss
    if loss == "L2":
        return lambda p, t: (p - t) ** 2
    if loss == "L1":
        return lambda p, t: np.abs(p - t)
    if loss == "Huber":
        d = float(huber_delta)

        def huber(p, t):
            a = np.abs(p - t)
            return np.where(a <= d, 0.5 * a * a, d * (a - 0.5 * d))

        return huber
    raise ValueError(f"loss must be 'L2', 'L1', 'Huber' or a callable loss(prediction, target), got {loss!r}")


#: A float this close to an integer (relative to max(1, |integer|)) is that integer: least-squares rounding.
INTEGER_RTOL = 1e-12


def integer_floats(expr) -> sympy.Expr:
    """``expr`` with every float constant that is an integer up to rounding (|c| < 1e6) made an Integer.

    ``1.0*x`` becomes ``x``, ``x - 2.0`` becomes ``x - 2``; sympy's automatic
    evaluation then applies (which may change where the formula is defined:
    see the module docstring).
    """
    expr = sympy.sympify(expr)
    for _ in range(4):      # sympy's evaluation may make new ones: (x**2.0)**0.5 -> Abs(x)**1.0
        repl = {}
        for f in expr.atoms(sympy.Float):
            v = float(f)
            if not (np.isfinite(v) and abs(v) < _MAX_INTEGER):
                continue
            n = np.round(v)
            # a float near zero is not snapped: whether it is negligible depends on the data (step 2)
            if v == n or (n != 0 and abs(v - n) <= INTEGER_RTOL * abs(n)):
                repl[f] = sympy.Integer(int(n))
        if not repl:
            break
        expr = expr.xreplace(repl)
    return expr


def _clean(expr) -> bool:
    """False for forms sympy gives up on (infinities, NaN) — never shown."""
    return not expr.has(sympy.zoo, sympy.oo, -sympy.oo, sympy.nan)


_NO_RAISE_FLAGS = inspect.CO_GENERATOR | inspect.CO_COROUTINE | inspect.CO_ASYNC_GENERATOR


class _TimeGuard:
    """``with guard: ...`` raises ``_Timeout`` inside the block once ``deadline`` (monotonic) has passed.

    A profile hook of the current thread (``sys.setprofile``) checks the clock
    every 32 Python calls. Inactive (``enabled`` False) when another profiler
    is installed.
    """

    def __init__(self, deadline: float):
        self.deadline = deadline
        self.enabled = sys.getprofile() is None
        self._n = 0

    def _hook(self, frame, event, arg):
        # not in generator frames: a generator may be resumed by the garbage collector's close(),
        # where an exception is only printed ("Exception ignored") and the hook is lost
        if event == "call" and not frame.f_code.co_flags & _NO_RAISE_FLAGS:
            self._n += 1
            if self._n & 31 == 0 and time.monotonic() > self.deadline:
                raise _Timeout()

    def __enter__(self):
        if time.monotonic() > self.deadline:
            raise _Timeout()
        if self.enabled:
            sys.setprofile(self._hook)
        return self

    def __exit__(self, *exc):
        if self.enabled:
            sys.setprofile(None)
        return False


def _collected(e):
    return sympy.collect(sympy.expand(e), sorted(e.free_symbols, key=lambda s: s.name))


def _signs_into_logs(e):
    """``-c*log(u)`` -> ``c*log(1/u)``: a negative coefficient of a logarithm taken into its argument."""
    def flip(m):
        coeff, rest = m.as_coeff_Mul()
        logs = [f for f in sympy.Mul.make_args(rest) if isinstance(f, sympy.log)]
        if coeff.is_negative and len(logs) == 1:
            return -coeff * rest.xreplace({logs[0]: sympy.log(1 / logs[0].args[0])})
        return m

    return e.replace(lambda x: isinstance(x, sympy.Mul), flip)


#: The step-3 rewrites: cheap ones (milliseconds on a formula of the front), then costly ones.
CHEAP_REWRITES = (sympy.expand, sympy.factor_terms, sympy.together, sympy.cancel, _collected, _signs_into_logs)
COSTLY_REWRITES = (sympy.factor, sympy.simplify)


class FormulaSimplifier:
    """Simplify the formulas of one front on one dataset (see the module docstring).

    ``FormulaSimplifier(X, y, weights, variable_names, loss="L2")(expr)`` returns
    the simplified sympy expression. ``X`` (n, p) has one column per name of
    ``variable_names``; without ``X``/``y`` only the probe-checked integer
    rewrite applies. ``loss``: ``"L2"``, ``"L1"``, ``"Huber"`` (with
    ``huber_delta``) or an elementwise ``loss(prediction, target)`` on arrays.
    """

    def __init__(self, X=None, y=None, weights=None, variable_names: Optional[Sequence[str]] = None,
                 loss: LossArg = "L2", huber_delta: float = 1.0, time_limit: float = TIME_LIMIT,
                 max_ops: int = MAX_OPS, front_time_limit: float = FRONT_TIME_LIMIT):
        self.time_limit = float(time_limit)
        self.time_left = float(front_time_limit)
        self.max_ops = int(max_ops)
        self.names = None if variable_names is None else [str(v) for v in variable_names]
        self._loss = _elementwise_loss(loss, huber_delta)
        self.has_data = X is not None and y is not None
        if not self.has_data:
            return
        X = np.asarray(X, dtype=float)
        if X.ndim == 1:
            X = X.reshape(-1, 1)
        self.X = X
        self.y = np.asarray(y, dtype=float).reshape(-1)
        if self.X.shape[0] != self.y.shape[0]:
            raise ValueError(f"X has {self.X.shape[0]} rows but y has {self.y.shape[0]}")
        if self.names is None:
            raise ValueError("variable_names are needed with data (one name per column of X)")
        w = None if weights is None else np.asarray(weights, dtype=float).reshape(-1)
        self.w = w if w is not None and w.size else None
        with np.errstate(all="ignore"):
            ms = self._mean(self.y ** 2)
        self.y_scale = float(np.sqrt(ms)) if ms > 0 and np.isfinite(ms) else 1.0
        n = self.X.shape[0]
        idx = np.unique(np.linspace(0, n - 1, min(n, _MAGNITUDE_ROWS)).astype(int))
        self.X_small = self.X[idx]
        self._rms_cache = {}

    # ----------------------------------------------------------- numerics
    def _mean(self, v):
        if self.w is None:
            return float(np.mean(v))
        return float(np.sum(self.w * v) / np.sum(self.w))

    def _values(self, expr, X):
        return CompiledExpression(expr, self.names)(X)

    def _loss_of(self, pred):
        with np.errstate(all="ignore"):
            v = np.asarray(self._loss(pred, self.y), dtype=float)
            m = self._mean(v)
        return m if np.isfinite(m) else np.inf

    @staticmethod
    def _rms_of(v) -> float:
        v = np.asarray(v)
        if np.iscomplexobj(v):
            v = np.where(v.imag == 0, v.real, np.nan)
        v = np.asarray(v, dtype=float).reshape(-1)
        v = v[np.isfinite(v)]
        with np.errstate(all="ignore"):
            return float(np.sqrt(np.mean(v * v))) if v.size else np.nan

    def _rms(self, expr) -> float:
        """Root mean square of ``expr`` over the magnitude rows (NaN if nowhere finite)."""
        if expr.is_Number:
            return abs(float(expr))
        if expr not in self._rms_cache:
            try:
                self._rms_cache[expr] = self._rms_of(self._values(expr, self.X_small))
            except Exception:   # noqa: BLE001 - unevaluable: never judged tiny
                self._rms_cache[expr] = np.nan
        return self._rms_cache[expr]

    def _prefetch(self, exprs) -> None:
        """Magnitudes of several expressions from one compiled function (one lambdify, not one each)."""
        todo = list(dict.fromkeys(e for e in exprs if not e.is_Number and e not in self._rms_cache))
        if len(todo) < 2:
            return
        try:
            compiled = CompiledExpression(sympy.Tuple(*todo), self.names)
            with np.errstate(all="ignore"):
                out = compiled.func(*(self.X_small[:, i] for i in range(self.X_small.shape[1])))
            for e, v in zip(todo, out):
                self._rms_cache[e] = self._rms_of(v)
        except Exception:   # noqa: BLE001 - fall back to one evaluation each
            return

    # -------------------------------------------------------------- steps
    def drop_abs(self, expr) -> sympy.Expr:
        """``Abs(u)`` -> ``u`` (or ``-u``) where u has one sign on every row of the data."""
        repl = {}
        for a in expr.atoms(sympy.Abs):
            try:
                with np.errstate(all="ignore"):
                    v = self._values(a.args[0], self.X)
            except Exception:   # noqa: BLE001 - not evaluable: kept
                continue
            if np.all(v > 0):
                repl[a] = a.args[0]
            elif np.all(v < 0):
                repl[a] = -a.args[0]
        return expr.xreplace(repl) if repl else expr

    def drop_tiny_terms(self, expr) -> sympy.Expr:
        """Step 2: sums lose their float-constant terms below ``TINY`` of the sum's scale (needs data)."""
        if not self.has_data:
            return expr

        def is_constant_term(t):
            coeff, _ = t.as_coeff_Mul()
            return isinstance(coeff, sympy.Float)

        needed = [t for a in sympy.preorder_traversal(expr) if a.is_Add for t in a.args
                  if is_constant_term(t)]
        if not needed:
            return expr
        self._prefetch(needed + [a for a in sympy.preorder_traversal(expr) if a.is_Add and a != expr])

        def walk(e, outermost):
            if e.is_Atom or not e.args:
                return e
            args = tuple(walk(a, False) for a in e.args)
            if args != e.args:
                e = e.func(*args)
            if e.is_Add:
                ref = self.y_scale if outermost else self._rms(e)
                if not np.isfinite(ref) or ref == 0:
                    return e
                keep = [t for t in e.args
                        if not (is_constant_term(t) and self._rms(t) < TINY * ref)]   # NaN compares False
                if keep and len(keep) < len(e.args):
                    e = sympy.Add(*keep)
            return e

        return walk(expr, True)

    def _post(self, expr, known_floats):
        """Steps 1 and 2 on a rewrite; step 2 only if the rewrite made new constants (cancellations
        such as 1.0000000000000002 - 1 are where new tiny terms come from)."""
        expr = integer_floats(expr)
        return self.drop_tiny_terms(expr) if expr.atoms(sympy.Float) - known_floats else expr

    def _probe_equal(self, a, b) -> bool:
        """Same values on probe points (both signs, magnitudes 1e-2..1e2), NaN/inf in the same places."""
        names = self.names or sorted({s.name for s in a.free_symbols | b.free_symbols})
        rng = np.random.default_rng(20240601)
        shape = (64, len(names))
        P = rng.choice([-1.0, 1.0], size=shape) * 10.0 ** rng.uniform(-2.0, 2.0, size=shape)
        try:
            va = CompiledExpression(a, names)(P)
            vb = CompiledExpression(b, names)(P)
        except Exception:   # noqa: BLE001 - cannot check: not equal
            return False
        fa, fb = np.isfinite(va), np.isfinite(vb)
        if not np.array_equal(fa, fb) or not np.array_equal(np.isnan(va), np.isnan(vb)):
            return False
        inf = ~fa & ~np.isnan(va)
        if not np.array_equal(va[inf], vb[inf]):
            return False
        return bool(np.allclose(va[fa], vb[fa], rtol=1e-12, atol=0.0))

    # --------------------------------------------------------------- main
    def __call__(self, expr) -> sympy.Expr:
        expr = sympy.sympify(expr)
        try:
            if not self.has_data:
                new = integer_floats(expr)
                return new if new == expr or self._probe_equal(expr, new) else expr
            return self._simplify(expr)
        except _Timeout:      # only raised inside guards; belt and braces
            return expr
        except Exception:     # noqa: BLE001 - simplification is cosmetic: never fail a fit for it
            return expr

    def _loss_bound(self, pred) -> float:
        """The largest loss a replacement of the formula predicting ``pred`` may have (-inf: none allowed)."""
        old = self._loss_of(pred)
        if not np.isfinite(old):
            return -np.inf
        with np.errstate(all="ignore"):
            away = pred + np.where(pred >= self.y, 1.0, -1.0) * TINY * self.y_scale
        return max(self._loss_of(away), old) * (1.0 + RTOL)

    def accepts(self, original, candidate) -> bool:
        """Whether ``candidate`` may replace ``original``: its loss on the data is not worse beyond rounding.

        See the module docstring for the rule. Needs data; False when either
        cannot be evaluated, or when the original's loss is not finite.
        """
        if not self.has_data:
            raise ValueError("accepts needs data: FormulaSimplifier(X, y, ...)")
        try:
            bound = self._loss_bound(self._values(sympy.sympify(original), self.X))
            return bool(self._loss_of(self._values(sympy.sympify(candidate), self.X)) <= bound)
        except Exception:   # noqa: BLE001 - not evaluable: not accepted
            return False

    def _simplify(self, expr):
        start = time.monotonic()
        try:
            bound = self._loss_bound(self._values(expr, self.X))
        except Exception:   # noqa: BLE001 - not evaluable in numpy: shown as is
            return expr
        if bound == -np.inf:
            return expr

        candidates = [integer_floats(expr)]
        base = self.drop_tiny_terms(self.drop_abs(candidates[0]))
        candidates.append(base)
        if sympy.count_ops(base) <= self.max_ops:
            known = base.atoms(sympy.Float)
            guard = _TimeGuard(start + self.time_limit)
            rewrites = list(CHEAP_REWRITES)
            if guard.enabled and self.time_left > 0:
                rewrites += COSTLY_REWRITES
            for rewrite in rewrites:
                if rewrite in COSTLY_REWRITES:
                    guard.deadline = min(guard.deadline, start + self.time_left)
                try:
                    with guard:
                        candidates.append(self._post(rewrite(base), known))
                except _Timeout:
                    break
                except Exception:   # noqa: BLE001 - a rewrite that fails proposes nothing
                    continue
            self.time_left -= time.monotonic() - start

        ranked, seen = [], set()
        for i, c in enumerate(candidates):
            if c in seen or not _clean(c):
                continue
            seen.add(c)
            ranked.append((sympy.count_ops(c), i, c))
        ranked.sort(key=lambda t: (t[0], t[1]))
        for _, _, c in ranked[:4]:
            if c == expr:
                return expr
            try:
                new = self._loss_of(self._values(c, self.X))
            except Exception:   # noqa: BLE001
                continue
            if new <= bound:
                return c
        return expr


def simplify_formula(expr, X=None, y=None, weights=None, variable_names: Optional[Sequence[str]] = None, *,
                     loss: LossArg = "L2", huber_delta: float = 1.0, time_limit: float = TIME_LIMIT,
                     max_ops: int = MAX_OPS) -> sympy.Expr:
    """One formula simplified for display, accepted only if its loss on ``(X, y)`` is not worse.

    See the module docstring for the steps, the acceptance rule and the time
    limit. For a whole front, build one :class:`FormulaSimplifier` and call
    it on each formula.
    """
    return FormulaSimplifier(X, y, weights, variable_names, loss=loss, huber_delta=huber_delta,
                             time_limit=time_limit, max_ops=max_ops, front_time_limit=time_limit)(expr)
