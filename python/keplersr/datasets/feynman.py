"""The AI-Feynman benchmark table (``FeynmanEquations.csv``) as Python objects.

The table is the one published with AI Feynman (Udrescu & Tegmark 2020): one row
per equation with columns ``Filename, Number, Output, Formula, # variables`` and
then ``v{i}_name, v{i}_low, v{i}_high`` for up to ten input variables. A copy of
the table and of its ``units.csv`` ships inside the package
(:data:`FEYNMAN_CSV`, :data:`FEYNMAN_UNITS`, see ``data/feynman/README.md``),
used when no path is given; any file in the same format can be passed instead.
Nothing is downloaded.

Quirks of the real file that this loader handles:

* it starts with a UTF-8 byte-order mark (read with ``utf-8-sig``);
* the ``# variables`` field is wrong for a few rows (e.g. ``I.18.12`` says 2 but
  names ``r, F, theta``). The variables are taken from the *named* columns; the
  declared count is kept in :attr:`FeynmanEquation.declared_n_variables` and
  :func:`variable_count_discrepancies` lists the rows where they differ;
* ``Number`` is not the row order (``I.13.4`` is number 9);
* variable names such as ``gamma``, ``beta``, ``E_n``, ``I``, ``lambd`` or
  ``Nn`` are sympy functions/constants when sympified naively. Formulas are
  parsed token by token: every declared variable name becomes a
  ``sympy.Symbol(name, real=True)`` (the same convention as the estimator's
  ``sympy_format``), the known function names (``exp, sqrt, sin, cos, tan,
  arcsin, arccos, arctan, sinh, cosh, tanh, ln, log, abs``) map to sympy
  functions and ``pi`` to ``sympy.pi``. Any other name is an error naming it.
"""

from __future__ import annotations

import io
import math
import tokenize
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Tuple, Union

import numpy as np
import pandas as pd
import sympy

#: The AI-Feynman table and units shipped with the package (facts from the AI-Feynman project).
FEYNMAN_DATA_DIR = Path(__file__).resolve().parent / "data" / "feynman"
FEYNMAN_CSV = FEYNMAN_DATA_DIR / "FeynmanEquations.csv"
FEYNMAN_UNITS = FEYNMAN_DATA_DIR / "units.csv"

__all__ = [
    "FeynmanEquation",
    "FORMULA_FUNCTIONS",
    "evaluate",
    "load_feynman_equations",
    "parse_formula",
    "sample",
    "select",
    "variable_count_discrepancies",
]

#: Names allowed in formulas besides the declared variables.
FORMULA_FUNCTIONS: Dict[str, object] = {
    "exp": sympy.exp,
    "sqrt": sympy.sqrt,
    "sin": sympy.sin,
    "cos": sympy.cos,
    "tan": sympy.tan,
    "arcsin": sympy.asin,
    "arccos": sympy.acos,
    "arctan": sympy.atan,
    "asin": sympy.asin,
    "acos": sympy.acos,
    "atan": sympy.atan,
    "sinh": sympy.sinh,
    "cosh": sympy.cosh,
    "tanh": sympy.tanh,
    "ln": sympy.log,
    "log": sympy.log,
    "abs": sympy.Abs,
    "pi": sympy.pi,
}

_MAX_VARIABLES = 10


@dataclass
class FeynmanEquation:
    """One row of the AI-Feynman table.

    Attributes
    ----------
    name:
        The ``Filename`` field, e.g. ``"I.6.2a"``.
    number:
        The ``Number`` field (an id, not the row position).
    output:
        Name of the output quantity, e.g. ``"f"``.
    formula:
        The formula string exactly as in the file.
    variables:
        ``[(name, low, high), ...]`` from the named ``v{i}_*`` columns, in file order.
    declared_n_variables:
        The file's ``# variables`` field (may disagree with ``len(variables)``).
    expr:
        The formula parsed to sympy; its free symbols are ``symbols[name]``.
    symbols:
        ``name -> sympy.Symbol(name, real=True)`` for every variable.
    """

    name: str
    number: int
    output: str
    formula: str
    variables: List[Tuple[str, float, float]]
    declared_n_variables: int
    expr: sympy.Expr = field(repr=False)
    symbols: Dict[str, sympy.Symbol] = field(repr=False)

    @property
    def variable_names(self) -> List[str]:
        """The input variable names in column order."""
        return [v[0] for v in self.variables]

    @property
    def n_variables(self) -> int:
        """Number of named input variables (the trustworthy count)."""
        return len(self.variables)

    @property
    def has_count_mismatch(self) -> bool:
        """True when the file's ``# variables`` field disagrees with the named columns."""
        return self.declared_n_variables != len(self.variables)

    @property
    def ranges(self) -> Dict[str, Tuple[float, float]]:
        """``name -> (low, high)`` sampling ranges."""
        return {n: (lo, hi) for n, lo, hi in self.variables}


def parse_formula(formula: str, variable_names: Sequence[str]) -> Tuple[sympy.Expr, Dict[str, sympy.Symbol]]:
    """Parse an AI-Feynman formula string with the given variable names.

    Every name token in ``formula`` must be a declared variable or one of
    :data:`FORMULA_FUNCTIONS`; anything else raises ``ValueError`` naming it.
    Variable names shadow function names (a variable called ``gamma`` is a
    symbol, never the gamma function). Returns ``(expr, symbols)``.
    """
    symbols = {n: sympy.Symbol(n, real=True) for n in variable_names}
    local: Dict[str, object] = {}
    out_tokens = []
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(formula).readline))
    except (tokenize.TokenError, IndentationError) as exc:
        raise ValueError(f"cannot tokenize formula {formula!r}: {exc}") from exc
    for tok in tokens:
        if tok.type == tokenize.NAME:
            if tok.string in symbols:
                # Placeholders keep keywords (lambda) and sympy names (gamma) safe.
                placeholder = f"_kv{len(local)}"
                local[placeholder] = symbols[tok.string]
                out_tokens.append((tokenize.NAME, placeholder))
            elif tok.string in FORMULA_FUNCTIONS:
                placeholder = f"_kf_{tok.string}"
                local[placeholder] = FORMULA_FUNCTIONS[tok.string]
                out_tokens.append((tokenize.NAME, placeholder))
            else:
                raise ValueError(
                    f"unknown name {tok.string!r} in formula {formula!r}: it is neither a declared "
                    f"variable ({', '.join(variable_names)}) nor a known function "
                    f"({', '.join(sorted(FORMULA_FUNCTIONS))})"
                )
        elif tok.type == tokenize.NUMBER:
            # Integers become sympy Integers so that 1/2 stays an exact Rational.
            text = tok.string
            if text.isdigit():
                out_tokens.append((tokenize.NAME, f"Integer({text})"))
            else:
                out_tokens.append((tokenize.NAME, f"Float('{text}')"))
        elif tok.type == tokenize.OP:
            if tok.string not in {"+", "-", "*", "/", "**", "(", ")", ","}:
                raise ValueError(f"unsupported operator {tok.string!r} in formula {formula!r}")
            out_tokens.append((tok.type, tok.string))
        elif tok.type in (tokenize.NEWLINE, tokenize.NL, tokenize.ENDMARKER):
            continue
        else:
            raise ValueError(f"unexpected token {tok.string!r} in formula {formula!r}")
    code = tokenize.untokenize(out_tokens)
    namespace = {
        "__builtins__": {},
        "Integer": sympy.Integer,
        "Float": sympy.Float,
    }
    namespace.update(local)
    try:
        expr = eval(code, namespace)  # noqa: S307 - restricted namespace, vetted tokens
    except Exception as exc:  # pragma: no cover - syntax errors in malformed files
        raise ValueError(f"cannot parse formula {formula!r}: {exc}") from exc
    expr = sympy.sympify(expr)
    return expr, symbols


def _cell_str(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value).strip()


def load_feynman_equations(path=None) -> List[FeynmanEquation]:
    """Load and parse every row of an AI-Feynman ``FeynmanEquations.csv`` (default: the shipped copy).

    Raises ``FileNotFoundError`` if ``path`` does not exist and ``ValueError``
    (naming the row) for a malformed row, an unparsable formula, or a formula
    using a name that is not one of the row's variables.
    """
    if path is None:
        path = FEYNMAN_CSV
    frame = pd.read_csv(path, encoding="utf-8-sig", dtype=str, keep_default_na=False)
    frame.columns = [str(c).strip() for c in frame.columns]
    required = ["Filename", "Number", "Output", "Formula"]
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise ValueError(f"{path}: missing column(s) {missing}; found {list(frame.columns)}")
    equations: List[FeynmanEquation] = []
    for row_index, row in frame.iterrows():
        name = _cell_str(row["Filename"])
        if not name:
            continue  # blank trailing lines
        where = f"{path} row {row_index + 2} ({name})"
        variables: List[Tuple[str, float, float]] = []
        for i in range(1, _MAX_VARIABLES + 1):
            col = f"v{i}_name"
            if col not in frame.columns:
                break
            vname = _cell_str(row[col])
            if not vname:
                continue
            try:
                low = float(_cell_str(row[f"v{i}_low"]))
                high = float(_cell_str(row[f"v{i}_high"]))
            except (KeyError, ValueError) as exc:
                raise ValueError(f"{where}: bad range for variable {vname!r}: {exc}") from exc
            if not low <= high:
                raise ValueError(f"{where}: variable {vname!r} has low {low} > high {high}")
            if vname in [v[0] for v in variables]:
                raise ValueError(f"{where}: variable {vname!r} is listed twice")
            variables.append((vname, low, high))
        if not variables:
            raise ValueError(f"{where}: no named variables")
        declared_text = _cell_str(row.get("# variables", ""))
        try:
            declared = int(float(declared_text)) if declared_text else len(variables)
        except ValueError as exc:
            raise ValueError(f"{where}: '# variables' is not a number: {declared_text!r}") from exc
        formula = _cell_str(row["Formula"])
        try:
            expr, symbols = parse_formula(formula, [v[0] for v in variables])
        except ValueError as exc:
            raise ValueError(f"{where}: {exc}") from exc
        extra = {s.name for s in expr.free_symbols} - set(symbols)
        if extra:  # pragma: no cover - parse_formula already rejects unknown names
            raise ValueError(f"{where}: formula uses undeclared symbols {sorted(extra)}")
        try:
            number = int(float(_cell_str(row["Number"])))
        except ValueError as exc:
            raise ValueError(f"{where}: 'Number' is not a number: {row['Number']!r}") from exc
        equations.append(
            FeynmanEquation(
                name=name,
                number=number,
                output=_cell_str(row["Output"]),
                formula=formula,
                variables=variables,
                declared_n_variables=declared,
                expr=expr,
                symbols=symbols,
            )
        )
    return equations


def variable_count_discrepancies(equations: Iterable[FeynmanEquation]) -> List[Tuple[str, int, int]]:
    """Rows whose ``# variables`` field disagrees with the named variables.

    Returns ``[(name, declared, named), ...]``.
    """
    return [(e.name, e.declared_n_variables, e.n_variables) for e in equations if e.has_count_mismatch]


def select(equations: Sequence[FeynmanEquation], names_or_numbers: Iterable[Union[str, int]]) -> List[FeynmanEquation]:
    """Subset ``equations`` by name (``"I.6.2a"``) or by ``Number`` (``8`` or ``"8"``).

    The result follows the requested order; an unknown key raises ``ValueError``.
    """
    by_name = {e.name: e for e in equations}
    by_number = {e.number: e for e in equations}
    if isinstance(names_or_numbers, (str, int)):
        names_or_numbers = [names_or_numbers]
    chosen: List[FeynmanEquation] = []
    unknown = []
    for key in names_or_numbers:
        eq: Optional[FeynmanEquation] = None
        if isinstance(key, (int, np.integer)) and not isinstance(key, bool):
            eq = by_number.get(int(key))
        else:
            text = str(key).strip()
            eq = by_name.get(text)
            if eq is None and text.isdigit():
                eq = by_number.get(int(text))
        if eq is None:
            unknown.append(key)
        elif eq not in chosen:
            chosen.append(eq)
    if unknown:
        raise ValueError(f"unknown Feynman equation(s) {unknown}; names look like 'I.6.2a' or 'II.11.3'")
    return chosen


def sample(eq: FeynmanEquation, n: int, seed: Optional[int] = None, noise: float = 0.0) -> Tuple[pd.DataFrame, np.ndarray]:
    """Draw ``n`` points uniformly in the equation's ranges and evaluate it.

    Returns ``(X, y)`` with ``X`` a DataFrame whose columns are the variable
    names (file order) and ``y`` a float array. With ``noise > 0``, Gaussian
    noise of standard deviation ``noise * RMS(y)`` is added to ``y``. The same
    ``seed`` gives the same data. Raises ``ValueError`` if the formula is not
    finite on some sampled point.
    """
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    if noise < 0:
        raise ValueError(f"noise must be >= 0, got {noise}")
    rng = np.random.default_rng(seed)
    columns = {name: rng.uniform(low, high, size=n) for name, low, high in eq.variables}
    X = pd.DataFrame(columns, columns=eq.variable_names)
    y = evaluate(eq, X)
    bad = ~np.isfinite(y)
    if bad.any():
        raise ValueError(
            f"{eq.name}: formula {eq.formula!r} is not finite on {int(bad.sum())} of {n} sampled points"
        )
    if noise > 0:
        sigma = noise * float(np.sqrt(np.mean(y ** 2)))
        y = y + rng.normal(0.0, sigma, size=n)
    return X, y


def evaluate(eq: FeynmanEquation, X: pd.DataFrame) -> np.ndarray:
    """Evaluate the true formula on the columns of ``X`` (named like the variables)."""
    missing = [n for n in eq.variable_names if n not in X.columns]
    if missing:
        raise ValueError(f"{eq.name}: X lacks column(s) {missing}")
    syms = [eq.symbols[n] for n in eq.variable_names]
    fn = sympy.lambdify(syms, eq.expr, modules="numpy")
    with np.errstate(all="ignore"):
        y = fn(*[np.asarray(X[n], dtype=float) for n in eq.variable_names])
    y = np.asarray(y, dtype=float)
    return np.broadcast_to(y, (len(X),)).copy()
