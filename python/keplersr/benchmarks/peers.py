"""The methods of the AI-Feynman comparison study, each behind one driver.

Three methods are compared on identical data, operators, wall-clock budget and
thread count, each through its own scikit-learn API:

``keplersr``
    :class:`keplersr.SymbolicRegressor` with ``timeout_in_seconds`` = the budget
    and ``procs`` = the threads. Selected formula: ``model.sympy()``; front:
    ``equations_``; time to recovery from the ``history_`` snapshots;
    candidates = the engine's ``evals``.
``pyoperon``
    :class:`pyoperon.sklearn.SymbolicRegressor` (Operon, Burlacu et al.) with
    ``max_time`` = the budget rounded to whole seconds (its parameter is an
    int; at least 1), ``n_threads`` = the threads, practically unlimited
    ``generations``/``max_evaluations``, objectives ``r2`` and ``length``
    (NSGA-II, so there is a Pareto front: ``pareto_front_``), 10
    Levenberg-Marquardt iterations per candidate (pyoperon's default is 0,
    i.e. no constant optimisation) and the final model chosen by BIC (its
    default, MDL, needs the noise level as input). Selected formula:
    ``get_model_string(model_)`` parsed to sympy. pyoperon reports no
    intermediate results: its time to recovery is the fit's wall time.
    Candidates: ``stats_["evaluation_count"]`` when non-zero (it is zero for
    multi-objective runs), else ``population_size + generations * pool_size``.
    The 0.6.2 wheel computes in float32 and its ``fit`` fails on float64 or
    read-only ``y``: it gets writable copies of the data in its own float type.
``gplearn``
    :class:`gplearn.genetic.SymbolicRegressor` (Stephens), defaults otherwise
    (population 1000, tournament 20, parsimony 0.001). It has no time limit:
    the driver fits with ``warm_start=True``, one more generation per
    ``fit`` call, until the budget is spent or gplearn's own stopping
    criterion is met. The budget is rounded to the nearest whole generation
    (another generation starts only if less than half of it, at the last
    generation's pace, would fall past the budget), so a run may end up to
    half a generation early or late. Selected formula (= its
    whole "front"): ``_program`` converted to sympy
    (:func:`gplearn_to_sympy`); time to recovery from the per-generation best
    program; candidates = population_size x generations. ``n_jobs`` = the
    threads (joblib processes).

Operators: the study's operators use KeplerSR's names
(:mod:`keplersr.operators`). :func:`operator_plan` maps them to each peer:
pyoperon's ``allowed_symbols`` names (it lacks ``neg``, ``inv`` and ``cube``
as built-ins: they are dropped, and listed as missing), gplearn's built-in
``function_set`` names where they exist, and :func:`gplearn.functions.make_function`
for the others (``exp``, ``square``, ``cube``, ``tanh``, ``sinh``, ``cosh``,
``asin``, ``acos``, ``atan``, ``^``), protected the way gplearn protects its
own (clipped arguments, finite outputs). gplearn's ``div``, ``sqrt``, ``log``
and ``inv`` are its protected versions; the sympy form uses the plain
functions (they agree wherever the argument is in the function's domain), as
SRBench does.

A driver takes a fitted-on-demand estimator and returns an :class:`Outcome`.
"""

from __future__ import annotations

import importlib
import math
import os
import time
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
import pandas as pd
import sympy
from sympy.parsing.sympy_parser import convert_xor, parse_expr, standard_transformations

__all__ = [
    "INSTALL_HINT",
    "METHODS",
    "MissingPeerError",
    "OperatorPlan",
    "Outcome",
    "available_threads",
    "gplearn_factory",
    "gplearn_function_set",
    "gplearn_to_sympy",
    "operator_plan",
    "parse_operon_model",
    "pyoperon_factory",
    "require",
    "run_method",
    "warm_up_gplearn",
]

#: Methods the study knows, in report order.
METHODS: Tuple[str, ...] = ("keplersr", "pyoperon", "gplearn")

#: The module each peer needs.
_PEER_MODULES = {"pyoperon": "pyoperon.sklearn", "gplearn": "gplearn.genetic"}

INSTALL_HINT = "pip install 'keplersr[compare]'"


class MissingPeerError(RuntimeError):
    """A requested peer method is not installed."""


def require(method: str) -> None:
    """Raise :class:`MissingPeerError` (naming the install command) if ``method`` cannot run here."""
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; the methods are {', '.join(METHODS)}")
    module = _PEER_MODULES.get(method)
    if module is None:
        return
    try:
        importlib.import_module(module)
    except ImportError as exc:
        raise MissingPeerError(
            f"method {method!r} needs the {method} package, which cannot be imported ({exc}); "
            f"install the peers with: {INSTALL_HINT}"
        ) from exc


def available_threads() -> int:
    """CPUs this process may run on (``os.sched_getaffinity``), else ``os.cpu_count()``."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


# ------------------------------------------------------------------ operators

#: KeplerSR operator name -> pyoperon ``allowed_symbols`` name (None: not built in).
_OPERON_SYMBOLS: Dict[str, Optional[str]] = {
    "+": "add", "-": "sub", "*": "mul", "/": "div", "^": "pow",
    "neg": None, "inv": None, "cube": None,
    "sin": "sin", "cos": "cos", "tan": "tan", "exp": "exp", "log": "log", "sqrt": "sqrt",
    "abs": "abs", "square": "square", "tanh": "tanh", "sinh": "sinh", "cosh": "cosh",
    "asin": "asin", "acos": "acos", "atan": "atan",
}

#: KeplerSR operator name -> gplearn built-in function name.
_GPLEARN_BUILTINS: Dict[str, str] = {
    "+": "add", "-": "sub", "*": "mul", "/": "div", "sqrt": "sqrt", "log": "log", "abs": "abs",
    "neg": "neg", "inv": "inv", "sin": "sin", "cos": "cos", "tan": "tan",
}


# gplearn custom functions: module level so joblib workers can unpickle them by reference.
def _gp_exp(x1):
    with np.errstate(over="ignore", invalid="ignore"):
        return np.exp(np.minimum(x1, 100.0))


def _gp_square(x1):
    with np.errstate(over="ignore", invalid="ignore"):
        return np.minimum(x1 * x1, 1e100)


def _gp_cube(x1):
    with np.errstate(over="ignore", invalid="ignore"):
        return np.clip(x1 * x1 * x1, -1e100, 1e100)


def _gp_tanh(x1):
    return np.tanh(x1)


def _gp_sinh(x1):
    return np.sinh(np.clip(x1, -100.0, 100.0))


def _gp_cosh(x1):
    return np.cosh(np.clip(x1, -100.0, 100.0))


def _gp_asin(x1):
    return np.arcsin(np.clip(x1, -1.0, 1.0))


def _gp_acos(x1):
    return np.arccos(np.clip(x1, -1.0, 1.0))


def _gp_atan(x1):
    return np.arctan(x1)


def _gp_pow(x1, x2):
    with np.errstate(all="ignore"):
        out = np.power(np.abs(x1), x2)
        return np.where(np.isfinite(out) & (np.abs(out) < 1e100), out, 0.0)


#: KeplerSR operator name -> (gplearn function name, python function, arity) made with make_function.
_GPLEARN_CUSTOM: Dict[str, Tuple[str, Callable, int]] = {
    "exp": ("exp", _gp_exp, 1),
    "square": ("square", _gp_square, 1),
    "cube": ("cube", _gp_cube, 1),
    "tanh": ("tanh", _gp_tanh, 1),
    "sinh": ("sinh", _gp_sinh, 1),
    "cosh": ("cosh", _gp_cosh, 1),
    "asin": ("asin", _gp_asin, 1),
    "acos": ("acos", _gp_acos, 1),
    "atan": ("atan", _gp_atan, 1),
    "^": ("pow", _gp_pow, 2),
}


@dataclass
class OperatorPlan:
    """What one method is given for the study's operator set.

    ``given``: the method's own names, in order; ``missing``: study operators
    it has no counterpart for (dropped); ``custom``: study operators supplied
    through a user-function API (gplearn's ``make_function``).
    """

    method: str
    given: List[str]
    missing: List[str] = field(default_factory=list)
    custom: List[str] = field(default_factory=list)

    def describe(self) -> str:
        """One line: the operators given, custom ones marked ``*``, then what is missing."""
        names = [f"{g}*" if g in self.custom_names else g for g in self.given]
        text = " ".join(names)
        if self.missing:
            text += " (missing: " + " ".join(self.missing) + ")"
        return text

    @property
    def custom_names(self) -> List[str]:
        return [_GPLEARN_CUSTOM[c][0] for c in self.custom if c in _GPLEARN_CUSTOM]


def operator_plan(method: str, binary: Sequence[str], unary: Sequence[str]) -> OperatorPlan:
    """Map the study's operators (KeplerSR names) to ``method``'s closest set."""
    ops = list(binary) + list(unary)
    if method == "keplersr":
        return OperatorPlan(method, ops)
    if method == "pyoperon":
        given, missing = [], []
        for op in ops:
            sym = _OPERON_SYMBOLS.get(op)
            (given.append(sym) if sym else missing.append(op))
        return OperatorPlan(method, given, missing)
    if method == "gplearn":
        given, missing, custom = [], [], []
        for op in ops:
            if op in _GPLEARN_BUILTINS:
                given.append(_GPLEARN_BUILTINS[op])
            elif op in _GPLEARN_CUSTOM:
                given.append(_GPLEARN_CUSTOM[op][0])
                custom.append(op)
            else:
                missing.append(op)
        return OperatorPlan(method, given, missing, custom)
    raise ValueError(f"unknown method {method!r}")


def pyoperon_symbols(binary: Sequence[str], unary: Sequence[str]) -> str:
    """pyoperon's ``allowed_symbols`` string for the study's operators."""
    plan = operator_plan("pyoperon", binary, unary)
    return ",".join(plan.given + ["constant", "variable"])


def gplearn_function_set(binary: Sequence[str], unary: Sequence[str]) -> tuple:
    """gplearn's ``function_set``: built-in names, and ``make_function`` objects for the rest."""
    from gplearn.functions import make_function

    out = []
    for op in list(binary) + list(unary):
        if op in _GPLEARN_BUILTINS:
            out.append(_GPLEARN_BUILTINS[op])
        elif op in _GPLEARN_CUSTOM:
            name, fn, arity = _GPLEARN_CUSTOM[op]
            out.append(make_function(function=fn, name=name, arity=arity, wrap=False))
    return tuple(out)


# ------------------------------------------------------------------ conversions

#: gplearn function name -> sympy builder (protected functions as their plain counterparts).
_GPLEARN_SYMPY: Dict[str, Callable] = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "sqrt": sympy.sqrt,
    "log": sympy.log,
    "abs": sympy.Abs,
    "neg": lambda a: -a,
    "inv": lambda a: 1 / a,
    "max": sympy.Max,
    "min": sympy.Min,
    "sin": sympy.sin,
    "cos": sympy.cos,
    "tan": sympy.tan,
    "sig": lambda a: 1 / (1 + sympy.exp(-a)),
    "exp": sympy.exp,
    "square": lambda a: a**2,
    "cube": lambda a: a**3,
    "tanh": sympy.tanh,
    "sinh": sympy.sinh,
    "cosh": sympy.cosh,
    "asin": sympy.asin,
    "acos": sympy.acos,
    "atan": sympy.atan,
    "pow": lambda a, b: sympy.Pow(a, b),
}


def gplearn_to_sympy(program, symbols: Sequence[sympy.Symbol]) -> sympy.Expr:
    """A gplearn program (a ``_Program`` or its prefix list) as a sympy expression.

    The prefix list holds function nodes (objects with ``name`` and
    ``arity``), feature indices (ints, looked up in ``symbols``) and constants
    (floats). Protected functions become their plain counterparts (``div`` ->
    ``a/b``, ``sqrt`` -> ``sqrt(a)``, ``log`` -> ``log(a)``), except on
    constant subtrees, which are folded with the node's own function (so
    ``asin(1.3)`` is gplearn's ``asin(clip(1.3))``, not a complex number). A
    function name not in the table raises ``ValueError``.
    """
    nodes = list(getattr(program, "program", program))
    if not nodes:
        raise ValueError("empty gplearn program")
    pos = 0

    def build():
        nonlocal pos
        if pos >= len(nodes):
            raise ValueError("truncated gplearn program")
        node = nodes[pos]
        pos += 1
        if isinstance(node, (int, np.integer)) and not isinstance(node, bool):
            return symbols[int(node)]
        if isinstance(node, (float, np.floating)):
            return sympy.Float(float(node))
        name, arity = getattr(node, "name", None), getattr(node, "arity", None)
        if name not in _GPLEARN_SYMPY:
            raise ValueError(f"gplearn function {name!r} has no sympy form")
        args = [build() for _ in range(int(arity))]
        fn = getattr(node, "function", None)
        if callable(fn) and all(a.is_Number for a in args):
            # a constant subtree: fold it with gplearn's own (protected) function, as gplearn computes it
            with np.errstate(all="ignore"):
                value = float(np.asarray(fn(*[np.array([float(a)]) for a in args]), dtype=float).ravel()[0])
            if math.isfinite(value):
                return sympy.Float(value)
        return _GPLEARN_SYMPY[name](*args)

    expr = build()
    if pos != len(nodes):
        raise ValueError(f"gplearn program has {len(nodes) - pos} trailing node(s)")
    return expr


_OPERON_FUNCTIONS: Dict[str, object] = {
    "sin": sympy.sin, "cos": sympy.cos, "tan": sympy.tan, "exp": sympy.exp, "log": sympy.log,
    "sqrt": sympy.sqrt, "cbrt": sympy.cbrt, "abs": sympy.Abs, "tanh": sympy.tanh, "sinh": sympy.sinh,
    "cosh": sympy.cosh, "asin": sympy.asin, "acos": sympy.acos, "atan": sympy.atan,
    "max": sympy.Max, "min": sympy.Min, "floor": sympy.floor, "ceil": sympy.ceiling,
    "log1p": lambda a: sympy.log(1 + a), "square": lambda a: a**2,
}


def parse_operon_model(text: str, symbols: Sequence[sympy.Symbol], placeholder: str = "x") -> sympy.Expr:
    """An Operon infix model string, written with names ``x0, x1, ...``, as sympy.

    ``symbols[i]`` replaces ``{placeholder}{i}``. Operon writes ``^`` for powers
    (``square`` as ``^ 2``), ``abs``, ``max``/``min`` and plain function calls.
    """
    local: Dict[str, object] = dict(_OPERON_FUNCTIONS)
    local.update({f"{placeholder}{i}": s for i, s in enumerate(symbols)})
    return parse_expr(text, local_dict=local, transformations=standard_transformations + (convert_xor,),
                      evaluate=True)


# ------------------------------------------------------------------ drivers


@dataclass
class Outcome:
    """What a driver reports after one fit.

    ``selected`` is the formula the user gets (``None`` if it could not be
    converted; ``selected_text`` then says what it was). ``front`` holds
    ``(complexity, expr, text)`` for every formula of the final front.
    ``history`` holds ``(elapsed_s, [expr, ...])`` snapshots in time order
    (empty: no intermediate results; ``history_source`` says what they are).
    ``n_candidates`` candidates were evaluated in ``candidates_time_s``
    seconds (``candidates_source`` says how they were counted). ``predict``
    evaluates the selected model on a DataFrame (``None``: use ``selected``).
    """

    selected: Optional[sympy.Expr]
    selected_text: str
    selected_complexity: float = float("nan")
    front: List[Tuple[float, Optional[sympy.Expr], str]] = field(default_factory=list)
    history: List[Tuple[float, List[sympy.Expr]]] = field(default_factory=list)
    history_source: str = ""
    n_candidates: float = float("nan")
    candidates_time_s: float = float("nan")
    candidates_source: str = ""
    predict: Optional[Callable[[pd.DataFrame], np.ndarray]] = None
    units_passed: bool = False


def record_expr(record, names: Dict[str, sympy.Symbol]) -> Optional[sympy.Expr]:
    """The sympy expression of an ``equations_`` row or history record (None if unusable)."""
    expr = record.get("sympy_format") if hasattr(record, "get") else None
    if expr is not None and not (isinstance(expr, float) and math.isnan(expr)):
        return sympy.sympify(expr)
    text = record.get("equation") if hasattr(record, "get") else None
    if isinstance(text, str) and text:
        try:
            return sympy.sympify(text, locals=dict(names))
        except (sympy.SympifyError, SyntaxError, TypeError):
            return None
    return None


def _symbols_for(X: pd.DataFrame, names: Dict[str, sympy.Symbol]) -> List[sympy.Symbol]:
    return [names.get(c, sympy.Symbol(str(c), real=True)) for c in X.columns]


def _run_keplersr(estimator, X, y, budget_seconds, names, fit_kwargs) -> Outcome:
    estimator.fit(X, y, **fit_kwargs)
    front_df = getattr(estimator, "equations_", None)
    if front_df is None or len(front_df) == 0:
        raise RuntimeError("the estimator produced no equations (equations_ is empty)")
    front = []
    for _, rec in front_df.sort_values("complexity", kind="stable").iterrows():
        expr = record_expr(rec, names)
        text = str(expr if expr is not None else rec.get("equation"))
        front.append((float(rec.get("complexity", np.nan)), expr, text))
    # the selected formula: the estimator's own choice
    if callable(getattr(estimator, "sympy", None)):
        row = estimator.get_best() if callable(getattr(estimator, "get_best", None)) else None
        selected = sympy.sympify(estimator.sympy())
        complexity = float(row["complexity"]) if row is not None else float("nan")
    else:  # a stand-in without accessors: apply KeplerSR's selection rule to equations_
        from keplersr.model_selection import select_index

        rule = getattr(estimator, "model_selection", "best")
        table = front_df if "score" in front_df.columns else front_df.assign(score=0.0)
        row = table.loc[select_index(table, rule)]
        selected, complexity = record_expr(row, names), float(row.get("complexity", np.nan))
    history = []
    n_cand = t_cand = float("nan")
    for snap in sorted((h for h in (getattr(estimator, "history_", None) or [])
                        if isinstance(h, dict) and "elapsed" in h), key=lambda h: float(h["elapsed"])):
        recs = sorted(snap.get("records") or [], key=lambda r: r.get("complexity", 0))
        exprs = [e for e in (record_expr(r, names) for r in recs) if e is not None]
        history.append((float(snap["elapsed"]), exprs))
        if snap.get("evals") is not None:
            n_cand, t_cand = float(snap["evals"]), float(snap["elapsed"])
    predict = estimator.predict if callable(getattr(estimator, "predict", None)) else None
    return Outcome(
        selected=selected, selected_text=str(selected), selected_complexity=complexity, front=front,
        history=history, history_source="history" if history else "", n_candidates=n_cand,
        candidates_time_s=t_cand, candidates_source="engine evals" if np.isfinite(n_cand) else "",
        predict=predict, units_passed=bool(fit_kwargs),
    )


def _operon_dtype():
    """The float type pyoperon computes in (its ``Dataset`` values)."""
    try:
        import pyoperon

        return np.dtype(np.asarray(pyoperon.Dataset(np.zeros((2, 2), order="F")).Values).dtype)
    except Exception:  # noqa: BLE001 - a stand-in estimator without the package
        return np.dtype(np.float64)


def _run_pyoperon(estimator, X, y, budget_seconds, names, fit_kwargs) -> Outcome:
    symbols = _symbols_for(X, names)
    placeholders = [f"x{i}" for i in range(len(symbols))]
    # pyoperon's fit needs writable arrays of its own float type (float32 in the 0.6.2 wheel)
    dtype = _operon_dtype()
    Xa = np.array(X, dtype=dtype, order="C", copy=True)
    ya = np.array(y, dtype=dtype, copy=True)
    t0 = time.perf_counter()
    estimator.fit(Xa, ya)
    elapsed = time.perf_counter() - t0

    def convert(tree):
        text = estimator.get_model_string(tree, 12, names=placeholders)
        try:
            return parse_operon_model(text, symbols), text
        except (SyntaxError, TypeError, ValueError, sympy.SympifyError):
            return None, text

    front = []
    for sol in getattr(estimator, "pareto_front_", None) or []:
        expr, text = convert(sol["tree"])
        front.append((float(sol.get("length", np.nan)), expr, str(expr) if expr is not None else text))
    front.sort(key=lambda f: f[0])
    selected, text = convert(estimator.model_)
    stats = getattr(estimator, "stats_", {}) or {}
    n_eval = float(stats.get("evaluation_count", 0) or 0)
    source = "evaluation_count"
    if n_eval <= 0:
        pool = estimator.pool_size or estimator.population_size
        n_eval = float(estimator.population_size + int(stats.get("generations", 0)) * pool)
        source = "population_size + generations x pool_size"

    def predict(Xt):
        return np.asarray(estimator.predict(np.array(Xt, dtype=dtype, copy=True)), dtype=float)

    return Outcome(
        selected=selected, selected_text=str(selected) if selected is not None else text,
        selected_complexity=float(stats.get("model_length", np.nan)), front=front,
        n_candidates=n_eval, candidates_time_s=elapsed, candidates_source=source, predict=predict,
    )


def _run_gplearn(estimator, X, y, budget_seconds, names, fit_kwargs) -> Outcome:
    symbols = _symbols_for(X, names)
    Xa = np.array(X, dtype=float)
    ya = np.asarray(y, dtype=float)
    cache: Dict[str, Optional[sympy.Expr]] = {}

    def convert(program):
        key = str(program)
        if key not in cache:
            try:
                cache[key] = gplearn_to_sympy(program, symbols)
            except (ValueError, IndexError):
                cache[key] = None
        return cache[key], key

    history = []
    estimator.set_params(warm_start=True)
    t0 = time.perf_counter()
    generations = 0
    while True:
        generations += 1
        estimator.set_params(generations=generations)
        t_gen = time.perf_counter()
        estimator.fit(Xa, ya)
        elapsed = time.perf_counter() - t0
        expr, _ = convert(estimator._program)
        history.append((elapsed, [expr] if expr is not None else []))
        # the budget in whole generations, rounded to the nearest: start another one only if
        # (at the last generation's pace) less than half of it would fall past the budget
        if elapsed + 0.5 * (time.perf_counter() - t_gen) >= budget_seconds:
            break
        best = estimator.run_details_["best_fitness"][-1]
        if estimator._metric.greater_is_better:
            if best >= estimator.stopping_criteria:
                break
        elif best <= estimator.stopping_criteria:
            break
    selected, text = convert(estimator._program)
    complexity = float(estimator._program.length_)

    def predict(Xt):
        return np.asarray(estimator.predict(np.array(Xt, dtype=float)), dtype=float)

    return Outcome(
        selected=selected, selected_text=str(selected) if selected is not None else text,
        selected_complexity=complexity, front=[(complexity, selected, str(selected) if selected is not None else text)],
        history=history, history_source="generations",
        n_candidates=float(estimator.population_size * generations), candidates_time_s=elapsed,
        candidates_source="population_size x generations", predict=predict,
    )


def warm_up_gplearn(threads: int) -> None:
    """Start gplearn's joblib worker processes once (a tiny fit), so the first equation is not charged for it.

    joblib keeps the pool for the next fits with the same ``n_jobs`` (it
    shuts idle workers down after minutes, far longer than one budget).
    """
    if int(threads) <= 1:
        return
    rng = np.random.default_rng(0)
    X = rng.uniform(1.0, 2.0, (20, 2))
    est = gplearn_factory(budget_seconds=1.0, seed=0, threads=threads, unary_operators=("exp",))
    est.set_params(population_size=2 * int(threads))
    est.fit(X, X[:, 0] * X[:, 1])


_DRIVERS = {"keplersr": _run_keplersr, "pyoperon": _run_pyoperon, "gplearn": _run_gplearn}


def run_method(method: str, estimator, X: pd.DataFrame, y: np.ndarray, budget_seconds: float,
               names: Dict[str, sympy.Symbol], fit_kwargs: Optional[dict] = None) -> Outcome:
    """Fit ``estimator`` (built for ``method``) on ``(X, y)`` within the budget; return the :class:`Outcome`.

    ``names`` maps variable names to the sympy symbols the formulas are written
    in; ``fit_kwargs`` (units) reach KeplerSR only.
    """
    try:
        driver = _DRIVERS[method]
    except KeyError:
        raise ValueError(f"unknown method {method!r}; the methods are {', '.join(METHODS)}") from None
    return driver(estimator, X, y, float(budget_seconds), names, dict(fit_kwargs or {}))


# ------------------------------------------------------------------ default estimators


def pyoperon_factory(equation=None, budget_seconds: float = 60.0, seed: int = 0, threads: int = 1,
                     binary_operators: Sequence[str] = ("+", "-", "*", "/"),
                     unary_operators: Sequence[str] = ()):
    """The study's :class:`pyoperon.sklearn.SymbolicRegressor` (see the module docstring)."""
    from pyoperon.sklearn import SymbolicRegressor

    return SymbolicRegressor(
        allowed_symbols=pyoperon_symbols(binary_operators, unary_operators),
        objectives=["r2", "length"],
        optimizer_iterations=10,
        model_selection_criterion="bayesian_information_criterion",
        max_time=max(1, int(round(budget_seconds))),
        generations=10**9,
        max_evaluations=10**15,
        n_threads=int(threads),
        random_state=int(seed),
    )


def gplearn_factory(equation=None, budget_seconds: float = 60.0, seed: int = 0, threads: int = 1,
                    binary_operators: Sequence[str] = ("+", "-", "*", "/"),
                    unary_operators: Sequence[str] = ()):
    """The study's :class:`gplearn.genetic.SymbolicRegressor` (one generation per ``fit``; see the module docstring)."""
    from gplearn.genetic import SymbolicRegressor

    return SymbolicRegressor(
        function_set=gplearn_function_set(binary_operators, unary_operators),
        population_size=1000,
        generations=1,
        warm_start=True,
        low_memory=True,
        n_jobs=int(threads),
        random_state=int(seed),
    )
