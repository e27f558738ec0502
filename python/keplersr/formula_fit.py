"""``fit_formula``: fit the constants of a formula you already have.

The formula (a string or a sympy expression) is parsed with sympy; its free
symbols that name columns of ``X`` are variables, the others are parameters.
It is turned into the engine's prefix codes with the parameters as constants
(each must appear once) and sent as a single seed expression in a
``fit_only`` fit (docs/PROTOCOL.md): the engine fits the constants with the
same optimiser, losses and weights as a search, and returns them with their
standard errors and covariance matrix. Nothing is searched.

Numbers written in the formula (``2`` in ``a*x**2``, ``pi``) stay fixed: an
integer power becomes ``square``/``cube``/``inv``, a half power ``sqrt``, and
any other number a constant column of the data the engine sees (the engine
fits every constant of a tree).

Measurement errors ``y_err`` give the chi-squared loss (weights 1/y_err**2,
L2) and standard errors in ``scipy.optimize.curve_fit``'s
``absolute_sigma=True`` convention: cov = inv(J' W J), not rescaled by the
residuals. Without ``y_err`` (plain or relative ``weights``), cov = s**2
inv(J' W J) with s**2 the weighted residual variance, as ``curve_fit`` with
``absolute_sigma=False``.

Layer: above the bridge and the option translation (like the estimator).
"""

from __future__ import annotations

import dataclasses
from typing import Dict, List, Mapping, Optional, Sequence

import numpy as np
import pandas as pd
import sympy
from sympy.parsing.sympy_parser import convert_xor, parse_expr, standard_transformations

from .decomposition.codes import Node, OperatorIndex, to_codes
from .expressions import CompiledExpression
from .formula_tree import MissingOperator, formula_tree
from .operators import UNARY

__all__ = ["fit_formula", "FormulaFit", "measurement_weights"]

_BINARY = ["+", "-", "*", "/", "^"]
_LITERAL_PREFIX = "_literal"


@dataclasses.dataclass
class FormulaFit:
    """The outcome of :func:`fit_formula`.

    ``params`` and ``errors``: parameter name -> fitted value / standard
    error; ``covariance``: DataFrame labelled by parameter; ``loss``: the
    engine's loss (weighted mean); ``chi2`` and ``chi2_dof`` (chi2 / (n -
    number of parameters)) when ``y_err`` was given, else None; ``formula``:
    the parsed formula; ``variable_names``: the columns of ``X``.
    """

    formula: sympy.Expr
    params: Dict[str, float]
    errors: Dict[str, float]
    covariance: pd.DataFrame
    loss: float
    chi2: Optional[float]
    chi2_dof: Optional[float]
    n: int
    variable_names: List[str]
    parameter_symbols: Dict[str, sympy.Symbol] = dataclasses.field(repr=False, default_factory=dict)

    def sympy(self) -> sympy.Expr:
        """The formula with the fitted values in place of the parameters."""
        return self.formula.subs({self.parameter_symbols[k]: sympy.Float(v, 17) for k, v in self.params.items()})

    def predict(self, X) -> np.ndarray:
        """The fitted formula on the rows of ``X`` (same columns as in the fit; numpy, no Julia)."""
        if isinstance(X, pd.DataFrame):
            missing = [c for c in self.variable_names if c not in map(str, X.columns)]
            if missing:
                raise ValueError(f"X is missing the columns {missing}")
            X = X[[c for c in X.columns if str(c) in self.variable_names]]
            X = X[sorted(X.columns, key=lambda c: self.variable_names.index(str(c)))]
        Xa = _as_2d(X, "X")
        if Xa.shape[1] != len(self.variable_names):
            raise ValueError(f"X has {Xa.shape[1]} columns, the fit had {len(self.variable_names)}")
        return np.asarray(CompiledExpression(self.sympy(), self.variable_names)(Xa), dtype=float)


def measurement_weights(y_err, n: int, weights=None, elementwise_loss="L2") -> np.ndarray:
    """Weights 1/y_err**2 of measurement errors ``y_err`` (a scalar or (n,)), after checking them.

    ``ValueError`` for errors given together with ``weights``, a loss other
    than L2, a wrong shape, or values that are not finite and > 0.
    """
    if weights is not None:
        raise ValueError("give either y_err (measurement errors: weights 1/y_err**2) or weights, not both")
    if elementwise_loss != "L2":
        raise ValueError(f"y_err needs elementwise_loss='L2' (chi-squared), got {elementwise_loss!r}")
    e = np.asarray(y_err, dtype=float)
    if e.ndim == 0:
        e = np.full(n, float(e))
    elif e.ndim == 2 and 1 in e.shape:
        e = e.ravel()
    if e.shape != (n,):
        raise ValueError(f"y_err must be a number or have shape ({n},), got {np.shape(y_err)}")
    if not np.all(np.isfinite(e)) or np.any(e <= 0):
        bad = int(np.sum(~np.isfinite(e) | (e <= 0)))
        raise ValueError(f"y_err must be finite and > 0 ({bad} values are not)")
    return 1.0 / e**2


def _as_2d(X, what) -> np.ndarray:
    a = np.asarray(X, dtype=float)
    if a.ndim == 1:
        a = a[:, None]
    if a.ndim != 2:
        raise ValueError(f"{what} must be 1- or 2-dimensional, got shape {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{what} contains NaN or Inf")
    return a


def _parse(formula, names: Sequence[str]) -> sympy.Expr:
    if isinstance(formula, sympy.Basic):
        return formula
    if not isinstance(formula, str) or not formula.strip():
        raise ValueError(f"formula must be a non-empty string or a sympy expression, got {formula!r}")
    local = {n: sympy.Symbol(n) for n in names}
    try:
        expr = parse_expr(formula, local_dict=local, transformations=standard_transformations + (convert_xor,))
    except Exception as err:   # noqa: BLE001 - sympy raises many kinds
        raise ValueError(f"cannot parse the formula {formula!r}: {err}") from None
    if not isinstance(expr, sympy.Expr):
        raise ValueError(f"the formula {formula!r} is not an expression (got {type(expr).__name__})")
    return expr


class _Leaves:
    """What the names and numbers of a formula become for a constant fit: columns of X are variables,
    parameters are the constants the engine fits, written numbers stay fixed as extra columns."""

    def __init__(self, variables: Sequence[str], parameters: Mapping[str, float]):
        self.columns = {n: j + 1 for j, n in enumerate(variables)}
        self.parameters = dict(parameters)
        self.literals: List[float] = []        # values of the extra columns, after the variables

    def symbol(self, name: str) -> Node:
        if name in self.columns:
            return Node("var", value=float(self.columns[name]))
        return Node("const", value=float(self.parameters[name]), op=name)   # op: the parameter

    def number(self, value: float) -> Node:
        if not np.isfinite(value):
            raise ValueError(f"the formula contains the number {value}, which is not a finite real")
        self.literals.append(float(value))
        return Node("var", value=float(len(self.columns) + len(self.literals)))


def _operators_used(tree: Node, kind: str) -> List[str]:
    """The ``kind`` ("unary"/"binary") operators of ``tree``, in prefix order of first use."""
    out: List[str] = []

    def walk(t):
        if t.kind == kind and t.op not in out:
            out.append(t.op)
        for c in t.children:
            walk(c)
    walk(tree)
    return out


def _parameter_order(tree: Node) -> List[str]:
    if tree.kind == "const":
        return [tree.op]
    return [name for c in tree.children for name in _parameter_order(c)]


def fit_formula(formula, X, y, y_err=None, weights=None, *, params: Optional[Sequence[str]] = None,
                p0: Optional[Mapping[str, float]] = None, variable_names: Optional[Sequence[str]] = None,
                random_state=0, worker_timeout: float = 60.0, **options) -> FormulaFit:
    """Fit the parameters of ``formula`` (e.g. ``"a*x**2 + b"``) to ``y ~ f(X)``, with the search engine.

    ``X``: array (n, p) or (n,), or a DataFrame; its columns are the
    variables, named by the DataFrame's columns, ``variable_names`` or
    ``x0, x1, ...`` (a 1-D ``X`` may also be called ``x``). Every other free
    symbol is a parameter (or exactly those in ``params``), fitted from
    ``p0`` (default 1.0 each); each parameter must appear once in the
    formula. ``y_err``: measurement errors (a number or (n,)): the
    chi-squared loss, weights 1/y_err**2, and standard errors that are not
    rescaled by the residuals (``curve_fit(absolute_sigma=True)``);
    ``weights``: relative weights instead (errors scaled by the residual
    variance, ``absolute_sigma=False``). ``options``: parameters of
    ``SymbolicRegressor`` for the constant fit (``elementwise_loss``,
    ``huber_delta``, ``optimizer_nrestarts``, ...).

    Returns a :class:`FormulaFit`. A formula that does not parse, uses an
    operator the engine lacks, has no (or a repeated) parameter, or data of
    the wrong shape raises ``ValueError`` before Julia runs.
    """
    from .options import engine_options, seed_from, validate_params
    from .options.declaration import defaults
    from .options.operator_spec import build_operator_spec

    # ---- data
    if isinstance(X, pd.DataFrame):
        if variable_names is not None:
            raise ValueError("variable_names cannot be combined with a DataFrame X: its column names are used")
        names = [str(c) for c in X.columns]
    Xa = _as_2d(X, "X")
    n, p = Xa.shape
    if not isinstance(X, pd.DataFrame):
        if variable_names is not None:
            names = [str(v) for v in variable_names]
            if len(names) != p:
                raise ValueError(f"variable_names has {len(names)} names for {p} columns of X")
        else:
            names = [f"x{j}" for j in range(p)]
    ya = np.asarray(y, dtype=float)
    if ya.ndim == 2 and ya.shape[1] == 1:
        ya = ya.ravel()
    if ya.shape != (n,):
        raise ValueError(f"y must have shape ({n},) like the rows of X, got {np.shape(y)}")
    if not np.all(np.isfinite(ya)):
        raise ValueError("y contains NaN or Inf")
    loss_name = options.get("elementwise_loss", "L2")
    if y_err is not None:
        w = measurement_weights(y_err, n, weights, loss_name)
    elif weights is not None:
        w = np.asarray(weights, dtype=float).ravel()
        if w.shape != (n,):
            raise ValueError(f"weights must have shape ({n},), got {np.shape(weights)}")
        if not np.all(np.isfinite(w)) or np.any(w < 0) or not np.any(w > 0):
            raise ValueError("weights must be finite, >= 0 and not all zero")
    else:
        w = None

    # ---- formula
    expr = _parse(formula, list(names) + list(params or []))
    free = {s.name: s for s in expr.free_symbols}
    if p == 1 and "x" in free and "x" not in names and not isinstance(X, pd.DataFrame) and variable_names is None:
        names = ["x"]      # a 1-D X (or one column) may be written as x
    if params is None:
        pnames = sorted(k for k in free if k not in names)
    else:
        pnames = [str(k) for k in params]
        unknown = sorted(k for k in free if k not in names and k not in pnames)
        if unknown:
            raise ValueError(f"the formula uses {unknown}, which are neither columns of X {names} nor params")
        absent = [k for k in pnames if k not in free]
        if absent:
            raise ValueError(f"params {absent} do not appear in the formula {expr}")
        clash = [k for k in pnames if k in names]
        if clash:
            raise ValueError(f"params {clash} are also columns of X")
    if not pnames:
        raise ValueError(f"the formula {expr} has no free parameter to fit (variables: {names})")
    start = {k: 1.0 for k in pnames}
    for k, v in (p0 or {}).items():
        if k not in start:
            raise ValueError(f"p0 names {k!r}, which is not a parameter ({pnames})")
        if not np.isfinite(float(v)):
            raise ValueError(f"p0[{k!r}] must be finite, got {v!r}")
        start[k] = float(v)
    leaves = _Leaves(names, start)
    try:
        tree = formula_tree(expr, OperatorIndex(_BINARY, list(UNARY)), number=leaves.number, symbol=leaves.symbol,
                            label=f"the formula {expr}")
    except MissingOperator as err:
        raise ValueError(f"the formula {expr} needs {err.what}, but the engine has no operator {err.name!r}; "
                         f"it knows {' '.join(_BINARY)} and {', '.join(UNARY)}") from None
    order = _parameter_order(tree)       # parameter names in prefix order: the engine's constants
    repeated = sorted({k for k in order if order.count(k) > 1})
    if repeated:
        raise ValueError(f"parameters {repeated} appear more than once in {expr}: the engine fits each "
                         "occurrence separately; write the formula with each parameter once")
    if n <= len(pnames):
        raise ValueError(f"{n} rows cannot determine {len(pnames)} parameters")

    used = _operators_used(tree, "binary")
    binary = [b for b in _BINARY if b in used] or ["+"]
    unary = _operators_used(tree, "unary")
    ops = OperatorIndex(binary, unary)
    codes, consts = to_codes(tree, ops)
    user = {k: v for k, v in options.items()}
    prm = dict(defaults())
    bad = sorted(k for k in user if k not in prm)
    if bad:
        raise ValueError(f"unknown options {bad} (options are SymbolicRegressor's parameters)")
    prm.update(user)
    prm.update(binary_operators=binary, unary_operators=unary, random_state=random_state)
    prm = validate_params(prm)
    spec = build_operator_spec(prm["binary_operators"], prm["unary_operators"], prm["extra_sympy_mappings"])
    opts = engine_options(prm, spec)
    opts["seed"] = seed_from(prm["random_state"])
    lit_names = [f"{_LITERAL_PREFIX}{j}" for j in range(len(leaves.literals))]
    Xe = np.column_stack([Xa] + [np.full(n, v) for v in leaves.literals]) if leaves.literals else Xa

    # ---- fit
    from .bridge import get_worker

    worker = get_worker(julia=prm["julia"])
    res = worker.fit(Xe, ya, w, opts, list(names) + lit_names, worker_timeout=worker_timeout,
                     seed_expressions=[{"codes": codes, "constants": consts}], fit_only=True,
                     absolute_sigma=y_err is not None)
    rec = res.records[0]
    if [int(c) for c in rec["codes"]] != codes:
        raise RuntimeError("the engine returned another tree than the formula sent")
    loss = float(rec["loss"])
    if not np.isfinite(loss):
        raise ValueError(f"the formula {expr} cannot be evaluated on the data (non-finite loss); "
                         "try other starting values p0")
    k = len(consts)
    cov = np.asarray(rec.get("constants_covariance", np.full((k, k), np.nan)), dtype=float).reshape(k, k)
    se = np.asarray(rec.get("constants_stderr", [np.nan] * k), dtype=float)
    value = dict(zip(order, rec["constants"]))
    err = dict(zip(order, se))
    pos = [order.index(q) for q in pnames]
    covdf = pd.DataFrame(cov[np.ix_(pos, pos)], index=pnames, columns=pnames)
    chi2 = chi2_dof = None
    if y_err is not None:
        chi2 = loss * float(np.sum(w))
        chi2_dof = chi2 / (n - k)
    return FormulaFit(formula=expr, params={q: float(value[q]) for q in pnames},
                      errors={q: float(err[q]) for q in pnames}, covariance=covdf, loss=loss, chi2=chi2,
                      chi2_dof=chi2_dof, n=n, variable_names=list(names),
                      parameter_symbols={q: free[q] for q in pnames})


def add_chi2_dof(frame: pd.DataFrame, weights: np.ndarray) -> pd.DataFrame:
    """Add the ``chi2_dof`` column to a front (``equations_``) fitted with measurement errors.

    ``weights`` = 1/y_err**2; chi2 = loss * sum(weights) (the L2 loss is the
    weighted mean of the squared residuals), divided by n - number of fitted
    constants (NaN when that is not positive).
    """
    n = len(weights)
    total = float(np.sum(weights))
    dof = np.array([n - len(c) for c in frame["constants"]], dtype=float)
    chi2 = frame["loss"].to_numpy(dtype=float) * total
    frame["chi2_dof"] = np.where(dof > 0, chi2 / np.where(dof > 0, dof, 1.0), np.nan)
    return frame
